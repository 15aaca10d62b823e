# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.protected_vm main(): the refusals that come before anything is read or changed.

(The steps themselves are tested in module_utils/test_protect_apply.py and, for real, in the
real-kernel lab.)"""

import json

from ansible_collections.duplex.vmpair.plugins.modules import protected_vm
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.sitedata import site


def pair():
    pairs, witnesses, hostvars = site()
    return site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]


def args(**kw):
    out = {"name": "mail01", "host": "hv-east", "pair": pair(), "peer_facts": {}}
    out.update(kw)
    return out


def test_ft_is_refused_with_a_message(run_module):
    rc, result = run_module(protected_vm.main, args(level="ft"))
    assert rc == 1
    assert result["msg"] == (
        "VM mail01 cannot be protected: VM mail01: level ft (fault tolerance) is not available yet: use ha"
    )
    assert result["problems"] == ["VM mail01: level ft (fault tolerance) is not available yet: use ha"]


def test_host_outside_the_pair_is_refused(run_module):
    rc, result = run_module(protected_vm.main, args(host="hv-north"))
    assert rc == 1
    assert "host hv-north is not in pair pair_mail (hv-east, hv-west)" in result["msg"]


def test_secret_is_no_log(run_module):
    rc, result = run_module(protected_vm.main, args(level="ft", secret="Zq7pLr2vXw9mK4tB"))
    assert rc == 1
    assert result["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_peer_secrets_is_no_log(run_module):
    rc, result = run_module(
        protected_vm.main, args(level="ft", peer_secrets={"mail01": {"graphics[40]@passwd": "s3cret"}})
    )
    assert rc == 1
    assert result["invocation"]["module_args"]["peer_secrets"] == {
        "mail01": {"graphics[40]@passwd": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    }
    assert "s3cret" not in json.dumps(result)

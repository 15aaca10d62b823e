# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.vm_resources: main() against an offline pair CIB with the real pcs, crm_verify and
crm_simulate (the scheduler's placement after the module's push)."""

import os
import re
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.modules import vm_resources

EAST = "hv-east"
WEST = "hv-west"


def tool(*args, cib=None):
    env = dict(os.environ, LC_ALL="C")
    if cib:
        env["CIB_file"] = cib
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def pair_cib(empty_cib):
    """Two online nodes of a quorate cluster (stonith off: no fence devices in this file)."""
    for nid, node in ((1, EAST), (2, WEST)):
        tool("cibadmin", "--create", "-o", "nodes", "--xml-text", f'<node id="{nid}" uname="{node}"/>', cib=empty_cib)
    tool("crm_simulate", "-x", empty_cib, "--node-up", EAST, "--node-up", WEST, "-O", empty_cib)
    tool("pcs", "-f", empty_cib, "property", "set", "stonith-enabled=false")
    return empty_cib


def args(cib, vms, **kw):
    out = {"cib_file": cib, "vms": vms}
    out.update(kw)
    return out


VMS = [{"name": "mail", "level": "ha", "host": EAST}, {"name": "build", "level": "recovery", "host": WEST}]


def placement(cib):
    """{resource: node} of started VMs after the scheduler ran on the file (DRBD scores injected)."""
    for name in ("mail", "build"):
        for node in (EAST, WEST):
            tool("crm_attribute", "-N", node, "-n", f"master-drbd-{name}", "-v", "10000", "-l", "reboot", cib=cib)
    out = tool("crm_simulate", "-x", cib, "-S")
    return dict(re.findall(r"\* Start\s+(vm-\S+)\s+\(\s*(\S+)\s*\)", out))


def test_all_vms_in_one_push_then_idempotent(run_module, pair_cib):
    rc, result = run_module(vm_resources.main, args(pair_cib, VMS), diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["pushes"] == 1
    assert all(cmd[0] == "pcs" for cmd in result["commands"])
    assert 'id="vm-mail"' in result["diff"]["after"] and 'id="drbd-build-clone"' in result["diff"]["after"]
    assert result["diff"]["before"] == ""
    tool("crm_verify", "-x", pair_cib)
    rc, again = run_module(vm_resources.main, args(pair_cib, VMS))
    assert rc == 0 and again["changed"] is False and again["pushes"] == 0 and again["commands"] == []


def test_vms_start_on_their_hosts(run_module, pair_cib):
    run_module(vm_resources.main, args(pair_cib, VMS))
    assert placement(pair_cib) == {"vm-mail": EAST, "vm-build": WEST}


def test_check_mode_reports_and_leaves_the_cib(run_module, pair_cib):
    before = open(pair_cib).read()
    rc, result = run_module(vm_resources.main, args(pair_cib, VMS), check_mode=True, diff=True)
    assert rc == 0 and result["changed"] is True and result["pushes"] == 0
    assert 'id="vm-mail"' in result["diff"]["after"]
    assert open(pair_cib).read() == before


def test_level_change_is_one_update(run_module, pair_cib):
    run_module(vm_resources.main, args(pair_cib, VMS))
    changed = [dict(VMS[0]), dict(VMS[1], level="ha")]
    rc, result = run_module(vm_resources.main, args(pair_cib, changed), diff=True)
    assert rc == 0 and result["changed"] and result["pushes"] == 1
    # recovery -> ha drops the rule that bans promotion on the other host; nothing else is touched
    assert "promote-only" in result["diff"]["before"] and "promote-only" not in result["diff"]["after"]
    assert all("mail" not in " ".join(c) for c in result["commands"])


def test_ft_is_refused_with_a_clear_message(run_module, pair_cib):
    rc, result = run_module(vm_resources.main, args(pair_cib, [{"name": "mail", "level": "ft", "host": EAST}]))
    assert rc == 1
    assert vocabulary.FT_UNAVAILABLE + ": use ha or recovery" in result["msg"]


def test_unknown_host_is_refused_and_nothing_pushed(run_module, pair_cib):
    before = open(pair_cib).read()
    rc, result = run_module(vm_resources.main, args(pair_cib, [{"name": "mail", "host": "hv-north"}]))
    assert rc == 1 and "host hv-north is not a cluster node" in result["msg"]
    assert open(pair_cib).read() == before


def test_absent_removes_everything(run_module, pair_cib):
    run_module(vm_resources.main, args(pair_cib, VMS))
    rc, result = run_module(vm_resources.main, args(pair_cib, [{"name": "mail"}, {"name": "build"}], state="absent"))
    assert rc == 0 and result["changed"]
    cib = open(pair_cib).read()
    assert "vm-mail" not in cib and "drbd-build" not in cib
    rc, again = run_module(vm_resources.main, args(pair_cib, [{"name": "mail"}], state="absent"))
    assert rc == 0 and again["changed"] is False

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.drbd.dual_primary: two primaries for a live migration, read back by the real drbdadm (8.4 and 9)."""

import os
import re

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import config as drbd_config
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import dual_primary as drbd_dual
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_drbd import (
    DRBDADM,
    SECRET,
    VERSIONS,
    as_node,
    described_pair,
    dump,
    need,
    spec_for,
    write_config,
)


@pytest.fixture
def pair():
    return described_pair()


# What ocf:linbit:drbd greps in `drbdadm -d -v dump RES` before it promotes a second node.
AGENT_CHECK = re.compile(r"^[ \t]*allow-two-primaries([ \t]+yes)?;$", re.MULTILINE)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("level, protocol", [("ha", "C"), ("recovery", "A")])
def test_two_primaries_on_and_back_off(tmp_path, pair, version, level, protocol):
    text = drbd_config.render_resource(spec_for(pair, level=level), version)
    on = drbd_dual.dual_primary_text(text, True)
    conf = write_config(tmp_path, version, [on])
    # as the agent runs it on a pair host
    proc = as_node("hv-east", [need(DRBDADM[version]), "-c", conf, "-d", "-v", "dump", "vm-web1"])
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert AGENT_CHECK.search(out), out
    assert re.search(r"^\s*protocol\s+C;", out, re.MULTILINE), out
    # on again changes nothing; off gives the file back byte for byte, with the level's protocol
    assert drbd_dual.dual_primary_text(on, True) == on
    assert drbd_dual.dual_primary_text(on, False) == text
    assert drbd_dual.dual_primary_text(text, False) == text
    rc, out, err = dump(version, write_config(tmp_path, version, [text]))
    assert rc == 0, err
    assert not AGENT_CHECK.search(out) and re.search(r"^\s*protocol\s+%s;" % protocol, out, re.MULTILINE)


def test_a_file_this_collection_did_not_write_is_refused():
    with pytest.raises(drbd_base.DrbdError, match="0 protocol lines"):
        drbd_dual.dual_primary_text('resource "x" {\n}\n', True)


class FakeDrbdadm:
    """drbdadm at the process boundary: `role` and `adjust` need the DRBD kernel module, absent here."""

    def __init__(self, role="Primary/Secondary", adjust_fails=False):
        self.role, self.adjust_fails, self.calls = role, adjust_fails, []
        self.secrets = set()

    def add_secrets(self, values):
        self.secrets.update(values)

    def run(self, cmd, check_rc=True):
        self.calls.append(cmd)
        if cmd[1] == "adjust" and self.adjust_fails:
            raise CommandError("drbdadm adjust vm-web1 failed (rc=10)", cmd=cmd, rc=10, stdout="", stderr="")
        return type("Result", (), {"stdout": self.role + "\n", "rc": 0})()


@pytest.fixture
def res_file(tmp_path, pair):
    path = tmp_path / "vm-web1.res"
    path.write_text(drbd_config.render_resource(spec_for(pair, level="recovery"), "8.4"))
    path.chmod(0o600)
    return str(path)


def test_run_writes_the_file_then_adjusts_and_a_rerun_changes_nothing(res_file):
    before = open(res_file).read()
    fake = FakeDrbdadm()
    result = drbd_dual.run("web1", True, fake, path=res_file)
    assert result["changed"] and result["commands"] == [["drbdadm", "adjust", "vm-web1"]]
    assert fake.calls == [["drbdadm", "role", "vm-web1"], ["drbdadm", "adjust", "vm-web1"]]
    assert "allow-two-primaries yes;" in open(res_file).read() and oct(os.stat(res_file).st_mode & 0o777) == "0o600"
    # the diff never shows the shared secret
    assert SECRET not in result["diff"]["before"] + result["diff"]["after"]
    again = drbd_dual.run("web1", True, FakeDrbdadm(), path=res_file)
    assert not again["changed"] and again["commands"] == []
    drbd_dual.run("web1", False, FakeDrbdadm(role="Secondary/Primary"), path=res_file)
    assert open(res_file).read() == before


def test_check_mode_writes_nothing(res_file):
    before = open(res_file).read()
    fake = FakeDrbdadm()
    result = drbd_dual.run("web1", True, fake, check_mode=True, path=res_file)
    assert result["changed"] and open(res_file).read() == before
    assert ["drbdadm", "adjust", "vm-web1"] not in fake.calls


def test_back_to_one_primary_is_refused_while_both_are_primary(res_file):
    drbd_dual.run("web1", True, FakeDrbdadm(), path=res_file)
    on = open(res_file).read()
    with pytest.raises(drbd_base.DrbdError, match="Primary on both hosts"):
        drbd_dual.run("web1", False, FakeDrbdadm(role="Primary/Primary"), path=res_file)
    assert open(res_file).read() == on


def test_a_failed_adjust_puts_the_file_back(res_file):
    before = open(res_file).read()
    fake = FakeDrbdadm(adjust_fails=True)
    no_log_values = set()
    with pytest.raises(CommandError):
        drbd_dual.run("web1", True, fake, path=res_file, no_log_values=no_log_values)
    assert open(res_file).read() == before
    # the secret drbdadm echoes on failure is masked by the runner and hidden by the module
    assert fake.secrets == {SECRET} and no_log_values == {SECRET}


def test_a_vm_that_is_not_protected_here(tmp_path):
    with pytest.raises(drbd_base.DrbdError, match="is VM web1 protected on this host"):
        drbd_dual.run("web1", True, FakeDrbdadm(), path=str(tmp_path / "none.res"))

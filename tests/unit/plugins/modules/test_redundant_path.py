# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.redundant_path main(): arguments, check mode and diff, idempotence, refusals.

FAKED at the process boundary: the module's CommandRunner (made by common.runner.run_and_exit) is replaced by fakeip.FakeIp (this
machine's kernel has no bonding driver, and a test must not change its network), ``ROOT`` (where
/etc is) by tmp_path, and sysfs by the fixture tree two_cards or dual_port (built from the
kernel's layout, see tests/unit/fixtures/sysfs/README.md). AnsibleModule itself is real.
"""

import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common import runner as common_runner
from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import sysfs as netpath_sysfs
from ansible_collections.duplex.vmpair.plugins.modules import redundant_path
from ansible_collections.duplex.vmpair.tests.unit.conftest import warning_texts
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils import sysfstree
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.fakeip import FakeIp, link


@pytest.fixture
def host(tmp_path, monkeypatch):
    failing = sysfstree.build("two_cards.sysfs", tmp_path / "sys")
    failing.update(sysfstree.build("dual_port.sysfs", tmp_path / "sys2"))
    sysfstree.replay_errors(monkeypatch, netpath_sysfs, failing)
    (tmp_path / "root").mkdir()
    monkeypatch.setattr(redundant_path, "ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.1 50022 192.0.2.10 22")
    ip = FakeIp([link("enp65s0f0", up=False), link("enp129s0", up=False), link("eth0", addresses=["192.0.2.10/24"])])
    monkeypatch.setattr(common_runner, "CommandRunner", lambda module, cib_file=None: ip)
    return tmp_path, ip


def args(tmp_path, **kw):
    out = {
        "name": "repl",
        "interface": "bond0",
        "members": ["enp65s0f0", "enp129s0"],
        "addresses": ["10.10.0.1/24"],
        "stack": "ifupdown",
        "sysfs_root": str(tmp_path / "sys"),
    }
    out.update(kw)
    return out


FILE = "etc/network/interfaces.d/vmpair-repl"


def test_check_diff_real_then_idempotent(run_module, host):
    tmp_path, ip = host
    rc, check = run_module(redundant_path.main, args(tmp_path), check_mode=True, diff=True)
    assert rc == 0, check
    assert check["changed"] is True and ip.changing_calls() == []
    assert not (tmp_path / "root" / FILE).exists()
    assert [d["after_header"] for d in check["diff"]] == ["/" + FILE, "live state (ip commands)"]
    assert check["commands"][0] == [
        "ip",
        "link",
        "add",
        "bond0",
        "type",
        "bond",
        "mode",
        "active-backup",
        "miimon",
        "100",
    ]
    # ifenslave is not installed in tmp_path: said as a warning
    assert any("package ifenslave is not installed" in w for w in warning_texts(check))

    rc, real = run_module(redundant_path.main, args(tmp_path))
    assert rc == 0, real
    assert real["changed"] is True and real["commands"] == check["commands"]
    assert ip.changing_calls() == real["commands"]
    assert (tmp_path / "root" / FILE).read_text() == check["diff"][0]["after"]
    assert oct((tmp_path / "root" / FILE).stat().st_mode & 0o777) == "0o644"
    assert real["redundant"] is True
    assert "diff" not in real

    rc, again = run_module(redundant_path.main, args(tmp_path), diff=True)
    assert rc == 0
    assert (again["changed"], again["commands"], again["diff"]) == (False, [], [])
    rc, again_check = run_module(redundant_path.main, args(tmp_path), check_mode=True)
    assert (again_check["changed"], again_check["commands"]) == (False, [])


def test_dual_port_card_fails_with_both_names(run_module, host):
    tmp_path, ip = host
    ip.links["enp65s0f1"] = link("enp65s0f1", up=False)
    rc, result = run_module(
        redundant_path.main, args(tmp_path, members=["enp65s0f0", "enp65s0f1"], sysfs_root=str(tmp_path / "sys2"))
    )
    assert rc == 1 and result["failed"] is True
    assert "enp65s0f0 (0000:41:00.0) and enp65s0f1 (0000:41:00.1) are on one PCI device, 0000:41:00" in result["msg"]
    assert result["findings"][0]["subject"] == "bond path repl: enp65s0f0, enp65s0f1"
    assert ip.changing_calls() == []
    assert not os.path.exists(tmp_path / "root" / "etc")


def test_management_interface_refused(run_module, host):
    tmp_path, ip = host
    ip.links["enp129s0"] = link("enp129s0", addresses=["192.0.2.10/24"])  # SSH_CONNECTION's server address
    rc, result = run_module(redundant_path.main, args(tmp_path))
    assert rc == 1
    assert result["msg"] == (
        "enp129s0 cannot become a member of bond0: Ansible is connected through 192.0.2.10 on enp129s0, and "
        "enslaving it would cut that connection."
    )
    assert result["findings"][-1]["severity"] == "critical"
    assert ip.changing_calls() == []
    assert not os.path.exists(tmp_path / "root" / "etc")


def test_bad_arguments(run_module, host):
    tmp_path, _ip = host
    rc, result = run_module(redundant_path.main, args(tmp_path, mode="balance-rr"))
    assert rc == 1 and "value of mode must be one of" in result["msg"]
    rc, result = run_module(redundant_path.main, args(tmp_path, monitor="arp"))
    assert rc == 1 and result["msg"] == (
        "redundant_path repl: monitor arp needs arp_targets: the peer's IPv4 addresses on this path."
    )

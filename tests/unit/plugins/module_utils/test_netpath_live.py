# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netpath_live (the ip commands of a bonded path) and netpath_apply (the whole run on a host).

``ip -json`` outputs: captured on this machine (tests/unit/fixtures/ip/captured_*: a virtio eth0
holding the management address; veth0, veth1 and bridge br-vm made in a throwaway network
namespace), or built with fakeip.link() in iproute2 6.1's JSON shape where the machine cannot
show them (its kernel has no bonding driver). The runs of netpath_apply go through fakeip.FakeIp,
a host faked at the process boundary (see its docstring), with /etc under tmp_path.
"""

import json
import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import apply, live
from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import sysfs as netpath_sysfs
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils import sysfstree
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.fakeip import FakeIp, link
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_netpath import spec

IP = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "ip")


def captured(name):
    with (
        open(os.path.join(IP, "captured_%s_link.json" % name)) as f1,
        open(os.path.join(IP, "captured_%s_address.json" % name)) as f2,
    ):
        return f1.read(), f2.read()


def state(*entries):
    """(links, addresses) as the planner gets them, from fakeip.link() entries."""
    text = json.dumps(list(entries))
    return live.parse_links(text), live.parse_addresses(text)


AB = {"mode": "active-backup", "miimon": 100, "arp_interval": 0, "primary": "enp65s0f0", "active_slave": "enp65s0f0"}
NICS = (link("enp65s0f0", up=False), link("enp129s0", up=False), link("eth0", addresses=["192.0.2.10/24"]))
BUILT = (
    link("bond0", bond=AB, addresses=["10.10.0.1/24"]),
    link("enp65s0f0", master="bond0"),
    link("enp129s0", master="bond0"),
    link("eth0", addresses=["192.0.2.10/24"]),
)
MGMT = ("eth0", "192.0.2.10")


def test_parse_captured_host():
    links, addresses = (live.parse_links(captured("host")[0]), live.parse_addresses(captured("host")[1]))
    assert sorted(links) == ["eth0", "ifb0", "ifb1", "lo"]
    assert (links["eth0"]["up"], links["eth0"]["mtu"], links["ifb0"]["kind"]) == (True, 1400, "ifb")
    assert addresses["eth0"] == ["192.0.2.2/24", "fd00::2/64"]  # the link-local fe80:: is left out
    assert live.interface_with_address(addresses, "192.0.2.2") == "eth0"
    assert live.interface_with_address(addresses, "fd00:0::2") == "eth0"
    assert live.interface_with_address(addresses, "198.51.100.1") is None


def test_parse_captured_bridge_port():
    links = live.parse_links(captured("netns")[0])
    assert (links["veth1"]["master"], links["br-vm"]["kind"]) == ("br-vm", "bridge")


def test_new_bond_commands_in_kernel_order():
    links, addresses = state(*NICS)
    commands, refusals = live.plan(spec(mtu=9000), links, addresses, mgmt=MGMT)
    assert refusals == []
    assert commands == [
        ["ip", "link", "add", "bond0", "type", "bond", "mode", "active-backup", "miimon", "100"],
        ["ip", "link", "set", "dev", "bond0", "mtu", "9000"],
        ["ip", "link", "set", "dev", "enp65s0f0", "down"],
        ["ip", "link", "set", "dev", "enp65s0f0", "master", "bond0"],
        ["ip", "link", "set", "dev", "enp65s0f0", "up"],
        ["ip", "link", "set", "dev", "enp129s0", "down"],
        ["ip", "link", "set", "dev", "enp129s0", "master", "bond0"],
        ["ip", "link", "set", "dev", "enp129s0", "up"],
        ["ip", "link", "set", "dev", "bond0", "type", "bond", "primary", "enp65s0f0"],
        ["ip", "link", "set", "dev", "bond0", "up"],
        ["ip", "address", "add", "10.10.0.1/24", "dev", "bond0"],
    ]


def test_new_bond_arp_lacp_and_bridge():
    links, addresses = state(*NICS)
    arp = spec(monitor="arp", arp_targets=["10.10.0.2"], bridge="br-vm")
    commands, _refusals = live.plan(arp, links, addresses)
    add = "ip link add bond0 type bond mode active-backup arp_interval 100 arp_ip_target 10.10.0.2 arp_validate all"
    assert commands[0] == add.split()
    assert commands[-4:] == [
        ["ip", "link", "add", "br-vm", "type", "bridge", "stp_state", "0"],
        ["ip", "link", "set", "dev", "bond0", "master", "br-vm"],
        ["ip", "link", "set", "dev", "br-vm", "up"],
        ["ip", "address", "add", "10.10.0.1/24", "dev", "br-vm"],
    ]
    lacp = spec(mode="802.3ad", primary=None, lacp_rate="fast")
    commands, _refusals = live.plan(lacp, links, addresses)
    assert commands[0] == "ip link add bond0 type bond mode 802.3ad miimon 100 lacp_rate fast".split()
    assert not any("primary" in c for c in commands)


def test_matching_state_plans_nothing():
    links, addresses = state(*BUILT)
    assert live.plan(spec(), links, addresses, mgmt=MGMT) == ([], [])


def test_monitor_primary_and_member_changes():
    links, addresses = state(*BUILT, link("eno1", up=False))
    commands, _refusals = live.plan(
        spec(members=["enp65s0f0", "eno1"], primary="eno1", interval_ms=200), links, addresses
    )
    assert commands == [
        ["ip", "link", "set", "dev", "bond0", "type", "bond", "miimon", "200"],
        ["ip", "link", "set", "dev", "enp129s0", "nomaster"],
        ["ip", "link", "set", "dev", "eno1", "down"],
        ["ip", "link", "set", "dev", "eno1", "master", "bond0"],
        ["ip", "link", "set", "dev", "eno1", "up"],
        ["ip", "link", "set", "dev", "bond0", "type", "bond", "primary", "eno1"],
    ]


def test_management_interface_is_never_enslaved():
    links, addresses = (live.parse_links(captured("host")[0]), live.parse_addresses(captured("host")[1]))
    commands, [(message, fix)] = live.plan(spec(members=["eth0", "ifb0"]), links, addresses, mgmt=("eth0", "192.0.2.2"))
    assert commands == []
    assert message == (
        "eth0 cannot become a member of bond0: Ansible is connected through 192.0.2.2 on eth0, and enslaving it "
        "would cut that connection."
    )
    assert "move the management address off eth0" in fix


def test_member_in_a_bridge_or_with_addresses_is_refused():
    links, addresses = (live.parse_links(captured("netns")[0]), live.parse_addresses(captured("netns")[1]))
    commands, refusals = live.plan(spec(members=["veth0", "veth1"]), links, addresses)
    assert commands == []
    assert [m for m, _f in refusals] == [
        "veth0 cannot become a member of bond0: it carries 10.30.0.1/24, which enslaving it would make unusable.",
        "veth1 cannot become a member of bond0: it is already a member of br-vm.",
    ]


def test_name_taken_by_another_kind():
    links = live.parse_links(captured("netns")[0])
    _commands, refusals = live.plan(spec(interface="br-vm", members=["lo", "veth0"]), links, {})
    assert refusals[-1][0] == "br-vm exists but is not a bond (it is bridge)."


def test_other_mode_needs_rebuild():
    links, addresses = state(*BUILT)
    lacp = spec(mode="802.3ad", primary=None)
    commands, [(message, fix)] = live.plan(lacp, links, addresses, mgmt=MGMT)
    assert commands == []
    assert message == (
        "bond0 exists with mode active-backup, not 802.3ad: the kernel changes that only on a bond that is down "
        "and has no members."
    )
    assert fix.startswith("Set rebuild: true")
    commands, refusals = live.plan(lacp, links, addresses, mgmt=MGMT, rebuild=True)
    assert refusals == []
    assert commands == [
        ["ip", "link", "set", "dev", "bond0", "down"],
        ["ip", "link", "set", "dev", "enp129s0", "nomaster"],
        ["ip", "link", "set", "dev", "enp65s0f0", "nomaster"],
        ["ip", "link", "set", "dev", "bond0", "type", "bond", "mode", "802.3ad", "miimon", "100"],
        ["ip", "link", "set", "dev", "enp65s0f0", "down"],
        ["ip", "link", "set", "dev", "enp65s0f0", "master", "bond0"],
        ["ip", "link", "set", "dev", "enp65s0f0", "up"],
        ["ip", "link", "set", "dev", "enp129s0", "down"],
        ["ip", "link", "set", "dev", "enp129s0", "master", "bond0"],
        ["ip", "link", "set", "dev", "enp129s0", "up"],
        ["ip", "link", "set", "dev", "bond0", "up"],
    ]


def test_no_rebuild_under_the_management_connection():
    links, addresses = state(*BUILT)
    _commands, [(message, _fix)] = live.plan(
        spec(mode="802.3ad", primary=None), links, addresses, mgmt=("bond0", "10.10.0.1"), rebuild=True
    )
    assert message == (
        "bond0 cannot be rebuilt (mode active-backup, not 802.3ad): Ansible is connected through 10.10.0.1 on bond0."
    )


def test_only_owned_addresses_are_removed():
    links, addresses = state(*BUILT[1:], link("bond0", bond=AB, addresses=["10.10.0.1/24", "10.99.0.1/24"]))
    commands, _refusals = live.plan(
        spec(addresses=["10.10.0.5/24"]), links, addresses, owned={"bond0": ["10.10.0.1/24"]}
    )
    assert commands == [
        ["ip", "address", "del", "10.10.0.1/24", "dev", "bond0"],
        ["ip", "address", "add", "10.10.0.5/24", "dev", "bond0"],
    ]  # 10.99.0.1/24 was not added by the module: left alone
    _commands, [(message, _fix)] = live.plan(
        spec(addresses=["10.10.0.5/24"]), links, addresses, {"bond0": ["10.10.0.1/24"]}, ("bond0", "10.10.0.1")
    )
    assert message.startswith("10.10.0.1/24 is no longer wanted on bond0, but Ansible is connected through")


# the whole run (netpath_apply) on a faked host -------------------------------------------------------


def params(**kw):
    out = {
        "name": "repl",
        "kind": "bond",
        "interface": "bond0",
        "members": ["enp65s0f0", "enp129s0"],
        "mode": "active-backup",
        "monitor": "mii",
        "interval_ms": 100,
        "arp_targets": [],
        "primary": None,
        "lacp_rate": None,
        "mtu": None,
        "addresses": ["10.10.0.1/24"],
        "bridge": None,
        "stack": "networkmanager",
        "shared_hardware": "refuse",
        "rebuild": False,
        "management_address": None,
        "sysfs_root": None,
    }
    out.update(kw)
    return out


@pytest.fixture
def host(tmp_path, monkeypatch):
    """(root for /etc, sysfs root of two_cards, FakeIp with the two NICs and the management eth0)."""
    failing = sysfstree.build("two_cards.sysfs", tmp_path / "sys")
    sysfstree.replay_errors(monkeypatch, netpath_sysfs, failing)
    etc = tmp_path / "root"
    etc.mkdir()
    return str(etc), str(tmp_path / "sys"), FakeIp(NICS)


SSH = {"SSH_CONNECTION": "192.0.2.1 50022 192.0.2.10 22"}


def test_run_writes_files_runs_commands_then_changes_nothing(host):
    root, sys_root, ip = host
    result = apply.run(params(sysfs_root=sys_root), ip, root=root, environ=SSH)
    assert result["changed"] is True and result["stack"] == "networkmanager"
    assert ip.changing_calls()[0][:3] == ["ip", "link", "add"]
    assert ip.changing_calls()[-1] == ["nmcli", "connection", "reload"]
    written = sorted(os.listdir(os.path.join(root, "etc/NetworkManager/system-connections")))
    assert written == ["vmpair-repl-%s.nmconnection" % n for n in ("bond0", "enp129s0", "enp65s0f0")]
    mode = os.stat(os.path.join(root, "etc/NetworkManager/system-connections", written[0])).st_mode & 0o777
    assert mode == 0o600
    assert result["redundant"] is True and result["independence"] == "independent"
    assert [(m["name"], m["active"], m["in_path"], m["pci_address"]) for m in result["members"]] == [
        ("enp65s0f0", True, True, "0000:41:00.0"),
        ("enp129s0", False, True, "0000:81:00.0"),
    ]
    ip.calls.clear()
    again = apply.run(params(sysfs_root=sys_root), ip, root=root, environ=SSH)
    assert (again["changed"], again["commands"], ip.changing_calls()) == (False, [], [])
    assert {f["state"] for f in again["files"]} == {"unchanged"}


def test_check_mode_predicts_and_changes_nothing(host):
    root, sys_root, ip = host
    result = apply.run(params(sysfs_root=sys_root, stack="ifupdown"), ip, root=root, check_mode=True, environ=SSH)
    assert result["changed"] is True
    assert ip.changing_calls() == []
    assert not os.path.exists(os.path.join(root, "etc/network"))
    assert result["files"] == [{"path": "/etc/network/interfaces.d/vmpair-repl", "state": "created", "mode": "0644"}]
    assert result["diff"][0]["before"] == "" and "bond-slaves enp65s0f0 enp129s0" in result["diff"][0]["after"]
    assert result["diff"][-1]["after"].startswith("ip link add bond0 type bond mode active-backup miimon 100\n")
    assert result["redundant"] is False  # not built yet
    # ifupdown without ifenslave: a warning, not a refusal
    assert [f["severity"] for f in result["findings"]] == ["warning", "warning"]


def test_member_taken_out_removes_its_file_and_owned_address(host):
    root, sys_root, ip = host
    apply.run(params(sysfs_root=sys_root, stack="networkd"), ip, root=root, environ=SSH)
    ip.links["eno1"] = link("eno1", up=False)
    ip.calls.clear()
    result = apply.run(
        params(sysfs_root=sys_root, stack="networkd", members=["enp65s0f0", "eno1"], addresses=["10.10.0.7/24"]),
        ip,
        root=root,
        environ=SSH,
    )
    assert {f["path"]: f["state"] for f in result["files"]}["/etc/systemd/network/60-vmpair-repl-enp129s0.network"] == (
        "removed"
    )
    assert not os.path.exists(os.path.join(root, "etc/systemd/network/60-vmpair-repl-enp129s0.network"))
    assert ["ip", "address", "del", "10.10.0.1/24", "dev", "bond0"] in result["commands"]
    assert result["commands"][-1] == ["networkctl", "reload"]


def test_dual_port_card_is_refused_or_warned(tmp_path, monkeypatch):
    sysfstree.build("dual_port.sysfs", tmp_path / "sys")
    ip = FakeIp([link("enp65s0f0", up=False), link("enp65s0f1", up=False)])
    p = params(sysfs_root=str(tmp_path / "sys"), members=["enp65s0f0", "enp65s0f1"], stack="none")
    with pytest.raises(apply.PathError) as exc:
        apply.run(p, ip, root=str(tmp_path), environ={})
    assert exc.value.msg.startswith("enp65s0f0 (0000:41:00.0) and enp65s0f1 (0000:41:00.1) are on one PCI device")
    assert exc.value.result["findings"][0]["severity"] == "critical"
    assert ip.changing_calls() == []
    result = apply.run(dict(p, shared_hardware="warn"), ip, root=str(tmp_path), environ={})
    assert result["changed"] is True and result["independence"] == "shared" and result["redundant"] is False
    assert [f["severity"] for f in result["findings"]] == ["warning", "info"]  # info: management unknown


def test_knet_path_is_only_judged(tmp_path, monkeypatch):
    failing = sysfstree.build("captured_host.sysfs", tmp_path / "sys")
    sysfstree.replay_errors(monkeypatch, netpath_sysfs, failing)
    ip = FakeIp()
    result = apply.run(params(kind="knet", members=["eth0", "ifb0"], sysfs_root=str(tmp_path / "sys")), ip, root="/")
    assert (result["changed"], result["commands"], ip.calls) == (False, [], [])
    assert (result["independence"], result["redundant"]) == ("unproven", False)
    assert [m["operstate"] for m in result["members"]] == ["up", "down"]


def test_command_failure_reports_what_ran(host):
    root, sys_root, ip = host
    ip.fail["primary"] = "Error: some kernel refusal."
    with pytest.raises(apply.PathError) as exc:
        apply.run(params(sysfs_root=sys_root, stack="none"), ip, root=root, environ=SSH)
    assert exc.value.result["commands"][-1] == ["ip", "link", "set", "dev", "enp129s0", "up"]
    assert "Error: some kernel refusal." in exc.value.msg


@pytest.mark.parametrize(
    "change, words",
    [
        ({"members": ["enp65s0f0"]}, "one interface is not redundant"),
        ({"monitor": "arp"}, "monitor arp needs arp_targets"),
        ({"mode": "802.3ad", "monitor": "arp", "arp_targets": ["10.0.0.2"]}, "active-backup only"),
        ({"primary": "eno9"}, "primary must be one of the members"),
        ({"lacp_rate": "fast"}, "lacp_rate belongs to mode 802.3ad"),
        ({"addresses": ["10.10.0.1"]}, "'10.10.0.1' is not an address with a prefix length"),
        ({"interface": "bond0/../x"}, "is not an interface name"),
        ({"bridge": "bond0"}, "must not be members or share a name"),
        ({"monitor": "arp", "arp_targets": ["fd00::2"]}, "'fd00::2' is not an IPv4 address"),
        ({"mtu": 40}, "mtu must be 68 to 65535"),
    ],
)
def test_contradicting_parameters(change, words):
    assert apply.path_spec(params())["primary"] == "enp65s0f0"  # the first member by default
    with pytest.raises(apply.PathError) as exc:
        apply.path_spec(params(**change))
    assert words in exc.value.msg


def test_knet_path_name_may_be_long():
    long_name = "cluster-links-of-pair-mail"  # a link name, too long for an interface; knet makes none
    assert apply.path_spec(params(kind="knet", name=long_name, interface=None))["interface"] == long_name

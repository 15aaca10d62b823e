# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netpath_sysfs and netpath_render: the members' hardware from sysfs trees, the verdict, the files.

The sysfs trees are the manifests of tests/unit/fixtures/sysfs (see its README: which are captured
on a real machine and which are built from the kernel's layout), made under tmp_path by sysfstree.
"""

import errno
import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import render, sysfs
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils import sysfstree


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tree(manifest) -> sysfs root, reads failing as they did on the host (EINVAL, EOPNOTSUPP)."""

    def make(manifest):
        root = tmp_path / manifest.replace(".sysfs", "")
        failing = sysfstree.build(manifest, root)
        sysfstree.replay_errors(monkeypatch, sysfs, failing)
        return str(root)

    return make


def verdict_of(root, names):
    return sysfs.independence([sysfs.read_interface(n, root) for n in names])


# reading sysfs ---------------------------------------------------------------------------------


def test_captured_virtio_nic(tree):
    eth0 = sysfs.read_interface("eth0", tree("captured_host.sysfs"))
    assert eth0["exists"] and eth0["virtual"]
    assert eth0["pci_address"] == "0000:00:03.0"  # the PCI parent of the virtio device
    assert eth0["pci_device"] == "0000:00:03"
    assert eth0["driver"] == "virtio_net"
    assert eth0["virtual_reason"] == "a paravirtual NIC (driver virtio_net) that a hypervisor provides"
    assert (eth0["operstate"], eth0["carrier"], eth0["mtu"]) == ("up", True, 1400)
    assert eth0["speed_mbps"] is None  # virtio reports -1: unknown
    assert eth0["phys_port_id"] is None  # absent; phys_port_name fails with EOPNOTSUPP


def test_down_link_reads_fail_with_einval_and_mean_unknown(tree):
    root = tree("captured_host.sysfs")
    with pytest.raises(OSError) as exc:
        sysfs._read_text(os.path.join(root, "class/net/ifb0/speed"))
    assert exc.value.errno == errno.EINVAL  # as on the captured host
    ifb0 = sysfs.read_interface("ifb0", root)
    assert (ifb0["operstate"], ifb0["carrier"], ifb0["speed_mbps"]) == ("down", None, None)
    assert ifb0["virtual"] and ifb0["pci_address"] is None


def test_admin_down_physical_nic(tree):
    eno1 = sysfs.read_interface("eno1", tree("two_cards.sysfs"))
    assert (eno1["operstate"], eno1["carrier"], eno1["speed_mbps"]) == ("down", None, None)
    assert (eno1["pci_address"], eno1["driver"], eno1["virtual"]) == ("0000:00:1f.6", "e1000e", False)


def test_captured_veth_bridge_port(tree):
    root = tree("captured_netns.sysfs")
    veth1 = sysfs.read_interface("veth1", root)
    assert veth1["virtual"] and veth1["master"] == "br-vm" and veth1["speed_mbps"] == 10000
    bridge = sysfs.read_interface("br-vm", root)
    assert (bridge["kind"], bridge["via"], bridge["virtual"]) == ("bridge", "veth1", True)


def test_physical_function_and_vf(tree):
    root = tree("sriov_host.sysfs")
    vf = sysfs.read_interface("enp65s0f0v0", root)
    assert (vf["pci_address"], vf["physfn"], vf["pci_device"], vf["driver"]) == (
        "0000:41:10.0",
        "0000:41:00.0",
        "0000:41:00",
        "ixgbevf",
    )


def test_vlan_reads_its_lower_nic(tree):
    vlan = sysfs.read_interface("enp65s0f0.100", tree("two_cards.sysfs"))
    assert (vlan["kind"], vlan["via"], vlan["pci_address"], vlan["driver"]) == (
        "vlan",
        "enp65s0f0",
        "0000:41:00.0",
        "ixgbe",
    )


def test_missing_interface():
    info = sysfs.read_interface("enp9s0", "/nonexistent")
    assert info["exists"] is False and info["pci_address"] is None


# the verdict --------------------------------------------------------------------------------------

CASES = [
    # manifest, members, verdict, problem kinds
    ("two_cards.sysfs", ["enp65s0f0", "enp129s0"], "independent", []),
    ("two_cards.sysfs", ["enp65s0f0", "eno1"], "independent", []),  # down is a state, not shared hardware
    ("two_cards.sysfs", ["enp65s0f0.100", "enp129s0.100"], "independent", []),
    ("dual_port.sysfs", ["enp65s0f0", "enp129s0"], "independent", []),
    ("dual_port.sysfs", ["enp65s0f0", "enp65s0f1"], "shared", ["same_pci_device"]),
    ("dual_port.sysfs", ["enp65s0f0", "enp65s0f1", "enp129s0"], "shared", ["same_pci_device"]),
    ("npar.sysfs", ["eno1", "eno3"], "shared", ["same_port"]),
    ("npar.sysfs", ["eno1", "eno2"], "shared", ["same_pci_device"]),
    ("vf_guest.sysfs", ["ens5", "ens6"], "shared", ["same_port"]),
    ("sriov_host.sysfs", ["enp65s0f0", "enp65s0f0v0"], "shared", ["same_pci_device"]),
    ("two_cards.sysfs", ["enp65s0f0.100", "enp65s0f0.200"], "shared", ["same_interface"]),
    ("two_cards.sysfs", ["enp65s0f0", "enp65s0f0.100"], "shared", ["same_interface"]),
    ("two_cards.sysfs", ["enp65s0f0", "enp66s0f0"], "missing", ["missing"]),
    ("two_cards.sysfs", ["enp65s0f0", "enp65s0f0"], "missing", ["duplicate"]),
    ("captured_host.sysfs", ["eth0", "ifb0"], "unproven", ["virtual"]),
    ("captured_netns.sysfs", ["veth0", "veth1"], "unproven", ["virtual"]),
]


@pytest.mark.parametrize("manifest, members, verdict, kinds", CASES)
def test_verdicts(tree, manifest, members, verdict, kinds):
    got, problems = verdict_of(tree(manifest), members)
    assert (got, [p["kind"] for p in problems]) == (verdict, kinds)


def test_dual_port_card_message_names_both_and_the_device(tree):
    _verdict, [problem] = verdict_of(tree("dual_port.sysfs"), ["enp65s0f0", "enp65s0f1"])
    assert problem["severity"] == "critical"
    assert problem["interfaces"] == ["enp65s0f0", "enp65s0f1"]
    assert problem["device"] == "0000:41:00"
    assert problem["message"] == (
        "enp65s0f0 (0000:41:00.0) and enp65s0f1 (0000:41:00.1) are on one PCI device, 0000:41:00 (functions 0 "
        "and 1 of one multi-port card): a failure of that card, its slot or its driver takes both down."
    )
    assert "0000:41:00" in problem["fix"]


def test_shared_port_message(tree):
    _verdict, [problem] = verdict_of(tree("vf_guest.sysfs"), ["ens5", "ens6"])
    assert problem["message"].startswith(
        "ens5 (0000:00:05.0) and ens6 (0000:00:06.0) report the same physical port (phys_port_id 0002c90300a1b2c1)"
    )


def test_vf_message_says_virtual_function(tree):
    _verdict, [problem] = verdict_of(tree("sriov_host.sysfs"), ["enp65s0f0", "enp65s0f0v0"])
    assert "enp65s0f0v0 (VF 0000:41:10.0 of 0000:41:00.0)" in problem["message"]
    assert "SR-IOV virtual functions share their physical function's card and port" in problem["message"]


def test_missing_member_message(tree):
    _verdict, [problem] = verdict_of(tree("two_cards.sysfs"), ["enp65s0f0", "enp66s0f0"])
    assert problem["message"] == "enp66s0f0 does not exist on this host (no /sys/class/net/enp66s0f0)."


def test_virtual_is_a_warning_that_explains(tree):
    verdict, [problem] = verdict_of(tree("captured_host.sysfs"), ["eth0", "ifb0"])
    assert (verdict, problem["severity"], problem["interfaces"]) == ("unproven", "warning", ["eth0", "ifb0"])
    assert problem["message"].startswith("eth0 is a paravirtual NIC (driver virtio_net) that a hypervisor provides;")
    assert problem["message"].endswith("so the independence of eth0 and ifb0 cannot be proven here.")


def ident(name, **kw):
    base = dict.fromkeys(("pci_address", "pci_device", "physfn", "driver", "phys_port_id", "phys_switch_id", "via"))
    base.update(name=name, exists=True, virtual=False, virtual_reason=None)
    base.update(kw)
    return base


def test_same_switch_only():
    a = ident("p0", pci_address="0000:41:00.0", pci_device="0000:41:00", phys_switch_id="b8cef6aa")
    b = ident("p1", pci_address="0000:42:00.0", pci_device="0000:42:00", phys_switch_id="b8cef6aa")
    verdict, [problem] = sysfs.independence([a, b])
    assert (verdict, problem["kind"], problem["device"]) == ("shared", "same_switch", "b8cef6aa")


def test_virtual_and_shared_together_is_shared():
    a = ident("p0", pci_address="0000:41:00.0", pci_device="0000:41:00")
    b = ident("p1", pci_address="0000:41:00.1", pci_device="0000:41:00")
    c = ident("v0", virtual=True, virtual_reason="a software interface with no hardware device of its own")
    verdict, problems = sysfs.independence([a, b, c])
    assert (verdict, sorted(p["kind"] for p in problems)) == ("shared", ["same_pci_device", "virtual"])


# the files -----------------------------------------------------------------------------------------


def spec(**kw):
    out = {
        "name": "repl",
        "interface": "bond0",
        "members": ["enp65s0f0", "enp129s0"],
        "mode": "active-backup",
        "monitor": "mii",
        "interval_ms": 100,
        "arp_targets": [],
        "primary": "enp65s0f0",
        "lacp_rate": None,
        "mtu": None,
        "addresses": ["10.10.0.1/24"],
        "bridge": None,
    }
    out.update(kw)
    return out


HEADER = "# Managed by duplex.vmpair.redundant_path (path repl); Ansible rewrites this file.\n"


def test_ifupdown_file():
    files = render.render("ifupdown", spec(addresses=["10.10.0.1/24", "fd00:10::1/64"], mtu=9000))
    assert files == {
        "/etc/network/interfaces.d/vmpair-repl": (
            HEADER + "# vmpair-addresses bond0: 10.10.0.1/24 fd00:10::1/64\n"
            "auto bond0\n"
            "iface bond0 inet static\n"
            "    address 10.10.0.1/24\n"
            "    bond-slaves enp65s0f0 enp129s0\n"
            "    bond-mode active-backup\n"
            "    bond-miimon 100\n"
            "    bond-primary enp65s0f0\n"
            "    mtu 9000\n"
            "\n"
            "iface bond0 inet6 static\n"
            "    address fd00:10::1/64\n",
            0o644,
        )
    }


def test_ifupdown_bridge_arp_and_lacp():
    text = render.render("ifupdown", spec(bridge="br-vm", monitor="arp", arp_targets=["10.10.0.2", "10.10.0.3"]))
    text = text["/etc/network/interfaces.d/vmpair-repl"][0]
    assert "auto bond0\niface bond0 inet manual\n    bond-slaves enp65s0f0 enp129s0\n" in text
    assert "    bond-arp-interval 100\n    bond-arp-ip-target 10.10.0.2 10.10.0.3\n    bond-arp-validate all\n" in text
    assert "auto br-vm\niface br-vm inet static\n    address 10.10.0.1/24\n    bridge-ports bond0\n" in text
    assert "    bridge-stp off\n    bridge-fd 0\n" in text
    assert "# vmpair-addresses br-vm: 10.10.0.1/24\n" in text
    lacp = render.render("ifupdown", spec(mode="802.3ad", primary=None, lacp_rate="fast"))
    lacp = lacp["/etc/network/interfaces.d/vmpair-repl"][0]
    assert "    bond-mode 802.3ad\n    bond-miimon 100\n    bond-lacp-rate fast\n" in lacp
    assert "bond-primary" not in lacp


def test_networkd_files():
    files = render.render("networkd", spec(mtu=9000))
    prefix = "/etc/systemd/network/60-vmpair-repl-"
    assert sorted(files) == [
        prefix + n for n in ("bond0.netdev", "bond0.network", "enp129s0.network", "enp65s0f0.network")
    ]
    assert files[prefix + "bond0.netdev"] == (
        HEADER + "[NetDev]\nName=bond0\nKind=bond\nMTUBytes=9000\n\n[Bond]\nMode=active-backup\nMIIMonitorSec=100ms\n",
        0o644,
    )
    assert files[prefix + "enp65s0f0.network"][0] == (
        HEADER + "[Match]\nName=enp65s0f0\n\n[Network]\nBond=bond0\nPrimarySlave=true\n"
    )
    assert "PrimarySlave" not in files[prefix + "enp129s0.network"][0]
    assert files[prefix + "bond0.network"][0] == (
        HEADER + "# vmpair-addresses bond0: 10.10.0.1/24\n"
        "[Match]\nName=bond0\n\n[Network]\nAddress=10.10.0.1/24\nConfigureWithoutCarrier=yes\n"
    )


def test_networkd_bridge_and_arp():
    files = render.render("networkd", spec(bridge="br-vm", monitor="arp", arp_targets=["10.10.0.2"]))
    prefix = "/etc/systemd/network/60-vmpair-repl-"
    assert "ARPIntervalSec=100ms\nARPIPTargets=10.10.0.2\nARPValidate=all\n" in files[prefix + "bond0.netdev"][0]
    assert "[NetDev]\nName=br-vm\nKind=bridge\n\n[Bridge]\nSTP=no\n" in files[prefix + "br-vm.netdev"][0]
    assert "[Network]\nBridge=br-vm\nLinkLocalAddressing=no\n" in files[prefix + "bond0.network"][0]
    assert "Address=10.10.0.1/24\n" in files[prefix + "br-vm.network"][0]


def test_networkmanager_keyfiles():
    files = render.render("networkmanager", spec())
    prefix = "/etc/NetworkManager/system-connections/vmpair-repl-"
    assert sorted(files) == [prefix + n + ".nmconnection" for n in ("bond0", "enp129s0", "enp65s0f0")]
    assert {mode for _text, mode in files.values()} == {0o600}
    bond = files[prefix + "bond0.nmconnection"][0]
    assert "[connection]\nid=vmpair-repl-bond0\nuuid=" in bond
    assert "\ntype=bond\ninterface-name=bond0\nautoconnect-slaves=1\n" in bond
    assert "[bond]\nmode=active-backup\nmiimon=100\nprimary=enp65s0f0\n" in bond
    assert "[ipv4]\nmethod=manual\naddress1=10.10.0.1/24\n\n[ipv6]\nmethod=link-local\n" in bond
    member = files[prefix + "enp65s0f0.nmconnection"][0]
    # Debian 12's NetworkManager 1.42 spells the port keys master= and slave-type=.
    assert member.endswith("type=ethernet\ninterface-name=enp65s0f0\nmaster=bond0\nslave-type=bond\n")
    assert render.render("networkmanager", spec()) == files  # the same uuids every time


def test_networkmanager_bridge_lacp():
    files = render.render(
        "networkmanager", spec(bridge="br-vm", mode="802.3ad", primary=None, lacp_rate="fast", mtu=9000)
    )
    prefix = "/etc/NetworkManager/system-connections/vmpair-repl-"
    bond = files[prefix + "bond0.nmconnection"][0]
    assert "master=br-vm\nslave-type=bridge\n" in bond
    assert "[bond]\nmode=802.3ad\nmiimon=100\nlacp_rate=fast\n\n[ethernet]\nmtu=9000\n" in bond
    assert "[ipv4]" not in bond
    bridge = files[prefix + "br-vm.nmconnection"][0]
    assert "type=bridge\ninterface-name=br-vm\n\n[bridge]\nstp=false\n" in bridge
    assert "# vmpair-addresses br-vm: 10.10.0.1/24\n" in bridge


def test_no_files_for_stack_none():
    assert render.render("none", spec()) == {}


def test_owned_and_owned_addresses():
    texts = [t for t, _m in render.render("networkd", spec(addresses=["10.10.0.1/24", "fd00::1/64"])).values()]
    assert all(render.owned(t, "repl") for t in texts)
    assert not render.owned(texts[0], "repl2")
    assert render.owned_addresses(texts) == {"bond0": ["10.10.0.1/24", "fd00::1/64"]}


# the network stack ---------------------------------------------------------------------------------


def host(tmp_path, *paths):
    for path in paths:
        full = tmp_path / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text("source /etc/network/interfaces.d/*\n" if path.endswith("interfaces") else "")
    return str(tmp_path)


IFUPDOWN = ("etc/network/interfaces", "usr/sbin/ifup")
NM = "etc/systemd/system/multi-user.target.wants/NetworkManager.service"
NETWORKD = "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"


@pytest.mark.parametrize(
    "paths, stack",
    [
        (IFUPDOWN, "ifupdown"),
        (IFUPDOWN + (NETWORKD,), "networkd"),
        (IFUPDOWN + (NM,), "networkmanager"),
        ((NM, NETWORKD), "networkmanager"),
        (("etc/network/interfaces",), None),  # ifupdown not installed
        ((), None),
    ],
)
def test_detect_stack(tmp_path, paths, stack):
    assert render.detect_stack(host(tmp_path, *paths))[0] == stack


def test_ifupdown_problems(tmp_path):
    root = host(tmp_path, *IFUPDOWN)
    problems = render.stack_problems("ifupdown", spec(bridge="br-vm"), root)
    assert [m for m, _fix in problems] == [
        "ifupdown cannot make the bond at boot: package ifenslave is not installed (no /etc/network/if-pre-up.d/ifenslave).",
        "ifupdown cannot make the bridge at boot: package bridge-utils is not installed (no /etc/network/if-pre-up.d/bridge).",
    ]
    (tmp_path / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n")
    host(tmp_path, "etc/network/if-pre-up.d/ifenslave")
    [(message, fix)] = render.stack_problems("ifupdown", spec(), root)
    assert fix == "Add the line 'source /etc/network/interfaces.d/*' to /etc/network/interfaces."

"""lab/labvm.py nic_names: which guest interface is which lab cable, found by MAC address.

`make demo` on a lab that was powered off after site.yml boots hosts whose bond already exists:
the bond's second member then carries the bond's MAC, and its own is shown as `permaddr`.
The lines below are `ip -o link show` as a lab host prints them before and after site.yml; only
the ssh call that fetches them is replaced (no lab VM runs in the unit tests).
"""

import pathlib
import sys

import pytest

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"


def link(index, name, flags, mac, master="", permaddr=""):
    """One line of `ip -o link show` as iproute2 6.1 prints it (its folds shown as a backslash)."""
    return (
        f"{index}: {name}: <{flags}> mtu 1500 qdisc fq_codel{' master ' + master if master else ''} state UP mode DEFAULT"
        f" group default qlen 1000\\    link/ether {mac} brd ff:ff:ff:ff:ff:ff"
        f"{' permaddr ' + permaddr if permaddr else ''}\\    altname enp0s{index + 1}"
    )


LO = (
    r"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000"
    r"\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
)
UP = "BROADCAST,MULTICAST,UP,LOWER_UP"
MEMBER = "BROADCAST,MULTICAST,SLAVE,UP,LOWER_UP"
# Booted before site.yml: every card has its own MAC.
FRESH = "\n".join(
    [
        LO,
        link(2, "ens3", UP, "52:54:00:00:01:00"),
        link(3, "ens4", UP, "52:54:00:00:01:01"),
        link(4, "ens5", UP, "52:54:00:00:01:02"),
        link(5, "ens6", UP, "52:54:00:00:01:03"),
        link(6, "ens7", UP, "52:54:00:00:01:05"),
    ]
)
# Booted after site.yml: ens4 and ens5 in bond0, which took ens4's MAC and gave it to ens5 too.
BONDED = "\n".join(
    [
        LO,
        link(2, "ens3", UP, "52:54:00:00:01:00"),
        link(3, "ens4", MEMBER, "52:54:00:00:01:01", master="bond0"),
        link(4, "ens5", MEMBER, "52:54:00:00:01:01", master="bond0", permaddr="52:54:00:00:01:02"),
        link(5, "ens6", UP, "52:54:00:00:01:03"),
        link(6, "ens7", UP, "52:54:00:00:01:05"),
        r"7: bond0: <BROADCAST,MULTICAST,MASTER,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default"
        r" qlen 1000\    link/ether 52:54:00:00:01:01 brd ff:ff:ff:ff:ff:ff",
    ]
)
EXPECTED = {"mgmt": "ens3", "link0": "ens4", "link1": "ens5", "link2": "ens7", "wan": "ens6"}


@pytest.fixture(name="labvm")
def fixture_labvm(monkeypatch):
    monkeypatch.syspath_prepend(str(LAB))
    for name in [m for m in sys.modules if m.startswith("lab")]:
        monkeypatch.delitem(sys.modules, name)
    import labvm  # pylint: disable=import-outside-toplevel

    return labvm


def answer(labvm, monkeypatch, text):
    class Proc:
        stdout = text

    monkeypatch.setattr(labvm, "ssh", lambda lab, role, *cmd: Proc())


def test_first_boot_every_card_has_its_own_mac(labvm, monkeypatch):
    answer(labvm, monkeypatch, FRESH)
    lab = {"plan": labvm.plan(0, ["east", "west", "witness"])}
    assert labvm.nic_names(lab, "east") == EXPECTED


def test_after_site_yml_a_bond_member_is_found_by_its_permanent_mac(labvm, monkeypatch):
    answer(labvm, monkeypatch, BONDED)
    lab = {"plan": labvm.plan(0, ["east", "west", "witness"])}
    assert labvm.nic_names(lab, "east") == EXPECTED


def test_a_missing_card_is_named(labvm, monkeypatch):
    answer(labvm, monkeypatch, "\n".join(line for line in BONDED.splitlines() if "ens7:" not in line))
    lab = {"plan": labvm.plan(0, ["east", "west", "witness"])}
    with pytest.raises(labvm.LabError, match=r"hv-east: no interface with MAC 52:54:00:00:01:05 \(link2\)"):
        labvm.nic_names(lab, "east")

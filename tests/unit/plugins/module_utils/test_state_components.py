# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pair_info's mirror, VM, bond and fencing readers on outputs captured in the labs.

Captured with tests/unit/fixtures/capture_state.py (LANG=C, as the module runs them) into
tests/unit/fixtures/state/bookworm/STATE/:

* real-kernel lab (Debian 12 kernel 6.1, DRBD module 8.4.11, drbd-utils 9.22, the nested test VM
  guest1 protected at level ha by protect.yml, `make demo`):
  ``bond_up`` (hv-east's bond0, both members up), ``bond_cut`` (one member's cable pulled on both
  ends), ``vm_ha`` (guest1 running on hv-east, mirror UpToDate), ``mirror_standalone`` /
  ``mirror_waiting`` (``drbdadm disconnect`` on hv-west: hv-west and hv-east),
  ``mirror_resync_target`` / ``mirror_resync_source`` (8 MiB written on hv-east meanwhile, resync
  slowed to 64 KiB/s), ``vm_alone`` (hv-east's plug pulled, guest1 restarted on hv-west).
* ``fence_removed`` (``pcs stonith delete fence_hv-west``): Debian 12 in the real-kernel lab above,
  Debian 13 (corosync 3.1.9, Pacemaker 3.0.0, pcs 0.12, the lab's fence agent) in the container lab
  deployed by site.yml (tests/unit/fixtures/state/trixie, see captures.py), like its ``healthy``.
"""

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import ParseError
from ansible_collections.duplex.vmpair.plugins.module_utils.health import base as state_base
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health import mirror as state_mirror
from ansible_collections.duplex.vmpair.plugins.module_utils.health import network as state_network
from ansible_collections.duplex.vmpair.plugins.module_utils.health import pacemaker as state_pacemaker
from ansible_collections.duplex.vmpair.plugins.module_utils.health import vms as state_vms
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures

BOOKWORM = Captures("bookworm")
TRIXIE = Captures("trixie")
read = BOOKWORM.read
outputs = BOOKWORM.outputs
reader = BOOKWORM.reader


# ---------------------------------------------------------------------------
# bonds


def test_bond_both_members_up():
    bond = state_network.parse_bonding(read("bond_up", "bonding_bond0.txt"))
    assert bond["mode"] == "fault-tolerance (active-backup)"
    assert bond["active"] == "ens4" and bond["primary"] == "ens4" and bond["mii_status"] == "up"
    assert [(m["name"], m["up"], m["speed_mbps"], m["link_failures"]) for m in bond["members"]] == [
        ("ens4", True, None, 0),
        ("ens5", True, None, 0),
    ]


LINKS = [
    {"name": "repl", "hosts": {"hv-east": {"interface": "bond0", "members": ["ens4", "ens5"]}}},
    {"name": "ring0", "hosts": {"hv-east": {"interface": "ens6", "members": []}}},
]


def test_bond_facts_only_for_bonded_links_and_redundant_when_all_up():
    bonds = state_network.bond_facts(LINKS, "hv-east", lambda path: read("bond_up", "bonding_bond0.txt"))
    assert [(b["link"], b["interface"], b["members_up"], b["redundant"]) for b in bonds] == [
        ("repl", "bond0", ["ens4", "ens5"], True)
    ]
    assert state_network.bond_findings(bonds) == []


def test_missing_bond_and_missing_member_are_warnings():
    bonds = state_network.bond_facts(LINKS, "hv-east", lambda path: None)
    assert [(f["severity"], f["message"]) for f in state_network.bond_findings(bonds)] == [
        ("warning", "bond bond0 of link repl does not exist on this host")
    ]
    links = [{"name": "repl", "hosts": {"hv-east": {"interface": "bond0", "members": ["ens4", "ens5", "ens9"]}}}]
    bonds = state_network.bond_facts(links, "hv-east", lambda path: read("bond_up", "bonding_bond0.txt"))
    assert bonds[0]["redundant"] is False
    assert [f["message"] for f in state_network.bond_findings(bonds)] == [
        "ens9 is not a member of bond bond0 (link repl)"
    ]


def test_empty_or_garbage_bonding_file_gives_no_members():
    for text in ("", "not a bonding file\n\x00"):
        bond = state_network.parse_bonding(text)
        assert bond["members"] == [] and bond["active"] is None


# ---------------------------------------------------------------------------
# mirrors: malformed input


def test_events2_garbage_is_a_parse_error():
    with pytest.raises(ParseError, match="unexpected line"):
        state_mirror.parse_events2("Segmentation fault\n")


def test_mirror_facts_without_the_module():
    facts = state_mirror.mirror_facts(state_base.Output(None, "", ""), None, None)
    assert facts["loaded"] is False and facts["resources"] == []
    assert facts["error"] == "the DRBD kernel module is not loaded (no /proc/drbd)"


def test_mirror_facts_without_drbd_utils():
    facts = state_mirror.mirror_facts(state_base.Output(None, "", ""), None, "version: 8.4.11 (api:1/proto:86-101)\n")
    assert facts["loaded"] is True and facts["version"] == "8.4.11"
    assert facts["error"] == "drbdsetup is not installed (Debian package drbd-utils)"


def test_mirror_error_is_a_finding_only_where_mirrors_are_expected():
    quiet = state.build_facts({"events2": state_base.Output(None, "", "")}, checks=("mirror",), read=lambda p: None)
    assert [f for f in quiet["findings"] if f["component"] == "mirror"] == []
    loud = state.build_facts(
        {"events2": state_base.Output(None, "", "")},
        checks=("mirror",),
        vms=[{"name": "web1", "level": "ha"}],
        read=lambda p: None,
    )
    assert [f["message"] for f in loud["findings"] if f["component"] == "mirror"] == [
        "the mirrors' state is unknown: the DRBD kernel module is not loaded (no /proc/drbd)"
    ]


# ---------------------------------------------------------------------------
# the whole host, from the captures

PAIR = {
    "name": "pair_lab",
    "hypervisor": "kvm",
    "nodes": [{"name": "hv-east", "host": "hv-east"}, {"name": "hv-west", "host": "hv-west"}],
    "cluster_links": [{"name": "ring0"}, {"name": "ring1"}],
    "links": [
        {
            "name": "repl",
            "hosts": {
                "hv-east": {"interface": "bond0", "members": ["ens4", "ens5"]},
                "hv-west": {"interface": "bond0", "members": ["ens4", "ens5"]},
            },
        }
    ],
}
GUEST = [{"name": "guest1", "level": "ha", "preferred_host": "hv-east"}]


# The Debian 13 container lab's pair (lab.py up): two plain links, no bond, no VM.
CONTAINER_PAIR = {
    "name": "pair_lab",
    "hypervisor": "kvm",
    "nodes": [{"name": "hv-east", "host": "hv-east"}, {"name": "hv-west", "host": "hv-west"}],
    "cluster_links": [{"name": "link0"}, {"name": "link1"}],
    "links": [
        {"name": link, "hosts": {host: {"interface": iface, "members": []} for host in ("hv-east", "hv-west")}}
        for link, iface in (("link0", "eth1"), ("link1", "eth2"))
    ],
}


def facts(name, host, vms=None, captures=BOOKWORM, pair=None, **kwargs):
    return state.build_facts(
        captures.outputs(name),
        pair=PAIR if pair is None else pair,
        host=host,
        vms=GUEST if vms is None else vms,
        read=captures.reader(name),
        uname=host,
        **kwargs,
    )


def gaps(result):
    return [
        (f["severity"], f["component"], f["subject"], f["message"])
        for f in result["findings"]
        if f["severity"] != "info"
    ]


def mirror(result, name):
    return [r for r in result["mirror"]["resources"] if r["name"] == name][0]


def test_events2_records_of_drbd_84():
    parsed = state_mirror.parse_events2(read("vm_ha", "events2.txt"))
    assert parsed == {
        "vm-guest1": {
            "role": "Primary",
            "suspended": False,
            "connections": {"peer": {"connection": "Connected", "peer_role": "Secondary"}},
            "devices": {0: {"minor": 100, "disk": "UpToDate"}},
            "peer_devices": {
                ("peer", 0): {
                    "replication": "Established",
                    "peer_disk": "UpToDate",
                    "out_of_sync_kib": 0,
                    "done": None,
                    "resync_suspended": None,
                }
            },
        }
    }


def test_protected_vm_seen_from_both_hosts():
    for name, host, peer in (("vm_ha", "hv-east", "hv-west"), ("vm_ha_west", "hv-west", "hv-east")):
        result = facts(name, host)
        assert result["redundant"] is True, result["findings"]
        res = mirror(result, "vm-guest1")
        assert (res["peer"], res["connection"], res["disk"], res["peer_disk"], res["protocol"]) == (
            peer,
            "Connected",
            "UpToDate",
            "UpToDate",
            "C",
        )
        assert res["role"] == ("Primary" if host == "hv-east" else "Secondary")
        assert result["mirror"]["version"] == "8.4.11"
        vm = result["vms"][0]
        assert (vm["protected"], vm["level"], vm["actual_level"], vm["running_on"], vm["failover_to"]) == (
            True,
            "ha",
            "ha",
            "hv-east",
            "hv-west",
        )
        assert vm["peer_copy_uptodate"] is True and vm["mirror"] == "vm-guest1" and vm["resource"] == "vm-guest1"
        assert result["hypervisor"]["domains"]["running"] == (["guest1"] if host == "hv-east" else [])
        assert [(d["id"], d["targets"], d["active"]) for d in result["fencing"]["devices"]] == [
            ("fence_hv-east", ["hv-east"], True),
            ("fence_hv-west", ["hv-west"], True),
        ]


def test_host_crashed_the_vm_runs_on_the_survivor_without_a_failover_host():
    result = facts("vm_alone", "hv-west")
    vm = result["vms"][0]
    assert (vm["running_on"], vm["failover_to"], vm["no_failover_reason"]) == ("hv-west", None, "hv-east is offline")
    assert [g for g in gaps(result) if g[1] in ("vm", "mirror")] == [
        (
            "critical",
            "mirror",
            "vm-guest1",
            "mirror vm-guest1 (VM guest1) is not connected to hv-east (Connecting): the peer copy is not updated",
        ),
        (
            "critical",
            "mirror",
            "vmpair-test",
            "mirror vmpair-test is not connected to hv-east (Connecting): the peer copy is not updated",
        ),
        ("critical", "vm", "guest1", "VM guest1 (ha, on hv-west) cannot fail over: hv-east is offline"),
    ]
    infos = [f["message"] for f in result["findings"] if f["severity"] == "info"]
    assert "VM guest1 runs on hv-west; its preferred host is hv-east" in infos
    assert result["fencing"]["last_action"]["target"] == "hv-east"
    assert result["fencing"]["last_action"]["status"] == "success"


def test_mirror_disconnected_is_one_finding_on_each_side():
    assert gaps(facts("mirror_standalone", "hv-west")) == [
        (
            "critical",
            "mirror",
            "vmpair-test",
            "mirror vmpair-test is StandAlone: it does not try to reach hv-east (split-brain or a manual disconnect)",
        )
    ]
    assert gaps(facts("mirror_waiting", "hv-east")) == [
        (
            "critical",
            "mirror",
            "vmpair-test",
            "mirror vmpair-test is not connected to hv-west (Connecting): the peer copy is not updated",
        )
    ]


def test_resync_progress_and_time_left():
    target = facts("mirror_resync_target", "hv-west")
    res = mirror(target, "vmpair-test")
    assert (res["replication"], res["resyncing"], res["disk"], res["out_of_sync_kib"]) == (
        "SyncTarget",
        True,
        "Inconsistent",
        7648,
    )
    # /proc/drbd: "sync'ed: 66.7% (7576/8192)K": the percent is taken from what is left of the resync.
    assert (res["resync_percent"], res["resync_eta_s"]) == (7.5, 75)
    # A resync that moves data (76 K/sec, 1:15 left) is a warning, with when redundancy returns.
    assert res["resync_progressing"] is True
    assert gaps(target) == [
        (
            "warning",
            "mirror",
            "vmpair-test",
            "mirror vmpair-test is resyncing (SyncTarget), 7.5 % done, about 1 min 15 s left, 8 MiB out of sync; "
            "redundancy returns in about 2 min (the copy on the target is not usable until it ends)",
        )
    ]
    source = mirror(facts("mirror_resync_source", "hv-east"), "vmpair-test")
    assert (source["replication"], source["peer_disk"], source["resync_percent"], source["resync_eta_s"]) == (
        "SyncSource",
        "Inconsistent",
        13.3,
        82,
    )


def test_a_vm_whose_copy_resyncs_says_how_far_and_how_long_before_it_can_move():
    # guest1's mirror given the resync of vmpair-test captured on hv-east (a host back after a
    # failover): migrate.yml and maintenance.yml refuse with this reason, progress included.
    result = facts("vm_ha", "hv-east")
    resyncing = dict(mirror(facts("mirror_resync_source", "hv-east"), "vmpair-test"), name="vm-guest1")
    vm = state_vms.vm_facts(
        GUEST, ["hv-east", "hv-west"], result["pacemaker"], {"resources": [resyncing]}, None, "hv-east"
    )[0]
    assert (vm["running_on"], vm["failover_to"], vm["peer_copy_uptodate"]) == ("hv-east", None, False)
    assert vm["no_failover_reason"] == (
        "the copy on hv-west is not UpToDate (mirror resyncing (SyncSource), 13.3 % done, about 1 min 22 s left, "
        "8 MiB out of sync)"
    )


def test_mirror_progress_filter_gives_one_mirror_as_a_line():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.duplex.vmpair.plugins.filter.mirror_progress import mirror_progress

    target = mirror(facts("mirror_resync_target", "hv-west"), "vmpair-test")
    assert mirror_progress(target) == (
        "vmpair-test: resyncing (SyncTarget), 7.5 % done, about 1 min 15 s left, 8 MiB out of sync"
    )
    assert mirror_progress(mirror(facts("vm_ha", "hv-east"), "vm-guest1")) == "vm-guest1: Connected, UpToDate/UpToDate"
    with pytest.raises(AnsibleFilterError, match="resyncing"):
        mirror_progress({"name": "vm-x"})
    with pytest.raises(AnsibleFilterError, match="must be one of"):
        mirror_progress("vm-x")


def test_one_bond_member_down():
    result = facts("bond_cut", "hv-east")
    assert gaps(result) == [
        (
            "warning",
            "network",
            "bond0 (link repl)",
            "bond bond0 (link repl) runs on ens5 alone: ens4 is down (2 link failures)",
        )
    ]
    bond = result["network"]["bonds"][0]
    assert (bond["active"], bond["members_up"], bond["redundant"]) == ("ens5", ["ens5"], False)


@pytest.mark.parametrize(
    "captures, pair, vms",
    [(BOOKWORM, PAIR, None), (TRIXIE, CONTAINER_PAIR, [])],
    ids=["bookworm", "trixie"],
)
def test_fence_device_removed(captures, pair, vms):
    result = facts("fence_removed", "hv-east", vms=vms, captures=captures, pair=pair)
    assert result["fencing"]["missing"] == ["hv-west"]
    assert [(d["id"], d["targets"], d["active"]) for d in result["fencing"]["devices"]] == [
        ("fence_hv-east", ["hv-east"], True)
    ]
    assert gaps(result) == [("critical", "fencing", "hv-west", "no fence device for node hv-west")]


def test_both_fence_devices_in_the_container_lab_of_debian_13():
    result = facts("healthy", "hv-east", vms=[], captures=TRIXIE, pair=CONTAINER_PAIR)
    assert gaps(result) == []
    assert [(d["id"], d["targets"], d["active"]) for d in result["fencing"]["devices"]] == [
        ("fence_hv-east", ["hv-east"], True),
        ("fence_hv-west", ["hv-west"], True),
    ]
    assert result["hypervisor"]["running"] is True and result["hypervisor"]["domains"]["defined"] == []


@pytest.mark.parametrize("captures, name", [(BOOKWORM, "vm_ha"), (TRIXIE, "healthy")], ids=["bookworm", "trixie"])
def test_stonith_targets_from_the_cib(captures, name):
    targets = state_pacemaker.parse_stonith_targets(captures.read(name, "cib_resources.txt"))
    assert targets == {"fence_hv-east": ["hv-east"], "fence_hv-west": ["hv-west"]}
    with pytest.raises(ValueError, match="cannot parse the CIB"):
        state_pacemaker.parse_stonith_targets("<cib")


@pytest.mark.parametrize(
    "vms, expected",
    [
        (
            [{"name": "guest1", "level": "recovery"}],
            [("warning", "vm", "guest1", "VM guest1 is promised level recovery but its mirror runs as ha")],
        ),
        (
            [{"name": "web9", "level": "ha"}],
            [("critical", "vm", "web9", "VM web9 is promised level ha but is not protected (no mirror)")],
        ),
        (
            [{"name": "db1", "level": "ft"}],
            [
                (
                    "critical",
                    "vm",
                    "db1",
                    "VM db1 is promised level ft (continuous), which this collection cannot provide yet",
                )
            ],
        ),
    ],
)
def test_vm_against_its_promised_level(vms, expected):
    assert gaps(facts("vm_ha", "hv-east", vms=vms)) == expected


def test_checks_leave_components_out():
    result = facts("bond_cut", "hv-east", checks=("cluster", "fencing"))
    assert result["mirror"] is None and result["vms"] is None and result["network"] is None
    assert result["redundant"] is True


def test_commands_for_the_checks():
    assert list(state.commands(("cluster",))) == list(state.COMMANDS)
    every = state.commands(state.CHECKS, "kvm", mirror_loaded=True)
    assert every["events2"] == ["drbdsetup", "events2", "--now", "--statistics", "all"]
    assert every["virsh_all"] == ["virsh", "-c", "qemu:///system", "list", "--all", "--name"]
    assert state.commands(state.CHECKS, "xen")["virsh_running"] == ["virsh", "-c", "xen:///system", "list", "--name"]
    assert "events2" not in state.commands(state.CHECKS, "kvm", mirror_loaded=False)


@pytest.mark.parametrize("garbage", ["", "\x00\x01 not what the tool prints\n", "<xml"])
def test_empty_or_malformed_output_of_every_tool_is_reported_not_a_crash(garbage):
    broken = {key: state_base.Output(0, garbage, "") for key in state.commands(state.CHECKS, "kvm", True)}
    result = state.build_facts(
        broken,
        pair=PAIR,
        host="hv-east",
        vms=GUEST,
        read=lambda path: garbage if path.startswith("/proc/net/bonding") else "version: 8.4.11\n",
        uname="hv-east",
    )
    assert result["redundant"] is False
    assert result["corosync"]["running"] is False and result["corosync"]["error"].startswith("corosync-quorumtool")
    assert result["pacemaker"]["running"] is False and "crm_mon" in result["pacemaker"]["error"]
    messages = [f["message"] for f in result["findings"]]
    assert messages[0].startswith("corosync is not running or not reachable on this host")
    assert any(m.startswith("pacemaker is not running on this host") for m in messages)
    if garbage.strip():
        assert result["mirror"]["error"].startswith("drbdsetup events2: unexpected line")
        assert any(m.startswith("the mirrors' state is unknown: drbdsetup events2") for m in messages)
    else:
        assert result["mirror"]["resources"] == []
    assert "VM guest1 is promised level ha but is not protected (no mirror)" in messages
    assert result["network"]["bonds"][0]["members"] == []


def test_a_node_still_joining_is_not_reported_as_standby():
    """Derived from the capture fence_removed (guest1 runs on hv-west): hv-east's node line set the way
    Pacemaker shows a node
    whose join is pending (online, standby and pending; seen live in the real-kernel lab right after
    a fenced host rebooted, not captured)."""
    out = outputs("fence_removed")
    crm = out["crm_mon"]
    joined = '<node name="hv-east" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false"'
    joining = '<node name="hv-east" id="1" online="true" standby="true" standby_onfail="false" maintenance="false" pending="true"'
    assert joined in crm.stdout
    out["crm_mon"] = state_base.Output(crm.rc, crm.stdout.replace(joined, joining), crm.stderr)
    result = state.build_facts(out, pair=PAIR, host="hv-east", vms=GUEST, read=reader("fence_removed"), uname="hv-east")
    messages = [f["message"] for f in result["findings"] if f["severity"] == "critical"]
    assert "node hv-east is joining the cluster (not ready to run resources yet)" in messages
    assert "node hv-east is in standby" not in messages
    assert result["vms"][0]["no_failover_reason"] == "hv-east is still joining the cluster"

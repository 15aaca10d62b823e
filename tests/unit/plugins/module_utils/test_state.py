# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of module_utils/health/ on outputs captured from real clusters of both Debian releases.

The fixtures (see captures.py: tests/unit/fixtures/state/bookworm for Debian 12,
tests/unit/fixtures/state/trixie for Debian 13) were captured with LANG=C in podman labs: hv-east
(node 1) and hv-west (node 2), two knet links and a qnetd witness (model net, tls on, ffsplit). In
a state's folder ``STATE/``, ``TOOL.txt`` is stdout, ``TOOL.stderr`` stderr (only when not empty)
and ``rc.json`` the exit codes (``{TOOL: rc}``). Unless the state name
ends in ``_west`` the capture was taken on hv-east. Every test that names a ``release`` runs on the
captures of both; what differs between the two labs (addresses, cluster name, fence devices, which
node became DC) comes from :data:`LAB`, what differs between the releases is said where it is
tested.

Debian 12 (corosync 3.1.7, corosync-qdevice 3.0.3, Pacemaker 2.1.5): links 172.31.120.0/24 (link
0) and 172.31.121.0/24 (link 1), qnetd at 172.31.122.30, cluster stcap, fence devices f-east and
f-west (fence_dummy). Debian 13 (corosync 3.1.9, corosync-qdevice 3.0.3, Pacemaker 3.0.0, pcs
0.12.0): the lab of ``lab.py up --index 5`` deployed by site.yml, links 172.31.106.0/24 and
172.31.107.0/24, qnetd at 172.31.105.30, cluster pair_lab, fence devices fence_hv-east and
fence_hv-west (fence_lab_podman); both with a Dummy resource vm-test and a disabled one, vm-off.

States: corosync_only (corosync + qdevice, pacemaker stopped), formed (no fencing device yet),
stonith (a fence_ipmilan device with an unreachable address that failed to start), healthy,
link1_down (link 1's interface down: Debian 12 on hv-east, 13 on both hosts), split / split_west (both links down; on Debian
13 hv-west was fenced and came back with the links still down), qnetd_stopped, qdevice_stopped
(corosync-qdevice stopped on hv-east), standby (hv-west standby, hv-east maintenance),
peer_stopped (hv-west left cleanly), corosync_stopped (on a stopped node), two_node (two_node: 1,
no quorum device, pacemaker stopped), pcmk_starting (no DC elected yet), shm_full (Debian 12 only:
/dev/shm of the container full: corosync runs but its IPC fails), resource_failed (vm-test's
monitor found it not running; on Debian 12 captured in the lab of Debian 13's, deployed the same
way: links 172.31.106.0/24 and 172.31.107.0/24).
"""

import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.health import base as state_base
from ansible_collections.duplex.vmpair.plugins.module_utils.health import corosync as state_corosync
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health import pacemaker as state_pacemaker
from ansible_collections.duplex.vmpair.plugins.modules import pair_info
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import (
    RELEASES,
    Captures,
    releases_with,
)

STATES = [
    "corosync_only",
    "formed",
    "stonith",
    "healthy",
    "link1_down",
    "split",
    "split_west",
    "qnetd_stopped",
    "qdevice_stopped",
    "standby",
    "peer_stopped",
    "corosync_stopped",
    "two_node",
    "pcmk_starting",
]

# What differs between the two labs (not between the releases).
LAB = {
    "bookworm": {
        "cluster": "stcap",
        "qnetd": "172.31.122.30",
        "east": ["172.31.120.11", "172.31.121.11"],
        "west": ["172.31.120.12", "172.31.121.12"],
        "dc": "hv-west",
        "vm_test_on": "hv-west",
        "fence": {"hv-east": ("f-east", "fence_dummy"), "hv-west": ("f-west", "fence_dummy")},
        "failed_device": ("f-east", ["hv-west", "hv-east"]),
    },
    "trixie": {
        "cluster": "pair_lab",
        "qnetd": "172.31.105.30",
        "east": ["172.31.106.11", "172.31.107.11"],
        "west": ["172.31.106.12", "172.31.107.12"],
        "dc": "hv-east",
        "vm_test_on": "hv-east",
        "fence": {"hv-east": ("fence_hv-east", "fence_lab_podman"), "hv-west": ("fence_hv-west", "fence_lab_podman")},
        "failed_device": ("f-ipmi", ["hv-east", "hv-west"]),
    },
}
BOTH = pytest.mark.parametrize("release", RELEASES)


def text(state_name, tool, release="bookworm"):
    return Captures(release).text(state_name, tool)


def output(state_name, tool, release="bookworm"):
    return Captures(release).output(state_name, tool)


def outputs(state_name, release="bookworm"):
    return Captures(release).outputs(state_name, keys=state.COMMANDS)


def facts(state_name, release="bookworm", **kwargs):
    return state.build_facts(outputs(state_name, release), **kwargs)


def stopped_device(release, node="hv-east"):
    """The finding of the fence device of ``node`` that cannot run (its only other node is away)."""
    return "fencing device %s (%s) is not running" % LAB[release]["fence"][node]


@BOTH
def test_every_state_has_every_tool(release):
    captures = Captures(release)
    for name in STATES:
        for key in state.COMMANDS:
            assert captures.has(name, key), (release, name, key)


# ---------------------------------------------------------------------------
# corosync-quorumtool -s (the same on corosync 3.1.7 and 3.1.9)


@BOTH
def test_quorumtool_healthy_with_qdevice(release):
    parsed = state_corosync.parse_quorumtool(text("healthy", "quorumtool", release))
    assert parsed["quorate"] is True
    assert parsed["node_id"] == 1
    assert parsed["ring_id"] == "1.e"
    assert parsed["nodes"] == 2
    assert (parsed["expected_votes"], parsed["highest_expected"], parsed["total_votes"], parsed["quorum"]) == (
        3,
        3,
        3,
        2,
    )
    assert parsed["flags"] == ["Quorate", "Qdevice"]
    assert parsed["activity_blocked"] is False
    assert parsed["members"] == [
        {"nodeid": 1, "votes": 1, "qdevice_flags": ["A", "V", "NMW"], "name": "hv-east", "local": True},
        {"nodeid": 2, "votes": 1, "qdevice_flags": ["A", "V", "NMW"], "name": "hv-west", "local": False},
    ]
    assert parsed["qdevice_votes"] == 1
    assert parsed["qdevice_configured_votes"] == 1


@BOTH
def test_quorumtool_on_the_other_node(release):
    parsed = state_corosync.parse_quorumtool(text("healthy_west", "quorumtool", release))
    assert parsed["node_id"] == 2
    assert [(m["name"], m["local"]) for m in parsed["members"]] == [("hv-east", False), ("hv-west", True)]


@BOTH
def test_quorumtool_losing_side_of_a_split(release):
    # Exit code 2 with the full status: not quorate is a state, not an error.
    assert output("split_west", "quorumtool", release).rc == state_corosync.QUORUMTOOL_NOT_QUORATE
    parsed = state_corosync.parse_quorumtool(text("split_west", "quorumtool", release))
    assert parsed["quorate"] is False
    assert parsed["quorum"] == 2
    assert parsed["total_votes"] == 1
    assert parsed["activity_blocked"] is True
    assert parsed["flags"] == ["Qdevice"]
    assert parsed["members"] == [
        {"nodeid": 2, "votes": 1, "qdevice_flags": ["A", "NV", "NMW"], "name": "hv-west", "local": True}
    ]
    # "0  0  Qdevice (votes 1)": configured but not counted.
    assert parsed["qdevice_votes"] == 0
    assert parsed["qdevice_configured_votes"] == 1


@BOTH
def test_quorumtool_winning_side_of_a_split(release):
    assert output("split", "quorumtool", release).rc == 0
    parsed = state_corosync.parse_quorumtool(text("split", "quorumtool", release))
    assert parsed["quorate"] is True
    assert parsed["total_votes"] == 2
    assert [m["name"] for m in parsed["members"]] == ["hv-east"]
    assert parsed["qdevice_votes"] == 1


@BOTH
def test_quorumtool_qnetd_stopped_withdraws_the_vote(release):
    parsed = state_corosync.parse_quorumtool(text("qnetd_stopped", "quorumtool", release))
    assert parsed["quorate"] is True
    assert parsed["total_votes"] == 2
    assert [m["qdevice_flags"] for m in parsed["members"]] == [["A", "NV", "NMW"], ["A", "NV", "NMW"]]
    assert parsed["qdevice_votes"] == 0


@BOTH
def test_quorumtool_qdevice_daemon_stopped_is_not_registered(release):
    parsed = state_corosync.parse_quorumtool(text("qdevice_stopped", "quorumtool", release))
    assert parsed["flags"] == ["Quorate"]
    assert parsed["members"][0]["qdevice_flags"] == ["NR"]
    assert parsed["members"][1]["qdevice_flags"] == ["A", "V", "NMW"]
    assert parsed["qdevice_votes"] == 0


@BOTH
def test_quorumtool_two_node_has_no_qdevice_column(release):
    parsed = state_corosync.parse_quorumtool(text("two_node", "quorumtool", release))
    assert parsed["flags"] == ["2Node", "Quorate", "WaitForAll"]
    assert (parsed["expected_votes"], parsed["quorum"]) == (2, 1)
    assert parsed["members"] == [
        {"nodeid": 1, "votes": 1, "qdevice_flags": [], "name": "hv-east", "local": True},
        {"nodeid": 2, "votes": 1, "qdevice_flags": [], "name": "hv-west", "local": False},
    ]
    assert parsed["qdevice_votes"] is None


# ---------------------------------------------------------------------------
# corosync-cfgtool -s


@BOTH
def test_cfgtool_healthy(release):
    parsed = state_corosync.parse_cfgtool(text("healthy", "cfgtool", release))
    assert parsed["node_id"] == 1
    assert parsed["transport"] == "knet"
    assert parsed["links"] == [
        {
            "id": 0,
            "transport": "udp",
            "address": LAB[release]["east"][0],
            "peers": [{"nodeid": 2, "status": "connected", "connected": True}],
        },
        {
            "id": 1,
            "transport": "udp",
            "address": LAB[release]["east"][1],
            "peers": [{"nodeid": 2, "status": "connected", "connected": True}],
        },
    ]


@BOTH
def test_cfgtool_link_down_seen_from_both_sides(release):
    assert output("link1_down", "cfgtool", release).rc == 0  # rc stays 0 with a link down
    east = state_corosync.parse_cfgtool(text("link1_down", "cfgtool", release))["links"]
    assert [(link["id"], [p["connected"] for p in link["peers"]]) for link in east] == [(0, [True]), (1, [False])]
    assert east[1]["peers"][0]["status"] == "disconnected"
    west = state_corosync.parse_cfgtool(text("link1_down_west", "cfgtool", release))
    assert west["node_id"] == 2
    assert west["links"][1]["address"] == LAB[release]["west"][1]
    assert west["links"][1]["peers"] == [{"nodeid": 1, "status": "disconnected", "connected": False}]


@BOTH
def test_cfgtool_lists_stopped_peer(release):
    links = state_corosync.parse_cfgtool(text("peer_stopped", "cfgtool", release))["links"]
    assert [link["peers"] for link in links] == [[{"nodeid": 2, "status": "disconnected", "connected": False}]] * 2


# ---------------------------------------------------------------------------
# corosync-qdevice-tool -sv and corosync-cmapctl


@BOTH
def test_qdevice_tool_connected_and_voting(release):
    parsed = state_corosync.parse_qdevice_tool(text("healthy", "qdevicetool", release))
    assert parsed["model"] == "net"
    assert parsed["node_id"] == 1
    assert parsed["cluster_name"] == LAB[release]["cluster"]
    assert (parsed["qnetd_host"], parsed["qnetd_port"]) == (LAB[release]["qnetd"], 5403)
    assert parsed["algorithm"] == "Fifty-Fifty split"
    assert parsed["tie_breaker"] == "Node with lowest node ID"
    assert parsed["state"] == "Connected"
    assert parsed["connected"] is True
    assert parsed["tls"] == "supported"  # captured with corosync.conf's tls: on
    assert parsed["tls_active"] is True
    assert parsed["cast_vote"] is True
    assert parsed["quorate"] is True


@BOTH
def test_qdevice_tool_qnetd_stopped(release):
    parsed = state_corosync.parse_qdevice_tool(text("qnetd_stopped", "qdevicetool", release))
    assert parsed["state"] == "Connect failed"
    assert parsed["connected"] is False
    assert parsed["cast_vote"] is False
    assert parsed["tls_active"] is None  # not printed while disconnected


@BOTH
def test_qdevice_tool_connected_but_vote_refused(release):
    parsed = state_corosync.parse_qdevice_tool(text("split_west", "qdevicetool", release))
    assert parsed["connected"] is True
    assert parsed["cast_vote"] is False
    assert parsed["quorate"] is False


@BOTH
def test_cmap_value(release):
    assert state_corosync.parse_cmap_value(text("healthy", "cmapctl_device", release)) == "net"
    assert state_corosync.parse_cmap_value(text("two_node", "cmapctl_device", release)) is None
    assert "CS_ERR_NOT_EXIST" in output("two_node", "cmapctl_device", release).stderr


# ---------------------------------------------------------------------------
# crm_mon --output-as=xml: Pacemaker 2.1.5 (XML API 2.25) and 3.0.0 (XML API 2.38)


@BOTH
def test_crm_mon_healthy(release):
    lab = LAB[release]
    parsed = state_pacemaker.parse_crm_mon(text("healthy", "crm_mon", release))
    assert parsed["status_code"] == 0
    # 2.1: <pacemakerd state="running">; 3.0: <summary><stack pacemakerd-state="running">
    assert parsed["pacemakerd_state"] == "running"
    assert parsed["dc"] == lab["dc"]
    assert parsed["have_quorum"] is True
    assert parsed["stonith_enabled"] is True
    assert parsed["maintenance_mode"] is False
    assert [
        (n["name"], n["id"], n["online"], n["standby"], n["maintenance"], n["unclean"], n["is_dc"])
        for n in parsed["nodes"]
    ] == [
        ("hv-east", 1, True, False, False, False, lab["dc"] == "hv-east"),
        ("hv-west", 2, True, False, False, False, lab["dc"] == "hv-west"),
    ]
    # Each device runs on the other node (the cluster role's avoids constraint), in the CIB's order.
    devices = sorted(parsed["stonith"], key=lambda d: d["id"])
    assert devices == sorted(
        (
            {
                "id": lab["fence"][target][0],
                "agent": lab["fence"][target][1],
                "active": True,
                "role": "Started",
                "failed": False,
                "target_role": None,
                "node": runs_on,
            }
            for target, runs_on in (("hv-east", "hv-west"), ("hv-west", "hv-east"))
        ),
        key=lambda d: d["id"],
    )
    assert [
        (r["id"], r["agent"], r["role"], r["target_role"], r["active"], r["nodes"]) for r in parsed["resources"]
    ] == [
        ("vm-test", "ocf:pacemaker:Dummy", "Started", None, True, [lab["vm_test_on"]]),
        ("vm-off", "ocf:pacemaker:Dummy", "Stopped", "Stopped", False, []),
    ]
    assert (parsed["resources_configured"], parsed["resources_disabled"], parsed["resources_blocked"]) == (4, 1, 0)
    assert parsed["failures"] == []


def test_crm_mon_pacemakerd_state_of_both_releases():
    assert "<pacemakerd " in text("healthy", "crm_mon", "bookworm")
    assert "<pacemakerd " not in text("healthy", "crm_mon", "trixie")
    assert '<stack type="corosync" pacemakerd-state="running"/>' in text("healthy", "crm_mon", "trixie")


@BOTH
def test_crm_mon_failed_fence_device(release):
    device, failed_on = LAB[release]["failed_device"]
    parsed = state_pacemaker.parse_crm_mon(text("stonith", "crm_mon", release))
    assert [d for d in parsed["stonith"] if d["id"] == device] == [
        {
            "id": device,
            "agent": "fence_ipmilan",
            "active": False,
            "role": "Stopped",
            "failed": False,
            "target_role": None,
            "node": None,
        }
    ]
    # exitstatus: 2.1 prints the OCF name ("error"), 3.0 crm_exit_str ("Error occurred"): the
    # parser gives the OCF name of exitcode on both.
    assert [
        (f["resource"], f["node"], f["task"], f["exitstatus"], f["exitcode"], f["interval_ms"])
        for f in parsed["failures"]
    ] == [(device, node, "start", "error", 1, 0) for node in failed_on]


def test_crm_mon_failure_exitstatus_wording_of_pacemaker_3():
    assert 'exitstatus="error"' in text("stonith", "crm_mon", "bookworm")
    assert 'exitstatus="Error occurred"' in text("stonith", "crm_mon", "trixie")
    assert 'exitstatus="not running"' in text("resource_failed", "crm_mon", "bookworm")
    assert 'exitstatus="Not running"' in text("resource_failed", "crm_mon", "trixie")


@BOTH
def test_crm_mon_failed_monitor(release):
    parsed = state_pacemaker.parse_crm_mon(text("resource_failed", "crm_mon", release))
    assert [{k: v for k, v in f.items() if k != "last_rc_change"} for f in parsed["failures"]] == [
        {
            "resource": "vm-test",
            "node": "hv-east",
            "task": "monitor",
            "interval_ms": 10000,
            "exitstatus": "not running",
            "exitreason": "",
            "exitcode": 7,
        }
    ]


@pytest.mark.parametrize(
    "exitcode, exitstatus, expected",
    [
        ("1", "error", "error"),
        ("1", "Error occurred", "error"),
        ("7", "Not running", "not running"),
        ("5", "Not installed", "not installed"),
        ("6", "Not configured", "not configured"),
        ("2", "Invalid parameter", "invalid parameter"),
        ("124", "Timeout occurred", "Timeout occurred"),
        ("x", "Whatever", "Whatever"),
    ],
)
def test_crm_mon_failure_exitstatus_is_the_ocf_name_of_the_code(exitcode, exitstatus, expected):
    xml = (
        '<pacemaker-result api-version="2.38" request="crm_mon"><summary/><nodes/><failures>'
        '<failure op_key="vm-a_start_0" node="a" exitstatus="%s" exitreason="" exitcode="%s" interval="0" '
        'task="start"/></failures><status code="0" message="OK"/></pacemaker-result>' % (exitstatus, exitcode)
    )
    assert state_pacemaker.parse_crm_mon(xml)["failures"][0]["exitstatus"] == expected


def test_crm_mon_no_resources_element():
    parsed = state_pacemaker.parse_crm_mon(text("formed", "crm_mon"))
    assert parsed["stonith"] == [] and parsed["resources"] == []
    assert parsed["resources_configured"] == 0


@BOTH
def test_crm_mon_no_fence_device(release):
    parsed = state_pacemaker.parse_crm_mon(text("formed", "crm_mon", release))
    assert parsed["stonith"] == []
    # Debian 13's lab kept its Dummy resources: only the fence devices were removed.
    assert [r["id"] for r in parsed["resources"]] == ([] if release == "bookworm" else ["vm-test", "vm-off"])


@BOTH
def test_crm_mon_split_winner_fenced_the_peer(release):
    parsed = state_pacemaker.parse_crm_mon(text("split", "crm_mon", release))
    assert parsed["dc"] == "hv-east"
    west = parsed["nodes"][1]
    assert (west["name"], west["online"], west["unclean"]) == ("hv-west", False, False)
    assert parsed["fence_events"][0]["target"] == "hv-west"
    assert parsed["fence_events"][0]["status"] == "success"


@BOTH
def test_crm_mon_split_loser(release):
    parsed = state_pacemaker.parse_crm_mon(text("split_west", "crm_mon", release))
    assert parsed["dc"] == "hv-west"
    assert parsed["have_quorum"] is False
    assert parsed["nodes"][0]["unclean"] is True


@BOTH
def test_crm_mon_standby_and_maintenance(release):
    nodes = {n["name"]: n for n in state_pacemaker.parse_crm_mon(text("standby", "crm_mon", release))["nodes"]}
    assert nodes["hv-west"]["standby"] is True and nodes["hv-west"]["maintenance"] is False
    assert nodes["hv-east"]["maintenance"] is True and nodes["hv-east"]["standby"] is False


@BOTH
def test_crm_mon_no_dc_yet(release):
    parsed = state_pacemaker.parse_crm_mon(text("pcmk_starting", "crm_mon", release))
    assert parsed["dc"] is None
    assert parsed["have_quorum"] is False
    # Before a DC exists every node shows offline and unclean.
    assert [(n["online"], n["unclean"]) for n in parsed["nodes"]] == [(False, True), (False, True)]


@BOTH
def test_crm_mon_not_connected(release):
    out = output("corosync_stopped", "crm_mon", release)
    assert out.rc == state_pacemaker.CRM_MON_NOT_CONNECTED
    parsed = state_pacemaker.parse_crm_mon(out.stdout)
    assert parsed["status_code"] == 102
    assert parsed["status_message"] == "Not connected"
    assert "nodes" not in parsed
    assert parsed["errors"][-1] == "crm_mon: Connection to cluster failed: Connection refused"
    # 2.1 first says it cannot reach pacemakerd; 3.0 says only the last line.
    assert len(parsed["errors"]) == {"bookworm": 2, "trixie": 1}[release]


def test_crm_mon_not_xml():
    with pytest.raises(ValueError):
        state_pacemaker.parse_crm_mon("Could not connect")


def test_crm_mon_groups_and_clones():
    xml = """<pacemaker-result api-version="2.25" request="crm_mon">
  <summary><current_dc present="true" name="a" id="1" with_quorum="true"/></summary>
  <nodes/>
  <resources>
    <group id="g1" number_resources="1">
      <resource id="vm1" resource_agent="ocf:heartbeat:VirtualDomain" role="Started" active="true"
                orphaned="false" blocked="false" managed="true" failed="true" failure_ignored="false"
                nodes_running_on="1"><node name="a" id="1" cached="true"/></resource>
    </group>
  </resources>
  <failures>
    <failure op_key="vm_data_1_monitor_10000" node="a" exitstatus="not running" exitreason="gone"
             exitcode="7" interval="10000" task="monitor"/>
  </failures>
  <status code="0" message="OK"/>
</pacemaker-result>"""
    parsed = state_pacemaker.parse_crm_mon(xml)
    assert parsed["resources"][0]["parent"] == "g1"
    assert parsed["resources"][0]["failed"] is True
    assert parsed["failures"][0]["resource"] == "vm_data_1"
    assert parsed["failures"][0]["exitreason"] == "gone"


# ---------------------------------------------------------------------------
# build_facts and the problems


@BOTH
def test_facts_healthy(release):
    result = facts("healthy", release)
    assert result["summary"] == []
    assert result["healthy"] is True
    corosync = result["corosync"]
    assert corosync["running"] is True and corosync["error"] is None
    assert corosync["qdevice"] is True
    assert corosync["links_connected"] is True and corosync["links_down"] == []
    assert corosync["links"][0]["peers"] == [{"nodeid": 2, "name": "hv-west", "status": "connected", "connected": True}]
    qdevice = result["qdevice"]
    assert (qdevice["running"], qdevice["model"], qdevice["connected"], qdevice["cast_vote"]) == (
        True,
        "net",
        True,
        True,
    )
    pacemaker = result["pacemaker"]
    assert pacemaker["running"] is True and pacemaker["dc"] == LAB[release]["dc"]
    assert pacemaker["resources"]["configured"] == 4
    assert [r["id"] for r in pacemaker["resources"]["items"]] == ["vm-test", "vm-off"]


@pytest.mark.parametrize("release", releases_with("healthy_west", "crm_mon"))
def test_facts_healthy_on_the_other_node(release):
    # (Debian 12's healthy_west has corosync's tools only.)
    assert facts("healthy_west", release)["summary"] == []


@BOTH
def test_facts_link_down(release):
    result = facts("link1_down", release)
    assert result["corosync"]["links_connected"] is False
    assert result["corosync"]["links_down"] == [{"link": 1, "nodeid": 2, "name": "hv-west", "status": "disconnected"}]
    assert result["summary"] == ["link 1 to hv-west is down"]
    assert result["healthy"] is False


@BOTH
def test_facts_qnetd_stopped(release):
    result = facts("qnetd_stopped", release)
    assert result["corosync"]["qdevice"] is False
    assert result["corosync"]["quorate"] is True
    assert result["qdevice"]["state"] == "Connect failed"
    assert result["summary"] == [
        "the qdevice vote is missing (qdevice is not connected to qnetd at %s:5403, state: Connect failed)"
        % LAB[release]["qnetd"]
    ]


@BOTH
def test_facts_qdevice_daemon_stopped(release):
    result = facts("qdevice_stopped", release)
    assert result["qdevice"]["running"] is False
    assert result["summary"] == [
        "the qdevice vote is missing (corosync-qdevice is not running: corosync-qdevice-tool exited with 3: "
        "corosync-qdevice-tool: Can't connect to QDevice socket (is QDevice running?): No such file or directory)"
    ]


@BOTH
def test_facts_stonith_device_failed(release):
    device, failed_on = LAB[release]["failed_device"]
    # Debian 13's reason: the agent timed out (the address did not answer); the wording of the
    # result is the same on both (see test_crm_mon_failed_fence_device).
    reason = {"bookworm": "error", "trixie": "error: Fence agent did not complete within 20s"}[release]
    assert facts("stonith", release)["summary"] == [
        "fencing device %s (fence_ipmilan) is not running" % device,
    ] + ["start of %s failed on %s (%s)" % (device, node, reason) for node in failed_on]


@BOTH
def test_facts_failed_monitor(release):
    assert facts("resource_failed", release)["summary"] == ["monitor of vm-test failed on hv-east (not running)"]


@BOTH
def test_facts_no_fencing_device(release):
    assert facts("formed", release)["summary"] == ["no fencing device configured"]


@BOTH
def test_facts_split_winner(release):
    result = facts("split", release)
    assert result["summary"] == [
        "node hv-west is not a corosync member",
        "link 0 to hv-west is down",
        "link 1 to hv-west is down",
        "node hv-west is offline",
        stopped_device(release),
    ]


@BOTH
def test_facts_split_loser(release):
    result = facts("split_west", release)
    assert result["corosync"]["quorate"] is False
    assert result["summary"][:5] == [
        "this node's partition is not quorate (1 of 2 needed votes)",
        "node hv-east is not a corosync member",
        "link 0 to hv-east is down",
        "link 1 to hv-east is down",
        "the qdevice vote is missing (qnetd at %s:5403 did not give the vote to this partition)"
        % LAB[release]["qnetd"],
    ]
    assert "the pacemaker partition has no quorum" in result["summary"]
    assert "node hv-east is unclean (it must be fenced)" in result["summary"]


@BOTH
def test_facts_standby_and_maintenance(release):
    # The device fencing hv-east may not run on hv-east (location ban) and hv-west is in standby:
    # really stopped.
    assert facts("standby", release)["summary"] == [
        "node hv-east is in maintenance mode",
        "node hv-west is in standby",
        stopped_device(release),
    ]


@BOTH
def test_facts_peer_stopped_names_the_peer_from_pacemaker(release):
    result = facts("peer_stopped", release)
    assert result["corosync"]["links_down"][0]["name"] == "hv-west"
    assert result["summary"][:4] == [
        "node hv-west is not a corosync member",
        "link 0 to hv-west is down",
        "link 1 to hv-west is down",
        "node hv-west is offline",
    ]


# crm_mon's errors when pacemakerd does not run (2.1: two lines; 3.0: the last one).
NOT_CONNECTED = {
    "bookworm": "crm_mon exited with 102: error: Could not connect to launcher: Connection refused; "
    "crm_mon: Connection to cluster failed: Connection refused",
    "trixie": "crm_mon exited with 102: crm_mon: Connection to cluster failed: Connection refused",
}


@BOTH
def test_facts_corosync_only(release):
    result = facts("corosync_only", release)
    assert result["corosync"]["running"] is True and result["corosync"]["qdevice"] is True
    assert result["pacemaker"]["running"] is False
    assert result["summary"] == ["pacemaker is not running on this host (%s)" % NOT_CONNECTED[release]]


@BOTH
def test_facts_corosync_stopped(release):
    result = facts("corosync_stopped", release)
    assert result["corosync"]["running"] is False
    assert result["corosync"]["error"] == "corosync-quorumtool exited with 1: Cannot initialize CMAP service"
    assert result["qdevice"] is None  # corosync cannot say whether one is configured
    assert result["pacemaker"]["running"] is False
    assert result["summary"] == [
        "corosync is not running or not reachable on this host "
        "(corosync-quorumtool exited with 1: Cannot initialize CMAP service)",
        "pacemaker is not running on this host (%s)" % NOT_CONNECTED[release],
    ]


@BOTH
def test_facts_corosync_stopped_qdevice_expected(release):
    result = facts("corosync_stopped", release, expect_qdevice=True)
    assert result["qdevice"]["running"] is False
    # corosync down already explains the rest; no separate qdevice line.
    assert not any("qdevice" in problem for problem in result["summary"])


def test_facts_corosync_ipc_failure():
    out = outputs("corosync_only")
    out["quorumtool"] = output("shm_full", "quorumtool")
    result = state.build_facts(out)
    assert result["corosync"]["running"] is False
    assert result["corosync"]["error"] == "corosync-quorumtool exited with 1: Cannot initialise CFG service"


@BOTH
def test_facts_two_node_without_qdevice(release):
    result = facts("two_node", release)
    assert result["qdevice"] is None
    assert result["corosync"]["qdevice"] is False
    assert result["corosync"]["flags"] == ["2Node", "Quorate", "WaitForAll"]
    assert result["summary"][0].startswith("pacemaker is not running")
    assert not any("qdevice" in problem for problem in result["summary"])


@BOTH
def test_facts_two_node_qdevice_expected(release):
    result = facts("two_node", release, expect_qdevice=True)
    assert "the qdevice vote is missing (corosync-qdevice is not running" in result["summary"][0]


@BOTH
def test_facts_pacemaker_without_dc(release):
    assert facts("pcmk_starting", release)["summary"] == [
        "pacemaker has not elected a DC (the cluster is not formed yet)"
    ]


def test_facts_tools_not_installed():
    result = state.build_facts({key: state_base.Output(None, "", "") for key in state.COMMANDS})
    assert result["summary"] == [
        "corosync is not running or not reachable on this host "
        "(corosync-quorumtool is not installed (Debian package corosync))",
        "pacemaker is not running on this host (crm_mon is not installed (Debian package pacemaker-cli-utils))",
    ]
    assert result["qdevice"] is None


# ---------------------------------------------------------------------------
# the module


class FakeTools:
    """run_command/get_bin_path answering from one fixture state of one release."""

    def __init__(self, state_name, missing=(), release="bookworm"):
        self.state_name = state_name
        self.missing = set(missing)
        self.captures = Captures(release)
        self.calls = []

    def get_bin_path(self, program, required=False, opt_dirs=None):
        return None if program in self.missing else "/usr/sbin/" + program

    def run_command(self, args, **kwargs):
        self.calls.append((list(args), kwargs.get("environ_update")))
        cmd = [os.path.basename(args[0])] + list(args[1:])
        key = [k for k, c in state.commands(state.CHECKS, "kvm", True).items() if c == cmd][0]
        if not self.captures.has(self.state_name, key):
            # States captured before pair_info read the CIB's fence targets have no cib_resources
            # fixture: answer as a failed cibadmin, the devices' names then tell their targets.
            assert key == "cib_resources", (self.state_name, key)
            return 1, "", "no fixture"
        out = self.captures.output(self.state_name, key)
        return out.rc, out.stdout, out.stderr

    def read_file(self, path):
        """/proc/drbd and /proc/net/bonding/BOND from the state's fixtures (None when not captured)."""
        return self.captures.reader(self.state_name)(path)


@pytest.fixture
def tools(monkeypatch):
    def install(state_name, missing=(), release="bookworm"):
        fake = FakeTools(state_name, missing, release)
        from ansible.module_utils.basic import AnsibleModule

        monkeypatch.setattr(AnsibleModule, "run_command", lambda self, args, **kw: fake.run_command(args, **kw))
        monkeypatch.setattr(pair_info, "read_file", fake.read_file)
        monkeypatch.setattr(
            AnsibleModule,
            "get_bin_path",
            lambda self, arg, required=False, opt_dirs=None: fake.get_bin_path(arg, required, opt_dirs),
        )
        return fake

    return install


@BOTH
def test_module_reports_state_without_failing(tools, run_module, release):
    fake = tools("link1_down", release=release)
    code, result = run_module(pair_info.main, {}, check_mode=True)
    assert code == 0
    assert result["changed"] is False
    assert result["healthy"] is False
    assert result["summary"] == ["link 1 to hv-west is down"]
    assert result["corosync"]["links_down"][0]["link"] == 1
    assert [call[0] for call in fake.calls] == [
        ["/usr/sbin/" + c[0]] + c[1:] for c in state.commands(state.CHECKS).values()
    ]
    assert all(call[1]["LANG"] == "C" and call[1]["LC_ALL"] == "C" for call in fake.calls)


@BOTH
def test_module_fail_on_unhealthy(tools, run_module, release):
    tools("qnetd_stopped", release=release)
    code, result = run_module(pair_info.main, {"fail_on_unhealthy": True})
    assert code == 1
    assert result["failed"] is True
    assert result["msg"].startswith("the qdevice vote is missing")
    assert result["corosync"]["quorate"] is True


@BOTH
def test_module_healthy_with_fail_on_unhealthy(tools, run_module, release):
    tools("healthy", release=release)
    code, result = run_module(pair_info.main, {"fail_on_unhealthy": True})
    assert code == 0 and result["healthy"] is True and result["summary"] == []


@BOTH
def test_module_missing_tools(tools, run_module, release):
    tools("corosync_stopped", missing=["crm_mon", "corosync-qdevice-tool"], release=release)
    code, result = run_module(pair_info.main, {})
    assert code == 0
    assert result["pacemaker"]["error"] == "crm_mon is not installed (Debian package pacemaker-cli-utils)"


def test_module_with_the_site_model_runs_every_reader(tools, run_module, monkeypatch):
    """The real-kernel capture of hv-east with the protected test VM (see test_state_components)."""
    from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import GUEST, PAIR

    fake = tools("vm_ha")
    monkeypatch.setattr(pair_info.platform, "node", lambda: "hv-east")
    code, result = run_module(pair_info.main, {"pair": PAIR, "host": "hv-east", "vms": GUEST}, check_mode=True)
    assert code == 0 and result["redundant"] is True and result["changed"] is False
    # The capture's vm-guest1 was made before live migration (no migration parameters at all):
    # pending, but no finding (migrate.yml refuses to move it live and says why).
    assert result["vms"][0]["migration_pending"] is True and result["vms"][0]["migration_ready"] is False
    assert [call[0][0].rsplit("/", 1)[1] for call in fake.calls] == [
        "corosync-quorumtool",
        "corosync-cfgtool",
        "corosync-cmapctl",
        "corosync-qdevice-tool",
        "crm_mon",
        "cibadmin",
        "drbdsetup",
        "drbdadm",
        "virsh",
        "virsh",
    ]
    assert result["vms"][0]["failover_to"] == "hv-west"
    assert result["mirror"]["resources"][0]["peer"] == "hv-west"
    assert result["network"]["bonds"][0]["members_up"] == ["ens4", "ens5"]


def test_module_host_needs_pair(tools, run_module):
    tools("healthy")
    code, result = run_module(pair_info.main, {"host": "hv-east"})
    assert code == 1 and "pair" in result["msg"]


# ---------------------------------------------------------------------------
# migration_pending: a VM resource whose live migration is not what the pair asks yet


@pytest.mark.parametrize(
    "params, tunnelled, pending",
    [
        ("", True, True),  # made before live migration (the capture itself): no finding, see below
        (
            '<nvpair id="a" name="migration_transport" value="ssh"/>'
            '<nvpair id="b" name="migration_network_suffix" value="-vmpair"/>',
            True,
            True,
        ),  # made before tunnelled migration
        (
            '<nvpair id="a" name="migration_transport" value="ssh"/>'
            '<nvpair id="b" name="migration_network_suffix" value="-vmpair"/>'
            '<nvpair id="c" name="migrate_options" value="--p2p --tunnelled --migrateuri="/>',
            True,
            False,
        ),
        (
            '<nvpair id="a" name="migration_transport" value="ssh"/>'
            '<nvpair id="b" name="migration_network_suffix" value="-vmpair"/>',
            False,
            False,
        ),
    ],
)
def test_a_vm_resource_with_other_migration_parameters_is_a_migration_pending_warning(params, tunnelled, pending):
    from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import (
        BOOKWORM,
        GUEST,
        PAIR,
    )

    cib = text("vm_ha", "cib_resources").replace(
        '<nvpair id="vm-guest1-instance_attributes-config"',
        params + '<nvpair id="vm-guest1-instance_attributes-config"',
    )
    outs = dict(BOOKWORM.outputs("vm_ha"), cib_resources=state_base.Output(0, cib, ""))
    kwargs = {"host": "hv-east", "vms": GUEST, "read": BOOKWORM.reader("vm_ha"), "uname": "hv-east"}
    result = state.build_facts(outs, pair=dict(PAIR, migration_tunnelled=tunnelled), **kwargs)
    assert result["vms"][0]["protected"] is True
    assert result["vms"][0]["migration_pending"] is pending
    found = [f for f in result["findings"] if "migration_pending" in f["message"]]
    assert [f["severity"] for f in found] == (["warning"] if pending and params else [])
    if found:
        assert found[0]["subject"] == "guest1"
        assert found[0]["message"].startswith("VM guest1: migration_pending: its resource vm-guest1 still has")
        assert "duplex.vmpair.failover -e vm=guest1" in found[0]["fix"]
    # without the CIB's resources (cibadmin failed) nothing is claimed
    outs["cib_resources"] = state_base.Output(1, "", "cibadmin: connection refused")
    assert state.build_facts(outs, pair=PAIR, **kwargs)["vms"][0]["migration_pending"] is None


def test_pair_info_reads_the_cib_s_resources_for_the_vms_check():
    assert state.commands(["vms"])["cib_resources"] == ["cibadmin", "--query", "--scope", "resources"]

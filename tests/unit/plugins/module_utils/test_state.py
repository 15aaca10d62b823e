# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of module_utils/state.py on outputs captured from a real cluster.

The fixtures in tests/unit/fixtures/state were captured with LANG=C on
Debian 12 (corosync 3.1.7, corosync-qdevice 3.0.3, Pacemaker 2.1.5) in a
podman lab: hv-east (node 1) and hv-west (node 2), two knet links
(172.31.120.0/24 = link 0, 172.31.121.0/24 = link 1) and a qnetd witness at
172.31.122.30 (model net, tls on, ffsplit). ``STATE_TOOL.txt`` is stdout,
``.stderr`` stderr (only when not empty) and ``.rc`` the exit code. Unless
the state name ends in ``_west`` the capture was taken on hv-east.

States: corosync_only (corosync + qdevice, pacemaker stopped), formed (no
fencing device yet), stonith (fence_ipmilan with an unreachable address that
failed to start, fence_dummy, a Dummy resource and a disabled one), healthy,
link1_down (link 1 interface down on hv-east), split / split_west (both links
down), qnetd_stopped, qdevice_stopped (corosync-qdevice stopped on hv-east),
standby (hv-west standby, hv-east maintenance), peer_stopped (hv-west left
cleanly), corosync_stopped (on a stopped node), two_node (two_node: 1, no
quorum device), pcmk_starting (no DC elected yet), shm_full (/dev/shm of the
container full: corosync runs but its IPC fails).
"""

import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils import state
from ansible_collections.duplex.vmpair.plugins.modules import pair_info

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "state")
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


def _read(name, default=""):
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        return default
    with open(path) as handle:
        return handle.read()


def text(state_name, tool):
    return _read("%s_%s.txt" % (state_name, tool))


def output(state_name, tool):
    return state.Output(
        int(_read("%s_%s.rc" % (state_name, tool))), text(state_name, tool), _read("%s_%s.stderr" % (state_name, tool))
    )


def outputs(state_name):
    return {key: output(state_name, key) for key in state.COMMANDS}


def facts(state_name, **kwargs):
    return state.build_facts(outputs(state_name), **kwargs)


def test_every_state_has_every_tool():
    for name in STATES:
        for key in state.COMMANDS:
            assert os.path.exists(os.path.join(FIXTURES, "%s_%s.rc" % (name, key))), (name, key)


# ---------------------------------------------------------------------------
# corosync-quorumtool -s


def test_quorumtool_healthy_with_qdevice():
    parsed = state.parse_quorumtool(text("healthy", "quorumtool"))
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


def test_quorumtool_on_the_other_node():
    parsed = state.parse_quorumtool(text("healthy_west", "quorumtool"))
    assert parsed["node_id"] == 2
    assert [(m["name"], m["local"]) for m in parsed["members"]] == [("hv-east", False), ("hv-west", True)]


def test_quorumtool_losing_side_of_a_split():
    # Exit code 2 with the full status: not quorate is a state, not an error.
    assert output("split_west", "quorumtool").rc == state.QUORUMTOOL_NOT_QUORATE
    parsed = state.parse_quorumtool(text("split_west", "quorumtool"))
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


def test_quorumtool_winning_side_of_a_split():
    assert output("split", "quorumtool").rc == 0
    parsed = state.parse_quorumtool(text("split", "quorumtool"))
    assert parsed["quorate"] is True
    assert parsed["total_votes"] == 2
    assert [m["name"] for m in parsed["members"]] == ["hv-east"]
    assert parsed["qdevice_votes"] == 1


def test_quorumtool_qnetd_stopped_withdraws_the_vote():
    parsed = state.parse_quorumtool(text("qnetd_stopped", "quorumtool"))
    assert parsed["quorate"] is True
    assert parsed["total_votes"] == 2
    assert [m["qdevice_flags"] for m in parsed["members"]] == [["A", "NV", "NMW"], ["A", "NV", "NMW"]]
    assert parsed["qdevice_votes"] == 0


def test_quorumtool_qdevice_daemon_stopped_is_not_registered():
    parsed = state.parse_quorumtool(text("qdevice_stopped", "quorumtool"))
    assert parsed["flags"] == ["Quorate"]
    assert parsed["members"][0]["qdevice_flags"] == ["NR"]
    assert parsed["members"][1]["qdevice_flags"] == ["A", "V", "NMW"]
    assert parsed["qdevice_votes"] == 0


def test_quorumtool_two_node_has_no_qdevice_column():
    parsed = state.parse_quorumtool(text("two_node", "quorumtool"))
    assert parsed["flags"] == ["2Node", "Quorate", "WaitForAll"]
    assert (parsed["expected_votes"], parsed["quorum"]) == (2, 1)
    assert parsed["members"] == [
        {"nodeid": 1, "votes": 1, "qdevice_flags": [], "name": "hv-east", "local": True},
        {"nodeid": 2, "votes": 1, "qdevice_flags": [], "name": "hv-west", "local": False},
    ]
    assert parsed["qdevice_votes"] is None


# ---------------------------------------------------------------------------
# corosync-cfgtool -s


def test_cfgtool_healthy():
    parsed = state.parse_cfgtool(text("healthy", "cfgtool"))
    assert parsed["node_id"] == 1
    assert parsed["transport"] == "knet"
    assert parsed["links"] == [
        {
            "id": 0,
            "transport": "udp",
            "address": "172.31.120.11",
            "peers": [{"nodeid": 2, "status": "connected", "connected": True}],
        },
        {
            "id": 1,
            "transport": "udp",
            "address": "172.31.121.11",
            "peers": [{"nodeid": 2, "status": "connected", "connected": True}],
        },
    ]


def test_cfgtool_link_down_seen_from_both_sides():
    assert output("link1_down", "cfgtool").rc == 0  # rc stays 0 with a link down
    east = state.parse_cfgtool(text("link1_down", "cfgtool"))["links"]
    assert [(link["id"], [p["connected"] for p in link["peers"]]) for link in east] == [(0, [True]), (1, [False])]
    assert east[1]["peers"][0]["status"] == "disconnected"
    west = state.parse_cfgtool(text("link1_down_west", "cfgtool"))
    assert west["node_id"] == 2
    assert west["links"][1]["address"] == "172.31.121.12"
    assert west["links"][1]["peers"] == [{"nodeid": 1, "status": "disconnected", "connected": False}]


def test_cfgtool_lists_stopped_peer():
    links = state.parse_cfgtool(text("peer_stopped", "cfgtool"))["links"]
    assert [link["peers"] for link in links] == [[{"nodeid": 2, "status": "disconnected", "connected": False}]] * 2


# ---------------------------------------------------------------------------
# corosync-qdevice-tool -sv and corosync-cmapctl


def test_qdevice_tool_connected_and_voting():
    parsed = state.parse_qdevice_tool(text("healthy", "qdevicetool"))
    assert parsed["model"] == "net"
    assert parsed["node_id"] == 1
    assert parsed["cluster_name"] == "stcap"
    assert (parsed["qnetd_host"], parsed["qnetd_port"]) == ("172.31.122.30", 5403)
    assert parsed["algorithm"] == "Fifty-Fifty split"
    assert parsed["tie_breaker"] == "Node with lowest node ID"
    assert parsed["state"] == "Connected"
    assert parsed["connected"] is True
    assert parsed["tls_active"] is True
    assert parsed["cast_vote"] is True
    assert parsed["quorate"] is True


def test_qdevice_tool_qnetd_stopped():
    parsed = state.parse_qdevice_tool(text("qnetd_stopped", "qdevicetool"))
    assert parsed["state"] == "Connect failed"
    assert parsed["connected"] is False
    assert parsed["cast_vote"] is False
    assert parsed["tls_active"] is None  # not printed while disconnected


def test_qdevice_tool_connected_but_vote_refused():
    parsed = state.parse_qdevice_tool(text("split_west", "qdevicetool"))
    assert parsed["connected"] is True
    assert parsed["cast_vote"] is False
    assert parsed["quorate"] is False


def test_cmap_value():
    assert state.parse_cmap_value(text("healthy", "cmapctl_device")) == "net"
    assert state.parse_cmap_value(text("two_node", "cmapctl_device")) is None
    assert "CS_ERR_NOT_EXIST" in output("two_node", "cmapctl_device").stderr


# ---------------------------------------------------------------------------
# crm_mon --output-as=xml


def test_crm_mon_healthy():
    parsed = state.parse_crm_mon(text("healthy", "crm_mon"))
    assert parsed["status_code"] == 0
    assert parsed["pacemakerd_state"] == "running"
    assert parsed["dc"] == "hv-west"
    assert parsed["have_quorum"] is True
    assert parsed["stonith_enabled"] is True
    assert parsed["maintenance_mode"] is False
    assert [
        (n["name"], n["id"], n["online"], n["standby"], n["maintenance"], n["unclean"], n["is_dc"])
        for n in parsed["nodes"]
    ] == [("hv-east", 1, True, False, False, False, False), ("hv-west", 2, True, False, False, False, True)]
    assert parsed["stonith"] == [
        {
            "id": "f-west",
            "agent": "fence_dummy",
            "active": True,
            "role": "Started",
            "failed": False,
            "target_role": None,
            "node": "hv-east",
        },
        {
            "id": "f-east",
            "agent": "fence_dummy",
            "active": True,
            "role": "Started",
            "failed": False,
            "target_role": None,
            "node": "hv-west",
        },
    ]
    assert [
        (r["id"], r["agent"], r["role"], r["target_role"], r["active"], r["nodes"]) for r in parsed["resources"]
    ] == [
        ("vm-test", "ocf:pacemaker:Dummy", "Started", None, True, ["hv-west"]),
        ("vm-off", "ocf:pacemaker:Dummy", "Stopped", "Stopped", False, []),
    ]
    assert (parsed["resources_configured"], parsed["resources_disabled"], parsed["resources_blocked"]) == (4, 1, 0)
    assert parsed["failures"] == []


def test_crm_mon_failed_fence_device():
    parsed = state.parse_crm_mon(text("stonith", "crm_mon"))
    assert parsed["stonith"][0] == {
        "id": "f-east",
        "agent": "fence_ipmilan",
        "active": False,
        "role": "Stopped",
        "failed": False,
        "target_role": None,
        "node": None,
    }
    assert [
        (f["resource"], f["node"], f["task"], f["exitstatus"], f["exitcode"], f["interval_ms"])
        for f in parsed["failures"]
    ] == [("f-east", "hv-west", "start", "error", 1, 0), ("f-east", "hv-east", "start", "error", 1, 0)]


def test_crm_mon_no_resources_element():
    parsed = state.parse_crm_mon(text("formed", "crm_mon"))
    assert parsed["stonith"] == [] and parsed["resources"] == []
    assert parsed["resources_configured"] == 0


def test_crm_mon_split_winner_fenced_the_peer():
    parsed = state.parse_crm_mon(text("split", "crm_mon"))
    assert parsed["dc"] == "hv-east"
    west = parsed["nodes"][1]
    assert (west["name"], west["online"], west["unclean"]) == ("hv-west", False, False)
    assert parsed["fence_events"][0]["target"] == "hv-west"
    assert parsed["fence_events"][0]["status"] == "success"


def test_crm_mon_split_loser():
    parsed = state.parse_crm_mon(text("split_west", "crm_mon"))
    assert parsed["dc"] == "hv-west"
    assert parsed["have_quorum"] is False
    assert parsed["nodes"][0]["unclean"] is True


def test_crm_mon_standby_and_maintenance():
    nodes = {n["name"]: n for n in state.parse_crm_mon(text("standby", "crm_mon"))["nodes"]}
    assert nodes["hv-west"]["standby"] is True and nodes["hv-west"]["maintenance"] is False
    assert nodes["hv-east"]["maintenance"] is True and nodes["hv-east"]["standby"] is False


def test_crm_mon_no_dc_yet():
    parsed = state.parse_crm_mon(text("pcmk_starting", "crm_mon"))
    assert parsed["dc"] is None
    assert parsed["have_quorum"] is False
    # Before a DC exists every node shows offline and unclean.
    assert [(n["online"], n["unclean"]) for n in parsed["nodes"]] == [(False, True), (False, True)]


def test_crm_mon_not_connected():
    out = output("corosync_stopped", "crm_mon")
    assert out.rc == state.CRM_MON_NOT_CONNECTED
    parsed = state.parse_crm_mon(out.stdout)
    assert parsed["status_code"] == 102
    assert parsed["status_message"] == "Not connected"
    assert "nodes" not in parsed
    assert parsed["errors"][-1] == "crm_mon: Connection to cluster failed: Connection refused"


def test_crm_mon_not_xml():
    with pytest.raises(ValueError):
        state.parse_crm_mon("Could not connect")


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
    parsed = state.parse_crm_mon(xml)
    assert parsed["resources"][0]["parent"] == "g1"
    assert parsed["resources"][0]["failed"] is True
    assert parsed["failures"][0]["resource"] == "vm_data_1"
    assert parsed["failures"][0]["exitreason"] == "gone"


# ---------------------------------------------------------------------------
# build_facts and the problems


def test_facts_healthy():
    result = facts("healthy")
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
    assert pacemaker["running"] is True and pacemaker["dc"] == "hv-west"
    assert pacemaker["resources"]["configured"] == 4
    assert [r["id"] for r in pacemaker["resources"]["items"]] == ["vm-test", "vm-off"]


def test_facts_link_down():
    result = facts("link1_down")
    assert result["corosync"]["links_connected"] is False
    assert result["corosync"]["links_down"] == [{"link": 1, "nodeid": 2, "name": "hv-west", "status": "disconnected"}]
    assert result["summary"] == ["link 1 to hv-west is down"]
    assert result["healthy"] is False


def test_facts_qnetd_stopped():
    result = facts("qnetd_stopped")
    assert result["corosync"]["qdevice"] is False
    assert result["corosync"]["quorate"] is True
    assert result["qdevice"]["state"] == "Connect failed"
    assert result["summary"] == [
        "the qdevice vote is missing (qdevice is not connected to qnetd at 172.31.122.30:5403, state: Connect failed)"
    ]


def test_facts_qdevice_daemon_stopped():
    result = facts("qdevice_stopped")
    assert result["qdevice"]["running"] is False
    assert result["summary"] == [
        "the qdevice vote is missing (corosync-qdevice is not running: corosync-qdevice-tool exited with 3: "
        "corosync-qdevice-tool: Can't connect to QDevice socket (is QDevice running?): No such file or directory)"
    ]


def test_facts_stonith_device_failed():
    assert facts("stonith")["summary"] == [
        "fencing device f-east (fence_ipmilan) is not running",
        "start of f-east failed on hv-west (error)",
        "start of f-east failed on hv-east (error)",
    ]


def test_facts_no_fencing_device():
    assert facts("formed")["summary"] == ["no fencing device configured"]


def test_facts_split_winner():
    result = facts("split")
    assert result["summary"] == [
        "node hv-west is not a corosync member",
        "link 0 to hv-west is down",
        "link 1 to hv-west is down",
        "node hv-west is offline",
        "fencing device f-east (fence_dummy) is not running",
    ]


def test_facts_split_loser():
    result = facts("split_west")
    assert result["corosync"]["quorate"] is False
    assert result["summary"][:5] == [
        "this node's partition is not quorate (1 of 2 needed votes)",
        "node hv-east is not a corosync member",
        "link 0 to hv-east is down",
        "link 1 to hv-east is down",
        "the qdevice vote is missing (qnetd at 172.31.122.30:5403 did not give the vote to this partition)",
    ]
    assert "the pacemaker partition has no quorum" in result["summary"]
    assert "node hv-east is unclean (it must be fenced)" in result["summary"]


def test_facts_standby_and_maintenance():
    # f-east may not run on hv-east (location ban) and hv-west is in standby: really stopped.
    assert facts("standby")["summary"] == [
        "node hv-east is in maintenance mode",
        "node hv-west is in standby",
        "fencing device f-east (fence_dummy) is not running",
    ]


def test_facts_peer_stopped_names_the_peer_from_pacemaker():
    result = facts("peer_stopped")
    assert result["corosync"]["links_down"][0]["name"] == "hv-west"
    assert result["summary"][:4] == [
        "node hv-west is not a corosync member",
        "link 0 to hv-west is down",
        "link 1 to hv-west is down",
        "node hv-west is offline",
    ]


def test_facts_corosync_only():
    result = facts("corosync_only")
    assert result["corosync"]["running"] is True and result["corosync"]["qdevice"] is True
    assert result["pacemaker"]["running"] is False
    assert result["summary"] == [
        "pacemaker is not running on this host (crm_mon exited with 102: error: Could not connect to launcher: "
        "Connection refused; crm_mon: Connection to cluster failed: Connection refused)"
    ]


def test_facts_corosync_stopped():
    result = facts("corosync_stopped")
    assert result["corosync"]["running"] is False
    assert result["corosync"]["error"] == "corosync-quorumtool exited with 1: Cannot initialize CMAP service"
    assert result["qdevice"] is None  # corosync cannot say whether one is configured
    assert result["pacemaker"]["running"] is False
    assert result["summary"][0] == (
        "corosync is not running or not reachable on this host "
        "(corosync-quorumtool exited with 1: Cannot initialize CMAP service)"
    )
    assert len(result["summary"]) == 2


def test_facts_corosync_stopped_qdevice_expected():
    result = facts("corosync_stopped", expect_qdevice=True)
    assert result["qdevice"]["running"] is False
    # corosync down already explains the rest; no separate qdevice line.
    assert not any("qdevice" in problem for problem in result["summary"])


def test_facts_corosync_ipc_failure():
    out = outputs("corosync_only")
    out["quorumtool"] = output("shm_full", "quorumtool")
    result = state.build_facts(out)
    assert result["corosync"]["running"] is False
    assert result["corosync"]["error"] == "corosync-quorumtool exited with 1: Cannot initialise CFG service"


def test_facts_two_node_without_qdevice():
    result = facts("two_node")
    assert result["qdevice"] is None
    assert result["corosync"]["qdevice"] is False
    assert result["corosync"]["flags"] == ["2Node", "Quorate", "WaitForAll"]
    assert result["summary"][0].startswith("pacemaker is not running")
    assert not any("qdevice" in problem for problem in result["summary"])


def test_facts_two_node_qdevice_expected():
    result = facts("two_node", expect_qdevice=True)
    assert "the qdevice vote is missing (corosync-qdevice is not running" in result["summary"][0]


def test_facts_pacemaker_without_dc():
    assert facts("pcmk_starting")["summary"] == ["pacemaker has not elected a DC (the cluster is not formed yet)"]


def test_facts_tools_not_installed():
    result = state.build_facts({key: state.Output(None, "", "") for key in state.COMMANDS})
    assert result["summary"] == [
        "corosync is not running or not reachable on this host "
        "(corosync-quorumtool is not installed (Debian package corosync))",
        "pacemaker is not running on this host (crm_mon is not installed (Debian package pacemaker-cli-utils))",
    ]
    assert result["qdevice"] is None


# ---------------------------------------------------------------------------
# the module


class FakeTools:
    """run_command/get_bin_path answering from one fixture state."""

    def __init__(self, state_name, missing=()):
        self.state_name = state_name
        self.missing = set(missing)
        self.calls = []

    def get_bin_path(self, program, required=False, opt_dirs=None):
        return None if program in self.missing else "/usr/sbin/" + program

    def run_command(self, args, **kwargs):
        self.calls.append((list(args), kwargs.get("environ_update")))
        cmd = [os.path.basename(args[0])] + list(args[1:])
        key = [k for k, c in state.commands(state.CHECKS, "kvm", True).items() if c == cmd][0]
        if not os.path.exists(os.path.join(FIXTURES, "%s_%s.rc" % (self.state_name, key))):
            # States captured before pair_info read the CIB's fence targets have no cib_resources
            # fixture: answer as a failed cibadmin, the devices' names then tell their targets.
            assert key == "cib_resources", (self.state_name, key)
            return 1, "", "no fixture"
        out = output(self.state_name, key)
        return out.rc, out.stdout, out.stderr

    def read_file(self, path):
        """/proc/drbd and /proc/net/bonding/BOND from the state's fixtures (None when not captured)."""
        name = {"/proc/drbd": "proc_drbd"}.get(path) or "bonding_" + os.path.basename(path)
        fixture = os.path.join(FIXTURES, "%s_%s.txt" % (self.state_name, name))
        return _read(os.path.basename(fixture)) if os.path.exists(fixture) else None


@pytest.fixture
def tools(monkeypatch):
    def install(state_name, missing=()):
        fake = FakeTools(state_name, missing)
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


def test_module_reports_state_without_failing(tools, run_module):
    fake = tools("link1_down")
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


def test_module_fail_on_unhealthy(tools, run_module):
    tools("qnetd_stopped")
    code, result = run_module(pair_info.main, {"fail_on_unhealthy": True})
    assert code == 1
    assert result["failed"] is True
    assert result["msg"].startswith("the qdevice vote is missing")
    assert result["corosync"]["quorate"] is True


def test_module_healthy_with_fail_on_unhealthy(tools, run_module):
    tools("healthy")
    code, result = run_module(pair_info.main, {"fail_on_unhealthy": True})
    assert code == 0 and result["healthy"] is True and result["summary"] == []


def test_module_missing_tools(tools, run_module):
    tools("corosync_stopped", missing=["crm_mon", "corosync-qdevice-tool"])
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

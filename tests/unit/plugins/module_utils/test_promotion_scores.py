# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the cluster runs a VM when one host's copy is not UpToDate, on Pacemaker's own scheduler.

The DRBD agent sets a node attribute ``master-drbd-NAME`` on each host from DRBD's state (its
``adjust_master_score`` parameter: vm_objects.PROMOTION_SCORES). These tests set the attribute as
the agent would (crm_attribute) on the running pair of conftest.py and let crm_simulate plan: a
host whose disk failed and was detached scores ONLY_REMOTE_SCORE, its UpToDate peer BEST_SCORE.
The agent itself is not run (crm_simulate fakes every action); the real-kernel lab's disk failure
test proves the agent gives these scores.
"""

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    WEST,
    inject_scores,
    simulate,
    status,
    tool,
    vm,
)
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_vm_move import move

AGENT_DEFAULT_ONLY_REMOTE = 10  # ocf:linbit:drbd's adjust_master_score default is "0 10 1000 10000"


def scores(path, failed, score=vm_objects.ONLY_REMOTE_SCORE):
    """vm1's scores as the agent sets them: ``score`` on ``failed`` (its disk failed or still syncs), the best on the other."""
    inject_scores(path, ["vm1"], nodes=(failed,), score=score)
    inject_scores(path, ["vm1"], nodes=({EAST, WEST} - {failed}))


def test_the_drbd_resource_asks_the_agent_for_these_scores():
    wanted = vm_objects.desired_objects(vm("vm1"))
    assert wanted["drbd"]["instance"]["adjust_master_score"] == "0 9000 9000 10000"
    assert wanted["vm"]["meta"]["resource-stickiness"] == "1000"


def test_a_vm_whose_disk_failed_on_its_preferred_host_runs_on_there(running, tmp_path):
    scores(running, failed=EAST)
    graph, _out = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == []
    assert graph.resource_ops("drbd-vm1") == []


def test_with_the_agent_s_default_scores_the_cluster_would_restart_it_on_the_peer(running, tmp_path):
    # What the lab showed before PROMOTION_SCORES: the VM stopped and started cold on the peer.
    scores(running, failed=EAST, score=AGENT_DEFAULT_ONLY_REMOTE)
    graph, _out = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == [("start", WEST), ("stop", EAST)]
    assert graph.before(graph.one("stop", "vm-vm1", EAST), graph.one("promote", "drbd-vm1", WEST))


def test_a_vm_whose_disk_failed_on_the_host_it_failed_over_to_runs_on_there(running, tmp_path):
    # After a failover the VM runs away from its preferred host (score 100 there): still it stays.
    move(running, tmp_path, [vm("vm1", move_to=WEST)])
    move(running, tmp_path, [vm("vm1")])
    assert status(running)["vm-vm1"] == {WEST: "Started"}
    scores(running, failed=WEST)
    graph, _out = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == []
    assert graph.resource_ops("drbd-vm1") == []


def test_a_vm_that_starts_goes_where_its_data_is_local_not_to_its_preferred_host(running, tmp_path):
    # Both copies Secondary and the VM stopped (a cluster started cold, or the VM stopped by hand),
    # the preferred host's copy still syncing from the peer: the VM starts on the peer.
    tool("crm_resource", "-r", "vm-vm1", "--meta", "-p", "target-role", "-v", "Stopped", cib=running)
    tool("crm_resource", "-r", "drbd-vm1-clone", "--meta", "-p", "target-role", "-v", "Unpromoted", cib=running)
    simulate(running, tmp_path, save=running)
    assert "Started" not in status(running).get("vm-vm1", {}).values()
    assert "Promoted" not in status(running)["drbd-vm1"].values()
    tool("crm_resource", "-r", "vm-vm1", "--meta", "-d", "target-role", cib=running)
    tool("crm_resource", "-r", "drbd-vm1-clone", "--meta", "-d", "target-role", cib=running)
    scores(running, failed=EAST)
    graph, _out = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == [("start", WEST)]
    assert graph.resource_ops("drbd-vm1") == [("promote", WEST)]

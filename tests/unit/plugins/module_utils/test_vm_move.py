# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving a protected VM through the cluster (vm_cib with move_to / live), on the real scheduler.

Each test starts from the running pair of conftest.py (vm1 ha on hv-east, vm2 ha on hv-west, vm3
recovery on hv-east), pushes the move with ensure_vms_present, lets crm_simulate carry out the
transition, then pushes the VM's normal objects again (the end of the move) and checks what the
cluster does with each push. Pacemaker's DRBD agent (which refuses promoted-max=2 unless the DRBD
resource allows two primaries) is not run: crm_simulate fakes every action's success, so these
tests prove the cluster's plan, and the real-kernel lab proves DRBD and libvirt. The last tests
follow maintenance.yml: the moves of enter, the standby (crm_attribute, what pcs node standby
sets) and the way back.
"""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects as vm_cib_objects
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_present as vm_cib
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    WEST,
    runner_for,
    simulate,
    status,
    tool,
    vm,
)


def move(path, tmp_path, vms):
    """Push ``vms``, carry out the transition; return (graph, commands) and save the result in ``path``."""
    result = vm_cib.ensure_vms_present(runner_for(path), vms)
    graph, _output = simulate(path, tmp_path, save=path)
    return graph, result.commands


def test_live_move_promotes_the_target_then_migrates_and_the_end_demotes_the_source(running, tmp_path):
    graph, commands = move(running, tmp_path, [vm("vm1", move_to=WEST, live=True)])
    assert commands == [
        ["pcs", "resource", "meta", "drbd-vm1-clone", "promoted-max=2"],
        ["pcs", "resource", "meta", "vm-vm1", "allow-migrate=true"],
        ["pcs", "constraint", "delete", "location-vm-vm1"],
        ["pcs", "constraint", "location", "add", "location-vm-vm1", "vm-vm1", WEST, "INFINITY"],
    ]
    promote = graph.one("promote", "drbd-vm1", WEST)
    migrate_to = graph.one("migrate_to", "vm-vm1", EAST)
    migrate_from = graph.one("migrate_from", "vm-vm1", WEST)
    assert graph.before(promote, migrate_to) and graph.before(migrate_to, migrate_from)
    # migrated, not restarted: no start of the VM anywhere, and the source stays promoted meanwhile
    assert not graph.has("start", "vm-vm1") and not graph.has("demote", "drbd-vm1")
    # the other VMs are left alone
    assert graph.resource_ops("vm-vm2") == [] and graph.resource_ops("vm-vm3") == []
    assert status(running)["vm-vm1"] == {WEST: "Started"}

    graph, commands = move(running, tmp_path, [vm("vm1")])
    assert commands[-1] == ["pcs", "constraint", "location", "add", "location-vm-vm1", "vm-vm1", EAST, "100"]
    assert graph.resource_ops("drbd-vm1") == [("demote", EAST)]
    assert graph.resource_ops("vm-vm1") == []
    # an ha VM keeps its preferred host (score 100) below the stickiness (1000): it stays
    graph, _output = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == [] and graph.resource_ops("drbd-vm1") == []
    assert status(running)["drbd-vm1"] == {EAST: "Unpromoted", WEST: "Promoted"}


def test_live_move_of_a_recovery_vm_rehomes_it_without_a_restart(running, tmp_path):
    graph, commands = move(running, tmp_path, [vm("vm3", level="recovery", host=WEST, move_to=WEST, live=True)])
    # the promote-only rule would keep the target from being promoted: it is left out while moving
    assert ["pcs", "constraint", "delete", "location-drbd-vm3-promote-only"] in commands
    promote = graph.one("promote", "drbd-vm3", WEST)
    assert graph.before(promote, graph.one("migrate_to", "vm-vm3", EAST))
    assert not graph.has("start", "vm-vm3")

    graph, _commands = move(running, tmp_path, [vm("vm3", level="recovery", host=WEST)])
    assert graph.resource_ops("drbd-vm3") == [("demote", EAST)] and graph.resource_ops("vm-vm3") == []
    assert status(running)["vm-vm3"] == {WEST: "Started"}


def test_cold_move_of_a_running_ha_vm_stops_demotes_promotes_and_starts_in_order(running, tmp_path):
    # A preference alone (score 100) is below the stickiness (1000): it moves nothing.
    graph, _commands = move(running, tmp_path, [vm("vm1", host=WEST)])
    assert graph.resource_ops("vm-vm1") == []
    graph, commands = move(running, tmp_path, [vm("vm1", move_to=WEST)])
    assert commands[-1] == ["pcs", "constraint", "location", "add", "location-vm-vm1", "vm-vm1", WEST, "INFINITY"]
    stop = graph.one("stop", "vm-vm1", EAST)
    demote = graph.one("demote", "drbd-vm1", EAST)
    promote = graph.one("promote", "drbd-vm1", WEST)
    start = graph.one("start", "vm-vm1", WEST)
    assert graph.before(stop, demote) and graph.before(demote, promote) and graph.before(promote, start)
    assert not graph.has("migrate_to")
    graph, _commands = move(running, tmp_path, [vm("vm1")])
    assert graph.resource_ops("vm-vm1") == [] and graph.resource_ops("drbd-vm1") == []


def test_moving_a_vm_already_on_the_target_changes_nothing_in_the_cluster(running, tmp_path):
    graph, _commands = move(running, tmp_path, [vm("vm2", host=WEST, move_to=WEST)])
    assert graph.resource_ops("vm-vm2") == [] and graph.resource_ops("drbd-vm2") == []


def test_migration_operations_added_to_a_running_vm_do_not_restart_it(running, tmp_path):
    # A VM protected before live migration existed has no migrate_to/migrate_from operations.
    for op in ("migrate_to", "migrate_from"):
        vm_cib_run = runner_for(running)
        vm_cib_run.run(["pcs", "-f", running, "resource", "op", "delete", "vm-vm1", op])
    result = vm_cib.ensure_vms_present(runner_for(running), [vm("vm1")])
    assert [c[:5] for c in result.commands] == [["pcs", "resource", "op", "add", "vm-vm1"]] * 2
    graph, _output = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == []


def test_a_vm_protected_before_live_migration_keeps_its_parameters_and_runs_on(running, tmp_path):
    # Its resource has no migration parameters; adding them would restart the VM (no reload).
    runner_for(running).run(
        ["pcs", "-f", running, "resource", "update", "vm-vm1", "migration_transport=", "migration_network_suffix="]
    )
    simulate(running, tmp_path, save=running)
    result = vm_cib.ensure_vms_present(runner_for(running), [vm("vm1")])
    assert not result.changed, result.commands
    graph, _output = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == []


@pytest.mark.parametrize("kwargs, message", [({"live": True}, "live needs move_to")])
def test_live_without_a_target_is_refused(kwargs, message):
    with pytest.raises(vm_cib_objects.VmCibError, match=message):
        vm("vm1", **kwargs)


def test_a_target_that_is_not_a_node_is_refused(running):
    with pytest.raises(vm_cib_objects.VmCibError, match="move_to hv-north is not a cluster node"):
        vm_cib.ensure_vms_present(runner_for(running), [vm("vm1", move_to="hv-north")])


def standby(path, node, on=True):
    """What maintenance.yml's ``pcs node standby|unstandby NODE`` sets in the CIB."""
    tool("crm_attribute", "--node", node, "--name", "standby", "--update", "on" if on else "off", cib=str(path))


def test_maintenance_enter_moves_the_host_s_vms_live_then_standby_stops_only_its_drbd(running, tmp_path):
    # maintenance.yml enter on hv-east: vm1 (ha) and vm3 (recovery) run there; each moves live to
    # hv-west and its move is ended, one at a time, then hv-east goes into standby.
    for name, home in (("vm1", {}), ("vm3", {"level": "recovery", "host": WEST})):
        graph, _commands = move(running, tmp_path, [vm(name, move_to=WEST, live=True, **home)])
        assert graph.has("migrate_to", "vm-" + name, EAST) and not graph.has("start", "vm-" + name)
        move(running, tmp_path, [vm(name, **home)])
    assert {name: status(running)["vm-" + name] for name in ("vm1", "vm2", "vm3")} == {
        "vm1": {WEST: "Started"},
        "vm2": {WEST: "Started"},
        "vm3": {WEST: "Started"},
    }
    standby(running, EAST)
    graph, _output = simulate(running, tmp_path, save=running)
    # no VM is stopped, started or moved: only hv-east's (Unpromoted) DRBD instances stop
    assert [graph.resource_ops("vm-" + name) for name in ("vm1", "vm2", "vm3")] == [[], [], []]
    assert [graph.resource_ops("drbd-" + name) for name in ("vm1", "vm2", "vm3")] == [[("stop", EAST)]] * 3

    # exit: out of standby, DRBD starts again on hv-east as a copy; the VMs stay where they run
    standby(running, EAST, on=False)
    graph, _output = simulate(running, tmp_path, save=running)
    assert [graph.resource_ops("vm-" + name) for name in ("vm1", "vm2", "vm3")] == [[], [], []]
    assert [graph.resource_ops("drbd-" + name) for name in ("vm1", "vm2", "vm3")] == [[("start", EAST)]] * 3


def test_standby_with_a_vm_still_on_the_node_restarts_it_which_enter_refuses_to_do(running, tmp_path):
    # Why maintenance.yml moves every VM first and checks none is left before the standby.
    standby(running, EAST)
    graph, _output = simulate(running, tmp_path)
    assert ("stop", EAST) in graph.resource_ops("vm-vm1") and ("start", WEST) in graph.resource_ops("vm-vm1")
    assert not graph.has("migrate_to", "vm-vm1")


# ---------------------------------------------------------------------------
# how a live migration travels: tunnelled through libvirt's ssh connection (migrate_options)


def _plain(path):
    """Make vm-vm1 what a resource made before tunnelled migration is: no migrate_options."""
    runner_for(path).run(["pcs", "-f", path, "resource", "update", "vm-vm1", "migrate_options="])


def test_a_new_vm_migrates_tunnelled_and_a_plain_one_over_qemu_tcp(cib):
    result = vm_cib.ensure_vms_present(runner_for(cib), [vm("t1"), vm("p1", migration_tunnelled=False)])
    assert result.data["migration_pending"] == []
    root = ET.parse(cib).getroot()
    tunnelled = vm_cib_objects.read_vm_objects(root, "t1")["vm"]["instance"]
    plain = vm_cib_objects.read_vm_objects(root, "p1")["vm"]["instance"]
    assert tunnelled["migrate_options"] == "--p2p --tunnelled --migrateuri="
    assert tunnelled["migration_transport"] == "ssh" and tunnelled["migration_network_suffix"] == "-vmpair"
    assert "migrate_options" not in plain and plain["migration_transport"] == "ssh"
    tool("crm_verify", "-x", cib)


def test_changing_the_migration_options_of_a_running_vm_restarts_it(running, tmp_path):
    # Why an existing resource is not converted in place: VirtualDomain has no reload.
    _plain(running)
    graph, _output = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == [("start", EAST), ("stop", EAST)]


def test_an_existing_plain_resource_is_left_running_and_reported_pending(running, tmp_path):
    _plain(running)
    simulate(running, tmp_path, save=running)
    result = vm_cib.ensure_vms_present(runner_for(running), [vm("vm1"), vm("vm2", host=WEST)])
    assert not result.changed, result.commands
    assert result.data["migration_pending"] == ["vm1"]
    # a live move keeps it as it is too (a parameter change would restart it instead of migrating it)
    graph, commands = move(running, tmp_path, [vm("vm1", move_to=WEST, live=True)])
    assert not any(c[:3] == ["pcs", "resource", "update"] for c in commands)
    assert graph.has("migrate_to", "vm-vm1", EAST) and not graph.has("start", "vm-vm1")


def test_a_cold_move_with_migration_update_converts_it_without_another_restart(running, tmp_path):
    _plain(running)
    simulate(running, tmp_path, save=running)
    result = vm_cib.ensure_vms_present(runner_for(running), [vm("vm1", move_to=WEST, migration_update=True)])
    assert ["pcs", "resource", "update", "vm-vm1", "migrate_options=--p2p --tunnelled --migrateuri="] in result.commands
    assert result.data["migration_pending"] == []
    graph, _output = simulate(running, tmp_path, save=running)
    assert graph.resource_ops("vm-vm1") == [("start", WEST), ("stop", EAST)]


def test_opting_out_leaves_a_tunnelled_resource_alone_until_asked(running, tmp_path):
    result = vm_cib.ensure_vms_present(runner_for(running), [vm("vm1", migration_tunnelled=False)])
    assert not result.changed and result.data["migration_pending"] == ["vm1"]
    result = vm_cib.ensure_vms_present(
        runner_for(running), [vm("vm1", migration_tunnelled=False, migration_update=True)]
    )
    assert result.commands == [["pcs", "resource", "update", "vm-vm1", "migrate_options="]]
    assert result.data["migration_pending"] == []


def test_migration_pending_compares_every_migration_parameter():
    tunnelled = vm_cib_objects.migration_params(True)
    assert not vm_cib_objects.migration_pending(tunnelled, True)
    assert vm_cib_objects.migration_pending(tunnelled, False)
    assert vm_cib_objects.migration_pending({"migration_transport": "ssh"}, True)
    assert vm_cib_objects.migration_pending({}, False)

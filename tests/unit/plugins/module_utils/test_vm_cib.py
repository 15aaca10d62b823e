# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.pacemaker (vm_present and the other vm_ modules) against the real, offline pcs, crm_verify and crm_simulate.

A pair CIB (two nodes online, quorate, stonith enabled, one fence_ipmilan
device per host made by module_utils.pcs exactly like the cluster role) is
built once; every test works on its own copy. crm_simulate runs the real
Pacemaker scheduler on it: placement, host loss, monitor failure, standby and
removal are checked on the transition graph it produces (``--save-graph``),
so "A before B" means B depends on A in the graph, not just printing order.
"""

import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import cib as pacemaker_cib
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects as vm_cib_objects
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_present as vm_cib
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_remove as vm_cib_remove
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    PAIR_VMS,
    WEST,
    FakeModule,
    inject_scores,
    runner_for,
    simulate,
    status,
    tool,
    vm,
)

# ---------------------------------------------------------------------------
# input


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"level": "ft"}, "VM vm1: level ft (fault tolerance) is not available yet: use ha or recovery"),
        ({"level": "gold"}, "level must be one of ha, recovery"),
        ({"hypervisor": "vmware"}, "hypervisor must be kvm or xen"),
        ({"config": "vm1.xml"}, "absolute path"),
        ({"name": "bad name"}, "not usable in resource ids"),
        ({"host": ""}, "preferred host"),
    ],
)
def test_protected_vm_refuses_bad_input(kwargs, message):
    args = {"name": "vm1", "level": "ha", "host": EAST, "drbd_resource": "r0", "config": "/etc/vm1.xml"}
    args.update(kwargs)
    with pytest.raises(vm_cib_objects.VmCibError, match=re.escape(message)):
        vm_cib_objects.protected_vm(**args)


def test_resource_ids():
    assert dict(vm_cib_objects.resource_ids("mail")) == {
        "drbd": "drbd-mail",
        "clone": "drbd-mail-clone",
        "vm": "vm-mail",
        "colocation": "colocation-vm-mail",
        "order": "order-vm-mail",
        "location": "location-vm-mail",
        "promote_only": "location-drbd-mail-promote-only",
    }


# ---------------------------------------------------------------------------
# creating


def test_one_ha_vm_exact_commands_and_one_push(cib):
    module = FakeModule()
    result = vm_cib.ensure_vms_present(runner_for(cib, module), [vm("mail", hypervisor="xen")])
    assert result.changed
    assert result.commands == [
        [
            "pcs", "resource", "create", "drbd-mail", "ocf:linbit:drbd", "drbd_resource=r-mail",
            "adjust_master_score=0 9000 9000 10000",
            "op", "monitor", "interval=29s", "timeout=30s", "role=Promoted",
            "op", "monitor", "interval=31s", "timeout=30s", "role=Unpromoted",
            "op", "start", "interval=0s", "timeout=240s",
            "op", "stop", "interval=0s", "timeout=100s",
            "op", "promote", "interval=0s", "timeout=90s",
            "op", "demote", "interval=0s", "timeout=90s",
            "op", "notify", "interval=0s", "timeout=90s",
            "promotable", "promoted-max=1", "promoted-node-max=1", "clone-max=2", "clone-node-max=1", "notify=true",
            "--no-default-ops",
        ],
        [
            "pcs", "resource", "create", "vm-mail", "ocf:heartbeat:VirtualDomain",
            "config=/etc/vmpair/domains/mail.xml", "hypervisor=xen:///system", "force_stop=false",
            "migration_transport=ssh", "migration_network_suffix=-vmpair",
            "migrate_options=--p2p --tunnelled --migrateuri=",
            "op", "monitor", "interval=10s", "timeout=30s",
            "op", "start", "interval=0s", "timeout=90s",
            "op", "stop", "interval=0s", "timeout=120s",
            "op", "migrate_to", "interval=0s", "timeout=600s",
            "op", "migrate_from", "interval=0s", "timeout=120s",
            "meta", "allow-migrate=false", "resource-stickiness=1000",
            "--no-default-ops",
        ],
        ["pcs", "constraint", "colocation", "add", "Started", "vm-mail", "with", "Promoted", "drbd-mail-clone",
         "INFINITY", "id=colocation-vm-mail"],
        ["pcs", "constraint", "order", "promote", "drbd-mail-clone", "then", "start", "vm-mail",
         "kind=Mandatory", "symmetrical=true", "id=order-vm-mail"],
        ["pcs", "constraint", "location", "add", "location-vm-mail", "vm-mail", EAST, "100"],
    ]  # fmt: skip
    # every change went to a temporary copy; the CIB itself got exactly one push
    pushes = module.pushes()
    assert len(pushes) == 1
    assert pushes[0][:5] == ["pcs", "-f", cib, "cluster", "cib-push"]
    assert pushes[0][6].startswith("diff-against=")
    # built in Python: no pcs process but the push, the result judged by crm_verify before it
    assert module.pcs_calls() == pushes
    assert [c[0] for c in module.calls] == ["cibadmin", "crm_verify", "pcs"]
    assert module.calls[1] == ["crm_verify", "--verbose", "--xml-file", pushes[0][5]]
    assert result.diff["before"] == ""
    assert '<primitive id="vm-mail"' in result.diff["after"]
    assert 'id="order-vm-mail"' in result.diff["after"]
    tool("crm_verify", "-x", cib)
    # the objects are in the real CIB file, and a second run has nothing to do
    objects = vm_cib_objects.read_vm_objects(ET.parse(cib).getroot(), "mail")
    assert objects["vm"]["instance"]["hypervisor"] == "xen:///system"
    assert objects["vm"]["instance"]["migrate_options"] == "--p2p --tunnelled --migrateuri="
    assert result.data["migration_pending"] == []
    assert objects["clone_meta"]["promotable"] == "true"
    module.calls.clear()
    again = vm_cib.ensure_vms_present(runner_for(cib, module), [vm("mail", hypervisor="xen")])
    assert not again.changed and again.commands == [] and again.data["pushes"] == 0
    assert module.pcs_calls() == []


def test_recovery_vm_adds_promote_only_rule(configured_cib):
    objects = vm_cib_objects.read_vm_objects(ET.parse(configured_cib).getroot(), "vm3")
    assert objects["constraints"]["location-drbd-vm3-promote-only"] == {
        "tag": "rsc_location",
        "rsc": "drbd-vm3-clone",
        "rule": ("Promoted", "-INFINITY", "#uname", "ne", EAST),
    }
    for name in ("vm1", "vm2"):
        assert (
            vm_cib_objects.read_vm_objects(ET.parse(configured_cib).getroot(), name)["constraints"][
                f"location-drbd-{name}-promote-only"
            ]
            is None
        )


def test_configured_pair_passes_crm_verify(configured_cib):
    root = ET.parse(configured_cib).getroot()
    assert pacemaker_cib.read_cluster_properties(root)["stonith-enabled"] == "true"
    assert pcs_fence.read_stonith(root, f"fence_{EAST}").agent == "fence_ipmilan"
    tool("crm_verify", "-x", configured_cib)


def test_check_mode_leaves_the_file_alone(cib):
    with open(cib) as f:
        before = f.read()
    module = FakeModule()
    result = vm_cib.ensure_vms_present(runner_for(cib, module), [vm("web", level="recovery")], check_mode=True)
    assert result.changed and len(result.commands) == 6 and result.data["pushes"] == 0
    assert module.pushes() == []
    assert [c[0] for c in module.calls] == ["cibadmin", "crm_verify"]
    assert 'id="location-drbd-web-promote-only"' in result.diff["after"]
    with open(cib) as f:
        assert f.read() == before


def test_unknown_host_refused(cib):
    with pytest.raises(vm_cib_objects.VmCibError, match="host hv-north is not a cluster node"):
        vm_cib.ensure_vms_present(runner_for(cib), [vm("web", host="hv-north")])


def test_foreign_resource_with_our_id_refused(cib):
    tool("pcs", "-f", cib, "resource", "create", "vm-web", "ocf:heartbeat:Dummy")
    with pytest.raises(vm_cib_objects.VmCibError, match="vm-web exists as ocf:heartbeat:Dummy"):
        vm_cib.ensure_vms_present(runner_for(cib), [vm("web")])


def test_id_of_ours_held_by_another_element_refused(cib):
    tool("pcs", "-f", cib, "resource", "create", "colocation-vm-web", "ocf:heartbeat:Dummy")
    with open(cib) as f:
        before = f.read()
    module = FakeModule()
    with pytest.raises(vm_cib_objects.VmCibError, match="id 'colocation-vm-web' is already in use"):
        vm_cib.ensure_vms_present(runner_for(cib, module), [vm("web")])
    assert module.pushes() == []
    with open(cib) as f:
        assert f.read() == before


def test_duplicate_of_our_constraint_refused(cib):
    """pcs refused a colocation that duplicates another one (without --force): so does the Python path."""
    vm_cib.ensure_vms_present(runner_for(cib), [vm("web")])
    tool("pcs", "-f", cib, "constraint", "delete", "colocation-vm-web")
    tool("pcs", "-f", cib, "constraint", "colocation", "add", "Started", "vm-web", "with", "Promoted",
         "drbd-web-clone", "INFINITY", "id=theirs")  # fmt: skip
    with pytest.raises(
        vm_cib_objects.VmCibError, match="colocation-vm-web: duplicate constraint already exists \\(theirs\\)"
    ):
        vm_cib.ensure_vms_present(runner_for(cib), [vm("web")])


def test_missing_agent_refused(tmp_path, base_cib):
    from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_edits import CibEditor, vm_edits

    editor = CibEditor(ET.parse(base_cib).getroot(), ocf_root=str(tmp_path))
    with pytest.raises(vm_cib_objects.VmCibError, match="Agent 'ocf:linbit:drbd' is not installed.*drbd-utils"):
        vm_edits(editor, vm("web"), vm_cib_objects.read_vm_objects(editor.cib, "web"))


def test_crm_verify_judges_the_new_cib_not_the_old_problems(cib, tmp_path):
    """Errors the CIB had before (no fence device with stonith-enabled) do not stop a change; new ones do."""
    for device in ("fence_hv-east", "fence_hv-west"):
        tool("pcs", "-f", cib, "stonith", "delete", device)
    assert tool("crm_verify", "--xml-file", cib, check=False).returncode != 0
    result = vm_cib.ensure_vms_present(runner_for(cib), [vm("web")])
    assert result.data["pushes"] == 1
    module = FakeModule()
    with pacemaker_cib.CibTransaction(runner_for(cib, module)) as tx:
        broken = tx.cib()
        # an order without its "then": invalid against the schema (Pacemaker 2.1's and 3's crm_verify: an error;
        # an order naming a resource that does not exist is only a warning in Pacemaker 3)
        ET.SubElement(broken.find("./configuration/constraints"), "rsc_order", {"id": "o", "first": "vm-web"})
        tx.write(broken)
        with pytest.raises(pacemaker_cib.CommandError, match="crm_verify refused the changed CIB"):
            tx.verify()
    assert module.pushes() == []


def test_update_changes_only_what_differs(running):
    module = FakeModule()
    changed = [vm("vm1", level="recovery", stop_timeout=300), vm("vm2", host=WEST), vm("vm3", level="recovery")]
    result = vm_cib.ensure_vms_present(runner_for(running, module), changed)
    assert result.commands == [
        ["pcs", "resource", "op", "delete", "vm-vm1-stop-interval-0s"],
        ["pcs", "resource", "op", "add", "vm-vm1", "stop", "interval=0s", "timeout=300s", "--force"],
        ["pcs", "constraint", "location", "drbd-vm1-clone", "rule", "role=Promoted", "score=-INFINITY",
         "constraint-id=location-drbd-vm1-promote-only", "#uname", "ne", EAST],
    ]  # fmt: skip
    assert len(module.pushes()) == 1
    # a new stop timeout and a rule that allows what runs now: nothing restarts
    graph, _output = simulate(running, os.path.dirname(running))
    assert not any(graph.has(op, "vm-vm1") for op in ("stop", "start"))
    # back to ha removes the rule
    result = vm_cib.ensure_vms_present(runner_for(running), list(PAIR_VMS))
    assert result.commands[-1] == ["pcs", "constraint", "delete", "location-drbd-vm1-promote-only"]
    assert not vm_cib.ensure_vms_present(runner_for(running), list(PAIR_VMS)).changed


def test_ten_vms_one_transaction(cib):
    vms = [vm(f"guest{i}", level="recovery" if i % 3 == 0 else "ha", host=(EAST, WEST)[i % 2]) for i in range(10)]
    module = FakeModule()
    result = vm_cib.ensure_vms_present(runner_for(cib, module), vms)
    assert result.changed and result.data["pushes"] == 1
    assert len(module.pushes()) == 1
    recovery = sum(1 for v in vms if v.level == "recovery")
    assert len(result.commands) == 5 * len(vms) + recovery
    # one document for all ten: the query, crm_verify, the push; no pcs process per object
    assert [c[0] for c in module.calls] == ["cibadmin", "crm_verify", "pcs"]
    root = ET.parse(cib).getroot()
    ids = {el.get("id") for el in root.find("./configuration/constraints")}
    for v in vms:
        want = vm_cib_objects.resource_ids(v.name)
        assert {want["colocation"], want["order"], want["location"]} <= ids
        assert (want["promote_only"] in ids) == (v.level == "recovery")
    tool("crm_verify", "-x", cib)
    inject_scores(cib, [v.name for v in vms])
    graph, _output = simulate(cib, os.path.dirname(cib))
    for v in vms:
        assert graph.has("start", f"vm-{v.name}", v.host)
    # second run: reads the CIB once, no pcs call, no push
    module.calls.clear()
    again = vm_cib.ensure_vms_present(runner_for(cib, module), vms)
    assert not again.changed and again.data["pushes"] == 0
    assert module.calls == [["cibadmin", "--query"]]


# ---------------------------------------------------------------------------
# what the real scheduler does with it


def test_start_places_vms_on_their_preferred_hosts(configured_cib, tmp_path):
    graph, _output = simulate(configured_cib, tmp_path)
    for name, host in (("vm1", EAST), ("vm2", WEST), ("vm3", EAST)):
        promote = graph.one("promote", f"drbd-{name}", host)
        start = graph.one("start", f"vm-{name}", host)
        assert graph.before(promote, start)
        assert not graph.has("start", f"vm-{name}", WEST if host == EAST else EAST)


def test_running_state(running):
    roles = status(running)
    assert roles["vm-vm1"] == {EAST: "Started"}
    assert roles["vm-vm2"] == {WEST: "Started"}
    assert roles["drbd-vm1"] == {EAST: "Promoted", WEST: "Unpromoted"}
    assert roles["drbd-vm2"] == {EAST: "Unpromoted", WEST: "Promoted"}
    tool("crm_verify", "-x", running)


def test_host_loss_fences_then_promotes_then_starts_ha_vm(running, tmp_path):
    graph, _output = simulate(running, tmp_path, "--node-fail", EAST)
    fence = graph.one("stonith", node=EAST)
    promote = graph.one("promote", "drbd-vm1", WEST)
    start = graph.one("start", "vm-vm1", WEST)
    assert graph.before(fence, promote)
    assert graph.before(promote, start)
    # vm2 already ran on west: untouched
    assert graph.resource_ops("vm-vm2") == []


def test_host_loss_does_not_restart_recovery_vm(running, tmp_path):
    graph, _output = simulate(running, tmp_path, "--node-fail", EAST, save=tmp_path / "after.xml")
    assert graph.has("stonith", node=EAST)
    assert not graph.has("promote", "drbd-vm3")
    assert not graph.has("start", "vm-vm3")
    roles = status(tmp_path / "after.xml")
    assert roles["drbd-vm3"] == {WEST: "Unpromoted"}
    assert roles.get("vm-vm3", {}) == {}


def test_recovery_vm_moves_on_request_after_host_loss(running, tmp_path):
    after = str(tmp_path / "after.xml")
    simulate(running, tmp_path, "--node-fail", EAST, save=after)
    vms = [vm("vm1"), vm("vm2", host=WEST), vm("vm3", level="recovery", host=WEST)]
    result = vm_cib.ensure_vms_present(runner_for(after), vms)
    assert result.commands == [
        ["pcs", "constraint", "delete", "location-vm-vm3"],
        ["pcs", "constraint", "location", "add", "location-vm-vm3", "vm-vm3", WEST, "100"],
        ["pcs", "constraint", "delete", "location-drbd-vm3-promote-only"],
        ["pcs", "constraint", "location", "drbd-vm3-clone", "rule", "role=Promoted", "score=-INFINITY",
         "constraint-id=location-drbd-vm3-promote-only", "#uname", "ne", WEST],
    ]  # fmt: skip
    graph, _output = simulate(after, tmp_path)
    assert graph.before(graph.one("promote", "drbd-vm3", WEST), graph.one("start", "vm-vm3", WEST))


def test_recovery_vm_moves_in_order_while_both_hosts_run(running, tmp_path):
    vms = [vm("vm1"), vm("vm2", host=WEST), vm("vm3", level="recovery", host=WEST)]
    vm_cib.ensure_vms_present(runner_for(running), vms)
    graph, _output = simulate(running, tmp_path)
    stop = graph.one("stop", "vm-vm3", EAST)
    demote = graph.one("demote", "drbd-vm3", EAST)
    promote = graph.one("promote", "drbd-vm3", WEST)
    start = graph.one("start", "vm-vm3", WEST)
    assert graph.before(stop, demote) and graph.before(demote, promote) and graph.before(promote, start)


def test_no_failback_when_the_preferred_host_returns(running, tmp_path):
    failed = str(tmp_path / "failed.xml")
    simulate(running, tmp_path, "--node-fail", EAST, save=failed)
    back = str(tmp_path / "back.xml")
    tool("crm_simulate", "-x", failed, "--node-up", EAST, "-O", back)
    inject_scores(back, ["vm1", "vm2", "vm3"], nodes=(EAST,))
    settled = str(tmp_path / "settled.xml")
    graph, _output = simulate(back, tmp_path, save=settled)
    assert graph.has("start", "drbd-vm1", EAST)
    assert graph.resource_ops("vm-vm1") == []
    graph, _output = simulate(settled, tmp_path)
    assert graph.resource_ops("vm-vm1") == [] and not graph.has("promote", "drbd-vm1")
    assert status(settled)["vm-vm1"] == {WEST: "Started"}


def test_vm_monitor_failure_recovers_in_place(running, tmp_path):
    graph, _output = simulate(running, tmp_path, "-i", f"vm-vm1_monitor_10000@{EAST}=7")
    stop = graph.one("stop", "vm-vm1", EAST)
    start = graph.one("start", "vm-vm1", EAST)
    assert graph.before(stop, start)
    assert not graph.has("start", "vm-vm1", WEST)
    assert not graph.has("demote", "drbd-vm1") and not graph.has("promote", "drbd-vm1")


def test_standby_stops_vm_before_demote(running, tmp_path):
    tool("crm_attribute", "-N", EAST, "-n", "standby", "-v", "on", cib=running)
    graph, _output = simulate(running, tmp_path)
    stop = graph.one("stop", "vm-vm1", EAST)
    demote = graph.one("demote", "drbd-vm1", EAST)
    promote = graph.one("promote", "drbd-vm1", WEST)
    start = graph.one("start", "vm-vm1", WEST)
    assert graph.before(stop, demote) and graph.before(demote, promote) and graph.before(promote, start)
    # the recovery VM is not moved by a standby: it stops and waits
    assert graph.has("stop", "vm-vm3", EAST) and not graph.has("start", "vm-vm3")


# ---------------------------------------------------------------------------
# removal


def test_pacemaker_stops_a_deleted_resource_even_when_unmanaged(running, tmp_path):
    """Why removal does not rely on is-managed=false: the orphan gets default meta."""
    tool("pcs", "-f", running, "resource", "unmanage", "vm-vm1", "drbd-vm1-clone")
    tool("pcs", "-f", running, "resource", "delete", "vm-vm1")
    graph, _output = simulate(running, tmp_path)
    assert graph.has("stop", "vm-vm1", EAST)


def test_remove_stops_in_order_then_deletes(running, tmp_path):
    module = FakeModule()
    graphs = []

    def settle():
        graph, _output = simulate(running, tmp_path, save=running)
        graphs.append(graph)

    result = vm_cib_remove.ensure_vms_absent(runner_for(running, module), ["vm1"], settle=settle)
    assert result.changed and result.data["pushes"] == 2
    assert result.commands == [
        ["pcs", "resource", "disable", "vm-vm1", "drbd-vm1-clone"],
        ["pcs", "resource", "delete", "vm-vm1"],
        ["pcs", "resource", "delete", "drbd-vm1-clone"],
    ]
    assert len(module.pushes()) == 2
    (graph,) = graphs
    stop = graph.one("stop", "vm-vm1", EAST)
    assert graph.before(stop, graph.one("demote", "drbd-vm1", EAST))
    root = ET.parse(running).getroot()
    assert vm_cib_objects.read_vm_objects(root, "vm1") == vm_cib_objects.read_vm_objects(ET.fromstring("<cib/>"), "vm1")
    assert "vm1" not in result.diff["after"] and 'id="vm-vm1"' in result.diff["before"]
    graph, _output = simulate(running, tmp_path)
    assert graph.resource_ops("vm-vm1") == [] and graph.resource_ops("drbd-vm1") == []
    assert graph.resource_ops("vm-vm2") == []
    tool("crm_verify", "-x", running)
    again = vm_cib_remove.ensure_vms_absent(runner_for(running), ["vm1"])
    assert not again.changed and again.data["pushes"] == 0


def test_remove_leave_running_deletes_in_one_push_and_stops_nothing(running, tmp_path):
    module = FakeModule()
    result = vm_cib_remove.ensure_vms_absent(runner_for(running, module), ["vm1", "vm3"], leave_running=True)
    assert result.data["pushes"] == 1 and len(module.pushes()) == 1
    assert result.commands == [
        ["pcs", "property", "set", "stop-orphan-resources=false"],
        ["pcs", "resource", "delete", "vm-vm1"],
        ["pcs", "resource", "delete", "drbd-vm1-clone"],
        ["pcs", "resource", "delete", "vm-vm3"],
        ["pcs", "resource", "delete", "drbd-vm3-clone"],
        ["crm_resource", "--refresh", "--resource", "vm-vm1"],
        ["crm_resource", "--refresh", "--resource", "drbd-vm1"],
        ["crm_resource", "--refresh", "--resource", "vm-vm3"],
        ["crm_resource", "--refresh", "--resource", "drbd-vm3"],
        ["pcs", "property", "set", "stop-orphan-resources="],
    ]
    root = ET.parse(running).getroot()
    assert "stop-orphan-resources" not in pacemaker_cib.read_cluster_properties(root)
    assert root.find("./configuration/constraints/*[@id='order-vm-vm3']") is None
    graph, _output = simulate(running, tmp_path)
    for rsc in ("vm-vm1", "drbd-vm1", "vm-vm3", "drbd-vm3", "vm-vm2", "drbd-vm2"):
        assert graph.resource_ops(rsc) == [], rsc


def test_leave_running_push_alone_stops_nothing(running, tmp_path):
    """The pushed transaction by itself (before any refresh) leaves the VM running."""
    module = FakeModule()
    graphs = []
    real_run = module.run_command

    def run_command(args, **kw):
        if os.path.basename(args[0]) == "cibadmin" and "--delete-all" in args and not graphs:
            graphs.append(simulate(running, tmp_path)[0])
        return real_run(args, **kw)

    module.run_command = run_command
    vm_cib_remove.ensure_vms_absent(runner_for(running, module), ["vm1"], leave_running=True)
    (graph,) = graphs
    assert graph.resource_ops("vm-vm1") == [] and graph.resource_ops("drbd-vm1") == []


def test_remove_check_mode(running):
    with open(running) as f:
        before = f.read()
    module = FakeModule()
    result = vm_cib_remove.ensure_vms_absent(runner_for(running, module), ["vm2"], check_mode=True)
    assert result.changed and result.data["pushes"] == 0 and module.pushes() == []
    assert result.commands[0] == ["pcs", "resource", "disable", "vm-vm2", "drbd-vm2-clone"]
    with open(running) as f:
        assert f.read() == before

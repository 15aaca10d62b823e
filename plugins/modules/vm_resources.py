#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_resources
short_description: The Pacemaker resources of protected VMs, all VMs in one CIB transaction
version_added: 0.1.0
description:
  - The cluster half of protecting VMs. For each VM in O(vms) it manages a promotable C(ocf:linbit:drbd) clone
    (C(drbd-VM-clone)), an C(ocf:heartbeat:VirtualDomain) resource (C(vm-VM)), the colocation of the VM with
    the Promoted role, the order promote-then-start (so the VM stops before the demote) and the preference for
    the VM's host.
  - Level C(ha) lets the cluster restart the VM on the peer after a host loss (after fencing the lost host).
    Level C(recovery) forbids the cluster to promote DRBD anywhere but the VM's host, so the VM never starts on
    the peer by itself; moving it is running this module with the other host as O(vms[].host).
  - The level of a VM can be changed on a running VM; the VM is not restarted.
  - Every change of one call, for all VMs, is one C(pcs cluster cib-push) of a CIB copy (one transaction, sent as a
    diff). The copy is edited in one pass in Python (the same XML C(pcs) makes, without a C(pcs) process per
    object) and checked with C(crm_verify) before the push. Check mode makes and checks the same copy and does not
    push, so the diff is exact.
  - O(state=absent) removes the VMs' resources and constraints. By default the VMs and DRBD are stopped first;
    with O(leave_running=true) the cluster lets go of them while they keep running (how unprotecting starts).
  - Run it once per pair (C(run_once) on one host of the pair), because the CIB is the cluster's, not the host's.
  - The DRBD resources and the domain definitions (O(vms[].config)) must exist on both hosts before the
    resources are created.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
  - duplex.vmpair.common.cib_file
options:
  vms:
    description:
      - The VMs. With O(state=absent) only O(vms[].name) is used.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The libvirt domain name; resource ids are derived from it.
        type: str
        required: true
      level:
        description:
          - C(ha) (synchronous copy, automatic restart on the peer) or C(recovery) (asynchronous copy, the VM
            moves only on request).
          - C(ft) is refused with a message, because it is not available yet.
        type: str
        choices: [ha, recovery, ft]
        default: ha
      host:
        description:
          - The cluster node the VM runs on (C(ha)) or is pinned to (C(recovery)).
          - For C(ha) this is a preference (score 100) below the resource stickiness (1000), so a VM that failed
            over does not fail back by itself.
          - A VM whose host's disk failed (DRBD detached it) goes on running there on the peer's copy, because
            the DRBD resource's C(adjust_master_score) keeps that host's promotion score within the stickiness.
        type: str
      drbd_resource:
        description: The DRBD resource that holds the VM's disks. Default C(vm-NAME), the name the collection uses.
        type: str
      config:
        description: Absolute path of the domain XML on both hosts. Default C(/etc/vmpair/domains/NAME.xml), where
          M(duplex.vmpair.protected_vm) keeps the cluster's copy of a protected VM's definition (for kvm and xen).
        type: path
      hypervisor:
        description: C(kvm) (C(qemu:///system)) or C(xen) (C(xen:///system)).
        type: str
        choices: [kvm, xen]
        default: kvm
      force_stop:
        description: Destroy the guest at once on stop instead of a clean shutdown first.
        type: bool
        default: false
      stop_timeout:
        description: Seconds a clean shutdown may take before the agent destroys the guest (at least 10).
        type: int
        default: 120
      monitor_timeout:
        description:
          - Seconds one health check of the VM (the VirtualDomain monitor, every 10 s) and of its mirror (the DRBD
            monitors, every 29 s and 31 s) may take before the cluster counts it as failed and recovers the VM
            (at least 10). A changed value reschedules the monitors; it restarts nothing.
        type: int
        default: 30
      move_to:
        description:
          - Move the VM to this cluster node now. The VM's location constraint puts it there with score
            C(INFINITY) (above the resource stickiness, so an C(ha) VM that runs moves too) until the next call
            without O(vms[].move_to), which restores the preference for O(vms[].host).
          - Without O(vms[].live) the move is cold (stop, demote, promote, start, in that order).
        type: str
      live:
        description:
          - With O(vms[].move_to), migrate the running VM instead of stopping it. The clone allows two Promoted
            instances (C(promoted-max=2)), the VM C(allow-migrate=true), and a C(recovery) VM's promote-only rule
            is left out; Pacemaker promotes DRBD on the target, then live-migrates the VM. The next call without
            O(vms[].move_to) takes it back and demotes the source.
          - DRBD must allow two primaries on both hosts first (the agent refuses to promote otherwise), and the
            hypervisors must reach each other for the migration. The collection's C(migrate.yml) playbook does all
            of it in order.
        type: bool
        default: false
  migration_tunnelled:
    description:
      - How the VMs' live migrations travel (the site model's C(vmpair_migration_tunnelled)).
      - With V(true) VirtualDomain's C(migrate_options) is C(--p2p --tunnelled --migrateuri=), so the source
        libvirtd sends the guest's memory through its C(qemu+ssh) connection to the target's replication address,
        encrypted, and no QEMU migration port (49152-49215) opens.
      - With V(false) the resource has no C(migrate_options); the agent passes C(tcp:NODE-vmpair:PORT) and QEMU
        sends the memory in clear over its own TCP connection to the target's replication address.
      - Applied when a VM's resource is created, and to an existing one only with O(migration_update=true),
        because a changed parameter restarts a running VM (VirtualDomain has no reload). Until then
        RV(migration_pending) names the VM and the module warns.
    type: bool
    default: true
  migration_update:
    description:
      - Apply O(migration_tunnelled) to the existing resources of O(vms) now. The cluster restarts a VM that runs
        and does not move cold in the same call; the C(failover.yml) playbook sets it when it moves a VM cold.
    type: bool
    default: false
  state:
    description: V(present) creates or updates, V(absent) removes.
    type: str
    choices: [present, absent]
    default: present
  leave_running:
    description:
      - With O(state=absent), remove the resources without stopping the VMs and DRBD (the cluster property
        C(stop-orphan-resources) is C(false) for that push and restored after).
    type: bool
    default: false
requirements:
  - pcs 0.11, pacemaker-cli-utils (cibadmin, crm_verify, crm_resource), resource-agents and drbd-utils (for the agents'
    metadata) on the target host.
seealso:
  - module: duplex.vmpair.fence_device
  - module: duplex.vmpair.pair_info
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Let the cluster run two protected VMs (one transaction)
  duplex.vmpair.vm_resources:
    vms:
      - {name: mail, level: ha, host: hv-east}
      - {name: build, level: recovery, host: hv-west}
  run_once: true

- name: Move a recovery VM to the other host (stop, demote, promote, start, in that order)
  duplex.vmpair.vm_resources:
    vms:
      - {name: build, level: recovery, host: hv-east}
  run_once: true

- name: Move an ha VM to hv-west while it runs (DRBD must allow two primaries), then end the move
  duplex.vmpair.vm_resources:
    vms:
      - {name: mail, level: ha, host: hv-east, move_to: hv-west, live: true}
  run_once: true

- name: Let go of a VM without stopping it
  duplex.vmpair.vm_resources:
    vms: [{name: build}]
    state: absent
    leave_running: true
  run_once: true
"""

RETURN = r"""
commands:
  description:
    - The pcs commands (and refreshes) that were run, or would be in check mode, as argument lists.
    - With O(state=present) the change is made in the CIB's XML in one pass; these are the pcs commands that make
      the same change, in order (what C(pcs -f) would have run on the copy).
  returned: success
  type: list
  elements: list
  sample:
    - [pcs, resource, create, drbd-mail, ocf:linbit:drbd, drbd_resource=vm-mail]
migration_pending:
  description:
    - The VMs (of O(vms), O(state=present)) whose resource still migrates otherwise than O(migration_tunnelled) says
      (made before, or left as it was without O(migration_update)). Moving one cold with C(failover.yml) converts
      it.
  returned: success and O(state=present)
  type: list
  elements: str
  sample: [mail]
pushes:
  description: How many times the CIB was pushed (0 in check mode or when nothing changed; 1 for a change).
  returned: success
  type: int
  sample: 1
diff:
  description: The VMs' resources and constraints (CIB XML) before and after.
  returned: success
  type: dict
  contains:
    before: {description: The objects before the run., type: str}
    after: {description: The objects after the run., type: str}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import (
    DEFAULT_FORCE_STOP,
    DEFAULT_HYPERVISOR,
    DEFAULT_LEVEL,
    DEFAULT_MONITOR_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    HYPERVISORS,
    LEVELS,
    drbd_name,
    vm_resource_id,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import VmCibError, protected_vm
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_present import ensure_vms_present
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_remove import ensure_vms_absent
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import config_path

VM_OPTIONS = {
    "name": {"type": "str", "required": True},
    "level": {"type": "str", "choices": list(LEVELS), "default": DEFAULT_LEVEL},
    "host": {"type": "str"},
    "drbd_resource": {"type": "str"},
    "config": {"type": "path"},
    "hypervisor": {"type": "str", "choices": list(HYPERVISORS), "default": DEFAULT_HYPERVISOR},
    "force_stop": {"type": "bool", "default": DEFAULT_FORCE_STOP},
    "stop_timeout": {"type": "int", "default": DEFAULT_STOP_TIMEOUT},
    "monitor_timeout": {"type": "int", "default": DEFAULT_MONITOR_TIMEOUT},
    "move_to": {"type": "str"},
    "live": {"type": "bool", "default": False},
}


def wanted_vms(vms, migration_tunnelled=True, migration_update=False):
    """ProtectedVm tuples from the module's O(vms), defaults filled in."""
    out = []
    for vm in vms:
        hypervisor = vm["hypervisor"]
        out.append(
            protected_vm(
                vm["name"],
                vm["level"],
                vm["host"],
                vm["drbd_resource"] or drbd_name(vm["name"]),
                vm["config"] or config_path(vm["name"]),
                hypervisor=hypervisor,
                force_stop=vm["force_stop"],
                stop_timeout=vm["stop_timeout"],
                monitor_timeout=vm["monitor_timeout"],
                move_to=vm["move_to"],
                live=vm["live"],
                migration_tunnelled=migration_tunnelled,
                migration_update=migration_update,
            )
        )
    return out


def run_module():
    module = AnsibleModule(
        argument_spec={
            "vms": {"type": "list", "elements": "dict", "required": True, "options": VM_OPTIONS},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "leave_running": {"type": "bool", "default": False},
            "migration_tunnelled": {"type": "bool", "default": True},
            "migration_update": {"type": "bool", "default": False},
            "cib_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params

    def work(runner):
        if params["state"] == "present":
            vms = wanted_vms(params["vms"], params["migration_tunnelled"], params["migration_update"])
            return ensure_vms_present(runner, vms, check_mode=module.check_mode)
        names = [vm["name"] for vm in params["vms"]]
        return ensure_vms_absent(runner, names, leave_running=params["leave_running"], check_mode=module.check_mode)

    def warnings(result):
        return pending_warnings(result, params["migration_tunnelled"])

    run_and_exit(module, work, errors=[VmCibError], cib_file=params["cib_file"], warnings=warnings)


def pending_warnings(result, tunnelled):
    """One warning per VM whose live migration is not what O(migration_tunnelled) asks yet."""
    how = "tunnelled through ssh" if tunnelled else "over QEMU's own TCP connection"
    return [
        f"VM {name}: migration_pending: its cluster resource ({vm_resource_id(name)}) keeps its old live-migration parameters, "
        f"not {how}: changing them restarts a running VM. Fix: move it cold once (ansible-playbook "
        f"duplex.vmpair.failover -e vm={name}), or run duplex.vmpair.vm_resources with migration_update=true in a "
        "maintenance window."
        for name in result.get("migration_pending", [])
    ]


def main():
    run_module()


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: protected_vm
short_description: Protect a VM on a pair (DRBD mirror of its disks, peer definition) or give it back
version_added: 0.1.0
description:
  - The host half of protecting a VM. Run it on B(both) hosts of the pair in one task; each host does its own part.
    Before it, run M(duplex.vmpair.protected_vm_info) on both hosts and pass each the other's result as
    O(peer_facts). After it, run M(duplex.vmpair.vm_resources) once for the pair so the cluster manages the VM.
    C(duplex.vmpair.protect) and C(duplex.vmpair.unprotect) are these three steps.
  - B(Checks first, on both hosts' facts, and changes nothing when anything is wrong:) the VM is defined (and
    runs) on exactly one host, its definition can be protected (no pass-through devices, no network or shareable
    disks, ...), the cluster is quorate, the DRBD module is loaded with the same version on both hosts, the volume
    group exists and has room on both hosts, the DRBD minors and port are free on both hosts, the peer answers
    on the replication link (when O(peer_facts) holds C(peer_reachable)). Every problem is reported at once, each
    naming the host and the fix. Both hosts see the same facts, so with C(any_errors_fatal) in the play neither
    host starts when one finds a problem.
  - O(state=present), on both hosts, creates the backing LVs C(VM-DISK-drbd) in the pair's volume group, the DRBD
    resource C(vm-VM) in C(/etc/drbd.d/vm-VM.res) (mode 0600, checked with C(drbdadm dump)), its metadata, and
    brings it up. On the host the VM lives on, DRBD becomes Primary (a new resource with C(--force), so the peer then
    receives a full copy), and each disk is copied onto its DRBD device. A running VM (O(online=true)) keeps
    running, C(virsh blockcopy --synchronous-writes --wait --pivot) moves it onto DRBD; every write the guest
    sees acknowledged after the pivot is replicated. With O(online=false), or when the VM is shut off, the VM
    is shut down, copied with C(qemu-img convert) and started again if it was running. Then the protected
    definition (disks on C(/dev/drbdN), raw, C(cache=none), C(io=native), a storage slice of the disk's size) is
    defined, and written to C(/etc/vmpair/domains/VM.xml) (mode 0600), the file the cluster starts the VM from. On the peer, the same
    definition (the guest sees identical hardware, with the same name, UUID, MAC addresses and disks) is defined, not started.
    The VM's old images are kept, never deleted.
  - The cluster (C(ocf:heartbeat:VirtualDomain)) starts a VM with C(virsh create) from C(/etc/vmpair/domains/VM.xml) after
    undefining it, so a VM the cluster started (after a failover) is transient; the module then reads its definition
    from that file.
  - The level chooses the DRBD protocol and fencing. C(ha) is protocol C with C(resource-and-stonith); C(recovery)
    is protocol A with C(resource-only). Changing the level of a protected VM rewrites the resource file and runs
    C(drbdadm adjust); the VM keeps running.
  - A failure before a disk moved onto DRBD undoes this run's changes (block job aborted, DRBD down, resource file
    restored, new LVs removed), so the VM never left its own disks. After a disk moved, nothing is undone and the
    error says so, because a rerun completes.
  - O(state=absent), with the cluster no longer managing the VM (M(duplex.vmpair.vm_resources) O(state=absent),
    O(duplex.vmpair.vm_resources#module:leave_running=true)), gives it back as a plain local VM. On its host each
    disk moves live onto a new plain LV C(VM-DISK-local), the plain definition is defined, DRBD is taken down and
    the backing LVs removed; on the peer the definition is removed, DRBD taken down and the backing LVs removed,
    or with O(keep_peer_copy=true) renamed to C(VM-DISK-peercopy).
  - Level C(ft) is refused with a message, because it is not available yet.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
options:
  name:
    description: The libvirt domain name of the VM.
    type: str
    required: true
  state:
    description: V(present) protects the VM, V(absent) gives it back as a plain local VM.
    type: str
    choices: [present, absent]
    default: present
  level:
    description: C(ha) or C(recovery). C(ft) is refused until it exists.
    type: str
    choices: [ha, recovery, ft]
    default: ha
  preferred_host:
    description:
      - The inventory host the VM should run on when both could. Only decides where the VM lives when it is
        defined, protected and stopped on both hosts; a running VM is protected where it runs.
    type: str
  online:
    description:
      - V(true) protects a running VM without stopping it (libvirt block copy with pivot; KVM only, libvirt's Xen
        driver has no block copy). V(false) shuts it down, copies its disks and starts it again.
      - Also used by O(state=absent) for the way back.
    type: bool
    default: true
  keep_peer_copy:
    description: With O(state=absent), keep the peer's copy as the plain volume C(VM-DISK-peercopy).
    type: bool
    default: false
  host:
    description: This host's inventory name (C({{ inventory_hostname }})).
    type: str
    required: true
  pair:
    description:
      - This host's pair as M(duplex.vmpair.site_model) returns it (C(register) of it, then C(.pair)).
    type: dict
    required: true
  peer_facts:
    description:
      - The other host's C(host) result of M(duplex.vmpair.protected_vm_info) for this VM, read in the task before.
      - Its definitions come with their console passwords and disk cookies masked; O(peer_secrets) holds them.
    type: dict
    required: true
  peer_secrets:
    description:
      - The other host's C(secrets) result of M(duplex.vmpair.protected_vm_info) with
        O(duplex.vmpair.protected_vm_info#module:secrets=true), read in a task with C(no_log).
      - The values C(virsh dumpxml --security-info) adds to the VM's definition (console password, disk cookies),
        put back into the definition from O(peer_facts), so that a peer gets the same definition, console password
        included.
      - Needed on the peer when the VM's definition has such values; without them the module refuses, changing
        nothing, rather than define the VM with a masked password.
    type: dict
  secret:
    description:
      - The DRBD shared secret of the VM's resource, 1 to 63 characters (drbdadm takes no more), none of them a double
        quote, a backslash or white space.
      - By default it is derived from the corosync key that both hosts hold (HMAC-SHA256 of the resource name),
        so no new secret needs to be kept and none crosses the network.
    type: str
  shutdown_timeout:
    description: Seconds to wait for a clean shutdown with O(online=false).
    type: int
    default: 300
  force_stop:
    description:
      - How the cluster stops the VM, passed on in RV(cluster_vm) to M(duplex.vmpair.vm_resources) (this module
        does not use it). V(true) destroys the guest at once, for a guest that cannot shut down cleanly.
    type: bool
    default: false
  stop_timeout:
    description:
      - Seconds a clean shutdown may take when the cluster stops the VM, before the guest is destroyed (at least
        10); passed on in RV(cluster_vm) like O(force_stop).
    type: int
    default: 120
  monitor_timeout:
    description:
      - Seconds one health check (monitor) of the VM and of its mirror may take before the cluster counts it as
        failed and recovers them (at least 10); passed on in RV(cluster_vm) like O(force_stop).
    type: int
    default: 30
requirements:
  - libvirt-clients, qemu-utils, lvm2, drbd-utils and pacemaker-cli-utils on the hosts; the DRBD module loaded
    (role duplex.vmpair.mirror).
notes:
  - The diff shows the resource file (with the shared secret masked) and the domain definition (with its console
    passwords and disk cookies masked); the definitions written keep the real values.
seealso:
  - module: duplex.vmpair.protected_vm_info
  - module: duplex.vmpair.vm_resources
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# What duplex.vmpair.protect does for one VM (play over both hosts of the pair, any_errors_fatal: true)
- name: Validate the site and describe this host's pair
  duplex.vmpair.site_model:
    require: pair
  register: site

- name: Read both hosts
  duplex.vmpair.protected_vm_info:
    names: [web1]
    storage_vg: "{{ site.pair.storage_vg }}"
  register: vm_facts

- name: Read the console passwords the peer's definition needs (never shown)
  duplex.vmpair.protected_vm_info:
    names: [web1]
    storage_vg: "{{ site.pair.storage_vg }}"
    secrets: true
  register: vm_secrets
  no_log: true

- name: Protect web1 while it runs
  duplex.vmpair.protected_vm:
    name: web1
    level: ha
    host: "{{ inventory_hostname }}"
    pair: "{{ site.pair }}"
    peer_facts: "{{ hostvars[site.pair.hosts | difference([inventory_hostname]) | first].vm_facts.host }}"
    peer_secrets: "{{ hostvars[site.pair.hosts | difference([inventory_hostname]) | first].vm_secrets.secrets }}"
  register: protected

- name: Let the cluster manage it (one CIB transaction for the pair)
  duplex.vmpair.vm_resources:
    vms: ["{{ protected.cluster_vm }}"]
  run_once: true
"""

RETURN = r"""
role:
  description: This host's part, C(vm_host) (the VM lives here), C(peer), or C(gone) (absent, the VM exists nowhere).
  returned: success
  type: str
vm_host: {description: The inventory host the VM lives on., returned: success, type: str}
vm_node: {description: Its cluster node name (for M(duplex.vmpair.vm_resources))., returned: state=present, type: str}
resource: {description: "The DRBD resource, C(vm-NAME).", returned: success, type: str}
level: {description: The level applied., returned: state=present, type: str}
devices: {description: Disk target -> DRBD device., returned: state=present, type: dict, sample: {vda: /dev/drbd100}}
port: {description: The resource's TCP port (the same on both hosts)., returned: state=present, type: int}
cluster_vm:
  description: This VM as an element of M(duplex.vmpair.vm_resources)'s O(duplex.vmpair.vm_resources#module:vms).
  returned: state=present
  type: dict
  sample: {name: web1, level: ha, host: hv-east, hypervisor: kvm, config: /etc/vmpair/domains/web1.xml, force_stop: false,
           stop_timeout: 120, monitor_timeout: 30}
warnings_found:
  description: Host-specific items of the definition that need attention on the peer (also shown as warnings).
  returned: state=present
  type: list
  elements: str
commands:
  description: What was run (or would be in check mode), in order; file writes appear as C([write, PATH, (0600)]).
  returned: success
  type: list
  elements: list
problems:
  description: Every reason the VM cannot be protected now (on failure before any change).
  returned: failure
  type: list
  elements: str
rolled_back:
  description: On a failure after changes started, whether this run's changes were undone.
  returned: failure
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import (
    DEFAULT_FORCE_STOP,
    DEFAULT_LEVEL,
    DEFAULT_MONITOR_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    LEVELS,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.host import (
    ApplyError,
    HostReadError,
    PlanError,
    run_protected_vm,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "level": {"type": "str", "choices": list(LEVELS), "default": DEFAULT_LEVEL},
            "preferred_host": {"type": "str"},
            "online": {"type": "bool", "default": True},
            "keep_peer_copy": {"type": "bool", "default": False},
            "host": {"type": "str", "required": True},
            "pair": {"type": "dict", "required": True},
            "peer_facts": {"type": "dict", "required": True},
            "peer_secrets": {"type": "dict", "no_log": True},
            "secret": {"type": "str", "no_log": True},
            "shutdown_timeout": {"type": "int", "default": 300},
            "force_stop": {"type": "bool", "default": DEFAULT_FORCE_STOP},
            "stop_timeout": {"type": "int", "default": DEFAULT_STOP_TIMEOUT},
            "monitor_timeout": {"type": "int", "default": DEFAULT_MONITOR_TIMEOUT},
        },
        supports_check_mode=True,
    )
    run_and_exit(
        module,
        lambda runner: run_protected_vm(module, runner),
        errors=[(PlanError, lambda exc: _plan_failure(module, exc)), ApplyError, HostReadError],
    )


def _plan_failure(module, exc):
    return {"msg": "VM %s cannot be %s: %s" % (module.params["name"], _verb(module), exc), "problems": exc.problems}


def _verb(module):
    return "protected" if module.params["state"] == "present" else "unprotected"


if __name__ == "__main__":
    main()

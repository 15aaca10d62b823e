#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: protected_vm_info
short_description: What one pair host has for protecting VMs (domains, volume group, DRBD, quorum)
version_added: 0.1.0
description:
  - Reads, and changes nothing. Run it on both hosts of a pair, then hand each host's result to the other host's
    M(duplex.vmpair.protected_vm) as O(duplex.vmpair.protected_vm#module:peer_facts). C(protect.yml) and
    C(unprotect.yml) do that.
  - For each VM in O(names) it reads the domain (C(virsh domstate), C(dominfo), C(dumpxml --inactive
    --security-info), C(domblklist --details), C(domblkinfo), C(blockjob --info --raw)), then the volume group
    (C(vgs), C(lvs)), the DRBD resources (C(drbdadm dump-xml), C(/proc/drbd), C(drbdadm role|cstate|dstate)) and
    corosync's quorum (C(corosync-quorumtool -s)).
extends_documentation_fragment:
  - duplex.vmpair.common
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  names:
    description: The libvirt domain names to read.
    type: list
    elements: str
    required: true
  hypervisor:
    description: C(kvm) (C(qemu:///system)) or C(xen) (C(xen:///system)).
    type: str
    choices: [kvm, xen]
    default: kvm
  storage_vg:
    description: The volume group that holds the DRBD backing volumes (C(vmpair_storage_vg)).
    type: str
    required: true
  peer_address:
    description:
      - The peer's address on the replication link. When set, the module pings it (C(ping -c 2 -W 2)) and returns
        C(host.peer_reachable).
    type: str
  secrets:
    description:
      - V(true) reads only the definitions of O(names) and returns RV(secrets) instead of RV(host), the values that
        C(virsh dumpxml --security-info) adds to each definition (the console password of a C(<graphics>) device,
        the cookies of a network disk source). M(duplex.vmpair.protected_vm) needs them as
        O(duplex.vmpair.protected_vm#module:peer_secrets) to give the peer the same definition.
      - The result then holds those values in clear text, so run such a task with C(no_log=true), as
        C(protect.yml) does.
    type: bool
    default: false
requirements:
  - libvirt-clients, lvm2, drbd-utils and corosync on the host.
notes:
  - C(host.domains[NAME].xml) is the persistent definition, read with its security information (C(virsh dumpxml
    --security-info)) but returned with those values (console passwords, disk cookies) masked as C(********).
    The real values are returned only with O(secrets=true).
seealso:
  - module: duplex.vmpair.protected_vm
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read both hosts of the pair
  duplex.vmpair.protected_vm_info:
    names: [web1, db1]
    storage_vg: vg_vms
    peer_address: 192.168.122.12
  register: vm_facts

- name: Read the console passwords the peer's definitions need (never shown)
  duplex.vmpair.protected_vm_info:
    names: [web1, db1]
    storage_vg: vg_vms
    secrets: true
  register: vm_secrets
  no_log: true
"""

RETURN = r"""
host:
  description: What this host has.
  returned: success
  type: dict
  contains:
    hypervisor: {description: kvm or xen., type: str}
    domains:
      description:
        - VM name -> null when not defined here, else C(name), C(uuid), C(state) (as virsh prints it),
          C(running), C(persistent), C(xml) (persistent definition), C(disks) (target -> type, device, live
          source, capacity in bytes) and C(jobs) (target -> running block job C(type), C(cur), C(end), C(ready)).
      type: dict
    vg: {description: "Volume group C(name), C(size), C(free), C(extent) in bytes; null when it does not exist.", type: dict}
    lvs: {description: Logical volume name -> size in bytes., type: dict}
    drbd_version: {description: "C(8.4) or C(9) from the loaded module; null when DRBD is not loaded.", type: str}
    drbd_resources: {description: Every resource in the DRBD configuration (drbdadm dump-xml) as plain data., type: dict}
    drbd_states:
      description: For each C(vm-NAME) resource the kernel knows, C(role), C(peer_role), C(cstate), C(disk), C(peer_disk).
      type: dict
    quorate: {description: "corosync's view: true or false; null when corosync does not run.", type: bool}
    peer_reachable: {description: Whether the peer answered pings on O(peer_address)., type: bool, returned: when O(peer_address) is set}
secrets:
  description:
    - VM name -> the secret values of its definition, keyed by their place in it (C({}) when it has none or the VM
      is not defined here). Hand it to the other host's M(duplex.vmpair.protected_vm) as
      O(duplex.vmpair.protected_vm#module:peer_secrets).
  returned: when O(secrets=true)
  type: dict
  sample: {web1: {"graphics[42]@passwd": "..."}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_HYPERVISOR, HYPERVISORS
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.host import masked_facts, read_facts, read_secrets
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import HostReadError


def main():
    module = AnsibleModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "hypervisor": {"type": "str", "choices": list(HYPERVISORS), "default": DEFAULT_HYPERVISOR},
            "storage_vg": {"type": "str", "required": True},
            "peer_address": {"type": "str"},
            "secrets": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params

    def work(runner):
        if p["secrets"]:
            return {"changed": False, "secrets": read_secrets(module, p["names"], p["hypervisor"], runner=runner)}
        facts = read_facts(module, p["names"], p["hypervisor"], p["storage_vg"], p["peer_address"], runner=runner)
        return {"changed": False, "host": masked_facts(facts)}

    run_and_exit(module, work, errors=[HostReadError])


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mirror_disk
short_description: Replace a protected VM's failed backing disk on this host and start its resync
version_added: 0.1.0
description:
  - When a backing disk fails under a protected VM, DRBD detaches it (C(on-io-error detach)) and the VM goes on with
    the peer's copy over the replication link (today the cluster then moves the VM to the peer, with a restart,
    about 30 s later). Its volume is then C(Diskless) on this host, and M(duplex.vmpair.pair_info) and
    C(validate.yml) report it, naming the VM and its disk.
  - Run this module on that host once the disk is repaired or a new physical volume is in the volume group. For each
    of the VM's volumes that is C(Diskless) (or only O(disk)), in order, it creates the backing logical volume
    C(VG/VM-DISK-drbd) when it is gone, as big as the DRBD device needs; writes new DRBD metadata on it
    (C(drbdadm create-md --force RES/VOLUME)); and attaches it (C(drbdadm attach RES/VOLUME)). DRBD then resyncs the
    whole volume from the peer while the VM runs; M(duplex.vmpair.wait_redundancy) waits for it with progress.
  - Nothing runs unless every volume can be replaced, each refusal naming the host, the disk and the fix. The peer
    must be connected with an C(UpToDate) copy (the only copy, which the resync reads). A logical volume that
    survived must not be on a missing physical volume (the fix is C(vgreduce --removemissing) once the new disk is
    in the group) and must be big enough. The volume group must have room for the volumes to create.
  - A volume that is attached (C(UpToDate), or C(Inconsistent) while it resyncs) is left alone, so a second run
    changes nothing. When a step fails, the logical volume this run created is removed, and a rerun starts over.
  - The C(duplex.vmpair.replace_disk) playbook runs it on the host named with C(-e host), then waits for the resync.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
options:
  vm:
    description: The protected VM's name; its DRBD resource is C(vm-VM).
    type: str
    required: true
  disk:
    description:
      - Replace only this disk of the VM (its libvirt target, such as C(vdb)). Default, every failed one.
    type: str
requirements:
  - drbd-utils and LVM on the target host, the VM protected by this collection.
seealso:
  - module: duplex.vmpair.pair_info
  - module: duplex.vmpair.wait_redundancy
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Replace web1's failed disks on this host (new LV, metadata, attach); the resync starts
  duplex.vmpair.mirror_disk:
    vm: web1

- name: Wait for the resync, with a progress line every 10 s
  duplex.vmpair.wait_redundancy:
    vms: [web1]
"""

RETURN = r"""
resource:
  description: The VM's DRBD resource.
  returned: success
  type: str
  sample: vm-web1
host:
  description: This host's node name (what DRBD calls it).
  returned: success
  type: str
  sample: hv-east
replaced:
  description: The volumes replaced (or, in check mode, to replace); empty when none had failed.
  returned: success
  type: list
  elements: dict
  sample:
    - volume: 0
      target: vda
      backing: /dev/vg_vms/web1-vda-drbd
      vg: vg_vms
      lv: web1-vda-drbd
      lv_exists: false
      lv_bytes: 21525168128
      disk: Diskless
      peer: hv-west
      commands: [[drbdadm, create-md, --force, vm-web1/0], [drbdadm, attach, vm-web1/0]]
commands:
  description: The commands run (or, in check mode, that would run), in order.
  returned: success
  type: list
  elements: list
  sample: [[drbdadm, create-md, --force, vm-web1/0], [drbdadm, attach, vm-web1/0]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import DrbdError
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.replace import run


def main():
    module = AnsibleModule(
        argument_spec={
            "vm": {"type": "str", "required": True},
            "disk": {"type": "str"},
        },
        supports_check_mode=True,
    )
    run_and_exit(
        module,
        lambda runner: run(module.params["vm"], runner, module.check_mode, disk=module.params["disk"]),
        errors=[DrbdError],
        diff="changed",
    )


if __name__ == "__main__":
    main()

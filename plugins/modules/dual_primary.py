#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dual_primary
short_description: Let a protected VM's DRBD resource be Primary on both hosts, for a live migration only
version_added: 0.1.0
description:
  - A live migration runs the VM on both hosts for a moment, so its DRBD resource must be Primary on both, which
    DRBD allows only with C(allow-two-primaries) and protocol C. Run this module on both hosts of the pair before
    the migration (O(state=present)) and after it, once the source is demoted (O(state=absent)). The collection's
    C(migrate.yml) playbook does it in that order.
  - It edits the VM's resource file C(/etc/drbd.d/vm-VM.res) (written by M(duplex.vmpair.protected_vm)) and runs
    C(drbdadm adjust), which changes the running resource without disconnecting it. With O(state=present) the
    C(protocol) becomes C(C) (a C(recovery) VM's asynchronous protocol C(A) too) and C(allow-two-primaries yes)
    is added, with a comment that remembers the level's protocol; O(state=absent) puts the file back as it was.
    The Pacemaker DRBD agent reads the option from the file before it promotes a second node.
  - O(state=absent) is refused while both hosts are Primary (DRBD would refuse it too).
  - When C(drbdadm adjust) fails, the file is put back, so the file always says what DRBD runs.
  - The resource's shared secret, read from the file, is masked (C(********)) in the diff, in errors (drbdadm
    prints the configuration with it when it fails) and everywhere else in the module's output.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
options:
  vm:
    description: The VM's name; its DRBD resource is C(vm-VM).
    type: str
    required: true
  state:
    description: C(present) allows two primaries; C(absent) returns to the level's own settings.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - drbd-utils on the target host, the VM protected by this collection.
seealso:
  - module: duplex.vmpair.vm_resources
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Allow two primaries for web1 on both hosts (before the migration)
  duplex.vmpair.dual_primary:
    vm: web1

- name: Back to one primary (after the cluster demoted the source)
  duplex.vmpair.dual_primary:
    vm: web1
    state: absent
"""

RETURN = r"""
resource:
  description: The DRBD resource.
  returned: success
  type: str
  sample: vm-web1
path:
  description: Its resource file.
  returned: success
  type: str
  sample: /etc/drbd.d/vm-web1.res
role:
  description: What C(drbdadm role) said before the change (this host's role, then the peer's).
  returned: success
  type: str
  sample: Primary/Secondary
commands:
  description: The commands run (or, in check mode, that would run).
  returned: success
  type: list
  elements: list
  sample: [[drbdadm, adjust, vm-web1]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import DrbdError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.dual_primary import run


def main():
    module = AnsibleModule(
        argument_spec={
            "vm": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    run_and_exit(
        module,
        lambda runner: run(
            module.params["vm"],
            module.params["state"] == "present",
            runner,
            module.check_mode,
            no_log_values=module.no_log_values,
        ),
        errors=[DrbdError],
        diff="changed",
    )


if __name__ == "__main__":
    main()

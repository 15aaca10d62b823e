#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_properties
short_description: Set Pacemaker cluster properties with pcs
version_added: 0.1.0
description:
  - Makes the named Pacemaker cluster properties (the C(cib-bootstrap-options) set in the CIB's C(crm_config))
    have the given values, with one C(pcs property set) command for everything that differs.
  - Reads the current values from the CIB first; when all match, runs no changing command.
  - Properties not named are left alone.
  - pcs 0.11 validates names and values against Pacemaker's own metadata; an unknown property fails.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
  - duplex.vmpair.common.cib_file
options:
  properties:
    description:
      - Property name to value, for example C(stonith-enabled), C(no-quorum-policy), C(priority-fencing-delay).
      - Values are strings as Pacemaker stores them; booleans become C(true)/C(false) and numbers their decimal text.
      - A null value removes the property (Pacemaker then uses its default).
    type: dict
    required: true
requirements:
  - pcs 0.11 and pacemaker-cli-utils (cibadmin) on the target host.
seealso:
  - module: duplex.vmpair.fence_device
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Fence, and stop resources on the side without quorum
  duplex.vmpair.cluster_properties:
    properties:
      stonith-enabled: true
      no-quorum-policy: stop
      priority-fencing-delay: 10s

- name: Go back to Pacemaker's default for a property
  duplex.vmpair.cluster_properties:
    properties:
      maintenance-mode: null

- name: Prepare an offline CIB file
  duplex.vmpair.cluster_properties:
    cib_file: /root/staged-cib.xml
    properties:
      stonith-enabled: true
"""

RETURN = r"""
properties:
  description: All properties of the C(cib-bootstrap-options) set after the run (predicted in check mode).
  returned: success
  type: dict
  sample: {stonith-enabled: "true", no-quorum-policy: stop}
commands:
  description: The pcs commands that were run (or would be run in check mode), as argument lists.
  returned: success
  type: list
  elements: list
  sample: [["pcs", "property", "set", "no-quorum-policy=stop", "stonith-enabled=true"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import PcsError
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.properties import ensure_cluster_properties


def run_module():
    module = AnsibleModule(
        argument_spec={
            "properties": {"type": "dict", "required": True},
            "cib_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    run_and_exit(
        module,
        lambda runner: ensure_cluster_properties(runner, module.params["properties"], check_mode=module.check_mode),
        errors=[PcsError],
        cib_file=module.params["cib_file"],
    )


def main():
    run_module()


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fence_topology
short_description: Manage Pacemaker fencing levels and the watchdog (diskless SBD) fence device
version_added: 0.1.0
description:
  - Makes the fencing levels (the CIB's C(fencing-topology)) of each node named in O(levels) exactly the given
    list, with C(pcs stonith level add) and C(pcs stonith level delete LEVEL target NODE). Pacemaker tries a
    node's levels in order, level 1 first, and stops at the first level whose devices all succeed.
  - Levels of nodes not named in O(levels) are left alone.
  - With O(watchdog) set, a stonith device with id C(watchdog) and agent C(fence_watchdog) fences the nodes in
    O(watchdog.nodes) (its C(pcmk_host_list)), and the cluster property C(stonith-watchdog-timeout) is set to
    O(watchdog.stonith_watchdog_timeout). A level naming C(watchdog) then succeeds for a lost node once that
    many seconds have passed, on the assumption that the node has reset itself through its hardware watchdog
    (diskless SBD). Pacemaker accepts this device only with exactly that id and agent.
  - With O(watchdog=null) that device and C(stonith-watchdog-timeout) are removed, after the levels that name
    it.
  - The current levels are read from the CIB's XML, not from pcs's text output, which may differ between pcs
    releases.
  - C(stonith-watchdog-timeout) is set and removed with C(crm_attribute --type crm_config), because
    C(pcs property set) refuses it unless sbd.service is enabled on the host that runs pcs.
  - All changes of one run are made on a copy of the CIB, checked with C(crm_verify) and pushed to the cluster
    in one transaction, in this order. Levels that change or go are deleted; the watchdog device is created or
    updated; C(stonith-watchdog-timeout) is set; the new levels are added; a watchdog device no longer wanted
    is deleted, then C(stonith-watchdog-timeout) is removed.
  - Nothing changes when a level names a device that does not exist (and is not the watchdog device set up by
    the same run), a node that is not in the cluster, or when O(watchdog=null) would remove a device that a
    level of a node not named in O(levels) still uses; the error names the node, the level and the device.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
  - duplex.vmpair.common.cib_file
options:
  levels:
    description:
      - Node name to that node's fencing levels, level 1 first. Each level is a list of stonith device ids; a
        level succeeds only when all its devices succeed (for example the two power supplies of a host).
      - The node's levels in the CIB become exactly this list (level numbers 1 to n). An empty list removes
        all the node's levels.
      - Name C(watchdog) in a level (normally the last) to fall back to watchdog self-fencing; O(watchdog)
        must then be set.
    type: dict
    required: true
  watchdog:
    description:
      - The watchdog fence device and C(stonith-watchdog-timeout), or null to remove both.
      - Set it only when sbd runs with a watchdog on every node in O(watchdog.nodes). Pacemaker 2.1 shuts a
        node's cluster stack down when C(stonith-watchdog-timeout) is set, the node is a watchdog target and
        sbd is not active on it.
    type: dict
    suboptions:
      stonith_watchdog_timeout:
        description:
          - Seconds after which a lost node counts as fenced by its watchdog (C(stonith-watchdog-timeout)).
          - It must be larger than C(SBD_WATCHDOG_TIMEOUT) in C(/etc/default/sbd) on every node; Pacemaker
            refuses to run with a smaller one. Twice C(SBD_WATCHDOG_TIMEOUT) is a common choice.
        type: int
        required: true
      nodes:
        description:
          - The nodes that fence themselves through their watchdog (C(pcmk_host_list) of the C(watchdog)
            device), in the order written to the CIB.
        type: list
        elements: str
        required: true
requirements:
  - pcs 0.11 and pacemaker-cli-utils (cibadmin, crm_attribute, crm_verify) on the target host.
notes:
  - On Pacemaker 2.1.5 (Debian 12) a fencing operation that reaches the watchdog level fails when it takes
    longer than 1.2 times the sum of the reboot timeouts (C(pcmk_reboot_timeout), by default
    C(stonith-timeout)) of the node's other fence devices, and the watchdog level is never tried when the
    levels before it take longer than 1.2 times C(stonith-timeout) to fail. Make those levels fail fast, and
    leave room in their devices' timeouts and in C(stonith-timeout) for their failure time plus the watchdog
    timeout. Pacemaker 2.1.8 lifts these limits.
seealso:
  - module: duplex.vmpair.fence_device
  - module: duplex.vmpair.cluster_properties
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: BMC first, then both PDU outlets together, then the watchdog
  duplex.vmpair.fence_topology:
    levels:
      hv-east: [[fence_hv-east], [fence_hv-east_pdu1, fence_hv-east_pdu2], [watchdog]]
      hv-west: [[fence_hv-west], [fence_hv-west_pdu1, fence_hv-west_pdu2], [watchdog]]
    watchdog:
      stonith_watchdog_timeout: 70
      nodes: [hv-east, hv-west]

- name: Drop the watchdog fallback (levels first, then the device and the property)
  duplex.vmpair.fence_topology:
    levels:
      hv-east: [[fence_hv-east]]
      hv-west: [[fence_hv-west]]
    watchdog: null

- name: Remove all levels of one node, leave the other's
  duplex.vmpair.fence_topology:
    levels:
      hv-west: []

- name: Show what would change in an offline CIB file
  duplex.vmpair.fence_topology:
    cib_file: /root/staged-cib.xml
    levels:
      hv-east: [[fence_hv-east], [watchdog]]
    watchdog:
      stonith_watchdog_timeout: 70
      nodes: [hv-east, hv-west]
  check_mode: true
  diff: true
"""

RETURN = r"""
commands:
  description:
    - The commands that were applied (or would be in check mode), as argument lists, in order.
    - They run on a copy of the CIB (C(pcs -f COPY), C(crm_attribute) with E(CIB_file=COPY)) that is pushed once
      (C(pcs cluster cib-push diff-against=...)).
  returned: success
  type: list
  elements: list
  sample:
    - [pcs, stonith, create, watchdog, fence_watchdog, pcmk_host_list=hv-east hv-west]
    - [crm_attribute, --type, crm_config, --name, stonith-watchdog-timeout, --update, "70"]
    - [pcs, stonith, level, add, "1", hv-east, fence_hv-east]
    - [pcs, stonith, level, add, "2", hv-east, watchdog]
levels:
  description: The fencing levels in the CIB after the run (in check mode, as they would be), by node, level 1
    first; every node with levels, named in O(levels) or not.
  returned: success
  type: dict
  sample: {hv-east: [[fence_hv-east], [watchdog]], hv-west: [[fence_hv-west], [watchdog]]}
diff:
  description: The levels of every node, the watchdog device and C(stonith-watchdog-timeout), before and after.
  returned: success
  type: dict
  contains:
    before: {description: The state before the run., type: str}
    after: {description: The state after the run., type: str}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import PcsError
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.topology import ensure_fence_topology


def run_module():
    module = AnsibleModule(
        argument_spec={
            "levels": {"type": "dict", "required": True},
            "watchdog": {
                "type": "dict",
                "options": {
                    "stonith_watchdog_timeout": {"type": "int", "required": True},
                    "nodes": {"type": "list", "elements": "str", "required": True},
                },
            },
            "cib_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params

    def work(runner):
        return ensure_fence_topology(
            runner,
            params["levels"],
            watchdog=params["watchdog"],
            check_mode=module.check_mode,
        )

    run_and_exit(module, work, errors=[PcsError], cib_file=params["cib_file"])


def main():
    run_module()


if __name__ == "__main__":
    main()

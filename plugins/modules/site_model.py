#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: site_model
short_description: Validate the site inventory and describe a host's pair
version_added: 0.1.0
description:
  - Reads the site model from the inventory (the C(vmpair_pairs) and C(vmpair_witnesses) groups and the
    C(vmpair_*) variables, see C(docs/site_model.md)), checks all of it and returns the derived description of
    the pair the current host belongs to.
  - Every problem is reported at once, each naming the pair or host, the variable and the fix.
  - Runs on the controller only; it never connects to the host and never reads fencing passwords.
options:
  host:
    description:
      - Inventory name of the host to describe. Defaults to the current host.
    type: str
  require:
    description:
      - Fail with a clear message unless the host is a pair host (V(pair)) or a witness (V(witness)).
    type: str
    choices: [pair, witness]
attributes:
  check_mode:
    support: full
    description: Changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  action:
    support: full
    description: Runs on the controller as an action plugin.
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Validate the site and describe this host's pair
  duplex.vmpair.site_model:
  register: __vmpair_site

- name: Show the peer
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is paired with {{ __vmpair_site.peer.host }}"
  when: __vmpair_site.pair is not none
"""

RETURN = r"""
pair:
  description: The pair of the host (null when the host is not in a pair).
  returned: success
  type: dict
  contains:
    name:
      description: Pair group name.
      type: str
      returned: always
    cluster_name:
      description: Corosync cluster name (vmpair_cluster_name or the group name).
      type: str
      returned: always
    hypervisor:
      description: V(kvm) or V(xen).
      type: str
      returned: always
    storage_vg:
      description: LVM volume group for VM disks.
      type: str
      returned: always
    hosts:
      description: The two hosts in inventory order (node ids 1 and 2).
      type: list
      elements: str
      returned: always
    nodes:
      description: Per host its inventory name, node name, node id, site and capacity.
      type: list
      elements: dict
      returned: always
    links:
      description: Every link with its hosts' interfaces, addresses and prefix length.
      type: list
      elements: dict
      returned: always
    cluster_links:
      description: The links that carry corosync, with their knet link number.
      type: list
      elements: dict
      returned: always
    replication_links:
      description: The links that carry DRBD.
      type: list
      elements: dict
      returned: always
    witness:
      description: Witness host, address, port, algorithm and tie breaker; null without a witness.
      type: dict
      returned: always
    two_node:
      description: True when the pair has no witness (corosync two_node mode).
      type: bool
      returned: always
    fence_race_winner:
      description: In two_node mode, the host whose fence device is delayed.
      type: str
      returned: always
    fence_delay:
      description: Seconds of that delay.
      type: int
      returned: always
    token_ms:
      description: Corosync token timeout in milliseconds.
      type: int
      returned: always
  sample: {name: pair_mail, cluster_name: pair_mail, hosts: [hv-east, hv-west], two_node: false}
node:
  description: This host's entry of RV(pair.nodes).
  returned: when the host is in a pair
  type: dict
peer:
  description: The other host's entry of RV(pair.nodes).
  returned: when the host is in a pair
  type: dict
witness:
  description: When the host is a witness, the cluster names that use it and its port.
  returned: when the host is in vmpair_witnesses
  type: dict
pairs:
  description: Names of all pairs of the site.
  returned: success
  type: list
  elements: str
problems:
  description: Every problem found, each with where, variable, message and fix.
  returned: failed
  type: list
  elements: dict
"""

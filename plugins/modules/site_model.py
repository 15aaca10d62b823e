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
  - Every problem is reported at once, each naming the pair or host, the variable and the fix. A finding is an
    error (the task fails) or a warning (shown, the task goes on), for example a pair without a witness, whose
    two hosts race to fence each other after a split.
  - The checks cover the pairs' shape, links and addresses (unique in the whole site), link latency against the
    synchronous protection levels, fencing, the witness, the VMs (names unique in the site; levels V(recovery) and
    V(ha), as V(ft) is not available yet and is an error) and the hosts' capacity (every VM of a pair must fit
    on either host alone), and report every unknown C(vmpair_*) inventory variable and every unknown key of a VM,
    with the name it is a typo of when there is a close one.
    Extra variables (C(-e), AWX surveys) are a playbook's options, not inventory variables, and are not checked.
  - With O(check=true) it is the engine of the C(duplex.vmpair.check_site) playbook; it does not fail but
    returns the findings grouped by pair, the counts and the verdict, and writes a JSON and a JUnit XML report.
  - Runs on the controller only; it never connects to the host and never reads fencing passwords.
  - The pairs are the child groups of C(vmpair_pairs); as no Ansible variable holds the group tree, it reads them
    with C(ansible-inventory --graph vmpair_pairs) on the same inventory sources (no vault password needed).
  - A pair whose hosts' variables Ansible cannot read (a vars file encrypted as a whole by ansible-vault and no
    vault password) is one error that names the file; nothing else of that pair is checked.
requirements:
  - netaddr (Python library, on the controller)
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
  check:
    description:
      - Check the whole site for a report instead of describing a host's pair. Errors do not fail the task; the
        result holds RV(passed), RV(counts), RV(summary) and RV(findings), and the reports are written.
      - O(host) and O(require) are ignored.
    type: bool
    default: false
  strict:
    description:
      - With O(check=true), warnings fail the check too (RV(passed) is false) and are failures in the JUnit
        report. The C(check_site) playbook sets it from C(vmpair_check_strict).
    type: bool
    default: false
  json_report:
    description:
      - With O(check=true), write the JSON report to this path on the controller (parent directories are
        created). The C(check_site) playbook sets it from C(vmpair_check_json_report).
      - Holds C(format), C(passed), C(inventory), C(counts), C(pairs) (errors and warnings of each pair) and
        C(findings).
    type: path
  junit_report:
    description:
      - With O(check=true), write a JUnit XML report to this path on the controller. The C(check_site) playbook
        sets it from C(vmpair_check_junit_report).
      - One test suite per pair with one test case per check (pair, links, addresses, latency, fencing,
        witness, vms, capacity, variables) and a suite C(site) for findings of no pair; a check with an error
        has a failure that carries the findings.
    type: path
  level:
    description:
      - The level a run gives the VMs of O(vms) instead of their C(vmpair_vms) level (the C(level) option of the
        C(duplex.vmpair.protect) playbook, C(-e level) or the AWX survey's Level). Ignored with O(check=true).
      - A level the collection does not serve fails the task at once, before the inventory is read, with the same
        rule as a VM's level in the site check (V(ft) is not available yet; any other word is no level).
      - Each VM whose C(vmpair_vms) level it replaces gets a warning that names the VM and both levels.
    type: str
  vms:
    description:
      - With O(level), the VMs the run acts on, by name (other pairs' VMs are left out). Empty means every VM of
        the host's pair.
      - Each name here also gets its entry in RV(resource_ids), a VM of the pair or not (split_brain.yml names
        a VM that may be left out of C(vmpair_vms)).
    type: list
    elements: str
    default: []
notes:
  - The rules and every variable are described in C(docs/site_model.md) of the collection.
  - Synchronous levels have a round-trip limit for their replication links (V(ha) 5 ms, V(ft) 1 ms), which a pair
    can change with C(vmpair_sync_rtt_limit_ms).
  - A link that carries V(vm) (the VMs' own traffic) together with V(cluster) or V(replication) is an error, or a
    warning that states the risk where the pair sets C(vmpair_links_shared_with_vms=true).
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

- name: Check the whole site for CI, with reports
  duplex.vmpair.site_model:
    check: true
    strict: true
    json_report: out/site.json
    junit_report: out/site.xml
  register: __vmpair_check
  delegate_to: localhost
  run_once: true
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
      description: Per host its inventory name (C(host)), node C(name), C(nodeid), C(site), C(capacity) and
        C(migration_name), the name the peer reaches it by for live migration (the node name with C(-vmpair)
        after its first label).
      type: list
      elements: dict
      returned: always
    links:
      description: Every link with its hosts' interfaces, addresses, prefix length and bond members, its bond
        options, C(mtu) and C(bridge) (null when not set).
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
    migration_tunnelled:
      description: C(vmpair_migration_tunnelled) (default true), live migration tunnelled through libvirt's ssh
        connection; the firewall rules then leave out QEMU's migration ports.
      type: bool
      returned: always
    vms:
      description: The names of the pair's VMs, sorted.
      type: list
      elements: str
      returned: always
    vm_settings:
      description:
        - Each VM of C(vmpair_vms) by name, with its defaults filled, so that playbooks need no defaults of their
          own.
        - C(name), C(level) (default C(ha)), C(preferred_host) (null for either host), C(force_stop) (default
          false), C(stop_timeout) (seconds, default 120), C(monitor_timeout) (seconds, default 30), and C(vcpus)
          and C(memory_mib) where the entry gives them.
      type: dict
      returned: always
      sample: {web1: {name: web1, level: ha, preferred_host: null, force_stop: false, stop_timeout: 120,
                      monitor_timeout: 30}}
    sync_rtt_limit_ms:
      description: The round-trip limits (ms) in force for the synchronous levels, by level.
      type: dict
      returned: always
    firewall:
      description: By host, the traffic it must let in from its peer, each rule with C(purpose), C(protocol),
        C(port) (a number or a range) and C(sources) (the peer's addresses on the links that carry it).
      type: dict
      returned: always
      sample: {hv-east: [{purpose: corosync knet (cluster links), protocol: udp, port: "5405",
               sources: [10.10.0.2, 10.11.0.2]}]}
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
  description: When the host is a witness, the cluster names that use it (C(clusters)), its C(port), and the pair
    hosts that connect to it (C(clients), each with C(pair), C(host) and the C(witness_address) they connect to).
  returned: when the host is in vmpair_witnesses
  type: dict
resource_ids:
  description:
    - By VM (each VM of the host's pair, and each name of O(vms)), the names the collection gives its objects,
      the one place the playbooks read them from (module_utils vocabulary builds them).
    - C(vm_resource) the cluster's VirtualDomain resource C(vm-NAME), C(drbd_resource) the cluster's
      ocf:linbit:drbd resource C(drbd-NAME), C(drbd_clone) its clone C(drbd-NAME-clone), C(drbd_name) the DRBD
      resource (drbdadm) C(vm-NAME).
  returned: when the host is in a pair
  type: dict
  sample: {web1: {vm_resource: vm-web1, drbd_resource: drbd-web1, drbd_clone: drbd-web1-clone, drbd_name: vm-web1}}
pairs:
  description: Names of all pairs of the site.
  returned: success
  type: list
  elements: str
debian_releases:
  description:
    - The Debian releases the collection supports, oldest first, by codename, each with its major version
      as Ansible's C(distribution_major_version) fact gives it (module_utils vocabulary defines them).
    - The roles' operating system check and the release upgrade of C(duplex.vmpair.rolling_update) read them here.
  returned: success
  type: dict
  sample: {bookworm: "12", trixie: "13"}
problems:
  description: Every error found, each with where, variable, message, fix, severity, check, pair, host and text.
  returned: failed
  type: list
  elements: dict
passed:
  description: Whether the site passed the check (no error, and no warning when O(strict)).
  returned: when O(check=true)
  type: bool
counts:
  description: Numbers of pairs, witnesses, VMs, errors, warnings, pairs with errors and pairs with warnings.
  returned: when O(check=true)
  type: dict
  sample: {pairs: 2, witnesses: 1, vms: 12, errors: 1, warnings: 0, pairs_with_errors: 1, pairs_with_warnings: 0,
           strict: false}
summary:
  description: The lines to show, the findings grouped by pair (errors first), the counts last.
  returned: when O(check=true)
  type: list
  elements: str
findings:
  description: Every error and warning, each with where, variable, message, fix, severity, check, pair, host
    and text.
  returned: when O(check=true)
  type: list
  elements: dict
reports:
  description: The absolute paths of the reports written, under the keys C(json) and C(junit).
  returned: when O(check=true)
  type: dict
"""

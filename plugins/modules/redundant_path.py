#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: redundant_path
short_description: Make a redundant network path (an active-backup or LACP bond) between the two hosts of a pair
version_added: 0.1.0
description:
  - A path is a named connection between the two hosts of a pair that survives the loss of one of its member
    interfaces. Run the module on each host of the pair.
  - "O(kind=bond): makes or updates a bond of the O(members) (mode C(active-backup) by default, or C(802.3ad)), its
    link monitor, primary member, MTU and addresses, and optionally a bridge on top for VM traffic (the addresses
    are then the bridge's). It writes the persistent configuration for the host's network stack (ifupdown,
    systemd-networkd or NetworkManager) and brings the live state in line with C(ip) commands."
  - "O(kind=knet): a path of corosync knet links is built by corosync, not by this module. It only reads the member
    interfaces and judges their hardware independence and state, and changes nothing."
  - "Before anything else it reads the members' hardware from sysfs and refuses (O(shared_hardware=refuse)) when two
    members share a physical port (C(phys_port_id)), a PCI device (two functions of one multi-port card, or the
    ports of one function), a NIC's embedded switch (C(phys_switch_id)) or a lower interface (two VLANs of one
    NIC), and always when a member does not exist or is named twice. Each message names both interfaces and what
    they share. Virtual NICs (virtio, vmxnet3, veth, ...) cannot be proven independent from inside the host: that
    is a warning, never a refusal."
  - It never enslaves the interface that holds the address Ansible connects through (O(management_address), by
    default the server address of E(SSH_CONNECTION)), never removes an address it did not add, and changes the
    mode or LACP rate of an existing bond (which takes it down) only with O(rebuild=true).
  - The first line of each file it writes names the path. Files of the path that are no longer needed (a member
    taken out) are removed. A C(# vmpair-addresses) line records the addresses it added, so that an address
    taken out of O(addresses) is removed live too.
  - See the collection's C(docs/network.md) for the detection of the network stack and the files of each one.
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
options:
  name:
    description:
      - The path's name, for example the site model's link name. It names the files (C(vmpair-NAME...)).
      - 1 to 32 letters, digits, C(_), C(-) or C(.), starting with a letter or digit.
    type: str
    required: true
  kind:
    description:
      - C(bond) makes the bond (and bridge). C(knet) only checks the members (corosync makes knet links).
    type: str
    choices: [bond, knet]
    default: bond
  interface:
    description:
      - The bond's interface name, for example C(bond0). Defaults to O(name).
    type: str
  members:
    description:
      - The member interfaces, two or more, each on hardware of its own.
      - With O(kind=knet), the interfaces that carry the path's knet links.
    type: list
    elements: str
    required: true
  mode:
    description:
      - The bonding mode. C(active-backup) needs no switch support and works back to back; C(802.3ad) is LACP and
        needs a switch (or peer) that speaks it.
    type: str
    choices: [active-backup, 802.3ad]
    default: active-backup
  monitor:
    description:
      - How the bond sees a failed member. C(mii) watches the carrier; C(arp) sends ARP probes to O(arp_targets)
        (mode C(active-backup) only) and also sees a failure beyond the first cable.
    type: str
    choices: [mii, arp]
    default: mii
  interval_ms:
    description:
      - The link monitor's interval in milliseconds, 10 to 10000.
    type: int
    default: 100
  arp_targets:
    description:
      - IPv4 addresses that the ARP monitor probes (the peer's address on this path). Required with O(monitor=arp).
    type: list
    elements: str
    default: []
  primary:
    description:
      - The member that carries the traffic whenever it is up (mode C(active-backup)). Defaults to the first member,
        so that both hosts of a back-to-back path send on the same cable.
    type: str
  lacp_rate:
    description:
      - The LACPDU rate asked of the partner (mode C(802.3ad) only). Not set, the kernel's default (C(slow)) is
        used and not checked.
    type: str
    choices: [slow, fast]
  mtu:
    description:
      - The MTU of the bond (and bridge). Not set, the MTU is left alone.
    type: int
  addresses:
    description:
      - Addresses with prefix length (C(10.10.0.1/24), C(fd00:10::1/64)) of the bond, or of the bridge when there
        is one.
    type: list
    elements: str
    default: []
  bridge:
    description:
      - The name of a bridge to put on top of the bond for VM traffic, or null for none.
    type: str
  stack:
    description:
      - The network stack whose files make the path at boot. C(auto) detects it (NetworkManager when its service
        is enabled, else systemd-networkd when enabled, else ifupdown when installed); C(none) writes no file
        and only changes the live state.
    type: str
    choices: [auto, ifupdown, networkd, networkmanager, none]
    default: auto
  shared_hardware:
    description:
      - What to do when two members share hardware. C(refuse) fails; C(warn) goes on and returns the finding as a
        warning. A missing interface is always refused.
    type: str
    choices: [refuse, warn]
    default: refuse
  rebuild:
    description:
      - Allow taking an existing bond down to change its mode or LACP rate (the path stops for a moment).
        Never done when the management connection runs over it.
    type: bool
    default: false
  management_address:
    description:
      - The address Ansible connects to on this host, for example C({{ ansible_host }}). The interface holding it
        is never enslaved. Defaults to the server address of E(SSH_CONNECTION).
    type: str
  sysfs_root:
    description:
      - Where sysfs is mounted. Tests point it at a fixture tree.
    type: path
    default: /sys
requirements:
  - iproute2 (C(ip)) on the target host.
  - "For ifupdown: the packages ifenslave and, with a bridge, bridge-utils (a warning says when they are missing)."
notes:
  - Changes are made with C(ip) and written for boot; C(networkctl reload) or C(nmcli connection reload) then makes
    systemd-networkd or NetworkManager read the files. The module does not run C(ifup), C(ifreload) or
    C(nmcli connection up).
seealso:
  - module: duplex.vmpair.pair_info
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Replication and cluster path, two cables on two cards, back to back
  duplex.vmpair.redundant_path:
    name: repl
    interface: bond0
    members: [enp65s0f0, enp129s0f0]
    addresses: [10.10.0.1/24]

- name: VM traffic over LACP to a switch pair, with a bridge for the VMs
  duplex.vmpair.redundant_path:
    name: vm
    interface: bond1
    members: [eno1, enp129s0f1]
    mode: 802.3ad
    lacp_rate: fast
    mtu: 9000
    bridge: br-vm
    addresses: [192.0.2.21/24]

- name: ARP monitoring of the peer, written for systemd-networkd
  duplex.vmpair.redundant_path:
    name: repl
    interface: bond0
    members: [enp65s0f0, enp129s0f0]
    monitor: arp
    arp_targets: [10.10.0.2]
    addresses: [10.10.0.1/24]
    stack: networkd

- name: Check the interfaces of the corosync knet links (changes nothing)
  duplex.vmpair.redundant_path:
    name: cluster
    kind: knet
    members: [eno1, enp65s0f1]
  register: knet_path
"""

RETURN = r"""
members:
  description: Each member as read after the run (before it in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The interface.
      type: str
    exists:
      description: Whether the interface exists.
      type: bool
    operstate:
      description: The kernel's operstate, for example C(up) or C(down).
      type: str
    carrier:
      description: Whether it has a carrier; null when the kernel does not say (the interface is down).
      type: bool
    speed_mbps:
      description: The link speed in Mbit/s; null when unknown (link down, some virtual NICs).
      type: int
    pci_address:
      description: The PCI function, for example C(0000:41:00.1).
      type: str
    pci_device:
      description: The PCI device without the function (that of the physical function for an SR-IOV VF).
      type: str
    driver:
      description: The driver.
      type: str
    virtual:
      description: Whether it is a virtual NIC whose hardware cannot be checked from this host.
      type: bool
    active:
      description: Whether it is the bond's current active member.
      type: bool
    in_path:
      description: Whether it is a member of the bond now (always true for O(kind=knet)).
      type: bool
  sample:
    - {name: enp65s0f0, exists: true, operstate: up, carrier: true, speed_mbps: 10000, pci_address: "0000:41:00.0",
       pci_device: "0000:41:00", driver: ixgbe, virtual: false, active: true, in_path: true}
redundant:
  description: Whether the path survives the loss of one member now, that is two or more members up (in the bond)
    on hardware proven independent.
  returned: always
  type: bool
independence:
  description: The members' hardware verdict, C(independent), C(unproven) (virtual NICs), C(shared) or C(missing).
  returned: always
  type: str
findings:
  description: What is missing or doubtful, each with C(severity) (C(critical), C(warning), C(info)), C(component)
    (C(network)), C(subject), C(message) and C(fix).
  returned: always
  type: list
  elements: dict
stack:
  description: The network stack whose files were written (null for O(kind=knet)).
  returned: always
  type: str
files:
  description: The path's files with C(state) (C(created), C(updated), C(unchanged), C(removed)) and C(mode).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/network/interfaces.d/vmpair-repl, state: created, mode: "0644"}]
commands:
  description: The commands run (or, in check mode, that would run), as argument lists.
  returned: always
  type: list
  elements: list
  sample: [[ip, link, add, bond0, type, bond, mode, active-backup, miimon, "100"]]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.netpath.apply import PathError, finding_warnings, run

ROOT = "/"  # where /etc is; the tests point it at a temporary directory


def run_module():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "kind": {"type": "str", "choices": ["bond", "knet"], "default": "bond"},
            "interface": {"type": "str"},
            "members": {"type": "list", "elements": "str", "required": True},
            "mode": {"type": "str", "choices": ["active-backup", "802.3ad"], "default": "active-backup"},
            "monitor": {"type": "str", "choices": ["mii", "arp"], "default": "mii"},
            "interval_ms": {"type": "int", "default": 100},
            "arp_targets": {"type": "list", "elements": "str", "default": []},
            "primary": {"type": "str"},
            "lacp_rate": {"type": "str", "choices": ["slow", "fast"]},
            "mtu": {"type": "int"},
            "addresses": {"type": "list", "elements": "str", "default": []},
            "bridge": {"type": "str"},
            "stack": {
                "type": "str",
                "choices": ["auto", "ifupdown", "networkd", "networkmanager", "none"],
                "default": "auto",
            },
            "shared_hardware": {"type": "str", "choices": ["refuse", "warn"], "default": "refuse"},
            "rebuild": {"type": "bool", "default": False},
            "management_address": {"type": "str"},
            "sysfs_root": {"type": "path", "default": "/sys"},
        },
        supports_check_mode=True,
    )
    run_and_exit(
        module,
        lambda runner: run(module.params, runner, root=ROOT, check_mode=module.check_mode, environ=os.environ),
        errors=[PathError],
        diff="asked",
        warnings=finding_warnings,
    )


def main():
    run_module()


if __name__ == "__main__":
    main()

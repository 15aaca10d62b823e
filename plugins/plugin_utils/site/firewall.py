# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The traffic a pair needs through the hosts' firewalls: each port, from which addresses only.

A rule is ``{"purpose", "protocol", "port", "sources"}``: ``port`` is a number or a range
``"7790-7999"``, ``sources`` the addresses allowed to reach it. Nothing here touches a host: the
network role applies the rules with the host's firewall tool. (The witness's rule, corosync-qnetd's
port from the address each pair host reaches it from, is made by the witness role, which asks the
pair hosts' routing tables.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.allocation import DEFAULT_BASE_PORT, DEFAULT_MAX_PORT

# corosync's knet transport listens on this UDP port on every link's address (corosync.conf
# sets no other), see corosync.conf(5) "mcastport".
KNET_PORT = 5405
# The TCP ports DRBD resources of protected VMs are given (drbd_alloc).
DRBD_PORTS = "%d-%d" % (DEFAULT_BASE_PORT, DEFAULT_MAX_PORT)
# QEMU's migration data ports as libvirt hands them out (qemu.conf migration_port_min/max), and
# ssh, libvirt's migration control channel (role duplex.vmpair.hypervisor). A tunnelled migration
# (vmpair_migration_tunnelled, the default) sends the data through the ssh connection: no data port.
MIGRATION_PORTS = "49152-49215"
SSH_PORT = 22


# (purpose, protocol, port, the traffic whose links the peer's addresses are taken from)
RULES = (
    ("corosync knet (cluster links)", "udp", str(KNET_PORT), "cluster"),
    ("DRBD replication of protected VMs", "tcp", DRBD_PORTS, "replication"),
    ("libvirt live migration (ssh control channel)", "tcp", str(SSH_PORT), "replication"),
    ("libvirt live migration (QEMU data ports)", "tcp", MIGRATION_PORTS, "replication"),
)
# The rule a tunnelled migration does not need.
QEMU_DATA_RULE = RULES[-1][0]


def _peer_addresses(links, peer, carries):
    found = {link["hosts"][peer]["address"] for link in links if carries in link["carries"] and peer in link["hosts"]}
    return sorted(a for a in found if a)


def pair_rules(hosts, links, migration_tunnelled=True):
    """{host: [rule, ...]}: what each host of a validated pair (site.build_pair) lets in from its peer.

    With ``migration_tunnelled`` the QEMU migration data ports are left out: the guest's memory
    goes through libvirt's ssh connection.
    """
    out = {}
    for host in hosts:
        peer = [h for h in hosts if h != host][0]
        sources = {carries: _peer_addresses(links, peer, carries) for carries in ("cluster", "replication")}
        out[host] = [
            {"purpose": purpose, "protocol": protocol, "port": port, "sources": sources[carries]}
            for purpose, protocol, port, carries in RULES
            if sources[carries] and not (migration_tunnelled and purpose == QEMU_DATA_RULE)
        ]
    return out

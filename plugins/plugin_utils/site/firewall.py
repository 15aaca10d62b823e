# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The traffic a pair needs through the hosts' firewalls: each port, from which addresses only.

A rule is ``{"purpose", "protocol", "port", "sources", "closed"}``: ``port`` is a number or a range
``"7790-7999"``, ``sources`` the addresses allowed to reach it, ``closed`` whether the port is also
shut to every other address (true for the pair's own services; false for ssh, which the controller
and the site's admins use too). Nothing here touches a host: the network role applies the rules with
the host's firewall tool (``vmpair_firewall``). (The witness's rule, corosync-qnetd's port from the
address each pair host reaches it from, is made by the witness role, which asks the pair hosts'
routing tables.)
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

# The values of vmpair_firewall (role duplex.vmpair.network): auto is firewalld when it runs, else
# the collection's own nftables table; none manages no firewall.
TOOLS = ("auto", "firewalld", "nftables", "none")

# (purpose, protocol, port, the traffic whose links the peer's addresses are taken from, closed:
# dropped from every other address)
RULES = (
    ("corosync knet (cluster links)", "udp", str(KNET_PORT), "cluster", True),
    ("DRBD replication of protected VMs", "tcp", DRBD_PORTS, "replication", True),
    ("libvirt live migration (ssh control channel)", "tcp", str(SSH_PORT), "replication", False),
    ("libvirt live migration (QEMU data ports)", "tcp", MIGRATION_PORTS, "replication", True),
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
            {"purpose": purpose, "protocol": protocol, "port": port, "sources": sources[carries], "closed": closed}
            for purpose, protocol, port, carries, closed in RULES
            if sources[carries] and not (migration_tunnelled and purpose == QEMU_DATA_RULE)
        ]
    return out


def _ports(rules):
    return "; ".join("%s %s (%s)" % (r["protocol"].upper(), r["port"], r["purpose"]) for r in rules if r["closed"])


def check_tool(chk, where, tool, ports):
    """vmpair_firewall of one host: an error for an unknown value, a warning for none.

    ``ports``: what the collection would close on this host, in words (the warning names them).
    Returns the tool (None when it is not one of TOOLS).
    """
    if tool not in TOOLS:
        chk.add(
            where,
            "vmpair_firewall",
            "%r is not a firewall tool." % (tool,),
            "Use %s (auto, the default: firewalld when it runs, else the collection's nftables table)."
            % ", ".join(TOOLS),
        )
        return None
    if tool == "none":
        chk.warn(
            where,
            "vmpair_firewall",
            "is none: the roles manage no firewall on this host, so its ports (%s) are open to any host that "
            "reaches it, unless a firewall of your own filters them." % ports,
            "Leave vmpair_firewall at auto (firewalld when it runs, else the collection's nftables table "
            "inet duplex_vmpair) or set firewalld or nftables; keep none only where a firewall you manage lets "
            "these ports in from the documented sources only (docs/network.md#firewall).",
        )
    return tool


def check_pair_tools(chk, pair, hosts, hostvars, rules):
    """vmpair_firewall of both hosts of a pair (rules: pair_rules' answer)."""
    for host in hosts:
        check_tool(
            chk,
            "pair %s host %s" % (pair, host),
            hostvars.get(host, {}).get("vmpair_firewall", "auto"),
            _ports(rules.get(host, [])),
        )


def check_witness_tool(chk, host, wvars, port):
    """vmpair_firewall of a witness: its port is corosync-qnetd's."""
    check_tool(
        chk,
        "witness %s" % host,
        wvars.get("vmpair_firewall", "auto"),
        "TCP %s (corosync-qnetd, meant for the pair hosts only)" % port,
    )

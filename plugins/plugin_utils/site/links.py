# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The links of a pair (vmpair_links): shape, carries, bonds and interfaces.

Networks and addresses are checked by addresses.py; round trips by latency.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import (
    BOND_MODES,
    BOND_MONITORS,
    CARRIES,
    IFACE_RE,
    KNET_MAX_LINKS,
    NAME_RE,
    closest,
    is_int,
    is_number,
)
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import addresses as site_addresses

LINK_KEYS = ("name", "network", "carries", "rtt_ms", "hosts", "bond", "mtu", "bridge")
HOST_ENTRY_KEYS = ("interface", "address", "members")


def _unknown_keys(chk, where, var, entry, known, what):
    for key in sorted(str(k) for k in set(entry) - set(known)):
        close = closest(key, known)
        chk.warn(
            where,
            "%s.%s" % (var, key),
            "is not a key of %s, so nothing reads it%s." % (what, "; the closest key is %s" % close if close else ""),
            "Rename it to %s." % close if close else "Use %s." % ", ".join(known),
            check="links",
        )


def check_links(chk, pair, hosts, links, site_addresses_seen, shared_with_vms=None):
    """Validate vmpair_links; return the normalised link list.

    site_addresses_seen: {(version, int): 'HOST on LINK of pair P'} over the whole site, filled here.
    shared_with_vms: vmpair_links_shared_with_vms (None: not set), see check_vm_separation.
    """
    where = "pair %s" % pair
    chk.check = "links"
    if not isinstance(links, list) or not links:
        chk.add(
            where,
            "vmpair_links",
            "is missing or not a list of links.",
            "Describe at least two links between %s in the pair's group vars (see docs/site_model.md)."
            % " and ".join(hosts),
        )
        return []
    out = []
    seen_names = set()
    seen_networks = []
    for index, link in enumerate(links):
        chk.check = "links"
        var = "vmpair_links[%d]" % index
        if not isinstance(link, dict):
            chk.add(where, var, "is not a mapping.", "Give each link name, network, carries and hosts.")
            continue
        name = link.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            chk.add(
                where,
                var + ".name",
                "%r is not a valid link name." % (name,),
                "Use letters, digits, '_', '-' or '.', at most 32 characters.",
            )
            name = "link%d" % index
        elif name in seen_names:
            chk.add(
                where, var + ".name", "link name %s is used twice." % name, "Give each link of the pair its own name."
            )
        seen_names.add(name)
        var = "vmpair_links[%s]" % name
        _unknown_keys(chk, where, var, link, LINK_KEYS, "a link")
        carries = link.get("carries")
        if not isinstance(carries, list) or not carries or any(c not in CARRIES for c in carries):
            chk.add(
                where,
                var + ".carries",
                "%r must be a non-empty list of %s." % (carries, ", ".join(CARRIES)),
                "Say what the link carries, e.g. carries: [cluster, replication].",
            )
            carries = [c for c in carries if c in CARRIES] if isinstance(carries, list) else []
        bond = _check_bond_options(chk, where, var, link.get("bond"))
        mtu = _check_mtu(chk, where, var, link.get("mtu"))
        chk.check = "latency"
        rtt = link.get("rtt_ms")
        if rtt is not None and (not is_number(rtt) or rtt < 0):
            chk.add(
                where,
                var + ".rtt_ms",
                "%r is not a round trip time in milliseconds." % (rtt,),
                "Give a number such as 0.4, or leave it out.",
            )
            rtt = None
        network = site_addresses.check_network(chk, where, var, name, link.get("network"), seen_networks)
        link_hosts = _link_hosts(chk, where, var, name, hosts, link.get("hosts"))
        addresses = {}
        for host in hosts:
            entry = link_hosts.get(host)
            if entry is not None:
                addresses[host] = _check_host_entry(chk, pair, host, var, name, network, entry, site_addresses_seen)
        out.append(
            {
                "name": name,
                "network": str(network) if network is not None else link.get("network"),
                "carries": list(carries),
                "rtt_ms": rtt,
                "bond": bond,
                "mtu": mtu,
                "bridge": _check_bridge(chk, where, var, link.get("bridge"), carries, addresses),
                "hosts": addresses,
            }
        )
    chk.check = "links"
    _check_interfaces_used_once(chk, where, hosts, out)
    cluster = [link for link in out if "cluster" in link["carries"]]
    if len(cluster) < 2:
        chk.add(
            where,
            "vmpair_links",
            "%d link(s) carry cluster traffic; a pair needs at least two so that one cut cable does not split it."
            % len(cluster),
            "Add 'cluster' to the carries of a second link.",
        )
    if len(cluster) > KNET_MAX_LINKS:
        chk.add(
            where,
            "vmpair_links",
            "%d links carry cluster traffic; corosync knet supports %d." % (len(cluster), KNET_MAX_LINKS),
            "Carry cluster traffic on fewer links.",
        )
    if not any("replication" in link["carries"] for link in out):
        chk.add(
            where,
            "vmpair_links",
            "no link carries replication.",
            "Add 'replication' to the carries of the link DRBD should use.",
        )
    check_vm_separation(chk, pair, out, shared_with_vms)
    for number, link in enumerate(cluster):
        link["linknumber"] = number
    return out


# What each kind of pair traffic exposes when the VMs' own traffic shares its link.
_SHARED_RISKS = {
    "cluster": "corosync (a guest flooding the link delays corosync's token until a host is fenced)",
    "replication": "DRBD's copies of the VMs' disks and live migration's guest memory, which cross a replication "
    "link in clear text (a guest that poses as a host's address can read them)",
}


def check_vm_separation(chk, pair, links, shared_with_vms):
    """The VMs' (tenants') traffic gets links of its own: a link that carries vm with cluster or
    replication is an error, or a warning that states the risk where vmpair_links_shared_with_vms is true.
    """
    where = "pair %s" % pair
    chk.check = "links"
    if shared_with_vms is not None and not isinstance(shared_with_vms, bool):
        chk.add(
            where,
            "vmpair_links_shared_with_vms",
            "%r is not a boolean." % (shared_with_vms,),
            "Write true or false, unquoted, in the pair's group vars (YAML), or leave it out to keep the VMs' "
            "traffic off the cluster and replication links.",
        )
        shared_with_vms = False
    for link in links:
        shared = [c for c in ("cluster", "replication") if c in link["carries"]]
        if "vm" not in link["carries"] or not shared:
            continue
        var = "vmpair_links[%s].carries" % link["name"]
        exposed = "; ".join(_SHARED_RISKS[c] for c in shared)
        if shared_with_vms:
            chk.warn(
                where,
                var,
                "carries the VMs' own traffic together with %s, as vmpair_links_shared_with_vms allows: the "
                "guests share a network with %s." % (" and ".join(shared), exposed),
                "Give the VMs' traffic a link of its own when you can; until then encrypt this link "
                "(IPsec or WireGuard between the hosts' addresses on it, docs/security.md).",
            )
        else:
            chk.add(
                where,
                var,
                "carries the VMs' own traffic together with %s: the guests would share a network with %s."
                % (" and ".join(shared), exposed),
                "Give the VMs' traffic a link of its own: take vm out of this link's carries and describe "
                "another link with carries: [vm] and its bridge, on its own interfaces and network (e.g. its "
                "own VLAN on the switches); or set vmpair_links_shared_with_vms: true to accept the risk "
                "(docs/security.md).",
            )


def _link_hosts(chk, where, var, name, hosts, link_hosts):
    """The link's {host: entry} for the pair's hosts; reports missing and foreign hosts."""
    chk.check = "links"
    if not isinstance(link_hosts, dict):
        chk.add(
            where,
            var + ".hosts",
            "is missing.",
            "Give the interface and address of %s on this link." % " and ".join(hosts),
        )
        link_hosts = {}
    for extra in sorted(str(h) for h in set(link_hosts) - set(hosts)):
        chk.add(
            where,
            var + ".hosts." + extra,
            "%s is not a host of this pair (%s)." % (extra, ", ".join(hosts)),
            "Use the pair's inventory host names.",
        )
    out = {}
    for host in hosts:
        entry = link_hosts.get(host)
        if not isinstance(entry, dict):
            chk.add(
                "%s host %s" % (where, host),
                "%s.hosts.%s" % (var, host),
                "is missing.",
                "Give {interface: ..., address: ...} for %s on %s." % (host, name),
            )
            continue
        out[host] = entry
    return out


def _check_host_entry(chk, pair, host, var, name, network, entry, site_addresses_seen):
    """One host's {interface, address, members} on a link."""
    hwhere = "pair %s host %s" % (pair, host)
    hvar = "%s.hosts.%s" % (var, host)
    chk.check = "links"
    _unknown_keys(chk, hwhere, hvar, entry, HOST_ENTRY_KEYS, "a link's host entry")
    iface = entry.get("interface")
    if not isinstance(iface, str) or not IFACE_RE.match(iface):
        chk.add(
            hwhere,
            hvar + ".interface",
            "%r is not an interface name." % (iface,),
            "Give the Linux interface name, e.g. enp65s0f0 or bond0.",
        )
    members = _check_members(chk, hwhere, hvar, iface, entry.get("members"))
    address = site_addresses.check_address(chk, hwhere, hvar, host, name, pair, network, entry, site_addresses_seen)
    return {
        "interface": iface,
        "address": str(address) if address is not None else entry.get("address"),
        "prefix": network.prefixlen if network is not None else None,
        "members": members,
    }


def _check_mtu(chk, where, var, mtu):
    """The link's MTU (None: leave the interfaces' MTU alone)."""
    if mtu is None:
        return None
    if not is_int(mtu) or not 576 <= mtu <= 65535:
        chk.add(
            where,
            var + ".mtu",
            "%r is not an MTU from 576 to 65535." % (mtu,),
            "Give the MTU both hosts and the switches between them carry, e.g. 9000 for jumbo frames, or leave it "
            "out to keep the interfaces' MTU.",
        )
        return None
    return mtu


def _check_bridge(chk, where, var, bridge, carries, hosts):
    """The bridge for VM traffic on top of the link's bond (None: no bridge)."""
    if bridge is None:
        if "vm" in carries:
            chk.add(
                where,
                var + ".bridge",
                "is missing: the link carries vm traffic, which goes through a bridge on top of the bond.",
                "Name the bridge, e.g. bridge: br-vm, and attach the VMs' interfaces to it.",
            )
        return None
    if not isinstance(bridge, str) or not IFACE_RE.match(bridge):
        chk.add(where, var + ".bridge", "%r is not an interface name." % (bridge,), "Use a name such as br-vm.")
        return None
    if "vm" not in carries:
        chk.add(
            where,
            var + ".bridge",
            "is set but the link does not carry vm traffic.",
            "Add vm to the link's carries, or leave the bridge out.",
        )
    for host, entry in sorted(hosts.items()):
        if not entry["members"]:
            chk.add(
                "%s host %s" % (where, host),
                "%s.hosts.%s.members" % (var, host),
                "is missing: the bridge %s sits on a bond, and %s's %s is a plain interface."
                % (bridge, host, entry["interface"]),
                "List the bond's members (two or more interfaces on separate cards).",
            )
        elif bridge in [entry["interface"]] + entry["members"]:
            chk.add(
                "%s host %s" % (where, host),
                var + ".bridge",
                "%s is also the bond or one of its members on %s." % (bridge, host),
                "Give the bridge a name of its own.",
            )
    return bridge


def _check_bond_options(chk, where, var, bond):
    """The link's `bond` options (used on hosts whose entry lists `members`)."""
    out = {"mode": "active-backup", "monitor": "mii", "interval_ms": 100}
    if bond is None:
        return out
    if not isinstance(bond, dict):
        chk.add(
            where, var + ".bond", "%r is not a mapping." % (bond,), "Give {mode: ..., monitor: ...} or leave it out."
        )
        return out
    for key in sorted(str(k) for k in set(bond) - set(out)):
        chk.add(where, var + ".bond." + key, "is not a bond option.", "Use mode, monitor and interval_ms.")
    for key, choices in (("mode", BOND_MODES), ("monitor", BOND_MONITORS)):
        value = bond.get(key, out[key])
        if value not in choices:
            chk.add(
                where, var + ".bond." + key, "%r is not one of %s." % (value, ", ".join(choices)), "Use one of them."
            )
        else:
            out[key] = value
    interval = bond.get("interval_ms", out["interval_ms"])
    if not is_int(interval) or not 10 <= interval <= 10000:
        chk.add(
            where,
            var + ".bond.interval_ms",
            "%r is not a whole number of milliseconds from 10 to 10000." % (interval,),
            "Use the link monitor interval, e.g. 100.",
        )
    else:
        out["interval_ms"] = interval
    if out["monitor"] == "arp" and out["mode"] != "active-backup":
        chk.add(
            where,
            var + ".bond.monitor",
            "ARP monitoring works with mode active-backup only (the kernel refuses it with 802.3ad).",
            "Use monitor: mii with 802.3ad (LACP watches the partner itself).",
        )
    return out


def _check_members(chk, where, hvar, iface, members):
    """A host's bond members: none (a plain interface) or two or more interface names."""
    if members is None:
        return []
    if (
        not isinstance(members, list)
        or len(members) < 2
        or any(not isinstance(m, str) or not IFACE_RE.match(m) for m in members)
    ):
        chk.add(
            where,
            hvar + ".members",
            "%r is not a list of two or more interface names." % (members,),
            "List the interfaces (cables) the bond %s is made of, e.g. [ens4, ens5], or leave it out." % iface,
        )
        return []
    if len(set(members)) != len(members) or iface in members:
        chk.add(
            where,
            hvar + ".members",
            "%r names an interface twice or the bond %s itself." % (members, iface),
            "List each member interface once; the bond is the link's interface.",
        )
        return []
    return list(members)


def _check_interfaces_used_once(chk, where, hosts, links):
    """On each host, an interface (or bond member) belongs to one link only."""
    for host in hosts:
        owner = {}
        for link in links:
            entry = link["hosts"].get(host)
            if not entry:
                continue
            for iface in [entry["interface"]] + entry["members"]:
                if iface in owner and owner[iface] != link["name"]:
                    chk.add(
                        "%s host %s" % (where, host),
                        "vmpair_links[%s].hosts.%s" % (link["name"], host),
                        "interface %s is already used by link %s." % (iface, owner[iface]),
                        "Give each link its own interface (two links on one interface are one path).",
                    )
                owner.setdefault(iface, link["name"])

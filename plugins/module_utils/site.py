# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site model: one inventory describes a site.

Pure Python, no Ansible objects: callers hand in plain data (the pair groups and the
variables of each host) and get back either a list of problems, each naming the pair,
the host, the variable and the fix, or the derived description of each pair that the
roles, modules and playbooks use. Nothing here touches a host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

PAIRS_GROUP = "vmpair_pairs"
WITNESSES_GROUP = "vmpair_witnesses"

HYPERVISORS = ("kvm", "xen")
LEVELS = ("recovery", "ha", "ft")
CARRIES = ("cluster", "replication")
BOND_MODES = ("active-backup", "802.3ad")
BOND_MONITORS = ("mii", "arp")
WITNESS_ALGORITHMS = ("ffsplit", "lms")
KNET_MAX_LINKS = 8
DEFAULTS = {
    "vmpair_hypervisor": "kvm",
    "vmpair_corosync_token_ms": 3000,
    "vmpair_fence_delay": 10,
    "vmpair_witness_algorithm": "ffsplit",
    "vmpair_witness_tie_breaker": "lowest",
    "vmpair_witness_port": 5403,
}
# Pair-level variables read from the first host of each pair (group vars land on both).
PAIR_VARS = (
    "vmpair_hypervisor",
    "vmpair_witness",
    "vmpair_storage_vg",
    "vmpair_links",
    "vmpair_fencing",
    "vmpair_vms",
    "vmpair_cluster_name",
    "vmpair_corosync_token_ms",
    "vmpair_fence_delay",
    "vmpair_fence_race_winner",
    "vmpair_witness_algorithm",
    "vmpair_witness_tie_breaker",
)
HOST_VARS = ("vmpair_site", "vmpair_host_capacity", "vmpair_node_name")
WITNESS_VARS = ("vmpair_site", "vmpair_witness_address", "vmpair_witness_port", "ansible_host")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


class SiteError(Exception):
    """Raised with every problem found, so the user fixes them in one pass."""

    def __init__(self, problems):
        self.problems = problems
        super(SiteError, self).__init__(format_problems(problems))


class Problem(object):
    __slots__ = ("where", "variable", "message", "fix")

    def __init__(self, where, variable, message, fix):
        self.where = where
        self.variable = variable
        self.message = message
        self.fix = fix

    def as_dict(self):
        return {"where": self.where, "variable": self.variable, "message": self.message, "fix": self.fix}

    def __str__(self):
        return "%s: %s: %s Fix: %s" % (self.where, self.variable, self.message, self.fix)


def format_problems(problems):
    lines = ["The site inventory has %d problem(s):" % len(problems)]
    lines.extend("- %s" % p for p in problems)
    return "\n".join(lines)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker(object):
    def __init__(self):
        self.problems = []

    def add(self, where, variable, message, fix):
        self.problems.append(Problem(where, variable, message, fix))


def _pair_value(hostvars, hosts, name):
    for host in hosts:
        value = hostvars.get(host, {}).get(name)
        if value is not None:
            return value
    return DEFAULTS.get(name)


def _check_links(chk, pair, hosts, links):
    """Validate vmpair_links; return the normalised link list."""
    where = "pair %s" % pair
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
    seen_addresses = {}
    for index, link in enumerate(links):
        var = "vmpair_links[%d]" % index
        if not isinstance(link, dict):
            chk.add(where, var, "is not a mapping.", "Give each link name, network, carries and hosts.")
            continue
        name = link.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
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
        network = None
        try:
            network = ipaddress.ip_network(str(link.get("network")), strict=True)
        except ValueError as exc:
            chk.add(
                where,
                var + ".network",
                "%r is not a network in CIDR form (%s)." % (link.get("network"), exc),
                "Write it like 10.10.0.0/24.",
            )
        if network is not None:
            for other_name, other in seen_networks:
                if network.version == other.version and network.overlaps(other):
                    chk.add(
                        where,
                        var + ".network",
                        "%s overlaps link %s (%s): two links on one network are one path, not two."
                        % (network, other_name, other),
                        "Put each link on its own network.",
                    )
            seen_networks.append((name, network))
        carries = link.get("carries")
        if not isinstance(carries, list) or not carries or any(c not in CARRIES for c in carries):
            chk.add(
                where,
                var + ".carries",
                "%r must be a non-empty list of %s." % (carries, ", ".join(CARRIES)),
                "Say what the link carries, e.g. carries: [cluster, replication].",
            )
            carries = [c for c in carries if c in CARRIES] if isinstance(carries, list) else []
        rtt = link.get("rtt_ms")
        if rtt is not None and (isinstance(rtt, bool) or not isinstance(rtt, (int, float)) or rtt < 0):
            chk.add(
                where,
                var + ".rtt_ms",
                "%r is not a round trip time in milliseconds." % (rtt,),
                "Give a number such as 0.4, or leave it out.",
            )
        bond = _check_bond_options(chk, where, var, link.get("bond"))
        link_hosts = link.get("hosts")
        addresses = {}
        if not isinstance(link_hosts, dict):
            chk.add(
                where,
                var + ".hosts",
                "is missing.",
                "Give the interface and address of %s on this link." % " and ".join(hosts),
            )
            link_hosts = {}
        for extra in sorted(set(link_hosts) - set(hosts)):
            chk.add(
                where,
                var + ".hosts." + str(extra),
                "%s is not a host of this pair (%s)." % (extra, ", ".join(hosts)),
                "Use the pair's inventory host names.",
            )
        for host in hosts:
            hvar = "%s.hosts.%s" % (var, host)
            entry = link_hosts.get(host)
            if not isinstance(entry, dict):
                chk.add(
                    "%s host %s" % (where, host),
                    hvar,
                    "is missing.",
                    "Give {interface: ..., address: ...} for %s on %s." % (host, name),
                )
                continue
            iface = entry.get("interface")
            if not isinstance(iface, str) or not _IFACE_RE.match(iface):
                chk.add(
                    "%s host %s" % (where, host),
                    hvar + ".interface",
                    "%r is not an interface name." % (iface,),
                    "Give the Linux interface name, e.g. enp65s0f0 or bond0.",
                )
            address = None
            try:
                address = ipaddress.ip_address(str(entry.get("address")))
            except ValueError:
                chk.add(
                    "%s host %s" % (where, host),
                    hvar + ".address",
                    "%r is not an IP address." % (entry.get("address"),),
                    "Give the host's address on %s, without a prefix length." % name,
                )
            if address is not None and network is not None:
                if address not in network:
                    chk.add(
                        "%s host %s" % (where, host),
                        hvar + ".address",
                        "%s is not inside %s's network %s." % (address, name, network),
                        "Use an address from %s or correct the network." % network,
                    )
                elif network.num_addresses > 2 and address in (network.network_address, network.broadcast_address):
                    chk.add(
                        "%s host %s" % (where, host),
                        hvar + ".address",
                        "%s is the network or broadcast address of %s." % (address, network),
                        "Use a host address.",
                    )
                if address in seen_addresses:
                    chk.add(
                        "%s host %s" % (where, host),
                        hvar + ".address",
                        "%s is already used by %s." % (address, seen_addresses[address]),
                        "Give every host its own address on each link.",
                    )
                seen_addresses[address] = "%s on %s" % (host, name)
            addresses[host] = {
                "interface": iface,
                "address": str(address) if address is not None else entry.get("address"),
                "prefix": network.prefixlen if network is not None else None,
                "members": _check_members(chk, "%s host %s" % (where, host), hvar, iface, entry.get("members")),
            }
        out.append(
            {
                "name": name,
                "network": str(network) if network is not None else link.get("network"),
                "carries": list(carries),
                "rtt_ms": rtt,
                "bond": bond,
                "hosts": addresses,
            }
        )
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
    for number, link in enumerate(cluster):
        link["linknumber"] = number
    return out


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
    for key in sorted(set(bond) - set(out)):
        chk.add(where, var + ".bond." + str(key), "is not a bond option.", "Use mode, monitor and interval_ms.")
    for key, choices in (("mode", BOND_MODES), ("monitor", BOND_MONITORS)):
        value = bond.get(key, out[key])
        if value not in choices:
            chk.add(
                where, var + ".bond." + key, "%r is not one of %s." % (value, ", ".join(choices)), "Use one of them."
            )
        else:
            out[key] = value
    interval = bond.get("interval_ms", out["interval_ms"])
    if not _is_int(interval) or not 10 <= interval <= 10000:
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
        or any(not isinstance(m, str) or not _IFACE_RE.match(m) for m in members)
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


def _check_fencing(chk, pair, hosts, fencing):
    where = "pair %s" % pair
    if not isinstance(fencing, dict):
        chk.add(
            where,
            "vmpair_fencing",
            "is missing.",
            "Give each host of the pair a fence device: {HOST: {agent: fence_ipmilan, options: {...}}}.",
        )
        return {}
    out = {}
    for extra in sorted(set(fencing) - set(hosts)):
        chk.add(
            where,
            "vmpair_fencing." + str(extra),
            "%s is not a host of this pair." % extra,
            "Key vmpair_fencing by the pair's host names: %s." % ", ".join(hosts),
        )
    for host in hosts:
        entry = fencing.get(host)
        var = "vmpair_fencing.%s" % host
        if not isinstance(entry, dict):
            chk.add(
                "%s host %s" % (where, host),
                var,
                "no fence device for %s: without fencing a split cannot be resolved safely." % host,
                "Add {agent: fence_ipmilan, options: {...}} (or fence_redfish, fence_sbd) for %s." % host,
            )
            continue
        agent = entry.get("agent")
        if not isinstance(agent, str) or not re.match(r"^fence_[A-Za-z0-9_]+$", agent):
            chk.add(
                "%s host %s" % (where, host),
                var + ".agent",
                "%r is not a fence agent name." % (agent,),
                "Name an agent such as fence_ipmilan, fence_redfish or fence_sbd.",
            )
        options = entry.get("options", {})
        if not isinstance(options, dict):
            chk.add(
                "%s host %s" % (where, host),
                var + ".options",
                "is not a mapping.",
                "Give the agent's options as key: value pairs.",
            )
        out[host] = {"agent": agent}
    return out


def _check_vms(chk, pair, hosts, vms):
    where = "pair %s" % pair
    if vms is None:
        return []
    if not isinstance(vms, list):
        chk.add(where, "vmpair_vms", "is not a list.", "List the pair's VMs, or leave it empty: vmpair_vms: [].")
        return []
    names = set()
    for index, vm in enumerate(vms):
        var = "vmpair_vms[%d]" % index
        if not isinstance(vm, dict) or not isinstance(vm.get("name"), str) or not vm.get("name"):
            chk.add(where, var, "has no name.", "Give each VM its libvirt domain name.")
            continue
        var = "vmpair_vms[%s]" % vm["name"]
        if vm["name"] in names:
            chk.add(where, var, "VM %s is listed twice." % vm["name"], "List each VM once.")
        names.add(vm["name"])
        if vm.get("level", "ha") not in LEVELS:
            chk.add(
                where,
                var + ".level",
                "%r is not a protection level." % (vm.get("level"),),
                "Use one of %s." % ", ".join(LEVELS),
            )
        preferred = vm.get("preferred_host")
        if preferred is not None and preferred not in hosts:
            chk.add(
                where,
                var + ".preferred_host",
                "%s is not a host of this pair." % preferred,
                "Use %s." % " or ".join(hosts),
            )
        for key in ("vcpus", "memory_mib"):
            if key in vm and (not _is_int(vm[key]) or vm[key] <= 0):
                chk.add(
                    where,
                    "%s.%s" % (var, key),
                    "%r is not a positive whole number." % (vm[key],),
                    "Give a number such as 4.",
                )
    return sorted(names)


def _witness(chk, pair, hosts, hostvars, witnesses, sites, name):
    where = "pair %s" % pair
    if name is None:
        if len(set(sites.values())) > 1:
            chk.add(
                where,
                "vmpair_witness",
                "the hosts are on different sites (%s) but the pair has no witness: after a split between sites both halves would claim the VMs."
                % ", ".join("%s=%s" % item for item in sorted(sites.items())),
                "Set vmpair_witness to a host of the vmpair_witnesses group on a third site.",
            )
        return None
    if name not in witnesses:
        chk.add(
            where,
            "vmpair_witness",
            "%s is not in the %s group." % (name, WITNESSES_GROUP),
            "Add %s to %s or name a host that is there (%s)."
            % (name, WITNESSES_GROUP, ", ".join(sorted(witnesses)) or "none yet"),
        )
        return None
    wvars = hostvars.get(name, {})
    wsite = wvars.get("vmpair_site")
    if wsite is not None and wsite in sites.values():
        chk.add(
            "witness %s" % name,
            "vmpair_site",
            "the witness is on site %s, like a host of pair %s: losing that site loses two votes of three."
            % (wsite, pair),
            "Run the witness on a third site.",
        )
    port = wvars.get("vmpair_witness_port", DEFAULTS["vmpair_witness_port"])
    if not _is_int(port) or not 0 < port < 65536:
        chk.add(
            "witness %s" % name,
            "vmpair_witness_port",
            "%r is not a TCP port." % (port,),
            "Use a port number, 5403 by default.",
        )
    return {
        "host": name,
        "address": str(wvars.get("vmpair_witness_address") or wvars.get("ansible_host") or name),
        "port": port,
        "algorithm": _pair_value(hostvars, hosts, "vmpair_witness_algorithm"),
        "tie_breaker": str(_pair_value(hostvars, hosts, "vmpair_witness_tie_breaker")),
    }


def build_pair(chk, pair, hosts, hostvars, witnesses):
    """Validate one pair and return its derived description."""
    where = "pair %s" % pair
    if len(hosts) != 2:
        chk.add(
            where,
            "hosts",
            "has %d host(s) (%s); a pair is exactly two hosts." % (len(hosts), ", ".join(hosts) or "none"),
            "Put exactly two hosts in the group %s." % pair,
        )
        return None

    hypervisor = _pair_value(hostvars, hosts, "vmpair_hypervisor")
    if hypervisor not in HYPERVISORS:
        chk.add(where, "vmpair_hypervisor", "%r is not supported." % (hypervisor,), "Use kvm or xen.")

    storage_vg = _pair_value(hostvars, hosts, "vmpair_storage_vg")
    if not isinstance(storage_vg, str) or not re.match(r"^[A-Za-z0-9+_.-]+$", storage_vg or ""):
        chk.add(
            where,
            "vmpair_storage_vg",
            "%r is not an LVM volume group name." % (storage_vg,),
            "Name the volume group that holds VM disks, e.g. vg_vms.",
        )

    cluster_name = _pair_value(hostvars, hosts, "vmpair_cluster_name") or pair
    if not isinstance(cluster_name, str) or not _NAME_RE.match(cluster_name):
        chk.add(
            where,
            "vmpair_cluster_name",
            "%r is not a valid cluster name." % (cluster_name,),
            "Use at most 32 letters, digits, '_', '-' or '.' (set vmpair_cluster_name if the group name is not).",
        )

    sites = {}
    nodes = []
    node_names = set()
    for nodeid, host in enumerate(hosts, start=1):
        hv = hostvars.get(host, {})
        site = hv.get("vmpair_site")
        if not isinstance(site, str) or not site:
            chk.add(
                "%s host %s" % (where, host),
                "vmpair_site",
                "is missing.",
                "Say which site (building, room) %s stands in." % host,
            )
        sites[host] = site
        node_name = hv.get("vmpair_node_name") or host
        if node_name in node_names:
            chk.add(
                "%s host %s" % (where, host),
                "vmpair_node_name",
                "%s is used by both hosts." % node_name,
                "Give each host its own node name.",
            )
        node_names.add(node_name)
        capacity = hv.get("vmpair_host_capacity")
        if capacity is not None:
            if not isinstance(capacity, dict):
                chk.add(
                    "%s host %s" % (where, host),
                    "vmpair_host_capacity",
                    "is not a mapping.",
                    "Write {vcpus: 32, memory_mib: 262144}.",
                )
            else:
                for key in sorted(capacity):
                    if key not in ("vcpus", "memory_mib") or not _is_int(capacity[key]) or capacity[key] <= 0:
                        chk.add(
                            "%s host %s" % (where, host),
                            "vmpair_host_capacity.%s" % key,
                            "%r is not a positive count of vcpus or memory_mib." % (capacity[key],),
                            "Use keys vcpus and memory_mib with whole numbers.",
                        )
        nodes.append({"host": host, "name": node_name, "nodeid": nodeid, "site": site, "capacity": capacity})

    links = _check_links(chk, pair, hosts, _pair_value(hostvars, hosts, "vmpair_links"))
    fencing = _check_fencing(chk, pair, hosts, _pair_value(hostvars, hosts, "vmpair_fencing"))
    vm_names = _check_vms(chk, pair, hosts, _pair_value(hostvars, hosts, "vmpair_vms"))
    witness = _witness(chk, pair, hosts, hostvars, witnesses, sites, _pair_value(hostvars, hosts, "vmpair_witness"))

    token = _pair_value(hostvars, hosts, "vmpair_corosync_token_ms")
    if not _is_int(token) or not 1000 <= token <= 60000:
        chk.add(
            where,
            "vmpair_corosync_token_ms",
            "%r is outside 1000-60000 ms." % (token,),
            "Keep the default 3000 unless the links' round trip needs more.",
        )
    delay = _pair_value(hostvars, hosts, "vmpair_fence_delay")
    if not _is_int(delay) or delay < 0:
        chk.add(where, "vmpair_fence_delay", "%r is not a whole number of seconds." % (delay,), "Use e.g. 10.")
    algorithm = _pair_value(hostvars, hosts, "vmpair_witness_algorithm")
    if algorithm not in WITNESS_ALGORITHMS:
        chk.add(
            where,
            "vmpair_witness_algorithm",
            "%r is not a qdevice algorithm." % (algorithm,),
            "Use ffsplit (recommended for two nodes) or lms.",
        )
    winner = _pair_value(hostvars, hosts, "vmpair_fence_race_winner") or hosts[0]
    if winner not in hosts:
        chk.add(
            where, "vmpair_fence_race_winner", "%s is not a host of this pair." % winner, "Use %s." % " or ".join(hosts)
        )

    two_node = witness is None
    return {
        "name": pair,
        "cluster_name": cluster_name,
        "hypervisor": hypervisor,
        "storage_vg": storage_vg,
        "hosts": list(hosts),
        "nodes": nodes,
        "links": links,
        "cluster_links": [link for link in links if "cluster" in link["carries"]],
        "replication_links": [link for link in links if "replication" in link["carries"]],
        "fencing": fencing,
        "witness": witness,
        "two_node": two_node,
        "fence_race_winner": winner if two_node else None,
        "fence_delay": delay,
        "token_ms": token,
        "vms": vm_names,
    }


def build_site(pairs, witnesses, hostvars):
    """Validate the whole site.

    pairs: {pair group name: [host, host]} (inventory order)
    witnesses: [witness host, ...]
    hostvars: {host: {variable: value}} holding at least PAIR_VARS, HOST_VARS, WITNESS_VARS.

    Returns {"pairs": {name: pair}, "witnesses": {host: {...}}}; raises SiteError listing every problem.
    """
    chk = _Checker()
    if not pairs:
        chk.add(
            "inventory", PAIRS_GROUP, "has no pair groups.", "Add a child group with two hosts under %s." % PAIRS_GROUP
        )
    seen = {}
    out = {}
    for pair in sorted(pairs):
        hosts = list(pairs[pair])
        for host in hosts:
            if host in seen:
                chk.add(
                    "host %s" % host,
                    "inventory",
                    "is in two pairs (%s and %s)." % (seen[host], pair),
                    "A host belongs to one pair only.",
                )
            seen[host] = pair
            if host in witnesses:
                chk.add(
                    "host %s" % host,
                    "inventory",
                    "is both a pair host and a witness.",
                    "Run the witness on a third host.",
                )
        result = build_pair(chk, pair, hosts, hostvars, witnesses)
        if result is not None:
            out[pair] = result
    cluster_names = {}
    for pair in sorted(out):
        name = out[pair]["cluster_name"]
        if name in cluster_names:
            chk.add(
                "pair %s" % pair,
                "vmpair_cluster_name",
                "%s is also the cluster name of pair %s; the witness tells clusters apart by name."
                % (name, cluster_names[name]),
                "Give every pair its own vmpair_cluster_name.",
            )
        cluster_names[name] = pair
    witness_info = {}
    for host in witnesses:
        used_by = sorted(out[p]["cluster_name"] for p in out if out[p]["witness"] and out[p]["witness"]["host"] == host)
        witness_info[host] = {
            "host": host,
            "clusters": used_by,
            "port": hostvars.get(host, {}).get("vmpair_witness_port", DEFAULTS["vmpair_witness_port"]),
        }
    if chk.problems:
        raise SiteError(chk.problems)
    return {"pairs": out, "witnesses": witness_info}


def pair_of(site, host):
    """Return (pair, this node, peer node) for a pair host, or (None, None, None)."""
    for pair in site["pairs"].values():
        if host in pair["hosts"]:
            me = [n for n in pair["nodes"] if n["host"] == host][0]
            peer = [n for n in pair["nodes"] if n["host"] != host][0]
            return pair, me, peer
    return None, None, None

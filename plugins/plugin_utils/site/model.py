# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site model: one inventory describes a site.

Pure Python, no Ansible objects: callers hand in plain data (the pair groups and the
variables of each host) and get back every finding (errors and warnings), each naming the
pair, the host, the variable and the fix, and the derived description of each pair that the
roles, modules and playbooks use. Nothing here touches a host.

The checks live by job in links.py (links, addresses, latency), vms.py (VMs and capacity),
quorum.py (fencing and witness) and variables.py (unknown variables); report.py turns the
findings into the summary, the JSON report and the JUnit report. The names, defaults and
the checker are in module_utils/site/base.py (the modules share a few of them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import (
    DEFAULTS,
    ERROR,
    HYPERVISORS,
    NAME_RE,
    PAIRS_GROUP,
    WARNING,
    WITNESS_ALGORITHMS,
    Checker,
    SiteError,
    pair_value,
    whole_number,
)
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import firewall as site_firewall
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import latency as site_latency
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import links as site_links
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import quorum as site_quorum
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import variables as site_vars
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import vms as site_vms

_VG_RE = re.compile(r"^[A-Za-z0-9+_.-]+$")


def _check_settings(chk, pair, hosts, hostvars):
    """The pair's own settings: hypervisor, volume group, cluster name, corosync and fence timing."""
    where = "pair %s" % pair
    chk.check = "pair"
    hypervisor = pair_value(hostvars, hosts, "vmpair_hypervisor")
    if hypervisor not in HYPERVISORS:
        chk.add(
            where, "vmpair_hypervisor", "%r is not supported." % (hypervisor,), "Use %s." % " or ".join(HYPERVISORS)
        )
    storage_vg = pair_value(hostvars, hosts, "vmpair_storage_vg")
    if not isinstance(storage_vg, str) or not _VG_RE.match(storage_vg):
        chk.add(
            where,
            "vmpair_storage_vg",
            "%r is not an LVM volume group name." % (storage_vg,),
            "Name the volume group that holds VM disks, e.g. vg_vms.",
        )
    cluster_name = pair_value(hostvars, hosts, "vmpair_cluster_name") or pair
    if not isinstance(cluster_name, str) or not NAME_RE.match(cluster_name):
        chk.add(
            where,
            "vmpair_cluster_name",
            "%r is not a valid cluster name." % (cluster_name,),
            "Use at most 32 letters, digits, '_', '-' or '.' (set vmpair_cluster_name if the group name is not).",
        )
    given = pair_value(hostvars, hosts, "vmpair_corosync_token_ms")
    token = whole_number(given)
    if token is None or not 1000 <= token <= 60000:
        chk.add(
            where,
            "vmpair_corosync_token_ms",
            "%r is %s." % (given, "not a whole number of milliseconds" if token is None else "outside 1000-60000 ms"),
            "Keep the default 3000 unless the links' round trip needs more.",
        )
    given = pair_value(hostvars, hosts, "vmpair_fence_delay")
    delay = whole_number(given)
    if delay is None or delay < 0:
        chk.add(where, "vmpair_fence_delay", "%r is not a whole number of seconds." % (given,), "Use e.g. 10.")
    algorithm = pair_value(hostvars, hosts, "vmpair_witness_algorithm")
    if algorithm not in WITNESS_ALGORITHMS:
        chk.add(
            where,
            "vmpair_witness_algorithm",
            "%r is not a qdevice algorithm." % (algorithm,),
            "Use ffsplit (recommended for two nodes) or lms.",
        )
    tunnelled = pair_value(hostvars, hosts, "vmpair_migration_tunnelled")
    if not isinstance(tunnelled, bool):
        chk.add(
            where,
            "vmpair_migration_tunnelled",
            "%r is not true or false." % (tunnelled,),
            "Leave it out (true: live migration is tunnelled through libvirt's ssh connection).",
        )
    winner = pair_value(hostvars, hosts, "vmpair_fence_race_winner") or hosts[0]
    if winner not in hosts:
        chk.add(
            where, "vmpair_fence_race_winner", "%s is not a host of this pair." % winner, "Use %s." % " or ".join(hosts)
        )
    return {
        "hypervisor": hypervisor,
        "storage_vg": storage_vg,
        "cluster_name": cluster_name,
        "token_ms": token,
        "fence_delay": delay,
        "fence_race_winner": winner,
        "migration_tunnelled": tunnelled is not False,
    }


def _check_nodes(chk, pair, hosts, hostvars):
    """The two hosts: site, node name, capacity. Returns (nodes, sites, capacities)."""
    where = "pair %s" % pair
    sites = {}
    capacities = {}
    nodes = []
    node_names = set()
    for nodeid, host in enumerate(hosts, start=1):
        chk.check = "pair"
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
        capacities[host] = site_vms.check_host_capacity(chk, pair, host, capacity)
        nodes.append(
            {
                "host": host,
                "name": node_name,
                "nodeid": nodeid,
                "site": site,
                "capacity": capacity,
                "migration_name": site_base.migration_name(str(node_name)),
            }
        )
    return nodes, sites, capacities


def build_pair(chk, pair, hosts, hostvars, witnesses, site_addresses=None, site_vm_names=None):
    """Validate one pair and return its derived description (None when it is not two hosts)."""
    chk.pair = pair
    chk.check = "pair"
    if len(hosts) != 2:
        chk.add(
            "pair %s" % pair,
            "hosts",
            "has %d host(s) (%s); a pair is exactly two hosts." % (len(hosts), ", ".join(hosts) or "none"),
            "Put exactly two hosts in the group %s." % pair,
        )
        return None
    settings = _check_settings(chk, pair, hosts, hostvars)
    nodes, sites, capacities = _check_nodes(chk, pair, hosts, hostvars)
    links = site_links.check_links(
        chk,
        pair,
        hosts,
        pair_value(hostvars, hosts, "vmpair_links"),
        {} if site_addresses is None else site_addresses,
        pair_value(hostvars, hosts, "vmpair_links_shared_with_vms"),
    )
    fencing = site_quorum.check_fencing(
        chk, pair, hosts, pair_value(hostvars, hosts, "vmpair_fencing"), {n["host"]: n["name"] for n in nodes}
    )
    vms = site_vms.check_vms(
        chk, pair, hosts, pair_value(hostvars, hosts, "vmpair_vms"), {} if site_vm_names is None else site_vm_names
    )
    site_vms.check_capacity(chk, pair, capacities, vms)
    limits = site_latency.sync_rtt_limits(chk, pair, pair_value(hostvars, hosts, "vmpair_sync_rtt_limit_ms"))
    site_latency.check_latency(chk, pair, links, vms, limits)
    before = len(chk.problems)
    witness = site_quorum.check_witness(
        chk, pair, hosts, hostvars, witnesses, sites, pair_value(hostvars, hosts, "vmpair_witness")
    )
    two_node = witness is None
    witness_reported = len(chk.problems) != before  # the witness check said why there is none
    if two_node and not witness_reported:  # no witness, and none was needed: a fence race
        site_quorum.warn_two_node(chk, pair, hosts, settings["fence_race_winner"], settings["fence_delay"])
    watchdog = site_quorum.check_watchdog(chk, pair, hosts, hostvars, sites, witness, witness_reported)
    firewall = site_firewall.pair_rules(hosts, links, settings["migration_tunnelled"])
    chk.check = "pair"
    site_firewall.check_pair_tools(chk, pair, hosts, hostvars, firewall)
    return {
        "name": pair,
        "cluster_name": settings["cluster_name"],
        "hypervisor": settings["hypervisor"],
        "storage_vg": settings["storage_vg"],
        "hosts": list(hosts),
        "nodes": nodes,
        "links": links,
        "cluster_links": [link for link in links if "cluster" in link["carries"]],
        "replication_links": [link for link in links if "replication" in link["carries"]],
        "fencing": fencing,
        # the pair's fence agents once each (their packages: cluster role, rolling_update.yml)
        "fence_agents": sorted({d["agent"] for f in fencing.values() for d in f["devices"] if d["agent"]}),
        # watchdog self-fencing (diskless SBD) as each host's last level, or None
        "watchdog": watchdog,
        "witness": witness,
        "two_node": two_node,
        "fence_race_winner": settings["fence_race_winner"] if two_node else None,
        "fence_delay": settings["fence_delay"],
        "token_ms": settings["token_ms"],
        # live migration tunnelled through libvirt's ssh connection (vm_resources' migration_tunnelled)
        "migration_tunnelled": settings["migration_tunnelled"],
        "vms": sorted(vm["name"] for vm in vms),
        # each VM's vmpair_vms entry with its defaults filled (site/vms.py), by name
        "vm_settings": {vm["name"]: vm for vm in vms},
        "sync_rtt_limit_ms": limits,
        "firewall": firewall,
    }


class SiteCheck(object):
    """What check_site found: the description of every valid pair and every finding."""

    def __init__(self, pairs, witnesses, site, problems, checked_variables):
        self.pair_hosts = {p: list(h) for p, h in pairs.items()}
        self.witness_hosts = list(witnesses)
        self.site = site
        self.problems = problems
        self.checked_variables = checked_variables

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self):
        return [p for p in self.problems if p.severity == WARNING]

    def vm_count(self):
        return sum(len(p["vms"]) for p in self.site["pairs"].values())


def _unreadable(chk, pair, hosts, hostvars, unreadable):
    """Report a pair whose hosts' (or witness's) variables Ansible could not read; True if there is one.

    Nothing else of such a pair is checked: its variables would all look missing.
    """
    blocked = [("host", h) for h in hosts if h in unreadable]
    readable = [h for h in hosts if h not in unreadable]
    witness = pair_value(hostvars, readable, "vmpair_witness") if readable else None
    if isinstance(witness, str) and witness in unreadable:
        blocked.append(("witness", witness))
    causes = {}
    for kind, host in blocked:
        causes.setdefault(unreadable[host], []).append(host if kind == "host" else "its witness %s" % host)
    for (reason, fix), who in causes.items():
        chk.add(
            "pair %s" % pair,
            "inventory",
            "the variables of %s cannot be read, so nothing else of this pair was checked: %s"
            % (" and ".join(who), reason),
            fix,
            check="pair",
            pair=pair,
        )
    return bool(blocked)


def check_site(pairs, witnesses, hostvars, known_variables=None, names_by_host=None, unreadable=None):
    """Check the whole site and return a SiteCheck with every error and warning.

    pairs: {pair group name: [host, host]} (inventory order)
    witnesses: [witness host, ...]
    hostvars: {host: {variable: value}} holding at least PAIR_VARS, HOST_VARS, WITNESS_VARS.
    known_variables: every vmpair_* name the collection reads; None skips the unknown-variable check.
    names_by_host: {host: names of the variables set on it}; defaults to the keys of hostvars.
    unreadable: {host: (reason, fix)} for the hosts whose variables Ansible could not read (a vars
    file it cannot decrypt without the vault password, a template that fails): their pairs are
    reported and not checked.
    """
    unreadable = unreadable or {}
    chk = Checker()
    if not pairs:
        chk.add(
            "inventory", PAIRS_GROUP, "has no pair groups.", "Add a child group with two hosts under %s." % PAIRS_GROUP
        )
    seen = {}
    out = {}
    unchecked = []  # pairs whose variables cannot be read
    site_addresses = {}
    site_vm_names = {}
    witness_set = set(witnesses)
    for pair in sorted(pairs):
        hosts = list(pairs[pair])
        chk.pair = pair
        chk.check = "pair"
        for host in hosts:
            if host in seen:
                chk.add(
                    "host %s" % host,
                    "inventory",
                    "is in two pairs (%s and %s)." % (seen[host], pair),
                    "A host belongs to one pair only.",
                )
            seen[host] = pair
            if host in witness_set:
                chk.add(
                    "host %s" % host,
                    "inventory",
                    "is both a pair host and a witness.",
                    "Run the witness on a third host.",
                )
        if _unreadable(chk, pair, hosts, hostvars, unreadable):
            unchecked.append(pair)
            continue
        result = build_pair(chk, pair, hosts, hostvars, witness_set, site_addresses, site_vm_names)
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
                check="pair",
                pair=pair,
            )
        cluster_names[name] = pair
    chk.pair = None
    witness_info = {}
    used = {}
    clients = {}
    for pair in sorted(out):
        if out[pair]["witness"]:
            used.setdefault(out[pair]["witness"]["host"], []).append(out[pair]["cluster_name"])
            clients.setdefault(out[pair]["witness"]["host"], []).extend(
                {"pair": pair, "host": h, "witness_address": out[pair]["witness"]["address"]}
                for h in out[pair]["hosts"]
            )
    for host in witnesses:
        witness_info[host] = {
            "host": host,
            "clusters": sorted(used.get(host, [])),
            "port": hostvars.get(host, {}).get("vmpair_witness_port", DEFAULTS["vmpair_witness_port"]),
            "clients": clients.get(host, []),
        }
    chk.check = "witness"
    for host in witnesses:
        if host not in unreadable:
            site_firewall.check_witness_tool(chk, host, hostvars.get(host, {}), witness_info[host]["port"])
    for host in witnesses:
        if host in unreadable:
            reason, fix = unreadable[host]
            chk.add(
                "witness %s" % host, "inventory", "its variables cannot be read: %s" % reason, fix, check="inventory"
            )
    if not unchecked:  # else a witness may serve a pair that could not be read
        site_quorum.warn_unused_witnesses(chk, witnesses, used)
    if known_variables is not None:
        if names_by_host is None:
            names_by_host = {host: list(hv) for host, hv in hostvars.items()}
        site_vars.check_variables(chk, pairs, witnesses, names_by_host, known_variables)
    site = {"pairs": out, "witnesses": witness_info}
    return SiteCheck(pairs, witnesses, site, chk.problems, known_variables is not None)


def build_site(pairs, witnesses, hostvars, known_variables=None, names_by_host=None, unreadable=None):
    """Validate the whole site; raise SiteError listing every error.

    Returns {"pairs": {name: pair}, "witnesses": {host: {...}}, "warnings": [Problem, ...]}.
    """
    result = check_site(pairs, witnesses, hostvars, known_variables, names_by_host, unreadable)
    if result.errors:
        raise SiteError(result.errors)
    return dict(result.site, warnings=result.warnings)


def pair_of(site, host):
    """Return (pair, this node, peer node) for a pair host, or (None, None, None)."""
    for pair in site["pairs"].values():
        if host in pair["hosts"]:
            me = [n for n in pair["nodes"] if n["host"] == host][0]
            peer = [n for n in pair["nodes"] if n["host"] != host][0]
            return pair, me, peer
    return None, None, None

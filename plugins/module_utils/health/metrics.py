# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One pair's state as Prometheus metrics, in the text format node_exporter's textfile collector reads.

Built from what ``pair_info`` returned on each host of the pair (the same input as the pair's report,
``health.report``), so it runs no tool itself. Every metric starts with ``duplex_vmpair_``, is a gauge,
and carries the label ``pair``. Three kinds of series:

* per pair: when it was checked, whether it is redundant, its findings by severity, which hosts answered;
* per host that answered (label ``host``, the inventory name of the host whose view it is): quorum, the
  witness's vote, every corosync link to the peer, the bonds, libvirt, and each DRBD mirror on that host;
* cluster-wide (the nodes, fencing and the VMs): from the view of one host, the first of the pair's hosts
  that answered and is quorate with Pacemaker running (``duplex_vmpair_cluster_view_info`` names it).

A state the host could not read (corosync stopped, no qdevice) is 0, never a missing series, so an alert
on ``== 0`` fires. Docs and example alerts: docs/monitoring.md. :data:`METRICS` lists every metric.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import time

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import SEVERITIES
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import WATCHDOG_DEVICE_ID
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import RESOURCE_PREFIX
from ansible_collections.duplex.vmpair.plugins.module_utils.health import report
from ansible_collections.duplex.vmpair.plugins.module_utils.health import watchdog as state_watchdog

PREFIX = "duplex_vmpair_"
# The file validate writes in the textfile collector's directory.
FILE_NAME = "duplex_vmpair.prom"

# name (without PREFIX): (labels besides pair, help). Every metric is a gauge; the order is the file's.
METRICS = (
    ("last_check_timestamp_seconds", (), "When validate last read the pair (Unix time, seconds)."),
    ("pair_info", ("hypervisor", "quorum"), "The pair; quorum is witness or two_node."),
    ("pair_redundant", (), "1 when validate found no warning or critical finding in the pair, else 0."),
    ("findings", ("severity",), "validate's findings in the pair, by severity (critical, warning, info)."),
    ("host_checked", ("host",), "1 when pair_info answered on the host, 0 when it did not (unreachable or failed)."),
    ("cluster_view_info", ("host",), "The host whose view gives the node, fencing and VM metrics."),
    ("quorate", ("host",), "1 when the host's corosync partition is quorate, else 0 (also when corosync is down)."),
    (
        "witness_vote",
        ("host",),
        "1 when the witness's (qdevice) vote counts for the host's partition; pairs with a witness only.",
    ),
    (
        "witness_connected",
        ("host",),
        "1 when the host's corosync-qdevice is connected to qnetd; pairs with a witness only.",
    ),
    (
        "link_up",
        ("host", "link", "linknumber", "peer"),
        "1 when the corosync (knet) link from the host to the peer node is connected, else 0.",
    ),
    (
        "bond_redundant",
        ("host", "link", "bond"),
        "1 when every member of the bond the site model lists is enslaved and up, else 0.",
    ),
    ("bond_members_up", ("host", "link", "bond"), "Members of the bond that are up."),
    ("hypervisor_up", ("host",), "1 when libvirt answers on the host, else 0."),
    ("node_online", ("node",), "1 when the cluster node is online, else 0."),
    ("node_standby", ("node",), "1 when the cluster node is in standby, else 0."),
    ("node_maintenance", ("node",), "1 when the cluster node is in maintenance mode, else 0."),
    ("fencing_enabled", (), "1 when the cluster property stonith-enabled is true, else 0."),
    (
        "fence_device_running",
        ("node",),
        "1 when a fence device that fences the node is configured and running, else 0.",
    ),
    (
        "watchdog_fencing_ready",
        (),
        "With watchdog self-fencing: 1 when sbd runs on both hosts and each node's last fence level is the "
        "watchdog, with its stonith-watchdog-timeout; else 0. Absent without watchdog fencing.",
    ),
    (
        "vm_info",
        ("vm", "level", "actual_level", "preferred_host"),
        "Each VM of vmpair_vms: its promised level, the level its mirror gives (empty: none) and its preferred host.",
    ),
    ("vm_protected", ("vm",), "1 when the VM has its mirror and its cluster resource, else 0."),
    ("vm_running", ("vm", "node"), "1 on the node the VM runs on, 0 on the pair's other node(s)."),
    (
        "vm_failover_ready",
        ("vm",),
        "1 when the VM could fail over now (a usable peer node with an UpToDate copy), else 0.",
    ),
    (
        "mirror_info",
        ("host", "resource", "vm", "role", "peer_role", "connection", "replication", "disk", "peer_disk", "protocol"),
        "Each DRBD resource on the host, with its states as labels.",
    ),
    (
        "mirror_uptodate",
        ("host", "resource", "vm"),
        "1 when the mirror is Connected and both its disks are UpToDate, else 0.",
    ),
    ("mirror_resyncing", ("host", "resource", "vm"), "1 while the mirror resyncs, else 0."),
    (
        "mirror_out_of_sync_bytes",
        ("host", "resource", "vm"),
        "Data that differs between the two copies of the mirror, in bytes.",
    ),
    (
        "mirror_resync_done_ratio",
        ("host", "resource", "vm"),
        "How much of the resync is done (0 to 1); only while resyncing.",
    ),
    (
        "mirror_resync_remaining_seconds",
        ("host", "resource", "vm"),
        "DRBD's estimate of the time left in the resync; only while resyncing.",
    ),
)


def _escape_label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _flag(value):
    """A state as 0/1: unknown (None) is 0."""
    return 1 if value else 0


def _view_host(pair, seen):
    """The answered host whose cluster view counts: quorate with Pacemaker running, else the first answered."""
    answered = [host for host in pair["hosts"] if host in seen]

    def ready(host, quorate):
        state = seen[host] or {}
        pcmk = state.get("pacemaker") or {}
        corosync = state.get("corosync") or {}
        return bool(pcmk.get("running")) and (not quorate or bool(corosync.get("quorate")))

    for quorate in (True, False):
        for host in answered:
            if ready(host, quorate):
                return host
    return answered[0] if answered else None


class _Families(object):
    """Samples by metric name; rendered in the order of :data:`METRICS`."""

    def __init__(self, pair_name):
        self.pair = pair_name
        self.labels = {name: labels for name, labels, _help in METRICS}
        self.samples = {name: [] for name, _labels, _help in METRICS}

    def add(self, name, value, **labels):
        if value is None:
            return
        expected = self.labels[name]
        if sorted(labels) != sorted(expected):
            raise ValueError("metric %s takes the labels %s, not %s" % (name, expected, sorted(labels)))
        values = [("pair", self.pair)] + [(key, "" if labels[key] is None else labels[key]) for key in expected]
        self.samples[name].append((values, value))

    def text(self):
        lines = []
        for name, _labels, help_text in METRICS:
            if not self.samples[name]:
                continue
            full = PREFIX + name
            lines.append("# HELP %s %s" % (full, _escape_help(help_text)))
            lines.append("# TYPE %s gauge" % full)
            for values, value in self.samples[name]:
                pairs = ",".join('%s="%s"' % (key, _escape_label(val)) for key, val in values)
                lines.append("%s{%s} %s" % (full, pairs, _value(value)))
        return "\n".join(lines) + "\n"


def _host_metrics(out, pair, host, state):
    corosync = state.get("corosync") or {}
    out.add("quorate", _flag(corosync.get("quorate")), host=host)
    if not pair.get("two_node"):
        out.add("witness_vote", _flag(corosync.get("qdevice")), host=host)
        out.add("witness_connected", _flag((state.get("qdevice") or {}).get("connected")), host=host)
    node_of = {node["host"]: node["name"] for node in pair.get("nodes") or []}
    me = node_of.get(host, host)
    peers = [node["name"] for node in pair.get("nodes") or [] if node["name"] != me]
    names = {
        link["linknumber"]: link["name"]
        for link in pair.get("cluster_links") or []
        if link.get("linknumber") is not None
    }
    seen_links = {}
    for link in corosync.get("links") or []:
        for peer in link.get("peers") or []:
            seen_links[(link["id"], peer.get("name") or "node %s" % peer.get("nodeid"))] = peer.get("connected")
    # Every promised link to every peer, down (0) when corosync does not run it; then any other it runs.
    for number in sorted(names):
        for peer in peers:
            connected = seen_links.pop((number, peer), False)
            out.add("link_up", _flag(connected), host=host, link=names[number], linknumber=number, peer=peer)
    for (number, peer), connected in sorted(seen_links.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        out.add("link_up", _flag(connected), host=host, link=str(number), linknumber=number, peer=peer)
    for bond in (state.get("network") or {}).get("bonds") or []:
        labels = {"host": host, "link": bond.get("link"), "bond": bond.get("interface")}
        out.add("bond_redundant", _flag(bond.get("redundant")), **labels)
        out.add("bond_members_up", len(bond.get("members_up") or []), **labels)
    hypervisor = state.get("hypervisor")
    if hypervisor is not None:
        out.add("hypervisor_up", _flag(hypervisor.get("running")), host=host)


def _mirror_metrics(out, host, state, vm_of):
    resources = sorted((state.get("mirror") or {}).get("resources") or [], key=lambda res: res["name"])
    for res in resources:
        labels = {"host": host, "resource": res["name"], "vm": vm_of.get(res["name"], "")}
        out.add(
            "mirror_info",
            1,
            role=res.get("role"),
            peer_role=res.get("peer_role"),
            connection=res.get("connection"),
            replication=res.get("replication"),
            disk=res.get("disk"),
            peer_disk=res.get("peer_disk"),
            protocol=res.get("protocol"),
            **labels,
        )
        uptodate = res.get("connection") == "Connected" and res.get("disk") == res.get("peer_disk") == "UpToDate"
        out.add("mirror_uptodate", _flag(uptodate), **labels)
        out.add("mirror_resyncing", _flag(res.get("resyncing")), **labels)
        oos = res.get("out_of_sync_kib")
        out.add("mirror_out_of_sync_bytes", None if oos is None else int(oos) * 1024, **labels)
        if res.get("resyncing"):
            percent = res.get("resync_percent")
            out.add("mirror_resync_done_ratio", None if percent is None else float(percent) / 100.0, **labels)
            eta = res.get("resync_eta_s")
            out.add("mirror_resync_remaining_seconds", eta, **labels)


def _cluster_metrics(out, pair, state):
    pcmk = state.get("pacemaker") or {}
    nodes = {node["name"]: node for node in pcmk.get("nodes") or []}
    for node in pair.get("nodes") or []:
        seen = nodes.get(node["name"]) or {}
        out.add("node_online", _flag(seen.get("online")), node=node["name"])
        out.add("node_standby", _flag(seen.get("standby")), node=node["name"])
        out.add("node_maintenance", _flag(seen.get("maintenance")), node=node["name"])
    fencing = state.get("fencing")
    if fencing is not None:
        out.add("fencing_enabled", _flag(fencing.get("enabled")))
        for node in pair.get("nodes") or []:
            running = any(
                node["name"] in (device.get("targets") or []) and device.get("active") and not device.get("failed")
                for device in fencing.get("devices") or []
                if device.get("id") != WATCHDOG_DEVICE_ID
            )
            out.add("fence_device_running", _flag(running), node=node["name"])


def _vm_metrics(out, pair, state):
    facts = {vm["name"]: vm for vm in (state or {}).get("vms") or []}
    node_names = [node["name"] for node in pair.get("nodes") or []]
    for name in sorted(pair.get("vm_settings") or {}):
        settings = pair["vm_settings"][name]
        vm = facts.get(name) or {}
        out.add(
            "vm_info",
            1,
            vm=name,
            level=settings.get("level"),
            actual_level=vm.get("actual_level"),
            preferred_host=settings.get("preferred_host"),
        )
        out.add("vm_protected", _flag(vm.get("protected")), vm=name)
        running_on = vm.get("running_on")
        for node in node_names + ([running_on] if running_on and running_on not in node_names else []):
            out.add("vm_running", _flag(running_on == node), vm=name, node=node)
        out.add("vm_failover_ready", _flag(vm.get("failover_to")), vm=name)


def pair_metrics(pair, seen, missing=(), now=None):
    """The metrics text of ``pair`` (the site model's description, as ``site_model`` returns it in ``pair``).

    ``seen``: {host: pair_info result} of the hosts that answered; ``missing``: the pair's hosts that did
    not; ``now``: the check's time (Unix seconds; default: now). The text ends with a newline.
    """
    seen = dict(seen or {})
    found = report.pair_report(pair["name"], seen, missing or [])
    out = _Families(pair["name"])
    out.add("last_check_timestamp_seconds", float(time.time() if now is None else now))
    out.add("pair_info", 1, hypervisor=pair.get("hypervisor"), quorum="two_node" if pair.get("two_node") else "witness")
    out.add("pair_redundant", _flag(found["redundant"]))
    for severity in reversed(SEVERITIES):
        out.add("findings", found["counts"][severity], severity=severity)
    hosts = list(pair["hosts"]) + sorted(set(seen).union(missing or []) - set(pair["hosts"]))
    for host in hosts:
        out.add("host_checked", _flag(host in seen), host=host)
    view = _view_host(pair, seen)
    if view is not None:
        out.add("cluster_view_info", 1, host=view)
    vm_of = {RESOURCE_PREFIX + name: name for name in pair.get("vm_settings") or {}}
    for host in hosts:
        if host in seen:
            _host_metrics(out, pair, host, seen[host] or {})
            _mirror_metrics(out, host, seen[host] or {}, vm_of)
    if view is not None:
        _cluster_metrics(out, pair, seen[view] or {})
    if pair.get("watchdog"):
        views = [(seen[host] or {}).get("watchdog") for host in pair["hosts"] if host in seen]
        complete = all(host in seen for host in pair["hosts"])
        ready, _found = state_watchdog.pair_state(views, complete)
        out.add("watchdog_fencing_ready", _flag(ready))
    _vm_metrics(out, pair, seen[view] if view is not None else {})
    return out.text()

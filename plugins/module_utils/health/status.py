# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The status of a pair at a glance, from ``pair_info`` read on one of its hosts.

One table per pair: each VM of ``vmpair_vms`` with its level, the node it runs on, its preferred
host, each disk's mirror state (with percent done and time left while it resyncs) and whether it
can fail over now (and if not, why); then one line each for the hosts, the links, the witness and
fencing. Also the pair's report as validate's ``pair_report`` builds it (the same keys, so the
JSON file has validate's schema), and one summary line over every pair. Runs no tool.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible_collections.duplex.vmpair.plugins.module_utils.health.mirror import duration, minutes_left, stall_reason
from ansible_collections.duplex.vmpair.plugins.module_utils.health.report import pair_report

HEADER = ("VM", "LEVEL", "RUNS ON", "PREFERRED", "DISK", "MIRROR (here/peer)", "FAILOVER NOW")


def _local_node(result):
    for member in (result.get("corosync") or {}).get("members") or []:
        if member.get("local"):
            return member.get("name")
    return None


def _volume_text(res, volume):
    """One disk's mirror state: ``Connected UpToDate/UpToDate`` or the resync's progress."""
    replication = volume.get("replication")
    if replication and replication not in ("Established", "Off"):
        text = "%s %s/%s" % (replication, volume.get("disk"), volume.get("peer_disk"))
        if volume.get("resync_percent") is not None:
            text += ", %.1f %% done" % volume["resync_percent"]
        if volume.get("resync_eta_s") is not None:
            text += ", %s left" % duration(volume["resync_eta_s"])
        if replication.startswith(("Sync", "PausedSync", "StartingSync")) and not res.get("resync_progressing"):
            text += " (STALLED: %s)" % stall_reason(res)
        return text
    return "%s %s/%s" % (res.get("connection"), volume.get("disk"), volume.get("peer_disk"))


def _disks(res):
    """[(disk, mirror text)] of a VM's mirror, one per volume (the VM's disks, in its definition's order)."""
    if res is None:
        return [("-", "no mirror")]
    volumes = res.get("volumes") or []
    if not volumes:
        return [(res["name"], "%s %s/%s" % (res.get("connection"), res.get("disk"), res.get("peer_disk")))]
    return [("%s/%s" % (res["name"], v.get("volume")), _volume_text(res, v)) for v in volumes]


def _failover(vm):
    if vm.get("failover_to"):
        return "yes, to %s" % vm["failover_to"]
    if not vm.get("protected"):
        return "no: not protected (%s)" % ("no mirror" if vm.get("mirror") is None else "not in the cluster")
    if vm.get("resync_eta_s") is not None:
        # The mirror column shows the resync's progress.
        return "no: its copy resyncs; redundancy returns in about %d min" % minutes_left(vm["resync_eta_s"])
    return "no: %s" % (vm.get("no_failover_reason") or "unknown")


def vm_rows(result):
    """One dict per VM: name, level, running_on, preferred_host, disks [{disk, mirror}], can_fail_over, failover."""
    mirrors = {res["name"]: res for res in ((result.get("mirror") or {}).get("resources") or [])}
    rows = []
    for vm in result.get("vms") or []:
        res = mirrors.get(vm.get("mirror")) if vm.get("mirror") else None
        rows.append(
            {
                "name": vm["name"],
                "level": vm.get("level"),
                "actual_level": vm.get("actual_level"),
                "protected": bool(vm.get("protected")),
                "running_on": vm.get("running_on"),
                "preferred_host": vm.get("preferred_host"),
                "disks": [{"disk": disk, "mirror": text} for disk, text in _disks(res)],
                "can_fail_over": bool(vm.get("failover_to")),
                "failover_to": vm.get("failover_to"),
                "failover": _failover(vm),
                "resyncing": bool(res and res.get("resyncing")),
                "resync_eta_s": vm.get("resync_eta_s"),
            }
        )
    return rows


def _node_state(node):
    if node.get("unclean"):
        state = "UNCLEAN"
    elif not node.get("online"):
        state = "OFFLINE"
    elif node.get("pending"):
        state = "joining"
    elif node.get("standby"):
        state = "standby"
    else:
        state = "online"
    if node.get("maintenance"):
        state += ", maintenance"
    if node.get("is_dc"):
        state += ", DC"
    return state


def hosts_line(result):
    pacemaker = result.get("pacemaker") or {}
    if not pacemaker.get("running"):
        return "hosts: unknown (pacemaker does not answer: %s)" % (pacemaker.get("error") or "not running")
    nodes = ["%s %s" % (n["name"], _node_state(n)) for n in pacemaker.get("nodes") or []]
    text = "hosts: " + ("; ".join(nodes) or "none known")
    if pacemaker.get("maintenance_mode"):
        text += "; the whole cluster is in maintenance mode"
    return text


def links_line(result):
    corosync = result.get("corosync") or {}
    if not corosync.get("running"):
        return "links: unknown (corosync does not answer: %s)" % (corosync.get("error") or "not running")
    parts = []
    for link in corosync.get("links") or []:
        down = [p.get("name") or "node %s" % p.get("nodeid") for p in link.get("peers") or [] if not p.get("connected")]
        parts.append("link %s %s" % (link.get("id"), "DOWN to " + ", ".join(down) if down else "up"))
    for bond in (result.get("network") or {}).get("bonds") or []:
        members = bond.get("members") or []
        parts.append(
            "%s (%s) %d/%d members up"
            % (bond.get("interface"), bond.get("link"), len(bond.get("members_up") or []), len(members))
        )
    return "links: " + ("; ".join(parts) or "none known")


def witness_line(result):
    corosync = result.get("corosync") or {}
    qdevice = result.get("qdevice")
    if qdevice is None:
        if "2Node" in (corosync.get("flags") or []):
            return "witness: none (two_node: the fence race decides a split)"
        return "witness: none configured"
    where = qdevice.get("qnetd_host") or "qnetd"
    if qdevice.get("qnetd_port"):
        where = "%s:%s" % (where, qdevice["qnetd_port"])
    if not qdevice.get("running"):
        return "witness: vote MISSING (corosync-qdevice is not running: %s)" % qdevice.get("error")
    state = "vote counted" if corosync.get("qdevice") else "vote MISSING"
    tls = ", TLS" if qdevice.get("tls_active") else ""
    return "witness: %s (qnetd %s, %s%s)" % (state, where, qdevice.get("state"), tls)


def fencing_line(result):
    fencing = result.get("fencing")
    if fencing is None:
        return "fencing: not read"
    parts = ["enabled" if fencing.get("enabled") else "DISABLED (stonith-enabled=false)"]
    for device in fencing.get("devices") or []:
        if device.get("failed"):
            state = "FAILED"
        elif device.get("target_role") == "Stopped":
            state = "DISABLED"
        elif device.get("active"):
            state = "started" + (" on %s" % device["node"] if device.get("node") else "")
        else:
            state = "stopped"
        parts.append("%s (%s) %s" % (device.get("id"), device.get("agent"), state))
    for node in fencing.get("missing") or []:
        parts.append("NO device for %s" % node)
    last = fencing.get("last_action")
    if last:
        parts.append(
            "last action: %s of %s, %s at %s"
            % (last.get("action"), last.get("target"), last.get("status"), last.get("completed") or "?")
        )
    return "fencing: " + "; ".join(parts)


def table(rows):
    """The VMs as aligned text lines (a header, then one line per disk)."""
    lines = [HEADER]
    for row in rows:
        for index, disk in enumerate(row["disks"]):
            first = index == 0
            lines.append(
                (
                    row["name"] if first else "",
                    (row["level"] or "-") if first else "",
                    (row["running_on"] or "not running") if first else "",
                    (row["preferred_host"] or "-") if first else "",
                    disk["disk"],
                    disk["mirror"],
                    row["failover"] if first else "",
                )
            )
    widths = [max(len(line[col]) for line in lines) for col in range(len(HEADER) - 1)]
    # The last column is not padded (no trailing blanks); module_utils run on Python 3.9: no zip(strict=).
    return ["  ".join(line[col].ljust(widths[col]) for col in range(len(widths))) + "  " + line[-1] for line in lines]


def split_results(results):
    """{host: registered pair_info result or None} -> (seen, missing).

    ``seen``: the hosts whose pair_info answered; ``missing``: the hosts asked that did not (no result:
    unreachable; or a failed one). A skipped result is a host not asked (its peer answered).
    """
    seen, missing = {}, []
    for host in sorted(results):
        result = results[host]
        if isinstance(result, dict) and result.get("skipped"):
            continue
        if (
            isinstance(result, dict)
            and not result.get("failed")
            and not result.get("unreachable")
            and "findings" in result
        ):
            seen[host] = result
        else:
            missing.append(host)
    return seen, missing


def pair_status(pair, seen, missing=()):
    """The status of pair ``pair`` (its name) from ``seen`` {host: pair_info result} (one host, normally)
    and ``missing``, the hosts asked that did not answer.

    Returns validate's report (``pair_report`` with fail_on ``never``: status reports, it does not judge)
    with ``lines`` the status table, and ``status``: read_from, vms, hosts, links, witness, fencing.
    """
    report = pair_report(pair, seen, missing, "never")
    read_from = sorted(seen)
    if not read_from:
        report["status"] = {
            "read_from": None,
            "vms": [],
            "hosts": None,
            "links": None,
            "witness": None,
            "fencing": None,
        }
        report["lines"] = [
            "pair %s: no host answered (%s): its state is unknown" % (pair, ", ".join(sorted(missing)) or "none asked")
        ]
        return report
    host = read_from[0]
    result = seen[host] or {}
    rows = vm_rows(result)
    status = {
        "read_from": host,
        "node": _local_node(result),
        "vms": rows,
        "hosts": hosts_line(result),
        "links": links_line(result),
        "witness": witness_line(result),
        "fencing": fencing_line(result),
    }
    counts = report["counts"]
    if report["redundant"]:
        verdict = "every promised redundancy is in place"
    else:
        verdict = "NOT REDUNDANT: %d critical, %d warning" % (counts["critical"], counts["warning"])
    lines = ["pair %s (read on %s): %s" % (pair, host, verdict)]
    if rows:
        lines += ["  " + line for line in table(rows)]
    else:
        lines.append("  no VM in vmpair_vms")
    lines += ["  " + status[key] for key in ("hosts", "links", "witness", "fencing")]
    for item in report["findings"]:
        if item["severity"] != "info":
            lines.append(
                "  %s %s %s: %s" % (item["severity"].upper(), item["component"], item["subject"], item["message"])
            )
    report["status"] = status
    report["lines"] = lines
    return report


def status_summary(reports):
    """One line over every pair's status."""
    reports = list(reports)
    vms = [row for report in reports for row in (report.get("status") or {}).get("vms") or []]
    unknown = [r["pair"] for r in reports if not (r.get("status") or {}).get("read_from")]
    not_redundant = [r for r in reports if not r["redundant"]]
    critical = sum(r["counts"]["critical"] for r in reports)
    warning = sum(r["counts"]["warning"] for r in reports)
    etas = [row["resync_eta_s"] for row in vms if row.get("resync_eta_s") is not None]
    parts = [
        "%d pair(s)" % len(reports),
        "%d VM(s): %d protected, %d can fail over now"
        % (len(vms), len([v for v in vms if v["protected"]]), len([v for v in vms if v["can_fail_over"]])),
    ]
    if not_redundant:
        parts.append(
            "%d not redundant (%s): %d critical, %d warning"
            % (len(not_redundant), ", ".join(r["pair"] for r in not_redundant), critical, warning)
        )
    else:
        parts.append("all redundant")
    if etas:
        parts.append("%d VM(s) resyncing, redundancy returns in about %d min" % (len(etas), minutes_left(max(etas))))
    if unknown:
        parts.append("state unknown for %s" % ", ".join(unknown))
    return "status: " + "; ".join(parts)

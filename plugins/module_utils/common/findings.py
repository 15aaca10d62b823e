# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Findings: what ``pair_info`` reports missing, each with its severity and its fix.

A finding is a dict ``{severity, component, subject, message, fix}``:

* ``critical``: protection is gone now for something: a VM could not be restarted
  (or kept) on the peer, the cluster cannot decide, or the next single failure
  would stop protected VMs.
* ``warning``: a redundancy is reduced, but the next single failure is still
  survived (one of two links down, one bond member down, past resource failures).
* ``info``: worth knowing, not a gap (the last fencing action).

This file judges the cluster (corosync, the witness, Pacemaker) and fencing;
the mirror, VM and network findings live with their readers (``health.mirror``,
``health.vms``, ``health.network``).
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import WATCHDOG_DEVICE_ID

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"
# From least to most severe.
SEVERITIES = (INFO, WARNING, CRITICAL)


def finding(severity, component, subject, message, fix):
    """One finding; ``subject`` names the node, link, device, resource or VM."""
    return {"severity": severity, "component": component, "subject": subject, "message": message, "fix": fix}


def at_least(findings, severity):
    """The findings of ``severity`` or worse (none for ``never``)."""
    if severity not in SEVERITIES:
        return []
    rank = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f["severity"]) >= rank]


def gaps(findings):
    """The findings that are a missing redundancy (warning or critical)."""
    return at_least(findings, WARNING)


def _peer(name, nodeid):
    return name or "node %s" % nodeid


def _qdevice_reason(qdevice):
    if not qdevice["running"]:
        return "corosync-qdevice is not running: %s" % qdevice["error"]
    where = qdevice["qnetd_host"] or "qnetd"
    if qdevice["qnetd_port"]:
        where = "%s:%s" % (where, qdevice["qnetd_port"])
    if not qdevice["connected"]:
        return "qdevice is not connected to qnetd at %s, state: %s" % (where, qdevice["state"])
    return "qnetd at %s did not give the vote to this partition" % where


def corosync_findings(corosync, qdevice):
    """Membership, quorum, knet links and the witness's vote."""
    out = []
    if not corosync["running"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                "corosync",
                "corosync is not running or not reachable on this host (%s)" % corosync["error"],
                "Start it (systemctl start corosync); journalctl -u corosync says why it stopped.",
            )
        )
        return out
    if not corosync["quorate"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                "quorum",
                "this node's partition is not quorate (%s of %s needed votes)"
                % (corosync["total_votes"], corosync["quorum"]),
                "Bring the peer or the witness back (check the links and qnetd). Without quorum this host stops "
                "and starts no VM.",
            )
        )
    if corosync["error"]:
        out.append(
            finding(
                WARNING,
                "cluster",
                "links",
                "the corosync links are unknown (%s)" % corosync["error"],
                "Run corosync-cfgtool -s on this host to see why.",
            )
        )
    member_ids = {m["nodeid"] for m in corosync["members"]}
    missing = {}
    for link in corosync["links"]:
        for peer in link["peers"]:
            if peer["nodeid"] not in member_ids:
                missing[peer["nodeid"]] = peer["name"]
    for nodeid in sorted(missing):
        name = _peer(missing[nodeid], nodeid)
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is not a corosync member" % name,
                "Check that %s is powered on and runs corosync, and the links between the hosts "
                "(corosync-cfgtool -s on both)." % name,
            )
        )
    for down in corosync["links_down"]:
        name = _peer(down["name"], down["nodeid"])
        out.append(
            finding(
                WARNING,
                "cluster",
                "link %s" % down["link"],
                "link %s to %s is down" % (down["link"], name),
                "Check the cable, switch port and interface of link %s on both hosts (ip link; corosync-cfgtool -s). "
                "The cluster runs on its other link(s) meanwhile." % down["link"],
            )
        )
    if qdevice is not None and not corosync["qdevice"]:
        out.append(
            finding(
                CRITICAL,
                "witness",
                qdevice.get("qnetd_host") or "qdevice",
                "the qdevice vote is missing (%s)" % _qdevice_reason(qdevice),
                "Check corosync-qnetd on the witness (systemctl status corosync-qnetd; corosync-qnetd-tool -l) and "
                "corosync-qdevice here. Without the witness's vote, losing either host stops every VM.",
            )
        )
    return out


def _node_findings(node):
    name = node["name"]
    out = []
    if node["unclean"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is unclean (it must be fenced)" % name,
                "Check the fencing of %s (pcs stonith history show %s): its VMs restart elsewhere only after it is "
                "fenced." % (name, name),
            )
        )
    elif not node["online"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is offline" % name,
                "Power %s on or start its cluster stack (pcs cluster start); until then the VMs have no second "
                "host." % name,
            )
        )
    if node["pending"] and node["online"]:
        # Pacemaker shows a node that is still joining as standby and pending: not the user's standby.
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is joining the cluster (not ready to run resources yet)" % name,
                "Wait a minute: it is normal right after %s starts or is fenced. If it stays so, read "
                "journalctl -u pacemaker on %s." % (name, name),
            )
        )
    elif node["standby"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is in standby" % name,
                "When its maintenance is over: pcs node unstandby %s. Until then no VM can fail over to it." % name,
            )
        )
    if node["maintenance"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                name,
                "node %s is in maintenance mode" % name,
                "When its maintenance is over: pcs node unmaintenance %s. The cluster does not manage its "
                "resources meanwhile." % name,
            )
        )
    return out


def pacemaker_findings(pacemaker):
    """Pacemaker's partition and nodes."""
    if not pacemaker["running"]:
        return [
            finding(
                CRITICAL,
                "cluster",
                "pacemaker",
                "pacemaker is not running on this host (%s)" % pacemaker["error"],
                "Start it (pcs cluster start); journalctl -u pacemaker says why it stopped.",
            )
        ]
    if pacemaker["dc"] is None:
        # Node and resource states are not known before a DC is elected.
        return [
            finding(
                CRITICAL,
                "cluster",
                "pacemaker",
                "pacemaker has not elected a DC (the cluster is not formed yet)",
                "Wait a minute for the cluster to form; if it does not, check the membership (corosync-quorumtool -s).",
            )
        ]
    out = []
    if not pacemaker["have_quorum"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                "quorum",
                "the pacemaker partition has no quorum",
                "Bring the peer or the witness back; without quorum this partition runs no VM.",
            )
        )
    if pacemaker["maintenance_mode"]:
        out.append(
            finding(
                CRITICAL,
                "cluster",
                "maintenance-mode",
                "the cluster is in maintenance mode (maintenance-mode=true)",
                "When the maintenance is over: pcs property set maintenance-mode=false. Nothing fails over meanwhile.",
            )
        )
    for node in pacemaker["nodes"]:
        out.extend(_node_findings(node))
    return out


def resource_findings(pacemaker, owned=()):
    """Failed or stopped resources and past failures.

    ``owned``: resource ids another reader judges (the protected VMs' resources),
    left out here so that each gap is reported once.
    """
    if not pacemaker["running"] or pacemaker["dc"] is None:
        return []
    out = []
    for item in pacemaker["resources"]["items"]:
        if item["id"] in owned or item["parent"] in owned:
            continue
        if item["failed"]:
            out.append(
                finding(
                    CRITICAL,
                    "cluster",
                    item["id"],
                    "resource %s has failed on %s" % (item["id"], ", ".join(item["nodes"]) or "its node"),
                    "Read pcs status --full and the resource's log, fix the cause, then pcs resource cleanup %s."
                    % item["id"],
                )
            )
        elif not item["active"] and item["target_role"] != "Stopped":
            out.append(
                finding(
                    CRITICAL,
                    "cluster",
                    item["id"],
                    "resource %s is not running" % item["id"],
                    "pcs status --full says why; pcs resource cleanup %s retries it." % item["id"],
                )
            )
    for failure in pacemaker["failures"]:
        reason = failure["exitstatus"] or "error"
        if failure["exitreason"]:
            reason = "%s: %s" % (reason, failure["exitreason"])
        out.append(
            finding(
                WARNING,
                "cluster",
                failure["resource"],
                "%s of %s failed on %s (%s)" % (failure["task"], failure["resource"], failure["node"], reason),
                "Once the cause is fixed: pcs resource cleanup %s (its fail count can keep it off %s)."
                % (failure["resource"], failure["node"]),
            )
        )
    return out


def fencing_facts(pacemaker, nodes=None, targets=None):
    """Fencing as a component: enabled, devices (with the nodes each fences), last action.

    ``targets`` maps a device id to the nodes it fences (from the CIB's
    ``pcmk_host_list``); a device not in it is taken to fence node N when it
    is named ``fence_N`` (what the cluster role creates). ``nodes`` lists the
    nodes that must each have a device, or None; the ``watchdog`` device (watchdog
    self-fencing, the last level) does not count as a node's device.
    """
    targets = targets or {}
    devices = []
    for device in pacemaker["stonith"]:
        fenced = targets.get(device["id"])
        if fenced is None:
            fenced = [device["id"][len("fence_") :]] if device["id"].startswith("fence_") else []
        devices.append(dict(device, targets=fenced))
    events = sorted(pacemaker.get("fence_events") or [], key=lambda e: e.get("completed") or "")
    last = events[-1] if events else None
    missing = []
    if nodes is not None:
        covered = set()
        for device in devices:
            # The watchdog device (diskless SBD) is each node's last level, behind its own devices: it
            # fences a node only once that node has lost quorum, never a hung quorate one.
            if device["id"] != WATCHDOG_DEVICE_ID:
                covered.update(device["targets"])
        missing = [n for n in nodes if n not in covered]
    return {
        "enabled": pacemaker["stonith_enabled"],
        "devices": devices,
        "missing": missing,
        "last_action": last,
    }


def _device_findings(device, failed_on=()):
    """A failed or disabled device cannot be trusted to fence; a stopped one still fences, unmonitored."""
    name = "fencing device %s (%s)" % (device["id"], device["agent"])
    if device["failed"]:
        return [
            finding(
                CRITICAL,
                "fencing",
                device["id"],
                "%s has failed: it may not be able to fence %s" % (name, ", ".join(device["targets"]) or "its node"),
                "Check its address and credentials (pcs stonith config %s; fence_AGENT -o status by hand), then "
                "pcs stonith cleanup %s." % (device["id"], device["id"]),
            )
        ]
    if device.get("target_role") == "Stopped":
        return [
            finding(
                CRITICAL,
                "fencing",
                device["id"],
                "%s is disabled: the cluster cannot fence %s" % (name, ", ".join(device["targets"]) or "its node"),
                "pcs stonith enable %s" % device["id"],
            )
        ]
    if not device["active"] and failed_on:
        return [
            finding(
                CRITICAL,
                "fencing",
                device["id"],
                "%s is not running" % name,
                "Its start failed on %s: check its address and credentials (pcs stonith config %s; fence_AGENT "
                "-o status by hand), then pcs stonith cleanup %s." % (", ".join(failed_on), device["id"], device["id"]),
            )
        ]
    if not device["active"]:
        return [
            finding(
                WARNING,
                "fencing",
                device["id"],
                "%s is not running" % name,
                "It can still fence, but no node monitors it now (it never runs on the node it fences, so it "
                "stops while the other node is offline or in standby). If both nodes are up: pcs stonith cleanup %s."
                % device["id"],
            )
        ]
    return []


def fencing_findings(pacemaker, fencing):
    """No fencing, a node without a fence device, a device that does not run; the last action (info)."""
    if not pacemaker["running"] or pacemaker["dc"] is None:
        return []
    out = []
    if not fencing["enabled"]:
        out.append(
            finding(
                CRITICAL,
                "fencing",
                "stonith-enabled",
                "fencing is disabled (stonith-enabled=false)",
                "pcs property set stonith-enabled=true (site.yml sets it). Without fencing a split can corrupt "
                "a mirror.",
            )
        )
    if not fencing["devices"]:
        out.append(
            finding(
                CRITICAL,
                "fencing",
                "devices",
                "no fencing device configured",
                "Run site.yml: it makes one fence device per host from vmpair_fencing.",
            )
        )
    else:
        for node in fencing["missing"]:
            out.append(
                finding(
                    CRITICAL,
                    "fencing",
                    node,
                    "no fence device for node %s" % node,
                    "Run site.yml (it makes fence_%s from vmpair_fencing). Until then a hung %s cannot be fenced "
                    "and its VMs do not restart on the peer." % (node, node),
                )
            )
    for device in fencing["devices"]:
        failed_on = [f["node"] for f in pacemaker["failures"] if f["resource"] == device["id"] and f["node"]]
        out.extend(_device_findings(device, failed_on))
    last = fencing["last_action"]
    if last:
        out.append(
            finding(
                INFO,
                "fencing",
                last.get("target") or "?",
                "last fencing action: %s of %s by %s, %s at %s"
                % (
                    last.get("action"),
                    last.get("target"),
                    last.get("delegate") or last.get("origin") or "?",
                    last.get("status"),
                    last.get("completed") or "?",
                ),
                "Nothing to do if it was expected; pcs stonith history cleanup forgets it.",
            )
        )
    return out

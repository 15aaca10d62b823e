# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mirrors' state: every DRBD resource's connection, roles, disk states,
out-of-sync amount and resync progress, and what is missing.

Read from ``drbdsetup events2 --now --statistics all`` (the machine-readable
state dump of drbd-utils 9; it speaks to both the 8.4 kernel module of Debian 12
and DRBD 9), ``drbdadm dump-xml`` (the protocol of each resource) and, on 8.4,
``/proc/drbd`` (resync percent and estimated time, which 8.4's events2 lacks).
The unit tests use outputs captured in the real-kernel lab (drbd-utils 9.22,
module 8.4.11).
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import CRITICAL, WARNING, finding
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DRBD_NAME_PREFIX
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import LV_SUFFIX, PROC_DRBD, ParseError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.parse import parse_dump_xml
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import error_text, to_int

COMMANDS = {
    "events2": ["drbdsetup", "events2", "--now", "--statistics", "all"],
    "dump_xml": ["drbdadm", "dump-xml"],
}

_VERSION = re.compile(r"^version:\s*(\S+)", re.M)
_PROC_MINOR = re.compile(r"^\s*(\d+):\s+cs:(\S+)")
_PROC_OOS = re.compile(r"\boos:(\d+)")
_PROC_SYNCED = re.compile(r"sync'ed:\s*([\d.]+)%")
_PROC_LEFT = re.compile(r"sync'ed:.*\((\d+)/(\d+)\)([KM])")
_PROC_FINISH = re.compile(r"finish:\s*(\d+):(\d+):(\d+)")
_PROC_SPEED = re.compile(r"speed:\s*([\d,]+)")
_SYNCING = ("SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "StartingSyncS", "StartingSyncT")
# The replication states of a resync that moves data now (a paused or starting one does not).
_RUNNING_SYNC = ("SyncSource", "SyncTarget")
# A local disk that DRBD detached after an I/O error (on-io-error detach), or never attached.
FAILED_DISK = ("Diskless", "Failed")
_DISK_ORDER = ("Diskless", "Failed", "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate")


def parse_events2(text):
    """``drbdsetup events2 --now [--statistics] all`` -> {resource name: state}.

    Each state: ``role``, ``suspended``, ``connections`` {peer name: {connection,
    peer_role}}, ``devices`` {volume: {minor, disk}} and ``peer_devices``
    {(peer name, volume): {replication, peer_disk, out_of_sync_kib, done, resync_suspended}}
    (``resync_suspended``: None when not suspended, else DRBD's reason: user, peer,
    dependency).
    Raises ParseError on a line that is not an events2 record.
    """
    resources = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line == "exists -":
            continue
        fields = line.split()
        if len(fields) < 2 or fields[0] not in ("exists", "create", "change", "destroy", "call", "response"):
            raise ParseError("drbdsetup events2: unexpected line %r" % line)
        kind = fields[1]
        values = dict(f.split(":", 1) for f in fields[2:] if ":" in f)
        name = values.get("name")
        if name is None or fields[0] != "exists":
            continue
        res = resources.setdefault(name, {"role": None, "suspended": None, "connections": {}, "devices": {}})
        res.setdefault("peer_devices", {})
        peer = values.get("conn-name") or values.get("peer-node-id") or "peer"
        if kind == "resource":
            res["role"] = values.get("role")
            res["suspended"] = values.get("suspended", "no") != "no"
        elif kind == "connection":
            res["connections"][peer] = {"connection": values.get("connection"), "peer_role": values.get("role")}
        elif kind == "device":
            res["devices"][to_int(values.get("volume"))] = {
                "minor": to_int(values.get("minor")),
                "disk": values.get("disk"),
            }
        elif kind == "peer-device":
            done = values.get("done")
            suspended = values.get("resync-suspended")
            res["peer_devices"][(peer, to_int(values.get("volume")))] = {
                "resync_suspended": suspended if suspended not in (None, "no") else None,
                "replication": values.get("replication"),
                "peer_disk": values.get("peer-disk"),
                "out_of_sync_kib": to_int(values.get("out-of-sync")),
                "done": float(done) if done else None,
            }
    return resources


def parse_proc_drbd(text):
    """``/proc/drbd`` of DRBD 8.4 -> (version, {minor: {cstate, oos_kib, percent, eta_s, speed_kib_s}})."""
    match = _VERSION.search(text or "")
    version = match.group(1) if match else None
    minors = {}
    current = None
    for line in (text or "").splitlines():
        match = _PROC_MINOR.match(line)
        if match:
            current = {"cstate": match.group(2), "oos_kib": None, "percent": None, "eta_s": None, "speed_kib_s": None}
            minors[int(match.group(1))] = current
            continue
        if current is None:
            continue
        for regex, key in ((_PROC_OOS, "oos_kib"), (_PROC_SPEED, "speed_kib_s")):
            found = regex.search(line)
            if found:
                current[key] = int(found.group(1).replace(",", ""))
        left = _PROC_LEFT.search(line)
        synced = _PROC_SYNCED.search(line)
        if left:
            done, total = int(left.group(2)) - int(left.group(1)), int(left.group(2))
            current["percent"] = round(100.0 * done / total, 1) if total else None
        elif synced:
            current["percent"] = float(synced.group(1))
        found = _PROC_FINISH.search(line)
        if found:
            hours, minutes, seconds = (int(g) for g in found.groups())
            current["eta_s"] = hours * 3600 + minutes * 60 + seconds
    return version, minors


def _worst(states):
    known = [s for s in states if s]
    if not known:
        return None
    return min(known, key=lambda s: _DISK_ORDER.index(s) if s in _DISK_ORDER else -1)


def _resource_facts(name, state, config, proc_minors, uname):
    peers = sorted(state["connections"]) or [None]
    conn_name = peers[0]
    conn = state["connections"].get(conn_name, {})
    # DRBD 9 names the connection after the peer; 8.4's events2 says "peer" (or nothing, when
    # StandAlone): then the peer is the resource's other host in the configuration.
    peer = conn_name if conn_name not in (None, "peer", "0") else None
    others = [h for h in (config or {}).get("hosts", {}) if h != uname]
    if peer is None and uname and len(others) == 1:
        peer = others[0]
    protocol = (config or {}).get("protocol")
    backing = ((config or {}).get("hosts", {}).get(uname) or {}).get("volumes", {})
    volumes = []
    for vnr in sorted(state["devices"], key=lambda v: (v is None, v)):
        device = state["devices"][vnr]
        pdev = state["peer_devices"].get((conn_name, vnr), {})
        proc = proc_minors.get(device["minor"], {})
        oos = pdev.get("out_of_sync_kib")
        volumes.append(
            {
                "volume": vnr,
                "minor": device["minor"],
                "disk": device["disk"],
                "backing": (backing.get(vnr) or {}).get("disk"),
                "peer_disk": pdev.get("peer_disk"),
                "replication": pdev.get("replication"),
                "out_of_sync_kib": oos if oos is not None else proc.get("oos_kib"),
                "resync_percent": pdev.get("done") if pdev.get("done") is not None else proc.get("percent"),
                "resync_eta_s": proc.get("eta_s"),
                "resync_speed_kib_s": proc.get("speed_kib_s"),
                "resync_suspended": pdev.get("resync_suspended"),
            }
        )
    replications = [v["replication"] for v in volumes if v["replication"]]
    syncing = [v for v in volumes if v["replication"] in _SYNCING]
    percents = [v["resync_percent"] for v in syncing if v["resync_percent"] is not None]
    etas = [v["resync_eta_s"] for v in syncing if v["resync_eta_s"] is not None]
    return {
        "name": name,
        "host": uname,
        "peer": peer,
        "role": state["role"],
        "peer_role": conn.get("peer_role"),
        "connection": conn.get("connection") or "StandAlone",
        "replication": syncing[0]["replication"] if syncing else (replications[0] if replications else None),
        "disk": _worst(v["disk"] for v in volumes),
        "peer_disk": _worst(v["peer_disk"] for v in volumes),
        "suspended": bool(state["suspended"]),
        "protocol": protocol,
        "out_of_sync_kib": sum(v["out_of_sync_kib"] or 0 for v in volumes),
        "resyncing": bool(syncing),
        "resync_percent": min(percents) if percents else None,
        "resync_eta_s": max(etas) if etas else None,
        "resync_progressing": bool(syncing) and all(_progressing(v) for v in syncing),
        "volumes": volumes,
    }


def _progressing(volume):
    """A volume's resync moves data now: running (not paused or suspended), with a speed above 0 where the
    kernel gives one and a time left (8.4's /proc/drbd gives both; without them it cannot be told)."""
    if volume["replication"] not in _RUNNING_SYNC or volume["resync_suspended"]:
        return False
    if volume["resync_speed_kib_s"] is not None and volume["resync_speed_kib_s"] <= 0:
        return False
    return bool(volume["resync_eta_s"])


def mirror_facts(events2, dump_xml, proc_text, uname=None):
    """Facts about every DRBD resource of the host from the tools' Outputs and /proc/drbd's text.

    ``proc_text`` is None when /proc/drbd does not exist (the module is not
    loaded): ``loaded`` is then False and nothing else is asked. ``uname`` is
    this host's node name (``uname -n``, what DRBD matches ``on HOST`` with),
    to name the peer where events2 does not.
    """
    facts = {"loaded": proc_text is not None, "version": None, "error": None, "resources": []}
    if proc_text is None:
        facts["error"] = "the DRBD kernel module is not loaded (no %s)" % PROC_DRBD
        return facts
    version, proc_minors = parse_proc_drbd(proc_text)
    facts["version"] = version
    if events2.rc != 0:
        facts["error"] = error_text(events2, "drbdsetup")
        return facts
    configs = {}
    if dump_xml is not None and dump_xml.rc == 0:
        try:
            configs = parse_dump_xml(dump_xml.stdout)
        except ParseError as exc:
            facts["error"] = str(exc)
    try:
        states = parse_events2(events2.stdout)
    except ParseError as exc:
        facts["error"] = str(exc)
        return facts
    facts["resources"] = [
        _resource_facts(name, states[name], configs.get(name), proc_minors, uname) for name in sorted(states)
    ]
    return facts


def duration(seconds):
    """``95`` -> ``1 min 35 s``."""
    if seconds is None:
        return "unknown time"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return "%d h %d min" % (hours, minutes)
    return "%d min %d s" % (minutes, seconds) if minutes else "%d s" % seconds


def minutes_left(seconds):
    """Whole minutes, rounded up (at least 1): ``75`` -> ``2``."""
    return max(1, (int(seconds) + 59) // 60)


def redundancy_returns(res):
    """``redundancy returns in about 2 min`` for a progressing resync, else None."""
    if not res.get("resync_progressing") or res.get("resync_eta_s") is None:
        return None
    return "redundancy returns in about %d min" % minutes_left(res["resync_eta_s"])


def stall_reason(res):
    """Why a resync moves no data, or None when it progresses (or does not resync)."""
    if not res["resyncing"] or res.get("resync_progressing"):
        return None
    volumes = [v for v in res.get("volumes") or [] if v.get("replication") in _SYNCING] or [res]
    for volume in volumes:
        replication = volume.get("replication")
        if replication in ("PausedSyncS", "PausedSyncT"):
            return "the resync is paused (%s: another resync it depends on runs first, or drbdadm pause-sync)" % (
                replication
            )
        if volume.get("resync_suspended"):
            return "the resync is suspended (%s)" % volume["resync_suspended"]
        if replication in ("StartingSyncS", "StartingSyncT"):
            return "the resync has not started (%s)" % replication
        if volume.get("resync_speed_kib_s") is not None and volume["resync_speed_kib_s"] <= 0:
            return "the resync makes no progress (speed 0 K/sec)"
    return "the resync shows no progress (no speed or time left known)"


def resync_text(res):
    """``resyncing: 45.2 % done, about 1 min 35 s left, 120 MiB out of sync``."""
    parts = ["resyncing (%s)" % res["replication"]]
    if res["resync_percent"] is not None:
        parts.append("%.1f %% done" % res["resync_percent"])
    if res["resync_eta_s"] is not None:
        parts.append("about %s left" % duration(res["resync_eta_s"]))
    parts.append("%d MiB out of sync" % ((res["out_of_sync_kib"] + 1023) // 1024))
    return ", ".join(parts)


def _peer_name(res):
    return res["peer"] or "the peer"


def disk_target(vm, backing):
    """The VM's disk a backing LV carries: ``/dev/vg/web1-vda-drbd`` of VM web1 -> ``vda`` (None if unknown)."""
    base = (backing or "").rsplit("/", 1)[-1]
    prefix, suffix = "%s-" % vm, LV_SUFFIX
    if vm and base.startswith(prefix) and base.endswith(suffix) and len(base) > len(prefix) + len(suffix):
        return base[len(prefix) : -len(suffix)]
    return None


def _failed_disk_finding(res, volume, vm):
    """A volume whose backing disk on this host failed (on-io-error detach) or is not attached.

    DRBD serves the VM's reads and writes from the peer's copy over the replication link: the VM
    goes on, with no second copy. The fix is a new backing volume and ``replace_disk.yml``.
    """
    name, peer = res["name"], _peer_name(res)
    host = res.get("host") or "this host"
    target = disk_target(vm, volume.get("backing"))
    what = "disk %s of VM %s" % (target, vm) if vm and target else "volume %s of mirror %s" % (volume["volume"], name)
    where = volume.get("backing") or "its backing device"
    reachable = res["connection"] == "Connected" and volume.get("peer_disk") == "UpToDate"
    if reachable and res["role"] == "Primary":
        message = (
            "%s: the backing disk on %s (%s) failed or is detached (%s): the VM runs on %s's copy over the "
            "replication link, with no second copy" % (what, host, where, volume["disk"], peer)
        )
    elif reachable:
        message = "%s: the backing disk on %s (%s) failed or is detached (%s): %s's copy is the only one" % (
            what,
            host,
            where,
            volume["disk"],
            peer,
        )
    else:
        peer_copy = "%s's copy is %s over a %s connection" % (
            peer,
            volume.get("peer_disk") or "unknown",
            res["connection"],
        )
        message = "%s: the backing disk on %s (%s) is %s and %s: no good copy is reachable from %s" % (
            what,
            host,
            where,
            volume["disk"],
            peer_copy,
            host,
        )
    first = "" if reachable else "First bring back %s and the replication link: its copy is the only one. " % peer
    return finding(
        CRITICAL,
        "mirror",
        name,
        message,
        first
        + "Replace the failed disk on %s (journalctl -k | grep -i 'drbd\\|i/o error' shows it; after a new physical "
        "volume: vgextend, vgreduce --removemissing), then run ansible-playbook duplex.vmpair.replace_disk -e vm=%s "
        "-e host=%s: it recreates %s, attaches it and waits for the resync (docs/operations.md, A disk failed)."
        % (host, vm or name, host, where),
    )


def vm_of(name):
    """The VM a mirror named by this collection carries (``vm-web1`` -> ``web1``), else None."""
    if name and name.startswith(DRBD_NAME_PREFIX) and len(name) > len(DRBD_NAME_PREFIX):
        return name[len(DRBD_NAME_PREFIX) :]
    return None


def resource_findings(res, vm=None):
    """What is missing for one mirror; ``vm`` names the VM it carries, for the fixes (by default the
    VM its name says, for a mirror of a VM that the site model does not list)."""
    name = res["name"]
    vm = vm or vm_of(name)
    what = "mirror %s%s" % (name, " (VM %s)" % vm if vm else "")
    peer = _peer_name(res)
    out = []
    if res["suspended"]:
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s has suspended I/O: the VM's writes wait" % what,
                "Read the kernel log (journalctl -k | grep drbd); a fence-peer handler or a lost disk suspends I/O.",
            )
        )
    # A disconnected Secondary's disk turns Outdated and a resync target's is Inconsistent: the
    # connection finding below says so. A failed disk, or a bad one while connected, is its own.
    connected = res["connection"] == "Connected" and not res["resyncing"]
    failed = [v for v in res.get("volumes") or [] if v.get("disk") in FAILED_DISK]
    out += [_failed_disk_finding(res, volume, vm) for volume in failed]
    if not failed and connected and res["disk"] not in ("UpToDate", None):
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s: this host's disk is %s" % (what, res["disk"]),
                "Inconsistent or Outdated resyncs from %s by itself while connected; if it does not start, "
                "read drbdadm status %s and journalctl -k | grep %s on both hosts." % (peer, name, name),
            )
        )
    if res["connection"] == "StandAlone":
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s is StandAlone: it does not try to reach %s (split-brain or a manual disconnect)" % (what, peer),
                "Read journalctl -k | grep %s. After a split-brain, keep one side's data as docs/operations.md "
                "(Split-brain) shows; otherwise drbdadm connect %s on both hosts." % (name, name),
            )
        )
    elif res["connection"] != "Connected":
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s is not connected to %s (%s): the peer copy is not updated" % (what, peer, res["connection"]),
                "Check %s and the replication link (ping its replication address); the mirror reconnects and "
                "resyncs by itself." % peer,
            )
        )
    elif res["resyncing"] and redundancy_returns(res):
        # A resync that moves data: redundancy is reduced for a while, and comes back by itself.
        out.append(
            finding(
                WARNING,
                "mirror",
                name,
                "%s is %s; %s (the copy on the target is not usable until it ends)"
                % (what, resync_text(res), redundancy_returns(res)),
                "Nothing to do: the resync runs by itself; do not fail over or migrate meanwhile. If it stops "
                "progressing, validate reports it as critical.",
            )
        )
    elif res["resyncing"]:
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s is %s, but %s; the copy on the target is not usable until it ends"
                % (what, resync_text(res), stall_reason(res)),
                "Read drbdadm status %s and journalctl -k | grep %s on both hosts: drbdadm resume-sync %s "
                "resumes a resync paused by hand; otherwise check the replication link and the resync rate "
                "(vmpair_drbd_resync_rate)." % (name, name, name),
            )
        )
    elif res["peer_disk"] != "UpToDate":
        out.append(
            finding(
                CRITICAL,
                "mirror",
                name,
                "%s: the disk on %s is %s" % (what, peer, res["peer_disk"]),
                "Check the disk on %s (drbdadm status %s there); Outdated or Inconsistent resyncs once "
                "connected. Diskless means its backing disk failed or is detached: pair_info on %s names it, "
                "and ansible-playbook duplex.vmpair.replace_disk -e vm=%s -e host=%s replaces it."
                % (peer, name, peer, vm or name, peer),
            )
        )
    return out

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A protected VM's failed backing disk replaced on one host, back to two copies.

When a backing disk fails under a running VM, DRBD detaches it (``on-io-error detach``, the mirror
role's global setting) and serves the VM's reads and writes from the peer's copy: the volume is
``Diskless`` on that host. Once the disk is repaired (or a new physical volume is in the volume
group), this host gets, per failed volume, in order:

  1. the backing logical volume ``<vm>-<disk>-drbd`` when it is gone (``lvcreate``), as big as the
     DRBD device needs (:func:`.size.backing_bytes` of the size the peer serves);
  2. new DRBD metadata on it (``drbdadm create-md --force RES/VOLUME``): the old disk's metadata,
     where it survived, describes data that is no longer current;
  3. ``drbdadm attach RES/VOLUME``: DRBD then resyncs the whole volume from the peer while the VM
     goes on (the caller waits with ``wait_redundancy``).

Nothing runs unless every failed volume can be replaced: the peer must be connected with its copy
UpToDate (attaching an empty disk is only safe when a good copy is there to resync from), an LV that
survived must be whole (not on a missing physical volume) and big enough, and the volume group must
have room for the missing ones. A failure midway removes the LV this run created; a rerun starts over.
:func:`replace_plan` is pure Python on what :func:`read_host` read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import (
    LV_SUFFIX,
    DrbdError,
    ParseError,
    resource_name,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.parse import parse_dump_xml
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.size import backing_bytes
from ansible_collections.duplex.vmpair.plugins.module_utils.health.mirror import FAILED_DISK, disk_target, parse_events2
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import (
    HostReader,
    HostReadError,
    parse_lvm_rows,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.storage import human


def sysfs_size_path(minor):
    """``/sys/block/drbdN/size``: the DRBD device's size in 512-byte sectors."""
    return "/sys/block/drbd%d/size" % minor


def _split_lv(path):
    """``/dev/VG/LV`` -> (VG, LV); None for anything else."""
    parts = (path or "").split("/")
    if len(parts) == 4 and parts[0] == "" and parts[1] == "dev" and parts[2] and parts[3]:
        return parts[2], parts[3]
    return None


def read_host(runner, resource):
    """What :func:`replace_plan` needs, read on this host (changes nothing)."""
    uname = os.uname()[1]
    events2 = runner.run(["drbdsetup", "events2", "--now", "--statistics", "all"])
    dump = runner.run(["drbdadm", "dump-xml"], check_rc=False)
    try:
        state = parse_events2(events2.stdout).get(resource)
        config = parse_dump_xml(dump.stdout).get(resource) if dump.rc == 0 else None
    except ParseError as exc:
        raise DrbdError(str(exc)) from None
    facts = {"uname": uname, "state": state, "config": config, "vgs": {}, "lvs": {}, "device_bytes": {}}
    if not state or not config:
        return facts
    volumes = ((config.get("hosts") or {}).get(uname) or {}).get("volumes") or {}
    for vnr, device in (state.get("devices") or {}).items():
        if device.get("disk") not in FAILED_DISK or vnr not in volumes:
            continue
        where = _split_lv(volumes[vnr].get("disk"))
        if where and where[0] not in facts["vgs"]:
            vg = where[0]
            try:
                facts["vgs"][vg] = HostReader(runner).volume_group(vg)
            except HostReadError as exc:
                raise DrbdError(str(exc)) from None
            lvs = runner.run(
                ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o",
                 "lv_name,lv_size,lv_attr", vg],
                check_rc=False,
            )  # fmt: skip
            rows = parse_lvm_rows(lvs.stdout, ["name", "size", "attr"]) if lvs.rc == 0 else []
            facts["lvs"][vg] = {row["name"]: row for row in rows}
        # The size DRBD serves, in 512-byte sectors. Read from sysfs: a Secondary's device cannot be
        # opened (blockdev: "Wrong medium type"), and the host whose disk failed is often Secondary.
        text = (read_file(sysfs_size_path(device["minor"])) or "").strip()
        facts["device_bytes"][vnr] = int(text) * 512 if text.isdigit() and int(text) > 0 else None
    return facts


def replace_plan(vm, facts, disk=None):
    """The volumes of ``vm`` to replace on this host and whether they can be: ``{"volumes", "problems"}``.

    Each volume: ``{volume, target, backing, vg, lv, lv_exists, lv_bytes, disk, peer}``.
    """
    resource = resource_name(vm)
    host = facts["uname"]
    state, config = facts["state"], facts["config"]
    if not state or not config:
        return {
            "volumes": [],
            "problems": [
                "%s: DRBD resource %s is not up here (drbdadm status %s): is VM %s protected on this pair? Run "
                "protect.yml for it first" % (host, resource, resource, vm)
            ],
        }
    volumes = ((config.get("hosts") or {}).get(host) or {}).get("volumes") or {}
    connections = state.get("connections") or {}
    conn_name = sorted(connections)[0] if connections else None
    connection = (connections.get(conn_name) or {}).get("connection") or "StandAlone"
    peers = [name for name in config.get("hosts") or {} if name != host]
    peer = peers[0] if peers else "the peer"
    out, problems = [], []
    for vnr in sorted(state.get("devices") or {}):
        device = state["devices"][vnr]
        backing = (volumes.get(vnr) or {}).get("disk")
        target = disk_target(vm, backing)
        if disk and target != disk:
            continue
        if device.get("disk") not in FAILED_DISK:
            continue
        label = "disk %s of VM %s (%s volume %s)" % (target or "?", vm, resource, vnr)
        peer_disk = ((state.get("peer_devices") or {}).get((conn_name, vnr)) or {}).get("peer_disk")
        if connection != "Connected" or peer_disk != "UpToDate":
            problems.append(
                "%s: %s has no good copy to resync from: %s's copy is %s over a %s connection. Fix: bring %s and "
                "the replication link back first (its copy is the only one), then run again"
                % (host, label, peer, peer_disk or "unknown", connection, peer)
            )
            continue
        where = _split_lv(backing)
        if not where or not where[1].endswith(LV_SUFFIX):
            problems.append(
                "%s: %s is backed by %s, not a logical volume this collection made: replace it by hand "
                "(docs/operations.md, A disk failed)" % (host, label, backing)
            )
            continue
        vg, lv = where
        vg_info = facts["vgs"].get(vg)
        if vg_info is None:
            problems.append(
                "%s: volume group %s of %s is not there (vgs %s). Fix: repair or recreate it on the new disk "
                "(pvcreate, vgcreate %s, or vgextend %s and vgreduce --removemissing %s), then run again"
                % (host, vg, label, vg, vg, vg, vg)
            )
            continue
        served = facts["device_bytes"].get(vnr)
        if not served:
            problems.append(
                "%s: the size of %s is unknown (%s gave nothing): is the resource connected?"
                % (host, label, sysfs_size_path(device["minor"]))
            )
            continue
        needed = backing_bytes(served, extent_bytes=vg_info["extent"])
        existing = (facts["lvs"].get(vg) or {}).get(lv)
        if existing is not None:
            attr = str(existing.get("attr") or "")
            if len(attr) > 8 and attr[8] == "p":
                problems.append(
                    "%s: %s/%s of %s is on a missing physical volume (lv_attr %s). Fix: once the new disk is in "
                    "the volume group (vgextend %s NEW_PV), remove the lost one with vgreduce --removemissing "
                    "--force %s (it removes %s/%s, whose data the peer holds), then run again"
                    % (host, vg, lv, label, attr, vg, vg, vg, lv)
                )
                continue
            if existing["size"] < needed:
                problems.append(
                    "%s: %s/%s of %s has %s, less than the %s the mirror needs. Fix: lvremove %s/%s (its data is "
                    "stale: the peer holds the current copy), then run again"
                    % (host, vg, lv, label, human(existing["size"]), human(needed), vg, lv)
                )
                continue
        out.append(
            {
                "volume": vnr,
                "target": target,
                "backing": backing,
                "vg": vg,
                "lv": lv,
                "lv_exists": existing is not None,
                "lv_bytes": existing["size"] if existing is not None else needed,
                "disk": device.get("disk"),
                "peer": peer,
            }
        )
    wanted = {}
    for item in out:
        if not item["lv_exists"]:
            wanted[item["vg"]] = wanted.get(item["vg"], 0) + item["lv_bytes"]
    for vg, size in sorted(wanted.items()):
        if size > facts["vgs"][vg]["free"]:
            problems.append(
                "%s: volume group %s has %s free; the new backing volumes of VM %s need %s. Fix: add the new disk "
                "to it (pvcreate, vgextend %s), then run again" % (host, vg, human(facts["vgs"][vg]["free"]), vm,
                                                                   human(size), vg)
            )  # fmt: skip
    return {"volumes": out, "problems": problems}


def commands(resource, item):
    """The commands that replace one volume's backing disk, in order."""
    target = "%s/%d" % (resource, item["volume"])
    cmds = []
    if not item["lv_exists"]:
        cmds.append(["lvcreate", "--yes", "--wipesignatures", "y", "-n", item["lv"], "-L", "%db" % item["lv_bytes"],
                     item["vg"]])  # fmt: skip
    cmds.append(["drbdadm", "create-md", "--force", target])
    cmds.append(["drbdadm", "attach", target])
    return cmds


def _line(item, after):
    where = "%s (disk %s)" % (item["backing"], item["target"])
    if not after:
        return "%s: %s, %s\n" % (where, item["disk"], "LV present" if item["lv_exists"] else "LV absent")
    return "%s: attached, %s, full resync from %s\n" % (
        where,
        "LV reused" if item["lv_exists"] else "LV created (%s)" % human(item["lv_bytes"]),
        item["peer"],
    )


def run(vm, runner, check_mode=False, disk=None, facts=None):
    """Replace the failed backing disks of ``vm`` on this host (all, or ``disk``); the module's result."""
    resource = resource_name(vm)
    facts = facts if facts is not None else read_host(runner, resource)
    plan = replace_plan(vm, facts, disk)
    if plan["problems"]:
        raise DrbdError("; ".join(plan["problems"]) + ". Nothing was changed.")
    todo = [dict(item, commands=commands(resource, item)) for item in plan["volumes"]]
    header = "%s on %s" % (resource, facts["uname"])
    result = {
        "changed": bool(todo),
        "resource": resource,
        "host": facts["uname"],
        "replaced": todo,
        "commands": [cmd for item in todo for cmd in item["commands"]],
        "diff": {
            "before_header": header,
            "after_header": header,
            "before": "".join(_line(item, False) for item in todo),
            "after": "".join(_line(item, True) for item in todo),
        },
    }
    if check_mode or not todo:
        return result
    for item in todo:
        created = False
        try:
            for cmd in item["commands"]:
                runner.run(cmd)
                created = created or cmd[0] == "lvcreate"
        except CommandError as exc:
            if created:
                # the LV this run made holds nothing yet: remove it, so a rerun starts over
                runner.run(["lvremove", "--yes", "%s/%s" % (item["vg"], item["lv"])], check_rc=False)
            raise DrbdError(
                "%s: replacing %s failed: %s. %s" % (
                    facts["uname"], item["backing"], exc.msg,
                    "The LV this run created was removed; fix the cause and run again." if created
                    else "Fix the cause and run again.",
                )
            ) from None  # fmt: skip
    return result

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Give a protected VM back as a plain local VM: plan and one host's part.

The cluster must have let go of the VM first (``vm_resources state=absent
leave_running=true``; ``unprotect.yml`` does that): otherwise Pacemaker would
stop or restart what this changes. Then, on the host the VM lives on, each
disk moves from ``/dev/drbdN`` to a new plain LV ``<vm>-<disk>-local`` (live
with ``virsh blockcopy ... --pivot`` while the guest runs, with ``qemu-img
convert`` while it is shut off), the plain definition is defined, and DRBD
is taken down and its backing LVs removed. On the peer the definition is
removed (never while the VM runs there), DRBD is taken down and the backing
LVs removed, or with ``keep_peer_copy`` renamed to ``<vm>-<disk>-peercopy``:
a plain volume that holds the peer's last copy (the guest's bytes from offset
0; DRBD's metadata at its end is no longer used).

Nothing is removed before the VM runs on its local LVs: a failure before that
leaves the VM on DRBD, protected on this host, and a rerun completes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import vm_resource_id
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import LV_SUFFIX, resource_name, resource_path
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.commands import DrbdCommands
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.size import DEFAULT_EXTENT
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.apply import ApplyError
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.plan import PlanError
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import config_path
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.storage import human

LOCAL_SUFFIX = "-local"
PEER_COPY_SUFFIX = "-peercopy"


def _round_up(value, step):
    return -(-value // step) * step


def plan_unprotect(pair, me, facts, name, keep_peer_copy=False, cluster_manages=False, online=True):
    """This host's part of unprotecting ``name``; raises PlanError with every problem."""
    if cluster_manages:
        raise PlanError(
            [
                "the cluster still manages VM %s (resource %s): it would restart what unprotecting changes. Fix: "
                "run duplex.vmpair.vm_resources with state: absent and leave_running: true first "
                "(duplex.vmpair.unprotect does)" % (name, vm_resource_id(name))
            ]
        )
    hosts = pair["hosts"]
    vg = pair["storage_vg"]
    res = resource_name(name)
    doms = {h: (facts[h].get("domains") or {}).get(name) for h in hosts}
    running = [h for h in hosts if doms[h] and doms[h]["running"]]
    if len(running) > 1:
        raise PlanError(["VM %s runs on both %s. Fix: stop the copy that should not run" % (name, " and ".join(hosts))])
    if running:
        vm_host = running[0]
    else:
        primaries = [h for h in hosts if ((facts[h].get("drbd_states") or {}).get(res) or {}).get("role") == "Primary"]
        defined = [h for h in hosts if doms[h]]
        vm_host = (primaries or defined or [None])[0]
    node = {n["host"]: n["name"] for n in pair["nodes"]}[me]
    entry = ((facts[me].get("drbd_resources") or {}).get(res) or {}).get("hosts", {}).get(node) or {}
    plan = {
        "vm": name,
        "resource": res,
        "res_path": resource_path(name),
        "config_path": config_path(name),
        "vm_host": vm_host,
        "keep_peer_copy": keep_peer_copy,
        "online": online,
        # the backing LVs as this host's DRBD configuration names them
        "backing": sorted(vol["disk"] for vol in entry.get("volumes", {}).values() if vol.get("disk")),
    }
    if vm_host is None:
        plan.update(role="gone", disks=[])
        return plan
    plan["role"] = "vm_host" if me == vm_host else "peer"
    dom_facts = doms[vm_host]
    disks = []
    if dom_facts and dom_facts.get("xml"):
        dom = domxml.Domain(dom_facts["xml"])
        extent = ((facts[vm_host].get("vg") or {}).get("extent")) or DEFAULT_EXTENT
        for disk in dom.mirrored:
            on_drbd = (disk.source or "").startswith("/dev/drbd")
            capacity = (dom_facts["disks"].get(disk.target) or {}).get("capacity")
            disks.append(
                {
                    "target": disk.target,
                    "source": disk.source,
                    "on_drbd": on_drbd,
                    "local_lv": "%s-%s%s" % (name, disk.target, LOCAL_SUFFIX),
                    "local_path": "/dev/%s/%s-%s%s" % (vg, name, disk.target, LOCAL_SUFFIX),
                    "capacity": capacity,
                    "bytes": _round_up(capacity, extent) if capacity else None,
                }
            )
    plan["disks"] = disks
    if plan["role"] == "vm_host":
        problems = []
        need = sum(d["bytes"] or 0 for d in disks if d["on_drbd"] and d["local_lv"] not in facts[me].get("lvs", {}))
        free = (facts[me].get("vg") or {}).get("free", 0)
        if need > free:
            problems.append(
                "%s: volume group %s has %s free; the local copies of VM %s need %s. Fix: free or add space in %s "
                "(vgextend)" % (me, vg, human(free), name, human(need), vg)
            )
        for d in disks:
            if d["on_drbd"] and not d["bytes"]:
                problems.append(
                    "%s: the size of disk %s of VM %s is unknown (virsh domblkinfo)" % (me, d["target"], name)
                )
        if problems:
            raise PlanError(problems)
        local = {d["target"]: d["local_path"] for d in disks}
        sizes = {d["target"]: d["capacity"] for d in disks}
        plan["plain_xml"] = domxml.unprotect(dom_facts["xml"], local, sizes) if disks else dom_facts["xml"]
    return plan


def _take_down(actions, plan, vg, keep_copy):
    """DRBD down, resource file gone, backing LVs removed (or renamed to keep the peer's copy)."""
    if actions.reader.drbd_state(plan["resource"]) is not None:
        actions.run(DrbdCommands(plan["resource"]).down())
    for path in (plan["res_path"], plan["config_path"]):
        if os.path.exists(path):
            actions.commands.append(["remove", path])
            if not actions.check_mode:
                os.unlink(path)
    lvs = actions.reader.logical_volumes(vg)
    for path in plan["backing"]:
        name = os.path.basename(path)
        if name not in lvs:
            continue
        if keep_copy:
            actions.run(["lvrename", vg, name, name[: -len(LV_SUFFIX)] + PEER_COPY_SUFFIX])
        else:
            actions.run(["lvremove", "--yes", path])


def apply_unprotect(actions, plan, vg, live_domain):
    """Carry out this host's part. Returns ``{"xml_before", "xml_after"}`` for the diff."""
    vm = plan["vm"]
    diff = {"xml_before": live_domain and live_domain.get("xml"), "xml_after": live_domain and live_domain.get("xml")}
    try:
        if plan["role"] == "vm_host":
            moving = [d for d in plan["disks"] if d["on_drbd"]]
            lvs = actions.reader.logical_volumes(vg)
            for d in moving:
                if d["local_lv"] not in lvs:
                    actions.lvcreate(vg, d["local_lv"], d["bytes"])
            running = bool(live_domain and live_domain["running"])
            restart = False
            if moving and running and not plan["online"]:
                actions.virsh("shutdown", vm)
                if not actions.check_mode:
                    actions.wait_shut_off(vm)
                running, restart = False, True
            state = actions.reader.drbd_state(plan["resource"])
            if moving and not running and (state or {}).get("role") != "Primary":
                # the copy reads the DRBD device: promote this (UpToDate) side while the VM is off
                actions.run(DrbdCommands(plan["resource"]).primary())
            for d in moving:
                if running:
                    if (live_domain["disks"].get(d["target"]) or {}).get("source") == d["local_path"]:
                        continue
                    actions.blockcopy(vm, d["target"], domxml.disk_element(plan["plain_xml"], d["target"]))
                else:
                    actions.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", d["source"], d["local_path"]])
            if actions.ensure_definition(vm, diff["xml_before"], plan["plain_xml"]):
                diff["xml_after"] = plan["plain_xml"]
            if restart:
                actions.virsh("start", vm)
            _take_down(actions, plan, vg, keep_copy=False)
        elif plan["role"] == "peer":
            if live_domain and live_domain["running"]:
                raise ApplyError(
                    "VM %s runs here too; it is not undefined. Fix: stop the copy that should not run" % vm, False
                )
            if live_domain and live_domain.get("persistent", True):
                actions.virsh("undefine", vm)
                diff["xml_after"] = None
            _take_down(actions, plan, vg, keep_copy=plan["keep_peer_copy"])
        else:
            _take_down(actions, plan, vg, keep_copy=plan["keep_peer_copy"])
    except CommandError as exc:  # nothing is rolled back: each step is safe to redo
        msg = exc.msg
        raise ApplyError(
            "%s. The VM keeps running on the disks it has; fix the cause and run again to complete" % msg,
            rolled_back=False,
            commands=actions.commands,
        ) from None
    return diff

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The storage a VM needs on each host of a pair before it can be protected.

Every mirrored disk (:attr:`.domain.Domain.mirrored`) gets a logical volume ``<vm>-<disk>-drbd`` in
the pair's volume group, on both hosts, big enough for the disk's *virtual* size plus DRBD's
internal metadata, in whole extents (:func:`.size.backing_bytes`). :func:`storage_plan`
works that out and checks it fits, from what the caller read on the host (``virsh domblkinfo``
capacities, ``vgs`` free space and extent size, ``lvs`` names). It returns every problem at once,
each naming the host, what is missing and the fix, so nothing is changed before all of it fits.
Pure Python: nothing here touches a host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import DrbdError, lv_name, lv_path
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.size import backing_bytes

GIB = 1024**3


def human(size):
    """Bytes as GiB/MiB with two decimals (what a sysadmin compares with `vgs`)."""
    if size >= GIB:
        return "%.2f GiB" % (size / float(GIB))
    return "%.2f MiB" % (size / 1024.0**2)


def storage_plan(host, domain, capacities, vg, vg_free, extent, existing_lvs=None, peers=1):
    """The LVs ``domain`` needs on ``host`` and whether they fit.

    :param domain: a :class:`.domain.Domain` (its mirrored disks are planned)
    :param capacities: ``{target: bytes}``, the virtual size of each mirrored disk (``virsh domblkinfo``)
    :param vg: the volume group name; ``vg_free`` and ``extent`` its free bytes and extent size
    :param existing_lvs: ``{name: bytes}`` of the LVs already in ``vg``: one of ours left by an
        interrupted run is reused (not counted again) when it is big enough
    :returns: ``{"disks": [...], "needed": bytes, "problems": [...]}``; each disk is ``{target, source,
        format, capacity, lv, lv_path, lv_bytes, exists}``
    """
    disks = []
    problems = []
    needed = 0
    existing = dict(existing_lvs or {})
    for disk in domain.mirrored:
        capacity = capacities.get(disk.target)
        if not capacity or capacity <= 0:
            problems.append(
                "%s: disk %s of VM %s: its size is unknown (virsh domblkinfo %s %s gave nothing). Fix: check that "
                "the image %s exists and is readable"
                % (host, disk.target, domain.name, domain.name, disk.target, disk.source)
            )
            continue
        try:
            name = lv_name(domain.name, disk.target)
        except DrbdError as exc:
            problems.append("%s: %s" % (host, exc))
            continue
        size = backing_bytes(capacity, extent_bytes=extent, peers=peers)
        exists = name in existing
        if exists and existing[name] < size:
            problems.append(
                "%s: logical volume %s/%s exists with %s, less than the %s disk %s needs. Fix: remove it (lvremove "
                "%s/%s) if it is a leftover of an interrupted protect, or rename it"
                % (host, vg, name, human(existing[name]), human(size), disk.target, vg, name)
            )
        if not exists:
            needed += size
        disks.append(
            {
                "target": disk.target,
                "source": disk.source,
                "format": disk.format,
                "capacity": capacity,
                "lv": name,
                "lv_path": lv_path(vg, domain.name, disk.target),
                "lv_bytes": size,
                "exists": exists,
            }
        )
    if needed > vg_free:
        listing = ", ".join("%s %s" % (d["target"], human(d["lv_bytes"])) for d in disks if not d["exists"])
        problems.append(
            "%s: volume group %s has %s free; VM %s needs %s (%s, with DRBD metadata). Fix: free or add space in "
            "%s on %s (vgextend), or protect the VM on another pair"
            % (host, vg, human(vg_free), domain.name, human(needed), listing, vg, host)
        )
    return {"disks": disks, "needed": needed, "problems": problems}

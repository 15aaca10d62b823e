# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Minors, volume numbers and ports for the DRBD resources of protected VMs.

:func:`allocate` gives every protected VM a resource with one TCP port and
one DRBD volume (and minor) per disk, stable across runs and free of
collisions with every resource already defined on either host (as
:func:`.parse.parse_dump_xml` read it there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import (
    AllocationError,
    DrbdError,
    check_disk_name,
    check_vm_name,
    device_path,
    disk_of_lv,
    resource_name,
)

DEFAULT_BASE_MINOR = 100
# DRBD's own limit (MINORMASK, 2^20 - 1).
DEFAULT_MAX_MINOR = 1048575
DEFAULT_BASE_PORT = 7790
DEFAULT_MAX_PORT = 7999


def merge_existing(existing):
    """One ``{resource: [entry, ...]}`` from parse results of several hosts.

    ``existing``: None, one :func:`.parse.parse_dump_xml` result, or a list of them.
    """
    if existing is None:
        return {}
    if isinstance(existing, dict):
        existing = [existing]
    merged = {}
    for parsed in existing:
        for name, entry in (parsed or {}).items():
            merged.setdefault(name, []).append(entry)
    return merged


def _check_range(what, low, high):
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DrbdError("%s limits must be whole numbers, got %r" % (what, value))
    if low > high:
        raise DrbdError("%s range %d-%d is empty: the base is above the limit" % (what, low, high))


def _kept(vm, entries, usage_minors, usage_ports):
    """What an already-protected VM keeps: ({disk: (vnr, minor)}, port or None)."""
    res = resource_name(vm)
    volumes = {}
    ports = set()
    for entry in entries:
        for host in entry["hosts"].values():
            if host["address"] and host["address"]["port"] is not None:
                ports.add(host["address"]["port"])
            for vnr, vol in host["volumes"].items():
                disk = disk_of_lv(vm, vol["disk"])
                if disk is None:
                    continue
                seen = volumes.setdefault(disk, (vnr, vol["minor"]))
                if seen != (vnr, vol["minor"]):
                    raise AllocationError(
                        "resource %s: disk %s is volume %d minor %d on one side and volume %d minor %d on the other;"
                        " make the two hosts' %s agree first" % (res, disk, seen[0], seen[1], vnr, vol["minor"], res)
                    )
    if len(ports) > 1:
        raise AllocationError(
            "resource %s uses ports %s on the hosts; make both hosts use one port first"
            % (res, ", ".join(str(p) for p in sorted(ports)))
        )
    port = ports.pop() if ports else None
    for disk, (vnr, minor) in sorted(volumes.items()):
        others = usage_minors.get(minor, set()) - {res}
        if others:
            raise AllocationError(
                "minor %d of %s (disk %s, volume %d) is also used by %s; free one of them first"
                % (minor, res, disk, vnr, ", ".join(sorted(others)))
            )
    if port is not None:
        others = usage_ports.get(port, set()) - {res}
        if others:
            raise AllocationError(
                "port %d of %s is also used by %s; free one of them first" % (port, res, ", ".join(sorted(others)))
            )
    return volumes, port


def _lowest_free(low, high, taken):
    for value in range(low, high + 1):
        if value not in taken:
            return value
    return None


def allocate(
    vms,
    existing=None,
    base_minor=DEFAULT_BASE_MINOR,
    max_minor=DEFAULT_MAX_MINOR,
    base_port=DEFAULT_BASE_PORT,
    max_port=DEFAULT_MAX_PORT,
    reserved_minors=(),
    reserved_ports=(),
):
    """Minors and ports for the VMs to protect.

    :param vms: ``{vm name: [disk name, ...]}`` (disk order = volume order of a new VM)
    :param existing: parse result(s) of ``drbdadm dump-xml`` on the hosts (see :func:`merge_existing`)
    :returns: ``{vm: {"resource", "port", "new", "volumes": [{"volume", "disk", "minor", "device"}, ...]}}``
        with volumes sorted by volume number.

    Rules: every minor and port named by any existing resource (ours or not,
    on either host) or reserved is taken. A VM whose resource exists keeps
    its port and, per disk, its volume number and minor. Then, VMs in name
    order and disks in list order, each new resource gets the lowest free
    port and each new volume the lowest free volume number and minor. So
    adding a VM moves nobody, and what a removed VM held is free only once
    its resource is gone from both hosts, for whoever comes next.
    """
    if not isinstance(vms, dict):
        raise DrbdError("vms must map each VM name to its list of disks")
    _check_range("minor", base_minor, max_minor)
    _check_range("port", base_port, max_port)
    if base_minor < 0 or max_minor > DEFAULT_MAX_MINOR:
        raise DrbdError("minors must lie within 0-%d" % DEFAULT_MAX_MINOR)
    if base_port < 1 or max_port > 65535:
        raise DrbdError("ports must lie within 1-65535")
    for vm, disks in vms.items():
        check_vm_name(vm)
        if not isinstance(disks, (list, tuple)) or not disks:
            raise DrbdError("VM %s has no disks to protect" % vm)
        for disk in disks:
            check_disk_name(vm, disk)
        if len(set(disks)) != len(disks):
            raise DrbdError("VM %s lists a disk twice: %s" % (vm, ", ".join(disks)))

    merged = merge_existing(existing)
    usage_minors = {}
    usage_ports = {}
    for name, entries in merged.items():
        for entry in entries:
            for minor in entry["minors"]:
                usage_minors.setdefault(minor, set()).add(name)
            for port in entry["ports"]:
                usage_ports.setdefault(port, set()).add(name)
    taken_minors = set(usage_minors) | set(reserved_minors)
    taken_ports = set(usage_ports) | set(reserved_ports)

    result = {}
    # 1. what already-protected VMs keep, before anything new is handed out
    for vm in sorted(vms):
        res = resource_name(vm)
        kept, port = _kept(vm, merged.get(res, []), usage_minors, usage_ports)
        result[vm] = {"resource": res, "port": port, "new": res not in merged, "kept": kept}
    # 2. new ports and volumes, lowest free first, in name order
    for vm in sorted(vms):
        entry = result[vm]
        if entry["port"] is None:
            port = _lowest_free(base_port, max_port, taken_ports)
            if port is None:
                raise AllocationError(
                    "no free DRBD port in %d-%d for VM %s: all %d are in use; raise the port limit or unprotect a VM"
                    % (base_port, max_port, vm, max_port - base_port + 1)
                )
            taken_ports.add(port)
            entry["port"] = port
        kept = entry.pop("kept")
        volumes = []
        used_vnrs = {vnr for vnr, _minor in kept.values()}
        for disk in vms[vm]:
            if disk in kept:
                vnr, minor = kept[disk]
            else:
                vnr = _lowest_free(0, len(vms[vm]) + len(used_vnrs), used_vnrs)
                used_vnrs.add(vnr)
                minor = _lowest_free(base_minor, max_minor, taken_minors)
                if minor is None:
                    raise AllocationError(
                        "no free DRBD minor in %d-%d for VM %s disk %s: all %d are in use;"
                        " raise the minor limit or unprotect a VM"
                        % (base_minor, max_minor, vm, disk, max_minor - base_minor + 1)
                    )
                taken_minors.add(minor)
            volumes.append({"volume": vnr, "disk": disk, "minor": minor, "device": device_path(minor)})
        entry["volumes"] = sorted(volumes, key=lambda v: v["volume"])
    return result

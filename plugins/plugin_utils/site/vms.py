# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VMs of a pair (vmpair_vms) and the hosts' capacity (vmpair_host_capacity)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import (
    DEFAULT_FORCE_STOP,
    DEFAULT_LEVEL,
    DEFAULT_MONITOR_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    FT_UNAVAILABLE,
    MIN_TIMEOUT,
    SERVED_LEVELS,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import closest, is_int, names

RESOURCES = (("vcpus", "%d vCPUs"), ("memory_mib", "%d MiB of memory"))
# Every key of a vmpair_vms entry that the collection reads (docs/site_model.md). Any other key is
# an error: a misspelt stop_timeout would silently leave the default.
VM_KEYS = ("name", "level", "preferred_host", "vcpus", "memory_mib", "stop_timeout", "force_stop", "monitor_timeout")


def level_problem(level):
    """(what is wrong, the fix) for a level the collection does not serve, None for one it serves.

    One rule for a VM's vmpair_vms level (check_site) and for the level of a protect run (-e level,
    checked by the site_model action): ft is a level but not available yet, any other word is no level.
    """
    if level in SERVED_LEVELS:
        return None
    if level == "ft":
        return "%s, so protect.yml refuses it." % FT_UNAVAILABLE, "Use ha."
    return "%r is not a protection level." % (level,), "Use one of %s." % ", ".join(SERVED_LEVELS)


def check_vms(chk, pair, hosts, vms, site_vms):
    """Validate vmpair_vms; return the valid VMs as dicts, each with its defaults filled: name, level,
    preferred_host (None: either host), force_stop, stop_timeout, monitor_timeout, and vcpus and memory_mib
    where given.

    site_vms: {VM name: pair} over the whole site, filled here (libvirt names are unique in the site).
    """
    where = "pair %s" % pair
    chk.check = "vms"
    if vms is None:
        return []
    if not isinstance(vms, list):
        chk.add(where, "vmpair_vms", "is not a list.", "List the pair's VMs, or leave it empty: vmpair_vms: [].")
        return []
    out = []
    seen = set()
    for index, vm in enumerate(vms):
        var = "vmpair_vms[%d]" % index
        if not isinstance(vm, dict) or not isinstance(vm.get("name"), str) or not vm.get("name"):
            chk.add(where, var, "has no name.", "Give each VM its libvirt domain name.")
            continue
        name = vm["name"]
        var = "vmpair_vms[%s]" % name
        if name in seen:
            chk.add(where, var, "VM %s is listed twice." % name, "List each VM once.")
            continue
        seen.add(name)
        if site_vms.get(name, pair) != pair:
            chk.add(
                where,
                var,
                "VM %s is also a VM of pair %s: VM names are unique in the whole site." % (name, site_vms[name]),
                "Rename one of them, or list the VM in one pair only.",
            )
        site_vms.setdefault(name, pair)
        level = vm.get("level", DEFAULT_LEVEL)
        problem = level_problem(level)
        if problem:
            chk.add(where, var + ".level", *problem)
        preferred = vm.get("preferred_host")
        if preferred is not None and preferred not in hosts:
            chk.add(
                where,
                var + ".preferred_host",
                "%s is not a host of this pair." % preferred,
                "Use %s." % " or ".join(hosts),
            )
        entry = {
            "name": name,
            "level": level,
            "preferred_host": preferred,
            "force_stop": vm.get("force_stop", DEFAULT_FORCE_STOP),
            "stop_timeout": vm.get("stop_timeout", DEFAULT_STOP_TIMEOUT),
            "monitor_timeout": vm.get("monitor_timeout", DEFAULT_MONITOR_TIMEOUT),
        }
        check_keys(chk, where, var, vm)
        check_stop(chk, where, var, vm)
        for key in ("vcpus", "memory_mib"):
            if key not in vm:
                continue
            if not is_int(vm[key]) or vm[key] <= 0:
                chk.add(
                    where,
                    "%s.%s" % (var, key),
                    "%r is not a positive whole number." % (vm[key],),
                    "Give a number such as 4.",
                )
            else:
                entry[key] = vm[key]
        out.append(entry)
    return out


def check_keys(chk, where, var, vm):
    """An error for each key of the VM's entry that nothing reads, with the key it is a typo of."""
    for key in sorted(str(k) for k in vm if str(k) not in VM_KEYS):
        close = closest(key, VM_KEYS)
        if close:
            message = "is not a key of a VM, so nothing reads it; the closest key is %s." % close
            fix = "Rename it to %s." % close
        else:
            message = "is not a key of a VM, so nothing reads it."
            fix = "Remove it; a VM's keys are %s (docs/site_model.md)." % ", ".join(VM_KEYS)
            if key in ("disk", "disks"):
                message += " The disks are read from the VM's libvirt definition."
        chk.add(where, "%s.%s" % (var, key), message, fix)


def check_stop(chk, where, var, vm):
    """How the cluster stops and watches the VM: force_stop (bool), stop_timeout and monitor_timeout
    (seconds, at least 10)."""
    if "force_stop" in vm and not isinstance(vm["force_stop"], bool):
        chk.add(
            where,
            var + ".force_stop",
            "%r is not true or false." % (vm["force_stop"],),
            "Use force_stop: true to destroy the guest at once on a stop, false (the default) for a clean shutdown first.",
        )
    fixes = {
        "stop_timeout": "Give the seconds a clean shutdown may take before the guest is destroyed, such as 300 (default %d)."
        % DEFAULT_STOP_TIMEOUT,
        "monitor_timeout": "Give the seconds one health check of the VM and of its mirror may take before the cluster"
        " recovers them, such as 60 (default %d)." % DEFAULT_MONITOR_TIMEOUT,
    }
    for key, fix in fixes.items():
        if key in vm and not (is_int(vm[key]) and vm[key] >= MIN_TIMEOUT):
            chk.add(
                where,
                "%s.%s" % (var, key),
                "%r is not a number of seconds of at least %d." % (vm[key], MIN_TIMEOUT),
                fix,
            )


def check_host_capacity(chk, pair, host, capacity):
    """vmpair_host_capacity of one host: {vcpus, memory_mib} (either may be left out), or None."""
    if capacity is None:
        return None
    where = "pair %s host %s" % (pair, host)
    chk.check = "capacity"
    if not isinstance(capacity, dict):
        chk.add(where, "vmpair_host_capacity", "is not a mapping.", "Write {vcpus: 32, memory_mib: 262144}.")
        return None
    out = {}
    for key in sorted(str(k) for k in capacity):
        if key not in ("vcpus", "memory_mib") or not is_int(capacity[key]) or capacity[key] <= 0:
            chk.add(
                where,
                "vmpair_host_capacity.%s" % key,
                "%r is not a positive count of vcpus or memory_mib." % (capacity[key],),
                "Use keys vcpus and memory_mib with whole numbers.",
            )
        else:
            out[key] = capacity[key]
    return out


def check_capacity(chk, pair, capacities, vms):
    """All VMs of the pair must fit on either host alone: the pair survives the loss of one host.

    capacities: {host: valid capacity from check_host_capacity, or None}, in pair order.
    """
    chk.check = "capacity"
    if not vms:
        return
    declared = [key for key, _unit in RESOURCES if any(c and key in c for c in capacities.values())]
    unsized = [vm["name"] for vm in vms if any(key not in vm for key in declared)]
    if unsized:
        chk.warn(
            "pair %s" % pair,
            "vmpair_vms",
            "%d VM(s) have no %s (%s): the capacity check counts them as 0."
            % (len(unsized), " or ".join(declared), names(unsized)),
            "Give every VM its %s so that the check covers it." % " and ".join(declared),
        )
    for key, unit in RESOURCES:
        if key not in declared:
            continue
        sized = [vm for vm in vms if key in vm]
        need = sum(vm[key] for vm in sized)
        for host, capacity in capacities.items():
            if not capacity or key not in capacity or need <= capacity[key]:
                continue
            have = capacity[key]
            others = " and ".join(h for h in capacities if h != host) or "the peer"
            chk.add(
                "pair %s host %s" % (pair, host),
                "vmpair_host_capacity.%s" % key,
                "the pair's %d VM(s) need %s in all, but %s has %s: when %s is lost, %s cannot run them all (%s short)."
                % (len(sized), unit % need, host, unit % have, others, host, unit % (need - have)),
                "Give %s at least %s (if it has them, raise vmpair_host_capacity.%s), shrink the VMs, "
                "or move VMs to another pair." % (host, unit % need, key),
            )

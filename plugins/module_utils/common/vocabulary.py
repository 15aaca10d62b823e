# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's shared words, defined once.

This module owns:

* the protection levels: every level a VM may name, the ones served today, the default, what each
  means in words, and the wording that refuses ``ft`` (check_site, protect.yml, the modules);
* the hypervisors and the libvirt URI of each;
* the Debian releases the collection supports, by codename;
* the names the collection gives a protected VM's objects: the DRBD resource ``vm-NAME`` (drbdadm,
  ``/etc/drbd.d/vm-NAME.res``) and the cluster ids ``vm-NAME`` (VirtualDomain), ``drbd-NAME``
  (ocf:linbit:drbd) in its clone ``drbd-NAME-clone``, and the constraints around them.

Every other file imports these (site.base, drbd.base, pacemaker.vm_objects, protect.host, libvirt.domain, the
modules); the playbooks and roles read the ids from the site model's ``resource_ids`` and the
Debian releases from its ``debian_releases`` (action site_model), which are built here. tests/unit/test_vocabulary.py fails when a copy appears elsewhere.
Pure Python: nothing here touches a host or an Ansible object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

# ---------------------------------------------------------------------------
# protection levels

# Every level a VM may name (vmpair_vms[].level), and the ones the collection serves today
# (check_site, protect.yml and its -e level, the modules, the AWX survey). ft is a level (its
# round-trip limit is kept) but is refused everywhere with FT_REFUSED until it exists.
LEVELS = ("recovery", "ha", "ft")
SERVED_LEVELS = ("recovery", "ha")
DEFAULT_LEVEL = "ha"
LEVEL_DESCRIPTIONS = {
    "recovery": "asynchronous copy (DRBD protocol A); the VM is pinned to its host and moved on request",
    "ha": "synchronous copy (DRBD protocol C); the cluster restarts the VM on the peer",
    "ft": "fault tolerance (lock-step copies, COLO); not available yet",
}
FT_UNAVAILABLE = "level ft (fault tolerance) is not available yet"
FT_REFUSED = FT_UNAVAILABLE + ": use ha"

# How the cluster stops a VM unless its vmpair_vms entry says otherwise: a clean shutdown
# (force_stop false) that may take stop_timeout seconds before the guest is destroyed.
DEFAULT_FORCE_STOP = False
DEFAULT_STOP_TIMEOUT = 120
# How long the cluster waits for one health check (monitor) of a VM and of its mirror unless its
# vmpair_vms entry says otherwise. A check that runs longer counts as a failure: the cluster
# recovers the VM (stop, start), and if that stop times out too it fences the host. 30 s is
# VirtualDomain's own default; a host whose libvirt or drbdsetup may answer slower under load (an
# emulated or heavily loaded host) needs more.
DEFAULT_MONITOR_TIMEOUT = 30
MIN_TIMEOUT = 10

# ---------------------------------------------------------------------------
# hypervisors

HYPERVISOR_URIS = {"kvm": "qemu:///system", "xen": "xen:///system"}
HYPERVISORS = tuple(sorted(HYPERVISOR_URIS))
DEFAULT_HYPERVISOR = "kvm"

# ---------------------------------------------------------------------------
# Debian releases

# The Debian releases the roles and playbooks support, oldest first: codename -> major version, a
# string as Ansible's distribution_major_version fact gives it. The roles' OS check
# (roles/*/tasks/os_vars.yml) and rolling_update.yml's release upgrade read it as the site model's
# debian_releases; the roles' meta/main.yml lists the same codenames for Galaxy (a test compares them).
DEBIAN_RELEASES = collections.OrderedDict([("bookworm", "12"), ("trixie", "13")])

# ---------------------------------------------------------------------------
# resource ids

VM_RESOURCE_PREFIX = "vm-"
DRBD_RESOURCE_PREFIX = "drbd-"
CLONE_SUFFIX = "-clone"
# The DRBD resource (drbdadm, /etc/drbd.d) of a VM has the name of its cluster VM resource.
DRBD_NAME_PREFIX = VM_RESOURCE_PREFIX


def vm_resource_id(name):
    """``vm-NAME``: the cluster's ocf:heartbeat:VirtualDomain resource of VM ``name``."""
    return VM_RESOURCE_PREFIX + str(name)


def drbd_resource_id(name):
    """``drbd-NAME``: the cluster's ocf:linbit:drbd resource of VM ``name``."""
    return DRBD_RESOURCE_PREFIX + str(name)


def drbd_clone_id(name):
    """``drbd-NAME-clone``: the promotable clone of :func:`drbd_resource_id`."""
    return drbd_resource_id(name) + CLONE_SUFFIX


def drbd_name(name):
    """``vm-NAME``: the DRBD resource (drbdadm, ``/etc/drbd.d/vm-NAME.res``) of VM ``name``."""
    return DRBD_NAME_PREFIX + str(name)


def cib_ids(name):
    """Every CIB id the collection owns for VM ``name``, by role (pacemaker.vm_objects' resource_ids)."""
    vm, drbd = vm_resource_id(name), drbd_resource_id(name)
    return collections.OrderedDict(
        [
            ("drbd", drbd),
            ("clone", drbd_clone_id(name)),
            ("vm", vm),
            ("colocation", "colocation-" + vm),
            ("order", "order-" + vm),
            ("location", "location-" + vm),
            ("promote_only", "location-%s-promote-only" % drbd),
        ]
    )


def resource_ids(name):
    """What the playbooks need of VM ``name``: ``vm_resource``, ``drbd_resource`` (the cluster's
    ``drbd-NAME``), ``drbd_clone`` and ``drbd_name`` (the DRBD resource ``vm-NAME``)."""
    return {
        "vm_resource": vm_resource_id(name),
        "drbd_resource": drbd_resource_id(name),
        "drbd_clone": drbd_clone_id(name),
        "drbd_name": drbd_name(name),
    }


# ---------------------------------------------------------------------------
# fencing

FENCE_DEVICE_PREFIX = "fence_"
# Pacemaker's fencer accepts a watchdog device (watchdog self-fencing, diskless SBD) only with
# exactly this id and agent (Pacemaker 2.1.5 fenced_commands.c stonith_device_register); a fencing
# level names it by this id; fence_watchdog itself only prints metadata.
WATCHDOG_DEVICE_ID = "watchdog"
WATCHDOG_AGENT = "fence_watchdog"
# corosync-qdevice's sync_timeout (30 s, corosync-qdevice(8)), which the roles leave at its default:
# a host cut off from its peer AND the witness can stay quorate that long after the split, so its
# SBD watchdog timeout must be longer (diskless SBD with a qdevice), and the survivor waits twice
# that before it treats the host as self-fenced (stonith-watchdog-timeout).
QDEVICE_SYNC_TIMEOUT_S = 30
# With watchdog fencing, the monitor timeout of each device in front of the watchdog level. Pacemaker's
# fencer runs one action of a device at a time: a fence request waits for the device's monitor, which
# on a BMC that hangs (gone with its site, or a firewall that drops) lasts until this timeout. The
# site-loss lab scenario saw a 2 min monitor push the reboot's failure past the topology's limit.
FENCE_MONITOR_TIMEOUT_S = 20
# What the devices' timeout leaves on top of the monitor's wait and the watchdog's (site model).
FENCE_TIMEOUT_MARGIN_S = 20


def fence_device_id(node, index=0):
    """``fence_NODE`` (the host's first device), ``fence_NODE_2``, ... for its further devices."""
    return FENCE_DEVICE_PREFIX + str(node) + ("" if index == 0 else "_%d" % (index + 1))

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every DRBD part shares: names, versions, levels, the secret rules and the errors.

Naming (one place, used by every part):

* resource ``vm-<vm>``, file ``/etc/drbd.d/vm-<vm>.res``;
* backing logical volume ``<vm>-<disk>-drbd`` in the pair's volume group,
  i.e. ``/dev/<vg>/<vm>-<disk>-drbd`` on both hosts (disk names are libvirt
  target names such as ``vda``: no ``-``, so the LV name maps back to one
  VM and one disk);
* device ``/dev/drbd<minor>``, ``meta-disk internal``;
* volume numbers follow the VM's disk list (0..n-1) when the VM is first
  protected; a disk keeps its volume number and minor afterwards. Every volume
  gets its own minor (lowest free), which is consecutive for a new VM on a
  pair without holes but never moves an existing volume to make room.
* one port per resource (a pair has one connection), the same on both hosts;
  the address is the host's address on the pair's first replication link.
* DRBD 9 node-id = the node's corosync node id from the site model (1, 2).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import (
    DRBD_NAME_PREFIX,
    FT_REFUSED,
    SERVED_LEVELS,
)

RESOURCE_PREFIX = DRBD_NAME_PREFIX
RESOURCE_DIR = "/etc/drbd.d"
# The 8.4 module's status file; it exists whenever a DRBD module is loaded.
PROC_DRBD = "/proc/drbd"
LV_SUFFIX = "-drbd"

VERSIONS = ("8.4", "9")
# What each protection level means for the replication link. Both call the
# cluster's fence-peer handler (common section of global_common.conf) when the
# peer is lost, so a side that goes on alone first outdates the other's copy.
# ha freezes I/O until that is done (resource-and-stonith). The kernel refuses
# resource-and-stonith with protocol A (ERR_STONITH_AND_PROT_A, "fencing
# resource-and-stonith needs protocol B or C", 8.4 and 9), and the common
# section sets it for every resource: recovery must override it with
# resource-only. Each resource therefore states its fencing itself. The levels served are
# vocabulary.SERVED_LEVELS (one definition): a level added there needs its settings here.
_SETTINGS = {
    "ha": {"protocol": "C", "fencing": "resource-and-stonith"},
    "recovery": {"protocol": "A", "fencing": "resource-only"},
}
LEVELS = {level: _SETTINGS[level] for level in SERVED_LEVELS}

SECRET_ALG = "sha256"
# SHARED_SECRET_MAX in drbd_limits.h is 64 with the terminating NUL: drbdadm refuses a 64-character
# secret ("Value is too long. max len: 63").
SECRET_MAX_LEN = 63

_VM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,47}$")
_DISK_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_SECRET_BAD = re.compile(r'["\\\s]')


class DrbdError(Exception):
    """Base class: bad input or an inconsistent state found before running anything."""


class LevelError(DrbdError):
    """The protection level cannot be served by DRBD (ft, unknown)."""


class AllocationError(DrbdError):
    """No free minor/port, or what the hosts already use contradicts itself."""


class ParseError(DrbdError):
    """drbdadm output that cannot be read."""


# ---------------------------------------------------------------------------
# names


def resource_name(vm):
    """``vm-<vm>``: the DRBD resource of a VM."""
    check_vm_name(vm)
    return RESOURCE_PREFIX + vm


def resource_path(vm):
    """``/etc/drbd.d/vm-<vm>.res``."""
    return "%s/%s.res" % (RESOURCE_DIR, resource_name(vm))


def lv_name(vm, disk):
    """``<vm>-<disk>-drbd``: the logical volume under a VM disk's DRBD volume."""
    check_vm_name(vm)
    check_disk_name(vm, disk)
    return "%s-%s%s" % (vm, disk, LV_SUFFIX)


def lv_path(vg, vm, disk):
    return "/dev/%s/%s" % (vg, lv_name(vm, disk))


def device_path(minor):
    return "/dev/drbd%d" % minor


def check_vm_name(vm):
    if not isinstance(vm, str) or not _VM_RE.match(vm):
        raise DrbdError(
            "VM name %r cannot name a DRBD resource: use at most 48 letters, digits, '_', '.', '+' or '-',"
            " starting with a letter or digit" % (vm,)
        )


def check_disk_name(vm, disk):
    if not isinstance(disk, str) or not _DISK_RE.match(disk):
        raise DrbdError(
            "disk %r of VM %s is not a disk target name: use the libvirt target (vda, sdb, xvda), "
            "letters, digits and '_' only" % (disk, vm)
        )


def disk_of_lv(vm, path):
    """The disk name in a backing device path that follows our naming, else None."""
    match = re.match(r"^/dev/[^/]+/%s-([A-Za-z0-9_]+)%s$" % (re.escape(vm), re.escape(LV_SUFFIX)), path or "")
    return match.group(1) if match else None


def normalize_version(version):
    """'8.4', '8.4.11', '9', '9.2.5', 9 -> '8.4' or '9'."""
    text = str(version).strip()
    if text == "8.4" or text.startswith("8.4."):
        return "8.4"
    if text == "9" or text.startswith("9."):
        return "9"
    raise DrbdError("DRBD version %r is not supported: use 8.4 or 9" % (version,))


def level_settings(level):
    """{'protocol': ..., 'fencing': ...} for a protection level; refuses ft."""
    if level == "ft":
        raise LevelError(FT_REFUSED)
    if level not in LEVELS:
        raise LevelError("%r is not a protection level: use %s" % (level, " or ".join(sorted(SERVED_LEVELS))))
    return dict(LEVELS[level])


# ---------------------------------------------------------------------------
# secret


def secret_digest(resource, secret):
    """Salted digest of a shared secret: tells whether it changed without showing it."""
    data = ("duplex.vmpair drbd %s\0%s" % (resource, secret)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def check_secret(secret):
    # Never put the value (or a part of it) into the message.
    if not isinstance(secret, str) or not secret:
        raise DrbdError("the DRBD shared secret is empty: give the pair's replication secret")
    if len(secret) > SECRET_MAX_LEN:
        raise DrbdError(
            "the DRBD shared secret is %d characters long; DRBD takes at most %d" % (len(secret), SECRET_MAX_LEN)
        )
    if _SECRET_BAD.search(secret):
        raise DrbdError("the DRBD shared secret contains a quote, backslash or white space; use letters and digits")

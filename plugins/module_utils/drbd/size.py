# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How big a VM disk's backing logical volume must be under DRBD's internal metadata.

With ``meta-disk internal`` DRBD keeps its bitmap, activity log and superblock at the end of
the backing device, so the guest gets less than the whole LV. The size of that area follows
the DRBD User's Guide ("Estimating meta data size"): for a device of ``Cs`` sectors

    Ms = ceil(Cs / 2^18) * 8 * N + 72   sectors,   N = peers (1 for DRBD 8.4 and for a pair)

(``drbdmeta ... dump-md`` reports the same ``md_size_sect``; DRBD 9 with several peers aligns
each peer's bitmap to 4 KiB, so there the formula is up to 4 KiB per peer on the safe side).
Pure Python: nothing here touches a host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SECTOR = 512
DEFAULT_EXTENT = 4 * 1024 * 1024  # LVM's default physical extent


def _ceil_div(a, b):
    return -(-a // b)


def internal_md_bytes(device_bytes, peers=1):
    """Bytes DRBD's internal metadata takes at the end of a backing device of ``device_bytes``."""
    if device_bytes <= 0 or peers < 1:
        raise ValueError("device size and peers must be positive")
    sectors = device_bytes // SECTOR
    return (_ceil_div(sectors, 2**18) * 8 * peers + 72) * SECTOR


def usable_bytes(device_bytes, peers=1):
    """What the DRBD device offers on a backing device of ``device_bytes`` (internal metadata)."""
    return device_bytes - internal_md_bytes(device_bytes, peers)


def backing_bytes(data_bytes, extent_bytes=DEFAULT_EXTENT, peers=1):
    """The smallest LV (a whole number of extents) whose DRBD device holds ``data_bytes``."""
    if data_bytes <= 0 or extent_bytes <= 0:
        raise ValueError("disk size and extent size must be positive")
    size = _ceil_div(data_bytes + internal_md_bytes(data_bytes, peers), extent_bytes) * extent_bytes
    while usable_bytes(size, peers) < data_bytes:
        size += extent_bytes
    return size

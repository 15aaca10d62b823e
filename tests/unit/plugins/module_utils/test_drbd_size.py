# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backing LV sizes under DRBD internal metadata, checked against the real drbdmeta: it writes
metadata on a sparse file of the computed size and reports where the data area ends."""

import re
import shutil
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import size as drbd_size

GIB = 1024**3


def drbdmeta_data_end(path, size, fmt, peers):
    """bm_offset (the end of the data area) that drbdmeta computes for a device of ``size``."""
    if shutil.which("drbdmeta") is None:
        pytest.fail("drbdmeta is not installed: run `make deps` (drbd-utils)")
    with open(path, "wb") as fh:
        fh.truncate(size)
    create = ["drbdmeta", "--force", "0", fmt, str(path), "internal", "create-md"]
    if fmt == "v09":
        create.append(str(peers))
    subprocess.run(create, input="yes\nyes\n", capture_output=True, text=True, check=True)
    dump = subprocess.run(
        ["drbdmeta", "--force", "0", fmt, str(path), "internal", "dump-md"], capture_output=True, text=True, check=True
    ).stdout
    return int(re.search(r"# bm_offset (\d+)", dump).group(1))


@pytest.mark.parametrize("size", [1 * GIB, 10 * GIB + 1024 * 1024, 100 * GIB, 3 * 1024 * GIB])
@pytest.mark.parametrize("fmt, peers", [("v08", 1), ("v09", 1), ("v09", 2)])
def test_usable_size_matches_drbdmeta(tmp_path, size, fmt, peers):
    real = drbdmeta_data_end(tmp_path / "backing.img", size, fmt, peers)
    ours = drbd_size.usable_bytes(size, peers)
    # exact for one peer; DRBD 9 aligns each peer's bitmap to 4 KiB, so ours may be that much smaller
    assert 0 <= real - ours < 4096 * peers


@pytest.mark.parametrize("data", [1 * GIB, 20 * GIB + 512, 7 * 1024 * 1024 + 3 * 512, 2 * 1024 * GIB])
def test_backing_lv_holds_the_disk_and_is_whole_extents(tmp_path, data):
    lv = drbd_size.backing_bytes(data)
    assert lv % drbd_size.DEFAULT_EXTENT == 0
    assert drbdmeta_data_end(tmp_path / "lv.img", lv, "v08", 1) >= data
    # and no extent is wasted: one extent less would not hold the disk
    assert drbd_size.usable_bytes(lv - drbd_size.DEFAULT_EXTENT) < data


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        drbd_size.backing_bytes(0)
    with pytest.raises(ValueError):
        drbd_size.internal_md_bytes(GIB, peers=0)

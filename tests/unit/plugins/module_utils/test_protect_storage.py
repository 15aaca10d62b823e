# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The storage plan of a VM to protect: LV names and sizes, and the messages when it does not fit.
The domain is the captured q35 KVM fixture (vda on an LV, vdb a qcow2 file, a cdrom)."""

import os

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import size as drbd_size
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domain_xml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.storage import storage_plan

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "domain", "kvm_q35.xml")
GIB = 1024**3
EXTENT = 4 * 1024**2
SIZES = {"vda": 20 * GIB, "vdb": 100 * GIB + 512}


def mail01():
    with open(FIXTURE) as fh:
        return domain_xml.Domain(fh.read())


def test_every_copied_disk_gets_an_lv_that_holds_it():
    plan = storage_plan("hv-west", mail01(), SIZES, "vg_vms", 500 * GIB, EXTENT)
    assert plan["problems"] == []
    assert [(d["target"], d["lv"], d["lv_path"]) for d in plan["disks"]] == [
        ("vda", "mail01-vda-drbd", "/dev/vg_vms/mail01-vda-drbd"),
        ("vdb", "mail01-vdb-drbd", "/dev/vg_vms/mail01-vdb-drbd"),
    ]
    for disk in plan["disks"]:
        assert disk["lv_bytes"] % EXTENT == 0
        assert drbd_size.usable_bytes(disk["lv_bytes"]) >= SIZES[disk["target"]]
    assert plan["disks"][1]["format"] == "qcow2"  # copied as raw: the LV holds the virtual size
    assert plan["needed"] == sum(d["lv_bytes"] for d in plan["disks"])


def test_a_full_volume_group_names_host_space_and_fix():
    plan = storage_plan("hv-west", mail01(), SIZES, "vg_vms", 50 * GIB, EXTENT)
    (problem,) = plan["problems"]
    assert problem.startswith("hv-west: volume group vg_vms has 50.00 GiB free; VM mail01 needs 120.")
    assert "(vda 20.00 GiB, vdb 100.00 GiB, with DRBD metadata)" in problem
    assert "Fix: free or add space in vg_vms on hv-west (vgextend)" in problem


def test_a_leftover_lv_is_reused_and_not_counted_again():
    plan = storage_plan("hv-west", mail01(), SIZES, "vg_vms", 101 * GIB, EXTENT, {"mail01-vda-drbd": 21 * GIB})
    assert plan["problems"] == []
    assert [d["exists"] for d in plan["disks"]] == [True, False]


def test_a_leftover_lv_that_is_too_small_is_reported():
    plan = storage_plan("hv-east", mail01(), SIZES, "vg_vms", 500 * GIB, EXTENT, {"mail01-vda-drbd": GIB})
    (problem,) = plan["problems"]
    assert "logical volume vg_vms/mail01-vda-drbd exists with 1.00 GiB" in problem
    assert "lvremove vg_vms/mail01-vda-drbd" in problem


def test_an_unknown_disk_size_is_reported():
    plan = storage_plan("hv-east", mail01(), {"vda": 20 * GIB}, "vg_vms", 500 * GIB, EXTENT)
    (problem,) = plan["problems"]
    assert "disk vdb of VM mail01: its size is unknown" in problem
    assert "/var/lib/libvirt/images/mail01-data.qcow2" in problem

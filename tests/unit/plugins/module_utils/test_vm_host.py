# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.protect.reader: reading a host with the real tools where they run here.

The domain reader runs the real ``virsh`` against libvirt's test driver (``test:///default``, whose
domain ``test`` runs with one file disk); ``drbdadm dump-xml`` is the real one on a written
configuration. The parsers of tools that need a kernel this machine lacks (``drbdadm role`` on
DRBD 8.4, ``/proc/drbd``) get the text those tools print, quoted in each test.
"""

import os
import shutil
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import reader as vm_host
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_pcs import FakeModule


@pytest.fixture
def reader():
    if shutil.which("virsh") is None:
        pytest.fail("virsh not found: make tools installs libvirt-clients")
    return vm_host.HostReader(CommandRunner(FakeModule()), "kvm", uri="test:///default")


def test_domain_read_from_libvirt(reader):
    dom = reader.domain("test")
    assert dom["running"] and dom["state"] == "running" and dom["persistent"]
    assert dom["uuid"] == "6695eb01-f6a4-8304-79aa-97f2502e193f"
    assert dom["disks"] == {
        "vda": {"type": "file", "device": "disk", "source": "/guest/diskimage1", "capacity": 1099506450432}
    }
    assert dom["xml"].lstrip().startswith("<domain type='test'>") and " id=" not in dom["xml"].split("\n")[0]
    # the test driver has no block jobs (virsh blockjob is refused there): none reported
    assert dom["jobs"] == {}


def test_domain_not_defined_is_none(reader):
    assert reader.domain("no-such-vm") is None


def test_domblklist_with_cdrom_without_media():
    text = (
        " Type   Device   Target   Source\n"
        "-------------------------------------------------------\n"
        " block  disk     vda      /dev/drbd100\n"
        " file   cdrom    sda      -\n\n"
    )
    assert vm_host.parse_domblklist(text) == [
        {"type": "block", "device": "disk", "target": "vda", "source": "/dev/drbd100"},
        {"type": "file", "device": "cdrom", "target": "sda", "source": None},
    ]


def test_blockjob_raw_and_none():
    # virsh blockjob DOM vda --info --raw (libvirt 9.0, tools/virsh-domain.c)
    raw = " type=Block Copy\n bandwidth=0\n cur=1048576\n end=1048576\n"
    assert vm_host.parse_blockjob_raw(raw) == {"type": "Block Copy", "cur": 1048576, "end": 1048576, "ready": True}
    assert vm_host.parse_blockjob_raw("No current block job for vda\n") is None
    with pytest.raises(vm_host.HostReadError, match="unexpected"):
        vm_host.parse_blockjob_raw("garbage")


def test_lvm_rows():
    text = "  vg_vms:536866717696:536866717696:4194304\n"
    assert vm_host.parse_lvm_rows(text, ["name", "size", "free", "extent"]) == [
        {"name": "vg_vms", "size": 536866717696, "free": 536866717696, "extent": 4194304}
    ]
    with pytest.raises(vm_host.HostReadError, match="unexpected LVM output"):
        vm_host.parse_lvm_rows("  vg_vms:1\n", ["name", "size", "free", "extent"])


def test_vgs_of_a_real_volume_group(tmp_path):
    """vgs and lvs on a real volume group (a loop device): pvcreate/vgcreate need no device-mapper."""
    if shutil.which("vgcreate") is None or os.geteuid() != 0:
        pytest.skip("needs lvm2 and root")
    image = tmp_path / "pv.img"
    image.write_bytes(b"")
    os.truncate(image, 64 * 1024**2)
    loop = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=False)
    if loop.returncode != 0:
        pytest.skip("no loop device here: " + loop.stderr.strip())
    dev = loop.stdout.strip()
    vg = "vmpair_unit_%d" % os.getpid()
    try:
        subprocess.run(["vgcreate", "-q", vg, dev], check=True, capture_output=True)
        reader = vm_host.HostReader(CommandRunner(FakeModule()))
        info = reader.volume_group(vg)
        assert info["name"] == vg and info["extent"] == 4 * 1024**2
        assert 0 < info["free"] <= info["size"] <= 64 * 1024**2
        assert reader.logical_volumes(vg) == {}
        assert reader.volume_group("vmpair_no_such_vg") is None
    finally:
        subprocess.run(["vgremove", "-f", vg], capture_output=True, check=False)
        subprocess.run(["losetup", "-d", dev], capture_output=True, check=False)


def test_proc_drbd_versions():
    # /proc/drbd of Debian 12's kernel module (the real-kernel lab)
    text = "version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420 \n"
    assert vm_host.parse_proc_drbd(text) == "8.4"
    assert vm_host.parse_proc_drbd("version: 9.2.12 (api:2/proto:86-122)\n") == "9"
    assert vm_host.parse_proc_drbd("") is None
    with pytest.raises(vm_host.HostReadError, match="8.3 is not supported"):
        vm_host.parse_proc_drbd("version: 8.3.16 (api:88/proto:86-97)\n")


def test_drbd_states_84_and_9():
    # drbdadm role/cstate/dstate on 8.4 (both sides) and on 9 (this side, one line per volume)
    assert vm_host.parse_drbd_states("Primary/Secondary\n", "Connected\n", "UpToDate/Inconsistent\n") == {
        "role": "Primary",
        "peer_role": "Secondary",
        "cstate": "Connected",
        "disk": "UpToDate",
        "peer_disk": "Inconsistent",
    }
    nine = vm_host.parse_drbd_states("Secondary\n", "Connecting\n", "UpToDate\nInconsistent\n")
    assert nine == {
        "role": "Secondary",
        "peer_role": None,
        "cstate": "Connecting",
        "disk": "Inconsistent",
        "peer_disk": None,
    }


def test_drbd_resources_none_defined(tmp_path):
    conf = tmp_path / "drbd.conf"
    conf.write_text("global { usage-count no; }\n")
    out = subprocess.run(["drbdadm", "-c", str(conf), "dump-xml"], capture_output=True, text=True, check=True).stdout
    assert vm_host.parse_dump_xml(out) == {}

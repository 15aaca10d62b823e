# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.domain against libvirt's real test driver (``virsh -c test:///default``).

The test driver keeps its state for one connection only, so each check runs all
its commands in one ``virsh`` call, separated by ``;``. virsh goes on after a
failed command and exits with the status of the *last* one, so :func:`virsh`
puts a marker between commands (``echo``; not with ``virsh -q``, which drops
echo's newline) and fails on any ``error:`` on stderr.
``define --validate`` also checks the XML against libvirt's RelaxNG schema.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt.domain import DomainError

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "domain")
MARK = "@@vmpair-next@@"
KVM_DEVICES = {"vda": "/dev/drbd1000", "vdb": "/dev/drbd1001"}
KVM_LVS = {"vda": "/dev/vg_vms/mail01-vda", "vdb": "/dev/vg_vms/mail01-vdb"}
XEN_DEVICES = {"xvda": "/dev/drbd1010", "xvdb": "/dev/drbd1011"}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.fixture
def kvm():
    return fixture("kvm_q35.xml")


@pytest.fixture
def xen():
    return fixture("xen_pv.xml")


def virsh(*commands):
    """Run commands in one test:///default connection; return each command's stdout."""
    if shutil.which("virsh") is None:
        pytest.fail("virsh not found: install libvirt-clients (Debian) to run these tests")
    script = (" ; echo %s ; " % MARK).join(commands)
    proc = subprocess.run(
        ["virsh", "-c", "test:///default", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, LANG="C", LC_ALL="C"),
        check=False,
    )
    assert proc.returncode == 0 and "error:" not in proc.stderr, "virsh %r failed:\n%s" % (script, proc.stderr)
    return [part.strip("\n") for part in proc.stdout.split(MARK)]


def define_and_dump(tmp_path, xml_text, name, extra=()):
    """Define xml_text (schema-validated) and return [dumpxml, *extra outputs]."""
    path = tmp_path / ("%s.xml" % name)
    path.write_text(xml_text)
    out = virsh(
        "define --validate %s" % path,
        "dumpxml %s --inactive --security-info" % name,
        *["%s %s" % (cmd, name) for cmd in extra],
    )
    assert "defined from" in out[0]
    return out[1:]


def blklist(text):
    """Rows of `domblklist --details`: (type, device, target, source)."""
    return [tuple(line.split()) for line in text.splitlines()[2:] if line.strip()]


def iflist(text):
    """(type, source, model, mac) of each `domiflist` row (the interface name differs per host)."""
    return [tuple(line.split()[1:]) for line in text.splitlines()[2:] if line.strip()]


def disk_sources(xml_text):
    return {d.target: (d.type, d.source, d.format) for d in domain.parse(xml_text).disks}


def replace_once(text, old, new):
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --- reading ------------------------------------------------------------------------------------


def test_disks_of_kvm_domain(kvm):
    dom = domain.parse(kvm)
    assert (dom.name, dom.uuid, dom.hypervisor, dom.xen_mode) == (
        "mail01",
        "4f1a6a3e-2b7c-4d0e-9a51-3c2d8e7f6a10",
        "kvm",
        None,
    )
    assert dom.macs == ["52:54:00:6b:3c:01"]
    rows = [(d.target, d.device, d.type, d.source, d.format, d.readonly, d.mirror) for d in dom.disks]
    assert rows == [
        ("vda", "disk", "block", "/dev/vg_vms/mail01-vda", "raw", False, True),
        ("vdb", "disk", "file", "/var/lib/libvirt/images/mail01-data.qcow2", "qcow2", False, True),
        ("sda", "cdrom", "file", "/var/lib/libvirt/images/debian-12-netinst.iso", "raw", True, False),
    ]
    assert [d.target for d in dom.check()] == ["vda", "vdb"]
    assert dom.problems == []
    assert dom.warnings == [
        "domain mail01: disk sda is removable media (cdrom): not copied; "
        "/var/lib/libvirt/images/debian-12-netinst.iso must exist at the same path on the peer",
        "domain mail01: disk vdb is qcow2: it is copied as raw onto DRBD",
    ]
    info = dom.to_dict()
    assert info["disks"][1]["copy_format"] == "raw" and info["disks"][2]["copy_format"] is None


def test_reads_what_libvirt_dumps(tmp_path, kvm):
    dumped, details = define_and_dump(tmp_path, kvm, "mail01", extra=["domblklist --inactive --details"])
    assert [(d.type, d.device, d.target, d.source) for d in domain.parse(dumped).disks] == blklist(details)


def test_xen_domain(xen):
    dom = domain.parse(xen)
    assert (dom.hypervisor, dom.xen_mode) == ("xen", "pv")
    assert [(d.target, d.driver_name, d.format, d.mirror) for d in dom.disks] == [
        ("xvda", "phy", "raw", True),
        ("xvdb", "qemu", "qcow2", True),
    ]


# --- protect ------------------------------------------------------------------------------------


def test_protect_kvm_defines_with_same_identity(tmp_path, kvm):
    protected = domain.protect(kvm, KVM_DEVICES)
    before = define_and_dump(tmp_path, kvm, "mail01", extra=["domblklist --inactive --details", "domiflist --inactive"])
    after = define_and_dump(
        tmp_path, protected, "mail01", extra=["domblklist --inactive --details", "domiflist --inactive", "domuuid"]
    )
    assert after[3] == "4f1a6a3e-2b7c-4d0e-9a51-3c2d8e7f6a10"
    assert blklist(after[1]) == [
        ("block", "disk", "vda", "/dev/drbd1000"),
        ("block", "disk", "vdb", "/dev/drbd1001"),
        ("file", "cdrom", "sda", "/var/lib/libvirt/images/debian-12-netinst.iso"),
    ]
    assert iflist(after[2]) == iflist(before[2]) == [("bridge", "br0", "virtio", "52:54:00:6b:3c:01")]
    # Everything the guest sees (devices, order, addresses, serial, CPU, memory, metadata) is unchanged.
    assert domain.guest_view(after[0]) == domain.guest_view(before[0]) == domain.guest_view(kvm)
    drivers = [d.find("driver").attrib for d in ET.fromstring(after[0]).findall("devices/disk")]
    assert drivers == [
        {"name": "qemu", "type": "raw", "cache": "none", "io": "native", "discard": "unmap"},
        {"name": "qemu", "type": "raw", "cache": "none", "io": "native", "discard": "unmap"},
        {"name": "qemu", "type": "raw"},
    ]
    assert "vmpairtest:owner" in after[0]


def test_protect_changes_only_the_copied_disks(kvm):
    diff = domain.unified_diff(kvm, domain.protect(kvm, KVM_DEVICES), "mail01", "mail01 (protected)")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")]
    assert changed == [
        '-      <source dev="/dev/vg_vms/mail01-vda"/>',
        '+      <source dev="/dev/drbd1000"/>',
        '-    <disk type="file" device="disk">',
        '-      <driver name="qemu" type="qcow2" cache="writeback" discard="unmap"/>',
        '-      <source file="/var/lib/libvirt/images/mail01-data.qcow2"/>',
        '+    <disk type="block" device="disk">',
        '+      <driver name="qemu" type="raw" cache="none" discard="unmap" io="native"/>',
        '+      <source dev="/dev/drbd1001"/>',
    ]
    assert diff.startswith("--- mail01\n+++ mail01 (protected)\n")


def test_qcow2_with_backing_chain_becomes_raw(tmp_path, kvm):
    qcow2 = replace_once(
        kvm,
        "<driver name='qemu' type='qcow2' cache='writeback' discard='unmap'/>",
        "<driver name='qemu' type='qcow2' cache='writeback' discard='unmap'>"
        "<metadata_cache><max_size unit='KiB'>2048</max_size></metadata_cache></driver>",
    )
    qcow2 = replace_once(
        qcow2,
        "<target dev='vdb' bus='virtio'/>",
        "<backingStore type='file'><format type='qcow2'/>"
        "<source file='/var/lib/libvirt/images/base.qcow2'/><backingStore/></backingStore>"
        "<target dev='vdb' bus='virtio'/>",
    )
    vdb = domain.parse(qcow2).disks[1]
    assert (vdb.format, vdb.backing_chain, vdb.mirror) == ("qcow2", True, True)
    assert (
        "disk vdb is qcow2: it is copied as raw onto DRBD (backing chain flattened)" in domain.parse(qcow2).warnings[1]
    )
    protected = domain.protect(qcow2, KVM_DEVICES)
    disk = ET.fromstring(protected).findall("devices/disk")[1]
    assert disk.find("backingStore") is None and disk.find("driver/metadata_cache") is None
    assert disk.find("driver").get("type") == "raw"
    (dumped,) = define_and_dump(tmp_path, protected, "mail01")
    assert disk_sources(dumped)["vdb"] == ("block", "/dev/drbd1001", "raw")


def test_volume_disk_and_disk_without_driver(tmp_path, kvm):
    xml = replace_once(
        kvm,
        "<disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='qcow2' cache='writeback' discard='unmap'/>\n"
        "      <source file='/var/lib/libvirt/images/mail01-data.qcow2'/>",
        "<disk type='volume' device='disk'>\n      <source pool='default' volume='mail01-data'/>",
    )
    vdb = domain.parse(xml).disks[1]
    assert (vdb.type, vdb.source, vdb.format, vdb.mirror) == ("volume", "default/mail01-data", "raw", True)
    (dumped,) = define_and_dump(tmp_path, domain.protect(xml, KVM_DEVICES), "mail01")
    disk = ET.fromstring(dumped).findall("devices/disk")[1]
    assert [c.tag for c in disk][:3] == ["driver", "source", "target"]
    assert disk.find("driver").attrib == {"name": "qemu", "type": "raw", "cache": "none", "io": "native"}


def test_source_seclabel_is_kept(tmp_path, kvm):
    xml = replace_once(
        kvm,
        "<source file='/var/lib/libvirt/images/mail01-data.qcow2'/>",
        "<source file='/var/lib/libvirt/images/mail01-data.qcow2'><seclabel model='dac' relabel='no'/></source>",
    )
    (dumped,) = define_and_dump(tmp_path, domain.protect(xml, KVM_DEVICES), "mail01")
    source = ET.fromstring(dumped).findall("devices/disk")[1].find("source")
    assert source.get("dev") == "/dev/drbd1001"
    assert source.find("seclabel").attrib == {"model": "dac", "relabel": "no"}


def test_protect_xen_uses_phy(tmp_path, xen):
    protected = domain.protect(xen, XEN_DEVICES)
    dumped, details = define_and_dump(tmp_path, protected, "dns01", extra=["domblklist --inactive --details"])
    assert blklist(details) == [("block", "disk", "xvda", "/dev/drbd1010"), ("block", "disk", "xvdb", "/dev/drbd1011")]
    drivers = [d.find("driver").attrib for d in ET.fromstring(dumped).findall("devices/disk")]
    assert drivers == [{"name": "phy", "type": "raw"}, {"name": "phy", "type": "raw"}]
    assert domain.guest_view(dumped) == domain.guest_view(xen)
    assert domain.parse(dumped).macs == ["00:16:3e:5a:7c:21"]


def test_protect_xen_hvm_keeps_discard(tmp_path, xen):
    hvm = replace_once(xen, "<bootloader>/usr/lib/xen-4.17/bin/pygrub</bootloader>\n", "")
    hvm = replace_once(
        hvm,
        "<type arch='x86_64' machine='xenpv'>linux</type>",
        "<type arch='x86_64' machine='xenfv'>hvm</type><loader type='rom'>/usr/lib/xen-4.17/boot/hvmloader</loader>",
    )
    hvm = replace_once(hvm, "<driver name='phy' type='raw'/>", "<driver name='phy' type='raw' discard='unmap'/>")
    hvm = replace_once(hvm, "<devices>", "<devices>\n<emulator>/usr/lib/xen-4.17/bin/qemu-system-i386</emulator>")
    assert domain.parse(hvm).xen_mode == "hvm"
    protected = domain.protect(hvm, XEN_DEVICES)
    (dumped,) = define_and_dump(tmp_path, protected, "dns01")
    drivers = [d.find("driver").attrib for d in ET.fromstring(dumped).findall("devices/disk")]
    assert drivers == [{"name": "phy", "type": "raw", "discard": "unmap"}, {"name": "phy", "type": "raw"}]


# --- refusals -----------------------------------------------------------------------------------

DISK_VDB = (
    "<disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2' cache='writeback' discard='unmap'/>\n"
    "      <source file='/var/lib/libvirt/images/mail01-data.qcow2'/>\n"
    "      <target dev='vdb' bus='virtio'/>"
)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            DISK_VDB,
            "<disk type='network' device='disk'>\n<driver name='qemu' type='raw'/>\n"
            "<source protocol='rbd' name='vms/mail01-data'><host name='192.0.2.50' port='6789'/></source>\n"
            "<target dev='vdb' bus='virtio'/>",
            "domain mail01: disk vdb is network storage (rbd:vms/mail01-data): it is already remote",
        ),
        (
            "<target dev='vdb' bus='virtio'/>",
            "<target dev='vdb' bus='virtio'/><shareable/>",
            "domain mail01: disk vdb is shareable (used by several VMs at once)",
        ),
        (
            "<target dev='vdb' bus='virtio'/>",
            "<target dev='vdb' bus='virtio'/><transient/>",
            "domain mail01: disk vdb is transient",
        ),
        (
            DISK_VDB,
            "<disk type='block' device='lun'>\n<driver name='qemu' type='raw'/>\n"
            "<source dev='/dev/sdc'/>\n<target dev='vdb' bus='virtio'/>",
            "domain mail01: disk vdb is a SCSI pass-through LUN",
        ),
        (
            DISK_VDB,
            "<disk type='dir' device='disk'>\n<driver name='qemu' type='fat'/>\n"
            "<source dir='/srv/share'/>\n<target dev='vdb' bus='virtio'/>",
            "domain mail01: disk vdb has type 'dir': only file, block and volume disks",
        ),
        (
            "<source file='/var/lib/libvirt/images/mail01-data.qcow2'/>",
            "<source file='/var/lib/libvirt/images/mail01-data.qcow2'>"
            "<encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
            "</encryption></source>",
            "domain mail01: disk vdb uses qemu <encryption>",
        ),
        (
            "<console type='pty'>",
            "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
            "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev><console type='pty'>",
            "domain mail01: host device pass-through (<hostdev type='pci'>) ties the VM to this host's hardware",
        ),
        ("<domain type='kvm'>", "<domain type='lxc'>", "domain mail01: domain type 'lxc' is not supported"),
        (
            "<domain type='kvm'>",
            "<domain type='kvm' id='3'>",
            "domain mail01: this is the live XML of a running domain",
        ),
    ],
    ids=["network", "shareable", "transient", "lun", "dir", "encryption", "hostdev", "lxc", "live"],
)
def test_refusals(tmp_path, kvm, old, new, message):
    xml = replace_once(kvm, old, new)
    if "id='3'" not in new and "lxc" not in new:
        # The refused definitions are valid libvirt XML: the refusal is ours, not libvirt's.
        define_and_dump(tmp_path, xml, "mail01")
    with pytest.raises(DomainError) as err:
        domain.protect(xml, KVM_DEVICES)
    assert any(p.startswith(message) for p in err.value.problems), err.value.problems
    assert message in str(err.value)


def test_refusal_lists_every_problem(kvm):
    xml = replace_once(kvm, "<target dev='vdb' bus='virtio'/>", "<target dev='vdb' bus='virtio'/><shareable/>")
    xml = replace_once(xml, "<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/><transient/>")
    problems = domain.parse(xml).problems
    assert len(problems) == 2 and "vda is transient" in problems[0] and "vdb is shareable" in problems[1]


def test_nothing_to_protect(kvm):
    xml = replace_once(kvm, "<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/><readonly/>")
    xml = replace_once(xml, "<target dev='vdb' bus='virtio'/>", "<target dev='vdb' bus='virtio'/><readonly/>")
    with pytest.raises(DomainError, match="no writable disk to copy: nothing to protect"):
        domain.protect(xml, {})


def test_readonly_and_shareable_disk_is_skipped(kvm):
    xml = replace_once(
        kvm, "<target dev='vdb' bus='virtio'/>", "<target dev='vdb' bus='virtio'/><readonly/><shareable/>"
    )
    dom = domain.parse(xml)
    assert [d.target for d in dom.check()] == ["vda"]
    assert "disk vdb is read-only: not copied" in dom.disks[1].note


@pytest.mark.parametrize(
    "devices, message",
    [
        ({"vda": "/dev/drbd1000"}, "domain mail01: disk vdb is writable but has no DRBD device"),
        (dict(KVM_DEVICES, sda="/dev/drbd1002"), "DRBD device given for sda, which is not a disk that is copied"),
        (dict(KVM_DEVICES, vdz="/dev/drbd1002"), "DRBD device given for vdz, which does not exist (copied: vda, vdb)"),
        (dict(KVM_DEVICES, vdb="drbd1001"), "DRBD device for disk vdb must be an absolute path, got 'drbd1001'"),
        (["/dev/drbd1000"], "DRBD device must be a mapping of disk target to path"),
    ],
    ids=["missing", "cdrom", "unknown", "relative", "not-a-dict"],
)
def test_device_mapping_must_fit(kvm, devices, message):
    with pytest.raises(DomainError) as err:
        domain.protect(kvm, devices)
    assert message in str(err.value)


def test_invalid_xml():
    with pytest.raises(DomainError, match="not valid XML"):
        domain.parse("<domain type='kvm'><name>x</domain>")
    with pytest.raises(DomainError, match=r"not a libvirt domain definition \(root element <network>\)"):
        domain.parse("<network><name>default</name></network>")


def test_host_specific_warnings(kvm):
    xml = replace_once(
        kvm,
        "<console type='pty'>",
        "<graphics type='vnc' port='-1' listen='10.10.0.1'/>"
        "<interface type='direct'><mac address='52:54:00:6b:3c:02'/><source dev='enp65s0f1' mode='bridge'/></interface><console type='pty'>",
    )
    xml = replace_once(xml, "<boot dev='hd'/>", "<nvram>/var/lib/libvirt/qemu/nvram/mail01_VARS.fd</nvram>")
    warnings = domain.parse(xml).warnings
    assert "domain mail01: interface 52:54:00:6b:3c:02 uses host interface enp65s0f1 (macvtap)" in warnings[2]
    assert "graphics (vnc) listens on 10.10.0.1, an address of this host" in warnings[3]
    assert "os nvram /var/lib/libvirt/qemu/nvram/mail01_VARS.fd is a file on this host" in warnings[4]


# --- peer, unprotect, idempotence ---------------------------------------------------------------


def test_peer_definition(tmp_path, kvm):
    protected = domain.protect(kvm, KVM_DEVICES)
    # A definition made on a real host may carry a generated interface name; the peer gets none.
    with_vnet = replace_once(protected, '<source bridge="br0"/>', '<source bridge="br0"/><target dev="vnet7"/>')
    peer = domain.peer_definition(with_vnet)
    assert domain.same(peer, protected)
    assert domain.guest_view(peer) == domain.guest_view(protected) == domain.guest_view(kvm)
    here = define_and_dump(
        tmp_path, protected, "mail01", extra=["domblklist --inactive --details", "domiflist --inactive"]
    )
    there = define_and_dump(tmp_path, peer, "mail01", extra=["domblklist --inactive --details", "domiflist --inactive"])
    assert here == there
    # A user-chosen interface name is the user's: kept.
    named = replace_once(protected, '<source bridge="br0"/>', '<source bridge="br0"/><target dev="mail01-eth0"/>')
    assert domain.same(domain.peer_definition(named), named)


def test_peer_definition_emulator(kvm):
    protected = domain.protect(kvm, KVM_DEVICES)
    assert domain.same(domain.peer_definition(protected), protected)
    moved = domain.peer_definition(protected, emulator="/usr/local/bin/qemu-system-x86_64")
    assert ET.fromstring(moved).findtext("devices/emulator") == "/usr/local/bin/qemu-system-x86_64"
    assert ET.fromstring(domain.peer_definition(protected, emulator="")).find("devices/emulator") is None
    with pytest.raises(DomainError, match="live XML"):
        domain.peer_definition(protected.replace('type="kvm">', 'type="kvm" id="4">', 1))


def test_round_trip_gives_back_lv_sources(tmp_path, kvm):
    protected = domain.protect(kvm, KVM_DEVICES)
    plain = domain.unprotect(protected, KVM_LVS)
    (dumped,) = define_and_dump(tmp_path, plain, "mail01")
    assert disk_sources(dumped) == {
        "vda": ("block", "/dev/vg_vms/mail01-vda", "raw"),
        "vdb": ("block", "/dev/vg_vms/mail01-vdb", "raw"),
        "sda": ("file", "/var/lib/libvirt/images/debian-12-netinst.iso", "raw"),
    }
    assert domain.guest_view(dumped) == domain.guest_view(kvm)


def test_round_trip_of_lv_backed_vm_is_exact(kvm):
    # A VM whose disks already were LVs comes back exactly as it was.
    lv_only = replace_once(
        kvm,
        DISK_VDB,
        "<disk type='block' device='disk'>\n"
        "      <driver name='qemu' type='raw' cache='none' io='native' discard='unmap'/>\n"
        "      <source dev='/dev/vg_vms/mail01-vdb'/>\n"
        "      <target dev='vdb' bus='virtio'/>",
    )
    back = domain.unprotect(domain.protect(lv_only, KVM_DEVICES), KVM_LVS)
    assert domain.same(back, lv_only)
    assert domain.unified_diff(lv_only, back) == ""


def test_xen_round_trip(xen):
    back = domain.unprotect(
        domain.protect(xen, XEN_DEVICES), {"xvda": "/dev/vg_vms/dns01-xvda", "xvdb": "/dev/vg_vms/dns01-xvdb"}
    )
    assert disk_sources(back) == {
        "xvda": ("block", "/dev/vg_vms/dns01-xvda", "raw"),
        "xvdb": ("block", "/dev/vg_vms/dns01-xvdb", "raw"),
    }
    assert domain.guest_view(back) == domain.guest_view(xen)


@pytest.mark.parametrize("name, devices", [("kvm_q35.xml", KVM_DEVICES), ("xen_pv.xml", XEN_DEVICES)])
def test_idempotent(tmp_path, name, devices):
    original = fixture(name)
    protected = domain.protect(original, devices)
    assert not domain.same(original, protected)
    assert domain.same(domain.protect(protected, devices), protected)
    # What libvirt gives back after the define is already protected: a second run changes nothing.
    vm = domain.parse(original).name
    (dumped,) = define_and_dump(tmp_path, protected, vm)
    again = domain.protect(dumped, devices)
    assert domain.same(again, dumped)
    assert domain.unified_diff(dumped, again) == ""
    assert domain.same(domain.peer_definition(dumped), dumped)


def test_canonical_ignores_formatting(kvm):
    assert domain.same(kvm, domain.pretty(kvm))
    assert domain.same(kvm, kvm.replace("'", '"').replace("\n  ", "\n"))
    assert not domain.same(kvm, kvm.replace("52:54:00:6b:3c:01", "52:54:00:6b:3c:09"))
    assert domain.pretty(domain.pretty(kvm)) == domain.pretty(kvm)
    assert '<boot dev="hd"/>' in domain.pretty(kvm)


# --- security information (virsh dumpxml --security-info) -----------------------------------------

VNC_PASSWORD = "s3cret"
SPICE_PASSWORD = "sp1ce-pw"
COOKIE = "c00kie-9f2"
CONSOLES = (
    "<graphics type='vnc' port='-1' autoport='yes' passwd='%s' passwdValidTo='2030-01-01T00:00:00'/>"
    "<graphics type='spice' autoport='yes' passwd='%s'/>" % (VNC_PASSWORD, SPICE_PASSWORD)
)
HTTP_DISK = (
    "<disk type='network' device='cdrom'><driver name='qemu' type='raw'/>"
    "<source protocol='https' name='/isos/tools.iso'><host name='images.example.org' port='443'/>"
    "<cookies><cookie name='session'>%s</cookie></cookies></source>"
    "<target dev='sdb' bus='sata'/><readonly/></disk>" % COOKIE
)


def with_security_info(xml_text):
    return replace_once(xml_text, "  </devices>", CONSOLES + HTTP_DISK + "  </devices>")


def test_security_info_is_masked_and_put_back(tmp_path, kvm):
    # what libvirt itself returns with --security-info (and only with it)
    dumped, without = define_and_dump(tmp_path, with_security_info(kvm), "mail01", extra=["dumpxml --inactive"])
    for value in (VNC_PASSWORD, SPICE_PASSWORD, COOKIE):
        assert value in dumped and value not in without
    values = domain.secrets(dumped)
    assert sorted(values.values()) == sorted([VNC_PASSWORD, SPICE_PASSWORD, COOKIE])
    masked = domain.redact(dumped)
    for value in (VNC_PASSWORD, SPICE_PASSWORD, COOKIE):
        assert value not in masked
    assert masked.count('passwd="********"') == 2 and '<cookie name="session">********</cookie>' in masked
    assert sorted(domain.masked(masked)) == sorted(values)
    # only the values differ: everything else (passwdValidTo included) is what libvirt dumped
    assert domain.same(domain.restore(masked, values), dumped)
    assert domain.masked(domain.restore(masked, values)) == []
    # the keys survive JSON (the controller) and a missing one stays masked
    partial = {k: v for k, v in values.items() if not k.startswith("cookie")}
    assert [k for k in domain.masked(domain.restore(masked, partial)) if k.startswith("cookie")]
    # the protected and peer definitions keep the real values
    protected = domain.protect(dumped, KVM_DEVICES)
    assert domain.secrets(domain.peer_definition(protected)) == domain.secrets(protected)
    assert sorted(domain.secrets(protected).values()) == sorted(values.values())


def test_a_definition_without_security_info_is_left_as_it_is(kvm):
    assert domain.secrets(kvm) == {} and domain.masked(kvm) == []
    assert domain.redact(kvm) == kvm
    assert domain.restore(kvm, {"graphics[3]@passwd": "x"}) == kvm
    assert domain.redact(None) is None and domain.secrets("") == {}

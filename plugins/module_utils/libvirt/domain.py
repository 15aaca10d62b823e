# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt domain XML for protected VMs.

Pure Python (``xml.etree``), no libvirt bindings: callers hand in the text of
``virsh dumpxml --inactive --security-info NAME`` and get back text to
``virsh define``. Nothing here touches a host.

What a protected VM looks like
------------------------------
Every *writable* disk (``device='disk'``, not ``<readonly/>``, not
``<shareable/>``) is copied onto its own DRBD device and the definition then
points at it::

    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native' .../>   (KVM/QEMU)
      <driver name='phy' type='raw' .../>                              (Xen)
      <source dev='/dev/drbd1000'/>
      <target dev='vda' bus='virtio'/>   ...everything else of the disk unchanged

* The copy target format is always **raw** (:data:`BLOCKCOPY_FORMAT`): a DRBD
  device is a block device and holds the guest's bytes. qcow2 (or any other
  image format) is converted by the copy (``virsh blockcopy --format raw``
  reads through the whole backing chain), so a backing chain is flattened and
  qcow2-only features (internal snapshots, ``<metadata_cache>``) are gone on the
  protected disk. The LV must be at least the *virtual* size of the image.
* KVM/QEMU: ``cache='none'`` and ``io='native'`` (O_DIRECT + Linux AIO, the
  right pair for a local block device and what DRBD expects: no host page
  cache between the guest and the replicated device). The other driver
  attributes (``discard``, ``detect_zeroes``, ``iothread``, ``queues``,
  ``error_policy``...) are kept.
* Xen (libxl): ``<driver name='phy' type='raw'/>`` for PV, PVH and HVM guests
  alike: blkback serves the block device directly (for HVM libxl also hands the
  same path to the device model for the emulated boot disk). ``cache``/``io``
  are QEMU options and are dropped; ``discard`` is kept (libxl maps it to
  ``discard_enable``). The DRBD resource is promoted by Pacemaker, not by the
  Xen ``block-drbd`` hotplug script, so the source is the plain device path.
* Everything else stays as it was: name, UUID, MAC addresses, device order and
  addresses, disk serials, CPU, memory, metadata. Removable media (cdrom,
  floppy) and read-only disks are not copied; they are reported as warnings
  because their image must exist at the same path on the peer.

Refused (:class:`DomainError`, every problem listed at once): domain types other
than kvm/qemu/xen, a live XML (root has an ``id``), network disks (rbd, iscsi,
nbd... are already remote storage), writable shareable disks (DRBD has one
writer), ``device='lun'`` (SCSI pass-through), transient disks, disks with qemu
encryption, directory/NVMe/vhost-user disks, a writable disk without a source,
``<hostdev>`` pass-through (it ties the VM to one host's hardware) and a VM with
nothing to copy.

The peer host's definition (:func:`peer_definition`) is the protected one:
both hosts run the same Debian release with the same bridges, so emulator,
loader and bootloader paths and ``<source bridge>`` are the same. What is
normalised: interface ``<target dev>`` names with the prefixes libvirt reserves
for generated names (``vnet``, ``vif``, ``macvtap``, ``macvlan``) are dropped,
the peer's libvirt generates its own; ``emulator`` can be replaced or removed
(libvirt then uses the host's default) when the hosts differ. Host-specific
items that cannot be fixed here are warnings (:attr:`Domain.warnings`): local
cdrom images, macvtap source interfaces, graphics listening on a host address,
a direct kernel/initrd, the UEFI variables file.

:func:`unprotect` is the same rewrite back to a plain local block device (the
LV under the DRBD device: it holds the guest's bytes at offset 0 with DRBD's
internal metadata at its end, so the guest sees a disk a little larger).

Comparisons ignore formatting: :func:`canonical` is C14N 2.0 with stripped
whitespace and normalised namespace prefixes, so ``changed`` is
``not same(before, after)`` and a second run reports no change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import io
import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import HYPERVISOR_URIS

# The libvirt connection of each hypervisor kind.
URIS = HYPERVISOR_URIS
KVM_TYPES = ("kvm", "qemu")
XEN_TYPES = ("xen",)
BLOCKCOPY_FORMAT = "raw"
REMOVABLE_DEVICES = ("cdrom", "floppy")
# Disk types whose data can be block-copied onto a DRBD device.
COPYABLE_TYPES = ("file", "block", "volume")
# Interface target names libvirt generates itself (and refuses to take from a definition).
GENERATED_IFNAME = re.compile(r"^(vnet|vif|macvtap|macvlan)[0-9.]*$")
# Driver attributes set by the rewrite, per hypervisor family.
KVM_DRIVER = {"name": "qemu", "type": BLOCKCOPY_FORMAT, "cache": "none", "io": "native"}
XEN_DRIVER = {"name": "phy", "type": BLOCKCOPY_FORMAT}
XEN_DRIVER_KEEP = ("discard",)
LOCAL_LISTEN = ("0.0.0.0", "::", "127.0.0.1", "::1", "localhost")


class DomainError(Exception):
    """The domain cannot be protected (or the request does not fit it).

    ``problems`` lists every reason, each naming the domain and the device.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super(DomainError, self).__init__("; ".join(self.problems))
        self.msg = str(self)


class Disk(object):
    """One ``<disk>`` of a domain, as read from its XML.

    ``source`` is the path (file, block), ``pool/volume`` (volume) or
    ``protocol:name`` (network); ``mirror`` says whether it is copied onto a
    DRBD device; ``problem`` (why it cannot be protected) and ``note`` (why it
    is skipped) are None otherwise.
    """

    def __init__(self, element):
        self.element = element
        self.type = element.get("type", "file")
        self.device = element.get("device", "disk")
        target = element.find("target")
        self.target = target.get("dev") if target is not None else None
        self.bus = target.get("bus") if target is not None else None
        driver = element.find("driver")
        self.driver_name = driver.get("name") if driver is not None else None
        self.driver_type = driver.get("type") if driver is not None else None
        self.readonly = element.find("readonly") is not None
        self.shareable = element.find("shareable") is not None
        self.transient = element.find("transient") is not None
        self.source = _source_of(self.type, element.find("source"))
        self.backing_chain = _has_backing(element)
        self.mirror = False
        self.problem = None
        self.note = None
        self._classify()

    def _classify(self):
        what = "disk %s" % (self.target or "(no target)")
        if self.device in REMOVABLE_DEVICES:
            self.note = "%s is removable media (%s): not copied" % (what, self.device)
        elif self.readonly:
            self.note = "%s is read-only: not copied" % what
        elif self.device == "lun":
            self.problem = (
                "%s is a SCSI pass-through LUN (device='lun'): it needs the real SCSI device and cannot sit on DRBD"
                % what
            )
        elif self.type == "network":
            self.problem = (
                "%s is network storage (%s): it is already remote, protect it at its storage, not with DRBD"
                % (what, self.source or "network")
            )
        elif self.shareable:
            self.problem = (
                "%s is shareable (used by several VMs at once): DRBD replicates a disk with one writer; "
                "remove <shareable/> or make it read-only" % what
            )
        elif self.transient:
            self.problem = "%s is transient (changes are discarded at shutdown): nothing to protect; remove it" % what
        elif _encrypted(self.element):
            self.problem = "%s uses qemu <encryption>: not supported, encrypt inside the guest instead" % what
        elif self.type not in COPYABLE_TYPES:
            self.problem = "%s has type '%s': only file, block and volume disks can be copied onto DRBD" % (
                what,
                self.type,
            )
        elif self.source is None:
            self.problem = "%s has no source: nothing to copy" % what
        elif self.target is None:
            self.problem = "a disk (%s) has no target device" % self.source
        else:
            self.mirror = True
        if self.problem is None and self.note is not None and self.source:
            self.note += "; %s must exist at the same path on the peer" % self.source

    @property
    def format(self):
        """The image format the copy reads (libvirt's default for a missing type is raw)."""
        return self.driver_type or "raw"

    def to_dict(self):
        return {
            "target": self.target,
            "bus": self.bus,
            "device": self.device,
            "type": self.type,
            "source": self.source,
            "format": self.format,
            "driver": self.driver_name,
            "readonly": self.readonly,
            "shareable": self.shareable,
            "backing_chain": self.backing_chain,
            "mirror": self.mirror,
            "copy_format": BLOCKCOPY_FORMAT if self.mirror else None,
            "problem": self.problem,
            "note": self.note,
        }


def _source_of(disk_type, source):
    if source is None:
        return None
    if disk_type == "file":
        return source.get("file")
    if disk_type == "block":
        return source.get("dev")
    if disk_type == "dir":
        return source.get("dir")
    if disk_type == "volume":
        if source.get("pool") and source.get("volume"):
            return "%s/%s" % (source.get("pool"), source.get("volume"))
        return None
    if disk_type == "network":
        return "%s:%s" % (source.get("protocol", "?"), source.get("name", ""))
    return source.get("file") or source.get("dev") or source.get("path")


def _has_backing(disk):
    backing = disk.find("backingStore")
    return backing is not None and len(backing) > 0


def _encrypted(disk):
    return disk.find("encryption") is not None or disk.find("source/encryption") is not None


class Domain(object):
    """A parsed domain definition: identity, disks, problems and warnings."""

    def __init__(self, xml_text):
        self.root = _parse(xml_text)
        if self.root.tag != "domain":
            raise DomainError("not a libvirt domain definition (root element <%s>)" % self.root.tag)
        self.type = self.root.get("type")
        self.name = self.root.findtext("name")
        self.uuid = self.root.findtext("uuid")
        self.live = self.root.get("id") is not None
        if self.type in KVM_TYPES:
            self.hypervisor = "kvm"
        elif self.type in XEN_TYPES:
            self.hypervisor = "xen"
        else:
            self.hypervisor = None
        self.os_type = (self.root.findtext("os/type") or "").strip()
        self.disks = [Disk(d) for d in self.root.findall("devices/disk")]
        self.macs = [m.get("address") for m in self.root.findall("devices/interface/mac")]

    @property
    def label(self):
        return "domain %s" % (self.name or "(unnamed)")

    @property
    def xen_mode(self):
        """pv, pvh or hvm for a Xen domain, None otherwise."""
        if self.hypervisor != "xen":
            return None
        return {"linux": "pv", "xenpv": "pv", "xenpvh": "pvh", "hvm": "hvm"}.get(self.os_type, self.os_type)

    @property
    def mirrored(self):
        """The disks copied onto DRBD devices, in device order."""
        return [d for d in self.disks if d.mirror]

    @property
    def problems(self):
        """Why this domain cannot be protected (empty list when it can)."""
        problems = []
        if self.live:
            problems.append(
                "this is the live XML of a running domain: pass the persistent definition "
                "(virsh dumpxml --inactive --security-info)"
            )
        if self.hypervisor is None:
            problems.append("domain type '%s' is not supported: only kvm, qemu and xen" % self.type)
        problems.extend(d.problem for d in self.disks if d.problem)
        for hostdev in self.root.findall("devices/hostdev"):
            problems.append(
                "host device pass-through (<hostdev type='%s'>) ties the VM to this host's hardware: "
                "it could not start on the peer; remove it" % hostdev.get("type", "?")
            )
        if not self.mirrored and not any(d.problem for d in self.disks):
            problems.append("no writable disk to copy: nothing to protect")
        return ["%s: %s" % (self.label, p) for p in problems]

    @property
    def warnings(self):
        """Host-specific items that stay as they are but need attention on the peer."""
        warnings = [d.note for d in self.disks if d.note and d.source]
        for disk in self.mirrored:
            if disk.format != BLOCKCOPY_FORMAT:
                warnings.append(
                    "disk %s is %s: it is copied as %s onto DRBD%s"
                    % (
                        disk.target,
                        disk.format,
                        BLOCKCOPY_FORMAT,
                        " (backing chain flattened)" if disk.backing_chain else "",
                    )
                )
        for iface in self.root.findall("devices/interface[@type='direct']"):
            source = iface.find("source")
            dev = source.get("dev") if source is not None else "?"
            warnings.append(
                "interface %s uses host interface %s (macvtap): the peer needs the same name" % (_mac(iface), dev)
            )
        for graphics in self.root.findall("devices/graphics"):
            addresses = [graphics.get("listen")] + [ls.get("address") for ls in graphics.findall("listen")]
            for address in {a for a in addresses if a and a not in LOCAL_LISTEN}:
                warnings.append(
                    "graphics (%s) listens on %s, an address of this host: the VM would not start on the peer; "
                    "listen on 0.0.0.0 or 127.0.0.1" % (graphics.get("type"), address)
                )
        for tag in ("kernel", "initrd", "nvram"):
            path = self.root.findtext("os/" + tag)
            if path:
                warnings.append("os %s %s is a file on this host: copy it to the peer" % (tag, path.strip()))
        return ["%s: %s" % (self.label, w) for w in warnings]

    def check(self):
        """Raise :class:`DomainError` with every problem, or return the mirrored disks."""
        problems = self.problems
        if problems:
            raise DomainError(problems)
        return self.mirrored

    def to_dict(self):
        return {
            "name": self.name,
            "uuid": self.uuid,
            "type": self.type,
            "hypervisor": self.hypervisor,
            "xen_mode": self.xen_mode,
            "macs": list(self.macs),
            "disks": [d.to_dict() for d in self.disks],
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _mac(iface):
    mac = iface.find("mac")
    return mac.get("address") if mac is not None else "(no mac)"


def parse(xml_text):
    """Parse a domain definition into a :class:`Domain`."""
    return Domain(xml_text)


def _parse(xml_text):
    """Parse XML text, registering its namespace prefixes so output keeps them."""
    if isinstance(xml_text, bytes):
        xml_text = xml_text.decode("utf-8")
    try:
        for _event, (prefix, uri) in ET.iterparse(io.StringIO(xml_text), events=("start-ns",)):
            if prefix and not re.match(r"ns\d+$", prefix):
                ET.register_namespace(prefix, uri)
        return ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise DomainError("not valid XML: %s" % exc) from None


def _serialize(root):
    root = copy.deepcopy(root)
    for elem in root.iter():
        if elem.text is not None and not elem.text.strip():
            elem.text = None
        if elem.tail is not None and not elem.tail.strip():
            elem.tail = None
    ET.indent(root, space="  ")
    # ElementTree writes empty elements as '<x />'; libvirt as '<x/>'. ' />' cannot occur in
    # escaped text or attribute values ('>' is escaped there), so the replacement is safe.
    return ET.tostring(root, encoding="unicode").replace(" />", "/>") + "\n"


def pretty(xml_text):
    """The XML re-indented with two spaces, one element a line."""
    return _serialize(_parse(xml_text))


def canonical(xml_text):
    """A formatting-independent form: C14N 2.0, whitespace stripped, prefixes normalised."""
    if isinstance(xml_text, bytes):
        xml_text = xml_text.decode("utf-8")
    try:
        return ET.canonicalize(xml_data=xml_text, strip_text=True, rewrite_prefixes=True)
    except ET.ParseError as exc:
        raise DomainError("not valid XML: %s" % exc) from None


def same(a, b):
    """True when two XML texts differ only in formatting."""
    return canonical(a) == canonical(b)


def unified_diff(before, after, fromfile="before", tofile="after"):
    """A unified diff of the pretty-printed texts ('' when they are the same)."""
    return "".join(
        difflib.unified_diff(
            pretty(before).splitlines(True),
            pretty(after).splitlines(True),
            fromfile=fromfile,
            tofile=tofile,
        )
    )


def _check_mapping(domain, devices, what):
    if not isinstance(devices, dict):
        raise DomainError("%s: %s must be a mapping of disk target to path" % (domain.label, what))
    problems = []
    wanted = [d.target for d in domain.mirrored]
    for target in wanted:
        if target not in devices:
            problems.append("%s: disk %s is writable but has no %s" % (domain.label, target, what))
    for target, path in devices.items():
        if target not in wanted:
            known = [d.target for d in domain.disks]
            reason = "is not a disk that is copied" if target in known else "does not exist"
            problems.append(
                "%s: %s given for %s, which %s (copied: %s)"
                % (domain.label, what, target, reason, ", ".join(wanted) or "none")
            )
        elif not isinstance(path, str) or not path.startswith("/"):
            problems.append("%s: %s for disk %s must be an absolute path, got %r" % (domain.label, what, target, path))
    if problems:
        raise DomainError(problems)


def _rewrite_disk(disk, path, hypervisor, size=None):
    elem = disk.element
    elem.set("type", "block")
    driver = elem.find("driver")
    if driver is None:
        driver = ET.Element("driver")
        elem.insert(0, driver)
    if hypervisor == "xen":
        keep = {k: v for k, v in driver.attrib.items() if k in XEN_DRIVER_KEEP}
        driver.attrib.clear()
        driver.attrib.update(XEN_DRIVER)
        driver.attrib.update(keep)
        for child in list(driver):
            driver.remove(child)
    else:
        driver.attrib.update(KVM_DRIVER)
        for child in driver.findall("metadata_cache"):
            driver.remove(child)
    old = elem.find("source")
    source = ET.Element("source", {"dev": path})
    if old is not None:
        # Keep the user's security choices for the source, drop what described the old file.
        source.extend(copy.deepcopy(c) for c in old.findall("seclabel"))
        source.tail = old.tail
        elem[list(elem).index(old)] = source
    else:
        elem.insert(list(elem).index(driver) + 1, source)
    if size and hypervisor != "xen":
        # The device is a little larger than the disk (whole extents, DRBD's metadata): a storage
        # slice keeps the size the guest sees, which QEMU's block copy also requires.
        slices = ET.SubElement(source, "slices")
        ET.SubElement(slices, "slice", {"type": "storage", "offset": "0", "size": str(int(size))})
    for backing in elem.findall("backingStore"):
        elem.remove(backing)


def _rewrite(xml_text, devices, what, sizes=None):
    domain = Domain(xml_text)
    domain.check()
    _check_mapping(domain, devices, what)
    for disk in domain.mirrored:
        _rewrite_disk(disk, devices[disk.target], domain.hypervisor, (sizes or {}).get(disk.target))
    return _serialize(domain.root)


def protect(xml_text, devices, sizes=None):
    """The definition of the protected VM.

    :param xml_text: ``virsh dumpxml --inactive --security-info`` of the VM (plain or already protected)
    :param devices: ``{target: '/dev/drbdN'}`` for every disk in :attr:`Domain.mirrored`
    :param sizes: ``{target: bytes}``, the size the guest sees (``virsh domblkinfo`` capacity). KVM disks get a
        storage slice of that size (``<slices><slice type='storage' offset='0' size=.../>``), because the DRBD
        device is larger; Xen's blkback has no slices, so a Xen guest sees the device's size.
    :returns: the new definition (pretty XML); ``same(xml_text, result)`` when nothing changes
    :raises DomainError: the domain cannot be protected or ``devices`` does not fit it
    """
    return _rewrite(xml_text, devices, "DRBD device", sizes)


def unprotect(xml_text, sources, sizes=None):
    """The protected definition back on plain local block devices.

    :param sources: ``{target: '/dev/VG/LV'}`` for every copied disk (new local LVs, or the LVs under the DRBD
        devices)
    :param sizes: as for :func:`protect`: the size the guest sees, kept with a storage slice (KVM)
    """
    return _rewrite(xml_text, sources, "local device", sizes)


def disk_element(xml_text, target):
    """The ``<disk>`` element of ``target`` as text (for ``virsh blockcopy --xml``), or None."""
    root = _parse(xml_text)
    for disk in root.findall("devices/disk"):
        tgt = disk.find("target")
        if tgt is not None and tgt.get("dev") == target:
            return ET.tostring(disk, encoding="unicode")
    return None


def peer_definition(xml_text, emulator=None):
    """The definition for the peer host, from the protected one.

    Generated interface target names are dropped. ``emulator``: None keeps the
    ``<emulator>`` element, a path replaces it, ``''`` removes it (the peer's
    libvirt then picks its default for the domain type).
    """
    domain = Domain(xml_text)
    if domain.live:
        raise DomainError(domain.problems[0])
    root = domain.root
    for iface in root.findall("devices/interface"):
        for target in iface.findall("target"):
            if GENERATED_IFNAME.match(target.get("dev", "")):
                iface.remove(target)
    devices = root.find("devices")
    if emulator is not None and devices is not None:
        current = devices.find("emulator")
        if emulator == "":
            if current is not None:
                devices.remove(current)
        elif current is not None:
            current.text = emulator
        else:
            new = ET.Element("emulator")
            new.text = emulator
            devices.insert(0, new)
    return _serialize(root)


# Host-side details that the guest never sees (stripped by guest_view).
_HOST_SIDE = {
    "disk": ("source", "driver", "backingStore", "mirror", "alias"),
    "interface": ("target", "source", "script", "alias", "backenddomain"),
}


def guest_view(xml_text):
    """Canonical XML of what the guest sees: host-side paths, drivers and names removed.

    Two definitions of one VM with the same guest view present the same
    hardware (UUID, MACs, disk targets/buses/addresses/serials, CPU, memory).
    """
    root = _parse(xml_text)
    root.attrib.pop("id", None)
    devices = root.find("devices")
    if devices is not None:
        for emulator in devices.findall("emulator"):
            devices.remove(emulator)
        for tag, children in _HOST_SIDE.items():
            for elem in devices.findall(tag):
                elem.attrib.pop("type", None)
                for child in list(elem):
                    if child.tag in children:
                        elem.remove(child)
    for seclabel in root.findall("seclabel"):
        root.remove(seclabel)
    return canonical(ET.tostring(root, encoding="unicode"))


# ---------------------------------------------------------------------------
# security information

# What `virsh dumpxml --security-info` (libvirt's VIR_DOMAIN_XML_SECURE) adds to a definition, checked
# against libvirt 9.0: the console password of a <graphics> device (passwd, VNC and SPICE) and the
# cookies of a network disk source (<source protocol='https'><cookies><cookie name='...'>VALUE</cookie>).
# Any passwd attribute is treated so, whatever its element. A definition's other secrets live in libvirt
# secret objects that it only names (<auth><secret usage|uuid>, <encryption><secret uuid>): no values.
SECRET_ATTRIBUTES = ("passwd",)
SECRET_TEXTS = ("cookie",)
MASK = "********"


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _secret_places(root):
    """``[(key, element, attribute or None)]`` of every non-empty secret value, in document order.

    The key names the element by its tag and its position in document order, which masking does not
    change, so the secrets of a definition fit its masked text again.
    """
    places = []
    for index, elem in enumerate(root.iter()):
        tag = _local(elem.tag)
        for attr in SECRET_ATTRIBUTES:
            if elem.get(attr):
                places.append(("%s[%d]@%s" % (tag, index, attr), elem, attr))
        if tag in SECRET_TEXTS and elem.text and elem.text.strip():
            places.append(("%s[%d]" % (tag, index), elem, None))
    return places


def _value(elem, attr):
    return elem.get(attr) if attr else elem.text


def _set_value(elem, attr, value):
    if attr:
        elem.set(attr, value)
    else:
        elem.text = value


def secrets(xml_text):
    """``{key: value}``: the secret values of a definition (console passwords, disk cookies)."""
    if not xml_text:
        return {}
    return {key: _value(elem, attr) for key, elem, attr in _secret_places(_parse(xml_text))}


def redact(xml_text):
    """The definition with every secret value replaced by ``********`` (for diffs and results).

    A definition without secrets comes back unchanged, byte for byte.
    """
    if not xml_text:
        return xml_text
    root = _parse(xml_text)
    places = _secret_places(root)
    if not places:
        return xml_text
    for _key, elem, attr in places:
        _set_value(elem, attr, MASK)
    return _serialize(root)


def masked(xml_text):
    """Keys of the secret values that are ``********`` in ``xml_text`` (masked by :func:`redact`)."""
    if not xml_text:
        return []
    return [key for key, elem, attr in _secret_places(_parse(xml_text)) if _value(elem, attr) == MASK]


def restore(xml_text, values):
    """A masked definition with its secret values put back from ``values`` (:func:`secrets` of the
    original). Masked values without an entry stay masked (:func:`masked` finds them)."""
    if not xml_text or not values:
        return xml_text
    root = _parse(xml_text)
    changed = False
    for key, elem, attr in _secret_places(root):
        if _value(elem, attr) == MASK and key in values:
            _set_value(elem, attr, values[key])
            changed = True
    return _serialize(root) if changed else xml_text

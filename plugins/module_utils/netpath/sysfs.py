# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hardware behind the members of a path, read from sysfs, and whether they fail independently.

:func:`read_interface` reads one interface under a sysfs root (``/sys``; tests pass a fixture
tree): its PCI function and device, driver, ``phys_port_id``/``phys_switch_id``, link state,
speed, MTU and bond master. The kernel layout it follows::

    /sys/class/net/enp65s0f1 -> ../../devices/pci0000:40/0000:40:01.1/0000:41:00.1/net/enp65s0f1
    /sys/class/net/enp65s0f1/device -> ../../../0000:41:00.1
    /sys/class/net/enp65s0f1/device/driver -> ../../../../bus/pci/drivers/ixgbe
    /sys/class/net/enp65s0f1/device/physfn -> ../0000:41:00.0        (an SR-IOV virtual function)
    /sys/class/net/eth0.100/lower_eth0 -> ../eth0                    (a VLAN: its hardware is eth0's)
    /sys/class/net/veth0 -> ../../devices/virtual/net/veth0          (software: no device link)

:func:`independence` is pure: it judges a list of such identities and returns the verdict and the
problems, each naming both interfaces and what they share.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import CRITICAL, WARNING

# Drivers of paravirtual NICs: a PCI (or VMBus, Xen) device that a hypervisor emulates. What
# physical port carries it is decided on the hypervisor's host, out of sight of this one.
VIRTUAL_DRIVERS = ("virtio_net", "vmxnet3", "hv_netvsc", "vif", "xen-netfront", "ena", "gve", "veth", "tun")
_PCI_RE = re.compile(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2})\.([0-7])$")
_MAX_LOWER = 4  # VLAN on VLAN on ... : how far down a lower_* chain is followed
_FIELDS = (
    "virtual_reason kind pci_address pci_device physfn driver phys_port_id phys_switch_id operstate carrier speed_mbps "
    "mtu master via"
).split()
# Verdicts of independence(), from the best to the worst.
INDEPENDENT, UNPROVEN, SHARED, MISSING = "independent", "unproven", "shared", "missing"


def _read_text(path):
    with open(path) as f:
        return f.read()


def _read(path):
    """The stripped content of a sysfs attribute, or None: absent, or the driver refuses to say.

    Reading ``speed`` of a link that is down fails with EINVAL, ``phys_port_id`` of a driver that
    does not implement it with EOPNOTSUPP; both mean "unknown" here.
    """
    try:
        return _read_text(path).strip()
    except (OSError, UnicodeDecodeError):
        return None


def _link_name(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else None


def _pci_of(device_path, root):
    """The PCI function (``0000:41:00.1``) closest to a device: itself, or the PCI parent of a virtio device."""
    found = None
    for part in os.path.relpath(os.path.realpath(device_path), os.path.realpath(root)).split(os.sep):
        if _PCI_RE.match(part):
            found = part
    return found


def _lowers(net_dir):
    try:
        names = sorted(os.listdir(net_dir))
    except OSError:
        return []
    return [n[len("lower_") :] for n in names if n.startswith("lower_")]


def read_interface(name, root="/sys", _depth=0):
    """What sysfs says about interface ``name``.

    Returns a dict: ``name``, ``exists``, ``virtual`` (bool) and ``virtual_reason``, ``kind`` (the
    uevent DEVTYPE: vlan, bridge, bond, ...), ``pci_address``, ``pci_device`` (without the
    function), ``physfn`` (the physical function of an SR-IOV VF), ``driver``, ``phys_port_id``,
    ``phys_switch_id``, ``operstate``, ``carrier`` (bool or None), ``speed_mbps`` (None when
    unknown), ``mtu``, ``master`` and ``via`` (the lower interface a VLAN's hardware is read from).
    """
    net_dir = os.path.join(root, "class", "net", name)
    info = dict.fromkeys(_FIELDS)
    info.update(name=name, exists=os.path.exists(net_dir), virtual=False)
    if not info["exists"]:
        return info

    def attr(key):
        return _read(os.path.join(net_dir, key))

    carrier, speed, mtu = attr("carrier"), attr("speed"), attr("mtu")
    uevent = dict(line.split("=", 1) for line in (attr("uevent") or "").splitlines() if "=" in line)
    info.update(
        operstate=attr("operstate"),
        carrier=None if carrier is None else carrier == "1",
        speed_mbps=int(speed) if speed and speed.isdigit() and int(speed) < 4294967295 else None,
        mtu=int(mtu) if mtu and mtu.isdigit() else None,
        master=_link_name(os.path.join(net_dir, "master")),
        kind=uevent.get("DEVTYPE"),
        phys_port_id=attr("phys_port_id") or None,
        phys_switch_id=attr("phys_switch_id") or None,
    )
    device = os.path.join(net_dir, "device")
    software = "%sdevices%svirtual%s" % (os.sep, os.sep, os.sep) in os.path.realpath(net_dir)
    if software or not os.path.exists(device):
        lowers = _lowers(net_dir)
        if len(lowers) == 1 and _depth < _MAX_LOWER:
            lower = read_interface(lowers[0], root, _depth + 1)
            for key in ("virtual", "virtual_reason", "pci_address", "pci_device", "physfn", "driver"):
                info[key] = lower[key]
            info["phys_port_id"] = info["phys_port_id"] or lower["phys_port_id"]
            info["phys_switch_id"] = info["phys_switch_id"] or lower["phys_switch_id"]
            info["via"] = lower["via"] or lower["name"]
            return info
        info["virtual"] = True
        info["virtual_reason"] = "a software interface%s with no hardware device of its own" % (
            " (%s)" % info["kind"] if info["kind"] else ""
        )
        return info
    info["driver"] = _link_name(os.path.join(device, "driver"))
    info["pci_address"] = _pci_of(device, root)
    physfn = os.path.join(device, "physfn")
    if os.path.exists(physfn):
        info["physfn"] = _pci_of(physfn, root)
    match = _PCI_RE.match(info["physfn"] or info["pci_address"] or "")
    info["pci_device"] = match.group(1) if match else None
    if info["driver"] in VIRTUAL_DRIVERS:
        info["virtual"] = True
        info["virtual_reason"] = "a paravirtual NIC (driver %s) that a hypervisor provides" % info["driver"]
    return info


def _describe(member):
    """``enp65s0f1 (0000:41:00.1)``, with the VF and VLAN details that explain the address."""
    where = member["pci_address"] or "no PCI device"
    if member["physfn"]:
        where = "VF %s of %s" % (member["pci_address"], member["physfn"])
    if member["via"]:
        where = "on %s, %s" % (member["via"], where)
    return "%s (%s)" % (member["name"], where)


def _shared(a, b):
    """(kind, device, message, fix) for what two existing, physical members share, or None."""
    pair = "%s and %s" % (_describe(a), _describe(b))
    if a["via"] and a["via"] == (b["via"] or b["name"]) or b["via"] and b["via"] == a["name"]:
        lower = a["via"] or a["name"]
        return (
            "same_interface",
            lower,
            "%s both run over interface %s: one port, one cable." % (pair, lower),
            "Use VLANs or interfaces of two different physical ports (and cards).",
        )
    if a["phys_port_id"] and a["phys_port_id"] == b["phys_port_id"]:
        return (
            "same_port",
            a["phys_port_id"],
            "%s report the same physical port (phys_port_id %s): they are partitions or functions of one port, "
            "so one cable or one port failure takes both down." % (pair, a["phys_port_id"]),
            "Use interfaces on two different physical ports, preferably of two different cards.",
        )
    if a["pci_device"] and a["pci_device"] == b["pci_device"]:
        fa, fb = a["physfn"] or a["pci_address"], b["physfn"] or b["pci_address"]
        if a["physfn"] or b["physfn"]:
            how = "SR-IOV virtual functions share their physical function's card and port"
        elif fa != fb:
            how = "functions %s and %s of one multi-port card" % (fa.rsplit(".", 1)[1], fb.rsplit(".", 1)[1])
        else:
            how = "ports of one PCI function"
        return (
            "same_pci_device",
            a["pci_device"],
            "%s are on one PCI device, %s (%s): a failure of that card, its slot or its driver takes both "
            "down." % (pair, a["pci_device"], how),
            "Use ports of two different cards (two PCI devices other than one %s), e.g. an onboard port and a "
            "port of an add-in card." % a["pci_device"],
        )
    if a["phys_switch_id"] and a["phys_switch_id"] == b["phys_switch_id"]:
        return (
            "same_switch",
            a["phys_switch_id"],
            "%s sit on one NIC's embedded switch (phys_switch_id %s): that NIC fails for both."
            % (pair, a["phys_switch_id"]),
            "Use interfaces of two different NICs.",
        )
    return None


def independence(members):
    """Judge whether the members fail independently: ``(verdict, problems)``.

    ``members``: :func:`read_interface` results. Verdicts, worst first: ``missing`` (an interface
    does not exist or is named twice), ``shared`` (two members share a port, a PCI device or a
    NIC's switch), ``unproven`` (a virtual NIC: nothing here can tell what it shares) and
    ``independent``. Each problem: ``kind``, ``severity`` (``critical``, or ``warning`` for
    ``virtual``), ``interfaces``, ``device`` (what is shared), ``message`` and ``fix``.
    """
    problems = []
    seen = set()
    present = []
    for member in members:
        name = member["name"]
        if name in seen:
            problems.append(
                _problem("duplicate", CRITICAL, [name], None, "%s is named twice." % name, "Name each interface once.")
            )
        elif not member["exists"]:
            message = "%s does not exist on this host (no /sys/class/net/%s)." % (name, name)
            fix = "Check the name with 'ip link'; correct the members or connect the NIC."
            problems.append(_problem("missing", CRITICAL, [name], None, message, fix))
        else:
            present.append(member)
        seen.add(name)
    virtual = [m for m in present if m["virtual"]]
    if virtual:
        names = [m["name"] for m in present]
        message = "%s: what physical ports and cards %s reach%s is decided outside this host, so %s cannot be " % (
            "; ".join("%s is %s" % (m["name"], m["virtual_reason"]) for m in virtual),
            "they" if len(virtual) > 1 else "it",
            "" if len(virtual) > 1 else "es",
            "the independence of %s" % " and ".join(names) if len(names) > 1 else "it",
        )
        fix = "Check on the hypervisor (or host) that the NICs behind %s use different physical ports and cards." % (
            ", ".join(m["name"] for m in virtual)
        )
        problems.append(_problem("virtual", WARNING, [m["name"] for m in virtual], None, message + "proven here.", fix))
    physical = [m for m in present if not m["virtual"]]
    for i, a in enumerate(physical):
        for b in physical[i + 1 :]:
            shared = _shared(a, b)
            if shared:
                problems.append(_problem(shared[0], CRITICAL, [a["name"], b["name"]], shared[1], shared[2], shared[3]))
    kinds = {p["kind"] for p in problems}
    if kinds & {"missing", "duplicate"}:
        verdict = MISSING
    elif any(p["severity"] == CRITICAL for p in problems):
        verdict = SHARED
    elif problems:
        verdict = UNPROVEN
    else:
        verdict = INDEPENDENT
    return verdict, problems


def _problem(kind, severity, interfaces, device, message, fix):
    return {
        "kind": kind,
        "severity": severity,
        "interfaces": interfaces,
        "device": device,
        "message": message,
        "fix": fix,
    }

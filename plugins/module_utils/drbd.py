# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The DRBD resource of one protected VM: numbers, file, parsing and commands.

Pure Python, nothing here touches a host. Four parts:

1. :func:`allocate` gives every protected VM a resource with one TCP port and
   one DRBD volume (and minor) per disk, stable across runs and free of
   collisions with every resource already defined on either host.
2. :func:`build_resource` + :func:`render_resource` write
   ``/etc/drbd.d/vm-<vm>.res`` in DRBD 8.4 or 9 syntax.
3. :func:`parse_dump_xml` reads ``drbdadm dump-xml`` output (what the hosts
   already have) into plain data; :func:`resource_differences` compares it
   with what :func:`render_resource` would write.
4. :class:`DrbdCommands` and :func:`host_plan` build the drbdadm argument
   lists a module runs on each host.

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

The shared secret is only ever written into the rendered text. It never
appears in an exception, a ``repr`` or a parse result (that keeps a salted
digest to tell whether it changed). drbdadm itself prints it (``drbdadm -d up``
shows ``--shared-secret=...`` and a failing drbdsetup call is echoed with its
arguments): register it with :meth:`.runner.CommandRunner.add_secrets` before
running drbdadm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.runner import MASK

RESOURCE_PREFIX = "vm-"
RESOURCE_DIR = "/etc/drbd.d"
LV_SUFFIX = "-drbd"

DEFAULT_BASE_MINOR = 100
# DRBD's own limit (MINORMASK, 2^20 - 1).
DEFAULT_MAX_MINOR = 1048575
DEFAULT_BASE_PORT = 7790
DEFAULT_MAX_PORT = 7999

VERSIONS = ("8.4", "9")
# What each protection level means for the replication link. Both call the
# cluster's fence-peer handler (common section of global_common.conf) when the
# peer is lost, so a side that goes on alone first outdates the other's copy.
# ha freezes I/O until that is done (resource-and-stonith). The kernel refuses
# resource-and-stonith with protocol A (ERR_STONITH_AND_PROT_A, "fencing
# resource-and-stonith needs protocol B or C", 8.4 and 9), and the common
# section sets it for every resource: recovery must override it with
# resource-only. Each resource therefore states its fencing itself.
LEVELS = {
    "ha": {"protocol": "C", "fencing": "resource-and-stonith"},
    "recovery": {"protocol": "A", "fencing": "resource-only"},
}
FT_REFUSED = "level ft (fault tolerance) is not available yet: use ha"

SECRET_ALG = "sha256"
SECRET_MAX_LEN = 64  # SHARED_SECRET_MAX in drbd_limits.h
PING_INT_RANGE = (1, 120)  # seconds
PING_TIMEOUT_RANGE = (1, 300)  # tenths of a second

_VM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,47}$")
_DISK_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_NODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
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
        raise LevelError("%r is not a protection level: use ha or recovery" % (level,))
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


# ---------------------------------------------------------------------------
# parsing drbdadm dump-xml


def _int(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParseError("drbdadm dump-xml: %s %r is not a number" % (what, value)) from None


def _address(elem):
    if elem is None:
        return None
    port = elem.get("port")
    return {
        "family": elem.get("family") or "ipv4",
        "address": (elem.text or "").strip(),
        "port": _int(port, "port") if port is not None else None,
    }


def _volumes(parent, resource):
    volumes = {}
    for vol in parent.findall("volume"):
        volumes[_int(vol.get("vnr"), "volume number")] = _volume(vol, resource)
    # A single-volume resource written without a volume section.
    if parent.find("device") is not None and 0 not in volumes:
        volumes[0] = _volume(parent, resource)
    return volumes


def _volume(elem, resource):
    device = elem.find("device")
    minor = None
    if device is not None:
        if device.get("minor") is not None:
            minor = _int(device.get("minor"), "minor")
        else:
            match = re.search(r"(\d+)$", (device.text or "").strip())
            minor = int(match.group(1)) if match else None
    if minor is None:
        raise ParseError("drbdadm dump-xml: a volume of resource %s has no device minor" % resource)
    return {
        "minor": minor,
        "device": (device.text or "").strip() or device_path(minor),
        "disk": (elem.findtext("disk") or "").strip(),
        "meta_disk": (elem.findtext("meta-disk") or "").strip(),
    }


def parse_dump_xml(text):
    """Read ``drbdadm dump-xml`` output (8.4 or 9).

    Returns ``{resource: entry}`` with entry::

        {"name": str,
         "minors": [int, ...],          # every minor named anywhere in the resource
         "ports": [int, ...],           # every port named anywhere in the resource
         "hosts": {node: {"address": {"family", "address", "port"} or None,
                          "volumes": {vnr: {"minor", "device", "disk", "meta_disk"}}}},
         "protocol": "C" | "A" | "B" | None,   # None: not set in the resource (inherited)
         "options": {section: {option: value}},  # shared-secret masked
         "secret_digest": str | None}
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ParseError("drbdadm dump-xml output is not XML (%s)" % exc) from None
    out = {}
    for res in root.iter("resource"):
        name = res.get("name")
        if not name:
            raise ParseError("drbdadm dump-xml: a resource has no name")
        hosts = {}
        for host in res.findall("host"):
            hosts[host.get("name")] = {"address": _address(host.find("address")), "volumes": _volumes(host, name)}
        minors = sorted({vol["minor"] for host in hosts.values() for vol in host["volumes"].values()})
        ports = sorted({_int(a.get("port"), "port") for a in res.iter("address") if a.get("port") is not None})
        options = {}
        digest = None
        for section in res.findall("section"):
            values = {}
            for opt in section.findall("option"):
                value = opt.get("value")
                if opt.get("name") == "shared-secret":
                    digest = secret_digest(name, value or "")
                    value = MASK
                values[opt.get("name")] = value
            options[section.get("name")] = values
        out[name] = {
            "name": name,
            "minors": minors,
            "ports": ports,
            "hosts": hosts,
            "protocol": options.get("net", {}).get("protocol"),
            "options": options,
            "secret_digest": digest,
        }
    return out


def merge_existing(existing):
    """One ``{resource: [entry, ...]}`` from parse results of several hosts.

    ``existing``: None, one :func:`parse_dump_xml` result, or a list of them.
    """
    if existing is None:
        return {}
    if isinstance(existing, dict):
        existing = [existing]
    merged = {}
    for parsed in existing:
        for name, entry in (parsed or {}).items():
            merged.setdefault(name, []).append(entry)
    return merged


# ---------------------------------------------------------------------------
# allocation


def _check_range(what, low, high):
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DrbdError("%s limits must be whole numbers, got %r" % (what, value))
    if low > high:
        raise DrbdError("%s range %d-%d is empty: the base is above the limit" % (what, low, high))


def _kept(vm, entries, usage_minors, usage_ports):
    """What an already-protected VM keeps: ({disk: (vnr, minor)}, port or None)."""
    res = resource_name(vm)
    volumes = {}
    ports = set()
    for entry in entries:
        for host in entry["hosts"].values():
            if host["address"] and host["address"]["port"] is not None:
                ports.add(host["address"]["port"])
            for vnr, vol in host["volumes"].items():
                disk = disk_of_lv(vm, vol["disk"])
                if disk is None:
                    continue
                seen = volumes.setdefault(disk, (vnr, vol["minor"]))
                if seen != (vnr, vol["minor"]):
                    raise AllocationError(
                        "resource %s: disk %s is volume %d minor %d on one side and volume %d minor %d on the other;"
                        " make the two hosts' %s agree first" % (res, disk, seen[0], seen[1], vnr, vol["minor"], res)
                    )
    if len(ports) > 1:
        raise AllocationError(
            "resource %s uses ports %s on the hosts; make both hosts use one port first"
            % (res, ", ".join(str(p) for p in sorted(ports)))
        )
    port = ports.pop() if ports else None
    for disk, (vnr, minor) in sorted(volumes.items()):
        others = usage_minors.get(minor, set()) - {res}
        if others:
            raise AllocationError(
                "minor %d of %s (disk %s, volume %d) is also used by %s; free one of them first"
                % (minor, res, disk, vnr, ", ".join(sorted(others)))
            )
    if port is not None:
        others = usage_ports.get(port, set()) - {res}
        if others:
            raise AllocationError(
                "port %d of %s is also used by %s; free one of them first" % (port, res, ", ".join(sorted(others)))
            )
    return volumes, port


def _lowest_free(low, high, taken):
    for value in range(low, high + 1):
        if value not in taken:
            return value
    return None


def allocate(
    vms,
    existing=None,
    base_minor=DEFAULT_BASE_MINOR,
    max_minor=DEFAULT_MAX_MINOR,
    base_port=DEFAULT_BASE_PORT,
    max_port=DEFAULT_MAX_PORT,
    reserved_minors=(),
    reserved_ports=(),
):
    """Minors and ports for the VMs to protect.

    :param vms: ``{vm name: [disk name, ...]}`` (disk order = volume order of a new VM)
    :param existing: parse result(s) of ``drbdadm dump-xml`` on the hosts (see :func:`merge_existing`)
    :returns: ``{vm: {"resource", "port", "new", "volumes": [{"volume", "disk", "minor", "device"}, ...]}}``
        with volumes sorted by volume number.

    Rules: every minor and port named by any existing resource (ours or not,
    on either host) or reserved is taken. A VM whose resource exists keeps
    its port and, per disk, its volume number and minor. Then, VMs in name
    order and disks in list order, each new resource gets the lowest free
    port and each new volume the lowest free volume number and minor. So
    adding a VM moves nobody, and what a removed VM held is free only once
    its resource is gone from both hosts, for whoever comes next.
    """
    if not isinstance(vms, dict):
        raise DrbdError("vms must map each VM name to its list of disks")
    _check_range("minor", base_minor, max_minor)
    _check_range("port", base_port, max_port)
    if base_minor < 0 or max_minor > DEFAULT_MAX_MINOR:
        raise DrbdError("minors must lie within 0-%d" % DEFAULT_MAX_MINOR)
    if base_port < 1 or max_port > 65535:
        raise DrbdError("ports must lie within 1-65535")
    for vm, disks in vms.items():
        check_vm_name(vm)
        if not isinstance(disks, (list, tuple)) or not disks:
            raise DrbdError("VM %s has no disks to protect" % vm)
        for disk in disks:
            check_disk_name(vm, disk)
        if len(set(disks)) != len(disks):
            raise DrbdError("VM %s lists a disk twice: %s" % (vm, ", ".join(disks)))

    merged = merge_existing(existing)
    usage_minors = {}
    usage_ports = {}
    for name, entries in merged.items():
        for entry in entries:
            for minor in entry["minors"]:
                usage_minors.setdefault(minor, set()).add(name)
            for port in entry["ports"]:
                usage_ports.setdefault(port, set()).add(name)
    taken_minors = set(usage_minors) | set(reserved_minors)
    taken_ports = set(usage_ports) | set(reserved_ports)

    result = {}
    # 1. what already-protected VMs keep, before anything new is handed out
    for vm in sorted(vms):
        res = resource_name(vm)
        kept, port = _kept(vm, merged.get(res, []), usage_minors, usage_ports)
        result[vm] = {"resource": res, "port": port, "new": res not in merged, "kept": kept}
    # 2. new ports and volumes, lowest free first, in name order
    for vm in sorted(vms):
        entry = result[vm]
        if entry["port"] is None:
            port = _lowest_free(base_port, max_port, taken_ports)
            if port is None:
                raise AllocationError(
                    "no free DRBD port in %d-%d for VM %s: all %d are in use; raise the port limit or unprotect a VM"
                    % (base_port, max_port, vm, max_port - base_port + 1)
                )
            taken_ports.add(port)
            entry["port"] = port
        kept = entry.pop("kept")
        volumes = []
        used_vnrs = {vnr for vnr, _minor in kept.values()}
        for disk in vms[vm]:
            if disk in kept:
                vnr, minor = kept[disk]
            else:
                vnr = _lowest_free(0, len(vms[vm]) + len(used_vnrs), used_vnrs)
                used_vnrs.add(vnr)
                minor = _lowest_free(base_minor, max_minor, taken_minors)
                if minor is None:
                    raise AllocationError(
                        "no free DRBD minor in %d-%d for VM %s disk %s: all %d are in use;"
                        " raise the minor limit or unprotect a VM"
                        % (base_minor, max_minor, vm, disk, max_minor - base_minor + 1)
                    )
                taken_minors.add(minor)
            volumes.append({"volume": vnr, "disk": disk, "minor": minor, "device": device_path(minor)})
        entry["volumes"] = sorted(volumes, key=lambda v: v["volume"])
    return result


# ---------------------------------------------------------------------------
# the resource file


class ResourceSpec:
    """Everything :func:`render_resource` writes for one VM. The secret is never shown."""

    def __init__(self, vm, level, port, volumes, nodes, secret, ping_int=None, ping_timeout=None):
        self.vm = vm
        self.name = resource_name(vm)
        self.level = level
        settings = level_settings(level)
        self.protocol = settings["protocol"]
        self.fencing = settings["fencing"]
        self.port = port
        self.volumes = volumes  # [{"volume", "disk", "minor", "device", "lv"}]
        self.nodes = nodes  # [{"name", "node_id", "family", "address"}]
        check_secret(secret)
        self._secret = secret
        self.ping_int = ping_int
        self.ping_timeout = ping_timeout

    @property
    def secret(self):
        return self._secret

    @property
    def path(self):
        return resource_path(self.vm)

    def __repr__(self):
        return "ResourceSpec(%s, level=%s, protocol=%s, port=%d, minors=%s, secret=%s)" % (
            self.name,
            self.level,
            self.protocol,
            self.port,
            [v["minor"] for v in self.volumes],
            MASK,
        )

    __str__ = __repr__

    def expected(self):
        """The :func:`parse_dump_xml` entry drbdadm would report for the rendered file
        (options flattened into ``flat_options``: fencing sits in disk{} on 8.4, net{} on 9)."""
        volumes = {
            v["volume"]: {"minor": v["minor"], "device": v["device"], "disk": v["lv"], "meta_disk": "internal"}
            for v in self.volumes
        }
        hosts = {
            n["name"]: {
                "address": {"family": n["family"], "address": n["address"], "port": self.port},
                "volumes": {k: dict(v) for k, v in volumes.items()},
            }
            for n in self.nodes
        }
        return {
            "name": self.name,
            "minors": sorted(v["minor"] for v in self.volumes),
            "ports": [self.port],
            "hosts": hosts,
            "protocol": self.protocol,
            "flat_options": self.options(),  # section depends on the version
            "secret_digest": secret_digest(self.name, self._secret),
        }

    def options(self):
        """Resource-level options besides protocol and secret, as drbdadm dump-xml shows them."""
        out = {"fencing": self.fencing, "cram-hmac-alg": SECRET_ALG}
        if self.ping_int is not None:
            out["ping-int"] = str(self.ping_int)
        if self.ping_timeout is not None:
            out["ping-timeout"] = str(self.ping_timeout)
        return out


def _check_ping(name, value, bounds):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise DrbdError("%s %r is outside %d-%d" % (name, value, bounds[0], bounds[1]))


def build_resource(pair, vm, allocation, level, secret, ping_int=None, ping_timeout=None):
    """A :class:`ResourceSpec` from the site model's pair and :func:`allocate`'s entry for the VM.

    :param pair: one pair of ``site.build_site()["pairs"]`` (uses nodes, storage_vg, replication_links)
    :param allocation: ``allocate(...)[vm]``
    :param level: ``ha`` or ``recovery`` (``ft`` is refused)
    :param secret: the pair's DRBD shared secret (cram-hmac-alg sha256)
    :param ping_int: seconds, overrides the common section's ping-int for this resource
    :param ping_timeout: tenths of a second, overrides ping-timeout
    """
    level_settings(level)
    check_vm_name(vm)
    _check_ping("ping-int", ping_int, PING_INT_RANGE)
    _check_ping("ping-timeout", ping_timeout, PING_TIMEOUT_RANGE)
    links = pair.get("replication_links") or []
    if not links:
        raise DrbdError(
            "pair %s has no link that carries replication: add 'replication' to a link's carries" % pair.get("name")
        )
    link = links[0]
    vg = pair.get("storage_vg")
    if not vg:
        raise DrbdError("pair %s has no vmpair_storage_vg for the DRBD backing volumes" % pair.get("name"))
    nodes = []
    for node in pair["nodes"]:
        if not _NODE_RE.match(str(node["name"])):
            raise DrbdError("node name %r cannot be a DRBD host name" % (node["name"],))
        entry = link["hosts"].get(node["host"])
        if not entry or not entry.get("address"):
            raise DrbdError("host %s has no address on replication link %s" % (node["host"], link["name"]))
        address = ipaddress.ip_address(str(entry["address"]))
        nodes.append(
            {
                "name": node["name"],
                "node_id": node["nodeid"],
                "family": "ipv%d" % address.version,
                "address": str(address),
            }
        )
    if len(nodes) != 2:
        raise DrbdError("pair %s has %d nodes; a DRBD resource here has exactly two" % (pair.get("name"), len(nodes)))
    volumes = []
    for vol in allocation["volumes"]:
        volumes.append(dict(vol, lv=lv_path(vg, vm, vol["disk"])))
    port = allocation["port"]
    return ResourceSpec(vm, level, port, volumes, nodes, secret, ping_int=ping_int, ping_timeout=ping_timeout)


def _fmt_address(node, port):
    if node["family"] == "ipv6":
        return "ipv6 [%s]:%d" % (node["address"], port)
    return "ipv4 %s:%d" % (node["address"], port)


def render_resource(spec, version):
    """The text of ``/etc/drbd.d/vm-<vm>.res`` in DRBD ``8.4`` or ``9`` syntax.

    8.4: ``on HOST { volume N { device; disk; meta-disk; } address; }``, ``fencing`` in ``disk {}``.
    9: shared ``volume`` sections, ``on HOST { node-id; address; }``, ``connection-mesh``,
    ``fencing`` in ``net {}``. Handlers, resync and after-split-brain policies come from the
    ``common`` section of global_common.conf (role duplex.vmpair.mirror).
    """
    version = normalize_version(version)
    lines = [
        "# Managed by duplex.vmpair: DRBD %s resource of VM %s (level %s). Changes are overwritten."
        % (version, spec.vm, spec.level),
        'resource "%s" {' % spec.name,
    ]
    if version == "8.4":
        lines += ["    disk {", "        fencing %s;" % spec.fencing, "    }"]
    lines += ["    net {", "        protocol %s;" % spec.protocol]
    if version == "9":
        lines.append("        fencing %s;" % spec.fencing)
    lines += [
        "        cram-hmac-alg %s;" % SECRET_ALG,
        '        shared-secret "%s";' % spec.secret,
    ]
    if spec.ping_int is not None:
        lines.append("        ping-int %d;" % spec.ping_int)
    if spec.ping_timeout is not None:
        lines.append("        ping-timeout %d;" % spec.ping_timeout)
    lines.append("    }")

    def volume_lines(indent):
        out = []
        for vol in spec.volumes:
            out += [
                "%svolume %d {" % (indent, vol["volume"]),
                "%s    device %s;" % (indent, vol["device"]),
                "%s    disk %s;" % (indent, vol["lv"]),
                "%s    meta-disk internal;" % indent,
                "%s}" % indent,
            ]
        return out

    if version == "9":
        lines += volume_lines("    ")
    for node in spec.nodes:
        lines.append("    on %s {" % node["name"])
        if version == "9":
            lines.append("        node-id %d;" % node["node_id"])
        else:
            lines += volume_lines("        ")
        lines.append("        address %s;" % _fmt_address(node, spec.port))
        lines.append("    }")
    if version == "9":
        lines += [
            "    connection-mesh {",
            "        hosts %s;" % " ".join(n["name"] for n in spec.nodes),
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def resource_differences(current, spec):
    """What differs between a parsed resource (``parse_dump_xml(...)[name]``) and ``spec``.

    Returns a list of sentences, empty when drbdadm would see the same resource.
    Secrets are compared by digest and never shown.
    """
    want = spec.expected()
    diffs = []
    if current is None:
        return ["resource %s does not exist" % spec.name]
    if set(current["hosts"]) != set(want["hosts"]):
        diffs.append("hosts are %s, want %s" % (", ".join(sorted(current["hosts"])), ", ".join(sorted(want["hosts"]))))
    for host in sorted(set(current["hosts"]) & set(want["hosts"])):
        have, need = current["hosts"][host], want["hosts"][host]
        if have["address"] != need["address"]:
            diffs.append("%s: address %s, want %s" % (host, _show_addr(have["address"]), _show_addr(need["address"])))
        for vnr in sorted(set(have["volumes"]) | set(need["volumes"])):
            a, b = have["volumes"].get(vnr), need["volumes"].get(vnr)
            if a is None:
                diffs.append("%s: volume %d (%s) is missing" % (host, vnr, b["disk"]))
            elif b is None:
                diffs.append("%s: volume %d (%s) is not wanted" % (host, vnr, a["disk"]))
            elif (a["minor"], a["disk"], a["meta_disk"]) != (b["minor"], b["disk"], b["meta_disk"]):
                diffs.append(
                    "%s: volume %d is minor %d on %s (meta-disk %s), want minor %d on %s (meta-disk %s)"
                    % (host, vnr, a["minor"], a["disk"], a["meta_disk"], b["minor"], b["disk"], b["meta_disk"])
                )
    if current.get("protocol") != want["protocol"]:
        diffs.append("protocol %s, want %s" % (current.get("protocol"), want["protocol"]))
    # fencing is in disk {} (8.4) or net {} (9): look in every section.
    have_options = {}
    for values in (current.get("options") or {}).values():
        have_options.update(values)
    for option, value in sorted(want["flat_options"].items()):
        if have_options.get(option) != value:
            diffs.append("%s %s, want %s" % (option, have_options.get(option), value))
    if current.get("secret_digest") != want["secret_digest"]:
        diffs.append("the shared secret differs")
    return diffs


def _show_addr(addr):
    if not addr:
        return "none"
    return "%s:%s:%s" % (addr["family"], addr["address"], addr["port"])


# ---------------------------------------------------------------------------
# commands


class DrbdCommands:
    """drbdadm argument lists for one resource, the same on 8.4 and 9.

    On a host, ``drbdadm`` from drbd-utils runs the 8.4 backend itself
    (``/usr/lib/drbd/drbdadm-84``) when the loaded module is 8.4, so the
    commands do not change with the version; what changes is what drbdadm
    does: 9 promotes the resource (``drbdsetup primary RES --force``),
    8.4 each minor (``drbdsetup-84 primary MINOR --force``); 9's create-md
    writes v09 metadata sized for the peers in the file, 8.4 v08 metadata.

    ``program`` replaces ``drbdadm`` (tests use the 8.4 backend directly),
    ``config`` adds ``-c FILE`` and ``dry_run`` adds ``-d`` (print the
    drbdsetup/drbdmeta calls instead of running them).
    """

    def __init__(self, resource, program="drbdadm", config=None, dry_run=False):
        self.resource = resource
        self.program = program
        self.config = config
        self.dry_run = dry_run

    def _cmd(self, *args):
        cmd = [self.program]
        if self.config:
            cmd += ["-c", self.config]
        if self.dry_run:
            cmd.append("-d")
        return cmd + list(args)

    def _target(self, volume=None):
        return self.resource if volume is None else "%s/%d" % (self.resource, volume)

    def dump_md(self, volume):
        """Read one volume's metadata; classify the result with :func:`has_metadata`."""
        return self._cmd("dump-md", self._target(volume))

    def create_md(self, volume=None):
        """Initialise metadata (all volumes, or one). Only for volumes without metadata."""
        return self._cmd("create-md", "--force", self._target(volume))

    def up(self):
        return self._cmd("up", self.resource)

    def adjust(self):
        return self._cmd("adjust", self.resource)

    def primary(self, force=False):
        return self._cmd("primary", "--force", self.resource) if force else self._cmd("primary", self.resource)

    def secondary(self):
        return self._cmd("secondary", self.resource)

    def down(self):
        return self._cmd("down", self.resource)

    def role(self):
        return self._cmd("role", self.resource)


def has_metadata(rc, stdout, stderr):
    """Result of :meth:`DrbdCommands.dump_md` -> True (metadata present) / False (none).

    An attached volume refuses dump-md ("... is configured"): it has metadata.
    Anything else raises ParseError with drbdmeta's message.
    """
    text = "%s\n%s" % (stdout or "", stderr or "")
    if rc == 0:
        return True
    if "No valid meta data found" in text:
        return False
    if re.search(r"is configured", text):
        return True
    detail = (stderr or stdout or "").strip().splitlines()
    raise ParseError("drbdadm dump-md failed (rc=%s): %s" % (rc, detail[-1] if detail else "no output"))


def host_plan(resource, volumes_without_metadata, configured, initial_primary, all_volumes=None, **kwargs):
    """The drbdadm commands for one host, in order.

    :param volumes_without_metadata: volume numbers whose backing LV has no DRBD metadata
    :param configured: the resource is already known to the kernel (``drbdadm role`` succeeds)
    :param initial_primary: this host holds the VM's data and starts the first full sync
    :param all_volumes: every volume number; when all lack metadata one ``create-md RES`` does it
    :param kwargs: passed to :class:`DrbdCommands` (program, config, dry_run)

    create-md only where metadata is missing; ``up`` a resource the kernel does
    not know yet, ``adjust`` one it knows; ``primary --force`` on the initial
    primary only (it overwrites the peer). ``down`` is :meth:`DrbdCommands.down`.
    """
    cmds = DrbdCommands(resource, **kwargs)
    plan = []
    missing = sorted(set(volumes_without_metadata))
    if missing and all_volumes is not None and set(missing) == set(all_volumes):
        plan.append(cmds.create_md())
    else:
        plan += [cmds.create_md(vnr) for vnr in missing]
    plan.append(cmds.adjust() if configured else cmds.up())
    if initial_primary:
        plan.append(cmds.primary(force=True))
    return plan

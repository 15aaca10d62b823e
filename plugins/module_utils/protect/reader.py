# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What one pair host has for protecting VMs, read with the stack's own tools.

:class:`HostReader` runs read-only commands through the collection's
:class:`.runner.CommandRunner` (argument lists, ``LANG=C``) and returns plain
data:

* a libvirt domain (``virsh domstate``, ``dominfo``, ``dumpxml --inactive
  --security-info``, ``domblklist --details``, ``domblkinfo``,
  ``blockjob --info --raw``): whether it is defined, its state, its
  persistent definition, the live source and capacity of every disk, and the
  block jobs running on it;
* the volume group and its logical volumes (``vgs``/``lvs`` with byte units);
* the DRBD resources the host knows (``drbdadm dump-xml``), the loaded
  module's version (``/proc/drbd``) and a resource's role, connection and disk
  states (``drbdadm role|cstate|dstate``, the same on 8.4 and 9);
* whether the cluster is quorate here (``corosync-quorumtool -s``).

The parsers are pure functions so they are tested on the tools' real output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_HYPERVISOR
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import PROC_DRBD
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.parse import parse_dump_xml
from ansible_collections.duplex.vmpair.plugins.module_utils.health.corosync import parse_quorumtool
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt.domain import URIS

# The definition the cluster starts a protected VM from (ocf:heartbeat:VirtualDomain's config): its own
# directory, because the agent undefines the domain before it starts it (virsh create CONFIG) and libvirt
# deletes a definition's file in /etc/libvirt when it is undefined.
CONFIG_DIR = "/etc/vmpair/domains"
_NOT_DEFINED = re.compile(r"failed to get domain|Domain not found|no domain with matching name", re.IGNORECASE)
_DRBD_VERSION = re.compile(r"^version:\s*(\d+)\.(\d+)", re.MULTILINE)
_NO_RESOURCES = re.compile(r"no resources defined|not defined in your config", re.IGNORECASE)


class HostReadError(Exception):
    """A tool's output could not be read, or the tool failed for another reason than "absent"."""


# ---------------------------------------------------------------------------
# parsers (pure)


def parse_key_values(text, sep=":"):
    """``Key: value`` lines (virsh dominfo, domblkinfo) -> dict; keys as printed."""
    out = {}
    for line in (text or "").splitlines():
        key, found, value = line.partition(sep)
        if found and key.strip():
            out[key.strip()] = value.strip()
    return out


def parse_domblklist(text):
    """``virsh domblklist --details`` -> ``[{"type", "device", "target", "source"}]`` ("-" source = None)."""
    disks = []
    for line in (text or "").splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3 or fields[0] == "Type" or set(line.strip()) <= {"-"}:
            continue
        source = fields[3].strip() if len(fields) > 3 else "-"
        disks.append(
            {"type": fields[0], "device": fields[1], "target": fields[2], "source": None if source == "-" else source}
        )
    return disks


def parse_blockjob_raw(text):
    """``virsh blockjob DOM DISK --info --raw`` -> None (no job) or ``{"type", "cur", "end", "ready"}``."""
    text = (text or "").strip()
    if not text or text.lower().startswith("no current block job"):
        return None
    values = parse_key_values(text, sep="=")
    if not values:
        # a human line such as "Block Copy: [ 45 %]"
        match = re.match(r"^(.*?):\s*\[\s*(\d+(?:\.\d+)?)\s*%\]", text)
        if not match:
            raise HostReadError("virsh blockjob printed something unexpected: %s" % text.splitlines()[0])
        pct = float(match.group(2))
        return {"type": match.group(1).strip(), "cur": pct, "end": 100.0, "ready": pct >= 100}
    try:
        cur, end = int(values.get("cur", 0)), int(values.get("end", 0))
    except ValueError:
        raise HostReadError(
            "virsh blockjob --raw gave cur=%r end=%r" % (values.get("cur"), values.get("end"))
        ) from None
    return {"type": values.get("type", "?"), "cur": cur, "end": end, "ready": end > 0 and cur == end}


def parse_lvm_rows(text, fields):
    """``vgs``/``lvs --noheadings --units b --nosuffix --separator :`` rows -> list of dicts (numbers as int)."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        values = [v.strip() for v in line.strip().split(":")]
        if len(values) != len(fields):
            raise HostReadError("unexpected LVM output line: %r" % line.strip())
        rows.append({name: int(values[i]) if values[i].isdigit() else values[i] for i, name in enumerate(fields)})
    return rows


def parse_proc_drbd(text):
    """``/proc/drbd`` -> "8.4" or "9" (the loaded module), None when the text has no version line."""
    match = _DRBD_VERSION.search(text or "")
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major == 8 and minor == 4:
        return "8.4"
    if major == 9:
        return "9"
    raise HostReadError("DRBD module version %d.%d is not supported (8.4 or 9)" % (major, minor))


def parse_drbd_states(role, cstate, dstate):
    """``drbdadm role|cstate|dstate RES`` output -> ``{"role", "peer_role", "cstate", "disk", "peer_disk"}``.

    8.4 prints ``Primary/Secondary`` and ``UpToDate/Inconsistent`` (one line per
    volume for dstate); 9 prints ``Primary`` and ``UpToDate`` per volume, without
    the peer's side (then ``peer_*`` is None). With several volumes the worst
    disk state is reported: the resource is only as good as its worst volume.
    """
    order = ["Diskless", "Failed", "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"]

    def worst(values):
        known = [v for v in values if v]
        if not known:
            return None
        return min(known, key=lambda v: order.index(v) if v in order else -1)

    def split(text):
        first = (text or "").strip().splitlines()
        first = first[0].strip() if first else ""
        mine, _sep, peer = first.partition("/")
        return mine or None, peer or None

    role_mine, role_peer = split(role)
    disks = [line.strip().partition("/") for line in (dstate or "").strip().splitlines() if line.strip()]
    return {
        "role": role_mine,
        "peer_role": role_peer,
        "cstate": ((cstate or "").strip().splitlines() or [None])[0],
        "disk": worst(d[0] for d in disks),
        "peer_disk": worst(d[2] for d in disks if d[1]),
    }


# ---------------------------------------------------------------------------
# reading a host


class HostReader:
    """Read-only view of one host. ``hypervisor`` picks the libvirt URI (kvm, xen); ``uri`` overrides it
    (tests use libvirt's ``test:///default``)."""

    def __init__(self, runner, hypervisor=DEFAULT_HYPERVISOR, uri=None):
        if hypervisor not in URIS:
            raise HostReadError("hypervisor must be %s, not %r" % (" or ".join(sorted(URIS)), hypervisor))
        self.runner = runner
        self.hypervisor = hypervisor
        self.uri = uri or URIS[hypervisor]

    def virsh(self, *args, **kwargs):
        return self.runner.run(["virsh", "-c", self.uri] + list(args), **kwargs)

    # libvirt -------------------------------------------------------------

    def domain(self, name):
        """The domain ``name`` here, or None when it is not defined.

        ``{"name", "uuid", "state", "running", "persistent", "xml" (persistent definition; None for a
        transient domain), "disks": {target: {"type", "device", "source", "capacity"}}, "jobs": {target: job}}``
        """
        state = self.virsh("domstate", name, check_rc=False)
        if state.rc != 0:
            if _NOT_DEFINED.search(state.stderr or "") or _NOT_DEFINED.search(state.stdout or ""):
                return None
            raise HostReadError(
                "virsh domstate %s failed (rc=%s): %s" % (name, state.rc, (state.stderr or state.stdout).strip())
            )
        info = parse_key_values(self.virsh("dominfo", name).stdout)
        persistent = info.get("Persistent", "yes") == "yes"
        xml = self.virsh("dumpxml", "--inactive", "--security-info", name).stdout if persistent else None
        status = state.stdout.strip().splitlines()[0] if state.stdout.strip() else "unknown"
        disks = {}
        jobs = {}
        for disk in parse_domblklist(self.virsh("domblklist", name, "--details").stdout):
            entry = {"type": disk["type"], "device": disk["device"], "source": disk["source"], "capacity": None}
            if disk["source"] and disk["device"] == "disk":
                blk = self.virsh("domblkinfo", name, disk["target"], check_rc=False)
                if blk.rc == 0:
                    capacity = parse_key_values(blk.stdout).get("Capacity")
                    entry["capacity"] = int(capacity) if capacity and capacity.isdigit() else None
                if status == "running":
                    job = self.virsh("blockjob", name, disk["target"], "--info", "--raw", check_rc=False)
                    if job.rc == 0:
                        parsed = parse_blockjob_raw(job.stdout)
                        if parsed:
                            jobs[disk["target"]] = parsed
            disks[disk["target"]] = entry
        return {
            "name": name,
            "uuid": info.get("UUID"),
            "state": status,
            "running": status in ("running", "paused", "in shutdown"),
            "persistent": persistent,
            "xml": xml,
            "disks": disks,
            "jobs": jobs,
        }

    # LVM -----------------------------------------------------------------

    def volume_group(self, vg):
        """``{"name", "size", "free", "extent"}`` in bytes, or None when ``vg`` does not exist."""
        result = self.runner.run(
            ["vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o",
             "vg_name,vg_size,vg_free,vg_extent_size", vg],
            check_rc=False,
        )  # fmt: skip
        if result.rc != 0:
            if "not found" in (result.stderr or ""):
                return None
            raise HostReadError("vgs %s failed (rc=%s): %s" % (vg, result.rc, (result.stderr or "").strip()))
        rows = parse_lvm_rows(result.stdout, ["name", "size", "free", "extent"])
        return rows[0] if rows else None

    def logical_volumes(self, vg):
        """``{lv name: bytes}`` of the logical volumes in ``vg`` (empty when it has none)."""
        result = self.runner.run(
            ["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o", "lv_name,lv_size", vg]
        )
        return {row["name"]: row["size"] for row in parse_lvm_rows(result.stdout, ["name", "size"])}

    # DRBD ----------------------------------------------------------------

    def drbd_version(self):
        """ "8.4" or "9" from the loaded module, None when DRBD is not loaded."""
        text = read_file(PROC_DRBD)
        return parse_proc_drbd(text) if text is not None else None

    def drbd_resources(self):
        """Every resource in this host's DRBD configuration (:func:`.parse.parse_dump_xml`)."""
        result = self.runner.run(["drbdadm", "dump-xml"], check_rc=False)
        if result.rc != 0:
            if _NO_RESOURCES.search(result.stderr or ""):
                return {}
            raise HostReadError("drbdadm dump-xml failed (rc=%s): %s" % (result.rc, (result.stderr or "").strip()))
        return parse_dump_xml(result.stdout)

    def drbd_state(self, resource):
        """Role, connection and disk states of a configured resource; None when the kernel does not know it."""
        role = self.runner.run(["drbdadm", "role", resource], check_rc=False)
        if role.rc != 0:
            return None
        cstate = self.runner.run(["drbdadm", "cstate", resource], check_rc=False)
        dstate = self.runner.run(["drbdadm", "dstate", resource], check_rc=False)
        return parse_drbd_states(role.stdout, cstate.stdout, dstate.stdout)

    # cluster -------------------------------------------------------------

    def quorate(self):
        """True/False from ``corosync-quorumtool -s``; None when corosync does not run here."""
        try:
            result = self.runner.run(["corosync-quorumtool", "-s"], check_rc=False)
        except CommandError:
            return None
        quorum = parse_quorumtool(result.stdout)
        return None if quorum["node_id"] is None else quorum["quorate"]


def config_path(name):
    """Where the cluster's copy of a protected VM's definition lives on both hosts."""
    return "%s/%s.xml" % (CONFIG_DIR, name)


def host_facts(reader, names, vg):
    """Everything protecting ``names`` needs from this host, as one dict (what protected_vm_info returns)."""
    vg_info = reader.volume_group(vg) if vg else None
    return {
        "hypervisor": reader.hypervisor,
        "domains": {name: reader.domain(name) for name in names},
        "vg": vg_info,
        "lvs": reader.logical_volumes(vg) if vg_info else {},
        "drbd_version": reader.drbd_version(),
        "drbd_resources": reader.drbd_resources(),
        "quorate": reader.quorate(),
    }


def facts_from_json(facts):
    """Host facts that travelled through the controller as JSON, with DRBD volume numbers as numbers again.

    JSON has only string keys, so ``drbd_resources[*].hosts[*].volumes`` comes back keyed ``"0"``; the
    planner compares them with this host's own ``0``.
    """
    if not facts:
        return facts
    out = dict(facts)
    resources = {}
    for name, entry in (facts.get("drbd_resources") or {}).items():
        entry = dict(entry)
        hosts = {}
        for host, data in (entry.get("hosts") or {}).items():
            data = dict(data)
            data["volumes"] = {int(vnr): vol for vnr, vol in (data.get("volumes") or {}).items()}
            hosts[host] = data
        entry["hosts"] = hosts
        resources[name] = entry
    out["drbd_resources"] = resources
    return out

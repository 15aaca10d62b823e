# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The resource file ``/etc/drbd.d/vm-<vm>.res`` of one protected VM.

:func:`build_resource` makes a :class:`ResourceSpec` from the site model's
pair and :func:`.allocation.allocate`'s numbers; :func:`render_resource`
writes it in DRBD 8.4 or 9 syntax. :meth:`ResourceSpec.expected` is what
:func:`.parse.parse_dump_xml` would read back from the file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import (
    SECRET_ALG,
    DrbdError,
    check_secret,
    check_vm_name,
    level_settings,
    lv_path,
    normalize_version,
    resource_name,
    resource_path,
    secret_digest,
)

_NODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PING_INT_RANGE = (1, 120)  # seconds
PING_TIMEOUT_RANGE = (1, 300)  # tenths of a second


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
        """The :func:`.parse.parse_dump_xml` entry drbdadm would report for the rendered file
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
    """A :class:`ResourceSpec` from the site model's pair and :func:`.allocation.allocate`'s entry for the VM.

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

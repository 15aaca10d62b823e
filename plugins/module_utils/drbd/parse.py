# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the hosts already have: ``drbdadm dump-xml`` read into plain data, and
how it differs from a :class:`.config.ResourceSpec`.

Shared secrets are never kept: a parse result holds a salted digest
(:func:`.base.secret_digest`) and the masked value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import ParseError, device_path, secret_digest


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

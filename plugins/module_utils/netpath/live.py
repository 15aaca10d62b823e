# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The live side of a bonded path: what ``ip`` shows, and the ``ip`` commands that make it so.

:func:`parse_links` and :func:`parse_addresses` read ``ip -json -details link show`` and
``ip -json address show`` (iproute2's JSON keys: ``linkinfo.info_kind``, ``info_data.mode``,
``miimon``, ``arp_interval``, ``arp_ip_target``, ``primary``, ``active_slave``, ``ad_lacp_rate``;
``master`` on a member). :func:`plan` compares them with a path spec (see ``render``) and
returns the commands, in the order the kernel needs: the bond with its mode and monitor before any
member, each member down before it is enslaved, the primary after the members, then the bridge
and the addresses. It refuses (and plans nothing) when a step would cut the management connection,
take an interface from another master or from its addresses, or change a bond's mode without
``rebuild``. It never deletes an address it did not add: only those of the ``owned`` record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json


def parse_links(text):
    """``ip -json -details link show`` -> {name: {kind, master, up, operstate, mtu, bond, bond_member}}."""
    out = {}
    for item in json.loads(text or "[]"):
        info = item.get("linkinfo") or {}
        data = info.get("info_data") or {}
        kind = info.get("info_kind")
        bond = None
        if kind == "bond":
            bond = {
                "mode": data.get("mode"),
                "miimon": data.get("miimon") or 0,
                "arp_interval": data.get("arp_interval") or 0,
                "arp_ip_target": list(data.get("arp_ip_target") or []),
                "primary": data.get("primary"),
                "active_slave": data.get("active_slave"),
                "lacp_rate": data.get("ad_lacp_rate"),
            }
        member = info.get("info_slave_data") if info.get("info_slave_kind") == "bond" else None
        out[item["ifname"]] = {
            "kind": kind,
            "master": item.get("master"),
            "up": "UP" in (item.get("flags") or []),
            "operstate": item.get("operstate"),
            "mtu": item.get("mtu"),
            "bond": bond,
            "bond_member": {"state": member.get("state"), "mii_status": member.get("mii_status")} if member else None,
        }
    return out


def normal_cidr(text):
    """``10.10.0.1/24`` in one spelling (IPv6 compressed), ValueError when it is not an address/prefix."""
    value = ipaddress.ip_interface(text)
    if "/" not in str(text):
        raise ValueError("%s has no prefix length" % text)
    return str(value)


def parse_addresses(text):
    """``ip -json address show`` -> {name: [CIDR, ...]}, link-local (scope link) addresses left out."""
    out = {}
    for item in json.loads(text or "[]"):
        out[item["ifname"]] = [
            normal_cidr("%s/%s" % (a["local"], a["prefixlen"]))
            for a in item.get("addr_info") or []
            if a.get("scope") != "link" and "local" in a
        ]
    return out


def interface_with_address(addresses, address):
    """The interface holding IP ``address`` (no prefix), or None."""
    if not address:
        return None
    try:
        wanted = ipaddress.ip_address(address)
    except ValueError:
        return None
    for name, cidrs in sorted(addresses.items()):
        if any(ipaddress.ip_interface(c).ip == wanted for c in cidrs):
            return name
    return None


def _monitor_args(spec):
    if spec["monitor"] == "mii":
        return ["miimon", str(spec["interval_ms"])]
    targets = ",".join(spec["arp_targets"])
    return ["arp_interval", str(spec["interval_ms"]), "arp_ip_target", targets, "arp_validate", "all"]


def _monitor_matches(spec, bond):
    if spec["monitor"] == "mii":
        return bond["miimon"] == spec["interval_ms"] and not bond["arp_interval"]
    return (
        bond["arp_interval"] == spec["interval_ms"]
        and not bond["miimon"]
        and sorted(bond["arp_ip_target"]) == sorted(spec["arp_targets"])
    )


def _stale(spec, addresses, owned):
    """[(interface, CIDR)]: addresses this module added before that the spec no longer puts there."""
    holder = spec["bridge"] or spec["interface"]
    wanted = [normal_cidr(a) for a in spec["addresses"]]
    out = []
    for ifname in sorted(owned or {}):
        for cidr in owned[ifname]:
            if (ifname != holder or cidr not in wanted) and cidr in addresses.get(ifname, []):
                out.append((ifname, cidr))
    return out


def _refusals(spec, links, addresses, owned, mgmt, rebuild):
    """[(message, fix)] that stop the plan; and whether the bond must be rebuilt."""
    bond, bridge = spec["interface"], spec["bridge"]
    out = []

    def refuse(message, fix):
        out.append((message, fix))

    via = "Ansible is connected through %s on %s" % (mgmt[1], mgmt[0]) if mgmt and mgmt[0] else None
    for name in spec["members"]:
        link = links.get(name)
        if link is None or link["master"] == bond:
            continue
        if via and mgmt[0] in (name, link["master"]):
            refuse(
                "%s cannot become a member of %s: %s, and enslaving it would cut that connection." % (name, bond, via),
                "Use another interface for the path, or move the management address off %s first (from a console)."
                % name,
            )
        elif link["master"]:
            refuse(
                "%s cannot become a member of %s: it is already a member of %s." % (name, bond, link["master"]),
                "Release it first (ip link set dev %s nomaster) or choose another interface." % name,
            )
        elif addresses.get(name):
            refuse(
                "%s cannot become a member of %s: it carries %s, which enslaving it would make unusable."
                % (name, bond, ", ".join(addresses[name])),
                "Move or remove those addresses first, or choose another interface.",
            )
    for ifname, kind in ((bond, "bond"), (bridge, "bridge")):
        if ifname and links.get(ifname) and links[ifname]["kind"] != kind:
            refuse(
                "%s exists but is not a %s (it is %s)." % (ifname, kind, links[ifname]["kind"] or "a device"),
                "Choose another name for the %s, or remove %s." % (kind, ifname),
            )
    if via:
        for ifname, cidr in _stale(spec, addresses, owned):
            if interface_with_address({ifname: [cidr]}, mgmt[1]):
                refuse(
                    "%s is no longer wanted on %s, but %s: removing it would cut that connection."
                    % (cidr, ifname, via),
                    "Keep %s in addresses, or move the management connection first." % cidr,
                )
    current = links.get(bond)
    if out or current is None:
        return out, False
    diffs = []
    if current["bond"]["mode"] != spec["mode"]:
        diffs.append("mode %s, not %s" % (current["bond"]["mode"], spec["mode"]))
    if spec["lacp_rate"] and spec["mode"] == "802.3ad" and current["bond"]["lacp_rate"] != spec["lacp_rate"]:
        diffs.append("lacp_rate %s, not %s" % (current["bond"]["lacp_rate"], spec["lacp_rate"]))
    if diffs and not rebuild:
        refuse(
            "%s exists with %s: the kernel changes that only on a bond that is down and has no members."
            % (bond, " and ".join(diffs)),
            "Set rebuild: true to take %s down and make it again (the path stops for a moment), or give the "
            "settings the host runs." % bond,
        )
    elif diffs and via and mgmt[0] in (bond, bridge, current["master"]):
        refuse(
            "%s cannot be rebuilt (%s): %s." % (bond, " and ".join(diffs), via),
            "Rebuild it from a console, or move the management connection to another interface first.",
        )
    if bridge and current["master"] != bridge and via and mgmt[0] == bond:
        refuse(
            "%s cannot become a port of bridge %s: %s, and its addresses would stop working." % (bond, bridge, via),
            "Do it from a console, or move the management connection to another interface first.",
        )
    return out, bool(diffs)


def plan(spec, links, addresses, owned=None, mgmt=None, rebuild=False):
    """``(commands, refusals)``: the ``ip`` argument lists that bring the live state to ``spec``.

    ``links``/``addresses``: :func:`parse_links`/:func:`parse_addresses`. ``owned``: {interface:
    [CIDR]} this module added before (``netpath_render.owned_addresses``). ``mgmt``: (interface,
    address) of the management connection, or None. With refusals, ``commands`` is empty.
    """
    refusals, rebuilding = _refusals(spec, links, addresses, owned, mgmt, rebuild)
    if refusals:
        return [], refusals
    bond, bridge, holder = spec["interface"], spec["bridge"], spec["bridge"] or spec["interface"]
    cmds = []

    def ip(*args):
        cmds.append(["ip"] + [str(a) for a in args])

    current = links.get(bond)
    slaves = sorted(n for n, link in links.items() if current and link["master"] == bond)
    lacp = ["lacp_rate", spec["lacp_rate"]] if spec["lacp_rate"] and spec["mode"] == "802.3ad" else []
    if current is None:
        ip("link", "add", bond, "type", "bond", "mode", spec["mode"], *(_monitor_args(spec) + lacp))
    elif rebuilding:
        ip("link", "set", "dev", bond, "down")
        for name in slaves:
            ip("link", "set", "dev", name, "nomaster")
        ip("link", "set", "dev", bond, "type", "bond", "mode", spec["mode"], *(_monitor_args(spec) + lacp))
        slaves = []
    elif not _monitor_matches(spec, current["bond"]):
        ip("link", "set", "dev", bond, "type", "bond", *_monitor_args(spec))
    if spec["mtu"] and (current is None or current["mtu"] != spec["mtu"]):
        ip("link", "set", "dev", bond, "mtu", spec["mtu"])
    for name in slaves:
        if name not in spec["members"]:
            ip("link", "set", "dev", name, "nomaster")
    for name in spec["members"]:
        if name in links and name not in slaves:
            ip("link", "set", "dev", name, "down")
            ip("link", "set", "dev", name, "master", bond)
            ip("link", "set", "dev", name, "up")
    if spec["primary"] and (current is None or rebuilding or current["bond"]["primary"] != spec["primary"]):
        ip("link", "set", "dev", bond, "type", "bond", "primary", spec["primary"])
    if current is None or rebuilding or not current["up"]:
        ip("link", "set", "dev", bond, "up")
    if bridge:
        if bridge not in links:
            ip("link", "add", bridge, "type", "bridge", "stp_state", 0)
        if spec["mtu"] and (bridge not in links or links[bridge]["mtu"] != spec["mtu"]):
            ip("link", "set", "dev", bridge, "mtu", spec["mtu"])
        if current is None or current["master"] != bridge:
            ip("link", "set", "dev", bond, "master", bridge)
        if bridge not in links or not links[bridge]["up"]:
            ip("link", "set", "dev", bridge, "up")
    for ifname, cidr in _stale(spec, addresses, owned):
        ip("address", "del", cidr, "dev", ifname)
    for cidr in [normal_cidr(a) for a in spec["addresses"]]:
        if cidr not in addresses.get(holder, []):
            ip("address", "add", cidr, "dev", holder)
    return cmds, []

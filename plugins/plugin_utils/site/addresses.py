# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The address logic of the site model, with netaddr: link networks and host addresses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # the action plugin reports it with the fix
    netaddr = None
    HAS_NETADDR = False

_CIDR_RE = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")
_ADDRESS_ERRORS = (ValueError, TypeError) + ((netaddr.AddrFormatError,) if HAS_NETADDR else ())


def parse_network(text):
    """netaddr.IPNetwork for 'ADDRESS/PREFIX' without host bits; raises ValueError saying why.

    The address part is parsed as strictly as parse_address (every netaddr version alike).
    """
    if not isinstance(text, str) or not _CIDR_RE.match(text):
        raise ValueError("not ADDRESS/PREFIX")
    address_text, _slash, prefix_text = text.partition("/")
    address = parse_address(address_text)
    prefix = int(prefix_text)
    if prefix > (32 if address.version == 4 else 128):
        raise ValueError("prefix length %d is too long for IPv%d" % (prefix, address.version))
    network = netaddr.IPNetwork("%s/%d" % (address, prefix))
    if network.network != address:
        raise ValueError("host bits set; the network is %s" % network.cidr)
    return network


def parse_address(text):
    """netaddr.IPAddress for a plain IPv4/IPv6 address (no prefix length); raises ValueError."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    try:
        return netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except _ADDRESS_ERRORS as exc:
        raise ValueError(str(exc)) from exc


def overlaps(one, other):
    return one.version == other.version and one.first <= other.last and other.first <= one.last


def check_network(chk, where, var, name, text, seen_networks):
    """A link's network: valid CIDR, no overlap with the pair's other links. Returns it or None.

    seen_networks: [(link name, IPNetwork)] of the pair's links so far, appended here.
    """
    chk.check = "addresses"
    try:
        network = parse_network(text)
    except ValueError as exc:
        chk.add(
            where,
            var + ".network",
            "%r is not a network in CIDR form (%s)." % (text, exc),
            "Write it like 10.10.0.0/24.",
        )
        return None
    for other_name, other in seen_networks:
        if overlaps(network, other):
            chk.add(
                where,
                var + ".network",
                "%s overlaps link %s (%s): two links on one network are one path, not two."
                % (network, other_name, other),
                "Put each link on its own network.",
            )
    seen_networks.append((name, network))
    return network


def check_address(chk, hwhere, hvar, host, name, pair, network, entry, site_addresses):
    """A host's address on a link: an IP inside the network, not its network/broadcast address,
    unique in the site. Returns the IPAddress or None.

    site_addresses: {(version, int): 'HOST on LINK of pair P'} over the whole site, filled here.
    """
    chk.check = "addresses"
    try:
        address = parse_address(entry.get("address"))
    except ValueError:
        chk.add(
            hwhere,
            hvar + ".address",
            "%r is not an IP address." % (entry.get("address"),),
            "Give the host's address on %s, without a prefix length." % name,
        )
        return None
    if network is not None:
        if address.version != network.version or address not in network:
            chk.add(
                hwhere,
                hvar + ".address",
                "%s is not inside %s's network %s." % (address, name, network),
                "Use an address from %s or correct the network." % network,
            )
        elif network.size > 2 and (
            address == network.network or (network.version == 4 and address == network.broadcast)
        ):
            chk.add(
                hwhere,
                hvar + ".address",
                "%s is the network or broadcast address of %s." % (address, network),
                "Use a host address.",
            )
    key = (address.version, int(address))
    if key in site_addresses:
        chk.add(
            hwhere,
            hvar + ".address",
            "%s is already used by %s." % (address, site_addresses[key]),
            "Give every host its own address on each link; addresses are unique in the whole site.",
        )
    else:
        site_addresses[key] = "%s on %s of pair %s" % (host, name, pair)
    return address

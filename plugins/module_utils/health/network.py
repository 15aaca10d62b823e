# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The bonded links of a pair host: which members are up, which one carries the
traffic, and what is missing.

Read from ``/proc/net/bonding/BOND`` (the bonding driver's status file, the same
text since Linux 2.6; the unit tests use captures of Debian 12's kernel 6.1 in
the real-kernel lab). The knet links are corosync's: ``corosync`` judges them.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import WARNING, finding

BONDING_DIR = "/proc/net/bonding"
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9 ()/._-]*?):\s*(.*?)\s*$")


def parse_bonding(text):
    """``/proc/net/bonding/BOND`` -> {mode, active, primary, mii_status, members: [...]}.

    Each member: ``name``, ``up`` (MII Status: up), ``speed_mbps`` (None when
    unknown) and ``link_failures``.
    """
    bond = {"mode": None, "active": None, "primary": None, "mii_status": None, "members": []}
    current = None
    for line in (text or "").splitlines():
        match = _KEY_VALUE.match(line.strip())
        if not match:
            continue
        key, value = match.groups()
        if key == "Slave Interface":
            current = {"name": value, "up": False, "speed_mbps": None, "link_failures": None}
            bond["members"].append(current)
        elif current is None:
            if key == "Bonding Mode":
                bond["mode"] = value
            elif key == "Currently Active Slave":
                bond["active"] = None if value == "None" else value
            elif key == "Primary Slave":
                bond["primary"] = None if value == "None" else value.split()[0]
            elif key == "MII Status":
                bond["mii_status"] = value
        elif key == "MII Status":
            current["up"] = value == "up"
        elif key == "Speed":
            speed = value.split()[0]
            current["speed_mbps"] = int(speed) if speed.isdigit() else None
        elif key == "Link Failure Count":
            current["link_failures"] = int(value) if value.isdigit() else None
    return bond


def bond_facts(links, host, read):
    """One fact dict per bonded link of ``host`` in the site model's ``links``.

    ``read(path)`` returns a file's text, or None when it does not exist.
    """
    out = []
    for link in links:
        entry = (link.get("hosts") or {}).get(host) or {}
        if not entry.get("members"):
            continue
        iface = entry["interface"]
        text = read("%s/%s" % (BONDING_DIR, iface))
        parsed = parse_bonding(text) if text is not None else None
        members = parsed["members"] if parsed else []
        present = {m["name"] for m in members}
        out.append(
            {
                "link": link["name"],
                "interface": iface,
                "exists": parsed is not None,
                "mode": parsed["mode"] if parsed else None,
                "active": parsed["active"] if parsed else None,
                "members": members,
                "members_up": [m["name"] for m in members if m["up"]],
                "missing_members": [m for m in entry["members"] if m not in present],
                "redundant": parsed is not None
                and len([m for m in members if m["up"]]) >= 2
                and not [m for m in entry["members"] if m not in present],
            }
        )
    return out


def bond_findings(bonds):
    """A bond that is missing, runs on one member, or lacks a member the site model lists."""
    out = []
    for bond in bonds:
        subject = "%s (link %s)" % (bond["interface"], bond["link"])
        if not bond["exists"]:
            out.append(
                finding(
                    WARNING,
                    "network",
                    subject,
                    "bond %s of link %s does not exist on this host" % (bond["interface"], bond["link"]),
                    "Run site.yml (the network role makes it), or check vmpair_links.",
                )
            )
            continue
        for name in bond["missing_members"]:
            out.append(
                finding(
                    WARNING,
                    "network",
                    subject,
                    "%s is not a member of bond %s (link %s)" % (name, bond["interface"], bond["link"]),
                    "Run site.yml, or ip link set %s master %s." % (name, bond["interface"]),
                )
            )
        down = [m for m in bond["members"] if not m["up"]]
        if not bond["members_up"]:
            out.append(
                finding(
                    WARNING,
                    "network",
                    subject,
                    "bond %s (link %s) has no member up: the link is down" % (bond["interface"], bond["link"]),
                    "Check the cables and switch ports of %s; the pair runs on its other links meanwhile."
                    % ", ".join(m["name"] for m in bond["members"]),
                )
            )
        else:
            for member in down:
                out.append(
                    finding(
                        WARNING,
                        "network",
                        subject,
                        "bond %s (link %s) runs on %s alone: %s is down (%s link failures)"
                        % (
                            bond["interface"],
                            bond["link"],
                            ", ".join(bond["members_up"]),
                            member["name"],
                            member["link_failures"] if member["link_failures"] is not None else "?",
                        ),
                        "Check the cable and switch port of %s (ip link show %s; ethtool %s)."
                        % (member["name"], member["name"], member["name"]),
                    )
                )
    return out

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One report per pair from what ``pair_info`` found on each of its hosts.

Findings seen from both hosts are merged (each keeps the hosts that saw it); a
host that did not answer is itself a critical finding. What needs both hosts' view is judged here:
watchdog fencing's property and levels, once sbd runs on both (``health.watchdog.pair_state``). The report has readable
lines (a green line when redundant, otherwise each finding with its fix), the
counts by severity, and whether it reaches the severity that fails the run.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import (
    CRITICAL,
    SEVERITIES,
    at_least,
    finding,
    gaps,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.health import watchdog as state_watchdog

FAIL_ON = ("critical", "warning", "never")
_COMPONENTS = ("host", "cluster", "witness", "fencing", "mirror", "vm", "network", "hypervisor")


def _order(item):
    component = item["component"]
    return (
        -SEVERITIES.index(item["severity"]),
        _COMPONENTS.index(component) if component in _COMPONENTS else len(_COMPONENTS),
        item["subject"],
        item["message"],
    )


def pair_report(pair, seen, missing=(), fail_on="warning"):
    """The report of pair ``pair`` (its name).

    ``seen``: {host: pair_info result} of the hosts that answered; ``missing``:
    the pair's hosts that did not. ``fail_on``: ``critical``, ``warning`` or
    ``never``. Raises ValueError on another ``fail_on``.
    """
    if fail_on not in FAIL_ON:
        raise ValueError("fail_on must be one of %s, not %r" % (", ".join(FAIL_ON), fail_on))
    merged = {}
    for host in sorted(seen):
        for item in (seen[host] or {}).get("findings") or []:
            key = (item["severity"], item["component"], item["subject"], item["message"])
            merged.setdefault(key, dict(item, hosts=[]))["hosts"].append(host)
    for host in sorted(missing):
        item = finding(
            CRITICAL,
            "host",
            host,
            "%s did not answer (unreachable, or pair_info failed there): its side is unknown" % host,
            "Check that %s is powered on and reachable over ssh, then run validate again." % host,
        )
        merged[(CRITICAL, "host", host, item["message"])] = dict(item, hosts=[])
    # Watchdog fencing's property and levels: judged on both hosts' views (sbd must run on both).
    views = {host: (seen[host] or {}).get("watchdog") for host in sorted(seen)}
    _ready, pair_found = state_watchdog.pair_state(list(views.values()), not missing)
    for item in pair_found:
        key = (item["severity"], item["component"], item["subject"], item["message"])
        merged.setdefault(key, dict(item, hosts=[h for h, view in views.items() if view]))
    found = sorted(merged.values(), key=_order)
    missing_now = gaps(found)
    counts = {severity: len([f for f in found if f["severity"] == severity]) for severity in SEVERITIES}
    return {
        "pair": pair,
        "redundant": not missing_now,
        "failed": bool(at_least(found, fail_on)),
        "fail_on": fail_on,
        "checked_from": sorted(seen),
        "counts": counts,
        "findings": found,
        "lines": report_lines(pair, sorted(seen), found, counts),
    }


def report_lines(pair, hosts, found, counts):
    """The readable report: one line when redundant, else each finding and its fix."""
    where = ", ".join(hosts) or "no host"
    missing_now = gaps(found)
    if not missing_now:
        head = "pair %s: every promised redundancy is in place (checked from %s)" % (pair, where)
    else:
        head = "pair %s: NOT REDUNDANT: %d critical, %d warning (checked from %s)" % (
            pair,
            counts[CRITICAL],
            counts["warning"],
            where,
        )
    lines = [head]
    for item in found:
        seen_from = " [%s]" % ", ".join(item["hosts"]) if item["hosts"] and len(hosts) > 1 else ""
        lines.append(
            "%s %s %s: %s%s"
            % (item["severity"].upper(), item["component"], item["subject"], item["message"], seen_from)
        )
        lines.append("    fix: %s" % item["fix"])
    return lines

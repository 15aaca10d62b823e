# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency: the synchronous levels (ha, ft) need replication links with a short round trip."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_LEVEL
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import SYNC_RTT_LIMIT_MS, is_number, names


def sync_rtt_limits(chk, pair, value):
    """vmpair_sync_rtt_limit_ms: {level: ms} over SYNC_RTT_LIMIT_MS; returns the limits in force."""
    limits = dict(SYNC_RTT_LIMIT_MS)
    if value is None:
        return limits
    chk.check = "latency"
    if not isinstance(value, dict):
        chk.add(
            "pair %s" % pair,
            "vmpair_sync_rtt_limit_ms",
            "%r is not a mapping of level to milliseconds." % (value,),
            "Write e.g. {ha: 5, ft: 1}, or leave it out for those defaults.",
        )
        return limits
    for level in sorted(str(k) for k in value):
        ms = value[level]
        if level not in limits or not is_number(ms) or ms <= 0:
            chk.add(
                "pair %s" % pair,
                "vmpair_sync_rtt_limit_ms.%s" % level,
                "%r: only the synchronous levels %s take a limit, a positive number of milliseconds."
                % (ms, " and ".join(sorted(limits))),
                "Write e.g. {ha: 5, ft: 1}.",
            )
        else:
            limits[level] = ms
    return limits


def check_latency(chk, pair, links, vms, limits):
    """Synchronous VMs (ha, ft) must not replicate over a link slower than the level's limit."""
    chk.check = "latency"
    for level in sorted(limits):
        users = [vm["name"] for vm in vms if vm.get("level", DEFAULT_LEVEL) == level]
        if not users:
            continue
        for link in links:
            rtt = link["rtt_ms"]
            if "replication" not in link["carries"] or rtt is None or rtt <= limits[level]:
                continue
            chk.add(
                "pair %s" % pair,
                "vmpair_links[%s].rtt_ms" % link["name"],
                "the link replicates level %s VMs (%s) but its round trip is %s ms, above the %s ms limit for %s: "
                "every write of those VMs would wait for it." % (level, names(users), rtt, limits[level], level),
                "Replicate over a link with a round trip of at most %s ms, give those VMs level recovery, "
                "or raise vmpair_sync_rtt_limit_ms.%s if slower writes are acceptable." % (limits[level], level),
            )

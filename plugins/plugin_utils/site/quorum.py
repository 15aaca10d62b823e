# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who decides after a split: fencing (vmpair_fencing) and the witness (vmpair_witness)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import (
    DEFAULTS,
    WITNESSES_GROUP,
    is_int,
    pair_value,
)

_AGENT_RE = re.compile(r"^fence_[A-Za-z0-9_]+$")


def check_fencing(chk, pair, hosts, fencing):
    where = "pair %s" % pair
    chk.check = "fencing"
    if not isinstance(fencing, dict):
        chk.add(
            where,
            "vmpair_fencing",
            "is missing: without fencing a split cannot be resolved safely.",
            "Give each host of the pair a fence device: {HOST: {agent: fence_ipmilan, options: {...}}}.",
        )
        return {}
    out = {}
    for extra in sorted(str(h) for h in set(fencing) - set(hosts)):
        chk.add(
            where,
            "vmpair_fencing." + extra,
            "%s is not a host of this pair." % extra,
            "Key vmpair_fencing by the pair's host names: %s." % ", ".join(hosts),
        )
    for host in hosts:
        entry = fencing.get(host)
        var = "vmpair_fencing.%s" % host
        if not isinstance(entry, dict):
            chk.add(
                "%s host %s" % (where, host),
                var,
                "no fence device for %s: without fencing a split cannot be resolved safely." % host,
                "Add {agent: fence_ipmilan, options: {...}} (or fence_redfish, fence_sbd) for %s." % host,
            )
            continue
        agent = entry.get("agent")
        if not isinstance(agent, str) or not _AGENT_RE.match(agent):
            chk.add(
                "%s host %s" % (where, host),
                var + ".agent",
                "%r is not a fence agent name." % (agent,),
                "Name an agent such as fence_ipmilan, fence_redfish or fence_sbd.",
            )
        options = entry.get("options", {})
        if not isinstance(options, dict):
            chk.add(
                "%s host %s" % (where, host),
                var + ".options",
                "is not a mapping.",
                "Give the agent's options as key: value pairs.",
            )
        out[host] = {"agent": agent}
    return out


def check_witness(chk, pair, hosts, hostvars, witnesses, sites, name):
    """The pair's witness description, or None (two_node)."""
    where = "pair %s" % pair
    chk.check = "witness"
    if name is None:
        if len({s for s in sites.values() if s}) > 1:
            chk.add(
                where,
                "vmpair_witness",
                "the hosts are on different sites (%s) but the pair has no witness: after a split between sites "
                "both halves would claim the VMs." % ", ".join("%s=%s" % item for item in sorted(sites.items())),
                "Set vmpair_witness to a host of the vmpair_witnesses group on a third site.",
            )
        return None
    if name not in witnesses:
        chk.add(
            where,
            "vmpair_witness",
            "%s is not in the %s group." % (name, WITNESSES_GROUP),
            "Add %s to %s or name a host that is there (%s)."
            % (name, WITNESSES_GROUP, ", ".join(sorted(witnesses)) or "none yet"),
        )
        return None
    wvars = hostvars.get(name, {})
    wsite = wvars.get("vmpair_site")
    if wsite is not None and wsite in sites.values():
        chk.add(
            "witness %s" % name,
            "vmpair_site",
            "the witness is on site %s, like a host of pair %s: losing that site loses two votes of three."
            % (wsite, pair),
            "Run the witness on a third site.",
        )
    port = wvars.get("vmpair_witness_port", DEFAULTS["vmpair_witness_port"])
    if not is_int(port) or not 0 < port < 65536:
        chk.add(
            "witness %s" % name,
            "vmpair_witness_port",
            "%r is not a TCP port." % (port,),
            "Use a port number, 5403 by default.",
        )
    return {
        "host": name,
        "address": str(wvars.get("vmpair_witness_address") or wvars.get("ansible_host") or name),
        "port": port,
        "algorithm": pair_value(hostvars, hosts, "vmpair_witness_algorithm"),
        "tie_breaker": str(pair_value(hostvars, hosts, "vmpair_witness_tie_breaker")),
    }


def warn_two_node(chk, pair, hosts, winner, delay):
    """A pair without a witness works, but a split becomes a fence race: say what that means."""
    chk.check = "witness"
    others = [h for h in hosts if h != winner]
    chk.warn(
        "pair %s" % pair,
        "vmpair_witness",
        "the pair has no witness, so it runs corosync two_node: when every cluster link fails, both hosts keep "
        "quorum and race to fence each other. %s wins because fencing it waits %s s (vmpair_fence_delay), even "
        "when it is the host that lost its links; if fencing fails too (fence devices behind the same links), "
        "neither host can take over the other's VMs." % (winner, delay),
        "Add a witness on a third site (vmpair_witness, a host of %s) so that the host that still reaches it "
        "keeps quorum and %s is fenced without a race; or accept the race and choose its winner with "
        "vmpair_fence_race_winner." % (WITNESSES_GROUP, " or ".join(others) or "the other"),
    )


def warn_unused_witnesses(chk, witnesses, used):
    chk.check = "witness"
    for host in witnesses:
        if host in used:
            continue
        chk.warn(
            "witness %s" % host,
            "vmpair_witness",
            "%s is in %s but no pair names it as vmpair_witness: it would run corosync-qnetd for nobody."
            % (host, WITNESSES_GROUP),
            "Set vmpair_witness: %s on the pairs it should serve, or remove it from %s." % (host, WITNESSES_GROUP),
        )

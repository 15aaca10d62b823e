# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who decides after a split: fencing (vmpair_fencing) and the witness (vmpair_witness)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import (
    DEFAULTS,
    WITNESSES_GROUP,
    is_int,
    pair_value,
    whole_number,
)

_AGENT_RE = re.compile(r"^fence_[A-Za-z0-9_]+$")
_MODULE_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def _fence_entries(chk, where, host, var, entry):
    """A host's vmpair_fencing value as a list of device mappings (one mapping: one device)."""
    if isinstance(entry, dict):
        return [entry]
    if isinstance(entry, list) and entry and all(isinstance(e, dict) for e in entry):
        return entry
    chk.add(
        where,
        var,
        "no fence device for %s: without fencing a split cannot be resolved safely." % host,
        "Add {agent: fence_ipmilan, options: {...}} (or fence_redfish) for %s, or a list of devices tried in "
        "order: [{agent: fence_ipmilan, ...}, {agent: fence_apc_snmp, ...}]." % host,
    )
    return []


def _check_device(chk, where, var, device):
    agent = device.get("agent")
    if not isinstance(agent, str) or not _AGENT_RE.match(agent):
        chk.add(
            where,
            var + ".agent",
            "%r is not a fence agent name." % (agent,),
            "Name an agent such as fence_ipmilan, fence_redfish or fence_apc_snmp.",
        )
    elif agent in (vocabulary.WATCHDOG_AGENT, "fence_sbd"):
        chk.add(
            where,
            var + ".agent",
            "%s is not a device to list here: watchdog self-fencing (diskless SBD) is the pair's last level." % agent,
            "Remove it and set vmpair_watchdog_fencing: true (docs/operations.md, A whole site lost).",
        )
    if not isinstance(device.get("options", {}), dict):
        chk.add(where, var + ".options", "is not a mapping.", "Give the agent's options as key: value pairs.")
    level = device.get("level")
    if level is not None and (not is_int(level) or not 1 <= level <= 9):
        chk.add(
            where,
            var + ".level",
            "%r is not a fence level (1-9)." % (level,),
            "Leave it out (the devices are tried in list order) or give 1-9; devices with the same level must "
            "all succeed together (two power supplies).",
        )
        level = None
    return agent, level


def check_fencing(chk, pair, hosts, fencing, node_names=None):
    """Each host's fence devices and levels, by host.

    vmpair_fencing[HOST] is one device ``{agent, options}`` or a list of them, tried in order (level 1,
    2, ...; ``level: N`` puts devices on one level, where all must succeed). The first device keeps the
    name fence_NODE (vocabulary.fence_device_id), so a pair set up with one device keeps it. Returns
    ``{host: {agent, devices: [{id, agent, level, index}], levels: [[id, ...], ...]}}``; the options
    (passwords) stay in vmpair_fencing, never in the model.
    """
    where = "pair %s" % pair
    node_names = node_names or {}
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
        hwhere = "%s host %s" % (where, host)
        var = "vmpair_fencing.%s" % host
        entries = _fence_entries(chk, hwhere, host, var, fencing.get(host))
        devices = []
        for index, device in enumerate(entries):
            dvar = var if isinstance(fencing.get(host), dict) else "%s[%d]" % (var, index)
            agent, level = _check_device(chk, hwhere, dvar, device)
            devices.append(
                {
                    "id": vocabulary.fence_device_id(node_names.get(host, host), index),
                    "agent": agent,
                    "level": level,
                    "index": index,
                }
            )
        # Devices without a level follow the last level given before them.
        next_level = 1
        for device in devices:
            if device["level"] is None:
                device["level"] = next_level
            next_level = device["level"] + 1
        levels = [
            [d["id"] for d in devices if d["level"] == number] for number in sorted({d["level"] for d in devices})
        ]
        out[host] = {"agent": devices[0]["agent"] if devices else None, "devices": devices, "levels": levels}
    return out


def check_watchdog(chk, pair, hosts, hostvars, sites, witness, witness_reported=False):
    """Watchdog self-fencing (diskless SBD) as each host's last fence level, or None.

    Needs the witness: in a two_node pair both halves of a split keep quorum, so neither resets
    itself, and each would take the other's VMs after the wait. The SBD watchdog timeout must be
    longer than qdevice's sync_timeout (a host cut off from peer and witness can stay quorate that
    long); the survivor waits twice the watchdog timeout (stonith-watchdog-timeout) before it takes
    the lost host's VMs. Warns when the hosts are on different sites without it: a lost site (host and
    BMC together) then waits for a human. `witness_reported`: the witness check already reported why
    the pair has none (not repeated here).
    """
    where = "pair %s" % pair
    chk.check = "fencing"
    enabled = pair_value(hostvars, hosts, "vmpair_watchdog_fencing")
    if not isinstance(enabled, bool):
        chk.add(where, "vmpair_watchdog_fencing", "%r is not true or false." % (enabled,), "Use true or false.")
        return None
    if not enabled:
        if len({s for s in sites.values() if s}) > 1:
            chk.warn(
                where,
                "vmpair_watchdog_fencing",
                "the hosts are on different sites (%s) and each can be fenced only through its own devices: when a "
                "whole site is lost (host and BMC together), fencing it fails and its VMs stay down until someone "
                "confirms by hand (stonith_admin --confirm)."
                % ", ".join("%s=%s" % item for item in sorted(sites.items())),
                "Add watchdog self-fencing as the last level: vmpair_watchdog_fencing: true with a hardware watchdog "
                "on each host (docs/operations.md, A whole site lost).",
            )
        return None
    if witness is None and not witness_reported:
        chk.add(
            where,
            "vmpair_watchdog_fencing",
            "watchdog self-fencing needs a witness: without one both halves of a split keep quorum, neither resets "
            "itself, and each would take the other's VMs once the wait is over.",
            "Set vmpair_witness to a host of %s on a third site." % WITNESSES_GROUP,
        )
    ok = witness is not None
    device = pair_value(hostvars, hosts, "vmpair_watchdog_device")
    if not isinstance(device, str) or not device.startswith("/dev/"):
        chk.add(
            where,
            "vmpair_watchdog_device",
            "%r is not a device path." % (device,),
            "Leave it out (/dev/watchdog) or name the watchdog device, e.g. /dev/watchdog0.",
        )
        ok = False
    module = pair_value(hostvars, hosts, "vmpair_watchdog_module")
    if not isinstance(module, str) or (module and not _MODULE_RE.match(module)):
        chk.add(
            where,
            "vmpair_watchdog_module",
            "%r is not a kernel module name." % (module,),
            "Leave it empty (the hardware's driver loads itself) or name the driver: iTCO_wdt, ipmi_watchdog, "
            "i6300esb, or softdog where a software watchdog is accepted (docs/operations.md).",
        )
        ok = False
    given = pair_value(hostvars, hosts, "vmpair_watchdog_timeout")
    timeout = whole_number(given)
    least = vocabulary.QDEVICE_SYNC_TIMEOUT_S + 1
    if timeout is None or not least <= timeout <= 120:
        chk.add(
            where,
            "vmpair_watchdog_timeout",
            "%r is outside %d-120 s: a host cut off from its peer and the witness can stay quorate for qdevice's "
            "sync_timeout (%d s), so its watchdog must wait longer than that." % (given, least, least - 1),
            "Leave it out (%d s)." % DEFAULTS["vmpair_watchdog_timeout"],
        )
        ok = False
    if not ok:
        return None
    return {
        "device": device,
        "module": module,
        "timeout": timeout,
        # Pacemaker's stonith-watchdog-timeout: twice the watchdog's, as sbd(8) and Pacemaker advise.
        "stonith_watchdog_timeout": 2 * timeout,
        # stonith-timeout, and the pcmk_reboot/off_timeout of the devices in front of the watchdog:
        # Pacemaker 2.1.5's fencer gives a whole topology 1.2 times the failed device's timeout (the
        # site-loss lab logged "Total timeout set to 480" for 400 s devices: the watchdog's wait is
        # not counted), and a BMC gone with its site often hangs until that timeout (fence_redfish
        # 4.12 sends its requests with no timeout; a lost route is a TCP connect timeout) instead of
        # failing at once. A request also waits for a monitor of the device that runs (at most its
        # monitor timeout). So 1.2 x T must hold the monitor's wait + T + the watchdog's wait + a
        # margin: T = 5 x (monitor + wait + margin), 550 s with the defaults.
        "stonith_timeout": 5 * (vocabulary.FENCE_MONITOR_TIMEOUT_S + 2 * timeout + vocabulary.FENCE_TIMEOUT_MARGIN_S),
        "monitor_timeout": vocabulary.FENCE_MONITOR_TIMEOUT_S,
        "device_id": vocabulary.WATCHDOG_DEVICE_ID,
    }


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

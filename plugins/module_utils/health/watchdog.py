# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Watchdog self-fencing (diskless SBD) as each node's last fence level, read on a pair host.

With the site model's ``pair.watchdog`` set, ``pair_info`` reads on each host whether sbd runs
(``systemctl is-active sbd``), its watchdog (``/etc/default/sbd``: SBD_WATCHDOG_DEV,
SBD_WATCHDOG_TIMEOUT) and, from ``cibadmin --query --scope configuration``, the cluster properties
``have-watchdog``, ``stonith-watchdog-timeout`` and ``stonith-timeout`` and the fencing levels.
:func:`host_findings` judges what one host can judge alone (its sbd, its configuration);
:func:`pair_findings` what needs both hosts' view (the property and the levels, which the cluster
role sets only once sbd runs on both hosts: Pacemaker stops a node that has the property but no sbd).
Without ``pair.watchdog``, :func:`sites_finding` warns when the pair's hosts are on different sites.

Nothing here is critical: the devices in front of the watchdog level still fence; what is lost is
fencing a host whose whole site (host and BMC) is gone without a human.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import INFO, WARNING, finding
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import WATCHDOG_AGENT, WATCHDOG_DEVICE_ID
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import error_text

SBD_CONFIG = "/etc/default/sbd"
COMMANDS = {
    "sbd_active": ["systemctl", "is-active", "sbd"],
    "cib_configuration": ["cibadmin", "--query", "--scope", "configuration"],
}
SITE_LOST_DOC = "docs/operations.md, A whole site lost"

# Pacemaker's interval units (crm_get_msec); a bare number is seconds.
_UNITS = {"ms": 0.001, "msec": 0.001, "us": 1e-6, "usec": 1e-6, "": 1, "s": 1, "sec": 1, "m": 60, "min": 60}
_UNITS.update({"h": 3600, "hr": 3600})
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_duration(text):
    """A Pacemaker interval ("70", "70s", "1min", "70000ms", "-1") in seconds, or None."""
    match = _DURATION.match((text or "").lower())
    if not match or match.group(2) not in _UNITS:
        return None
    value = float(match.group(1)) * _UNITS[match.group(2)]
    return int(value) if value == int(value) else value


def parse_sbd_config(text):
    """``/etc/default/sbd`` (shell variable assignments) -> {name: value}."""
    out = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _sep, value = line.partition("=")
        name = name.strip()
        if name.startswith("export "):
            name = name[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[name] = value
    return out


def parse_cib_configuration(text):
    """``cibadmin --query --scope configuration`` -> ``properties`` (crm_config's cluster options),
    ``levels`` ({target node: [[device, ...], ...]} in index order; levels by pattern or attribute
    are left out) and ``stonith`` ({device id: agent}). Raises ValueError when the text is not CIB XML.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError("cannot parse the CIB's configuration: %s" % exc) from exc
    if root.tag == "cib":
        root = root.find("configuration")
    if root is None or root.tag != "configuration":
        raise ValueError("the CIB's configuration has no <configuration> element")
    properties = {}
    for nvpair in root.findall("./crm_config/cluster_property_set/nvpair"):
        properties.setdefault(nvpair.get("name"), nvpair.get("value") or "")
    by_target = {}
    for level in root.findall("./fencing-topology/fencing-level"):
        target = level.get("target")
        try:
            index = int(level.get("index", ""))
        except ValueError:
            continue
        if target:
            by_target.setdefault(target, {})[index] = [d for d in (level.get("devices") or "").split(",") if d]
    levels = {target: [found[i] for i in sorted(found)] for target, found in by_target.items()}
    stonith = {p.get("id"): p.get("type") for p in root.iter("primitive") if p.get("class") == "stonith"}
    return {"properties": properties, "levels": levels, "stonith": stonith}


def _sbd_facts(output):
    if output is None or output.rc is None:
        return {"active": None, "state": None, "error": error_text(output, "systemctl") if output else None}
    state = (output.stdout or "").strip().splitlines()
    state = state[0].strip() if state else None
    if state is None:
        return {"active": None, "state": None, "error": error_text(output, "systemctl")}
    # systemctl is-active prints the unit's state and exits 0 only for active.
    return {"active": output.rc == 0 and state == "active", "state": state, "error": None}


def _config_facts(text):
    if text is None:
        return {"present": False, "device": None, "timeout": None}
    values = parse_sbd_config(text)
    timeout = values.get("SBD_WATCHDOG_TIMEOUT")
    try:
        timeout = int(timeout) if timeout is not None else None
    except ValueError:
        pass
    return {"present": True, "device": values.get("SBD_WATCHDOG_DEV") or None, "timeout": timeout}


def _cib_facts(output):
    facts = {
        "error": None,
        "have_watchdog": None,
        "stonith_watchdog_timeout": None,
        "stonith_timeout": None,
        "levels": {},
        "device": None,
    }
    if output is None:
        facts["error"] = "the CIB was not read"
        return facts
    if output.rc != 0:
        facts["error"] = error_text(output, "cibadmin")
        return facts
    try:
        parsed = parse_cib_configuration(output.stdout or "")
    except ValueError as exc:
        facts["error"] = str(exc)
        return facts
    props = parsed["properties"]
    facts.update(
        have_watchdog=(props["have-watchdog"].lower() in ("true", "yes", "1", "on"))
        if "have-watchdog" in props
        else None,
        stonith_watchdog_timeout=props.get("stonith-watchdog-timeout"),
        stonith_timeout=props.get("stonith-timeout"),
        levels=parsed["levels"],
        device=parsed["stonith"].get(WATCHDOG_DEVICE_ID),
    )
    return facts


def watchdog_facts(watchdog, outputs, read, node, nodes):
    """This host's view of watchdog fencing, or None when ``watchdog`` (the site model's
    ``pair.watchdog``) is None.

    ``outputs``: the tools' Outputs by :data:`COMMANDS` key; ``read(path)``: a file's text or None;
    ``node``: this host's node name; ``nodes``: the pair's node names. Returns ``expected`` (device,
    timeout, stonith_watchdog_timeout of the site model), ``node``, ``nodes``, ``sbd`` (active,
    state, error), ``config`` (present, device, timeout of /etc/default/sbd) and ``cib``
    (have_watchdog, stonith_watchdog_timeout and stonith_timeout as the CIB has them, levels by
    node, device: the agent of the ``watchdog`` device or None, error).
    """
    if not watchdog:
        return None
    return {
        "expected": {
            "device": watchdog.get("device"),
            "timeout": watchdog.get("timeout"),
            "stonith_watchdog_timeout": watchdog.get("stonith_watchdog_timeout"),
        },
        "node": node,
        "nodes": list(nodes or []),
        "sbd": _sbd_facts(outputs.get("sbd_active")),
        "config": _config_facts(read(SBD_CONFIG)),
        "cib": _cib_facts(outputs.get("cib_configuration")),
    }


def sites_finding(pair):
    """The warning of a pair whose hosts are on different sites without watchdog fencing, or None."""
    if not pair or pair.get("watchdog"):
        return None
    sites = {node.get("site") for node in pair.get("nodes") or [] if node.get("site")}
    if len(sites) < 2:
        return None
    where = ", ".join("%s=%s" % (n["host"], n["site"]) for n in sorted(pair["nodes"], key=lambda n: n["host"]))
    return finding(
        WARNING,
        "fencing",
        "watchdog",
        "the hosts are on different sites (%s) without watchdog self-fencing: when a whole site is lost (host "
        "and its BMC), fencing its host fails and its VMs stay down until someone runs stonith_admin --confirm" % where,
        "Set vmpair_watchdog_fencing: true with a hardware watchdog on each host, then run site.yml (%s)."
        % SITE_LOST_DOC,
    )


def host_findings(facts, cluster_running=True):
    """What this host alone shows: sbd not running here, its watchdog not the site model's.

    ``cluster_running``: corosync runs here; sbd stops with it, and that finding already says so.
    """
    if facts is None:
        return []
    node = facts["node"] or "this host"
    out = []
    sbd = facts["sbd"]
    if not sbd["active"] and cluster_running:
        state = sbd["state"] or sbd["error"] or "unknown"
        out.append(
            finding(
                WARNING,
                "fencing",
                node,
                "sbd is not running on %s (systemctl is-active sbd: %s): the pair fences without the watchdog "
                "level, so losing %s's whole site (host and BMC) needs a human (stonith_admin --confirm)"
                % (node, state, node),
                "sbd starts with the cluster (it cannot be started alone): run rolling_update.yml, or, when %s "
                "runs no VM, restart its cluster (pcs cluster stop; pcs cluster start), then run site.yml; "
                "journalctl -u sbd says why it stopped." % node,
            )
        )
    config = facts["config"]
    expected = facts["expected"]
    if not config["present"]:
        differs = "has no %s" % SBD_CONFIG
    else:
        wrong = []
        if config["device"] != expected["device"]:
            wrong.append("SBD_WATCHDOG_DEV=%s (the site model: %s)" % (config["device"], expected["device"]))
        if config["timeout"] != expected["timeout"]:
            wrong.append("SBD_WATCHDOG_TIMEOUT=%s (the site model: %s)" % (config["timeout"], expected["timeout"]))
        differs = "%s has %s" % (SBD_CONFIG, " and ".join(wrong)) if wrong else None
    if differs:
        out.append(
            finding(
                WARNING,
                "fencing",
                node,
                "%s's watchdog is not what the site model asks: %s" % (node, differs),
                "Run site.yml (it writes %s), then restart the cluster of %s so that sbd reads it "
                "(rolling_update.yml, or pcs cluster stop; pcs cluster start when it runs no VM)." % (SBD_CONFIG, node),
            )
        )
    return out


def _cib_view(views):
    """The first view whose CIB was read."""
    for view in views:
        if not view["cib"]["error"]:
            return view
    return None


def pair_state(views, complete):
    """(ready, findings) of the pair from its hosts' :func:`watchdog_facts` (``views``, one per host
    that answered); ``complete``: every host of the pair answered.

    ``ready``: sbd runs on every host and the CIB has the site model's stonith-watchdog-timeout and
    ``watchdog`` as each node's last level. The findings (property, levels, or an info when ready) are
    made only when sbd runs on every host: until then the cluster role leaves them out on purpose and
    the host's own finding (sbd not running) says what to do.
    """
    views = [v for v in views if v]
    if not views or not complete or len(views) < 2 or not all(v["sbd"]["active"] for v in views):
        return False, []
    view = _cib_view(views)
    if view is None:
        return False, []
    cib = view["cib"]
    expected = view["expected"]["stonith_watchdog_timeout"]
    out = []
    swt = cib["stonith_watchdog_timeout"]
    seconds = parse_duration(swt)
    if seconds is not None and seconds < 0:
        # Pacemaker's "auto": twice SBD_WATCHDOG_TIMEOUT.
        seconds = 2 * (view["config"]["timeout"] or view["expected"]["timeout"] or 0)
    if seconds != expected:
        out.append(
            finding(
                WARNING,
                "fencing",
                "stonith-watchdog-timeout",
                "sbd runs on both hosts but stonith-watchdog-timeout is %s, not %s s: the watchdog level %s"
                % (
                    "not set" if swt is None else swt,
                    expected,
                    "is ignored (the fencer disables the watchdog device without it)"
                    if not seconds
                    else "waits a time that does not match the hosts' watchdogs",
                ),
                "Run site.yml (it sets stonith-watchdog-timeout=%s once sbd runs on both hosts)." % expected,
            )
        )
    for node in view["nodes"]:
        levels = cib["levels"].get(node) or []
        if levels and levels[-1] == [WATCHDOG_DEVICE_ID]:
            continue
        out.append(
            finding(
                WARNING,
                "fencing",
                node,
                "sbd runs on both hosts but %s's fence levels do not end with %s (%s): when its whole site is "
                "lost, fencing it fails and its VMs wait for a human"
                % (
                    node,
                    WATCHDOG_DEVICE_ID,
                    "levels: " + "; ".join(",".join(level) for level in levels) if levels else "no levels",
                ),
                "Run site.yml (it adds the %s level once sbd runs on both hosts); pcs stonith level config shows "
                "them." % WATCHDOG_DEVICE_ID,
            )
        )
    if cib["device"] != WATCHDOG_AGENT:
        out.append(
            finding(
                WARNING,
                "fencing",
                WATCHDOG_DEVICE_ID,
                "sbd runs on both hosts but the CIB has no fence device %s of agent %s%s"
                % (
                    WATCHDOG_DEVICE_ID,
                    WATCHDOG_AGENT,
                    "" if cib["device"] is None else " (its agent: %s)" % cib["device"],
                ),
                "Run site.yml (it creates the %s device with the levels)." % WATCHDOG_DEVICE_ID,
            )
        )
    if out:
        return False, out
    return True, [
        finding(
            INFO,
            "fencing",
            WATCHDOG_DEVICE_ID,
            "watchdog self-fencing is ready: sbd runs on both hosts, each node's last fence level is %s, "
            "stonith-watchdog-timeout is %s s" % (WATCHDOG_DEVICE_ID, expected),
            "Nothing to do.",
        )
    ]

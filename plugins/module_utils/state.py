# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read the live state of a pair host from the cluster tools' output.

Pure functions only: every parser takes the text a tool printed (run with
``LANG=C``) and returns plain dicts and lists; :func:`build_facts` combines
the outputs of all tools into the facts ``duplex.vmpair.pair_info`` returns,
and :func:`problems` turns those facts into plain-English problems.

The formats are those of Debian 12: corosync 3.1 (knet), corosync-qdevice
3.0 and Pacemaker 2.1.5 (``crm_mon --output-as=xml``, API 2.25). The unit
tests run every parser on outputs captured from a real cluster in
``tests/unit/fixtures/state``.

A tool's result is passed around as an :class:`Output`: ``rc`` is None when
the program is not installed.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import collections
import re
import xml.etree.ElementTree as ET

Output = collections.namedtuple("Output", ["rc", "stdout", "stderr"])

# The commands pair_info runs, by the key build_facts() expects.
COMMANDS = collections.OrderedDict(
    [
        ("quorumtool", ["corosync-quorumtool", "-s"]),
        ("cfgtool", ["corosync-cfgtool", "-s"]),
        ("cmapctl_device", ["corosync-cmapctl", "-g", "quorum.device.model"]),
        ("qdevicetool", ["corosync-qdevice-tool", "-sv"]),
        ("crm_mon", ["crm_mon", "--output-as=xml", "-1", "--inactive"]),
    ]
)

# Debian packages that ship each program, for "not installed" messages.
PACKAGES = {
    "corosync-quorumtool": "corosync",
    "corosync-cfgtool": "corosync",
    "corosync-cmapctl": "corosync",
    "corosync-qdevice-tool": "corosync-qdevice",
    "crm_mon": "pacemaker-cli-utils",
}

# corosync-quorumtool -s exits 2 (with the full status) when not quorate.
QUORUMTOOL_NOT_QUORATE = 2
# crm_mon's exit code (and <status code>) when it cannot reach the cluster.
CRM_MON_NOT_CONNECTED = 102

_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9 ./-]*?):\s*(.*?)\s*$")
_LINK_HEADER = re.compile(r"^LINK ID (\d+)\s*(\S*)")
_LINK_ADDR = re.compile(r"^\s+addr\s*=\s*(\S+)")
_LINK_NODE = re.compile(r"^\s+nodeid:\s*(\d+):\s*(.*?)\s*$")
_LOCAL_NODE = re.compile(r"^Local node ID (\d+), transport (\S+)")
_QDEVICE_ROW_VOTES = re.compile(r"\(votes (\d+)\)")
_CMAP_VALUE = re.compile(r"^\S+ \((\w+)\) = (.*)$")


def not_installed(program):
    """The message for a program that is missing on the host."""
    return "%s is not installed (Debian package %s)" % (program, PACKAGES.get(program, program))


def _error_text(output, program):
    if output.rc is None:
        return not_installed(program)
    text = (output.stderr or "").strip() or (output.stdout or "").strip()
    return "%s exited with %s%s" % (program, output.rc, ": " + text if text else "")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool_attr(element, name):
    return element.get(name) == "true"


def _yes(value):
    return (value or "").strip().lower().startswith("yes")


# ---------------------------------------------------------------------------
# corosync-quorumtool -s


def parse_quorumtool(text):
    """Parse ``corosync-quorumtool -s``.

    Returns ``quorate``, ``node_id``, ``ring_id``, ``nodes`` (members
    count), ``expected_votes``, ``highest_expected``, ``total_votes``,
    ``quorum``, ``activity_blocked``, ``flags`` (list), ``members`` (without
    the Qdevice row) and ``qdevice_votes``: the votes the Qdevice row counts
    now (None when there is no Qdevice row; 0 with its configured votes in
    ``qdevice_configured_votes`` when its vote is not counted).
    """
    values = {}
    members = []
    qdevice_votes = None
    qdevice_configured_votes = None
    name_col = None
    has_qdevice_col = False
    in_members = False
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        if line.startswith("Membership information"):
            in_members = True
            continue
        if in_members:
            if line.strip().startswith("Nodeid"):
                name_col = line.index("Name")
                has_qdevice_col = "Qdevice" in line[:name_col]
                continue
            if name_col is None:
                continue
            fields = line[:name_col].split()
            name = line[name_col:].strip()
            nodeid = _int(fields[0]) if fields else None
            votes = _int(fields[1]) if len(fields) > 1 else None
            if nodeid == 0 and name.startswith("Qdevice"):
                qdevice_votes = votes
                match = _QDEVICE_ROW_VOTES.search(name)
                qdevice_configured_votes = int(match.group(1)) if match else votes
                continue
            local = name.endswith("(local)")
            if local:
                name = name[: -len("(local)")].strip()
            flags = fields[2].split(",") if has_qdevice_col and len(fields) > 2 else []
            members.append({"nodeid": nodeid, "votes": votes, "qdevice_flags": flags, "name": name, "local": local})
            continue
        match = _KEY_VALUE.match(line)
        if match:
            values[match.group(1)] = match.group(2)

    quorum_text = values.get("Quorum", "")
    quorum_fields = quorum_text.split(None, 1)
    return {
        "provider": values.get("Quorum provider"),
        "quorate": _yes(values.get("Quorate")),
        "node_id": _int(values.get("Node ID")),
        "ring_id": values.get("Ring ID"),
        "nodes": _int(values.get("Nodes")),
        "expected_votes": _int(values.get("Expected votes")),
        "highest_expected": _int(values.get("Highest expected")),
        "total_votes": _int(values.get("Total votes")),
        "quorum": _int(quorum_fields[0]) if quorum_fields else None,
        "activity_blocked": "Activity blocked" in quorum_text,
        "flags": values.get("Flags", "").split(),
        "members": members,
        "qdevice_votes": qdevice_votes,
        "qdevice_configured_votes": qdevice_configured_votes,
    }


# ---------------------------------------------------------------------------
# corosync-cfgtool -s


def parse_cfgtool(text):
    """Parse ``corosync-cfgtool -s`` (knet).

    Returns ``node_id``, ``transport`` and ``links``: one entry per link id
    with the local ``address`` and ``peers`` (every other node id of the
    nodelist with its ``status`` text and ``connected`` bool). ``-s`` lists
    every configured node, also the unreachable ones (``-n`` leaves those out).
    """
    node_id = None
    transport = None
    links = []
    current = None
    for line in text.splitlines():
        match = _LOCAL_NODE.match(line)
        if match:
            node_id, transport = int(match.group(1)), match.group(2)
            continue
        match = _LINK_HEADER.match(line)
        if match:
            current = {"id": int(match.group(1)), "transport": match.group(2) or None, "address": None, "peers": []}
            links.append(current)
            continue
        if current is None:
            continue
        match = _LINK_ADDR.match(line)
        if match:
            current["address"] = match.group(1)
            continue
        match = _LINK_NODE.match(line)
        if match:
            status = match.group(2)
            if status == "localhost":
                continue
            current["peers"].append(
                {"nodeid": int(match.group(1)), "status": status, "connected": status == "connected"}
            )
    return {"node_id": node_id, "transport": transport, "links": links}


# ---------------------------------------------------------------------------
# corosync-qdevice-tool -sv, corosync-cmapctl -g


def parse_qdevice_tool(text):
    """Parse ``corosync-qdevice-tool -s`` or ``-sv`` (model net).

    ``connected`` is the connection to qnetd (State: Connected); ``cast_vote``
    (only with ``-sv``) is True when qdevice currently casts its vote for this
    partition ("Poll timer running: Yes (cast vote)").
    """
    values = {}
    for line in text.splitlines():
        match = _KEY_VALUE.match(line)
        if match and match.group(2):
            values.setdefault(match.group(1), match.group(2))
    host, port = values.get("QNetd host"), None
    if host and ":" in host:
        host, _sep, port_text = host.rpartition(":")
        port = _int(port_text)
    state = values.get("State")
    poll = values.get("Poll timer running")
    tls_active = values.get("TLS active")
    return {
        "model": (values.get("Model") or "").lower() or None,
        "node_id": _int(values.get("Node ID")),
        "cluster_name": values.get("Cluster name"),
        "qnetd_host": host,
        "qnetd_port": port,
        "algorithm": values.get("Algorithm"),
        "tie_breaker": values.get("Tie-breaker"),
        "state": state,
        "connected": state == "Connected",
        "tls_active": _yes(tls_active) if tls_active is not None else None,
        "cast_vote": ("(cast vote)" in poll) if poll is not None else None,
        "quorate": _yes(values.get("Quorate")) if "Quorate" in values else None,
    }


def parse_cmap_value(text):
    """The value of ``corosync-cmapctl -g KEY`` ("KEY (str) = VALUE")."""
    for line in text.splitlines():
        match = _CMAP_VALUE.match(line.strip())
        if match:
            return match.group(2)
    return None


# ---------------------------------------------------------------------------
# crm_mon --output-as=xml -1 --inactive


def _resource(element, parent=None):
    agent = element.get("resource_agent") or ""
    nodes = [node.get("name") for node in element.findall("node")]
    return {
        "id": element.get("id"),
        "agent": agent,
        "role": element.get("role"),
        "target_role": element.get("target_role"),
        "active": _bool_attr(element, "active"),
        "failed": _bool_attr(element, "failed"),
        "managed": _bool_attr(element, "managed"),
        "blocked": _bool_attr(element, "blocked"),
        "nodes": nodes,
        "parent": parent,
    }


def _walk_resources(container, parent=None):
    for child in container:
        if child.tag == "resource":
            yield _resource(child, parent)
        elif child.tag in ("group", "clone", "bundle", "replica"):
            yield from _walk_resources(child, child.get("id") or parent)


def parse_crm_mon(text):
    """Parse ``crm_mon --output-as=xml -1 --inactive`` (Pacemaker 2.1).

    Returns ``status_code``/``status_message``; when the cluster answered
    also ``dc``, ``have_quorum``, ``stonith_enabled``, ``maintenance_mode``,
    ``nodes``, ``stonith`` (fencing devices), ``resources`` (the others),
    ``resources_configured``/``_disabled``/``_blocked``, ``failures`` and
    ``fence_events``. Raises ValueError when the text is not crm_mon XML.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError("cannot parse crm_mon XML: %s" % exc) from exc
    if root.tag != "pacemaker-result":
        raise ValueError("unexpected crm_mon XML root element <%s>" % root.tag)
    status = root.find("status")
    out = {
        "status_code": _int(status.get("code")) if status is not None else None,
        "status_message": status.get("message") if status is not None else None,
        "errors": [e.text.strip() for e in root.findall("./status/errors/error") if e.text],
    }
    summary = root.find("summary")
    if summary is None:
        return out

    dc = summary.find("current_dc")
    dc_present = dc is not None and dc.get("present") == "true"
    options = summary.find("cluster_options")
    options = options.attrib if options is not None else {}
    configured = summary.find("resources_configured")
    configured = configured.attrib if configured is not None else {}
    pacemakerd = root.find("pacemakerd")

    nodes = []
    for node in root.findall("./nodes/node"):
        nodes.append(
            {
                "name": node.get("name"),
                "id": _int(node.get("id")),
                "online": _bool_attr(node, "online"),
                "standby": _bool_attr(node, "standby"),
                "maintenance": _bool_attr(node, "maintenance"),
                "unclean": _bool_attr(node, "unclean"),
                "pending": _bool_attr(node, "pending"),
                "shutdown": _bool_attr(node, "shutdown"),
                "is_dc": _bool_attr(node, "is_dc"),
                "resources_running": _int(node.get("resources_running")),
                "type": node.get("type"),
            }
        )

    stonith = []
    resources = []
    resources_element = root.find("resources")
    for item in _walk_resources(resources_element if resources_element is not None else []):
        if item["agent"].startswith("stonith:"):
            stonith.append(
                {
                    "id": item["id"],
                    "agent": item["agent"][len("stonith:") :],
                    "active": item["active"],
                    "role": item["role"],
                    "failed": item["failed"],
                    "node": item["nodes"][0] if item["nodes"] else None,
                }
            )
        else:
            resources.append(item)

    failures = []
    for failure in root.findall("./failures/failure"):
        op_key = failure.get("op_key") or ""
        task = failure.get("task")
        # op_key is RSC_TASK_INTERVAL; resource ids may contain "_".
        resource = op_key.rsplit("_", 2)[0] if op_key.count("_") >= 2 else op_key
        failures.append(
            {
                "resource": resource,
                "node": failure.get("node"),
                "task": task,
                "interval_ms": _int(failure.get("interval")),
                "exitstatus": failure.get("exitstatus"),
                "exitreason": failure.get("exitreason") or "",
                "exitcode": _int(failure.get("exitcode")),
                "last_rc_change": failure.get("last-rc-change"),
            }
        )

    fence_events = [dict(event.attrib) for event in root.findall("./fence_history/fence_event")]

    out.update(
        pacemakerd_state=pacemakerd.get("state") if pacemakerd is not None else None,
        dc=dc.get("name") if dc_present else None,
        have_quorum=dc_present and dc.get("with_quorum") == "true",
        stonith_enabled=options.get("stonith-enabled", "true") == "true",
        maintenance_mode=options.get("maintenance-mode") == "true",
        no_quorum_policy=options.get("no-quorum-policy"),
        nodes=nodes,
        stonith=stonith,
        resources=resources,
        resources_configured=_int(configured.get("number")),
        resources_disabled=_int(configured.get("disabled")),
        resources_blocked=_int(configured.get("blocked")),
        failures=failures,
        fence_events=fence_events,
    )
    return out


# ---------------------------------------------------------------------------
# combining the outputs


def corosync_facts(quorum, cfg, names=None):
    """Facts about corosync from the quorumtool and cfgtool Outputs.

    ``names`` maps node id -> node name for peers that are not members (for
    example from Pacemaker). corosync-quorumtool exits 2 when the partition
    is not quorate; that is a valid status, not an error.
    """
    facts = {
        "running": False,
        "error": None,
        "quorate": False,
        "node_id": None,
        "ring_id": None,
        "expected_votes": None,
        "highest_expected": None,
        "total_votes": None,
        "quorum": None,
        "activity_blocked": False,
        "flags": [],
        "qdevice": False,
        "qdevice_votes": None,
        "members": [],
        "links": [],
        "links_connected": False,
        "links_down": [],
    }
    if quorum.rc not in (0, QUORUMTOOL_NOT_QUORATE) or "Quorum information" not in (quorum.stdout or ""):
        facts["error"] = _error_text(quorum, "corosync-quorumtool")
        return facts

    parsed = parse_quorumtool(quorum.stdout)
    facts.update(running=True)
    for key in (
        "quorate",
        "node_id",
        "ring_id",
        "expected_votes",
        "highest_expected",
        "total_votes",
        "quorum",
        "activity_blocked",
        "flags",
        "members",
        "qdevice_votes",
    ):
        facts[key] = parsed[key]
    facts["qdevice"] = bool(parsed["qdevice_votes"])

    node_names = dict(names or {})
    node_names.update((m["nodeid"], m["name"]) for m in parsed["members"])

    if cfg.rc != 0:
        facts["error"] = _error_text(cfg, "corosync-cfgtool")
        return facts
    links = parse_cfgtool(cfg.stdout)["links"]
    down = []
    for link in links:
        for peer in link["peers"]:
            peer["name"] = node_names.get(peer["nodeid"])
            if not peer["connected"]:
                down.append(
                    {"link": link["id"], "nodeid": peer["nodeid"], "name": peer["name"], "status": peer["status"]}
                )
    facts["links"] = links
    facts["links_down"] = down
    facts["links_connected"] = bool(links) and not down and all(link["peers"] for link in links)
    return facts


def qdevice_facts(cmap, tool, expect=None):
    """Facts about corosync-qdevice, or None when no quorum device is configured.

    Whether one is configured comes from ``expect`` when given, else from
    corosync's live configuration (``quorum.device.model``); when corosync
    cannot be asked, a running qdevice counts as configured.
    """
    configured = expect
    model = None
    if cmap is not None and cmap.rc == 0:
        model = parse_cmap_value(cmap.stdout)
        if configured is None:
            configured = model is not None
    elif cmap is not None and cmap.rc is not None and "CS_ERR_NOT_EXIST" in (cmap.stderr or ""):
        if configured is None:
            configured = False
    tool_ok = tool is not None and tool.rc == 0 and (tool.stdout or "").strip()
    if configured is None:
        configured = bool(tool_ok)
    if not configured:
        return None

    facts = {
        "running": False,
        "error": None,
        "model": model,
        "state": None,
        "connected": False,
        "cast_vote": None,
        "qnetd_host": None,
        "qnetd_port": None,
        "algorithm": None,
        "tie_breaker": None,
        "tls_active": None,
    }
    if not tool_ok:
        facts["error"] = _error_text(tool or Output(None, "", ""), "corosync-qdevice-tool")
        return facts
    parsed = parse_qdevice_tool(tool.stdout)
    facts.update(running=True)
    for key in (
        "state",
        "connected",
        "cast_vote",
        "qnetd_host",
        "qnetd_port",
        "algorithm",
        "tie_breaker",
        "tls_active",
    ):
        facts[key] = parsed[key]
    facts["model"] = model or parsed["model"]
    return facts


def pacemaker_facts(crm_mon):
    """Facts about Pacemaker from the crm_mon Output."""
    facts = {
        "running": False,
        "error": None,
        "dc": None,
        "have_quorum": False,
        "stonith_enabled": None,
        "maintenance_mode": False,
        "nodes": [],
        "stonith": [],
        "resources": {"configured": None, "disabled": None, "blocked": None, "items": []},
        "failures": [],
    }
    if crm_mon.rc is None:
        facts["error"] = not_installed("crm_mon")
        return facts
    try:
        parsed = parse_crm_mon(crm_mon.stdout or "")
    except ValueError as exc:
        facts["error"] = "%s (%s)" % (_error_text(crm_mon, "crm_mon"), exc)
        return facts
    if crm_mon.rc != 0 or "nodes" not in parsed:
        detail = "; ".join(parsed["errors"]) or parsed["status_message"] or ""
        facts["error"] = "crm_mon exited with %s%s" % (crm_mon.rc, ": " + detail if detail else "")
        return facts
    facts.update(
        running=True,
        dc=parsed["dc"],
        have_quorum=parsed["have_quorum"],
        stonith_enabled=parsed["stonith_enabled"],
        maintenance_mode=parsed["maintenance_mode"],
        nodes=parsed["nodes"],
        stonith=parsed["stonith"],
        resources={
            "configured": parsed["resources_configured"],
            "disabled": parsed["resources_disabled"],
            "blocked": parsed["resources_blocked"],
            "items": parsed["resources"],
        },
        failures=parsed["failures"],
    )
    return facts


def _peer(name, nodeid):
    return name or "node %s" % nodeid


def problems(corosync, qdevice, pacemaker):
    """Plain-English problems, each naming what is missing. Empty when healthy."""
    found = []
    if not corosync["running"]:
        found.append("corosync is not running or not reachable on this host (%s)" % corosync["error"])
    else:
        if not corosync["quorate"]:
            found.append(
                "this node's partition is not quorate (%s of %s needed votes)"
                % (corosync["total_votes"], corosync["quorum"])
            )
        if corosync["error"]:
            found.append("the corosync links are unknown (%s)" % corosync["error"])
        member_ids = {m["nodeid"] for m in corosync["members"]}
        missing = {}
        for link in corosync["links"]:
            for peer in link["peers"]:
                if peer["nodeid"] not in member_ids:
                    missing[peer["nodeid"]] = peer["name"]
        for nodeid in sorted(missing):
            found.append("node %s is not a corosync member" % _peer(missing[nodeid], nodeid))
        for down in corosync["links_down"]:
            found.append("link %s to %s is down" % (down["link"], _peer(down["name"], down["nodeid"])))
        if qdevice is not None and not corosync["qdevice"]:
            found.append("the qdevice vote is missing (%s)" % _qdevice_reason(qdevice))

    if not pacemaker["running"]:
        found.append("pacemaker is not running on this host (%s)" % pacemaker["error"])
        return found
    if pacemaker["dc"] is None:
        # Node and resource states are not known before a DC is elected.
        found.append("pacemaker has not elected a DC (the cluster is not formed yet)")
        return found
    if not pacemaker["have_quorum"]:
        found.append("the pacemaker partition has no quorum")
    if pacemaker["maintenance_mode"]:
        found.append("the cluster is in maintenance mode (maintenance-mode=true)")
    for node in pacemaker["nodes"]:
        if node["unclean"]:
            found.append("node %s is unclean (it must be fenced)" % node["name"])
        elif not node["online"]:
            found.append("node %s is offline" % node["name"])
        if node["standby"]:
            found.append("node %s is in standby" % node["name"])
        if node["maintenance"]:
            found.append("node %s is in maintenance mode" % node["name"])
    if not pacemaker["stonith_enabled"]:
        found.append("fencing is disabled (stonith-enabled=false)")
    if not pacemaker["stonith"]:
        found.append("no fencing device configured")
    for device in pacemaker["stonith"]:
        if not device["active"]:
            found.append("fencing device %s (%s) is not running" % (device["id"], device["agent"]))
    for item in pacemaker["resources"]["items"]:
        if item["failed"]:
            found.append("resource %s has failed on %s" % (item["id"], ", ".join(item["nodes"]) or "its node"))
        elif not item["active"] and item["target_role"] != "Stopped":
            found.append("resource %s is not running" % item["id"])
    for failure in pacemaker["failures"]:
        reason = failure["exitstatus"] or "error"
        if failure["exitreason"]:
            reason = "%s: %s" % (reason, failure["exitreason"])
        found.append("%s of %s failed on %s (%s)" % (failure["task"], failure["resource"], failure["node"], reason))
    return found


def _qdevice_reason(qdevice):
    if not qdevice["running"]:
        return "corosync-qdevice is not running: %s" % qdevice["error"]
    where = qdevice["qnetd_host"] or "qnetd"
    if qdevice["qnetd_port"]:
        where = "%s:%s" % (where, qdevice["qnetd_port"])
    if not qdevice["connected"]:
        return "qdevice is not connected to qnetd at %s, state: %s" % (where, qdevice["state"])
    return "qnetd at %s did not give the vote to this partition" % where


def build_facts(outputs, expect_qdevice=None):
    """All facts from the tools' Outputs, keyed as in :data:`COMMANDS`.

    Returns a dict with ``corosync``, ``qdevice``, ``pacemaker``,
    ``summary`` (the problems) and ``healthy``.
    """
    missing = Output(None, "", "")
    pacemaker = pacemaker_facts(outputs.get("crm_mon", missing))
    names = {node["id"]: node["name"] for node in pacemaker["nodes"] if node["id"] is not None}
    corosync = corosync_facts(outputs.get("quorumtool", missing), outputs.get("cfgtool", missing), names)
    qdevice = qdevice_facts(outputs.get("cmapctl_device"), outputs.get("qdevicetool"), expect_qdevice)
    found = problems(corosync, qdevice, pacemaker)
    return {"corosync": corosync, "qdevice": qdevice, "pacemaker": pacemaker, "summary": found, "healthy": not found}

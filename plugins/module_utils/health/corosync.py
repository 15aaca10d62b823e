# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""corosync's state from its tools: ``corosync-quorumtool -s``, ``corosync-cfgtool -s``,
``corosync-cmapctl -g quorum.device.model`` and ``corosync-qdevice-tool -sv``.

Formats of corosync 3.1 (knet) and corosync-qdevice 3.0.3, run with ``LANG=C``: Debian 12
(corosync 3.1.7) and Debian 13 (corosync 3.1.9) print the same; the unit tests parse outputs
captured from real clusters of both.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output, error_text, to_int, yes

# corosync-quorumtool -s exits 2 (with the full status) when not quorate.
QUORUMTOOL_NOT_QUORATE = 2

_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9 ./-]*?):\s*(.*?)\s*$")
_LINK_HEADER = re.compile(r"^LINK ID (\d+)\s*(\S*)")
_LINK_ADDR = re.compile(r"^\s+addr\s*=\s*(\S+)")
_LINK_NODE = re.compile(r"^\s+nodeid:\s*(\d+):\s*(.*?)\s*$")
_LOCAL_NODE = re.compile(r"^Local node ID (\d+), transport (\S+)")
_QDEVICE_ROW_VOTES = re.compile(r"\(votes (\d+)\)")
_CMAP_VALUE = re.compile(r"^\S+ \((\w+)\) = (.*)$")


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
            nodeid = to_int(fields[0]) if fields else None
            votes = to_int(fields[1]) if len(fields) > 1 else None
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
        "quorate": yes(values.get("Quorate")),
        "node_id": to_int(values.get("Node ID")),
        "ring_id": values.get("Ring ID"),
        "nodes": to_int(values.get("Nodes")),
        "expected_votes": to_int(values.get("Expected votes")),
        "highest_expected": to_int(values.get("Highest expected")),
        "total_votes": to_int(values.get("Total votes")),
        "quorum": to_int(quorum_fields[0]) if quorum_fields else None,
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
    partition ("Poll timer running: Yes (cast vote)"). ``tls`` is the TLS mode
    the running qdevice was started with, lower case ("supported" for
    corosync.conf's ``tls: on``, "required" for ``tls: required``);
    ``tls_active`` whether the connection uses TLS now.
    """
    values = {}
    for line in text.splitlines():
        match = _KEY_VALUE.match(line)
        if match and match.group(2):
            values.setdefault(match.group(1), match.group(2))
    host, port = values.get("QNetd host"), None
    if host and ":" in host:
        host, _sep, port_text = host.rpartition(":")
        port = to_int(port_text)
    state = values.get("State")
    poll = values.get("Poll timer running")
    tls_active = values.get("TLS active")
    tls = values.get("TLS")
    return {
        "model": (values.get("Model") or "").lower() or None,
        "node_id": to_int(values.get("Node ID")),
        "cluster_name": values.get("Cluster name"),
        "qnetd_host": host,
        "qnetd_port": port,
        "algorithm": values.get("Algorithm"),
        "tie_breaker": values.get("Tie-breaker"),
        "state": state,
        "connected": state == "Connected",
        "tls": tls.lower() if tls else None,
        "tls_active": yes(tls_active) if tls_active is not None else None,
        "cast_vote": ("(cast vote)" in poll) if poll is not None else None,
        "quorate": yes(values.get("Quorate")) if "Quorate" in values else None,
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
        facts["error"] = error_text(quorum, "corosync-quorumtool")
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
        facts["error"] = error_text(cfg, "corosync-cfgtool")
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
        "tls": None,
        "tls_active": None,
    }
    if not tool_ok:
        facts["error"] = error_text(tool or Output(None, "", ""), "corosync-qdevice-tool")
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
        "tls",
        "tls_active",
    ):
        facts[key] = parsed[key]
    facts["model"] = model or parsed["model"]
    return facts

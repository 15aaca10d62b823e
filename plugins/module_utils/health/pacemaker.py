# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pacemaker's state from ``crm_mon --output-as=xml -1 --inactive``: Pacemaker 2.1.5 of
Debian 12 (XML API 2.25) and 3.0.0 of Debian 13 (XML API 2.38). The unit tests use outputs
captured from real clusters of both (tests/unit/fixtures/state/bookworm and .../trixie).

What 3.0 prints differently, read here so that the facts are the same on both:

* pacemakerd's state: 2.1 has a ``<pacemakerd state=...>`` element, 3.0 the attribute
  ``pacemakerd-state`` of ``<summary><stack>``;
* a failed operation's ``exitstatus``: 2.1 names the exit code as an OCF result ("error",
  "not running"), 3.0 as a Pacemaker exit status ("Error occurred", "Not running"); the facts
  carry the OCF name of ``exitcode`` (:data:`OCF_RESULTS`) on both;
* when pacemakerd does not run, 3.0 reports only "crm_mon: Connection to cluster failed"
  (2.1 first "error: Could not connect to launcher"); both exit with 102.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import (
    bool_attr,
    error_text,
    not_installed,
    to_int,
)

# crm_mon's exit code (and <status code>) when it cannot reach the cluster.
CRM_MON_NOT_CONNECTED = 102

# An operation's exit code by the OCF name Pacemaker 2.1 prints in <failure exitstatus>
# (services_ocf_exitcode_str; for 190 it printed "OCF_DEGRADED"); 3.0 prints crm_exit_str()
# there ("Error occurred", "Not running", ...).
OCF_RESULTS = {
    0: "ok",
    1: "error",
    2: "invalid parameter",
    3: "unimplemented feature",
    4: "insufficient privileges",
    5: "not installed",
    6: "not configured",
    7: "not running",
    8: "promoted",
    9: "promoted (failed)",
    190: "degraded",
    191: "promoted (degraded)",
}


def ocf_result(exitcode, exitstatus=None):
    """The OCF name of an operation's ``exitcode`` (the same text on Pacemaker 2.1 and 3.0); the
    ``exitstatus`` Pacemaker printed for a code without one."""
    if exitcode in OCF_RESULTS:
        return OCF_RESULTS[exitcode]
    return exitstatus


def pacemakerd_state(root):
    """pacemakerd's state ("running", "shutting_down", ...): ``<pacemakerd state>`` (2.1) or
    ``<summary><stack pacemakerd-state>`` (3.0); None when crm_mon did not say."""
    element = root.find("pacemakerd")
    if element is not None and element.get("state"):
        return element.get("state")
    stack = root.find("./summary/stack")
    return stack.get("pacemakerd-state") if stack is not None else None


def _resource(element, parent=None):
    agent = element.get("resource_agent") or ""
    nodes = [node.get("name") for node in element.findall("node")]
    return {
        "id": element.get("id"),
        "agent": agent,
        "role": element.get("role"),
        "target_role": element.get("target_role"),
        "active": bool_attr(element, "active"),
        "failed": bool_attr(element, "failed"),
        "managed": bool_attr(element, "managed"),
        "blocked": bool_attr(element, "blocked"),
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
    """Parse ``crm_mon --output-as=xml -1 --inactive`` (Pacemaker 2.1 or 3.0).

    Returns ``status_code``/``status_message``; when the cluster answered
    also ``dc``, ``have_quorum``, ``stonith_enabled``, ``maintenance_mode``,
    ``nodes``, ``stonith`` (fencing devices), ``resources`` (the others),
    ``resources_configured``/``_disabled``/``_blocked``, ``failures`` and
    ``fence_events`` (and ``pacemakerd_state``). A failure's ``exitstatus`` is
    the OCF name of its ``exitcode`` on both releases. Raises ValueError when the
    text is not crm_mon XML.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError("cannot parse crm_mon XML: %s" % exc) from exc
    if root.tag != "pacemaker-result":
        raise ValueError("unexpected crm_mon XML root element <%s>" % root.tag)
    status = root.find("status")
    out = {
        "status_code": to_int(status.get("code")) if status is not None else None,
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

    nodes = []
    for node in root.findall("./nodes/node"):
        nodes.append(
            {
                "name": node.get("name"),
                "id": to_int(node.get("id")),
                "online": bool_attr(node, "online"),
                "standby": bool_attr(node, "standby"),
                "maintenance": bool_attr(node, "maintenance"),
                "unclean": bool_attr(node, "unclean"),
                "pending": bool_attr(node, "pending"),
                "shutdown": bool_attr(node, "shutdown"),
                "is_dc": bool_attr(node, "is_dc"),
                "resources_running": to_int(node.get("resources_running")),
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
                    "target_role": item["target_role"],
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
        exitcode = to_int(failure.get("exitcode"))
        failures.append(
            {
                "resource": resource,
                "node": failure.get("node"),
                "task": task,
                "interval_ms": to_int(failure.get("interval")),
                "exitstatus": ocf_result(exitcode, failure.get("exitstatus")),
                "exitreason": failure.get("exitreason") or "",
                "exitcode": exitcode,
                "last_rc_change": failure.get("last-rc-change"),
            }
        )

    fence_events = [dict(event.attrib) for event in root.findall("./fence_history/fence_event")]

    out.update(
        pacemakerd_state=pacemakerd_state(root),
        dc=dc.get("name") if dc_present else None,
        have_quorum=dc_present and dc.get("with_quorum") == "true",
        stonith_enabled=options.get("stonith-enabled", "true") == "true",
        maintenance_mode=options.get("maintenance-mode") == "true",
        no_quorum_policy=options.get("no-quorum-policy"),
        nodes=nodes,
        stonith=stonith,
        resources=resources,
        resources_configured=to_int(configured.get("number")),
        resources_disabled=to_int(configured.get("disabled")),
        resources_blocked=to_int(configured.get("blocked")),
        failures=failures,
        fence_events=fence_events,
    )
    return out


# ---------------------------------------------------------------------------


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
        "fence_events": [],
    }
    if crm_mon.rc is None:
        facts["error"] = not_installed("crm_mon")
        return facts
    try:
        parsed = parse_crm_mon(crm_mon.stdout or "")
    except ValueError as exc:
        facts["error"] = "%s (%s)" % (error_text(crm_mon, "crm_mon"), exc)
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
        fence_events=parsed["fence_events"],
    )
    return facts


def _cib_resources(text):
    """The root of ``cibadmin --query --scope resources``'s XML; ValueError when it is not XML."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError("cannot parse the CIB's resources: %s" % exc) from exc


def parse_instance_attributes(text):
    """``cibadmin --query --scope resources`` -> {primitive id: {instance parameter: value}}.

    Raises ValueError when the text is not CIB XML.
    """
    root = _cib_resources(text)
    out = {}
    for primitive in root.iter("primitive"):
        params = {}
        for attrs in primitive.findall("instance_attributes"):
            for nv in attrs.findall("nvpair"):
                params[nv.get("name")] = nv.get("value") or ""
        out[primitive.get("id")] = params
    return out


def parse_stonith_targets(text):
    """``cibadmin --query --scope resources`` -> {fence device id: [nodes it fences]}.

    From ``pcmk_host_list`` (or the node names of ``pcmk_host_map``); a device
    with neither asks its agent at fencing time, and is left out. Raises
    ValueError when the text is not CIB XML.
    """
    root = _cib_resources(text)
    targets = {}
    for primitive in root.iter("primitive"):
        if primitive.get("class") != "stonith":
            continue
        attrs = {nv.get("name"): nv.get("value") or "" for nv in primitive.iter("nvpair")}
        if attrs.get("pcmk_host_list"):
            nodes = attrs["pcmk_host_list"].replace(",", " ").split()
        elif attrs.get("pcmk_host_map"):
            entries = attrs["pcmk_host_map"].replace(",", ";").replace(" ", ";").split(";")
            nodes = [entry.split(":", 1)[0] for entry in entries if entry]
        else:
            continue
        targets[primitive.get("id")] = nodes
    return targets

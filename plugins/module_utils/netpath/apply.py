# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of ``duplex.vmpair.redundant_path`` on one host: look, judge, then change what differs.

1. the spec from the module's parameters (:func:`path_spec`);
2. the members' hardware from sysfs and its verdict (``sysfs``); a refusal stops here;
3. for a bond: the live state (``ip -json``), the management interface, the network stack and
   the files it would write (``render``), the ``ip`` commands (``live``);
4. unless in check mode: the files, then the commands, then the stack's reload.

A knet path is only judged (step 2): corosync builds the links.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import ipaddress
import os

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import write_atomic
from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import CRITICAL, INFO, WARNING, finding
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import live, render, sysfs
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import IFACE_RE, NAME_RE

RELOAD = {"networkd": ["networkctl", "reload"], "networkmanager": ["nmcli", "connection", "reload"]}
_GLOBS = {"ifupdown": "vmpair-*", "networkd": "60-vmpair-*", "networkmanager": "vmpair-*.nmconnection"}
_DIRS = {"ifupdown": render.IFUPDOWN_DIR, "networkd": render.NETWORKD_DIR, "networkmanager": render.NM_DIR}


class PathError(Exception):
    """The module refuses; ``result`` holds what it found (members, findings) for fail_json."""

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}

    def fail_kwargs(self):
        """Keyword arguments for ``module.fail_json``: the message and what was found, without the diff."""
        kwargs = {key: value for key, value in self.result.items() if key != "diff"}
        kwargs["msg"] = self.msg
        return kwargs


def finding_warnings(result):
    """The module's warnings: each finding above info, with its fix."""
    return [
        "%s: %s Fix: %s" % (f["subject"], f["message"], f["fix"]) for f in result["findings"] if f["severity"] != "info"
    ]


def path_spec(params):
    """The normalised spec (see netpath_render) of the module's parameters; PathError when they contradict."""
    p = params
    members = list(p["members"] or [])
    bond = p["interface"] or p["name"]
    names = members + ([bond, p["bridge"]] if p["kind"] == "bond" else [])
    bad = [n for n in names if n is not None and not IFACE_RE.match(n)]
    problems = ["%r is not an interface name (1 to 15 letters, digits, '_.:@-')." % n for n in bad]
    if not NAME_RE.match(p["name"] or ""):
        problems.append("name %r: use 1 to 32 letters, digits, '_', '-' or '.' (a letter or digit first)." % p["name"])
    if len(members) < 2:
        problems.append("members: a path needs two or more interfaces; one interface is not redundant.")
    if p["kind"] == "bond":
        problems += _bond_problems(p, members, bond)
    addresses = []
    for text in p["addresses"] or []:
        try:
            addresses.append(live.normal_cidr(text))
        except ValueError:
            problems.append("addresses: %r is not an address with a prefix length, e.g. 10.10.0.1/24." % text)
    if problems:
        raise PathError("redundant_path %s: %s" % (p["name"], " ".join(problems)))
    primary = p["primary"] or (members[0] if p["mode"] == "active-backup" else None)
    spec = {k: p[k] for k in ("name", "mode", "monitor", "interval_ms", "lacp_rate", "mtu", "bridge")}
    spec.update(interface=bond, members=members, primary=primary, addresses=addresses)
    spec["arp_targets"] = list(p["arp_targets"] or []) if p["monitor"] == "arp" else []
    return spec


def _bond_problems(p, members, bond):
    out = []
    if bond in members or p["bridge"] in members + [bond]:
        out.append("the bond (%s) and the bridge (%s) must not be members or share a name." % (bond, p["bridge"]))
    if not 10 <= p["interval_ms"] <= 10000:
        out.append("interval_ms must be 10 to 10000 (the link monitor's interval).")
    if p["mtu"] is not None and not 68 <= p["mtu"] <= 65535:
        out.append("mtu must be 68 to 65535.")
    if p["monitor"] == "arp" and p["mode"] != "active-backup":
        out.append("monitor arp works with mode active-backup only (the kernel refuses it with 802.3ad).")
    if p["monitor"] == "arp" and not p["arp_targets"]:
        out.append("monitor arp needs arp_targets: the peer's IPv4 addresses on this path.")
    for target in p["arp_targets"] or []:
        try:
            ipaddress.IPv4Address(target)
        except ValueError:
            out.append("arp_targets: %r is not an IPv4 address (the bond's ARP monitor probes IPv4 only)." % target)
    if p["primary"] and (p["mode"] != "active-backup" or p["primary"] not in members):
        out.append("primary must be one of the members, and only with mode active-backup.")
    if p["lacp_rate"] and p["mode"] != "802.3ad":
        out.append("lacp_rate belongs to mode 802.3ad.")
    return out


def judge(spec, shared_hardware, sysfs_root, kind):
    """(members' identities, verdict, findings) of the members' hardware."""
    identities = [sysfs.read_interface(name, sysfs_root) for name in spec["members"]]
    verdict, problems = sysfs.independence(identities)
    findings = []
    for problem in problems:
        severity = problem["severity"]
        if problem["kind"] not in ("missing", "duplicate", "virtual") and shared_hardware == "warn":
            severity = WARNING
        subject = "%s path %s: %s" % (kind, spec["name"], ", ".join(problem["interfaces"]))
        findings.append(finding(severity, "network", subject, problem["message"], problem["fix"]))
    return identities, verdict, findings


def report(spec, identities, links, verdict, kind):
    """(members, redundant) as the module returns them."""
    bond = (links.get(spec["interface"]) or {}).get("bond") or {}
    members = []
    for ident in identities:
        link = links.get(ident["name"]) or {}
        entry = {k: ident[k] for k in ("name", "exists", "operstate", "carrier", "speed_mbps", "virtual", "driver")}
        entry.update(pci_address=ident["pci_address"], pci_device=ident["pci_device"])
        entry["active"] = bool(bond.get("active_slave")) and bond.get("active_slave") == ident["name"]
        entry["in_path"] = kind == "knet" or link.get("master") == spec["interface"]
        members.append(entry)
    up = [m for m in members if m["operstate"] == "up" and m["in_path"]]
    return members, verdict == sysfs.INDEPENDENT and len(up) >= 2


def management(params, addresses, environ):
    """(interface, address) of the connection Ansible uses, or None when unknown."""
    address = params.get("management_address")
    if not address:
        parts = (environ.get("SSH_CONNECTION") or "").split()
        address = parts[2] if len(parts) == 4 else None
    return (live.interface_with_address(addresses, address), address) if address else None


def _read(path):
    try:
        with open(path) as f:
            return f.read(), os.stat(path).st_mode & 0o7777
    except OSError:
        return None, None


def _write(path, text, mode):
    write_atomic(path, text, mode, make_dirs=True)


def files_plan(stack, spec, root):
    """[{path, before, after, mode, state}] of the stack's files of this path, unchanged ones included."""
    out = []
    rendered = render.render(stack, spec)
    for path, (text, mode) in sorted(rendered.items()):
        before, old_mode = _read(os.path.join(root, path.lstrip("/")))
        state = "created" if before is None else "unchanged" if (before, old_mode) == (text, mode) else "updated"
        out.append({"path": path, "before": before or "", "after": text, "mode": mode, "state": state})
    if stack in _GLOBS:
        for full in sorted(glob.glob(os.path.join(root, _DIRS[stack].lstrip("/"), _GLOBS[stack]))):
            path = "/" + os.path.relpath(full, root)
            before = _read(full)[0]
            if path not in rendered and render.owned(before, spec["name"]):
                out.append({"path": path, "before": before, "after": "", "mode": None, "state": "removed"})
    return out


def _diff(header, before, after):
    return {"before_header": header, "after_header": header, "before": before, "after": after}


def run(params, runner, root="/", check_mode=False, environ=None):
    """Do (or, in check mode, predict) the work; return the module's result. PathError on a refusal."""
    spec = path_spec(params)
    kind = params["kind"]
    identities, verdict, findings = judge(spec, params["shared_hardware"], params["sysfs_root"], kind)
    result = {"changed": False, "stack": None, "files": [], "commands": [], "findings": findings}
    result["independence"] = verdict
    links = {}
    if kind == "bond":
        links = live.parse_links(runner.run(["ip", "-json", "-details", "link", "show"]).stdout)
    result["members"], result["redundant"] = report(spec, identities, links, verdict, kind)
    critical = [f for f in findings if f["severity"] == CRITICAL]
    if critical:
        raise PathError(" ".join(f["message"] for f in critical), result)
    if kind != "bond":
        return result
    addresses = live.parse_addresses(runner.run(["ip", "-json", "address", "show"]).stdout)
    mgmt = management(params, addresses, os.environ if environ is None else environ)
    if not mgmt or not mgmt[0]:
        message = (
            "The management connection's interface is unknown (no SSH connection, or its address is not on this "
            "host), so this module cannot keep the path from cutting it."
        )
        fix = "Set management_address to the address Ansible connects to."
        findings.append(finding(INFO, "network", "path %s" % spec["name"], message, fix))
    stack = params["stack"]
    if stack == "auto":
        stack, why = render.detect_stack(root)
        if stack is None:
            msg = "redundant_path %s: cannot tell the host's network stack: %s." % (spec["name"], why)
            raise PathError(msg + " Set stack (ifupdown, networkd, networkmanager or none).", result)
    result["stack"] = stack
    for message, fix in render.stack_problems(stack, spec, root):
        findings.append(finding(WARNING, "network", "path %s" % spec["name"], message, fix))
    files = files_plan(stack, spec, root)
    owned = render.owned_addresses(f["before"] for f in files)
    commands, refusals = live.plan(spec, links, addresses, owned, mgmt, params["rebuild"])
    for message, fix in refusals:
        findings.append(finding(CRITICAL, "network", "path %s" % spec["name"], message, fix))
    if refusals:
        raise PathError(" ".join(m for m, _fix in refusals), result)
    changed_files = [f for f in files if f["state"] != "unchanged"]
    if changed_files and stack in RELOAD:
        commands.append(list(RELOAD[stack]))
    result.update(changed=bool(changed_files or commands), commands=commands)
    result["files"] = [
        {"path": f["path"], "state": f["state"], "mode": "%04o" % f["mode"] if f["mode"] else None} for f in files
    ]
    result["diff"] = [_diff(f["path"], f["before"], f["after"]) for f in changed_files]
    if commands:
        result["diff"].append(_diff("live state (ip commands)", "", "".join(" ".join(c) + "\n" for c in commands)))
    if check_mode or not result["changed"]:
        return result
    for f in changed_files:
        full = os.path.join(root, f["path"].lstrip("/"))
        if f["state"] == "removed":
            os.unlink(full)
        else:
            _write(full, f["after"], f["mode"])
    done = []
    try:
        for cmd in commands:
            runner.run(cmd)
            done.append(cmd)
    except CommandError as exc:
        result["commands"] = done
        msg = "%s. The files are written and the commands before it ran (commands); fix the cause and run again."
        raise PathError(msg % exc.msg, dict(result, rc=exc.rc, stderr=exc.stderr, cmd=exc.cmd)) from None
    links = live.parse_links(runner.run(["ip", "-json", "-details", "link", "show"]).stdout)
    identities = [sysfs.read_interface(name, params["sysfs_root"]) for name in spec["members"]]
    result["members"], result["redundant"] = report(spec, identities, links, verdict, kind)
    return result

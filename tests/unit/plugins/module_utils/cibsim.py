# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pair CIB for the real, offline pcs, crm_verify and crm_simulate, and its transition graphs.

A pair CIB (two nodes online, quorate, stonith enabled, one fence_ipmilan
device per host made by module_utils.pcs exactly like the cluster role) is
built once per session (``base_cib``); ``configured_cib`` adds three protected
VMs, ``running_cib`` is that pair after the cluster started everything, and
``running`` is a copy of it per test. crm_simulate runs the real Pacemaker
scheduler; :class:`Graph` reads the transition graph it saves, so "A before
B" means B depends on A in the graph, not just printing order.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects as vm_cib_objects

EAST, WEST = "hv-east", "hv-west"
TOOLS = ("pcs", "cibadmin", "crm_verify", "crm_simulate", "crm_attribute")
SBIN = ":/usr/sbin:/sbin"


def require_tools():
    missing = [t for t in TOOLS if shutil.which(t, path=os.environ.get("PATH", "") + SBIN) is None]
    if missing:
        pytest.fail(f"missing tools {', '.join(missing)}: install pcs and pacemaker-cli-utils (make tools)")


class FakeModule:
    """The two AnsibleModule methods the runner uses, recording every command."""

    def __init__(self):
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return shutil.which(name, path=os.environ.get("PATH", "") + ":" + ":".join(opt_dirs or []))

    def run_command(self, args, data=None, check_rc=False, environ_update=None, binary_data=False):
        self.calls.append([os.path.basename(args[0])] + list(args[1:]))
        env = dict(os.environ)
        env.update(environ_update or {})
        proc = subprocess.run(args, input=data, capture_output=True, text=True, env=env, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def pcs_calls(self):
        return [c for c in self.calls if c[0] == "pcs"]

    def pushes(self):
        return [c for c in self.pcs_calls() if "cib-push" in c]


def tool(*args, cib=None, check=True):
    env = dict(os.environ, LC_ALL="C", PATH=os.environ.get("PATH", "") + SBIN)
    if cib:
        env["CIB_file"] = cib
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed (rc={proc.returncode}): {proc.stdout}{proc.stderr}")
    return proc


def vm(name, level="ha", host=EAST, **kw):
    return vm_cib_objects.protected_vm(name, level, host, f"r-{name}", f"/etc/vmpair/domains/{name}.xml", **kw)


def runner_for(path, module=None):
    return CommandRunner(module or FakeModule(), cib_file=str(path))


def inject_scores(path, names, nodes=(EAST, WEST), score=vm_cib_objects.BEST_SCORE):
    """What the DRBD agent does from DRBD's state: a promotion score per node (UpToDate: the best)."""
    for name in names:
        for node in nodes:
            tool("crm_attribute", "-N", node, "-n", f"master-drbd-{name}", "-v", str(score), "-l", "reboot", cib=path)


# ---------------------------------------------------------------------------
# the transition graph


class Graph:
    def __init__(self, path):
        self.actions = {}
        self.inputs = {}
        for synapse in ET.parse(path).getroot().findall("synapse"):
            action = synapse.find("action_set")[0]
            aid = action.get("id")
            prim = action.find("primitive")
            self.actions[aid] = {
                "kind": action.tag,
                "op": action.get("operation"),
                "rsc": prim.get("id") if prim is not None else None,
                "node": action.get("on_node"),
                "key": action.get("operation_key"),
            }
            self.inputs[aid] = {t[0].get("id") for t in synapse.findall("./inputs/trigger")}

    def find(self, op, rsc=None, node=None):
        found = [
            aid
            for aid, a in self.actions.items()
            if a["op"] == op
            and a["kind"] != "pseudo_event"
            and (rsc is None or a["rsc"] == rsc)
            and (node is None or a["node"] == node)
        ]
        return found

    def has(self, op, rsc=None, node=None):
        return bool(self.find(op, rsc, node))

    def one(self, op, rsc=None, node=None):
        found = self.find(op, rsc, node)
        assert len(found) == 1, f"expected one {op} {rsc} on {node}, got {[self.actions[a] for a in found]}"
        return found[0]

    def before(self, first, then):
        """True when action ``then`` (transitively) waits for action ``first``."""
        seen, todo = set(), [then]
        while todo:
            aid = todo.pop()
            for dep in self.inputs.get(aid, ()):
                if dep == first:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return False

    def resource_ops(self, rsc):
        """Actions that change a resource's state (no probes, notifications or history clean-up)."""
        return sorted(
            (a["op"], a["node"])
            for a in self.actions.values()
            if a["rsc"] == rsc and a["op"] in ("start", "stop", "promote", "demote", "migrate_to", "migrate_from")
        )


def simulate(path, tmp_path, *args, save=None):
    graph = os.path.join(str(tmp_path), "graph.xml")
    cmd = ["crm_simulate", "-x", str(path), "-S", "--save-graph", graph] + list(args)
    if save:
        cmd += ["-O", str(save)]
    out = tool(*cmd).stdout
    return Graph(graph), out


def status(path):
    """{resource: {node: role}} from crm_simulate's view of the CIB."""
    root = ET.fromstring(tool("crm_mon", "--as-xml", "--one-shot", "--inactive", cib=str(path)).stdout)
    roles = {}
    for res in root.iter("resource"):
        for node in res.findall("node"):
            roles.setdefault(res.get("id").split(":")[0], {})[node.get("name")] = res.get("role")
    return roles


# vm1: ha, prefers east; vm2: ha, prefers west; vm3: recovery, prefers east
PAIR_VMS = (vm("vm1"), vm("vm2", host=WEST), vm("vm3", level="recovery"))

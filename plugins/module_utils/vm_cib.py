# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Pacemaker configuration of protected VMs, changed in one CIB transaction.

Per protected VM ``<vm>`` (see :func:`resource_ids` for every id):

* ``drbd-<vm>`` (``ocf:linbit:drbd``, ``drbd_resource=<res>``) in the
  promotable clone ``drbd-<vm>-clone`` (promoted-max=1, promoted-node-max=1,
  clone-max=2, clone-node-max=1, notify=true), monitors 29 s Promoted and 31 s
  Unpromoted (two intervals: Pacemaker needs them distinct);
* ``vm-<vm>`` (``ocf:heartbeat:VirtualDomain``), ``allow-migrate=false``: DRBD
  is single-primary, so a live migration (both sides primary) is impossible;
  a move is stop, demote, promote, start. ``migration_transport`` is therefore
  not set. ``force_stop=false``: the agent shuts the guest down and destroys it
  only when the stop timeout is nearly over. ``resource-stickiness`` (200)
  is above the preferred-host score (100), so a VM that failed over does not
  fail back (a second outage) when its preferred host returns;
* ``colocation-vm-<vm>``: the VM with the Promoted role of the clone, INFINITY;
* ``order-vm-<vm>``: promote the clone, then start the VM (symmetrical, so the
  VM stops before the demote);
* ``location-vm-<vm>``: the VM prefers its preferred host (score 100); through
  the colocation the promotion follows it;
* level ``recovery`` only, ``location-drbd-<vm>-promote-only``: a rule
  ``role=Promoted score=-INFINITY #uname ne <host>``. DRBD is never promoted
  on the peer by the cluster, so the VM (colocated with the Promoted role)
  cannot start there either. Banning only the VM is not enough: Pacemaker
  would still promote the asynchronous (protocol A) peer after a host loss,
  which makes a DRBD split brain with the lost host's unreplicated writes.
  The peer still runs DRBD Unpromoted (it must replicate). Moving a recovery
  VM = running this code with the other host as ``host``: the rule and the
  preference change in one transaction and Pacemaker stops, demotes,
  promotes and starts in order (also when the old host is fenced and gone).

All changes of one call go into ONE CIB transaction: ``cibadmin --query``
into a temporary file, ``pcs -f COPY ...`` commands, then
``pcs cluster cib-push COPY diff-against=ORIGINAL``. Check mode does the
same on the copy and stops before the push, so its diff is exact.

Removal: Pacemaker stops a running resource that is deleted from the
configuration (an "orphan"), also when it was unmanaged before: the orphan
is rebuilt from the status section with default meta attributes, so
``is-managed=false`` is gone with the definition. Orphans are stopped with
default timeouts and without any ordering (the DRBD demote may run before the
VM stop). Therefore:

* ``leave_running=False``: transaction 1 sets ``target-role=Stopped`` on the
  VM and the clone (ordered stop with the configured timeouts), the cluster
  settles, transaction 2 deletes the (stopped) resources and constraints;
* ``leave_running=True``: one transaction deletes everything and sets the
  cluster property ``stop-orphan-resources=false`` (orphans become
  unmanaged), then ``crm_resource --refresh`` forgets each orphan, then the
  property is restored. On an offline CIB file the refresh is emulated by
  deleting the resources' history from the status section.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.pcs import (
    PcsError,
    Result,
    pcs_cmd,
    read_cib,
    read_cluster_properties,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.runner import CommandError, CommandRunner

LEVELS = ("ha", "recovery")
HYPERVISORS = {"kvm": "qemu:///system", "xen": "xen:///system"}
PREFERRED_SCORE = 100
STICKINESS = 200
ORPHAN_PROPERTY = "stop-orphan-resources"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ROLES = {"Master": "Promoted", "Slave": "Unpromoted"}
_INFINITY = {"INFINITY": "INFINITY", "+INFINITY": "INFINITY", "-INFINITY": "-INFINITY"}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "msec": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000, "hr": 3600000}

ProtectedVm = collections.namedtuple(
    "ProtectedVm",
    ["name", "level", "host", "drbd_resource", "config", "hypervisor", "force_stop", "stop_timeout"],
)


class VmCibError(PcsError):
    """Bad input, or a CIB object with one of our ids that is not ours."""


# ---------------------------------------------------------------------------
# input


def protected_vm(name, level, host, drbd_resource, config, hypervisor="kvm", force_stop=False, stop_timeout=120):
    """A validated :class:`ProtectedVm`; raises VmCibError with a clear message."""
    if not name or not _NAME.match(str(name)):
        raise VmCibError(f"VM name {name!r} is not usable in resource ids (letters, digits, '_', '.', '-')")
    if level == "ft":
        raise VmCibError(f"VM {name}: level ft (fault tolerance, lock-step) is not supported yet; use ha or recovery")
    if level not in LEVELS:
        raise VmCibError(f"VM {name}: level must be one of {', '.join(LEVELS)}, not {level!r}")
    if not host:
        raise VmCibError(f"VM {name}: the preferred host (a cluster node name) is required")
    if not drbd_resource or not _NAME.match(str(drbd_resource)):
        raise VmCibError(f"VM {name}: DRBD resource name {drbd_resource!r} is not valid")
    if not config or not str(config).startswith("/"):
        raise VmCibError(f"VM {name}: config must be the absolute path of the domain XML, not {config!r}")
    if hypervisor not in HYPERVISORS:
        raise VmCibError(f"VM {name}: hypervisor must be kvm or xen, not {hypervisor!r}")
    if int(stop_timeout) < 10:
        raise VmCibError(f"VM {name}: stop_timeout must be at least 10 seconds")
    return ProtectedVm(
        str(name), level, str(host), str(drbd_resource), str(config), hypervisor, bool(force_stop), int(stop_timeout)
    )


def resource_ids(name):
    """Every CIB id this module owns for VM ``name``."""
    return collections.OrderedDict(
        [
            ("drbd", f"drbd-{name}"),
            ("clone", f"drbd-{name}-clone"),
            ("vm", f"vm-{name}"),
            ("colocation", f"colocation-vm-{name}"),
            ("order", f"order-vm-{name}"),
            ("location", f"location-vm-{name}"),
            ("promote_only", f"location-drbd-{name}-promote-only"),
        ]
    )


# ---------------------------------------------------------------------------
# desired state


def _op(name, interval, timeout, role=None):
    op = collections.OrderedDict([("name", name), ("interval", interval), ("timeout", timeout)])
    if role:
        op["role"] = role
    return op


def desired_objects(vm):
    """The wanted objects of ``vm`` by kind: primitives, clone meta, constraints (or None = absent)."""
    ids = resource_ids(vm.name)
    drbd = {
        "agent": "ocf:linbit:drbd",
        "instance": {"drbd_resource": vm.drbd_resource},
        "meta": {},
        "ops": [
            _op("monitor", "29s", "20s", "Promoted"),
            _op("monitor", "31s", "20s", "Unpromoted"),
            _op("start", "0s", "240s"),
            _op("stop", "0s", "100s"),
            _op("promote", "0s", "90s"),
            _op("demote", "0s", "90s"),
            _op("notify", "0s", "90s"),
        ],
    }
    clone_meta = collections.OrderedDict(
        [
            ("promoted-max", "1"),
            ("promoted-node-max", "1"),
            ("clone-max", "2"),
            ("clone-node-max", "1"),
            ("notify", "true"),
        ]
    )
    domain = {
        "agent": "ocf:heartbeat:VirtualDomain",
        "instance": {
            "config": vm.config,
            "hypervisor": HYPERVISORS[vm.hypervisor],
            "force_stop": "true" if vm.force_stop else "false",
        },
        "meta": {"allow-migrate": "false", "resource-stickiness": str(STICKINESS)},
        "ops": [
            _op("monitor", "10s", "30s"),
            _op("start", "0s", "90s"),
            _op("stop", "0s", f"{vm.stop_timeout}s"),
        ],
    }
    constraints = collections.OrderedDict()
    constraints[ids["colocation"]] = {
        "tag": "rsc_colocation",
        "rsc": ids["vm"],
        "with-rsc": ids["clone"],
        "score": "INFINITY",
        "rsc-role": "Started",
        "with-rsc-role": "Promoted",
    }
    constraints[ids["order"]] = {
        "tag": "rsc_order",
        "first": ids["clone"],
        "first-action": "promote",
        "then": ids["vm"],
        "then-action": "start",
        "kind": "Mandatory",
        "symmetrical": "true",
    }
    constraints[ids["location"]] = {
        "tag": "rsc_location",
        "rsc": ids["vm"],
        "node": vm.host,
        "score": str(PREFERRED_SCORE),
    }
    constraints[ids["promote_only"]] = None
    if vm.level == "recovery":
        constraints[ids["promote_only"]] = {
            "tag": "rsc_location",
            "rsc": ids["clone"],
            "rule": ("Promoted", "-INFINITY", "#uname", "ne", vm.host),
        }
    return {"drbd": drbd, "clone_meta": clone_meta, "vm": domain, "constraints": constraints}


# ---------------------------------------------------------------------------
# reading and normalizing the CIB


def _ms(value):
    match = _DURATION.match(str(value or "0"))
    if not match:
        return str(value)
    return int(match.group(1)) * _UNIT_MS[(match.group(2) or "s").lower()]


def _role(value):
    return _ROLES.get(value, value)


def _score(value):
    return _INFINITY.get(str(value).upper(), str(value)) if value is not None else None


def _nvpairs(element, block):
    values = {}
    if element is None:
        return values
    for attrs in element.findall(block):
        for nvpair in attrs.findall("nvpair"):
            values[nvpair.get("name")] = nvpair.get("value", "")
    return values


def _op_key(op):
    return (op["name"], _ms(op.get("interval")), _role(op.get("role")) or "", _ms(op.get("timeout")))


def _find(cib, tag, rid):
    for el in cib.iter(tag):
        if el.get("id") == rid:
            return el
    return None


def read_primitive(cib, rid):
    """A primitive as {"agent", "instance", "meta", "ops": [{name, interval, timeout, role, id}]} or None."""
    resources = cib.find("./configuration/resources")
    el = _find(resources, "primitive", rid) if resources is not None else None
    if el is None:
        return None
    provider = el.get("provider")
    agent = ":".join(p for p in (el.get("class"), provider, el.get("type")) if p)
    ops = []
    for op in el.findall("./operations/op"):
        ops.append({k: op.get(k) for k in ("id", "name", "interval", "timeout", "role") if op.get(k) is not None})
    return {
        "agent": agent,
        "instance": _nvpairs(el, "instance_attributes"),
        "meta": _nvpairs(el, "meta_attributes"),
        "ops": ops,
    }


def read_clone(cib, rid):
    """(meta attributes, id of the primitive inside) of clone ``rid``, or None."""
    resources = cib.find("./configuration/resources")
    el = _find(resources, "clone", rid) if resources is not None else None
    if el is None:
        return None
    child = el.find("primitive")
    return _nvpairs(el, "meta_attributes"), (child.get("id") if child is not None else None)


def _constraint_element(cib, cid):
    constraints = cib.find("./configuration/constraints")
    if constraints is None:
        return None
    for el in constraints:
        if el.get("id") == cid:
            return el
    return None


def read_constraint(cib, cid):
    """Constraint ``cid`` normalized like :func:`desired_objects` describes it, or None."""
    el = _constraint_element(cib, cid)
    if el is None:
        return None
    out = {"tag": el.tag}
    if el.tag == "rsc_colocation":
        out.update(
            {
                "rsc": el.get("rsc"),
                "with-rsc": el.get("with-rsc"),
                "score": _score(el.get("score")),
                "rsc-role": _role(el.get("rsc-role", "Started")),
                "with-rsc-role": _role(el.get("with-rsc-role", "Started")),
            }
        )
    elif el.tag == "rsc_order":
        out.update(
            {
                "first": el.get("first"),
                "first-action": el.get("first-action", "start"),
                "then": el.get("then"),
                "then-action": el.get("then-action", el.get("first-action", "start")),
                "kind": el.get("kind", "Mandatory"),
                "symmetrical": el.get("symmetrical", "true"),
            }
        )
    elif el.tag == "rsc_location":
        out["rsc"] = el.get("rsc")
        rules = el.findall("rule")
        if len(rules) == 1 and len(rules[0].findall("expression")) == 1 and el.get("node") is None:
            rule = rules[0]
            expr = rule.find("expression")
            out["rule"] = (
                _role(rule.get("role")),
                _score(rule.get("score")),
                expr.get("attribute"),
                expr.get("operation"),
                expr.get("value"),
            )
        elif rules:
            out["rule"] = "unsupported"
        else:
            out["node"] = el.get("node")
            out["score"] = _score(el.get("score"))
    return out


def read_vm_objects(cib, name):
    """What exists now for VM ``name`` (same shape as :func:`desired_objects`, None for absent)."""
    ids = resource_ids(name)
    clone = read_clone(cib, ids["clone"])
    return {
        "drbd": read_primitive(cib, ids["drbd"]),
        "clone": clone,
        "clone_meta": clone[0] if clone else None,
        "vm": read_primitive(cib, ids["vm"]),
        "constraints": collections.OrderedDict(
            (cid, read_constraint(cib, cid))
            for key, cid in ids.items()
            if key in ("colocation", "order", "location", "promote_only")
        ),
    }


def node_names(cib):
    return [n.get("uname") for n in cib.findall("./configuration/nodes/node") if n.get("uname")]


# ---------------------------------------------------------------------------
# commands


def _kv(pairs):
    return [f"{k}={v}" for k, v in pairs.items()]


def _op_args(ops):
    args = []
    for op in ops:
        args += ["op", op["name"]] + [f"{k}={v}" for k, v in op.items() if k != "name"]
    return args


def _check_primitive(rid, current, wanted):
    if current is not None and current["agent"] != wanted["agent"]:
        raise VmCibError(
            f"resource {rid} exists as {current['agent']}, not {wanted['agent']}; "
            "it is not managed by duplex.vmpair: rename or remove it first"
        )


def _primitive_update(runner, rid, current, wanted):
    """pcs commands that make an existing primitive match ``wanted`` (managed meta keys only)."""
    cmds = []
    args = [f"{k}={v}" for k, v in sorted(wanted["instance"].items()) if current["instance"].get(k) != v]
    args += [f"{k}=" for k in sorted(current["instance"]) if k not in wanted["instance"]]
    if args:
        cmds.append(pcs_cmd(runner, "resource", "update", rid, *args))
    meta = [f"{k}={v}" for k, v in sorted(wanted["meta"].items()) if current["meta"].get(k) != v]
    if meta:
        cmds.append(pcs_cmd(runner, "resource", "meta", rid, *meta))
    wanted_keys = {_op_key(op) for op in wanted["ops"]}
    current_keys = {_op_key(op) for op in current["ops"]}
    for op in current["ops"]:
        if _op_key(op) not in wanted_keys:
            cmds.append(pcs_cmd(runner, "resource", "op", "delete", op["id"]))
    for op in wanted["ops"]:
        if _op_key(op) not in current_keys:
            opts = [f"{k}={v}" for k, v in op.items() if k != "name"]
            cmds.append(pcs_cmd(runner, "resource", "op", "add", rid, op["name"], *opts, "--force"))
    return cmds


def _constraint_add(runner, cid, c):
    if c["tag"] == "rsc_colocation":
        return pcs_cmd(
            runner,
            "constraint",
            "colocation",
            "add",
            c["rsc-role"],
            c["rsc"],
            "with",
            c["with-rsc-role"],
            c["with-rsc"],
            c["score"],
            f"id={cid}",
        )
    if c["tag"] == "rsc_order":
        return pcs_cmd(
            runner,
            "constraint",
            "order",
            c["first-action"],
            c["first"],
            "then",
            c["then-action"],
            c["then"],
            f"kind={c['kind']}",
            f"symmetrical={c['symmetrical']}",
            f"id={cid}",
        )
    if "rule" in c:
        role, score, attribute, operation, value = c["rule"]
        return pcs_cmd(
            runner,
            "constraint",
            "location",
            c["rsc"],
            "rule",
            f"role={role}",
            f"score={score}",
            f"constraint-id={cid}",
            attribute,
            operation,
            value,
        )
    return pcs_cmd(runner, "constraint", "location", "add", cid, c["rsc"], c["node"], c["score"])


def _normalized_constraint(c):
    """A desired constraint as read_constraint would return it."""
    if c is None:
        return None
    out = dict(c)
    if "score" in out:
        out["score"] = _score(out["score"])
    return out


def vm_commands(runner, vm, current):
    """The pcs commands turning ``current`` (:func:`read_vm_objects`) into the wanted objects of ``vm``."""
    ids = resource_ids(vm.name)
    want = desired_objects(vm)
    cmds = []
    _check_primitive(ids["drbd"], current["drbd"], want["drbd"])
    _check_primitive(ids["vm"], current["vm"], want["vm"])

    if current["clone"] is None:
        if current["drbd"] is not None:
            raise VmCibError(f"resource {ids['drbd']} exists but not in the promotable clone {ids['clone']}")
        cmds.append(
            pcs_cmd(
                runner,
                "resource",
                "create",
                ids["drbd"],
                want["drbd"]["agent"],
                *_kv(want["drbd"]["instance"]),
                *_op_args(want["drbd"]["ops"]),
                "promotable",
                *_kv(want["clone_meta"]),
                "--no-default-ops",
            )
        )
    else:
        meta, child = current["clone"]
        if child != ids["drbd"]:
            raise VmCibError(f"clone {ids['clone']} exists but does not hold {ids['drbd']} (it holds {child})")
        if meta.get("promotable") != "true":
            raise VmCibError(f"clone {ids['clone']} exists but is not promotable")
        cmds += _primitive_update(runner, ids["drbd"], current["drbd"], want["drbd"])
        changed_meta = [f"{k}={v}" for k, v in want["clone_meta"].items() if meta.get(k) != v]
        if changed_meta:
            cmds.append(pcs_cmd(runner, "resource", "meta", ids["clone"], *changed_meta))

    if current["vm"] is None:
        cmds.append(
            pcs_cmd(
                runner,
                "resource",
                "create",
                ids["vm"],
                want["vm"]["agent"],
                *_kv(want["vm"]["instance"]),
                *_op_args(want["vm"]["ops"]),
                "meta",
                *_kv(want["vm"]["meta"]),
                "--no-default-ops",
            )
        )
    else:
        cmds += _primitive_update(runner, ids["vm"], current["vm"], want["vm"])

    for cid, wanted in want["constraints"].items():
        have = current["constraints"].get(cid)
        wanted = _normalized_constraint(wanted)
        if have == wanted:
            continue
        if have is not None:
            cmds.append(pcs_cmd(runner, "constraint", "delete", cid))
        if wanted is not None:
            cmds.append(_constraint_add(runner, cid, wanted))
    return cmds


# ---------------------------------------------------------------------------
# the transaction


def _logical(cmd):
    """A pcs command as shown to users: without ``-f TEMPFILE``."""
    if len(cmd) > 2 and cmd[0] == "pcs" and cmd[1] == "-f":
        return ["pcs"] + list(cmd[3:])
    return list(cmd)


class CibTransaction:
    """A copy of the CIB changed with ``pcs -f`` and pushed once as a diff.

    Use as a context manager; ``run(args)`` runs ``pcs -f COPY ARGS``,
    ``push()`` sends the difference to the cluster (or to the runner's CIB
    file). ``commands`` lists the logical pcs commands run on the copy.
    """

    def __init__(self, runner):
        self.runner = runner
        self.tmpdir = None
        self.original = None
        self.copy = None
        self.commands = []
        self.pushed = False

    def __enter__(self):
        self.tmpdir = tempfile.mkdtemp(prefix="vmpair-cib-")
        self.original = os.path.join(self.tmpdir, "original.xml")
        self.copy = os.path.join(self.tmpdir, "new.xml")
        xml = self.runner.run(["cibadmin", "--query"]).stdout
        for path in (self.original, self.copy):
            with open(path, "w") as f:
                f.write(xml)
        self.file_runner = CommandRunner(
            self.runner.module, cib_file=self.copy, secrets=self.runner.secrets, redact=self.runner.redact
        )
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return False

    def cib(self, which="copy"):
        return ET.parse(self.copy if which == "copy" else self.original).getroot()

    def pcs(self, *args):
        cmd = pcs_cmd(self.file_runner, *args)
        self.file_runner.run(cmd)
        self.commands.append(_logical(cmd))

    def run_all(self, commands):
        """Run commands built with :func:`pcs_cmd` against this transaction's file runner."""
        for cmd in commands:
            self.file_runner.run(cmd)
            self.commands.append(_logical(cmd))

    def push(self):
        self.runner.run(pcs_cmd(self.runner, "cluster", "cib-push", self.copy, f"diff-against={self.original}"))
        self.pushed = True


def _xml(el):
    el = copy.deepcopy(el)
    for sub in el.iter():
        sub.tail = None
        if len(sub):
            sub.text = None
    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(el)
    return ET.tostring(el, encoding="unicode").strip()


def _render(cib, names):
    """XML text of every object we own for ``names`` (for diffs)."""
    parts = []
    resources = cib.find("./configuration/resources")
    for name in names:
        ids = resource_ids(name)
        for key in ("clone", "vm"):
            el = _find(resources, "clone" if key == "clone" else "primitive", ids[key])
            if el is not None:
                parts.append(_xml(el))
        for key in ("colocation", "order", "location", "promote_only"):
            el = _constraint_element(cib, ids[key])
            if el is not None:
                parts.append(_xml(el))
    return "\n".join(parts) + ("\n" if parts else "")


def ensure_vms_present(runner, vms, check_mode=False):
    """Make the CIB hold the resources and constraints of every VM in ``vms`` (ProtectedVm list).

    Returns a :class:`~.pcs.Result`: ``changed``, ``commands`` (the logical
    pcs commands, in order), ``diff`` (XML of the VMs' objects before/after)
    and ``pushes`` (0 or 1). Nothing is pushed when nothing differs or in
    check mode.
    """
    names = [vm.name for vm in vms]
    if len(set(names)) != len(names):
        raise VmCibError("every VM may appear only once")
    with CibTransaction(runner) as tx:
        cib = tx.cib("original")
        nodes = node_names(cib)
        for vm in vms:
            if nodes and vm.host not in nodes:
                raise VmCibError(f"VM {vm.name}: host {vm.host} is not a cluster node ({', '.join(nodes)})")
        for vm in vms:
            tx.run_all(vm_commands(tx.file_runner, vm, read_vm_objects(cib, vm.name)))
        before = _render(cib, names)
        after = _render(tx.cib(), names) if tx.commands else before
        if tx.commands and not check_mode:
            tx.push()
        return Result(
            changed=bool(tx.commands),
            commands=tx.commands,
            before=before,
            after=after,
            pushes=int(tx.pushed),
        )


# ---------------------------------------------------------------------------
# removal


def _present(cib, name):
    ids = resource_ids(name)
    return {
        key: rid
        for key, rid in ids.items()
        if (key == "vm" and read_primitive(cib, rid) is not None)
        or (key == "clone" and read_clone(cib, rid) is not None)
        or (key not in ("vm", "clone", "drbd") and _constraint_element(cib, rid) is not None)
    }


def _settle_live(runner, timeout):
    """Wait until the cluster has carried out the pushed change (live clusters only)."""
    if runner.cib_file:
        return
    runner.run(["crm_resource", "--wait", f"--timeout={int(timeout)}s"])


def _refresh_orphan(runner, rid):
    """Forget a deleted resource's history so that the cluster stops nothing."""
    if runner.cib_file:
        # crm_resource --refresh needs the controller (and crashes with CIB_file);
        # its effect on the CIB is the removal of the resource's history.
        runner.run(["cibadmin", "--delete-all", "--xpath", f"//lrm_resource[@id='{rid}']", "--force"])
        return
    runner.run(["crm_resource", "--refresh", "--resource", rid])


def _delete_commands(tx, name, present):
    ids = resource_ids(name)
    cmds = []
    if "vm" in present:
        cmds.append(pcs_cmd(tx.file_runner, "resource", "delete", ids["vm"]))
    if "clone" in present:
        cmds.append(pcs_cmd(tx.file_runner, "resource", "delete", ids["clone"]))
    return cmds


def _delete_leftover_constraints(tx, names):
    cib = tx.cib()
    for name in names:
        ids = resource_ids(name)
        for key in ("colocation", "order", "location", "promote_only"):
            if _constraint_element(cib, ids[key]) is not None:
                tx.pcs("constraint", "delete", ids[key])


def ensure_vms_absent(runner, names, leave_running=False, check_mode=False, settle=None, settle_timeout=300):
    """Remove the resources and constraints of the VMs ``names``.

    ``leave_running=False``: push 1 disables (``target-role=Stopped``) the VMs
    and clones still running, ``settle()`` waits (default: ``crm_resource
    --wait`` on a live cluster, nothing on a CIB file), push 2 deletes.
    ``leave_running=True``: push 1 deletes everything with
    ``stop-orphan-resources=false``, each orphan is refreshed, then the
    property is restored (one ``pcs property set``).

    Returns a Result with ``commands``, ``diff`` and ``pushes``; in check mode
    the commands of every step are listed and nothing is pushed.
    """
    settle = settle or (lambda: _settle_live(runner, settle_timeout))
    commands = []
    pushes = 0
    cib = read_cib(runner)
    present = {name: _present(cib, name) for name in names}
    before = _render(cib, names)
    if not any(present.values()):
        return Result(changed=False, commands=[], before=before, after=before, pushes=0)

    if not leave_running:
        with CibTransaction(runner) as tx:
            for name in names:
                ids = resource_ids(name)
                targets = []
                for key in ("vm", "clone"):
                    if key not in present[name]:
                        continue
                    el = _find(cib.find("./configuration/resources"), "primitive" if key == "vm" else "clone", ids[key])
                    if _nvpairs(el, "meta_attributes").get("target-role") != "Stopped":
                        targets.append(ids[key])
                if targets:
                    tx.pcs("resource", "disable", *targets)
            commands += tx.commands
            if tx.commands and not check_mode:
                tx.push()
                pushes += 1
        if pushes:
            settle()

    with CibTransaction(runner) as tx:
        original_property = read_cluster_properties(tx.cib("original")).get(ORPHAN_PROPERTY)
        change_property = leave_running and original_property != "false"
        if change_property:
            tx.pcs("property", "set", f"{ORPHAN_PROPERTY}=false")
        for name in names:
            tx.run_all(_delete_commands(tx, name, present[name]))
        _delete_leftover_constraints(tx, names)
        commands += tx.commands
        after = _render(tx.cib(), names)
        if tx.commands and not check_mode:
            tx.push()
            pushes += 1

    if leave_running:
        orphans = []
        for name in names:
            ids = resource_ids(name)
            if "vm" in present[name]:
                orphans.append(ids["vm"])
            if "clone" in present[name]:
                orphans.append(ids["drbd"])  # the status section knows the clone instances by the primitive id
        restore = f"{ORPHAN_PROPERTY}={original_property or ''}"
        try:
            for rid in orphans:
                commands.append(["crm_resource", "--refresh", "--resource", rid])
                if not check_mode:
                    _refresh_orphan(runner, rid)
            if change_property:
                commands.append(["pcs", "property", "set", restore])
                if not check_mode:
                    runner.run(pcs_cmd(runner, "property", "set", restore))
        except CommandError as exc:
            if change_property:
                exc.msg = (
                    f"{exc.msg}. The resources are deleted but the cluster property {ORPHAN_PROPERTY} is still "
                    f"false: run 'crm_resource --refresh --resource ID' for {', '.join(orphans)}, "
                    f"then 'pcs property set {restore}'"
                )
                exc.args = (exc.msg,)
            raise

    return Result(changed=True, commands=commands, before=before, after=after, pushes=pushes)

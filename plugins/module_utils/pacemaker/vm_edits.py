# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The CIB edits that turn what the CIB holds for a protected VM into what is wanted.

:func:`vm_edits` compares :func:`.vm_objects.read_vm_objects` with
:func:`.vm_objects.desired_objects` and makes the difference in a
:class:`CibEditor`: an ElementTree CIB changed in Python the way pcs 0.11
changes it (the same elements, ids, attributes and order, the ids made unique
the way pcs does, the role names the CIB's schema knows), so that the pushed
CIB is the one ``pcs -f`` would have made, without a pcs process per object.
Each edit records the ``pcs`` command that makes the same change
(``commands``, shown to users and replayed by the tests with the real pcs).
Objects with one of our ids but another agent or shape are refused with a
:class:`.vm_objects.VmCibError`, never replaced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    LEGACY_ROLES,
    normalize_role,
    normalize_score,
    op_key,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import (
    MIGRATION_KEYS,
    VmCibError,
    desired_objects,
    resource_ids,
)

# The schema from which Pacemaker knows the role names Promoted and Unpromoted (pcs:
# PCMK_NEW_ROLES_CIB_VERSION); pcs writes Master and Slave into an older CIB.
NEW_ROLES_SCHEMA = (3, 7)
_LEGACY_ROLES = {new: old for old, new in LEGACY_ROLES.items()}
_SCHEMA = re.compile(r"^pacemaker-(\d+)\.(\d+)")
OCF_ROOT = "/usr/lib/ocf/resource.d"
# The Debian package of each agent (what pcs's "not installed" error means on Debian).
AGENT_PACKAGES = {"ocf:linbit:drbd": "drbd-utils", "ocf:heartbeat:VirtualDomain": "resource-agents"}


def _kv(pairs):
    return [f"{k}={v}" for k, v in pairs.items()]


def _op_args(ops):
    args = []
    for op in ops:
        args += ["op", op["name"]] + [f"{k}={v}" for k, v in op.items() if k != "name"]
    return args


class CibEditor:
    """A whole CIB (Element) changed as pcs changes it; ``commands`` lists the equivalent pcs commands.

    ``ids`` holds every id outside the status section (pcs's ``does_id_exist``), so
    generated ids are unique the way pcs makes them (``ID``, ``ID-1``, ``ID-2``, ...).
    """

    def __init__(self, cib, ocf_root=None):
        self.cib = cib
        self.ocf_root = ocf_root or OCF_ROOT
        self.commands = []
        self.ids = set()
        for section in cib:
            if section.tag != "status":
                self.ids.update(el.get("id") for el in section.iter() if el is not section and el.get("id"))
        match = _SCHEMA.match(cib.get("validate-with", ""))
        self.new_roles = not match or (int(match.group(1)), int(match.group(2))) >= NEW_ROLES_SCHEMA

    # -- ids and elements

    def unique_id(self, candidate):
        new, counter = candidate, 1
        while new in self.ids:
            new = f"{candidate}-{counter}"
            counter += 1
        self.ids.add(new)
        return new

    def role(self, role):
        return role if self.new_roles else _LEGACY_ROLES.get(role, role)

    def section(self, name):
        el = self.cib.find(f"./configuration/{name}")
        if el is None:
            el = ET.SubElement(self.cib.find("./configuration"), name)
        return el

    def sub(self, parent, tag, attrs):
        el = ET.SubElement(parent, tag)
        for key, value in attrs:
            el.set(key, value)
        if el.get("id"):
            self.ids.add(el.get("id"))
        return el

    def remove(self, parent, el):
        parent.remove(el)
        self.ids.difference_update(sub.get("id") for sub in el.iter())

    def resource(self, rid):
        for el in self.section("resources").iter():
            if el.tag in ("primitive", "clone", "group", "bundle", "master") and el.get("id") == rid:
                return el
        return None

    def claim(self, new_id, what):
        """Refuse an id of ours that another element of the CIB holds (pcs: "already in use")."""
        if new_id in self.ids:
            raise VmCibError(
                f"id '{new_id}' is already in use in the CIB (not by the {what} duplex.vmpair manages): "
                "rename or remove that element first"
            )
        self.ids.add(new_id)

    def check_agent(self, agent):
        """pcs refuses to create a resource whose agent is not installed: so do we."""
        standard, provider, kind = agent.split(":")
        path = os.path.join(self.ocf_root, provider, kind)
        if not os.path.isfile(path):
            raise VmCibError(
                f"Agent '{agent}' is not installed or does not provide valid metadata ({path} is missing): "
                f"install the Debian package {AGENT_PACKAGES.get(agent, 'that provides it')} on both hosts"
            )

    # -- resources (pcs resource create/update/meta, op add/delete)

    def _nvset(self, parent, tag, pairs):
        nvset = self.sub(parent, tag, [("id", self.unique_id(f"{parent.get('id')}-{tag}"))])
        for name, value in sorted(pairs.items()):
            self.sub(
                nvset, "nvpair", [("id", self.unique_id(f"{nvset.get('id')}-{name}")), ("name", name), ("value", value)]
            )
        return nvset

    def _primitive(self, parent, rid, wanted):
        standard, provider, kind = wanted["agent"].split(":")
        el = self.sub(parent, "primitive", [("id", rid), ("class", standard), ("type", kind), ("provider", provider)])
        if wanted["instance"]:
            self._nvset(el, "instance_attributes", wanted["instance"])
        if wanted["meta"]:
            self._nvset(el, "meta_attributes", wanted["meta"])
        operations = ET.SubElement(el, "operations")
        for op in sorted(wanted["ops"], key=lambda op: op["name"]):
            attrs = [(k, self.role(v) if k == "role" else v) for k, v in op.items()]
            op_id = self.unique_id(f"{rid}-{op['name']}-interval-{op['interval']}")
            self.sub(operations, "op", attrs + [("id", op_id)])
        return el

    def create_primitive(self, rid, wanted, command):
        self.check_agent(wanted["agent"])
        self.claim(rid, "resource")
        self.ids.discard(rid)
        self._primitive(self.section("resources"), rid, wanted)
        self.commands.append(command)

    def create_promotable(self, rid, clone_id, wanted, clone_meta, command):
        self.check_agent(wanted["agent"])
        self.claim(rid, "resource")
        self.claim(clone_id, "clone")
        self.ids.difference_update((rid, clone_id))
        resources = self.section("resources")
        clone = self.sub(resources, "clone", [("id", clone_id)])
        self._primitive(clone, rid, wanted)
        self._nvset(clone, "meta_attributes", dict(clone_meta, promotable="true"))
        self.commands.append(command)

    def _update_nvset(self, el, tag, pairs):
        """pcs's dom_update_nvset: the first ``tag`` child, made when a value is set; "" removes a pair."""
        nvsets = el.findall(tag)
        if not nvsets and all(value == "" for _name, value in pairs):
            return
        nvset = nvsets[0] if nvsets else self.sub(el, tag, [("id", self.unique_id(f"{el.get('id')}-{tag}"))])
        for name, value in pairs:
            found = next((nv for nv in nvset.iter("nvpair") if nv.get("name") == name), None)
            if found is not None:
                if value == "":
                    self.remove(nvset, found)
                else:
                    found.set("value", value)
            elif value != "":
                self.sub(nvset, "nvpair", [("id", f"{nvset.get('id')}-{name}"), ("name", name), ("value", value)])

    def update_instance(self, rid, pairs):
        """``pcs resource update RID k=v k2=``."""
        el = self.resource(rid)
        self._update_nvset(el, "instance_attributes", pairs)
        if el.find(".//operations") is None:
            ET.SubElement(el, "operations")
        self.commands.append(["pcs", "resource", "update", rid] + [f"{k}={v}" for k, v in pairs])

    def update_meta(self, rid, pairs):
        """``pcs resource meta RID k=v``."""
        self._update_nvset(self.resource(rid), "meta_attributes", pairs)
        self.commands.append(["pcs", "resource", "meta", rid] + [f"{k}={v}" for k, v in pairs])

    def delete_op(self, op_id):
        """``pcs resource op delete OP_ID``."""
        for operations in self.cib.iter("operations"):
            for op in operations.findall("op"):
                if op.get("id") == op_id:
                    self.remove(operations, op)
                    self.commands.append(["pcs", "resource", "op", "delete", op_id])
                    return
        raise VmCibError(f"operation {op_id} not found")

    def add_op(self, rid, op):
        """``pcs resource op add RID NAME k=v... --force``: id, name, then the options sorted by name."""
        el = self.resource(rid)
        options = sorted((k, v) for k, v in op.items() if k != "name")
        op_id = self.unique_id(f"{rid}-{op['name']}-interval-{op['interval']}")
        operations = el.find(".//operations")
        if operations is None:
            operations = ET.SubElement(el, "operations")
        self.sub(operations, "op", [("id", op_id), ("name", op["name"])] + options)
        self.commands.append(
            ["pcs", "resource", "op", "add", rid, op["name"]]
            + [f"{k}={v}" for k, v in op.items() if k != "name"]
            + ["--force"]
        )

    # -- constraints (pcs constraint ...)

    def delete_constraint(self, cid):
        """``pcs constraint delete CID``."""
        constraints = self.section("constraints")
        for el in list(constraints):
            if el.get("id") == cid:
                self.remove(constraints, el)
        self.commands.append(["pcs", "constraint", "delete", cid])

    def _duplicate(self, cid, tag, key, wanted):
        dups = [
            el.get("id")
            for el in self.section("constraints").iter(tag)
            if el.find("resource_set") is None and el.get("id") != cid and key(el) == wanted
        ]
        if dups:
            raise VmCibError(
                f"constraint {cid}: duplicate constraint already exists ({', '.join(dups)}): "
                f"remove it first (pcs constraint delete {dups[0]})"
            )

    def add_constraint(self, cid, c):
        constraints = self.section("constraints")
        if c["tag"] == "rsc_colocation":

            def colocation(el):
                roles = [normalize_role((el.get(k) or "Started").capitalize()) for k in ("rsc-role", "with-rsc-role")]
                return (el.get("rsc"), el.get("with-rsc"), *roles)

            self._duplicate(
                cid, "rsc_colocation", colocation, (c["rsc"], c["with-rsc"], c["rsc-role"], c["with-rsc-role"])
            )
            self.claim(cid, "constraint")
            self.sub(constraints, "rsc_colocation", [
                ("rsc", c["rsc"]), ("with-rsc", c["with-rsc"]), ("score", c["score"]),
                ("rsc-role", self.role(c["rsc-role"])), ("with-rsc-role", self.role(c["with-rsc-role"])), ("id", cid),
            ])  # fmt: skip
            self.commands.append([
                "pcs", "constraint", "colocation", "add", c["rsc-role"], c["rsc"], "with", c["with-rsc-role"],
                c["with-rsc"], c["score"], f"id={cid}",
            ])  # fmt: skip
        elif c["tag"] == "rsc_order":

            def order(el):
                first = (el.get("first-action") or "start").lower()
                return (el.get("first"), el.get("then"), first, (el.get("then-action") or "start").lower())

            self._duplicate(cid, "rsc_order", order, (c["first"], c["then"], c["first-action"], c["then-action"]))
            self.claim(cid, "constraint")
            self.sub(constraints, "rsc_order", [
                ("first", c["first"]), ("then", c["then"]), ("kind", c["kind"]), ("id", cid),
                ("first-action", c["first-action"]), ("then-action", c["then-action"]), ("symmetrical", c["symmetrical"]),
            ])  # fmt: skip
            self.commands.append([
                "pcs", "constraint", "order", c["first-action"], c["first"], "then", c["then-action"], c["then"],
                f"kind={c['kind']}", f"symmetrical={c['symmetrical']}", f"id={cid}",
            ])  # fmt: skip
        elif "rule" in c:
            role, score, attribute, operation, value = c["rule"]

            def rule(el):
                rules = el.findall("rule")
                exprs = rules[0].findall("expression") if len(rules) == 1 else []
                if len(exprs) != 1 or el.get("node") is not None:
                    return None
                e = exprs[0]
                return (el.get("rsc"), normalize_role(rules[0].get("role")), normalize_score(rules[0].get("score")),
                        e.get("attribute"), e.get("operation"), e.get("value"))  # fmt: skip

            self._duplicate(
                cid, "rsc_location", rule, (c["rsc"], role, normalize_score(score), attribute, operation, value)
            )
            self.claim(cid, "constraint")
            loc = self.sub(constraints, "rsc_location", [("id", cid), ("rsc", c["rsc"])])
            rule_el = self.sub(
                loc, "rule", [("id", self.unique_id(f"{cid}-rule")), ("role", self.role(role)), ("score", score)]
            )
            expr_id = self.unique_id(f"{rule_el.get('id')}-expr")
            self.sub(
                rule_el,
                "expression",
                [("id", expr_id), ("operation", operation), ("attribute", attribute), ("value", value)],
            )
            self.commands.append([
                "pcs", "constraint", "location", c["rsc"], "rule", f"role={role}", f"score={score}",
                f"constraint-id={cid}", attribute, operation, value,
            ])  # fmt: skip
        else:
            # pcs constraint location add replaces a location constraint with this id, or with this
            # resource and node, whatever its id.
            for el in list(constraints):
                if el.tag == "rsc_location" and (
                    el.get("id") == cid or (el.get("node") == c["node"] and el.get("rsc") == c["rsc"])
                ):
                    self.remove(constraints, el)
            self.claim(cid, "constraint")
            self.sub(
                constraints,
                "rsc_location",
                [("id", cid), ("rsc", c["rsc"]), ("node", c["node"]), ("score", c["score"])],
            )
            self.commands.append(["pcs", "constraint", "location", "add", cid, c["rsc"], c["node"], c["score"]])


def _check_primitive(rid, current, wanted):
    if current is not None and current["agent"] != wanted["agent"]:
        raise VmCibError(
            f"resource {rid} exists as {current['agent']}, not {wanted['agent']}; "
            "it is not managed by duplex.vmpair: rename or remove it first"
        )


def _primitive_update(editor, rid, current, wanted, keep=()):
    """Make an existing primitive match ``wanted`` (managed meta keys only).

    The instance parameters in ``keep`` are left as they are, set or not.
    """
    pairs = [(k, v) for k, v in sorted(wanted["instance"].items()) if current["instance"].get(k) != v and k not in keep]
    pairs += [(k, "") for k in sorted(current["instance"]) if k not in wanted["instance"] and k not in keep]
    if pairs:
        editor.update_instance(rid, pairs)
    meta = [(k, v) for k, v in sorted(wanted["meta"].items()) if current["meta"].get(k) != v]
    if meta:
        editor.update_meta(rid, meta)
    wanted_keys = {op_key(op) for op in wanted["ops"]}
    current_keys = {op_key(op) for op in current["ops"]}
    for op in current["ops"]:
        if op_key(op) not in wanted_keys:
            editor.delete_op(op["id"])
    for op in wanted["ops"]:
        if op_key(op) not in current_keys:
            editor.add_op(rid, op)


def _normalized_constraint(c):
    """A desired constraint as read_constraint would return it."""
    if c is None:
        return None
    out = dict(c)
    if "score" in out:
        out["score"] = normalize_score(out["score"])
    return out


def vm_edits(editor, vm, current):
    """Change ``editor``'s CIB from ``current`` (:func:`.vm_objects.read_vm_objects`) to the wanted objects of ``vm``."""
    ids = resource_ids(vm.name)
    want = desired_objects(vm)
    _check_primitive(ids["drbd"], current["drbd"], want["drbd"])
    _check_primitive(ids["vm"], current["vm"], want["vm"])

    if current["clone"] is None:
        if current["drbd"] is not None:
            raise VmCibError(f"resource {ids['drbd']} exists but not in the promotable clone {ids['clone']}")
        command = [
            "pcs", "resource", "create", ids["drbd"], want["drbd"]["agent"], *_kv(want["drbd"]["instance"]),
            *_op_args(want["drbd"]["ops"]), "promotable", *_kv(want["clone_meta"]), "--no-default-ops",
        ]  # fmt: skip
        editor.create_promotable(ids["drbd"], ids["clone"], want["drbd"], want["clone_meta"], command)
    else:
        meta, child = current["clone"]
        if child != ids["drbd"]:
            raise VmCibError(f"clone {ids['clone']} exists but does not hold {ids['drbd']} (it holds {child})")
        if meta.get("promotable") != "true":
            raise VmCibError(f"clone {ids['clone']} exists but is not promotable")
        _primitive_update(editor, ids["drbd"], current["drbd"], want["drbd"])
        changed_meta = [(k, v) for k, v in want["clone_meta"].items() if meta.get(k) != v]
        if changed_meta:
            editor.update_meta(ids["clone"], changed_meta)

    if current["vm"] is None:
        command = [
            "pcs", "resource", "create", ids["vm"], want["vm"]["agent"], *_kv(want["vm"]["instance"]),
            *_op_args(want["vm"]["ops"]), "meta", *_kv(want["vm"]["meta"]), "--no-default-ops",
        ]  # fmt: skip
        editor.create_primitive(ids["vm"], want["vm"], command)
    else:
        # The migration parameters (MIGRATION_KEYS) change on request only (vm.migration_update: the
        # VM is stopped or moves cold in this transaction): VirtualDomain has no reload, so a changed
        # parameter restarts a running VM. Until then vm_objects.migration_pending says so.
        keep = () if vm.migration_update else MIGRATION_KEYS
        _primitive_update(editor, ids["vm"], current["vm"], want["vm"], keep)

    for cid, wanted in want["constraints"].items():
        have = current["constraints"].get(cid)
        wanted = _normalized_constraint(wanted)
        if have == wanted:
            continue
        if have is not None:
            editor.delete_constraint(cid)
        if wanted is not None:
            editor.add_constraint(cid, wanted)

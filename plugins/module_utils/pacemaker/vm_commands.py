# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pcs commands that turn what the CIB holds for a protected VM into what is wanted.

:func:`vm_commands` compares :func:`.vm_objects.read_vm_objects` with
:func:`.vm_objects.desired_objects` and returns ``pcs`` argument lists
(built with :func:`.cib.pcs_cmd`, so they run on a transaction's copy).
Objects with one of our ids but another agent or shape are refused with a
:class:`.vm_objects.VmCibError`, never replaced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import normalize_score, op_key, pcs_cmd
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import (
    MIGRATION_KEYS,
    VmCibError,
    desired_objects,
    resource_ids,
)


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


def _primitive_update(runner, rid, current, wanted, keep=()):
    """pcs commands that make an existing primitive match ``wanted`` (managed meta keys only).

    The instance parameters in ``keep`` are left as they are, set or not.
    """
    cmds = []
    args = [
        f"{k}={v}" for k, v in sorted(wanted["instance"].items()) if current["instance"].get(k) != v and k not in keep
    ]
    args += [f"{k}=" for k in sorted(current["instance"]) if k not in wanted["instance"] and k not in keep]
    if args:
        cmds.append(pcs_cmd(runner, "resource", "update", rid, *args))
    meta = [f"{k}={v}" for k, v in sorted(wanted["meta"].items()) if current["meta"].get(k) != v]
    if meta:
        cmds.append(pcs_cmd(runner, "resource", "meta", rid, *meta))
    wanted_keys = {op_key(op) for op in wanted["ops"]}
    current_keys = {op_key(op) for op in current["ops"]}
    for op in current["ops"]:
        if op_key(op) not in wanted_keys:
            cmds.append(pcs_cmd(runner, "resource", "op", "delete", op["id"]))
    for op in wanted["ops"]:
        if op_key(op) not in current_keys:
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
        out["score"] = normalize_score(out["score"])
    return out


def vm_commands(runner, vm, current):
    """The pcs commands turning ``current`` (:func:`.vm_objects.read_vm_objects`) into the wanted objects of ``vm``."""
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
        # The migration parameters (MIGRATION_KEYS) change on request only (vm.migration_update: the
        # VM is stopped or moves cold in this transaction): VirtualDomain has no reload, so a changed
        # parameter restarts a running VM. Until then vm_objects.migration_pending says so.
        keep = () if vm.migration_update else MIGRATION_KEYS
        cmds += _primitive_update(runner, ids["vm"], current["vm"], want["vm"], keep)

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

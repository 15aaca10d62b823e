# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Removing protected VMs from the CIB without surprises.

Pacemaker stops a running resource that is deleted from the
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

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    CibTransaction,
    Result,
    constraint_element,
    find_resource,
    nvpairs,
    pcs_cmd,
    read_cib,
    read_clone,
    read_cluster_properties,
    read_primitive,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import (
    CONSTRAINT_KEYS,
    render_vm_objects,
    resource_ids,
)

ORPHAN_PROPERTY = "stop-orphan-resources"


def _present(cib, name):
    ids = resource_ids(name)
    return {
        key: rid
        for key, rid in ids.items()
        if (key == "vm" and read_primitive(cib, rid) is not None)
        or (key == "clone" and read_clone(cib, rid) is not None)
        or (key in CONSTRAINT_KEYS and constraint_element(cib, rid) is not None)
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
        for key in CONSTRAINT_KEYS:
            if constraint_element(cib, ids[key]) is not None:
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
    before = render_vm_objects(cib, names)
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
                    el = find_resource(cib, "primitive" if key == "vm" else "clone", ids[key])
                    if nvpairs(el, "meta_attributes").get("target-role") != "Stopped":
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
        after = render_vm_objects(tx.cib(), names)
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

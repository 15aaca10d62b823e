# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Pacemaker configuration of protected VMs, changed in one CIB transaction.

All changes of one call go into ONE CIB transaction and one document:
``cibadmin --query`` into a temporary file, every VM's objects built or
changed in that XML in Python (:mod:`.vm_edits`: the XML pcs makes, no pcs
process per object), ``crm_verify --xml-file COPY`` as the judge, then
``pcs cluster cib-push COPY diff-against=ORIGINAL``. Three processes
whatever the number of VMs; a rerun with nothing to change runs only the
query. Check mode does the same on the copy (``crm_verify`` included) and
stops before the push, so its diff is exact.

The parts: :mod:`.vm_objects` (input, resource ids, the wanted and the
current objects of a VM), :mod:`.vm_edits` (the XML edits between the two,
each with the pcs command that would make it), :mod:`.vm_remove` (removal,
see there why it takes two steps) and :mod:`.cib` (CIB readers and
:class:`~.cib.CibTransaction`). This module adds :func:`ensure_vms_present`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import CibTransaction, Result, node_names
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_edits import CibEditor, vm_edits
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import (
    VmCibError,
    migration_pending,
    read_vm_objects,
    render_vm_objects,
)


def ensure_vms_present(runner, vms, check_mode=False):
    """Make the CIB hold the resources and constraints of every VM in ``vms`` (ProtectedVm list).

    Returns a :class:`~.cib.Result`: ``changed``, ``commands`` (the pcs
    commands that make the same change, in order; the change itself is made
    in the XML), ``diff`` (XML of the VMs' objects before/after)
    ``pushes`` (0 or 1) and ``migration_pending`` (the VMs whose resource
    keeps migration parameters other than wanted, see
    :func:`.vm_objects.migration_pending`). Nothing is pushed when nothing
    differs or in check mode.
    """
    names = [vm.name for vm in vms]
    if len(set(names)) != len(names):
        raise VmCibError("every VM may appear only once")
    with CibTransaction(runner) as tx:
        cib = tx.cib("original")
        nodes = node_names(cib)
        for vm in vms:
            for what, node in (("host", vm.host), ("move_to", vm.move_to)):
                if nodes and node and node not in nodes:
                    raise VmCibError(f"VM {vm.name}: {what} {node} is not a cluster node ({', '.join(nodes)})")
        editor = CibEditor(copy.deepcopy(cib))
        for vm in vms:
            vm_edits(editor, vm, read_vm_objects(cib, vm.name))
        before = render_vm_objects(cib, names)
        final = editor.cib if editor.commands else cib
        after = render_vm_objects(final, names) if editor.commands else before
        pending = []
        for vm in vms:
            now = read_vm_objects(final, vm.name)["vm"]
            if now is not None and migration_pending(now["instance"], vm.migration_tunnelled):
                pending.append(vm.name)
        if editor.commands:
            tx.write(editor.cib)
            tx.verify()
            if not check_mode:
                tx.push()
        return Result(
            changed=bool(editor.commands),
            commands=editor.commands,
            before=before,
            after=after,
            pushes=int(tx.pushed),
            migration_pending=pending,
        )

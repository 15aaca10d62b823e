# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cluster properties through pcs.

Shape of every ``ensure_*`` function: read the current state from the CIB
(:func:`.cib.read_cib`), compute what must change, then - unless in check
mode - run the pcs commands. Each returns a :class:`.cib.Result` with
``changed``, the ``commands`` that were (or would be) run and a ``diff``
with before/after text. Secrets never appear in any of them.

All commands go through a :class:`~.runner.CommandRunner` and
:func:`.cib.pcs_cmd` (``pcs -f FILE`` when the runner has a ``cib_file``).
Reading the CIB and the shared helpers live in :mod:`.cib`, fence devices
in :mod:`.fencing`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    Result,
    normalize_value,
    pcs_cmd,
    read_cib,
    read_cluster_properties,
    render_pairs,
)

# ---------------------------------------------------------------------------
# cluster properties


def cluster_property_commands(runner, to_set, to_unset=()):
    """One ``pcs property set`` for everything; ``name=`` removes a property."""
    args = [f"{name}={value}" for name, value in to_set.items()]
    args += [f"{name}=" for name in to_unset]
    if not args:
        return []
    return [pcs_cmd(runner, "property", "set", *args)]


def ensure_cluster_properties(runner, properties, check_mode=False):
    """Make the cib-bootstrap-options properties match ``properties``.

    ``properties`` maps name -> value; a value of None removes the property.
    Properties not named are left alone.
    """
    current = read_cluster_properties(read_cib(runner))
    to_set = collections.OrderedDict()
    to_unset = []
    for name in sorted(properties):
        value = normalize_value(properties[name])
        if value is None:
            if name in current:
                to_unset.append(name)
        elif current.get(name) != value:
            to_set[name] = value

    after = dict(current)
    after.update(to_set)
    for name in to_unset:
        after.pop(name, None)

    commands = cluster_property_commands(runner, to_set, to_unset)
    for cmd in commands:
        if not check_mode:
            runner.run(cmd)
    if commands and not check_mode:
        after = read_cluster_properties(read_cib(runner))

    return Result(
        changed=bool(commands),
        commands=[runner.mask_cmd(c) for c in commands],
        before="\n".join(render_pairs(current)) + ("\n" if current else ""),
        after="\n".join(render_pairs(after)) + ("\n" if after else ""),
        properties=dict(after),
    )

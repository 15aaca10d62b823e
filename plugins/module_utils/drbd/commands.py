# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The drbdadm commands a module runs on each host for one DRBD resource.

:class:`DrbdCommands` builds single argument lists, :func:`has_metadata`
reads the result of ``dump-md`` and :func:`host_plan` puts the commands of
one host in order.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import ParseError


class DrbdCommands:
    """drbdadm argument lists for one resource, the same on 8.4 and 9.

    On a host, ``drbdadm`` from drbd-utils runs the 8.4 backend itself
    (``/usr/lib/drbd/drbdadm-84``) when the loaded module is 8.4, so the
    commands do not change with the version; what changes is what drbdadm
    does: 9 promotes the resource (``drbdsetup primary RES --force``),
    8.4 each minor (``drbdsetup-84 primary MINOR --force``); 9's create-md
    writes v09 metadata sized for the peers in the file, 8.4 v08 metadata.

    ``program`` replaces ``drbdadm`` (tests use the 8.4 backend directly),
    ``config`` adds ``-c FILE`` and ``dry_run`` adds ``-d`` (print the
    drbdsetup/drbdmeta calls instead of running them).
    """

    def __init__(self, resource, program="drbdadm", config=None, dry_run=False):
        self.resource = resource
        self.program = program
        self.config = config
        self.dry_run = dry_run

    def _cmd(self, *args):
        cmd = [self.program]
        if self.config:
            cmd += ["-c", self.config]
        if self.dry_run:
            cmd.append("-d")
        return cmd + list(args)

    def _target(self, volume=None):
        return self.resource if volume is None else "%s/%d" % (self.resource, volume)

    def dump_md(self, volume):
        """Read one volume's metadata; classify the result with :func:`has_metadata`."""
        return self._cmd("dump-md", self._target(volume))

    def create_md(self, volume=None):
        """Initialise metadata (all volumes, or one). Only for volumes without metadata."""
        return self._cmd("create-md", "--force", self._target(volume))

    def up(self):
        return self._cmd("up", self.resource)

    def adjust(self):
        return self._cmd("adjust", self.resource)

    def primary(self, force=False):
        return self._cmd("primary", "--force", self.resource) if force else self._cmd("primary", self.resource)

    def secondary(self):
        return self._cmd("secondary", self.resource)

    def down(self):
        return self._cmd("down", self.resource)

    def role(self):
        return self._cmd("role", self.resource)


def has_metadata(rc, stdout, stderr):
    """Result of :meth:`DrbdCommands.dump_md` -> True (metadata present) / False (none).

    An attached volume refuses dump-md ("... is configured"): it has metadata.
    Anything else raises ParseError with drbdmeta's message.
    """
    text = "%s\n%s" % (stdout or "", stderr or "")
    if rc == 0:
        return True
    if "No valid meta data found" in text:
        return False
    if re.search(r"is configured", text):
        return True
    detail = (stderr or stdout or "").strip().splitlines()
    raise ParseError("drbdadm dump-md failed (rc=%s): %s" % (rc, detail[-1] if detail else "no output"))


def host_plan(resource, volumes_without_metadata, configured, initial_primary, all_volumes=None, **kwargs):
    """The drbdadm commands for one host, in order.

    :param volumes_without_metadata: volume numbers whose backing LV has no DRBD metadata
    :param configured: the resource is already known to the kernel (``drbdadm role`` succeeds)
    :param initial_primary: this host holds the VM's data and starts the first full sync
    :param all_volumes: every volume number; when all lack metadata one ``create-md RES`` does it
    :param kwargs: passed to :class:`DrbdCommands` (program, config, dry_run)

    create-md only where metadata is missing; ``up`` a resource the kernel does
    not know yet, ``adjust`` one it knows; ``primary --force`` on the initial
    primary only (it overwrites the peer). ``down`` is :meth:`DrbdCommands.down`.
    """
    cmds = DrbdCommands(resource, **kwargs)
    plan = []
    missing = sorted(set(volumes_without_metadata))
    if missing and all_volumes is not None and set(missing) == set(all_volumes):
        plan.append(cmds.create_md())
    else:
        plan += [cmds.create_md(vnr) for vnr in missing]
    plan.append(cmds.adjust() if configured else cmds.up())
    if initial_primary:
        plan.append(cmds.primary(force=True))
    return plan

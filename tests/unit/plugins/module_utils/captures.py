# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outputs captured on lab hosts, read by Debian release.

tests/unit/fixtures/capture_state.py writes ``STATE_KEY.txt`` (stdout), ``.rc`` and ``.stderr``
(only when not empty) per tool of ``state.commands()``, and ``STATE_proc_drbd.txt`` /
``STATE_bonding_IFACE.txt`` for the files pair_info reads. Each release keeps its captures in a
directory of its own, under the same names, so a state captured on both can be compared file by
file (``diff -r tests/unit/fixtures/state tests/unit/fixtures/state/trixie``):

* ``bookworm``: tests/unit/fixtures/state (Debian 12: corosync 3.1.7, corosync-qdevice 3.0.3,
  Pacemaker 2.1.5, pcs 0.11.5, drbd-utils 9.22, libvirt 9.0);
* ``trixie``: tests/unit/fixtures/state/trixie (Debian 13: corosync 3.1.9, corosync-qdevice
  3.0.3, Pacemaker 3.0.0, pcs 0.12.0, drbd-utils 9.22, libvirt 11.3); see its README.md.
"""

import os

from ansible_collections.duplex.vmpair.plugins.module_utils.health import base as state_base
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state

STATE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "state"))
RELEASES = ("bookworm", "trixie")
DIRS = {"bookworm": STATE, "trixie": os.path.join(STATE, "trixie")}


class Captures:
    """The captures of one release: ``text``/``output``/``outputs``/``reader`` of a state."""

    def __init__(self, release):
        if release not in DIRS:
            raise ValueError("release must be one of %s, not %r" % (", ".join(RELEASES), release))
        self.release = release
        self.dir = DIRS[release]

    def __repr__(self):
        return "Captures(%r)" % self.release

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name, default=None):
        """The text of fixture file ``name``, or ``default`` when it was not captured."""
        path = self.path(name)
        if not os.path.exists(path):
            return default
        with open(path) as handle:
            return handle.read()

    def has(self, state_name, key=None):
        """Whether ``state_name`` was captured (with tool ``key`` when given)."""
        if key is not None:
            return os.path.exists(self.path("%s_%s.rc" % (state_name, key)))
        return any(self.has(state_name, key) for key in state.COMMANDS)

    def text(self, state_name, key):
        return self.read("%s_%s.txt" % (state_name, key), "")

    def output(self, state_name, key):
        """The :class:`base.Output` of tool ``key`` in ``state_name``."""
        rc = self.read("%s_%s.rc" % (state_name, key))
        if rc is None:
            raise FileNotFoundError("%s: %s_%s was not captured" % (self.release, state_name, key))
        return state_base.Output(int(rc), self.text(state_name, key), self.read("%s_%s.stderr" % (state_name, key), ""))

    def outputs(self, state_name, keys=None):
        """{key: Output} of every captured tool of ``state_name`` (``keys``: only those, all must exist)."""
        if keys is not None:
            return {key: self.output(state_name, key) for key in keys}
        every = state.commands(state.CHECKS, "kvm", True)
        return {key: self.output(state_name, key) for key in every if self.has(state_name, key)}

    def reader(self, state_name):
        """``read(path)`` for pair_info's files: /proc/drbd and /proc/net/bonding/BOND of the state."""

        def read_file(path):
            if path == "/proc/drbd":
                return self.read("%s_proc_drbd.txt" % state_name)
            return self.read("%s_bonding_%s.txt" % (state_name, os.path.basename(path)))

        return read_file


def releases_with(state_name, key=None):
    """The releases that captured ``state_name`` (for ``pytest.mark.parametrize``)."""
    return [release for release in RELEASES if Captures(release).has(state_name, key)]

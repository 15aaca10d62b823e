# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outputs captured on lab hosts, read by Debian release.

tests/unit/fixtures/capture_state.py writes one folder per captured state, ``RELEASE/STATE/``: per
tool of ``state.commands()`` ``KEY.txt`` (stdout) and ``KEY.stderr`` (only when not empty), the exit
codes of all of them in one ``rc.json`` (``{KEY: rc}``), and ``proc_drbd.txt`` /
``bonding_IFACE.txt`` for the files pair_info reads. Each release keeps its states under the same
names, so a state captured on both can be compared file by file
(``diff -r tests/unit/fixtures/state/bookworm/healthy tests/unit/fixtures/state/trixie/healthy``):

* ``bookworm``: tests/unit/fixtures/state/bookworm (Debian 12: corosync 3.1.7, corosync-qdevice
  3.0.3, Pacemaker 2.1.5, pcs 0.11.5, drbd-utils 9.22, libvirt 9.0);
* ``trixie``: tests/unit/fixtures/state/trixie (Debian 13: corosync 3.1.9, corosync-qdevice
  3.0.3, Pacemaker 3.0.0, pcs 0.12.0, drbd-utils 9.22, libvirt 11.3); see its README.md.
"""

import json
import os

from ansible_collections.duplex.vmpair.plugins.module_utils.health import base as state_base
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state

STATE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "state"))
RELEASES = ("bookworm", "trixie")
DIRS = {release: os.path.join(STATE, release) for release in RELEASES}
# The file of a state's exit codes, {KEY: rc}.
RC_FILE = "rc.json"


class Captures:
    """The captures of one release: ``text``/``output``/``outputs``/``reader`` of a state."""

    def __init__(self, release):
        if release not in DIRS:
            raise ValueError("release must be one of %s, not %r" % (", ".join(RELEASES), release))
        self.release = release
        self.dir = DIRS[release]

    def __repr__(self):
        return "Captures(%r)" % self.release

    def path(self, state_name, name):
        return os.path.join(self.dir, state_name, name)

    def read(self, state_name, name, default=None):
        """The text of fixture file ``name`` of ``state_name``, or ``default`` when it was not captured."""
        path = self.path(state_name, name)
        if not os.path.exists(path):
            return default
        with open(path) as handle:
            return handle.read()

    def rcs(self, state_name):
        """{key: exit code} of the tools captured in ``state_name`` (empty when none was)."""
        return json.loads(self.read(state_name, RC_FILE, "{}"))

    def has(self, state_name, key=None):
        """Whether ``state_name`` was captured (with tool ``key`` when given)."""
        if key is not None:
            return key in self.rcs(state_name)
        return any(self.has(state_name, key) for key in state.COMMANDS)

    def text(self, state_name, key):
        return self.read(state_name, key + ".txt", "")

    def output(self, state_name, key):
        """The :class:`base.Output` of tool ``key`` in ``state_name``."""
        rc = self.rcs(state_name).get(key)
        if rc is None:
            raise FileNotFoundError("%s: %s/%s was not captured" % (self.release, state_name, key))
        return state_base.Output(rc, self.text(state_name, key), self.read(state_name, key + ".stderr", ""))

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
                return self.read(state_name, "proc_drbd.txt")
            return self.read(state_name, "bonding_%s.txt" % os.path.basename(path))

        return read_file


def releases_with(state_name, key=None):
    """The releases that captured ``state_name`` (for ``pytest.mark.parametrize``)."""
    return [release for release in RELEASES if Captures(release).has(state_name, key)]

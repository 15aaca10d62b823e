# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab test equipment, not part of the collection: when a lab host stops answering, say so loudly.

The Molecule scenarios enable it (callbacks_enabled, callback_plugins pointing here) together with
ANSIBLE_ANY_ERRORS_FATAL, so the first unreachable host stops the play at once. This callback prints
which host, during which task of which play, Ansible's own message, and the tail of the host's
serial console (the inventory variable ``lab_serial_log`` that ``lab.py vm up`` writes for each VM
lab host): a kernel soft lockup, an OOM kill or a panic shows there, which no ssh error names.
Container lab hosts have no serial log: their name and task are printed all the same.
"""

import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: vmpair_lab
type: aggregate
short_description: Name a lab host that stopped answering, with the tail of its serial log
description:
  - Lab test equipment of duplex.vmpair, used by its Molecule scenarios.
options:
  lines:
    description: How many lines of the serial log to show.
    type: int
    default: 40
    env:
      - name: VMPAIR_LAB_SERIAL_LINES
"""

SERIAL_VAR = "lab_serial_log"


def serial_tail(path, lines):
    """The last `lines` lines of the serial log at `path`, or a sentence saying why there are none."""
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return "(cannot read %s: %s)" % (path, exc)
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(%s is empty)" % path


def report(host, task, play, message, serial_path, tail):
    """The text shown for an unreachable host."""
    out = [
        "LAB HOST %s STOPPED ANSWERING during task %r (play %r); the play stops here, no later check "
        "runs on what it never delivered." % (host, task, play),
        "Ansible said: %s" % (message or "(no message)").strip(),
    ]
    if serial_path:
        out.append("Last lines of its serial console (%s):" % serial_path)
        out.extend("  | " + line for line in (tail or "").splitlines())
    return "\n".join(out)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vmpair_lab"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._play = ""

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_unreachable(self, result):
        host = result._host
        path = host.vars.get(SERIAL_VAR)
        lines = self.get_option("lines")
        text = report(
            host.get_name(),
            result._task.get_name(),
            self._play,
            result._result.get("msg"),
            path,
            serial_tail(path, lines),
        )
        self._display.display(text, color="bright red", stderr=True)

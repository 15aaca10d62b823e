# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Two primaries for a VM's DRBD resource, only while the VM migrates live.

A live migration runs the VM on both hosts for a moment, so both must be DRBD Primary, which
DRBD allows only with ``allow-two-primaries`` and protocol C. The Pacemaker agent
(``ocf:linbit:drbd``) reads the option from the configuration (``drbdadm -d dump``), not from
the kernel, before it promotes a second node: so it goes into the resource file, and ``drbdadm
adjust`` applies it to the running resource (DRBD 8.4 and 9 change the net options and the
protocol of a connected resource without disconnecting).

:func:`dual_primary_text` edits the file that :func:`.config.render_resource` wrote: the
``protocol`` line becomes ``protocol C;``, followed by a marker that remembers the level's own
protocol and ``allow-two-primaries yes;``. Turned off, the file is byte for byte what it was.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file, write_atomic
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK, CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import DrbdError, resource_name, resource_path

_PROTOCOL = re.compile(r"^(\s*)protocol ([ABC]);\s*$")
_MARK = re.compile(r"^\s*# vmpair-dual-primary: a live migration runs; protocol ([ABC]) outside it\s*$")
_ALLOW = re.compile(r"^\s*allow-two-primaries yes;\s*$")
_SECRET = re.compile(r'^(\s*shared-secret\s+)"[^"]*";', re.MULTILINE)
_SECRET_VALUE = re.compile(r'^\s*shared-secret\s+"([^"]*)";', re.MULTILINE)


def dual_primary_text(text, on):
    """``text`` (a resource file) with two primaries allowed (``on``) or back to the level's own settings."""
    lines = text.splitlines(True)
    marks = [i for i, line in enumerate(lines) if _MARK.match(line)]
    protocols = [i for i, line in enumerate(lines) if _PROTOCOL.match(line)]
    if len(protocols) != 1:
        raise DrbdError(
            "the resource file has %d protocol lines, not one: it is not one this collection wrote" % len(protocols)
        )
    index = protocols[0]
    indent, protocol = _PROTOCOL.match(lines[index]).groups()
    if on:
        if marks:
            return text
        added = [
            "%s# vmpair-dual-primary: a live migration runs; protocol %s outside it\n" % (indent, protocol),
            "%sallow-two-primaries yes;\n" % indent,
        ]
        return "".join(lines[:index] + ["%sprotocol C;\n" % indent] + added + lines[index + 1 :])
    if not marks:
        return text
    original = _MARK.match(lines[marks[0]]).group(1)
    lines[index] = "%sprotocol %s;\n" % (indent, original)
    return "".join(line for i, line in enumerate(lines) if i not in marks and not _ALLOW.match(line))


def masked(text):
    """The resource file as shown in a diff: the shared secret masked."""
    return _SECRET.sub(r'\1"%s";' % MASK, text)


def shared_secrets(text):
    """The shared secrets written in a resource file (drbdadm echoes them when a command fails)."""
    return [secret for secret in _SECRET_VALUE.findall(text) if secret]


def both_primary(role_output):
    """Whether ``drbdadm role`` says Primary on both sides (8.4: ``Primary/Primary``; 9: two lines)."""
    words = re.findall(r"\b(Primary|Secondary|Unknown)\b", role_output)
    return len(words) >= 2 and all(w == "Primary" for w in words)


def run(vm, allow, runner, check_mode=False, path=None, no_log_values=None):
    """Allow (``allow``) or stop allowing two primaries for ``vm``'s resource; the module's result.

    The file's shared secret is registered with ``runner`` (masked in the errors of the drbdadm
    calls, which print the configuration with it when they fail) and added to ``no_log_values``
    (the module's), before any command runs.
    """
    resource = resource_name(vm)
    path = path or resource_path(vm)
    text = read_file(path)
    if text is None:
        raise DrbdError("%s does not exist: is VM %s protected on this host?" % (path, vm))
    secrets = shared_secrets(text)
    runner.add_secrets(secrets)
    if no_log_values is not None:
        no_log_values.update(secrets)
    new = dual_primary_text(text, allow)
    role = runner.run(["drbdadm", "role", resource], check_rc=False)
    result = {"changed": new != text, "resource": resource, "path": path, "role": role.stdout.strip()}
    result["commands"] = [["drbdadm", "adjust", resource]] if result["changed"] else []
    result["diff"] = {"before_header": path, "after_header": path, "before": masked(text), "after": masked(new)}
    if not allow and result["changed"] and both_primary(role.stdout):
        raise DrbdError(
            "%s is Primary on both hosts: DRBD cannot stop allowing two primaries until one side is demoted. "
            "Let the cluster finish the migration (pcs status --full), then run again." % resource
        )
    if check_mode or not result["changed"]:
        return result
    mode = os.stat(path).st_mode & 0o7777
    write_atomic(path, new, mode)
    try:
        runner.run(["drbdadm", "adjust", resource])
    except CommandError:
        write_atomic(path, text, mode)  # the file says what the kernel runs: a rerun starts over
        raise
    return result

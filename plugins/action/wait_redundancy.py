# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of duplex.vmpair.wait_redundancy (docs: plugins/modules/wait_redundancy.py).

Runs duplex.vmpair.pair_info (checks: [mirror]) on the host every ``interval`` seconds and shows one
progress line after each read, live, until the mirrors are redundant; the loop, the lines and the stall
detection are in plugin_utils/progress.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.plugin_utils import progress

display = Display()

ARGUMENT_SPEC = {
    "vms": {"type": "list", "elements": "str", "default": []},
    "resources": {"type": "list", "elements": "str", "default": []},
    "interval": {"type": "int", "default": 10},
    "stall_timeout": {"type": "int", "default": 300},
    "timeout": {"type": "int", "default": 7200},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        for key in ("interval", "stall_timeout", "timeout"):
            if args[key] < 1:
                result.update(failed=True, msg="%s must be at least 1 second, not %d." % (key, args[key]))
                return result
        host = self._task.delegate_to or task_vars.get("inventory_hostname")
        names = list(args["resources"]) + [vocabulary.drbd_name(vm) for vm in args["vms"]]
        try:
            out = progress.wait(
                lambda: self._read(host, task_vars, names),
                display.display,
                host,
                names,
                args["interval"],
                args["stall_timeout"],
                args["timeout"],
                time.monotonic,
                time.sleep,
            )
        except progress.WaitFailed as exc:
            result.update(exc.partial)
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(out)
        result.update(changed=False, msg=out["lines"][-1])
        return result

    def _read(self, host, task_vars, names):
        """pair_info's mirror.resources on the host; WaitFailed when it cannot say. A host without the DRBD
        module has no mirror: nothing to wait for, unless some are named."""
        res = self._execute_module(
            module_name="duplex.vmpair.pair_info", module_args={"checks": ["mirror"]}, task_vars=task_vars
        )
        if res.get("failed") or res.get("unreachable"):
            raise progress.WaitFailed(
                "%s: duplex.vmpair.pair_info failed while waiting for the mirrors: %s"
                % (host, res.get("msg") or "no message")
            )
        mirror = res.get("mirror") or {}
        if not mirror.get("loaded") and not names:
            return []
        if not mirror.get("loaded") or mirror.get("error"):
            raise progress.WaitFailed(
                "%s cannot say how its mirrors are: %s. Fix: check DRBD there (lsmod | grep drbd; drbdadm status)."
                % (host, mirror.get("error") or "pair_info returned no mirror state")
            )
        return mirror.get("resources") or []

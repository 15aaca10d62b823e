# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One command runner for every cluster tool call (pcs, cibadmin, crm_*).

Commands are argument lists, never shell strings. Every call runs with
``LANG=C``/``LC_ALL=C`` so output can be parsed, and, when a CIB file is
given, with ``CIB_file`` set so the Pacemaker tools work on that offline file
instead of the live cluster. (pcs does not pass ``CIB_file`` on to the tools
it calls itself; :mod:`.pacemaker.cib` (:func:`.cib.pcs_cmd`) adds ``pcs -f FILE`` for that.)

The runner only needs an object with AnsibleModule's ``run_command`` and
``get_bin_path``; tests can pass a small fake.

:func:`run_and_exit` is the end every module that runs commands shares: it gives the module's
work a runner, turns a CommandError (or one of the module's own errors) into ``fail_json`` and
the work's result into ``exit_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

MASK = "********"

# Where the cluster tools live on Debian even if PATH lacks the sbin directories.
_SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/local/sbin"]

# Debian packages that ship each tool, for a useful "not found" message.
PACKAGES = {
    "pcs": "pcs",
    "cibadmin": "pacemaker-cli-utils",
    "crm_resource": "pacemaker-cli-utils",
    "crm_verify": "pacemaker-cli-utils",
    "crm_attribute": "pacemaker-cli-utils",
    "crm_mon": "pacemaker-cli-utils",
    "corosync-quorumtool": "corosync",
    "corosync-cfgtool": "corosync",
    "corosync-cmapctl": "corosync",
    "corosync-qdevice-tool": "corosync-qdevice",
    "drbdsetup": "drbd-utils",
    "drbdadm": "drbd-utils",
    "virsh": "libvirt-clients",
    "ip": "iproute2",
    "networkctl": "systemd",
    "systemctl": "systemd",
    "nmcli": "network-manager",
}

CommandResult = collections.namedtuple("CommandResult", ["cmd", "rc", "stdout", "stderr"])


class CommandError(Exception):
    """A command failed (or could not be started).

    ``cmd`` is the argument list as shown to users (secrets masked), ``rc`` is
    None when the program was not found.
    """

    def __init__(self, msg, cmd=None, rc=None, stdout="", stderr=""):
        super().__init__(msg)
        self.msg = msg
        self.cmd = list(cmd or [])
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def fail_kwargs(self):
        """Keyword arguments for ``module.fail_json(**err.fail_kwargs())``."""
        return {
            "msg": self.msg,
            "cmd": self.cmd,
            "rc": self.rc,
            "stdout": self.stdout,
            "stderr": self.stderr,
        }


class CommandRunner:
    """Run commands through ``module.run_command`` with a fixed environment.

    :param module: AnsibleModule (or anything with ``run_command``/``get_bin_path``)
    :param cib_file: optional path of an offline CIB; exported as ``CIB_file``
    :param secrets: strings that must never appear in errors (masked in stdout/stderr)
    :param redact: optional callable(list) -> list masking secrets in a command line
    """

    def __init__(self, module, cib_file=None, secrets=None, redact=None):
        self.module = module
        self.cib_file = cib_file
        self.secrets = {s for s in (secrets or []) if s}
        self.redact = redact
        self._bin_cache = {}

    @property
    def environ(self):
        env = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
        if self.cib_file:
            env["CIB_file"] = self.cib_file
        return env

    def add_secrets(self, values):
        self.secrets.update(v for v in values if v)

    def mask_cmd(self, cmd):
        """The command as shown to users: ``redact`` when set (it knows which
        arguments are secret), otherwise every known secret value masked."""
        if self.redact is not None:
            return list(self.redact(list(cmd)))
        return [self.mask_text(arg) for arg in cmd]

    def mask_text(self, text):
        if not text:
            return text
        # Longest first so a secret containing another one is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def _resolve(self, program):
        if program.startswith("/"):
            return program
        if program not in self._bin_cache:
            path = self.module.get_bin_path(program, required=False, opt_dirs=_SBIN_DIRS)
            if not path:
                package = PACKAGES.get(program, program)
                raise CommandError(
                    f"{program} was not found on this host; install the Debian package {package}",
                    cmd=[program],
                    rc=None,
                )
            self._bin_cache[program] = path
        return self._bin_cache[program]

    def run(self, cmd, data=None, check_rc=True):
        """Run ``cmd`` (a list). Raise CommandError on rc != 0 when ``check_rc``.

        Returns a CommandResult whose ``cmd`` is the masked, logical command
        and whose output is not masked (never return it to the user as is).
        """
        if isinstance(cmd, (str, bytes)):
            raise TypeError("commands must be argument lists, not strings")
        cmd = [str(arg) for arg in cmd]
        argv = [self._resolve(cmd[0])] + cmd[1:]
        rc, stdout, stderr = self.module.run_command(
            argv,
            data=data,
            check_rc=False,
            environ_update=self.environ,
            binary_data=data is not None,
        )
        shown = self.mask_cmd(cmd)
        # Output is returned unmasked: callers parse it (the CIB holds the
        # secrets). Only what goes into an error is masked.
        result = CommandResult(shown, rc, stdout, stderr)
        if check_rc and rc != 0:
            stdout, stderr = self.mask_text(stdout), self.mask_text(stderr)
            detail = (stderr or stdout or "").strip()
            msg = f"{' '.join(shown)} failed (rc={rc})"
            if detail:
                msg = f"{msg}: {detail}"
            raise CommandError(msg, cmd=shown, rc=rc, stdout=stdout, stderr=stderr)
        return result


def _failure(exc, report=None):
    """``fail_json``'s keyword arguments for ``exc``: ``report(exc)`` when given, else the error's
    own ``fail_kwargs()`` when it has one (CommandError), else its text as ``msg``."""
    if report is not None:
        return report(exc)
    if hasattr(exc, "fail_kwargs"):
        return exc.fail_kwargs()
    return {"msg": str(exc)}


def run_and_exit(module, work, errors=(), cib_file=None, diff=None, warnings=None):
    """End ``module`` with the result of ``work(runner)``, a CommandRunner for it (on ``cib_file`` when given).

    :param work: callable(runner) returning the result: a dict, or an object with ``as_dict()``
        (``pacemaker.cib.Result``)
    :param errors: the module's own error types besides CommandError, each reported as described in
        :func:`_failure`, or a ``(type, report)`` pair where ``report(exc)`` returns ``fail_json``'s
        keyword arguments
    :param diff: None: the result's ``diff`` as ``work`` returns it; ``"asked"``: only with ``--diff``
        (an empty list when ``work`` gave none); ``"changed"``: only with ``--diff`` and when changed
    :param warnings: optional callable(result) returning texts for ``module.warn``
    """
    handlers = [(CommandError, None)] + [e if isinstance(e, tuple) else (e, None) for e in errors]
    try:
        result = work(CommandRunner(module, cib_file=cib_file))
    except Exception as exc:  # the module's own errors are picked here; any other goes on up as it is
        reports = [report for kind, report in handlers if isinstance(exc, kind)]
        if not reports:
            raise
        module.fail_json(**_failure(exc, reports[0]))
    if not isinstance(result, dict):
        result = result.as_dict()
    if diff is not None:
        shown = result.pop("diff", [])
        if module._diff and (diff == "asked" or result["changed"]):
            result["diff"] = shown
    for text in warnings(result) if warnings is not None else ():
        module.warn(text)
    module.exit_json(**result)

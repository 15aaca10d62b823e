# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the site model reads from the inventory, through interfaces Ansible supports (controller only).

Why these interfaces: ansible-core's inventory and variable objects are internal (its docs, "Python
API": "intended for internal Ansible use ... external use is not supported by Ansible"), and they
change: 2.19 changed the class behind `hostvars`, and every playbook failed at its first task. So
the site model uses only what Ansible documents for playbooks and plugins (run on ansible-core 2.17
and 2.19; the same code in 2.21):

- the magic variables of the docs' "Special Variables" page: `groups` (every group's hosts, in
  inventory order), `hostvars`, `ansible_inventory_sources`, `playbook_dir`;
- for the group tree, which no magic variable holds (`groups` and `group_names` are flat, and a
  group such as kvm_hosts may hold the same hosts as a pair), Ansible's command for it:
  `ansible-inventory --graph GROUP` (documented CLI; the maintainers' answer to "which groups are
  nested in which", ansible/ansible#16026), run on the same inventory sources. `--graph` reads no
  variables, so it needs no vault password. Its format (`  |--@child:`) is the same in 2.17, 2.19
  and 2.21;
- `ansible-inventory --host localhost`, only to tell an unknown vmpair_* name that every host sees
  apart: the `all` group's (an inventory mistake) or an extra variable's (-e, an AWX survey: a
  playbook's option). The hostvars of a host hold both and do not say which.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

VAULT_HEADER = b"$ANSIBLE_VAULT;"  # the first bytes of a file made by ansible-vault (docs: Vault, file format)
LOCALHOST_NAMES = ("localhost", "127.0.0.1", "::1")  # the names of Ansible's implicit localhost
_GRAPH_LINE = re.compile(r"^((?:  \|)+)--(.*)$")
TIMEOUT = 600
CACHE_MAX_AGE = 86400  # a run's cached answers are removed a day later


class InventoryReadError(Exception):
    """ansible-inventory could not read the inventory; the message says what it printed."""


def _command():
    """The ansible-inventory of the running ansible-core: the script beside its Python, else `python -m ansible`."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    if os.access(beside, os.X_OK):
        return [beside]
    return [sys.executable, "-m", "ansible", "inventory"]


def playbook_run_key():
    """What names the ansible-playbook run that this task is part of, or None where it cannot be known.

    Each task runs in a worker process that the ansible-playbook process forked, so the worker's
    parent is the run: its process id and the time it started (/proc, Linux) name it even after the
    id is reused. The inventory's group tree does not change during a run (add_host and group_by
    are not pairs), so one ansible-inventory answer serves every site_model task of the run.
    """
    ppid = os.getppid()
    try:
        with open("/proc/%d/stat" % ppid) as handle:
            start = handle.read().rsplit(")", 1)[1].split()[19]  # field 22, starttime
    except (OSError, IndexError):
        return None
    return "%d:%s" % (ppid, start)


def _cache_dir():
    return os.path.join(tempfile.gettempdir(), "duplex-vmpair-inventory-%d" % os.getuid())


def _fingerprint(sources):
    """(path, size, mtime) of every inventory file: an inventory rewritten under the same name is new."""
    out = []
    for source in sources or []:
        if not isinstance(source, str) or not os.path.exists(source):
            continue
        paths = [source]
        if os.path.isdir(source):
            paths = sorted(os.path.join(root, f) for root, _dirs, files in os.walk(source) for f in files)
        for path in paths:
            try:
                info = os.stat(path)
            except OSError:
                continue
            out.append([path, info.st_size, info.st_mtime_ns])
    return out


def _cache_path(run_key, cmd, sources):
    key = [run_key, cmd, os.getcwd(), _fingerprint(sources)]
    digest = hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()
    return os.path.join(_cache_dir(), digest[:40] + ".out")


def _cache_write(path, text):
    """Keep `text` for the other tasks of the run (0700 directory of this user); drop answers of old runs."""
    base = os.path.dirname(path)
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        if os.stat(base).st_uid != os.getuid():
            return
        now = time.time()
        for name in os.listdir(base):
            old = os.path.join(base, name)
            if now - os.stat(old).st_mtime > CACHE_MAX_AGE:
                os.unlink(old)
        handle, tmp = tempfile.mkstemp(dir=base)
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        pass  # the cache only saves time


class Pending(object):
    """An ansible-inventory run started in the background: result() waits for it and returns its output.

    It inherits the environment and working directory, so it reads the same ansible.cfg. It never
    prompts (no terminal, ANSIBLE_ASK_VAULT_PASS off): `--graph` needs no vault password.
    With run_key (playbook_run_key()), an answer that an earlier task of the same run got is taken
    instead of starting ansible-inventory again, and a new answer is kept for the later tasks.
    """

    def __init__(self, sources, args, playbook_dir=None, popen=subprocess.Popen, run_key=None):
        self.cmd = _command()
        for source in sources or []:
            self.cmd += ["-i", source]
        if playbook_dir:
            self.cmd += ["--playbook-dir", playbook_dir]
        self.cmd += list(args)
        self.proc = None
        self.cached = None
        self.cache_path = _cache_path(run_key, self.cmd, sources) if run_key else None
        if self.cache_path:
            try:
                with open(self.cache_path) as handle:
                    self.cached = handle.read()
                return
            except OSError:
                pass
        env = dict(os.environ, ANSIBLE_ASK_VAULT_PASS="False", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        try:
            self.proc = popen(
                self.cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # no terminal: a vault prompt in ansible.cfg fails instead of asking
            )
        except OSError as exc:
            raise InventoryReadError("%s: %s" % (" ".join(self.cmd), exc)) from exc

    def result(self):
        if self.cached is not None:
            return self.cached
        try:
            stdout, stderr = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self.close()
            raise InventoryReadError("%s did not end in %d s" % (" ".join(self.cmd), TIMEOUT)) from exc
        if self.proc.returncode != 0:
            lines = [line for line in (stderr or "").splitlines() if "ERROR" in line]
            lines = lines or (stderr or "").strip().splitlines()[-3:]
            raise InventoryReadError(
                "%s exited with %d: %s"
                % (" ".join(self.cmd), self.proc.returncode, " ".join(lines).strip() or "no message")
            )
        if self.cache_path:
            _cache_write(self.cache_path, stdout)
        return stdout

    def close(self):
        """Stop the run if it is still going (the caller failed before it needed the result)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def child_groups(graph, group):
    """The direct child groups of `group`, in inventory order, from `ansible-inventory --graph GROUP`.

    The graph is `@GROUP:`, then one line per child: `  |--@CHILD:` for a group, `  |--HOST` for a
    host, and three columns deeper for the child's own children.
    """
    lines = [line.rstrip() for line in graph.splitlines() if line.strip()]
    if not lines or lines[0] != "@%s:" % group:
        raise InventoryReadError("unexpected output of ansible-inventory --graph %s: %r" % (group, graph[:200]))
    children = []
    for line in lines[1:]:
        match = _GRAPH_LINE.match(line)
        if match is None:
            continue  # a variable (--vars) or a line of a warning
        depth, name = len(match.group(1)) // 3, match.group(2)
        if depth == 1 and name.startswith("@") and name.endswith(":"):
            children.append(name[1:-1])
    return children


class PairGroups(object):
    """{pair group: [hosts]} for every child group of `pairs_group`, hosts in inventory order.

    `ansible-inventory --graph` starts at once and runs while the caller reads the hosts' variables
    (every pair host is in `groups[pairs_group]`); result() waits for it. groups: the `groups` magic
    variable ({group: [hosts]}); sources: `ansible_inventory_sources`; run_key: see Pending.
    """

    def __init__(self, groups, sources, pairs_group, playbook_dir=None, popen=subprocess.Popen, run_key=None):
        self.groups = groups
        self.pairs_group = pairs_group
        self.pending = None
        if pairs_group in groups:
            self.pending = Pending(sources, ["--graph", pairs_group], playbook_dir, popen, run_key)

    def result(self):
        if self.pending is None:
            return {}
        graph = self.pending.result()
        return {child: list(self.groups.get(child, [])) for child in child_groups(graph, self.pairs_group)}

    def close(self):
        if self.pending is not None:
            self.pending.close()


def implicit_localhost(groups):
    """A name of Ansible's implicit localhost (in no group, sees the `all` group's variables), or None."""
    inventory_hosts = set(groups.get("all", [])) | set(groups.get("ungrouped", []))
    for name in LOCALHOST_NAMES:
        if name not in inventory_hosts:
            return name
    return None


def inventory_names(sources, host, playbook_dir=None, popen=subprocess.Popen, run_key=None):
    """The names of the variables the inventory gives `host` (no extra variables), or None if unreadable."""
    try:
        data = json.loads(Pending(sources, ["--host", host], playbook_dir, popen, run_key).result() or "{}")
    except (InventoryReadError, ValueError):
        return None
    return set(data) if isinstance(data, dict) else None


def _vars_files(base, name):
    """The files Ansible's host_group_vars plugin reads for `name` under `base` (group_vars/ or host_vars/)."""
    found = []
    path = os.path.join(base, name)
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
    for ext in ("", ".yml", ".yaml", ".json"):
        if os.path.isfile(path + ext):
            found.append(path + ext)
    return found


def vaulted_files(host, groups, sources, playbook_dir=None):
    """The vars files of `host` that ansible-vault encrypted as a whole, next to the inventory or the playbook.

    They are what a host's variables cannot be read without: Ansible's message ("no vault secrets
    found") does not name them.
    """
    bases = []
    for source in list(sources or []) + ([playbook_dir] if playbook_dir else []):
        if not isinstance(source, str) or "," in source:
            continue
        base = source if os.path.isdir(source) else os.path.dirname(os.path.abspath(source))
        if base not in bases:
            bases.append(base)
    mine = sorted(g for g, hosts in groups.items() if host in hosts and g not in ("all", "ungrouped"))
    names = [("group_vars", g) for g in ["all"] + mine]
    names.append(("host_vars", host))
    out = []
    for base in bases:
        for kind, name in names:
            for path in _vars_files(os.path.join(base, kind), name):
                try:
                    with open(path, "rb") as handle:
                        head = handle.read(len(VAULT_HEADER))
                except OSError:
                    continue
                if head == VAULT_HEADER and path not in out:
                    out.append(path)
    return out

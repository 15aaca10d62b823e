# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site model's vocabulary: names, defaults, findings and the checker that collects them.

Shared by the site model in plugins/plugin_utils/site/ (model.py, the whole site, and the files
that each check one part of it) and by the modules that use its names (MIGRATION_SUFFIX, NAME_RE, IFACE_RE).
Pure Python: nothing here touches a host or an Ansible object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary

PAIRS_GROUP = "vmpair_pairs"
WITNESSES_GROUP = "vmpair_witnesses"

# The levels and hypervisors are vocabulary's (one definition); kept here under their old names.
HYPERVISORS = vocabulary.HYPERVISORS
LEVELS = vocabulary.LEVELS
SERVED_LEVELS = vocabulary.SERVED_LEVELS
FT_UNAVAILABLE = vocabulary.FT_UNAVAILABLE
FT_REFUSED = vocabulary.FT_REFUSED
CARRIES = ("cluster", "replication", "vm")
BOND_MODES = ("active-backup", "802.3ad")
BOND_MONITORS = ("mii", "arp")
WITNESS_ALGORITHMS = ("ffsplit", "lms")
KNET_MAX_LINKS = 8
# A node's name for live migration: the suffix after its first label (hv-west -> hv-west-vmpair), as
# ocf:heartbeat:VirtualDomain's migration_network_suffix makes it; it resolves to the node's
# replication address on the peer (role duplex.vmpair.hypervisor).
MIGRATION_SUFFIX = "-vmpair"
# Longest round trip (ms) of a replication link for the synchronous levels: every write of an `ha`
# VM (DRBD protocol C) waits one round trip; `ft` (COLO) also compares the two copies' packets.
SYNC_RTT_LIMIT_MS = {"ha": 5, "ft": 1}
DEFAULTS = {
    "vmpair_hypervisor": vocabulary.DEFAULT_HYPERVISOR,
    "vmpair_corosync_token_ms": 3000,
    "vmpair_fence_delay": 10,
    "vmpair_witness_algorithm": "ffsplit",
    "vmpair_witness_tie_breaker": "lowest",
    "vmpair_witness_port": 5403,
    "vmpair_links_shared_with_vms": False,
    "vmpair_migration_tunnelled": True,
    # Watchdog self-fencing (diskless SBD) as each host's last fence level: off unless asked for.
    "vmpair_watchdog_fencing": False,
    "vmpair_watchdog_device": "/dev/watchdog",
    "vmpair_watchdog_module": "",
    # SBD_WATCHDOG_TIMEOUT: longer than qdevice's sync_timeout (vocabulary.QDEVICE_SYNC_TIMEOUT_S).
    "vmpair_watchdog_timeout": vocabulary.QDEVICE_SYNC_TIMEOUT_S + 5,
}
# Pair-level variables read from the first host of each pair (group vars land on both).
PAIR_VARS = (
    "vmpair_hypervisor",
    "vmpair_witness",
    "vmpair_storage_vg",
    "vmpair_links",
    "vmpair_fencing",
    "vmpair_vms",
    "vmpair_cluster_name",
    "vmpair_corosync_token_ms",
    "vmpair_fence_delay",
    "vmpair_fence_race_winner",
    "vmpair_witness_algorithm",
    "vmpair_witness_tie_breaker",
    "vmpair_sync_rtt_limit_ms",
    "vmpair_links_shared_with_vms",
    "vmpair_migration_tunnelled",
    "vmpair_watchdog_fencing",
    "vmpair_watchdog_device",
    "vmpair_watchdog_module",
    "vmpair_watchdog_timeout",
)
# vmpair_firewall is a role option (duplex.vmpair.network) that the site model also reads: none leaves
# the host's ports open, which check_site warns about.
HOST_VARS = ("vmpair_site", "vmpair_host_capacity", "vmpair_node_name", "vmpair_firewall")
WITNESS_VARS = ("vmpair_site", "vmpair_witness_address", "vmpair_witness_port", "ansible_host", "vmpair_firewall")
# Variables of check_site itself (set with -e or in group vars).
CHECK_VARS = ("vmpair_check_strict", "vmpair_check_json_report", "vmpair_check_junit_report")
# Variables the playbooks read themselves (protect.yml, validate.yml and its tasks/metrics.yml,
# rolling_update.yml), and the options they document for -e and the AWX surveys (docs/operations.md,
# docs/monitoring.md, awx/job_templates.yml). Only their names are checked: the values (secrets, from the vault) are never read on the controller by
# the site model.
PLAYBOOK_VARS = (
    "vmpair_drbd_secret",
    "vmpair_validate_fail_on",
    "vmpair_validate_json_report",
    "vmpair_status_json_report",
    "vmpair_metrics",
    "vmpair_metrics_textfile_dir",
    "vmpair_rolling_pairs",
    "vmpair_rolling_apt_upgrade",
    "vmpair_rolling_update_tasks",
    "vmpair_rolling_reboot",
    "vmpair_rolling_release",
    "vmpair_reboot_timeout",
)

ERROR = "error"
WARNING = "warning"
# The checks of each pair, in report order: one JUnit test case each.
CHECKS = ("pair", "links", "addresses", "latency", "fencing", "witness", "vms", "capacity", "variables")
# The checks of findings that belong to no pair: the inventory's groups, unused witnesses, witnesses' variables.
SITE_CHECKS = ("inventory", "witness", "variables")
SITE = "inventory"

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


class SiteError(Exception):
    """Raised with every error found, so the user fixes them in one pass."""

    def __init__(self, problems):
        self.problems = problems
        super(SiteError, self).__init__(format_problems(problems))


class Problem(object):
    """One finding: where (pair/host), which variable, what is wrong and the fix."""

    __slots__ = ("where", "variable", "message", "fix", "severity", "check", "pair", "host")

    def __init__(self, where, variable, message, fix, severity=ERROR, check=SITE, pair=None, host=None):
        self.where = where
        self.variable = variable
        self.message = message
        self.fix = fix
        self.severity = severity
        self.check = check
        self.pair = pair
        self.host = host

    def as_dict(self):
        return {
            "where": self.where,
            "variable": self.variable,
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity,
            "check": self.check,
            "pair": self.pair,
            "host": self.host,
            "text": str(self),
        }

    def __str__(self):
        return "%s: %s: %s Fix: %s" % (self.where, self.variable, self.message, self.fix)


def format_problems(problems):
    lines = ["The site inventory has %d problem(s):" % len(problems)]
    lines.extend("- %s" % p for p in problems)
    return "\n".join(lines)


def migration_name(node_name):
    """``hv-west`` -> ``hv-west-vmpair``; ``hv-west.example.org`` -> ``hv-west-vmpair.example.org``."""
    head, dot, rest = node_name.partition(".")
    return head + MIGRATION_SUFFIX + dot + rest


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def whole_number(value):
    """``value`` as an int when it is a whole number, also one written as text: ``-e NAME=4000`` on the
    command line (and an AWX survey's text field) gives every value as a string. None for anything else
    (true and false are not numbers)."""
    if is_int(value):
        return value
    # isdecimal, not isdigit: "²" is a digit that int() refuses
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _host_of(where):
    if " host " in where:
        return where.split(" host ", 1)[1]
    for prefix in ("host ", "witness "):
        if where.startswith(prefix):
            return where[len(prefix) :]
    return None


class Checker(object):
    """Collects findings; `pair` and `check` say which pair and check the next findings belong to."""

    def __init__(self):
        self.problems = []
        self.pair = None
        self.check = SITE

    def add(self, where, variable, message, fix, severity=ERROR, check=None, pair=None):
        self.problems.append(
            Problem(
                where,
                variable,
                message,
                fix,
                severity=severity,
                check=check or self.check,
                pair=pair if pair is not None else self.pair,
                host=_host_of(where),
            )
        )

    def warn(self, where, variable, message, fix, check=None, pair=None):
        self.add(where, variable, message, fix, severity=WARNING, check=check, pair=pair)

    def errors(self):
        return [p for p in self.problems if p.severity == ERROR]

    def warnings(self):
        return [p for p in self.problems if p.severity == WARNING]


def pair_value(hostvars, hosts, name):
    """A pair variable: the first of the pair's hosts that has it, else the default."""
    for host in hosts:
        value = hostvars.get(host, {}).get(name)
        if value is not None:
            return value
    return DEFAULTS.get(name)


def closest(name, known, prefix=""):
    """The known name that `name` is a typo of, or None: a suggestion that is not close is noise.

    Close means difflib's ratio of at least 0.8 (stop_timout: stop_timeout, vmpair_link:
    vmpair_links), or `name` is how exactly one known name begins (memory: memory_mib). The `prefix`
    that every name shares (vmpair_) is left out of the comparison: it makes any two names look
    alike (vmpair_rolling_pairs and vmpair_links: 69 % of the letters, none of the meaning).
    """
    name = str(name)
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    tails = {k[len(prefix) :]: k for k in sorted(known) if k.startswith(prefix) and k != name}
    close = difflib.get_close_matches(rest, list(tails), n=1, cutoff=0.8)
    if close:
        return tails[close[0]]
    starting = [k for tail, k in tails.items() if rest and tail.startswith(rest)]
    return starting[0] if len(starting) == 1 else None


def names(items, limit=5):
    """'a, b, c' or 'a, b, c, ... (12 in all)' for long lists in messages."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(str(i) for i in items)
    return "%s, ... (%d in all)" % (", ".join(str(i) for i in items[:limit]), len(items))

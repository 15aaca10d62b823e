# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of duplex.vmpair.site_model: read the inventory, validate it, describe the pair.

With check=true it is the engine of the check_site playbook: it reports every error and warning
grouped by pair and writes the JSON and JUnit reports instead of failing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import time

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version
from ansible.vars.hostvars import HostVarsVars

from ansible_collections.duplex.vmpair.plugins.module_utils import site as site_model
from ansible_collections.duplex.vmpair.plugins.module_utils import site_report

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGUMENT_SPEC = {
    "host": {"type": "str"},
    "require": {"type": "str", "choices": ["pair", "witness"]},
    "check": {"type": "bool", "default": False},
    "strict": {"type": "bool", "default": False},
    "json_report": {"type": "path"},
    "junit_report": {"type": "path"},
}
_KNOWN = {}


def known_variables(root=COLLECTION_ROOT):
    """Every vmpair_* name the collection reads: the site model's, check_site's, and each role's
    options, defaults and vars. None when the roles cannot be found (the check is then skipped)."""
    if root in _KNOWN:
        return _KNOWN[root]
    names = set(
        site_model.PAIR_VARS
        + site_model.HOST_VARS
        + site_model.WITNESS_VARS
        + site_model.CHECK_VARS
        + site_model.PLAYBOOK_VARS
    )
    specs = glob.glob(os.path.join(root, "roles", "*", "meta", "argument_specs.yml"))
    files = glob.glob(os.path.join(root, "roles", "*", "defaults", "*.yml"))
    files += glob.glob(os.path.join(root, "roles", "*", "vars", "*.yml"))
    for path in specs + files:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if path in specs:
            for entry in (data.get("argument_specs") or {}).values():
                names.update((entry or {}).get("options") or {})
        elif isinstance(data, dict):
            names.update(data)
    _KNOWN[root] = sorted(n for n in names if n.startswith("vmpair_")) if specs else None
    return _KNOWN[root]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not site_model.HAS_NETADDR:
            result.update(
                failed=True,
                msg="duplex.vmpair.site_model needs the Python library netaddr on the controller. "
                "Fix: pip install netaddr (in the Python that runs ansible-playbook).",
            )
            return result
        started = time.monotonic()
        hostvars = task_vars["hostvars"]
        pairs = self._pair_groups(hostvars)
        witnesses = list(task_vars.get("groups", {}).get(site_model.WITNESSES_GROUP, []))
        hosts = set(witnesses)
        for members in pairs.values():
            hosts.update(members)
        data = {}
        names_by_host = {}
        for name in sorted(hosts):
            data[name], names_by_host[name] = self._host_data(hostvars, name)
        checked = site_model.check_site(pairs, witnesses, data, known_variables(), names_by_host)
        if args["check"]:
            return self._report(result, checked, args, task_vars, time.monotonic() - started)
        if checked.errors:
            result.update(
                failed=True,
                msg=site_model.format_problems(checked.errors),
                problems=[p.as_dict() for p in checked.errors],
            )
            return result
        return self._describe(result, checked, args.get("host") or task_vars.get("inventory_hostname"), args)

    def _describe(self, result, checked, host, args):
        """The description of `host`'s pair, for the roles and site.yml."""
        site = checked.site
        pair, me, peer = site_model.pair_of(site, host)
        require = args.get("require")
        if require == "pair" and pair is None:
            result.update(
                failed=True,
                msg="%s is not in a pair: this runs on the hosts of a child group of %s (pairs: %s)."
                % (host, site_model.PAIRS_GROUP, ", ".join(sorted(site["pairs"])) or "none"),
            )
            return result
        if require == "witness" and host not in site["witnesses"]:
            result.update(
                failed=True,
                msg="%s is not in the %s group: this runs on witness hosts." % (host, site_model.WITNESSES_GROUP),
            )
            return result
        mine = [
            str(p)
            for p in checked.warnings
            if (pair is not None and p.pair == pair["name"]) or (p.pair is None and p.host == host)
        ]
        if mine:
            result["warnings"] = mine
        result.update(
            changed=False,
            pair=pair,
            node=me,
            peer=peer,
            witness=site["witnesses"].get(host),
            pairs=sorted(site["pairs"]),
        )
        return result

    def _report(self, result, checked, args, task_vars, duration):
        """check=true: the summary, the counts, every finding, and the report files."""
        strict = args["strict"]
        reports = {}
        if args.get("json_report"):
            report = site_report.json_report(checked, strict, task_vars.get("ansible_inventory_sources"))
            reports["json"] = self._write(args["json_report"], json.dumps(report, indent=1, sort_keys=True) + "\n")
        if args.get("junit_report"):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
            text = site_report.junit_xml(checked, strict, timestamp=stamp, duration=duration)
            reports["junit"] = self._write(args["junit_report"], text)
        result.update(
            changed=False,
            passed=site_report.passed(checked, strict),
            counts=site_report.counts(checked, strict),
            summary=site_report.summary(checked, strict),
            findings=[p.as_dict() for p in checked.problems],
            pairs=sorted(checked.pair_hosts),
            reports=reports,
        )
        return result

    @staticmethod
    def _write(path, text):
        path = os.path.abspath(path)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise AnsibleError("cannot write the report %s: %s" % (path, to_text(exc))) from exc
        return path

    @staticmethod
    def _pair_groups(hostvars):
        """{pair group: [hosts]} for every child group of vmpair_pairs, in inventory order."""
        inventory = getattr(hostvars, "_inventory", None)
        if inventory is None:
            # The pairs are the child groups of vmpair_pairs: only the inventory object knows the
            # group tree (the flat `groups` variable does not). ansible-core 2.16+ always has it.
            raise AnsibleError(
                "duplex.vmpair.site_model cannot read the inventory's group tree from hostvars "
                "(ansible-core %s?). Fix: run it with ansible-core 2.16 or newer." % ansible_version
            )
        top = inventory.groups.get(site_model.PAIRS_GROUP)
        if top is None:
            return {}  # check_site then reports that the site has no pair
        return {g.name: [h.name for h in g.get_hosts()] for g in top.child_groups}

    def _host_data(self, hostvars, name):
        """(the site model's variables of host `name`, templated; the names of its vmpair_* variables).

        The host's variables are gathered once (raw_get); fencing option values are never templated.
        """
        try:
            raw = hostvars.raw_get(name)
        except Exception:  # host without variables of its own
            raw = {}
        if not hasattr(raw, "keys"):
            raw = {}
        out = {}
        wanted = set(site_model.PAIR_VARS + site_model.HOST_VARS + site_model.WITNESS_VARS)
        wanted.discard("vmpair_fencing")
        host_vars = HostVarsVars(raw, loader=self._loader)
        for var in wanted:
            if var in raw:
                try:
                    out[var] = host_vars[var]
                except AnsibleError as exc:
                    raise AnsibleError(
                        "host %s: variable %s cannot be resolved: %s" % (name, var, to_text(exc))
                    ) from exc
        fencing = raw.get("vmpair_fencing")
        if isinstance(fencing, dict):
            # Keep the agent and the shape; option values (passwords, often vaulted) are never read here.
            out["vmpair_fencing"] = {
                h: {
                    "agent": self._templar.template(e.get("agent")),
                    "options": dict.fromkeys(e.get("options") or {}, ""),
                }
                if isinstance(e, dict)
                else e
                for h, e in fencing.items()
            }
        elif fencing is not None:
            out["vmpair_fencing"] = fencing
        return out, [k for k in raw if k.startswith("vmpair_")]

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
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils import inventory
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import addresses as site_addresses
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import report as site_report
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import vms as site_vms

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGUMENT_SPEC = {
    "host": {"type": "str"},
    "require": {"type": "str", "choices": ["pair", "witness"]},
    "check": {"type": "bool", "default": False},
    "strict": {"type": "bool", "default": False},
    "json_report": {"type": "path"},
    "junit_report": {"type": "path"},
    "level": {"type": "str"},
    "vms": {"type": "list", "elements": "str", "default": []},
}
_KNOWN = {}


def known_variables(root=COLLECTION_ROOT):
    """Every vmpair_* name the collection reads: the site model's, check_site's, and each role's
    options, defaults and vars. None when the roles cannot be found (the check is then skipped)."""
    if root in _KNOWN:
        return _KNOWN[root]
    names = set(
        site_base.PAIR_VARS
        + site_base.HOST_VARS
        + site_base.WITNESS_VARS
        + site_base.CHECK_VARS
        + site_base.PLAYBOOK_VARS
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
        if not site_addresses.HAS_NETADDR:
            result.update(
                failed=True,
                msg="duplex.vmpair.site_model needs the Python library netaddr on the controller. "
                "Fix: pip install netaddr (in the Python that runs ansible-playbook).",
            )
            return result
        level = args.get("level")
        problem = site_vms.level_problem(level) if level is not None and not args["check"] else None
        if problem:  # the run's own option: refused before the inventory is even read
            message, fix = problem
            result.update(
                failed=True,
                msg="-e level=%s (in AWX the survey's Level): %s Nothing was changed. Fix: %s, or leave -e level out "
                "to keep each VM's vmpair_vms level." % (level, message, fix.rstrip(".")),
            )
            return result
        started = time.monotonic()
        # Only interfaces Ansible documents for playbooks and plugins (why: plugin_utils/inventory.py):
        # the magic variables hostvars, groups, ansible_inventory_sources, playbook_dir, and the
        # ansible-inventory command for the group tree.
        hostvars = task_vars["hostvars"]
        groups = task_vars.get("groups") or {}
        where = {
            "sources": list(task_vars.get("ansible_inventory_sources") or []),
            "playbook_dir": task_vars.get("playbook_dir"),
            # one ansible-inventory answer per playbook run, not one per task and host
            "run_key": inventory.playbook_run_key(),
        }
        witnesses = list(groups.get(site_base.WITNESSES_GROUP, []))
        # Every pair host is in the vmpair_pairs group: its variables are read while ansible-inventory
        # finds which child groups of vmpair_pairs are the pairs.
        hosts = set(witnesses) | set(groups.get(site_base.PAIRS_GROUP, []))
        data = {}
        names_by_host = {}
        unreadable = {}
        try:
            tree = inventory.PairGroups(
                groups, where["sources"], site_base.PAIRS_GROUP, where["playbook_dir"], run_key=where["run_key"]
            )
            try:
                for name in sorted(hosts):
                    try:
                        data[name], names_by_host[name] = self._host_data(hostvars, name)
                    except AnsibleError as exc:
                        unreadable[name] = self._why_unreadable(name, exc, groups, where)
                pairs = tree.result()
            finally:
                tree.close()
        except inventory.InventoryReadError as exc:
            raise AnsibleError(
                "duplex.vmpair.site_model cannot read the pair groups (the child groups of %s) of the inventory: %s"
                % (site_base.PAIRS_GROUP, exc)
            ) from exc
        known = known_variables()
        if known is not None:
            names_by_host = self._without_extra_vars(hostvars, groups, where, names_by_host, known)
        checked = site_model.check_site(pairs, witnesses, data, known, names_by_host, unreadable)
        if args["check"]:
            return self._report(result, checked, args, task_vars, time.monotonic() - started)
        if checked.errors:
            result.update(
                failed=True,
                msg=site_base.format_problems(checked.errors),
                problems=[p.as_dict() for p in checked.errors],
            )
            return result
        host = args.get("host") or task_vars.get("inventory_hostname")
        return self._describe(result, checked, host, args, data)

    def _describe(self, result, checked, host, args, data):
        """The description of `host`'s pair, for the roles and site.yml; data: the site's variables by host."""
        site = checked.site
        pair, me, peer = site_model.pair_of(site, host)
        require = args.get("require")
        if require == "pair" and pair is None:
            result.update(
                failed=True,
                msg="%s is not in a pair: this runs on the hosts of a child group of %s (pairs: %s)."
                % (host, site_base.PAIRS_GROUP, ", ".join(sorted(site["pairs"])) or "none"),
            )
            return result
        if require == "witness" and host not in site["witnesses"]:
            result.update(
                failed=True,
                msg="%s is not in the %s group: this runs on witness hosts." % (host, site_base.WITNESSES_GROUP),
            )
            return result
        mine = [
            str(p)
            for p in checked.warnings
            if (pair is not None and p.pair == pair["name"]) or (p.pair is None and p.host == host)
        ]
        if pair is not None and args.get("level") is not None:
            mine.extend(self._level_overrides(pair, data, args["level"], args["vms"]))
        if mine:
            result["warnings"] = mine
        if pair is not None:
            names = sorted(set(pair["vms"]) | set(args.get("vms") or []))
            result["resource_ids"] = {name: vocabulary.resource_ids(name) for name in names}
        result.update(
            changed=False,
            pair=pair,
            node=me,
            peer=peer,
            witness=site["witnesses"].get(host),
            pairs=sorted(site["pairs"]),
            debian_releases=dict(vocabulary.DEBIAN_RELEASES),
        )
        return result

    @staticmethod
    def _level_overrides(pair, data, level, selected):
        """One warning for each VM of the pair (of `selected`, or all) whose vmpair_vms level -e level replaces."""
        vms = site_base.pair_value(data, pair["hosts"], "vmpair_vms") or []
        out = []
        for vm in vms:
            own = vm.get("level", vocabulary.DEFAULT_LEVEL)
            if (not selected or vm["name"] in selected) and own != level:
                out.append(
                    "%s: level %s from -e level, vmpair_vms says %s (a run without -e level sets %s again; to keep %s, "
                    "write it in vmpair_vms)." % (vm["name"], level, own, own, level)
                )
        return out

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

    def _host_data(self, hostvars, name):
        """(the site model's variables of host `name`, templated; the names of its vmpair_* variables).

        `hostvars` is the magic variable (docs: Special Variables); its raw_get(host) is the public
        method (no underscore, the same in ansible-core 2.17, 2.19 and 2.21) that returns the host's
        variables "not run through the templating engine". hostvars[host][var] would template a whole
        value, vmpair_fencing's passwords included (decrypting vaulted ones). So the host's variables
        are gathered once, and each site model variable is templated in the host's own context, as
        hostvars[host][var] does, with the public Templar API (copy_with_new_env); of vmpair_fencing
        only each agent is templated, never an option value. Raises AnsibleError when Ansible cannot
        read the host's variables (a vars file it cannot decrypt) or template one.
        """
        raw = hostvars.raw_get(name)
        if not isinstance(raw, Mapping):  # an unknown host: Ansible returns an undefined value
            raw = {}
        templar = self._templar.copy_with_new_env(available_variables=raw)
        out = {}
        wanted = set(site_base.PAIR_VARS + site_base.HOST_VARS + site_base.WITNESS_VARS)
        wanted.discard("vmpair_fencing")
        for var in sorted(wanted):
            if var in raw:
                out[var] = self._template(templar, var, raw[var])
        fencing = raw.get("vmpair_fencing")
        if isinstance(fencing, Mapping):
            # Keep the agent, the level and the shape; option values (passwords, often vaulted) are never
            # read here. A host's entry is one device or a list of them (fence levels).
            def device(entry):
                if not isinstance(entry, Mapping):
                    return entry
                kept = {
                    "agent": self._template(templar, "vmpair_fencing", entry.get("agent")),
                    "options": dict.fromkeys(entry.get("options") or {}, ""),
                }
                if "level" in entry:
                    kept["level"] = self._template(templar, "vmpair_fencing", entry["level"])
                return kept

            out["vmpair_fencing"] = {
                h: [device(d) for d in e] if isinstance(e, list) else device(e) for h, e in fencing.items()
            }
        elif fencing is not None:
            out["vmpair_fencing"] = fencing
        return out, [k for k in raw if k.startswith("vmpair_")]

    @staticmethod
    def _template(templar, var, value):
        try:
            return templar.template(value)
        except AnsibleError as exc:
            raise AnsibleError("variable %s cannot be resolved: %s" % (var, to_text(exc))) from exc

    @staticmethod
    def _why_unreadable(name, exc, groups, where):
        """(reason, fix) for a host whose variables Ansible cannot read: name the vaulted file if that is why."""
        error = " ".join(to_text(exc).split())
        if "vault" not in error.lower():
            return error, "Correct the variable or the file Ansible names, then run it again."
        files = inventory.vaulted_files(name, groups, where["sources"], where["playbook_dir"])
        fix = (
            "Give the vault password (--ask-vault-pass, --vault-password-file or --vault-id; in AWX a vault "
            "credential), or keep only the secret values in the vault (ansible-vault encrypt_string) so that "
            "check_site runs without it."
        )
        if files:
            return (
                "%s %s encrypted with ansible-vault as a whole file, and Ansible cannot decrypt it without the vault "
                "password (%s)." % (" and ".join(files), "is" if len(files) == 1 else "are", error.rstrip(".")),
                fix,
            )
        return "Ansible needs the vault password to read them (%s)." % error.rstrip("."), fix

    @staticmethod
    def _without_extra_vars(hostvars, groups, where, names_by_host, known):
        """names_by_host without the extra variables (-e, AWX surveys): a playbook's options, not inventory mistakes.

        Ansible's hostvars hold a host's inventory variables and the extra variables alike. A name
        that only some hosts have comes from the inventory. One that every host has is an extra
        variable or an `all` group variable: Ansible's implicit localhost sees both, and
        `ansible-inventory --host localhost` (which is given no extra variables) shows the second.
        Run only when an unknown name is seen by every host, which is rare.
        """
        known = set(known)
        unknown = {n for names in names_by_host.values() for n in names if n not in known}
        local = inventory.implicit_localhost(groups) if unknown else None
        if local is None:
            return names_by_host
        try:
            everywhere = {n for n in hostvars.raw_get(local) if n in unknown}
        except AnsibleError:
            return names_by_host
        if not everywhere:
            return names_by_host
        in_inventory = (
            inventory.inventory_names(where["sources"], local, where["playbook_dir"], run_key=where["run_key"]) or set()
        )
        extra = everywhere - in_inventory
        return {h: [n for n in names if n not in extra] for h, names in names_by_host.items()}

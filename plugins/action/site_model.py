# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of duplex.vmpair.site_model: read the inventory, validate it, describe the pair."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version

from ansible_collections.duplex.vmpair.plugins.module_utils import site as site_model


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("host", "require"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        host = self._task.args.get("host") or task_vars.get("inventory_hostname")
        hostvars = task_vars["hostvars"]
        groups = task_vars.get("groups", {})

        pairs = self._pair_groups(hostvars)
        witnesses = list(groups.get(site_model.WITNESSES_GROUP, []))
        names = set(witnesses)
        for members in pairs.values():
            names.update(members)
        data = {}
        for name in sorted(names):
            data[name] = self._host_data(hostvars, name)

        try:
            site = site_model.build_site(pairs, witnesses, data)
        except site_model.SiteError as exc:
            result.update(failed=True, msg=to_text(exc), problems=[p.as_dict() for p in exc.problems])
            return result

        pair, me, peer = site_model.pair_of(site, host)
        require = self._task.args.get("require")
        if require not in (None, "pair", "witness"):
            result.update(failed=True, msg="require must be 'pair' or 'witness', not %r." % (require,))
            return result
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
        result.update(
            changed=False,
            pair=pair,
            node=me,
            peer=peer,
            witness=site["witnesses"].get(host),
            pairs=sorted(site["pairs"]),
        )
        return result

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
            return {}  # build_site then reports that the site has no pair
        return {g.name: [h.name for h in g.get_hosts()] for g in top.child_groups}

    def _host_data(self, hostvars, name):
        try:
            raw = hostvars.raw_get(name)
        except Exception:  # host without variables of its own
            raw = {}
        out = {}
        wanted = set(site_model.PAIR_VARS + site_model.HOST_VARS + site_model.WITNESS_VARS)
        wanted.discard("vmpair_fencing")
        host_vars = hostvars[name]
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
        return out

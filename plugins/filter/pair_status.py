# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pair_status filter: one pair's status table and report (docs in pair_status.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.health import status


def pair_status(results, pair):
    if not isinstance(results, dict):
        raise AnsibleFilterError("pair_status: the input must map each host of the pair to its pair_info result")
    try:
        seen, missing = status.split_results(results)
        return status.pair_status(pair, seen, missing)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("pair_status: %s is missing from the pair_info result" % exc) from exc


class FilterModule(object):
    def filters(self):
        return {"pair_status": pair_status}

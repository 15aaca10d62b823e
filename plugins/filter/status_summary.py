# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The status_summary filter: one line over every pair's status (docs in status_summary.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.health import status


def status_summary(reports):
    if not isinstance(reports, list) or not all(isinstance(r, dict) for r in reports):
        raise AnsibleFilterError("status_summary: the input must be the list of pair_status results")
    try:
        return status.status_summary(reports)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("status_summary: %s is missing from a pair_status result" % exc) from exc


class FilterModule(object):
    def filters(self):
        return {"status_summary": status_summary}

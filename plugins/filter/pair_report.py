# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pair_report filter: one pair's validate report (docs in pair_report.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.health import report


def pair_report(seen, pair, missing=None, fail_on="warning"):
    if not isinstance(seen, dict):
        raise AnsibleFilterError("pair_report: the input must map each host to its pair_info result")
    try:
        return report.pair_report(pair, seen, missing or [], fail_on)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("pair_report: %s" % exc) from exc


class FilterModule(object):
    def filters(self):
        return {"pair_report": pair_report}

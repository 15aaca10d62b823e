# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The prometheus_metrics filter: one pair's state as Prometheus metrics (docs in prometheus_metrics.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.health import metrics


def prometheus_metrics(seen, pair, missing=None, timestamp=None):
    if not isinstance(seen, dict):
        raise AnsibleFilterError("prometheus_metrics: the input must map each host to its pair_info result")
    if not isinstance(pair, dict) or "name" not in pair or "hosts" not in pair:
        raise AnsibleFilterError("prometheus_metrics: pair must be the pair that duplex.vmpair.site_model returns")
    try:
        return metrics.pair_metrics(pair, seen, missing or [], timestamp)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("prometheus_metrics: %s" % exc) from exc


class FilterModule(object):
    def filters(self):
        return {"prometheus_metrics": prometheus_metrics}

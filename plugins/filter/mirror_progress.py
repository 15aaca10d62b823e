# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mirror_progress filter: one mirror's state as a line (docs in mirror_progress.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.health.mirror import resync_text


def mirror_progress(res):
    if not isinstance(res, dict):
        raise AnsibleFilterError("mirror_progress: the input must be one of pair_info's mirror.resources")
    try:
        name = res["name"]
        if res["resyncing"]:
            return "%s: %s" % (name, resync_text(res))
        return "%s: %s, %s/%s" % (name, res["connection"], res["disk"], res["peer_disk"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("mirror_progress: %s is missing from the mirror" % exc) from exc


class FilterModule(object):
    def filters(self):
        return {"mirror_progress": mirror_progress}

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fence_agent_packages filter: the Debian packages of some fence agents (docs in fence_agent_packages.yml)."""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.fencing import agent_packages


def fence_agent_packages(agents, debian_major):
    if isinstance(agents, str) or not all(isinstance(agent, str) for agent in agents):
        raise AnsibleFilterError(
            "fence_agent_packages: the input must be a list of fence agent names, e.g. [fence_ipmilan]"
        )
    try:
        return agent_packages(agents, int(debian_major))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            "fence_agent_packages: the Debian major release must be a number such as 12 or 13, not %r" % (debian_major,)
        ) from exc


class FilterModule(object):
    def filters(self):
        return {"fence_agent_packages": fence_agent_packages}

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Debian package provides a fence agent: the cluster role installs only those.

The mapping is checked against dpkg on the machine the tests run on: the Debian 12 host of `make
unit` (every agent in fence-agents) and the Debian 13 root of `make matrix` (fence-agents-ipmilan,
-apc-snmp, -redfish and -dummy installed: fence_idrac and fence_tripplite_snmp come from packages
not named after them)."""

import glob
import os
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.duplex.vmpair.plugins.filter.fence_agent_packages import fence_agent_packages
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence


def debian_major():
    try:
        with open("/etc/os-release") as handle:
            fields = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    except OSError:
        return None
    if fields.get("ID") != "debian":
        return None
    return int(fields.get("VERSION_ID", "0").strip('"') or 0) or None


def installed_agents():
    """{agent: the package dpkg says owns /usr/sbin/<agent>} for every fence agent installed here."""
    owners = {}
    for path in sorted(glob.glob("/usr/sbin/fence_*")):
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            owners[os.path.basename(path)] = out.stdout.split(":", 1)[0]
    return owners


def test_mapping_agrees_with_dpkg_on_this_release():
    major = debian_major()
    owners = installed_agents() if major else {}
    if not owners:
        pytest.skip("no Debian fence agent installed here (make tools installs them)")
    assert {agent: pcs_fence.agent_package(agent, major) for agent in owners} == owners
    if major >= 13:
        # the agents whose package is not named after them, when the root has them
        for agent, package in (
            ("fence_idrac", "fence-agents-ipmilan"),
            ("fence_tripplite_snmp", "fence-agents-apc-snmp"),
        ):
            if agent in owners:
                assert owners[agent] == package


def test_debian12_is_one_package_for_every_agent():
    assert fence_agent_packages(["fence_ipmilan", "fence_redfish", "fence_idrac"], "12") == ["fence-agents"]


def test_debian13_a_package_per_agent_each_once():
    agents = ["fence_ipmilan", "fence_idrac", "fence_apc_snmp", "fence_redfish", "fence_ipmilan"]
    assert fence_agent_packages(agents, "13") == [
        "fence-agents-apc-snmp",
        "fence-agents-ipmilan",
        "fence-agents-redfish",
    ]


def test_no_agent_no_package():
    assert fence_agent_packages([], 13) == []


@pytest.mark.parametrize("agents", ["fence_ipmilan", [None]])
def test_filter_refuses_what_is_not_a_list_of_names(agents):
    with pytest.raises(AnsibleFilterError, match="list of fence agent names"):
        fence_agent_packages(agents, 13)


def test_filter_refuses_a_release_that_is_not_a_number():
    with pytest.raises(AnsibleFilterError, match="such as 12 or 13, not 'trixie'"):
        fence_agent_packages(["fence_ipmilan"], "trixie")


def test_missing_agent_error_names_both_releases_packages():
    err = pcs_fence.AgentNotFound("fence_idrac")
    assert "on Debian 12 'apt-get install fence-agents'" in str(err)
    assert "on Debian 13 'apt-get install fence-agents-ipmilan'" in str(err)

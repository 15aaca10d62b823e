# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair CIBs of cibsim.py as fixtures: base_cib, cib, configured_cib, running_cib, running."""

import shutil

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import properties as pcs
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_present as vm_cib
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    PAIR_VMS,
    WEST,
    FakeModule,
    inject_scores,
    require_tools,
    runner_for,
    tool,
)


@pytest.fixture(scope="session")
def base_cib(tmp_path_factory):
    """Two online nodes, quorate, stonith enabled, one fence_ipmilan device per host."""
    require_tools()
    d = tmp_path_factory.mktemp("pair")
    path = str(d / "base.xml")
    xml = tool("cibadmin", "--empty").stdout.replace("<cib ", '<cib have-quorum="1" ', 1)
    with open(path, "w") as f:
        f.write(xml)
    for nid, node in ((1, EAST), (2, WEST)):
        tool("cibadmin", "--create", "-o", "nodes", "--xml-text", f'<node id="{nid}" uname="{node}"/>', cib=path)
    tool("crm_simulate", "-x", path, "--node-up", EAST, "--node-up", WEST, "-O", path)
    r = runner_for(path)
    pcs.ensure_cluster_properties(r, {"stonith-enabled": True})
    for node, ip, delay in ((EAST, "192.0.2.10", 5), (WEST, "192.0.2.11", None)):
        pcs_fence.ensure_fence_device(
            r,
            f"fence_{node}",
            agent="fence_ipmilan",
            options={"ip": ip, "username": "admin", "password": "dummy", "lanplus": "1"},
            host=node,
            delay=delay,
        )
    return path


@pytest.fixture
def cib(base_cib, tmp_path):
    path = str(tmp_path / "cib.xml")
    shutil.copy(base_cib, path)
    return path


@pytest.fixture(scope="session")
def configured_cib(base_cib, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("configured") / "cib.xml")
    shutil.copy(base_cib, path)
    module = FakeModule()
    result = vm_cib.ensure_vms_present(runner_for(path, module), list(PAIR_VMS))
    assert result.changed and result.data["pushes"] == 1
    inject_scores(path, [v.name for v in PAIR_VMS])
    return path


@pytest.fixture(scope="session")
def running_cib(configured_cib, tmp_path_factory):
    """The configured pair after the cluster has started everything."""
    path = str(tmp_path_factory.mktemp("running") / "cib.xml")
    tool("crm_simulate", "-x", configured_cib, "-S", "-O", path)
    return path


@pytest.fixture
def running(running_cib, tmp_path):
    path = str(tmp_path / "running.xml")
    shutil.copy(running_cib, path)
    return path

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.fence_topology: main() against an offline two-node CIB with the real pcs and crm_verify."""

import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.modules import fence_topology
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import EAST, WEST, require_tools, tool

LEVELS = {EAST: [["fence_hv-east"], ["watchdog"]], WEST: [["fence_hv-west"], ["watchdog"]]}
WATCHDOG = {"stonith_watchdog_timeout": 70, "nodes": [EAST, WEST]}


@pytest.fixture
def pair_cib(tmp_path):
    """Two online nodes, quorate, stonith enabled, one fence_ipmilan device per node."""
    require_tools()
    path = str(tmp_path / "cib.xml")
    xml = tool("cibadmin", "--empty").stdout.replace("<cib ", '<cib have-quorum="1" ', 1)
    with open(path, "w") as f:
        f.write(xml)
    for nid, node in ((1, EAST), (2, WEST)):
        tool("cibadmin", "--create", "-o", "nodes", "--xml-text", f'<node id="{nid}" uname="{node}"/>', cib=path)
    tool("crm_simulate", "-x", path, "--node-up", EAST, "--node-up", WEST, "-O", path)
    tool("pcs", "-f", path, "property", "set", "stonith-enabled=true")
    for node, ip in ((EAST, "192.0.2.10"), (WEST, "192.0.2.11")):
        tool(
            "pcs",
            "-f",
            path,
            "stonith",
            "create",
            f"fence_{node}",
            "fence_ipmilan",
            f"ip={ip}",
            "username=admin",
            "password=dummy",
            f"pcmk_host_list={node}",
        )
    return path


def read(path):
    with open(path) as f:
        return f.read()


def test_module_sets_up_then_is_idempotent(run_module, pair_cib):
    args = {"cib_file": pair_cib, "levels": LEVELS, "watchdog": WATCHDOG}
    rc, checked = run_module(fence_topology.main, args, check_mode=True, diff=True)
    assert rc == 0, checked
    assert checked["changed"] is True
    assert checked["commands"][0] == [
        "pcs",
        "stonith",
        "create",
        "watchdog",
        "fence_watchdog",
        f"pcmk_host_list={EAST} {WEST}",
    ]
    assert "stonith-watchdog-timeout=70\n" in checked["diff"]["after"]
    assert "level" not in read(pair_cib)

    rc, result = run_module(fence_topology.main, args, diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["commands"] == checked["commands"]
    assert result["levels"] == LEVELS
    root = ET.parse(pair_cib).getroot()
    assert sorted((fl.get("target"), fl.get("index"), fl.get("devices")) for fl in root.iter("fencing-level")) == [
        (EAST, "1", "fence_hv-east"),
        (EAST, "2", "watchdog"),
        (WEST, "1", "fence_hv-west"),
        (WEST, "2", "watchdog"),
    ]
    verify = subprocess.run(["crm_verify", "-x", pair_cib], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    rc, again = run_module(fence_topology.main, args)
    assert rc == 0
    assert again["changed"] is False
    assert again["commands"] == []


def test_module_unknown_device_fails_naming_it(run_module, pair_cib):
    before = read(pair_cib)
    args = {"cib_file": pair_cib, "levels": {EAST: [["fence_hv-east"], ["fence_pdu_typo"]]}, "watchdog": None}
    rc, result = run_module(fence_topology.main, args)
    assert rc == 1
    assert result["failed"] is True
    assert f"levels.{EAST} level 2" in result["msg"] and "fence_pdu_typo" in result["msg"]
    assert read(pair_cib) == before


def test_module_watchdog_needs_its_keys(run_module, pair_cib):
    rc, result = run_module(fence_topology.main, {"cib_file": pair_cib, "levels": {}, "watchdog": {"nodes": [EAST]}})
    assert rc == 1
    assert "stonith_watchdog_timeout" in result["msg"]

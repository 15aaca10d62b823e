# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pacemaker.topology (fencing levels and the watchdog device) against the real, offline pcs.

Each test works on a copy of the pair CIB of cibsim (two online nodes, quorate, stonith enabled,
fence_hv-east and fence_hv-west), with a PDU pair added for hv-east; pcs, crm_attribute and
crm_verify run for real on it. Nothing is faked: the FakeModule only records the commands.
"""

import shutil
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import topology
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import PcsError
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    WEST,
    FakeModule,
    runner_for,
    tool,
)

SWT = "stonith-watchdog-timeout"
LEVELS = {
    EAST: [["fence_hv-east"], ["fence_hv-east_pdu1", "fence_hv-east_pdu2"], ["watchdog"]],
    WEST: [["fence_hv-west"], ["watchdog"]],
}
WATCHDOG = {"stonith_watchdog_timeout": 70, "nodes": [EAST, WEST]}


@pytest.fixture(scope="session")
def pair_base(base_cib, tmp_path_factory):
    """The pair CIB with the two PDU outlets of hv-east as devices of their own."""
    path = str(tmp_path_factory.mktemp("topology") / "cib.xml")
    shutil.copy(base_cib, path)
    r = runner_for(path)
    for outlet in ("1", "2"):
        pcs_fence.ensure_fence_device(
            r,
            f"fence_hv-east_pdu{outlet}",
            agent="fence_apc_snmp",
            options={"ip": "192.0.2.30", "plug": outlet, "community": "private"},
            host=EAST,
        )
    return path


@pytest.fixture(scope="session")
def set_up_base(pair_base, tmp_path_factory):
    """pair_base after LEVELS and WATCHDOG were set up (what test_levels_and_watchdog_from_nothing checks)."""
    path = str(tmp_path_factory.mktemp("topology-set-up") / "cib.xml")
    shutil.copy(pair_base, path)
    topology.ensure_fence_topology(runner_for(path), LEVELS, WATCHDOG)
    return path


@pytest.fixture
def pair(pair_base, tmp_path):
    path = str(tmp_path / "pair.xml")
    shutil.copy(pair_base, path)
    return path


@pytest.fixture
def set_up(set_up_base, tmp_path):
    path = str(tmp_path / "set-up.xml")
    shutil.copy(set_up_base, path)
    return path


def read(path):
    with open(path) as f:
        return f.read()


def cib_levels(path):
    root = ET.parse(path).getroot()
    return sorted(
        (fl.get("target"), int(fl.get("index")), fl.get("devices"))
        for fl in root.findall("./configuration/fencing-topology/fencing-level")
    )


def watchdog_primitive(path):
    root = ET.parse(path).getroot()
    prim = root.find("./configuration/resources/primitive[@id='watchdog']")
    if prim is None:
        return None
    return prim.get("class"), prim.get("type"), {nv.get("name"): nv.get("value") for nv in prim.iter("nvpair")}


def swt(path):
    root = ET.parse(path).getroot()
    for nv in root.findall("./configuration/crm_config/cluster_property_set/nvpair"):
        if nv.get("name") == SWT:
            return nv.get("value")
    return None


def verify_clean(path):
    proc = tool("crm_verify", "-VV", "-x", path, check=False)
    assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), proc.stdout + proc.stderr


_AS_SET_UP = object()


def ensure(path, levels=None, watchdog=_AS_SET_UP, check_mode=False):
    """ensure_fence_topology on ``path``: LEVELS and WATCHDOG unless given (``watchdog=None`` removes it)."""
    levels = LEVELS if levels is None else levels
    watchdog = WATCHDOG if watchdog is _AS_SET_UP else watchdog
    module = FakeModule()
    result = topology.ensure_fence_topology(runner_for(path, module), levels, watchdog, check_mode=check_mode)
    return result, module


SET_UP = [
    ["pcs", "stonith", "create", "watchdog", "fence_watchdog", f"pcmk_host_list={EAST} {WEST}"],
    ["crm_attribute", "--type", "crm_config", "--name", SWT, "--update", "70"],
    ["pcs", "stonith", "level", "add", "1", EAST, "fence_hv-east"],
    ["pcs", "stonith", "level", "add", "2", EAST, "fence_hv-east_pdu1", "fence_hv-east_pdu2"],
    ["pcs", "stonith", "level", "add", "3", EAST, "watchdog"],
    ["pcs", "stonith", "level", "add", "1", WEST, "fence_hv-west"],
    ["pcs", "stonith", "level", "add", "2", WEST, "watchdog"],
]


def test_levels_and_watchdog_from_nothing(pair):
    result, module = ensure(pair)
    assert result.changed is True
    # the device before the levels that name it, the property once the device exists
    assert result.commands == SET_UP
    assert len(module.pushes()) == 1
    assert cib_levels(pair) == [
        (EAST, 1, "fence_hv-east"),
        (EAST, 2, "fence_hv-east_pdu1,fence_hv-east_pdu2"),
        (EAST, 3, "watchdog"),
        (WEST, 1, "fence_hv-west"),
        (WEST, 2, "watchdog"),
    ]
    assert watchdog_primitive(pair) == ("stonith", "fence_watchdog", {"pcmk_host_list": f"{EAST} {WEST}"})
    assert swt(pair) == "70"
    assert result.data["levels"] == LEVELS
    assert result.before == ""
    assert result.after == (
        f"fencing levels of {EAST}\n"
        "  level 1: fence_hv-east\n"
        "  level 2: fence_hv-east_pdu1,fence_hv-east_pdu2\n"
        "  level 3: watchdog\n"
        f"fencing levels of {WEST}\n"
        "  level 1: fence_hv-west\n"
        "  level 2: watchdog\n"
        "stonith watchdog (agent fence_watchdog)\n"
        f"  pcmk_host_list={EAST} {WEST}\n"
        "stonith-watchdog-timeout=70\n"
    )
    verify_clean(pair)


def test_second_run_changes_nothing(set_up):
    before = read(set_up)
    result, module = ensure(set_up)
    assert result.changed is False
    assert result.commands == []
    assert module.pcs_calls() == []
    assert not [c for c in module.calls if c[0] == "crm_attribute"]
    assert read(set_up) == before
    assert result.before == result.after


def test_timeout_written_with_a_unit_is_the_same(set_up):
    tool("crm_attribute", "--type", "crm_config", "--name", SWT, "--update", "70s", cib=set_up)
    result, _module = ensure(set_up)
    assert result.changed is False


def test_one_node_changed_the_other_left_alone(set_up):
    result, _module = ensure(set_up, levels={EAST: [["fence_hv-east_pdu1", "fence_hv-east_pdu2"], ["watchdog"]]})
    assert result.commands == [
        ["pcs", "stonith", "level", "delete", "1", "target", EAST],
        ["pcs", "stonith", "level", "delete", "2", "target", EAST],
        ["pcs", "stonith", "level", "delete", "3", "target", EAST],
        ["pcs", "stonith", "level", "add", "1", EAST, "fence_hv-east_pdu1", "fence_hv-east_pdu2"],
        ["pcs", "stonith", "level", "add", "2", EAST, "watchdog"],
    ]
    assert cib_levels(set_up) == [
        (EAST, 1, "fence_hv-east_pdu1,fence_hv-east_pdu2"),
        (EAST, 2, "watchdog"),
        (WEST, 1, "fence_hv-west"),
        (WEST, 2, "watchdog"),
    ]
    assert result.data["levels"][WEST] == LEVELS[WEST]
    verify_clean(set_up)


def test_only_the_differing_level_changes(set_up):
    levels = {EAST: [["fence_hv-east"], ["fence_hv-east_pdu1"], ["watchdog"]]}
    result, _module = ensure(set_up, levels=levels)
    assert result.commands == [
        ["pcs", "stonith", "level", "delete", "2", "target", EAST],
        ["pcs", "stonith", "level", "add", "2", EAST, "fence_hv-east_pdu1"],
    ]


def test_empty_list_removes_a_nodes_levels(set_up):
    result, _module = ensure(set_up, levels={WEST: []})
    assert result.commands == [
        ["pcs", "stonith", "level", "delete", "1", "target", WEST],
        ["pcs", "stonith", "level", "delete", "2", "target", WEST],
    ]
    assert [lv for lv in cib_levels(set_up) if lv[0] == WEST] == []
    assert len([lv for lv in cib_levels(set_up) if lv[0] == EAST]) == 3
    assert WEST not in result.data["levels"]


def test_watchdog_removed_after_its_levels(set_up):
    result, module = ensure(set_up, levels={EAST: [["fence_hv-east"]], WEST: [["fence_hv-west"]]}, watchdog=None)
    assert result.commands == [
        ["pcs", "stonith", "level", "delete", "2", "target", EAST],
        ["pcs", "stonith", "level", "delete", "3", "target", EAST],
        ["pcs", "stonith", "level", "delete", "2", "target", WEST],
        ["pcs", "stonith", "delete", "watchdog"],
        ["crm_attribute", "--type", "crm_config", "--name", SWT, "--delete"],
    ]
    assert len(module.pushes()) == 1
    assert cib_levels(set_up) == [(EAST, 1, "fence_hv-east"), (WEST, 1, "fence_hv-west")]
    assert watchdog_primitive(set_up) is None
    assert swt(set_up) is None
    assert "watchdog" not in result.after and SWT not in result.after
    verify_clean(set_up)
    again, _module = ensure(set_up, levels={EAST: [["fence_hv-east"]], WEST: [["fence_hv-west"]]}, watchdog=None)
    assert again.changed is False


def test_watchdog_nodes_changed_updates_the_device(set_up):
    result, _module = ensure(set_up, watchdog={"stonith_watchdog_timeout": 90, "nodes": [EAST]})
    assert result.commands == [
        ["pcs", "stonith", "update", "watchdog", f"pcmk_host_list={EAST}"],
        ["crm_attribute", "--type", "crm_config", "--name", SWT, "--update", "90"],
    ]
    assert watchdog_primitive(set_up)[2] == {"pcmk_host_list": EAST}
    assert swt(set_up) == "90"
    assert ensure(set_up, watchdog={"stonith_watchdog_timeout": 90, "nodes": [EAST]})[0].changed is False


def test_watchdog_nodes_in_another_order_are_the_same_device(set_up):
    result, _module = ensure(set_up, watchdog={"stonith_watchdog_timeout": 70, "nodes": [WEST, EAST]})
    assert result.changed is False


def test_check_mode_changes_nothing_but_shows_commands_and_diff(pair):
    before = read(pair)
    result, module = ensure(pair, check_mode=True)
    assert result.changed is True
    assert result.commands == SET_UP
    assert read(pair) == before
    assert module.pushes() == []
    assert "  level 3: watchdog\n" in result.after and "stonith-watchdog-timeout=70\n" in result.after
    assert result.before == ""
    assert result.data["levels"] == LEVELS
    # the real run does what check mode showed
    real, _module = ensure(pair)
    assert real.commands == result.commands and real.after == result.after


@pytest.mark.parametrize(
    "levels, watchdog, words",
    [
        ({EAST: [["fence_hv-east"], ["fence_nosuch"]]}, WATCHDOG, [f"levels.{EAST} level 2", "fence_nosuch"]),
        ({WEST: [["watchdog"]]}, None, [f"levels.{WEST} level 1", "watchdog", "watchdog is not set"]),
        ({"hv-nowhere": [["fence_hv-east"]]}, WATCHDOG, ["hv-nowhere", "not a node of the cluster"]),
    ],
)
def test_refused_before_any_command(pair, levels, watchdog, words):
    before = read(pair)
    module = FakeModule()
    with pytest.raises(PcsError) as exc:
        topology.ensure_fence_topology(runner_for(pair, module), levels, watchdog)
    for word in words:
        assert word in str(exc.value)
    assert module.pcs_calls() == []
    assert read(pair) == before


def test_watchdog_kept_while_an_unnamed_node_uses_it(set_up):
    before = read(set_up)
    with pytest.raises(PcsError) as exc:
        ensure(set_up, levels={EAST: [["fence_hv-east"]]}, watchdog=None)
    assert f"level 2 of node {WEST}" in str(exc.value) and f"levels.{WEST}" in str(exc.value)
    assert read(set_up) == before


def test_a_watchdog_device_of_another_agent_is_refused(pair):
    tool("pcs", "-f", pair, "stonith", "create", "watchdog", "fence_ipmilan", "ip=192.0.2.9", "username=a")
    before = read(pair)
    with pytest.raises(PcsError) as exc:
        ensure(pair)
    assert "agent fence_ipmilan" in str(exc.value) and "pcs stonith delete watchdog" in str(exc.value)
    assert read(pair) == before


@pytest.mark.parametrize(
    "watchdog, word",
    [
        ({"stonith_watchdog_timeout": 0, "nodes": [EAST]}, "positive"),
        ({"stonith_watchdog_timeout": 70, "nodes": []}, "watchdog.nodes"),
        ({"stonith_watchdog_timeout": 70, "nodes": [EAST, EAST]}, "twice"),
    ],
)
def test_bad_watchdog_is_refused(watchdog, word):
    with pytest.raises(PcsError, match=word):
        topology.normalize_watchdog(watchdog)


def test_bad_levels_are_refused():
    with pytest.raises(PcsError, match="level 2 must be a non-empty list"):
        topology.normalize_levels({EAST: [["a"], []]})
    with pytest.raises(PcsError, match="comma"):
        topology.normalize_levels({EAST: [["a,b"]]})
    with pytest.raises(PcsError, match="twice"):
        topology.normalize_levels({EAST: [["a", "a"]]})


def test_levels_of_patterns_are_not_read():
    root = ET.fromstring(
        "<cib><configuration><fencing-topology>"
        '<fencing-level id="a" index="2" target="n1" devices="x,y"/>'
        '<fencing-level id="b" index="1" target-pattern="n.*" devices="z"/>'
        '<fencing-level id="c" index="1" target="n1" devices="w"/>'
        "</fencing-topology></configuration></cib>"
    )
    assert topology.levels_as_lists(topology.read_levels(root)) == {"n1": [["w"], ["x", "y"]]}

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.cluster_properties: main() against an offline CIB with the real pcs."""

import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.modules import cluster_properties


def properties_in(path):
    root = ET.parse(path).getroot()
    return {nv.get("name"): nv.get("value") for nv in root.iter("nvpair")}


def read(path):
    with open(path) as f:
        return f.read()


def test_set_normalises_and_is_idempotent(run_module, empty_cib):
    args = {
        "cib_file": empty_cib,
        "properties": {"stonith-enabled": True, "stonith-timeout": 60, "no-quorum-policy": "stop"},
    }
    rc, result = run_module(cluster_properties.main, args)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["commands"] == [
        [
            "pcs",
            "-f",
            empty_cib,
            "property",
            "set",
            "no-quorum-policy=stop",
            "stonith-enabled=true",
            "stonith-timeout=60",
        ]
    ]
    expected = {"stonith-enabled": "true", "stonith-timeout": "60", "no-quorum-policy": "stop"}
    assert properties_in(empty_cib) == expected
    assert result["properties"] == expected

    rc, again = run_module(cluster_properties.main, args)
    assert rc == 0
    assert again["changed"] is False
    assert again["commands"] == []


def test_check_mode_with_diff_leaves_cib(run_module, empty_cib):
    before = read(empty_cib)
    rc, result = run_module(
        cluster_properties.main,
        {"cib_file": empty_cib, "properties": {"maintenance-mode": False}},
        check_mode=True,
        diff=True,
    )
    assert rc == 0
    assert result["changed"] is True
    assert result["diff"] == {"before": "", "after": "maintenance-mode=false\n"}
    assert read(empty_cib) == before


def test_pcs_error_is_reported_with_command(run_module, empty_cib):
    rc, result = run_module(cluster_properties.main, {"cib_file": empty_cib, "properties": {"stonith-timeout": "soon"}})
    assert rc == 1
    assert result["failed"] is True
    assert result["rc"] == 1
    assert result["cmd"] == ["pcs", "-f", empty_cib, "property", "set", "stonith-timeout=soon"]
    assert "'soon' is not a valid stonith-timeout value" in result["stderr"]
    assert "stonith-timeout" in result["msg"]


def test_nested_value_is_refused(run_module, empty_cib):
    rc, result = run_module(cluster_properties.main, {"cib_file": empty_cib, "properties": {"stonith-timeout": [1, 2]}})
    assert rc == 1
    assert "single strings, numbers or booleans" in result["msg"]

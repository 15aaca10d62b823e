# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site model's fencing: several devices per host in levels, and watchdog self-fencing (diskless
SBD) as the last level, with the findings a user reads when either is set wrong."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.sitedata import set_pair_var, site

BMC = {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.10", "password": "bmc-secret"}}
PDU_A = {"agent": "fence_apc_snmp", "options": {"ip": "192.0.2.40", "port": "3", "community": "pdu-secret"}}
PDU_B = {"agent": "fence_apc_snmp", "options": {"ip": "192.0.2.41", "port": "3", "community": "pdu-secret"}}


def checked(hostvars, pairs=None, witnesses=None):
    base_pairs, base_witnesses, _unused = site()
    return site_model.check_site(pairs or base_pairs, base_witnesses if witnesses is None else witnesses, hostvars)


def messages(result):
    return [str(p) for p in result.problems]


def with_fencing(east):
    pairs, witnesses, hostvars = site()
    fencing = dict(hostvars["hv-east"]["vmpair_fencing"], **{"hv-east": east})
    set_pair_var(hostvars, "vmpair_fencing", fencing)
    return pairs, witnesses, hostvars


def test_one_device_keeps_its_name_and_is_the_only_level():
    pair = site_model.build_site(*site())["pairs"]["pair_mail"]
    assert pair["fencing"]["hv-east"]["levels"] == [["fence_hv-east"]]


def test_devices_in_a_list_are_levels_in_order_and_a_shared_level_needs_both():
    pair = site_model.build_site(*with_fencing([BMC, dict(PDU_A, level=2), dict(PDU_B, level=2)]))["pairs"]["pair_mail"]
    east = pair["fencing"]["hv-east"]
    assert [d["id"] for d in east["devices"]] == ["fence_hv-east", "fence_hv-east_2", "fence_hv-east_3"]
    # level 1 the BMC; level 2 both outlets of the host's two power supplies, which must both switch off
    assert east["levels"] == [["fence_hv-east"], ["fence_hv-east_2", "fence_hv-east_3"]]
    assert east["agent"] == "fence_ipmilan"
    assert pair["fence_agents"] == ["fence_apc_snmp", "fence_ipmilan"]
    # the options (a password, an SNMP community) never reach the description
    assert "secret" not in repr(pair)


def test_device_names_follow_the_node_name():
    pairs, witnesses, hostvars = with_fencing([BMC, PDU_A])
    hostvars["hv-east"]["vmpair_node_name"] = "node-a"
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    assert pair["fencing"]["hv-east"]["levels"] == [["fence_node-a"], ["fence_node-a_2"]]


@pytest.mark.parametrize(
    "east, variable, words",
    [
        ([BMC, dict(PDU_A, level=0)], "vmpair_fencing.hv-east[1].level", "0 is not a fence level (1-9)"),
        ([BMC, {"agent": "ipmi"}], "vmpair_fencing.hv-east[1].agent", "'ipmi' is not a fence agent name"),
        ([BMC, {"agent": "fence_watchdog"}], "vmpair_fencing.hv-east[1].agent", "vmpair_watchdog_fencing: true"),
        ([], "vmpair_fencing.hv-east", "no fence device for hv-east"),
    ],
)
def test_a_wrong_device_in_the_list_is_named_by_its_place(east, variable, words):
    result = checked(with_fencing(east)[2])
    found = [m for m in messages(result) if variable + ":" in m]
    assert len(found) == 1, messages(result)
    assert words in found[0]


def test_watchdog_fencing_is_described_with_its_timeouts():
    pair = site_model.build_site(*site())["pairs"]["pair_mail"]
    # SBD's watchdog waits longer than qdevice's sync_timeout (30 s); the survivor twice that
    assert pair["watchdog"]["timeout"] == 35
    assert pair["watchdog"]["stonith_watchdog_timeout"] == 70


def test_two_sites_without_watchdog_fencing_warn_that_a_lost_site_needs_a_human():
    hostvars = site()[2]
    set_pair_var(hostvars, "vmpair_watchdog_fencing", False)
    result = checked(hostvars)
    assert not result.errors
    (warning,) = [p for p in result.warnings if p.variable == "vmpair_watchdog_fencing"]
    assert "east, hv-west=west" in warning.message or "hv-east=east, hv-west=west" in warning.message
    assert "stonith_admin --confirm" in warning.message
    assert "vmpair_watchdog_fencing: true" in warning.fix


def test_one_site_without_watchdog_fencing_is_no_finding():
    hostvars = site()[2]
    set_pair_var(hostvars, "vmpair_watchdog_fencing", False)
    hostvars["hv-west"]["vmpair_site"] = "east"
    hostvars["hv-east"]["vmpair_site"] = "east"
    result = checked(hostvars)
    assert [p for p in result.problems if p.variable == "vmpair_watchdog_fencing"] == []


def test_watchdog_fencing_without_a_witness_is_refused():
    hostvars = site()[2]
    set_pair_var(hostvars, "vmpair_witness", None)
    for host in ("hv-east", "hv-west"):
        hostvars[host]["vmpair_site"] = "east"
    result = checked(hostvars, witnesses=[])
    (error,) = [p for p in result.errors if p.variable == "vmpair_watchdog_fencing"]
    assert "needs a witness" in error.message
    assert "vmpair_witness" in error.fix


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("vmpair_watchdog_timeout", 30, "outside 31-120 s"),
        ("vmpair_watchdog_timeout", "35s", "outside 31-120 s"),
        ("vmpair_watchdog_timeout", "20", "outside 31-120 s"),
        ("vmpair_watchdog_device", "watchdog", "not a device path"),
        ("vmpair_watchdog_module", "soft dog", "not a kernel module name"),
        ("vmpair_watchdog_fencing", "yes", "not true or false"),
    ],
)
def test_a_wrong_watchdog_setting_is_named(variable, value, words):
    hostvars = site()[2]
    set_pair_var(hostvars, variable, value)
    result = checked(hostvars)
    found = [p for p in result.errors if p.variable == variable]
    assert len(found) == 1, messages(result)
    assert words in found[0].message
    with pytest.raises(site_base.SiteError):
        site_model.build_site(site()[0], site()[1], hostvars)

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_site's rules: one good site, then broken sites with one fault each, and the warnings.

Every broken site must be rejected with exactly one error whose text names the culprit (the pair,
the host or VM, the variable) in the form "pair P host H: VARIABLE: what. Fix: how".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import glob
import importlib.util
import os
import re

import pytest

from ansible_collections.duplex.vmpair.plugins.action.site_model import known_variables
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import addresses as site_addresses
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import report as site_report
from ansible_collections.duplex.vmpair.tests.unit.sitedata import add_pair, set_pair_var, site

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
KNOWN = known_variables()


def two_pairs():
    pairs, witnesses, hostvars = site()
    add_pair(pairs, hostvars)
    return pairs, witnesses, hostvars


def check(pairs, witnesses, hostvars):
    return site_model.check_site(pairs, witnesses, hostvars, KNOWN)


def links_of(hostvars, host="hv-east"):
    return copy.deepcopy(hostvars[host]["vmpair_links"])


def test_the_good_site_passes_without_any_finding():
    result = check(*two_pairs())
    assert [str(p) for p in result.problems] == []
    assert sorted(result.site["pairs"]) == ["pair_mail", "pair_web"]
    assert site_report.passed(result, strict=True)


def test_known_variables_come_from_the_site_model_and_every_role():
    assert {"vmpair_links", "vmpair_check_strict", "vmpair_sync_rtt_limit_ms", "vmpair_links_shared_with_vms"} <= set(
        KNOWN
    )
    # role options (argument_specs) and role defaults
    assert {"vmpair_drbd_ping_int", "vmpair_network_persist", "vmpair_witness_tls"} <= set(KNOWN)
    assert all(name.startswith("vmpair_") for name in KNOWN)


# Each entry: id, the one fault, and (where, variable, words of the message) of the only error.
def _vm(hostvars, **changes):
    vms = copy.deepcopy(hostvars["hv-east"]["vmpair_vms"])
    vms[0].update(changes)
    set_pair_var(hostvars, "vmpair_vms", vms)


def _vm_without(hostvars, key):
    vms = copy.deepcopy(hostvars["hv-east"]["vmpair_vms"])
    del vms[0][key]
    set_pair_var(hostvars, "vmpair_vms", vms)


def _link(hostvars, index, host=None, **changes):
    links = links_of(hostvars)
    target = links[index]["hosts"][host] if host else links[index]
    target.update(changes)
    set_pair_var(hostvars, "vmpair_links", links)


def _three_hosts(pairs, _w, hostvars):
    pairs["pair_mail"].append("hv-spare")


def _host_in_two_pairs(pairs, _w, hostvars):
    # pair_spare is valid by itself (its vars come from its first host), but hv-west is also in pair_mail.
    other_pairs, other_vars = {}, {}
    add_pair(other_pairs, other_vars, "pair_spare", ("hv-spare", "hv-west"), subnet=30)
    hostvars["hv-spare"] = dict(other_vars["hv-spare"], vmpair_vms=[])
    pairs.update(other_pairs)


def _one_cluster_link(_p, _w, hostvars):
    _link(hostvars, 1, carries=["replication"])


def _no_replication(_p, _w, hostvars):
    _link(hostvars, 0, carries=["cluster"])


def _network_not_cidr(_p, _w, hostvars):
    _link(hostvars, 1, network="10.10.1/24")


def _network_host_bits(_p, _w, hostvars):
    _link(hostvars, 1, network="10.10.1.7/24")


def _overlapping_networks(_p, _w, hostvars):
    links = links_of(hostvars)
    links[1]["network"] = "10.10.0.128/25"
    links[1]["hosts"]["hv-east"]["address"] = "10.10.0.129"
    links[1]["hosts"]["hv-west"]["address"] = "10.10.0.130"
    set_pair_var(hostvars, "vmpair_links", links)


def _address_used_by_another_pair(_p, _w, hostvars):
    links = copy.deepcopy(hostvars["hv-north"]["vmpair_links"])
    links[0]["network"] = "10.10.0.0/24"
    links[0]["hosts"]["hv-south"]["address"] = "10.10.0.2"
    links[0]["hosts"]["hv-north"]["address"] = "10.10.0.11"
    for host in ("hv-north", "hv-south"):
        hostvars[host]["vmpair_links"] = copy.deepcopy(links)


def _unknown_variable(_p, _w, hostvars):
    set_pair_var(hostvars, "vmpair_fence_dealy", 30)


def _unknown_role_option_on_one_host(_p, _w, hostvars):
    hostvars["hv-west"]["vmpair_drbd_ping_intt"] = 3


def _capacity_memory(_p, _w, hostvars):
    hostvars["hv-east"]["vmpair_host_capacity"] = {"vcpus": 32, "memory_mib": 8192}


def _capacity_vcpus(_p, _w, hostvars):
    hostvars["hv-west"]["vmpair_host_capacity"] = {"vcpus": 2, "memory_mib": 262144}


def _witness_site(_p, _w, hostvars):
    hostvars["qw1"]["vmpair_site"] = "north"


FAULTS = [
    ("pair-of-three", _three_hosts, ("pair pair_mail", "hosts", "has 3 host(s) (hv-east, hv-west, hv-spare)")),
    (
        "host-in-two-pairs",
        _host_in_two_pairs,
        ("host hv-west", "inventory", "is in two pairs (pair_mail and pair_spare)"),
    ),
    (
        "hypervisor",
        lambda p, w, hv: set_pair_var(hv, "vmpair_hypervisor", "vmware"),
        ("pair pair_mail", "vmpair_hypervisor", "'vmware' is not supported"),
    ),
    ("one-cluster-link", _one_cluster_link, ("pair pair_mail", "vmpair_links", "1 link(s) carry cluster traffic")),
    ("no-replication", _no_replication, ("pair pair_mail", "vmpair_links", "no link carries replication")),
    (
        "network-not-cidr",
        _network_not_cidr,
        ("pair pair_mail", "vmpair_links[link1].network", "'10.10.1/24' is not a network in CIDR form"),
    ),
    (
        "network-host-bits",
        _network_host_bits,
        ("pair pair_mail", "vmpair_links[link1].network", "host bits set; the network is 10.10.1.0/24"),
    ),
    (
        "address-outside",
        lambda p, w, hv: _link(hv, 1, "hv-west", address="10.10.9.2"),
        ("pair pair_mail host hv-west", "vmpair_links[link1].hosts.hv-west.address", "10.10.9.2 is not inside"),
    ),
    (
        "address-broadcast",
        lambda p, w, hv: _link(hv, 1, "hv-west", address="10.10.1.255"),
        ("pair pair_mail host hv-west", "vmpair_links[link1].hosts.hv-west.address", "10.10.1.255 is the network"),
    ),
    (
        "address-network",
        lambda p, w, hv: _link(hv, 0, "hv-east", address="10.10.0.0"),
        ("pair pair_mail host hv-east", "vmpair_links[link0].hosts.hv-east.address", "10.10.0.0 is the network"),
    ),
    (
        "address-with-prefix",
        lambda p, w, hv: _link(hv, 0, "hv-east", address="10.10.0.1/24"),
        ("pair pair_mail host hv-east", "vmpair_links[link0].hosts.hv-east.address", "is not an IP address"),
    ),
    (
        "address-twice-in-site",
        _address_used_by_another_pair,
        (
            "pair pair_web host hv-south",
            "vmpair_links[link0].hosts.hv-south.address",
            "10.10.0.2 is already used by hv-west on link0 of pair pair_mail",
        ),
    ),
    (
        "overlapping-networks",
        _overlapping_networks,
        ("pair pair_mail", "vmpair_links[link1].network", "10.10.0.128/25 overlaps link link0"),
    ),
    (
        "interface-twice",
        lambda p, w, hv: _link(hv, 1, "hv-east", interface="enp65s0f0"),
        ("pair pair_mail host hv-east", "vmpair_links[link1].hosts.hv-east", "interface enp65s0f0 is already used"),
    ),
    (
        "two-sites-no-witness",
        lambda p, w, hv: set_pair_var(hv, "vmpair_witness", None),
        ("pair pair_mail", "vmpair_witness", "different sites (hv-east=east, hv-west=west)"),
    ),
    (
        "witness-not-in-group",
        lambda p, w, hv: set_pair_var(hv, "vmpair_witness", "qw9"),
        ("pair pair_mail", "vmpair_witness", "qw9 is not in the vmpair_witnesses group"),
    ),
    ("witness-on-pair-site", _witness_site, ("witness qw1", "vmpair_site", "like a host of pair pair_web")),
    (
        "no-fencing-for-a-host",
        lambda p, w, hv: set_pair_var(hv, "vmpair_fencing", {"hv-east": hv["hv-east"]["vmpair_fencing"]["hv-east"]}),
        ("pair pair_mail host hv-west", "vmpair_fencing.hv-west", "no fence device for hv-west"),
    ),
    (
        "fence-agent",
        lambda p, w, hv: set_pair_var(hv, "vmpair_fencing", dict(hv["hv-east"]["vmpair_fencing"], **{"hv-west": {}})),
        ("pair pair_mail host hv-west", "vmpair_fencing.hv-west.agent", "None is not a fence agent name"),
    ),
    (
        "vm-name-in-two-pairs",
        lambda p, w, hv: _vm(hv, name="web1"),
        ("pair pair_web", "vmpair_vms[web1]", "VM web1 is also a VM of pair pair_mail"),
    ),
    (
        "vm-level",
        lambda p, w, hv: _vm(hv, level="gold"),
        ("pair pair_mail", "vmpair_vms[mbx-exec].level", "'gold' is not a protection level"),
    ),
    (
        "vm-level-ft",
        lambda p, w, hv: _vm(hv, level="ft"),
        ("pair pair_mail", "vmpair_vms[mbx-exec].level", "level ft (fault tolerance) is not available yet"),
    ),
    (
        "vm-size",
        lambda p, w, hv: _vm(hv, memory_mib=-4),
        ("pair pair_mail", "vmpair_vms[mbx-exec].memory_mib", "-4 is not a positive whole number"),
    ),
    (
        "vm-stop-timeout",
        lambda p, w, hv: _vm(hv, stop_timeout=5),
        ("pair pair_mail", "vmpair_vms[mbx-exec].stop_timeout", "5 is not a number of seconds of at least 10"),
    ),
    (
        "vm-monitor-timeout",
        lambda p, w, hv: _vm(hv, monitor_timeout="1m"),
        ("pair pair_mail", "vmpair_vms[mbx-exec].monitor_timeout", "'1m' is not a number of seconds of at least 10"),
    ),
    (
        "vm-force-stop",
        lambda p, w, hv: _vm(hv, force_stop="sometimes"),
        ("pair pair_mail", "vmpair_vms[mbx-exec].force_stop", "'sometimes' is not true or false"),
    ),
    (
        "vm-preferred-host",
        lambda p, w, hv: _vm(hv, preferred_host="hv-north"),
        ("pair pair_mail", "vmpair_vms[mbx-exec].preferred_host", "hv-north is not a host of this pair"),
    ),
    (
        "capacity-memory",
        _capacity_memory,
        (
            "pair pair_mail host hv-east",
            "vmpair_host_capacity.memory_mib",
            "1 VM(s) need 16384 MiB of memory in all, but hv-east has 8192 MiB of memory: when hv-west is lost",
        ),
    ),
    (
        "capacity-vcpus",
        _capacity_vcpus,
        ("pair pair_mail host hv-west", "vmpair_host_capacity.vcpus", "need 4 vCPUs in all, but hv-west has 2 vCPUs"),
    ),
    (
        "capacity-shape",
        lambda p, w, hv: hv["hv-east"].update(vmpair_host_capacity={"cpus": 32}),
        ("pair pair_mail host hv-east", "vmpair_host_capacity.cpus", "32 is not a positive count"),
    ),
    (
        "latency-ha",
        lambda p, w, hv: _link(hv, 0, rtt_ms=12),
        (
            "pair pair_mail",
            "vmpair_links[link0].rtt_ms",
            "(mbx-exec) but its round trip is 12 ms, above the 5 ms limit",
        ),
    ),
    (
        "latency-own-limit",
        lambda p, w, hv: (_link(hv, 0, rtt_ms=3), set_pair_var(hv, "vmpair_sync_rtt_limit_ms", {"ha": 2})),
        ("pair pair_mail", "vmpair_links[link0].rtt_ms", "round trip is 3 ms, above the 2 ms limit for ha"),
    ),
    (
        "rtt-not-a-number",
        lambda p, w, hv: _link(hv, 1, rtt_ms="fast"),
        ("pair pair_mail", "vmpair_links[link1].rtt_ms", "'fast' is not a round trip time"),
    ),
    (
        "rtt-limit-level",
        lambda p, w, hv: set_pair_var(hv, "vmpair_sync_rtt_limit_ms", {"recovery": 50}),
        ("pair pair_mail", "vmpair_sync_rtt_limit_ms.recovery", "only the synchronous levels ft and ha"),
    ),
    (
        "unknown-variable",
        _unknown_variable,
        ("pair pair_mail", "vmpair_fence_dealy", "the closest known name is vmpair_fence_delay"),
    ),
    (
        "unknown-role-option",
        _unknown_role_option_on_one_host,
        ("pair pair_mail host hv-west", "vmpair_drbd_ping_intt", "the closest known name is vmpair_drbd_ping_int"),
    ),
    (
        "vm-key-typo",
        lambda p, w, hv: _vm(hv, stop_timout=300),
        ("pair pair_mail", "vmpair_vms[mbx-exec].stop_timout", "the closest key is stop_timeout"),
    ),
    (
        "vm-key-unknown",
        lambda p, w, hv: _vm(hv, disks=[{"name": "vda", "size_gib": 200}]),
        ("pair pair_mail", "vmpair_vms[mbx-exec].disks", "is not a key of a VM, so nothing reads it."),
    ),
]


@pytest.mark.parametrize("fault, expected", [(f[1], f[2]) for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_a_site_with_one_fault_is_rejected_naming_the_culprit(fault, expected):
    pairs, witnesses, hostvars = two_pairs()
    fault(pairs, witnesses, hostvars)
    result = check(pairs, witnesses, hostvars)
    errors = result.errors
    assert len(errors) == 1, [str(p) for p in errors]
    where, variable, words = expected
    problem = errors[0]
    assert (problem.where, problem.variable) == (where, variable), str(problem)
    assert words in problem.message, str(problem)
    assert str(problem) == "%s: %s: %s Fix: %s" % (where, variable, problem.message, problem.fix)
    assert problem.fix and problem.fix[0].isupper()
    assert not site_report.passed(result)
    with pytest.raises(site_base.SiteError):
        site_model.build_site(pairs, witnesses, hostvars, KNOWN)


def test_there_are_at_least_twenty_one_fault_sites():
    assert len(FAULTS) >= 20
    assert len({f[0] for f in FAULTS}) == len(FAULTS)


def test_a_finding_knows_its_pair_host_and_check():
    pairs, witnesses, hostvars = two_pairs()
    _capacity_vcpus(pairs, witnesses, hostvars)
    problem = check(pairs, witnesses, hostvars).errors[0]
    assert (problem.pair, problem.host, problem.check, problem.severity) == (
        "pair_mail",
        "hv-west",
        "capacity",
        "error",
    )


def test_capacity_counts_every_vm_of_the_pair_and_either_host_may_be_lost():
    pairs, witnesses, hostvars = two_pairs()
    vms = [{"name": "vm%d" % i, "level": "recovery", "vcpus": 8, "memory_mib": 65536} for i in range(4)]
    set_pair_var(hostvars, "vmpair_vms", vms)  # 32 vCPUs and 262144 MiB: exactly the capacity
    assert check(pairs, witnesses, hostvars).errors == []
    vms.append({"name": "vm4", "level": "recovery", "vcpus": 1, "memory_mib": 1})
    set_pair_var(hostvars, "vmpair_vms", vms)
    errors = check(pairs, witnesses, hostvars).errors
    assert sorted((p.host, p.variable) for p in errors) == [
        ("hv-east", "vmpair_host_capacity.memory_mib"),
        ("hv-east", "vmpair_host_capacity.vcpus"),
        ("hv-west", "vmpair_host_capacity.memory_mib"),
        ("hv-west", "vmpair_host_capacity.vcpus"),
    ]
    vcpus = [p for p in errors if p.host == "hv-west" and p.variable.endswith("vcpus")][0]
    assert vcpus.message == (
        "the pair's 5 VM(s) need 33 vCPUs in all, but hv-west has 32 vCPUs: when hv-east is lost, "
        "hv-west cannot run them all (1 vCPUs short)."
    )


def test_latency_applies_to_replication_links_and_synchronous_levels_only():
    pairs, witnesses, hostvars = two_pairs()
    _link(hostvars, 1, rtt_ms=40)  # link1 carries cluster only
    assert check(pairs, witnesses, hostvars).problems == []
    _link(hostvars, 0, rtt_ms=40)
    assert len(check(pairs, witnesses, hostvars).errors) == 1
    _vm(hostvars, level="recovery")  # asynchronous recovery copies wait for no round trip
    assert check(pairs, witnesses, hostvars).problems == []


def _vm_link(hostvars, carries):
    """link1 becomes a bonded link with a bridge that carries CARRIES; link2 keeps a second cluster link."""
    links = links_of(hostvars)
    links[1].update(carries=list(carries), bridge="br-vm")
    for host in ("hv-east", "hv-west"):
        links[1]["hosts"][host].update(interface="bond1", members=["eno1", "eno4"])
    links.append(
        {
            "name": "link2",
            "network": "10.10.2.0/24",
            "carries": ["cluster"],
            "hosts": {
                "hv-east": {"interface": "eno3", "address": "10.10.2.1"},
                "hv-west": {"interface": "eno3", "address": "10.10.2.2"},
            },
        }
    )
    set_pair_var(hostvars, "vmpair_links", links)


MIXES = [["cluster", "vm"], ["replication", "vm"], ["cluster", "replication", "vm"]]


@pytest.mark.parametrize("carries", MIXES, ids=["-".join(c) for c in MIXES])
def test_vm_traffic_on_a_cluster_or_replication_link_is_an_error_with_the_fix_and_the_opt_out(carries):
    """Issue 24: tenants' traffic on the links of corosync, DRBD and live migration is refused."""
    pairs, witnesses, hostvars = two_pairs()
    _vm_link(hostvars, carries)
    result = check(pairs, witnesses, hostvars)
    [error] = result.errors
    assert result.warnings == []
    assert (error.where, error.variable, error.check, error.pair, error.host) == (
        "pair pair_mail",
        "vmpair_links[link1].carries",
        "links",
        "pair_mail",
        None,
    )
    shared = [c for c in carries if c != "vm"]
    assert error.message.startswith("carries the VMs' own traffic together with %s:" % " and ".join(shared))
    assert ("corosync" in error.message) == ("cluster" in carries)
    assert ("clear text" in error.message) == ("replication" in carries)
    assert error.fix.startswith("Give the VMs' traffic a link of its own: take vm out of this link's carries")
    assert "carries: [vm]" in error.fix and "vmpair_links_shared_with_vms: true" in error.fix
    assert not site_report.passed(result)
    with pytest.raises(site_base.SiteError):
        site_model.build_site(pairs, witnesses, hostvars, KNOWN)


@pytest.mark.parametrize("carries", MIXES, ids=["-".join(c) for c in MIXES])
def test_vmpair_links_shared_with_vms_turns_the_mix_into_a_warning_that_states_the_risk(carries):
    pairs, witnesses, hostvars = two_pairs()
    _vm_link(hostvars, carries)
    set_pair_var(hostvars, "vmpair_links_shared_with_vms", True)
    result = check(pairs, witnesses, hostvars)
    assert result.errors == []
    [warning] = result.warnings
    assert (warning.where, warning.variable, warning.check) == (
        "pair pair_mail",
        "vmpair_links[link1].carries",
        "links",
    )
    assert "as vmpair_links_shared_with_vms allows: the guests share a network with" in warning.message
    assert ("clear text" in warning.message) == ("replication" in carries)
    assert "IPsec or WireGuard" in warning.fix
    assert site_report.passed(result) and not site_report.passed(result, strict=True)
    pair = site_model.build_site(pairs, witnesses, hostvars, KNOWN)["pairs"]["pair_mail"]
    assert pair["links"][1]["carries"] == carries


def test_a_link_of_its_own_for_the_vms_and_cluster_with_replication_stay_valid():
    pairs, witnesses, hostvars = two_pairs()
    _vm_link(hostvars, ["vm"])
    assert [str(p) for p in check(pairs, witnesses, hostvars).problems] == []
    # The opt-out set where nothing mixes changes nothing.
    set_pair_var(hostvars, "vmpair_links_shared_with_vms", True)
    assert [str(p) for p in check(pairs, witnesses, hostvars).problems] == []
    set_pair_var(hostvars, "vmpair_links_shared_with_vms", False)
    assert [str(p) for p in check(pairs, witnesses, hostvars).problems] == []


def test_vmpair_links_shared_with_vms_must_be_a_boolean_and_a_wrong_value_allows_nothing():
    pairs, witnesses, hostvars = two_pairs()
    _vm_link(hostvars, ["cluster", "vm"])
    set_pair_var(hostvars, "vmpair_links_shared_with_vms", "yes")
    errors = check(pairs, witnesses, hostvars).errors
    assert sorted(p.variable for p in errors) == ["vmpair_links[link1].carries", "vmpair_links_shared_with_vms"]
    [bad] = [p for p in errors if p.variable == "vmpair_links_shared_with_vms"]
    assert bad.message == "'yes' is not a boolean."
    assert bad.fix.startswith("Write true or false, unquoted")


def test_level_ft_is_refused_with_the_reason_protect_gives_and_the_fix():
    """check_site says what protect.yml and the modules say: ft is not available yet, use ha (one wording)."""
    pairs, witnesses, hostvars = two_pairs()
    _vm(hostvars, level="ft")
    [error] = check(pairs, witnesses, hostvars).errors
    assert str(error) == (
        "pair pair_mail: vmpair_vms[mbx-exec].level: level ft (fault tolerance) is not available yet, "
        "so protect.yml refuses it. Fix: Use ha."
    )
    assert (error.severity, error.check, error.pair) == ("error", "vms", "pair_mail")
    assert error.message.startswith(site_base.FT_UNAVAILABLE)
    assert drbd_base.FT_REFUSED == site_base.FT_UNAVAILABLE + ": use ha"  # the modules' refusal, same words


def test_levels_served_are_one_list_that_check_site_and_the_drbd_layer_share():
    assert set(site_base.SERVED_LEVELS) < set(site_base.LEVELS)
    assert set(drbd_base.LEVELS) == set(site_base.SERVED_LEVELS)
    for level in site_base.LEVELS:
        pairs, witnesses, hostvars = two_pairs()
        _vm(hostvars, level=level)
        errors = check(pairs, witnesses, hostvars).errors
        assert (errors == []) == (level in site_base.SERVED_LEVELS), (level, [str(p) for p in errors])
        if level in site_base.SERVED_LEVELS:
            assert drbd_base.level_settings(level)
        else:
            with pytest.raises(drbd_base.LevelError):
                drbd_base.level_settings(level)


def test_an_ft_vm_is_still_checked_against_the_ft_round_trip_limit():
    """ft keeps its latency limit (vmpair_sync_rtt_limit_ms.ft) for when it exists: both errors are reported."""
    pairs, witnesses, hostvars = two_pairs()
    _vm(hostvars, level="ft")
    _link(hostvars, 0, rtt_ms=2.5)
    errors = check(pairs, witnesses, hostvars).errors
    assert sorted(p.variable for p in errors) == ["vmpair_links[link0].rtt_ms", "vmpair_vms[mbx-exec].level"]
    latency = [p for p in errors if p.check == "latency"][0]
    assert "round trip is 2.5 ms, above the 1 ms limit for ft" in latency.message


def test_no_witness_on_one_site_is_a_warning_that_explains_the_fence_race():
    pairs, witnesses, hostvars = two_pairs()
    set_pair_var(hostvars, "vmpair_witness", None)
    set_pair_var(hostvars, "vmpair_watchdog_fencing", False)  # it needs the witness
    hostvars["hv-west"]["vmpair_site"] = "east"
    result = check(pairs, witnesses, hostvars)
    assert result.errors == []
    [warning] = result.warnings
    assert (warning.where, warning.variable, warning.check) == ("pair pair_mail", "vmpair_witness", "witness")
    assert "two_node" in warning.message and "race to fence each other" in warning.message
    assert "hv-east wins because fencing it waits 10 s" in warning.message
    assert "third site" in warning.fix
    assert site_report.passed(result) and not site_report.passed(result, strict=True)
    # site.yml still deploys it: build_site returns the description and the warning
    built = site_model.build_site(pairs, witnesses, hostvars, KNOWN)
    assert built["pairs"]["pair_mail"]["two_node"] is True
    assert [str(w) for w in built["warnings"]] == [str(warning)]


@pytest.mark.parametrize(
    "change, where, variable, words",
    [
        (
            lambda p, w, hv: w.append("qw2"),
            "witness qw2",
            "vmpair_witness",
            "no pair names it as vmpair_witness",
        ),
        (
            lambda p, w, hv: _link(hv, 1, rtt=3),
            "pair pair_mail",
            "vmpair_links[link1].rtt",
            "the closest key is rtt_ms",
        ),
        (
            lambda p, w, hv: _vm_without(hv, "vcpus"),
            "pair pair_mail",
            "vmpair_vms",
            "1 VM(s) have no vcpus or memory_mib (mbx-exec)",
        ),
    ],
    ids=["unused-witness", "link-key-typo", "vm-without-size"],
)
def test_warnings_name_the_culprit(change, where, variable, words):
    pairs, witnesses, hostvars = two_pairs()
    change(pairs, witnesses, hostvars)
    result = check(pairs, witnesses, hostvars)
    assert result.errors == []
    [warning] = result.warnings
    assert (warning.where, warning.variable) == (where, variable)
    assert words in warning.message


def test_the_unknown_variable_check_is_skipped_without_a_list_of_known_names():
    pairs, witnesses, hostvars = two_pairs()
    _unknown_variable(pairs, witnesses, hostvars)
    assert site_model.check_site(pairs, witnesses, hostvars).problems == []


def test_a_vm_key_typo_names_the_key_it_is_a_typo_of_and_no_other():
    pairs, witnesses, hostvars = two_pairs()
    _vm(hostvars, stop_timout=300, forcestop=True, disks=[], memory=4096)
    found = {p.variable: (p.message, p.fix) for p in check(pairs, witnesses, hostvars).errors}
    assert sorted(found) == [
        "vmpair_vms[mbx-exec].disks",
        "vmpair_vms[mbx-exec].forcestop",
        "vmpair_vms[mbx-exec].memory",
        "vmpair_vms[mbx-exec].stop_timout",
    ]
    assert found["vmpair_vms[mbx-exec].stop_timout"][1] == "Rename it to stop_timeout."
    assert found["vmpair_vms[mbx-exec].forcestop"][1] == "Rename it to force_stop."
    assert found["vmpair_vms[mbx-exec].memory"][1] == "Rename it to memory_mib."
    message, fix = found["vmpair_vms[mbx-exec].disks"]
    assert "closest" not in message and "libvirt definition" in message
    assert fix.startswith("Remove it; a VM's keys are name, level, preferred_host, vcpus, memory_mib, stop_timeout")


@pytest.mark.parametrize(
    "name, known, expected",
    [
        ("vmpair_link", None, "vmpair_links"),
        ("vmpair_fence_dealy", None, "vmpair_fence_delay"),
        ("vmpair_nodename", None, "vmpair_node_name"),
        # Shares "vmpair_" and a few letters with vmpair_links, nothing else: no suggestion.
        ("vmpair_rolling_pairs", [n for n in KNOWN if not n.startswith("vmpair_rolling_")], None),
        ("vmpair_rolling_batches", None, None),
        ("vmpair_foo", None, None),
    ],
)
def test_a_name_is_suggested_only_when_it_is_really_close(name, known, expected):
    assert site_base.closest(name, KNOWN if known is None else known, "vmpair_") == expected


def test_an_unknown_variable_that_is_like_no_known_name_gets_no_suggestion():
    pairs, witnesses, hostvars = two_pairs()
    set_pair_var(hostvars, "vmpair_rolling_batches", 2)
    [error] = check(pairs, witnesses, hostvars).errors
    assert error.message == "is not a variable of duplex.vmpair, so nothing reads it."
    assert "closest" not in str(error)


def test_every_option_the_playbooks_and_awx_surveys_use_is_a_known_variable():
    # A playbook's own options (-e, an AWX survey) are never reported as unknown variables.
    used = set()
    paths = glob.glob(os.path.join(REPO_ROOT, "playbooks", "**", "*.yml"), recursive=True)
    paths.append(os.path.join(REPO_ROOT, "awx", "job_templates.yml"))
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            used.update(re.findall(r"(?<![A-Za-z0-9_])vmpair_[a-z0-9_]+", handle.read()))
    groups = {site_base.PAIRS_GROUP, site_base.WITNESSES_GROUP}
    assert {"vmpair_rolling_pairs", "vmpair_rolling_reboot", "vmpair_reboot_timeout"} <= used
    assert sorted(used - set(KNOWN) - groups) == []


def test_a_pair_whose_variables_cannot_be_read_is_reported_once_and_not_checked_further():
    pairs, witnesses, hostvars = two_pairs()
    reason = ("/inv/group_vars/pair_mail/vault.yml is encrypted with ansible-vault as a whole file.", "Give it.")
    for host in ("hv-east", "hv-west"):
        del hostvars[host]
    result = site_model.check_site(pairs, witnesses, hostvars, KNOWN, unreadable={"hv-east": reason, "hv-west": reason})
    assert [str(p) for p in result.problems] == [
        "pair pair_mail: inventory: the variables of hv-east and hv-west cannot be read, so nothing else of this "
        "pair was checked: /inv/group_vars/pair_mail/vault.yml is encrypted with ansible-vault as a whole file. "
        "Fix: Give it."
    ]
    assert result.problems[0].pair == "pair_mail" and result.problems[0].check == "pair"
    assert sorted(result.site["pairs"]) == ["pair_web"]  # the other pair is checked as usual


def test_a_witness_whose_variables_cannot_be_read_blocks_the_pairs_it_serves():
    pairs, witnesses, hostvars = two_pairs()
    del hostvars["qw1"]
    result = site_model.check_site(
        pairs, witnesses, hostvars, KNOWN, unreadable={"qw1": ("no vault password.", "Fix.")}
    )
    assert sorted(str(p) for p in result.problems) == [
        "pair pair_mail: inventory: the variables of its witness qw1 cannot be read, so nothing else of this pair "
        "was checked: no vault password. Fix: Fix.",
        "pair pair_web: inventory: the variables of its witness qw1 cannot be read, so nothing else of this pair "
        "was checked: no vault password. Fix: Fix.",
        "witness qw1: inventory: its variables cannot be read: no vault password. Fix: Fix.",
    ]


def test_a_typo_set_on_every_host_of_a_pair_is_reported_once_for_the_pair():
    pairs, witnesses, hostvars = two_pairs()
    for host in ("hv-east", "hv-west", "hv-north", "hv-south", "qw1"):
        hostvars[host]["vmpair_hypervisr"] = "kvm"
    wheres = sorted(p.where for p in check(pairs, witnesses, hostvars).errors)
    assert wheres == ["pair pair_mail", "pair pair_web", "witness qw1"]


@pytest.mark.parametrize(
    "text, ok",
    [
        ("10.10.0.0/24", True),
        ("fd00:10::/64", True),
        ("10.10.0.0", False),
        ("10.10.0.1/24", False),
        ("10.10/16", False),
        ("10.10.0.0/33", False),
        (" 10.10.0.0/24", False),
        ("10.10.0.0/255.255.255.0", False),
        (None, False),
    ],
)
def test_networks_are_parsed_with_netaddr(text, ok):
    if ok:
        assert str(site_addresses.parse_network(text)) == text
    else:
        with pytest.raises(ValueError):
            site_addresses.parse_network(text)


def test_ipv6_links_are_checked_the_same_way():
    pairs, witnesses, hostvars = two_pairs()
    links = links_of(hostvars)
    links[0]["network"] = "fd00:10::/64"
    links[0]["hosts"]["hv-east"]["address"] = "fd00:10::1"
    links[0]["hosts"]["hv-west"]["address"] = "fd00:10::"
    set_pair_var(hostvars, "vmpair_links", links)
    [error] = check(pairs, witnesses, hostvars).errors
    assert error.message == "fd00:10:: is the network or broadcast address of fd00:10::/64."
    links[0]["hosts"]["hv-west"]["address"] = "10.10.0.2"
    set_pair_var(hostvars, "vmpair_links", links)
    [error] = check(pairs, witnesses, hostvars).errors
    assert error.message == "10.10.0.2 is not inside link0's network fd00:10::/64."


def test_the_benchmark_site_is_valid():
    path = os.path.join(REPO_ROOT, "bench", "check_site.py")
    spec = importlib.util.spec_from_file_location("bench_check_site", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    inventory = bench.site(3, 4)["all"]["children"]
    pairs, hostvars = {}, dict(inventory["vmpair_witnesses"]["hosts"])
    for name, group in inventory["vmpair_pairs"]["children"].items():
        pairs[name] = list(group["hosts"])
        for host, own in group["hosts"].items():
            hostvars[host] = dict(copy.deepcopy(group["vars"]), **own)
    result = site_model.check_site(pairs, list(inventory["vmpair_witnesses"]["hosts"]), hostvars, KNOWN)
    assert [str(p) for p in result.problems] == []
    assert result.vm_count() == 12

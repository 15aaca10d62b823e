# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site model: what a valid inventory becomes, and the message each mistake gets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.sitedata import set_pair_var, site


def problems_of(pairs, witnesses, hostvars):
    with pytest.raises(site_base.SiteError) as err:
        site_model.build_site(pairs, witnesses, hostvars)
    return err.value.problems


def only_problem(pairs, witnesses, hostvars):
    problems = problems_of(pairs, witnesses, hostvars)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_valid_site_is_described():
    result = site_model.build_site(*site())
    pair = result["pairs"]["pair_mail"]
    assert pair["cluster_name"] == "pair_mail"
    assert pair["hosts"] == ["hv-east", "hv-west"]
    assert [n["migration_name"] for n in pair["nodes"]] == ["hv-east-vmpair", "hv-west-vmpair"]
    assert [(n["name"], n["nodeid"], n["site"]) for n in pair["nodes"]] == [
        ("hv-east", 1, "east"),
        ("hv-west", 2, "west"),
    ]
    assert [(link["name"], link["linknumber"]) for link in pair["cluster_links"]] == [("link0", 0), ("link1", 1)]
    assert [link["name"] for link in pair["replication_links"]] == ["link0"]
    assert pair["links"][1]["hosts"]["hv-west"] == {
        "interface": "eno1",
        "address": "10.10.1.2",
        "prefix": 24,
        "members": [],
    }
    assert pair["links"][0]["bond"] == {"mode": "active-backup", "monitor": "mii", "interval_ms": 100}
    assert pair["witness"] == {
        "host": "qw1",
        "address": "192.0.2.30",
        "port": 5403,
        "algorithm": "ffsplit",
        "tie_breaker": "lowest",
    }
    assert pair["two_node"] is False
    assert pair["fence_race_winner"] is None
    assert pair["token_ms"] == 3000
    assert pair["vms"] == ["mbx-exec"]
    assert result["witnesses"]["qw1"]["clusters"] == ["pair_mail"]


def test_fencing_options_are_not_in_the_description():
    pair = site_model.build_site(*site())["pairs"]["pair_mail"]
    assert pair["fencing"] == {
        host: {
            "agent": "fence_ipmilan",
            "devices": [{"id": "fence_" + host, "agent": "fence_ipmilan", "level": 1, "index": 0}],
            "levels": [["fence_" + host]],
        }
        for host in ("hv-east", "hv-west")
    }
    assert pair["fence_agents"] == ["fence_ipmilan"]
    assert pair["watchdog"] == {
        "device": "/dev/watchdog",
        "module": "",
        "timeout": 35,
        "stonith_watchdog_timeout": 70,
        "stonith_timeout": 550,
        "monitor_timeout": 20,
        "device_id": "watchdog",
    }
    assert "192.0.2.10" not in repr(pair)


def test_pair_of_returns_node_and_peer():
    result = site_model.build_site(*site())
    pair, me, peer = site_model.pair_of(result, "hv-west")
    assert pair["name"] == "pair_mail"
    assert (me["host"], peer["host"]) == ("hv-west", "hv-east")
    assert site_model.pair_of(result, "qw1") == (None, None, None)


def test_same_site_without_witness_is_two_node_with_fence_delay():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_witness", None)
    set_pair_var(hostvars, "vmpair_watchdog_fencing", False)  # it needs a witness
    hostvars["hv-west"]["vmpair_site"] = "east"
    set_pair_var(hostvars, "vmpair_fence_race_winner", "hv-west")
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    assert pair["two_node"] is True
    assert pair["witness"] is None
    assert pair["fence_race_winner"] == "hv-west"
    assert pair["fence_delay"] == 10


def test_two_sites_need_a_witness():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_witness", None)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_witness"
    assert "hv-east=east" in problem.message and "hv-west=west" in problem.message
    assert "vmpair_witnesses" in problem.fix


def test_witness_must_be_in_the_witness_group():
    pairs, _witnesses, hostvars = site()
    problem = only_problem(pairs, [], hostvars)
    assert (problem.where, problem.variable) == ("pair pair_mail", "vmpair_witness")
    assert "qw1 is not in the vmpair_witnesses group" in problem.message


def test_witness_on_a_pair_site_is_refused():
    pairs, witnesses, hostvars = site()
    hostvars["qw1"]["vmpair_site"] = "west"
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.where == "witness qw1"
    assert "third site" in problem.fix


def test_one_cluster_link_is_not_enough():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["carries"] = ["replication"]
    set_pair_var(hostvars, "vmpair_links", links)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_links"
    assert "1 link(s) carry cluster traffic" in problem.message


def test_a_link_must_carry_replication():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[0]["carries"] = ["cluster"]
    set_pair_var(hostvars, "vmpair_links", links)
    assert "no link carries replication" in only_problem(pairs, witnesses, hostvars).message


@pytest.mark.parametrize(
    "address, expected",
    [
        ("10.10.5.1", "is not inside link0's network 10.10.0.0/24"),
        ("10.10.0.255", "is the network or broadcast address"),
        ("10.10.0.2", "is already used by hv-east on link0"),
        ("10.10.0.1/24", "is not an IP address"),
    ],
)
def test_bad_link_address_names_host_variable_and_fix(address, expected):
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[0]["hosts"]["hv-east"]["address"] = (
        "10.10.0.2" if expected.startswith("is already") else links[0]["hosts"]["hv-east"]["address"]
    )
    target = "hv-west" if expected.startswith("is already") else "hv-east"
    if not expected.startswith("is already"):
        links[0]["hosts"][target]["address"] = address
    set_pair_var(hostvars, "vmpair_links", links)
    problems = problems_of(pairs, witnesses, hostvars)
    problem = [p for p in problems if expected in p.message]
    assert problem, [str(p) for p in problems]
    assert problem[0].where == "pair pair_mail host %s" % target
    assert problem[0].variable == "vmpair_links[link0].hosts.%s.address" % target
    assert problem[0].fix


def test_overlapping_link_networks_are_one_path():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["network"] = "10.10.0.0/16"
    links[1]["hosts"]["hv-east"]["address"] = "10.10.7.1"
    links[1]["hosts"]["hv-west"]["address"] = "10.10.7.2"
    set_pair_var(hostvars, "vmpair_links", links)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_links[link1].network"
    assert "overlaps link link0" in problem.message


def test_a_bonded_link_is_described_with_its_members():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[0]["bond"] = {"monitor": "arp", "interval_ms": 200}
    for host in ("hv-east", "hv-west"):
        links[0]["hosts"][host].update(interface="bond0", members=["ens4", "ens5"])
    set_pair_var(hostvars, "vmpair_links", links)
    link = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]["links"][0]
    assert link["bond"] == {"mode": "active-backup", "monitor": "arp", "interval_ms": 200}
    assert link["hosts"]["hv-east"]["members"] == ["ens4", "ens5"]


@pytest.mark.parametrize(
    "change, variable, expected",
    [
        ({"members": ["ens4"]}, "[link0].hosts.hv-east.members", "is not a list of two or more interface names"),
        ({"members": ["ens4", "ens4"]}, "[link0].hosts.hv-east.members", "names an interface twice"),
        ({"members": ["ens4", "eno1"]}, "[link1].hosts.hv-east", "interface eno1 is already used by link link0"),
        ({"bond": {"mode": "balance-alb"}}, "[link0].bond.mode", "'balance-alb' is not one of active-backup, 802.3ad"),
        ({"bond": {"mode": "802.3ad", "monitor": "arp"}}, "[link0].bond.monitor", "ARP monitoring works with mode"),
        ({"bond": {"interval_ms": 5}}, "[link0].bond.interval_ms", "from 10 to 10000"),
        ({"bond": {"miimon": 100}}, "[link0].bond.miimon", "is not a bond option"),
    ],
)
def test_bad_bond_names_the_variable(change, variable, expected):
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[0]["hosts"]["hv-east"]["interface"] = "bond0"
    if "members" in change:
        links[0]["hosts"]["hv-east"]["members"] = change["members"]
    else:
        links[0]["bond"] = change["bond"]
    set_pair_var(hostvars, "vmpair_links", links)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_links" + variable
    assert expected in problem.message
    assert problem.fix


def test_a_vm_link_is_a_bond_with_a_bridge_and_an_mtu():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links.append(
        {
            "name": "vmnet",
            "network": "192.0.2.0/24",
            "carries": ["vm"],
            "mtu": 9000,
            "bridge": "br-vm",
            "hosts": {
                "hv-east": {"interface": "bond1", "address": "192.0.2.21", "members": ["eno2", "enp129s0f1"]},
                "hv-west": {"interface": "bond1", "address": "192.0.2.22", "members": ["eno2", "enp129s0f1"]},
            },
        }
    )
    set_pair_var(hostvars, "vmpair_links", links)
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    link = pair["links"][2]
    assert (link["mtu"], link["bridge"], link["carries"]) == (9000, "br-vm", ["vm"])
    # VM traffic is neither a corosync link nor DRBD's.
    assert [lk["name"] for lk in pair["cluster_links"]] == ["link0", "link1"]
    assert [lk["name"] for lk in pair["replication_links"]] == ["link0"]
    assert pair["links"][0]["mtu"] is None and pair["links"][0]["bridge"] is None


@pytest.mark.parametrize(
    "change, variable, expected",
    [
        ({"mtu": 100}, "[link0].mtu", "is not an MTU from 576 to 65535"),
        ({"mtu": "9000"}, "[link0].mtu", "is not an MTU"),
        ({"carries": ["cluster", "replication", "vm"]}, "[link0].bridge", "the link carries vm traffic"),
        ({"bridge": "br-vm"}, "[link0].bridge", "does not carry vm traffic"),
        (
            {"bridge": "br-vm", "carries": ["cluster", "replication", "vm"]},
            "[link0].hosts.hv-east.members",
            "sits on a bond",
        ),
        ({"bridge": "bad name", "carries": ["cluster", "vm"]}, "[link0].bridge", "is not an interface name"),
    ],
)
def test_bad_mtu_or_bridge_names_the_variable(change, variable, expected):
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[0].update(change)
    set_pair_var(hostvars, "vmpair_links", links)
    problems = [p for p in problems_of(pairs, witnesses, hostvars) if p.variable == "vmpair_links" + variable]
    assert problems, "no problem on %s" % variable
    assert expected in problems[0].message
    assert problems[0].fix


def test_firewall_rules_let_in_the_peer_only_on_the_links_that_carry_each_service():
    pairs, witnesses, hostvars = site()
    result = site_model.build_site(pairs, witnesses, hostvars)
    rules = result["pairs"]["pair_mail"]["firewall"]
    assert [(r["protocol"], r["port"], r["sources"], r["closed"]) for r in rules["hv-east"]] == [
        ("udp", "5405", ["10.10.0.2", "10.10.1.2"], True),  # corosync knet on both cluster links
        ("tcp", "7790-7999", ["10.10.0.2"], True),  # DRBD on the replication link only
        ("tcp", "22", ["10.10.0.2"], False),  # libvirt migration's ssh, which carries the tunnelled memory too
    ]
    assert [r["sources"] for r in rules["hv-west"]] == [["10.10.0.1", "10.10.1.1"]] + [["10.10.0.1"]] * 2
    assert result["pairs"]["pair_mail"]["migration_tunnelled"] is True
    # The witness role asks these hosts for their route to the witness's address.
    assert result["witnesses"]["qw1"]["clients"] == [
        {"pair": "pair_mail", "host": "hv-east", "witness_address": "192.0.2.30"},
        {"pair": "pair_mail", "host": "hv-west", "witness_address": "192.0.2.30"},
    ]


def test_no_firewall_on_a_pair_host_is_a_warning_that_names_its_open_ports():
    pairs, witnesses, hostvars = site()
    hostvars["hv-east"]["vmpair_firewall"] = "none"
    result = site_model.check_site(pairs, witnesses, hostvars)
    assert not result.errors
    [warning] = result.warnings
    assert (warning.where, warning.variable, warning.host, warning.pair) == (
        "pair pair_mail host hv-east",
        "vmpair_firewall",
        "hv-east",
        "pair_mail",
    )
    assert "open to any host" in warning.message
    for port in ("UDP 5405", "TCP 7790-7999"):
        assert port in warning.message
    assert "49152" not in warning.message  # migration is tunnelled through ssh: QEMU's data ports stay shut
    assert "TCP 22 " not in warning.message  # ssh is never closed, so none opens nothing more there
    assert "auto" in warning.fix  # and hv-west, on the default auto, has no finding: one warning in all


@pytest.mark.parametrize("tool", ["auto", "firewalld", "nftables"])
def test_a_managed_firewall_is_no_finding(tool):
    pairs, witnesses, hostvars = site()
    for host in hostvars:
        hostvars[host]["vmpair_firewall"] = tool
    assert site_model.check_site(pairs, witnesses, hostvars).problems == []


def test_no_firewall_on_the_witness_says_qnetds_port_is_open():
    pairs, witnesses, hostvars = site()
    hostvars["qw1"]["vmpair_firewall"] = "none"
    [warning] = site_model.check_site(pairs, witnesses, hostvars).warnings
    assert (warning.where, warning.variable, warning.check) == ("witness qw1", "vmpair_firewall", "witness")
    assert "TCP 5403 (corosync-qnetd" in warning.message and "open to any host" in warning.message


def test_an_unknown_firewall_tool_is_an_error():
    pairs, witnesses, hostvars = site()
    hostvars["hv-west"]["vmpair_firewall"] = "iptables"
    problem = only_problem(pairs, witnesses, hostvars)
    assert (problem.where, problem.variable) == ("pair pair_mail host hv-west", "vmpair_firewall")
    assert "'iptables' is not a firewall tool" in problem.message
    assert "nftables" in problem.fix


def test_plain_migration_opens_qemu_s_data_ports_from_the_peer_s_replication_address_only():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_migration_tunnelled", False)
    result = site_model.build_site(pairs, witnesses, hostvars)
    pair = result["pairs"]["pair_mail"]
    assert pair["migration_tunnelled"] is False
    assert [(r["purpose"], r["port"], r["sources"]) for r in pair["firewall"]["hv-east"]][-1] == (
        "libvirt live migration (QEMU data ports)",
        "49152-49215",
        ["10.10.0.2"],
    )


def test_vmpair_migration_tunnelled_must_be_a_boolean():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_migration_tunnelled", "no")
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_migration_tunnelled" and "'no' is not true or false" in problem.message


def test_two_links_on_one_interface_are_refused():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["hosts"]["hv-west"]["interface"] = "enp65s0f0"
    set_pair_var(hostvars, "vmpair_links", links)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.where == "pair pair_mail host hv-west"
    assert "interface enp65s0f0 is already used by link link0" in problem.message


def test_missing_host_on_a_link_and_unknown_host():
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["hosts"]["hv-north"] = links[1]["hosts"].pop("hv-west")
    set_pair_var(hostvars, "vmpair_links", links)
    messages = sorted(str(p) for p in problems_of(pairs, witnesses, hostvars))
    assert any("vmpair_links[link1].hosts.hv-west: is missing." in m for m in messages)
    assert any("hv-north is not a host of this pair" in m for m in messages)


def test_a_pair_is_exactly_two_hosts():
    pairs, witnesses, hostvars = site()
    pairs["pair_mail"].append("hv-north")
    problem = only_problem(pairs, witnesses, hostvars)
    assert "has 3 host(s)" in problem.message
    assert problem.fix == "Put exactly two hosts in the group pair_mail."


def test_a_host_without_fencing_is_refused():
    pairs, witnesses, hostvars = site()
    fencing = hostvars["hv-east"]["vmpair_fencing"]
    del fencing["hv-west"]
    set_pair_var(hostvars, "vmpair_fencing", fencing)
    problem = only_problem(pairs, witnesses, hostvars)
    assert problem.variable == "vmpair_fencing.hv-west"
    assert "fence_ipmilan" in problem.fix


def test_fence_agent_name_is_checked():
    pairs, witnesses, hostvars = site()
    fencing = hostvars["hv-east"]["vmpair_fencing"]
    fencing["hv-east"]["agent"] = "ipmi"
    set_pair_var(hostvars, "vmpair_fencing", fencing)
    assert only_problem(pairs, witnesses, hostvars).variable == "vmpair_fencing.hv-east.agent"


def test_vm_list_is_checked():
    pairs, witnesses, hostvars = site()
    vms = hostvars["hv-east"]["vmpair_vms"]
    vms.append(dict(vms[0]))
    vms.append({"name": "web", "level": "gold", "preferred_host": "hv-north", "vcpus": 0, "stop_timeout": "2m"})
    vms.append({"name": "db", "force_stop": True, "stop_timeout": 600})
    set_pair_var(hostvars, "vmpair_vms", vms)
    variables = sorted(p.variable for p in problems_of(pairs, witnesses, hostvars))
    assert variables == [
        "vmpair_vms[mbx-exec]",
        "vmpair_vms[web].level",
        "vmpair_vms[web].preferred_host",
        "vmpair_vms[web].stop_timeout",
        "vmpair_vms[web].vcpus",
    ]


def test_vm_settings_fill_defaults():
    """Each VM comes back with every setting the playbooks pass on (protect, failover, migrate, maintenance):
    what vmpair_vms gives, else the collection's default (vocabulary), so no playbook writes a default again."""
    pairs, witnesses, hostvars = site()
    vms = hostvars["hv-east"]["vmpair_vms"]
    vms.append({"name": "db", "level": "recovery", "force_stop": True, "stop_timeout": 600, "monitor_timeout": 90})
    vms.append({"name": "web"})
    set_pair_var(hostvars, "vmpair_vms", vms)
    settings = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]["vm_settings"]
    assert list(settings) == ["mbx-exec", "db", "web"]  # the order of vmpair_vms
    assert settings["mbx-exec"] == {
        "name": "mbx-exec",
        "level": "ha",
        "preferred_host": "hv-east",
        "force_stop": False,
        "stop_timeout": 120,
        "monitor_timeout": 30,
        "vcpus": 4,
        "memory_mib": 16384,
    }
    assert settings["db"] == {
        "name": "db",
        "level": "recovery",
        "preferred_host": None,
        "force_stop": True,
        "stop_timeout": 600,
        "monitor_timeout": 90,
    }
    assert settings["web"] == {
        "name": "web",
        "level": "ha",
        "preferred_host": None,
        "force_stop": False,
        "stop_timeout": 120,
        "monitor_timeout": 30,
    }


def test_hypervisor_and_volume_group_are_checked():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_hypervisor", "vmware")
    set_pair_var(hostvars, "vmpair_storage_vg", None)
    variables = sorted(p.variable for p in problems_of(pairs, witnesses, hostvars))
    assert variables == ["vmpair_hypervisor", "vmpair_storage_vg"]


def test_every_problem_is_reported_at_once():
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_hypervisor", "vmware")
    set_pair_var(hostvars, "vmpair_corosync_token_ms", 50)
    hostvars["hv-west"]["vmpair_site"] = None
    problems = problems_of(pairs, witnesses, hostvars)
    assert len(problems) == 3
    text = site_base.format_problems(problems)
    assert text.startswith("The site inventory has 3 problem(s):")
    assert "pair pair_mail host hv-west: vmpair_site: is missing." in text


def test_a_host_in_two_pairs_and_duplicate_cluster_names():
    pairs, witnesses, hostvars = site()
    pairs["pair_web"] = ["hv-west", "hv-south"]
    hostvars["hv-south"] = dict(hostvars["hv-east"], vmpair_site="south", vmpair_cluster_name="pair_mail")
    hostvars["hv-west"]["vmpair_cluster_name"] = "pair_mail"
    messages = [str(p) for p in problems_of(pairs, witnesses, hostvars)]
    assert any("host hv-west: inventory: is in two pairs (pair_mail and pair_web)." in m for m in messages)
    assert any(
        "pair_mail is also the cluster name of pair pair_mail" in m or "also the cluster name" in m for m in messages
    )


def test_no_pairs_at_all():
    problem = only_problem({}, [], {})
    assert problem.variable == "vmpair_pairs"


@pytest.mark.parametrize(
    "variable, text, key, value",
    [
        ("vmpair_corosync_token_ms", "4000", "token_ms", 4000),
        ("vmpair_fence_delay", "0", "fence_delay", 0),
    ],
)
def test_a_whole_number_given_as_text_on_the_command_line_is_taken(variable, text, key, value):
    """`ansible-playbook duplex.vmpair.site -e vmpair_corosync_token_ms=4000` (key=value extra vars, an AWX
    survey's text field) gives the value as a string: the site model takes it as the number it is, so
    corosync.conf gets `token: 4000` (before, the run was refused with "'4000' is outside 1000-60000 ms")."""
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, variable, text)
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    assert pair[key] == value and isinstance(pair[key], int)


@pytest.mark.parametrize(
    "text, words",
    [
        ("4s", "not a whole number of milliseconds"),
        ("²", "not a whole number of milliseconds"),
        ("500", "outside 1000-60000 ms"),
    ],
)
def test_a_token_that_is_no_number_or_out_of_range_is_named_for_what_it_is(text, words):
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_corosync_token_ms", text)
    (problem,) = [p for p in problems_of(pairs, witnesses, hostvars) if p.variable == "vmpair_corosync_token_ms"]
    assert problem.message == "%r is %s." % (text, words)

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A valid site in the site model, as plain data, for the unit tests to start from and break."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

PAIR_VARS = {
    "vmpair_hypervisor": "kvm",
    "vmpair_witness": "qw1",
    "vmpair_storage_vg": "vg_vms",
    "vmpair_links": [
        {
            "name": "link0",
            "network": "10.10.0.0/24",
            "carries": ["cluster", "replication"],
            "rtt_ms": 0.4,
            "hosts": {
                "hv-east": {"interface": "enp65s0f0", "address": "10.10.0.1"},
                "hv-west": {"interface": "enp65s0f0", "address": "10.10.0.2"},
            },
        },
        {
            "name": "link1",
            "network": "10.10.1.0/24",
            "carries": ["cluster"],
            "hosts": {
                "hv-east": {"interface": "eno1", "address": "10.10.1.1"},
                "hv-west": {"interface": "eno1", "address": "10.10.1.2"},
            },
        },
    ],
    "vmpair_fencing": {
        "hv-east": {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.10", "username": "admin", "password": ""}},
        "hv-west": {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.11", "username": "admin", "password": ""}},
    },
    # the hosts are on two sites: a lost site is fenced by the watchdog (diskless SBD) once the BMC is gone too
    "vmpair_watchdog_fencing": True,
    "vmpair_vms": [
        {
            "name": "mbx-exec",
            "level": "ha",
            "vcpus": 4,
            "memory_mib": 16384,
            "preferred_host": "hv-east",
        }
    ],
}


def site():
    """Return (pairs, witnesses, hostvars) for a valid one-pair site with a witness."""
    hostvars = {
        "hv-east": dict(
            copy.deepcopy(PAIR_VARS), vmpair_site="east", vmpair_host_capacity={"vcpus": 32, "memory_mib": 262144}
        ),
        "hv-west": dict(
            copy.deepcopy(PAIR_VARS), vmpair_site="west", vmpair_host_capacity={"vcpus": 32, "memory_mib": 262144}
        ),
        "qw1": {"vmpair_site": "hq", "vmpair_witness_address": "192.0.2.30"},
    }
    return {"pair_mail": ["hv-east", "hv-west"]}, ["qw1"], hostvars


def set_pair_var(hostvars, name, value):
    """Set a pair (group) variable on both hosts, as group vars would."""
    for host in ("hv-east", "hv-west"):
        if value is None:
            hostvars[host].pop(name, None)
        else:
            hostvars[host][name] = copy.deepcopy(value)


def add_pair(pairs, hostvars, name="pair_web", hosts=("hv-north", "hv-south"), subnet=20):
    """Add a second valid pair (its own links 10.10.SUBNET.0/24 and .SUBNET+1, sites north/south, witness qw1)."""
    pair_vars = copy.deepcopy(PAIR_VARS)
    for index, link in enumerate(pair_vars["vmpair_links"]):
        link["network"] = "10.10.%d.0/24" % (subnet + index)
        link["hosts"] = {
            host: dict(entry, address="10.10.%d.%d" % (subnet + index, number))
            for number, (host, entry) in enumerate(zip(hosts, link["hosts"].values(), strict=True), start=1)
        }
    pair_vars["vmpair_fencing"] = dict(zip(hosts, pair_vars["vmpair_fencing"].values(), strict=True))
    pair_vars["vmpair_vms"] = [dict(pair_vars["vmpair_vms"][0], name="web1", preferred_host=hosts[0])]
    pairs[name] = list(hosts)
    for host, site_name in zip(hosts, ("north", "south"), strict=True):
        hostvars[host] = dict(copy.deepcopy(pair_vars), vmpair_site=site_name)

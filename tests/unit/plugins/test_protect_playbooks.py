# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""protect.yml, unprotect.yml and failover.yml refuse bad input before they contact any host.

The real ansible-playbook runs each playbook on an inventory whose hosts do not exist: the refusals
come from the controller (the site model, facts and asserts), so a run that reached a host would
show it as UNREACHABLE. The message names the variable and the fix, and nothing is changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import INVENTORY, ansible_playbook

PLAYBOOKS = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks"))
WITH_VMS = INVENTORY.replace(
    "            vmpair_witness: qw1\n",
    "            vmpair_witness: qw1\n            vmpair_vms: [{name: web1, level: ha, preferred_host: hv-east}]\n",
)


@pytest.mark.parametrize(
    "playbook, extra, message",
    [
        ("protect.yml", ["-e", "vms=web1,nope"], "-e vms names nope, which no pair lists in vmpair_vms"),
        ("unprotect.yml", [], "Name the VMs to unprotect: -e vms=web1,db1 (nothing was changed)."),
        ("unprotect.yml", ["-e", "vms=nope"], "-e vms names nope, which no pair lists in vmpair_vms"),
        ("failover.yml", [], "Name the VM to move: -e vm=web1 [-e to=HOST] (nothing was changed)."),
        ("failover.yml", ["-e", "vm=nope"], "VM nope is in no pair's vmpair_vms. Fix: check the name"),
    ],
)
def test_bad_input_is_refused_before_any_host_is_contacted(tmp_path, playbook, extra, message):
    assert "web1" in WITH_VMS
    proc = ansible_playbook(tmp_path, WITH_VMS, os.path.join(PLAYBOOKS, playbook), *extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert message in out, out
    assert "UNREACHABLE" not in out, out


def test_a_stop_timeout_too_short_is_refused_by_the_site_model(tmp_path):
    inventory = WITH_VMS.replace("preferred_host: hv-east}", "preferred_host: hv-east, stop_timeout: 5}")
    assert inventory != WITH_VMS
    proc = ansible_playbook(tmp_path, inventory, os.path.join(PLAYBOOKS, "protect.yml"))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "vmpair_vms[web1].stop_timeout" in out and "5 is not a number of seconds of at least 10" in out, out
    assert "UNREACHABLE" not in out, out


def _module_calls(node, module):
    """Every task (at any depth) of the parsed playbook ``node`` that calls ``module``."""
    if isinstance(node, dict):
        if module in node:
            yield node[module]
        for value in node.values():
            yield from _module_calls(value, module)
    elif isinstance(node, list):
        for value in node:
            yield from _module_calls(value, module)


@pytest.mark.parametrize("playbook", ["protect.yml", "failover.yml", os.path.join("tasks", "migrate_vm.yml")])
def test_every_cib_update_keeps_how_the_vm_is_stopped(playbook):
    """vm_resources rewrites a VM's VirtualDomain primitive with whatever it is given. A playbook that left out
    force_stop, stop_timeout or monitor_timeout would put the defaults back: a VM given stop_timeout: 600 in
    vmpair_vms would, after its first migration, be destroyed after 120 s of clean shutdown, and one given
    monitor_timeout: 120 on a slow host would be restarted by the first health check over 30 s. Each update passes the VM's own, from
    the site model's vm_settings, where the defaults are filled once (test_site: test_vm_settings_fill_defaults)."""
    with open(os.path.join(PLAYBOOKS, playbook)) as f:
        book = yaml.safe_load(f)
    vms = []
    for call in _module_calls(book, "duplex.vmpair.vm_resources"):
        if call.get("state", "present") == "present":
            vms.extend(call["vms"] if isinstance(call["vms"], list) else [call["vms"]])
    assert vms, playbook
    if playbook == "protect.yml":
        # protect.yml hands vm_resources the cluster_vm that protected_vm returns, made of its own arguments.
        assert vms == ["{{ __vmpair_protected.results | map(attribute='cluster_vm') | list }}"]
        vms = list(_module_calls(book, "duplex.vmpair.protected_vm"))
        entry = "item"
    else:
        entry = "__vmpair_entry" if playbook == "failover.yml" else "__vmpair_mig_vm"
    for vm in vms:
        assert vm["force_stop"] == "{{ %s.force_stop }}" % entry, vm
        assert vm["stop_timeout"] == "{{ %s.stop_timeout }}" % entry, vm
        assert vm["monitor_timeout"] == "{{ %s.monitor_timeout }}" % entry, vm


@pytest.mark.parametrize("playbook", ["protect.yml", "failover.yml", os.path.join("tasks", "migrate_vm.yml")])
def test_every_cib_update_passes_the_pair_s_migration_setting(playbook):
    """vm_resources' migration_tunnelled defaults to true: a playbook that left it out would create (or, with
    migration_update, convert) a resource against a pair's vmpair_migration_tunnelled: false. Only failover.yml's
    cold move converts an existing resource (migration_update), and only when the VM really moves."""
    with open(os.path.join(PLAYBOOKS, playbook)) as f:
        book = yaml.safe_load(f)
    calls = [c for c in _module_calls(book, "duplex.vmpair.vm_resources") if c.get("state", "present") == "present"]
    assert calls, playbook
    for call in calls:
        assert call["migration_tunnelled"] == "{{ __vmpair_site.pair.migration_tunnelled }}", call
    updates = [c["migration_update"] for c in calls if "migration_update" in c]
    if playbook == "failover.yml":
        assert updates == ["{{ __vmpair_locate.vms[0].running_on | default(none, true) != __vmpair_target_node }}"]
    else:
        assert updates == []

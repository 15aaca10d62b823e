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

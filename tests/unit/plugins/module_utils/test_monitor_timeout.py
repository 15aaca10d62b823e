# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A VM's monitor_timeout: the health checks' timeout of its VM and DRBD resources, on the real scheduler.

A monitor that runs longer than its timeout counts as failed, and the cluster recovers the VM (stop,
start; a stop that times out too fences the host). A slow host needs a longer timeout, and a user
who raises it on a running pair must not get the restart the setting exists to avoid. Each test
pushes with ensure_vms_present onto the running pair of conftest.py and lets crm_simulate plan
(it fakes every action; the real-kernel lab runs the setting for real).
"""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects, vm_present
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import (
    EAST,
    WEST,
    runner_for,
    simulate,
    status,
    vm,
)


def monitor_timeouts(path, rsc):
    """{interval: timeout} of ``rsc``'s monitor operations in the CIB at ``path``."""
    root = ET.parse(str(path)).getroot()
    prim = root.find(f".//configuration/resources//primitive[@id='{rsc}']")
    return {op.get("interval"): op.get("timeout") for op in prim.iter("op") if op.get("name") == "monitor"}


def test_the_default_is_the_agent_s_30_s_for_the_vm_and_its_mirror(running):
    assert monitor_timeouts(running, "vm-vm1") == {"10s": "30s"}
    assert monitor_timeouts(running, "drbd-vm1") == {"29s": "30s", "31s": "30s"}


def test_a_longer_timeout_on_a_running_vm_reschedules_its_monitors_and_restarts_nothing(running, tmp_path):
    before = status(running)
    result = vm_present.ensure_vms_present(runner_for(running), [vm("vm1", monitor_timeout=90)])
    assert result.changed
    graph, _out = simulate(running, tmp_path, save=running)
    for rsc in ("vm-vm1", "drbd-vm1", "vm-vm2", "drbd-vm2"):
        assert graph.resource_ops(rsc) == [], rsc
    # the new monitors run with the new timeout where the resources run (VM on east, both mirror instances)
    assert graph.has("monitor", "vm-vm1", EAST)
    assert graph.has("monitor", "drbd-vm1", EAST) and graph.has("monitor", "drbd-vm1", WEST)
    assert monitor_timeouts(running, "vm-vm1") == {"10s": "90s"}
    assert monitor_timeouts(running, "drbd-vm1") == {"29s": "90s", "31s": "90s"}
    assert monitor_timeouts(running, "drbd-vm2") == {"29s": "30s", "31s": "30s"}
    assert status(running) == before
    again = vm_present.ensure_vms_present(runner_for(running), [vm("vm1", monitor_timeout=90)])
    assert not again.changed and again.commands == []


@pytest.mark.parametrize("key", ["monitor_timeout", "stop_timeout"])
def test_a_timeout_under_10_s_is_refused(key):
    with pytest.raises(vm_objects.VmCibError, match=f"VM vm1: {key} must be at least 10 seconds"):
        vm("vm1", **{key: 5})

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The duplex.vmpair.wait_redundancy action plugin.

Faked at the process boundary only: the module run on the host (ActionBase._execute_module) returns
pair_info results built by the real parsers from tool outputs captured in the real-kernel lab (see
test_progress.py), and time.sleep/time.monotonic are a fake clock. The plugin, the loop and Ansible's
argument validation are the real ones; the lines go through the real Display."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.duplex.vmpair.plugins.action import wait_redundancy
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.plugin_utils.test_progress import FakeClock

BOOKWORM = Captures("bookworm")


def pair_info(state_name, host="hv-east"):
    """What duplex.vmpair.pair_info returns on the host in a captured state."""
    facts = state.build_facts(
        BOOKWORM.outputs(state_name), checks=["mirror"], read=BOOKWORM.reader(state_name), uname=host
    )
    return dict(facts, changed=False)


def action(args, results):
    """The plugin with its module runs answered by ``results`` in turn (the last one for ever)."""
    task = Task.load({"action": {"module": "duplex.vmpair.wait_redundancy", "args": args}})
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = wait_redundancy.ActionModule(
        task, connection, PlayContext(), loader=mock.MagicMock(), templar=mock.MagicMock(), shared_loader_obj=None
    )
    queue = list(results)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **_kwargs):
        calls.append((module_name, module_args))
        return queue.pop(0) if len(queue) > 1 else queue[0]

    plugin._execute_module = execute_module
    return plugin, calls


def run(plugin, fake=None):
    fake = fake or FakeClock()
    shown = []
    with (
        mock.patch.object(wait_redundancy.time, "monotonic", fake.clock),
        mock.patch.object(wait_redundancy.time, "sleep", fake.sleep),
        mock.patch.object(wait_redundancy.display, "display", side_effect=lambda msg, *a, **k: shown.append(msg)),
    ):
        result = plugin.run(task_vars={"inventory_hostname": "hv-east"})
    return result, shown, fake


def test_it_reads_pair_info_each_interval_shows_each_line_and_returns_the_samples():
    plugin, calls = action(
        {"interval": 15}, [pair_info("mirror_waiting"), pair_info("mirror_resync_source"), pair_info("fence_removed")]
    )
    result, shown, fake = run(plugin)
    assert not result.get("failed"), result
    assert calls == [("duplex.vmpair.pair_info", {"checks": ["mirror"]})] * 3
    assert fake.sleeps == [15, 15]
    assert shown == result["lines"] and len(shown) == 3
    assert shown[1] == (
        "hv-east, 15 s: vmpair-test SyncSource 13.3 % done, 7.1 MiB left, about 1 min 22 s left at 76 KiB/s; "
        "1 of 2 UpToDate"
    )
    assert result["msg"] == "hv-east, 30 s: all 2 mirrors UpToDate on both hosts"
    assert [(x["elapsed"], x["percent"]) for x in result["samples"]] == [(0, None), (15, 13.3), (30, 100.0)]
    assert result["changed"] is False


def test_vms_are_waited_for_by_their_mirror():
    plugin, _calls = action({"vms": ["guest1"]}, [pair_info("mirror_resync_source")])
    result, shown, fake = run(plugin)
    assert not result.get("failed"), result
    assert shown == ["hv-east, 0 s: vm-guest1 UpToDate on both hosts"] and fake.sleeps == []


def test_a_stalled_mirror_fails_with_its_state_and_the_fix():
    plugin, _calls = action({"resources": ["vmpair-test"], "stall_timeout": 30}, [pair_info("mirror_standalone")])
    result, shown, fake = run(plugin)
    assert result["failed"] is True
    assert result["msg"].startswith("hv-east: the mirror vmpair-test made no progress for 30 s (stall_timeout)")
    assert len(result["samples"]) == 4 and result["lines"] == shown


def test_a_host_without_drbd_has_nothing_to_wait_for_unless_mirrors_are_named():
    # maintenance exit waits for every mirror of the host: in the container lab (no DRBD module) there is none
    plugin, _calls = action({}, [pair_info("healthy")])
    result, shown, fake = run(plugin)
    assert not result.get("failed"), result
    assert shown == ["hv-east, 0 s: no mirror to wait for"] and fake.sleeps == []
    plugin, _calls = action({"vms": ["guest1"]}, [pair_info("healthy")])
    result, shown, _fake = run(plugin)
    assert result["failed"] is True and shown == []
    assert result["msg"].startswith("hv-east cannot say how its mirrors are: the DRBD kernel module is not loaded")


def test_a_failed_module_run_fails_the_wait_with_its_message():
    plugin, _calls = action({}, [{"failed": True, "msg": "MODULE FAILURE"}])
    result, _shown, _fake = run(plugin)
    assert result["failed"] is True
    assert result["msg"] == "hv-east: duplex.vmpair.pair_info failed while waiting for the mirrors: MODULE FAILURE"


@pytest.mark.parametrize("key", ["interval", "stall_timeout", "timeout"])
def test_a_period_below_one_second_is_refused(key):
    plugin, calls = action({key: 0}, [pair_info("fence_removed")])
    result, _shown, _fake = run(plugin)
    assert result["failed"] is True and result["msg"] == "%s must be at least 1 second, not 0." % key
    assert calls == []

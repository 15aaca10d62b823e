# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Severities of a resync: one that moves data is a warning ("redundancy returns in about N min"); a
paused, suspended, stalled or disconnected mirror stays critical.

The progressing resync is the real-kernel lab's capture (tests/unit/fixtures/state/bookworm/
mirror_resync_source and mirror_resync_target: DRBD 8.4.11, 8 MiB to resync at 64 KiB/s, /proc/drbd
with ``finish: 0:01:22 speed: 76``). No capture shows a paused, suspended or zero-speed resync, nor a
VM's own mirror resyncing: those states are crafted here from the same captured texts, each change a
field DRBD prints in that place (``cs:PausedSyncT`` and ``replication:PausedSyncT``,
``resync-suspended:user``, ``speed: 0``, the resource names swapped so that guest1's mirror is the one
that resyncs). Faked only at the process boundary: the tools' outputs.
"""

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output
from ansible_collections.duplex.vmpair.plugins.module_utils.health.report import pair_report
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import GUEST, PAIR

BOOKWORM = Captures("bookworm")


def crafted(state_name, host, events2=None, proc=None, swap=False):
    """pair_info's facts of a captured state, its events2 and /proc/drbd texts changed by the functions given."""
    outputs = dict(BOOKWORM.outputs(state_name))
    text = outputs["events2"].stdout
    proc_text = BOOKWORM.read(state_name, "proc_drbd.txt")
    if swap:
        # guest1's mirror (minor 100) becomes the one that resyncs (minor 90), same protocol C.
        text = text.replace("vmpair-test", "SWAP").replace("vm-guest1", "vmpair-test").replace("SWAP", "vm-guest1")
    if events2:
        text = events2(text)
    if proc:
        proc_text = proc(proc_text)
    outputs["events2"] = Output(0, text, "")
    reader = BOOKWORM.reader(state_name)
    return state.build_facts(
        outputs,
        pair=PAIR,
        host=host,
        vms=GUEST,
        read=lambda path: proc_text if path == "/proc/drbd" else reader(path),
        uname=host,
    )


def severities(result, component=None):
    return [
        (f["severity"], f["subject"])
        for f in result["findings"]
        if f["severity"] != "info" and component in (None, f["component"])
    ]


def finding_of(result, subject):
    return [f for f in result["findings"] if f["subject"] == subject and f["severity"] != "info"][0]


@pytest.mark.parametrize("state_name,host", [("mirror_resync_source", "hv-east"), ("mirror_resync_target", "hv-west")])
def test_a_progressing_resync_is_a_warning_on_both_sides(state_name, host):
    result = crafted(state_name, host)
    assert severities(result) == [("warning", "vmpair-test")]
    assert "redundancy returns in about 2 min" in finding_of(result, "vmpair-test")["message"]
    assert result["redundant"] is False  # reduced, not in place: validate still reports it


def test_the_hourly_validate_at_critical_stays_green_through_a_normal_resync():
    seen = {
        "hv-east": crafted("mirror_resync_source", "hv-east"),
        "hv-west": crafted("mirror_resync_target", "hv-west"),
    }
    report = pair_report("pair_lab", seen, [], "critical")
    assert (report["failed"], report["redundant"], report["counts"]["critical"]) == (False, False, 0)
    assert pair_report("pair_lab", seen, [], "warning")["failed"] is True


PAUSED = {
    "paused (cs:PausedSyncT)": (
        lambda t: t.replace("replication:SyncTarget", "replication:PausedSyncT"),
        lambda p: p.replace("cs:SyncTarget", "cs:PausedSyncT"),
        "the resync is paused (PausedSyncT",
    ),
    "suspended by the user": (
        lambda t: t.replace(
            "replication:SyncTarget peer-disk:UpToDate resync-suspended:no",
            "replication:SyncTarget peer-disk:UpToDate resync-suspended:user",
        ),
        None,
        "the resync is suspended (user)",
    ),
    "speed 0": (None, lambda p: p.replace("speed: 76 (76)", "speed: 0 (0)"), "the resync makes no progress (speed 0"),
    "no time left known (DRBD 9: no finish line in /proc/drbd)": (
        None,
        lambda p: "\n".join(line for line in p.splitlines() if "finish:" not in line) + "\n",
        "the resync shows no progress (no speed or time left known)",
    ),
}


@pytest.mark.parametrize("case", sorted(PAUSED))
def test_a_stalled_resync_stays_critical(case):
    events2, proc, reason = PAUSED[case]
    result = crafted("mirror_resync_target", "hv-west", events2=events2, proc=proc)
    assert severities(result, "mirror") == [("critical", "vmpair-test")]
    message = finding_of(result, "vmpair-test")["message"]
    assert reason in message and "redundancy returns" not in message
    seen = {"hv-west": result}
    assert pair_report("pair_lab", seen, [], "critical")["failed"] is True


@pytest.mark.parametrize("state_name,host", [("mirror_standalone", "hv-west"), ("mirror_waiting", "hv-east")])
def test_a_disconnected_mirror_stays_critical(state_name, host):
    result = state.build_facts(
        BOOKWORM.outputs(state_name), pair=PAIR, host=host, vms=GUEST, read=BOOKWORM.reader(state_name), uname=host
    )
    assert severities(result, "mirror") == [("critical", "vmpair-test")]


def test_a_vm_whose_mirror_resyncs_and_progresses_is_a_warning_with_the_time_left():
    result = crafted("mirror_resync_source", "hv-east", swap=True)
    vm = result["vms"][0]
    assert (vm["running_on"], vm["failover_to"], vm["peer_copy_uptodate"], vm["resync_eta_s"]) == (
        "hv-east",
        None,
        False,
        82,
    )
    assert severities(result) == [("warning", "vm-guest1"), ("warning", "guest1")]
    assert finding_of(result, "guest1")["message"] == (
        "VM guest1 (ha, on hv-east) cannot fail over until its mirror's resync ends: redundancy returns in about 2 min"
    )


def test_a_vm_whose_mirror_resync_is_paused_cannot_fail_over_critical():
    result = crafted(
        "mirror_resync_source",
        "hv-east",
        swap=True,
        events2=lambda t: t.replace("replication:SyncSource", "replication:PausedSyncS"),
        proc=lambda p: p.replace("cs:SyncSource", "cs:PausedSyncS"),
    )
    assert result["vms"][0]["resync_eta_s"] is None
    assert severities(result) == [("critical", "vm-guest1"), ("critical", "guest1")]
    assert finding_of(result, "guest1")["message"].startswith("VM guest1 (ha, on hv-east) cannot fail over: the copy")

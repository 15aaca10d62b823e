# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/progress.py: the progress line, the stall detection and the wait loop of
duplex.vmpair.wait_redundancy.

The mirrors are pair_info's facts built by the real parsers from tool outputs captured in the
real-kernel lab (tests/unit/fixtures/state/bookworm, see captures.py): ``mirror_waiting`` (vmpair-test
disconnected, Outdated on hv-east), ``mirror_resync_source`` (vmpair-test resyncing from hv-east,
13.3 % done, DRBD says 82 s left at 76 KiB/s), ``mirror_standalone`` (vmpair-test StandAlone) and
``fence_removed`` (both mirrors UpToDate). The clock and sleep of the loop are fakes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.plugin_utils import progress
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures

BOOKWORM = Captures("bookworm")


def mirrors(state_name, host="hv-east"):
    """pair_info's mirror.resources of a captured state (checks: [mirror], what wait_redundancy asks)."""
    facts = state.build_facts(
        BOOKWORM.outputs(state_name), checks=["mirror"], read=BOOKWORM.reader(state_name), uname=host
    )
    return facts["mirror"]["resources"]


def named(resources, name):
    return [r for r in resources if r["name"] == name][0]


class FakeClock:
    """time.monotonic and time.sleep of the loop: sleeping moves the clock on."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reads(*states):
    """read() that returns the captured states one after the other, then the last one for ever."""
    queue = [mirrors(s) for s in states]

    def read():
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return read


# ----------------------------------------------------------------------------- lines
def test_a_resyncing_mirror_says_how_far_how_much_and_how_long_at_what_rate():
    res = named(mirrors("mirror_resync_source"), "vmpair-test")
    assert progress.mirror_text(res) == (
        "vmpair-test SyncSource 13.3 % done, 7.1 MiB left, about 1 min 22 s left at 76 KiB/s"
    )


def test_without_drbds_estimate_the_time_left_comes_from_the_rate_observed():
    res = dict(named(mirrors("mirror_resync_source"), "vmpair-test"), resync_eta_s=None)
    res["volumes"] = [dict(v, resync_speed_kib_s=None) for v in res["volumes"]]
    assert progress.mirror_text(res) == "vmpair-test SyncSource 13.3 % done, 7.1 MiB left"
    # 2048 KiB less in 10 s: 204.8 KiB/s, 7288 KiB left -> 35 s
    history = [(0.0, 9336), (10.0, 7288)]
    assert progress.mirror_text(res, history) == (
        "vmpair-test SyncSource 13.3 % done, 7.1 MiB left, about 35 s left at 204 KiB/s"
    )


def test_a_disconnected_mirror_says_it_waits_for_the_connection():
    res = named(mirrors("mirror_standalone"), "vmpair-test")
    assert progress.mirror_text(res) == (
        "vmpair-test StandAlone (disk Outdated, peer DUnknown), 0 KiB out of sync, waiting for the connection"
    )


def test_the_line_names_the_host_the_time_waited_and_only_the_mirrors_not_yet_redundant():
    line = progress.progress_line("hv-east", mirrors("mirror_resync_source"), 75)
    assert line == (
        "hv-east, 1 min 15 s: vmpair-test SyncSource 13.3 % done, 7.1 MiB left, about 1 min 22 s left at 76 KiB/s; "
        "1 of 2 UpToDate"
    )
    assert progress.progress_line("hv-east", mirrors("fence_removed"), 190) == (
        "hv-east, 3 min 10 s: all 2 mirrors UpToDate on both hosts"
    )
    one = [named(mirrors("fence_removed"), "vm-guest1")]
    assert progress.progress_line("hv-east", one, 0) == "hv-east, 0 s: vm-guest1 UpToDate on both hosts"


@pytest.mark.parametrize("kib, text", [(512, "512 KiB"), (40960, "40.0 MiB"), (1288490, "1.2 GiB"), (None, "0 KiB")])
def test_sizes(kib, text):
    assert progress.size_text(kib) == text


# ----------------------------------------------------------------------------- stall detection
def s(elapsed, oos, pending=1, percent=None):
    return {"elapsed": elapsed, "out_of_sync_kib": oos, "pending": pending, "percent": percent}


def test_a_shrinking_out_of_sync_is_progress():
    assert progress.stalled_for([s(0, 100), s(10, 90), s(20, 80)]) == 0


def test_an_out_of_sync_that_does_not_shrink_is_a_stall_since_the_last_progress():
    assert progress.stalled_for([s(0, 100), s(10, 90), s(20, 90), s(30, 95), s(40, 90)]) == 30


def test_nothing_ever_moving_is_a_stall_since_the_first_read():
    assert progress.stalled_for([s(0, 0), s(10, 0), s(20, 0)]) == 20


def test_a_percent_known_for_the_first_time_is_progress():
    assert progress.stalled_for([s(0, 0, percent=None), s(10, 0, percent=3.0), s(20, 0, percent=3.0)]) == 10


def test_a_mirror_finishing_or_a_higher_percent_is_progress():
    assert progress.stalled_for([s(0, 0, pending=2), s(10, 0, pending=1)]) == 0
    assert progress.stalled_for([s(0, 50, percent=10.0), s(10, 50, percent=12.5)]) == 0


def test_samples_of_captured_reads():
    assert progress.sample(5.04, mirrors("mirror_resync_source")) == {
        "elapsed": 5.0,
        "percent": 13.3,
        "out_of_sync_kib": 7288,
        "pending": 1,
    }
    assert progress.sample(9, mirrors("fence_removed"))["percent"] == 100.0
    assert progress.sample(9, mirrors("mirror_waiting"))["percent"] is None


# ----------------------------------------------------------------------------- the loop
def run_wait(read, names=(), interval=10, stall_timeout=300, timeout=7200):
    fake, shown = FakeClock(), []
    try:
        out = progress.wait(
            read, shown.append, "hv-east", list(names), interval, stall_timeout, timeout, fake.clock, fake.sleep
        )
    except progress.WaitFailed as exc:
        return exc, shown, fake
    return out, shown, fake


def test_the_wait_shows_a_line_per_read_at_the_interval_until_every_mirror_is_uptodate():
    out, shown, fake = run_wait(reads("mirror_waiting", "mirror_resync_source", "fence_removed"))
    assert fake.sleeps == [10, 10]
    assert shown == out["lines"]
    assert shown[0] == (
        "hv-east, 0 s: vmpair-test Connecting (disk UpToDate, peer Outdated), 0 KiB out of sync, waiting for the "
        "connection; 1 of 2 UpToDate"
    )
    assert shown[1].startswith("hv-east, 10 s: vmpair-test SyncSource 13.3 % done")
    assert shown[2] == "hv-east, 20 s: all 2 mirrors UpToDate on both hosts"
    assert [x["percent"] for x in out["samples"]] == [None, 13.3, 100.0]
    assert out["elapsed"] == 20


def test_the_wait_ends_at_once_when_the_mirrors_named_are_uptodate_whatever_the_others_are():
    out, shown, fake = run_wait(reads("mirror_resync_source"), names=["vm-guest1"])
    assert (shown, fake.sleeps) == (["hv-east, 0 s: vm-guest1 UpToDate on both hosts"], [])
    assert [m["name"] for m in out["mirrors"]] == ["vm-guest1"]


def test_a_mirror_that_stays_standalone_fails_after_the_stall_timeout_not_the_timeout():
    exc, shown, fake = run_wait(reads("mirror_standalone"), stall_timeout=60)
    assert isinstance(exc, progress.WaitFailed)
    assert fake.now - 1000.0 == 60 and len(shown) == 7
    message = str(exc)
    assert message.startswith("hv-east: the mirror vmpair-test made no progress for 60 s (stall_timeout)")
    assert "StandAlone" in message and "drbdadm status vmpair-test" in message
    assert exc.partial["lines"] == shown and len(exc.partial["samples"]) == 7


def test_a_resync_that_progresses_fails_only_at_the_timeout_and_says_it_goes_on():
    base = named(mirrors("mirror_resync_source"), "vmpair-test")
    state = {"oos": base["out_of_sync_kib"]}

    def read():
        state["oos"] -= 10
        return [dict(base, out_of_sync_kib=state["oos"])]

    exc, shown, fake = run_wait(read, interval=10, stall_timeout=30, timeout=95)
    assert isinstance(exc, progress.WaitFailed)
    assert fake.sleeps[-1] == 5 and fake.now - 1000.0 == 95
    assert str(exc).startswith("hv-east: not redundant after 95 s (timeout): vmpair-test SyncSource")
    assert "still progressing" in str(exc)


def test_a_mirror_the_host_does_not_have_fails_at_once_naming_it():
    exc, shown, fake = run_wait(reads("fence_removed"), names=["vm-web1"])
    assert isinstance(exc, progress.WaitFailed) and shown == [] and fake.sleeps == []
    assert str(exc).startswith("hv-east has no DRBD resource vm-web1")

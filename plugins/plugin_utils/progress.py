# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of duplex.vmpair.wait_redundancy: wait until mirrors are redundant, with progress.

:func:`wait` reads the mirrors (``pair_info``'s ``mirror.resources``, through the ``read`` callable
the action plugin gives it) every ``interval`` seconds, shows one line per read (:func:`progress_line`)
and ends when every mirror it waits for is Connected and UpToDate on both hosts. It fails when nothing
has progressed for ``stall_timeout`` seconds (:func:`stalled_for`: the amount out of sync did not
shrink, the resync percent did not grow, no mirror finished) and when ``timeout`` has passed. Every
function here but :func:`wait` is pure; :func:`wait` takes its clock and its sleep as arguments.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.health.mirror import duration

KIB = 1
MIB = 1024
GIB = 1024 * 1024


class WaitFailed(Exception):
    """The wait ended without redundancy; ``partial`` holds what was seen (samples, lines, mirrors)."""

    def __init__(self, message, partial=None):
        super(WaitFailed, self).__init__(message)
        self.partial = partial or {}


def is_redundant(res):
    """The mirror is Connected, not resyncing, and UpToDate on both hosts."""
    return (
        res.get("connection") == "Connected"
        and not res.get("resyncing")
        and res.get("disk") == "UpToDate"
        and res.get("peer_disk") == "UpToDate"
    )


def select(resources, names):
    """(the resources named, in the order of ``names``; the names missing). No names: every resource."""
    if not names:
        return list(resources), []
    by_name = {r.get("name"): r for r in resources}
    return [by_name[n] for n in names if n in by_name], [n for n in names if n not in by_name]


def size_text(kib):
    """``1288490`` KiB -> ``1.2 GiB``; ``40960`` -> ``40.0 MiB``; ``512`` -> ``512 KiB``."""
    kib = kib or 0
    if kib >= GIB:
        return "%.1f GiB" % (kib / float(GIB))
    if kib >= MIB:
        return "%.1f MiB" % (kib / float(MIB))
    return "%d KiB" % kib


def rate_text(kib_s):
    """``6963`` KiB/s -> ``6.8 MiB/s``."""
    return size_text(kib_s) + "/s"


def drbd_speed(res):
    """The resync speed DRBD reports for the mirror (KiB/s, /proc/drbd of 8.4), summed over its volumes, or None."""
    speeds = [v.get("resync_speed_kib_s") for v in res.get("volumes") or [] if v.get("resync_speed_kib_s")]
    return sum(speeds) if speeds else None


def observed_rate(history):
    """KiB/s by which the amount out of sync shrank over ``history`` [(elapsed, out_of_sync_kib)], or None
    when it did not shrink (or there are fewer than two reads)."""
    if len(history) < 2:
        return None
    (t0, oos0), (t1, oos1) = history[0], history[-1]
    if t1 <= t0 or oos1 >= oos0:
        return None
    return (oos0 - oos1) / float(t1 - t0)


def mirror_text(res, history=None):
    """One mirror's state: ``vm-web1 SyncSource 42.0 % done, 1.2 GiB left, about 3 min 0 s left at 6.8 MiB/s``.

    The time left is DRBD's estimate where it gives one (8.4's /proc/drbd), else the amount out of
    sync divided by the rate it shrank at over ``history`` (this wait's reads of the mirror)."""
    name = res.get("name")
    if is_redundant(res):
        return "%s UpToDate on both hosts" % name
    oos = res.get("out_of_sync_kib") or 0
    if res.get("connection") != "Connected":
        return "%s %s (disk %s, peer %s), %s out of sync, waiting for the connection" % (
            name,
            res.get("connection"),
            res.get("disk"),
            res.get("peer_disk"),
            size_text(oos),
        )
    if not res.get("resyncing"):
        return "%s Connected, disk %s, peer %s, waiting for the resync to start" % (
            name,
            res.get("disk"),
            res.get("peer_disk"),
        )
    parts = ["%s %s" % (name, res.get("replication"))]
    if res.get("resync_percent") is not None:
        parts[0] += " %.1f %% done" % res["resync_percent"]
    parts.append("%s left" % size_text(oos))
    speed = drbd_speed(res) or observed_rate(history or [])
    eta = res.get("resync_eta_s")
    if eta is None and speed:
        eta = oos / speed
    if eta is not None:
        parts.append("about %s left%s" % (duration(eta), " at %s" % rate_text(speed) if speed else ""))
    elif speed:
        parts.append("at %s" % rate_text(speed))
    return ", ".join(parts)


def progress_line(host, resources, elapsed, histories=None):
    """The line shown after each read: the host, the time waited so far, then each mirror still
    missing redundancy (or, when none is, that every one is UpToDate)."""
    histories = histories or {}
    head = "%s, %s:" % (host, duration(elapsed))
    if not resources:
        return "%s no mirror to wait for" % head
    waiting = [r for r in resources if not is_redundant(r)]
    if not waiting:
        return "%s %s UpToDate on both hosts" % (
            head,
            resources[0].get("name") if len(resources) == 1 else "all %d mirrors" % len(resources),
        )
    texts = [mirror_text(r, histories.get(r.get("name"))) for r in waiting]
    if len(resources) > len(waiting):
        texts.append("%d of %d UpToDate" % (len(resources) - len(waiting), len(resources)))
    return "%s %s" % (head, "; ".join(texts))


def sample(elapsed, resources):
    """What one read says about progress: elapsed, percent (the least advanced mirror's; 100 when all
    are redundant; None when unknown), out_of_sync_kib (all mirrors together) and pending (the number
    of mirrors not yet redundant)."""
    waiting = [r for r in resources if not is_redundant(r)]
    percents = [r.get("resync_percent") for r in waiting if r.get("resync_percent") is not None]
    if not waiting:
        percent = 100.0
    else:
        percent = min(percents) if percents else None
    return {
        "elapsed": round(elapsed, 1),
        "percent": percent,
        "out_of_sync_kib": sum(r.get("out_of_sync_kib") or 0 for r in resources),
        "pending": len(waiting),
    }


def stalled_for(samples):
    """Seconds since the last read that made progress (since the first read when none did).

    A read makes progress when it reaches a new best: fewer mirrors pending, less out of sync, or a higher
    percent than any read before it. An amount out of sync that grows and shrinks back (the VM writes
    faster than the resync copies) is no progress."""
    if not samples:
        return 0.0
    last = samples[0]["elapsed"]
    pending = samples[0]["pending"]
    oos = samples[0]["out_of_sync_kib"]
    percent = samples[0]["percent"]
    for item in samples[1:]:
        better = item["pending"] < pending or item["out_of_sync_kib"] < oos
        better = better or (item["percent"] is not None and (percent is None or item["percent"] > percent))
        if better:
            last = item["elapsed"]
        pending = min(pending, item["pending"])
        oos = min(oos, item["out_of_sync_kib"])
        if item["percent"] is not None:
            percent = item["percent"] if percent is None else max(percent, item["percent"])
    return samples[-1]["elapsed"] - last


def _stall_message(host, waiting, stall_timeout):
    names = ", ".join(r.get("name") for r in waiting)
    states = "; ".join(mirror_text(r) for r in waiting)
    return (
        "%s: the mirror%s %s made no progress for %d s (stall_timeout): %s. The copy on the peer is not complete, "
        "so the VMs cannot fail over to it yet. Fix: check the replication link and both hosts' disks "
        "(drbdadm status %s on both hosts; journalctl -k | grep drbd); the mirror resyncs by itself once it can. "
        "Then run again (a larger stall_timeout waits longer)."
        % (host, "s" if len(waiting) > 1 else "", names, stall_timeout, states, waiting[0].get("name"))
    )


def _timeout_message(host, waiting, timeout):
    states = "; ".join(mirror_text(r) for r in waiting)
    return (
        "%s: not redundant after %d s (timeout): %s. It was still progressing: the resync goes on by itself. "
        "Fix: run again to go on waiting, or give a larger timeout." % (host, timeout, states)
    )


def wait(read, emit, host, names, interval, stall_timeout, timeout, clock, sleep):
    """Read, show a line, and read again every ``interval`` seconds until the mirrors ``names`` (all the
    host's when empty) are redundant.

    ``read()`` returns pair_info's ``mirror.resources`` (or raises WaitFailed); ``emit(line)`` shows a
    line. Returns {elapsed, samples, lines, mirrors}; raises WaitFailed (its ``partial`` the same) on a
    missing mirror, a stall or the timeout."""
    start = clock()
    samples, lines, histories = [], [], {}
    chosen = []

    def partial(elapsed):
        return {"elapsed": round(elapsed, 1), "samples": samples, "lines": lines, "mirrors": chosen}

    while True:
        try:
            resources = read()
        except WaitFailed as exc:
            raise WaitFailed(str(exc), partial(clock() - start)) from exc
        elapsed = clock() - start
        chosen, missing = select(resources, names)
        if missing:
            raise WaitFailed(
                "%s has no DRBD resource %s (drbdadm status shows the resources it has up). Fix: check the VM or "
                "resource name; a VM's mirror exists once duplex.vmpair.protect has run for it."
                % (host, ", ".join(missing)),
                partial(elapsed),
            )
        for res in chosen:
            history = histories.setdefault(res.get("name"), [])
            history.append((elapsed, res.get("out_of_sync_kib") or 0))
            # the rate over the last stall_timeout seconds, so that an old pace does not skew the time left
            while len(history) > 2 and elapsed - history[0][0] > stall_timeout:
                history.pop(0)
        samples.append(sample(elapsed, chosen))
        line = progress_line(host, chosen, elapsed, histories)
        lines.append(line)
        emit(line)
        waiting = [r for r in chosen if not is_redundant(r)]
        if not waiting:
            return partial(elapsed)
        if stalled_for(samples) >= stall_timeout:
            raise WaitFailed(_stall_message(host, waiting, stall_timeout), partial(elapsed))
        if elapsed >= timeout:
            raise WaitFailed(_timeout_message(host, waiting, timeout), partial(elapsed))
        sleep(max(0, min(interval, timeout - elapsed)))

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One live migration of the lab guest as the guest lived it, from what bench/migration.sh followed.

Usage: migration_gap.py stamp <IN >OUT: copies lines, each prefixed with this machine's clock at
the moment its first byte arrived; a line cut short at the end (the guest's console line split
by the migration: its first part in the source's log, the end of line in the target's) is kept.

Usage: migration_gap.py sequence NAME <LOGS: prints "NAME: ACK first..last, whole" (or BROKEN, exit
1) for one guest's serial logs, all hosts' together: every number once, none skipped.

Usage: migration_gap.py SOURCE_PREFIX TARGET_PREFIX. Each prefix names three files written on the
lab machine by `stamp` (so one clock times both hosts):
PREFIX.serial (the guest's serial log: "VMPAIR-ACK n" once the write of n returned from fsync),
PREFIX.writes ("W WRITES IN_FLIGHT QEMU BUSY IDLE": the write count and requests in flight of the
VM's DRBD device, the CPU ticks of the VM's QEMU process and the host's busy and idle CPU ticks)
and PREFIX.events (`virsh event --loop --event lifecycle`).

Prints key=value pairs on one line, times in seconds:
  ack_gap          last ACK line on the source to the first on the target
  write_gap        last disk write on the source to the first on the target
  write_to_pause   last disk write on the source to the source's Suspended event (libvirt's pause
                   for the final copy)
  pause_to_resume  Suspended on the source to Resumed on the target (libvirt's downtime, plus the
                   events' travel)
  resume_to_write  Resumed on the target to the guest's first disk write there
  resume_cpu       the target QEMU's CPU seconds per second over that time (about 1: the guest
                   was computing, which in the lab's nested emulation means translating code
                   again in a process that has never run it)
  resume_in_flight the share of that time a write was in flight (about 1: it waited for the disk)
  resume_host_busy the target host's busy share of its CPU over that time (about 1 while the VM's
                   QEMU gets little of it: the VM waited for the CPU, which the host's other work
                   took: the cluster's actions after the move, the playbook's own tasks)
and last_ack / first_ack (the numbers). Exits non-zero, saying why, when the ACK numbers from
both hosts together skip or repeat one (an acknowledged write lost, or the guest restarted), or
something was not seen.
"""

import os
import re
import sys
import time


def stamp(fd_in=0, out=sys.stdout):
    start, line = None, b""
    while True:
        chunk = os.read(fd_in, 65536)
        now = time.time()
        if not chunk:
            break
        while chunk:
            if start is None:
                start = now
            head, newline, chunk = chunk.partition(b"\n")
            line += head
            if newline:
                out.write("%.6f %s\n" % (start, line.decode(errors="replace").rstrip("\r")))
                out.flush()
                start, line = None, b""
    if start is not None:
        out.write("%.6f %s\n" % (start, line.decode(errors="replace").rstrip("\r")))


def stamped(path, pattern):
    out = []
    with open(path, errors="replace") as lines:
        for line in lines:
            m = re.match(r"(\S+) " + pattern, line)
            if m:
                out.append((float(m.group(1)),) + m.groups()[1:])
    return out


def whole_sequence(numbers):
    """True when the ACK numbers, sorted, go up by one with none repeated or skipped."""
    numbers = sorted(numbers)
    return bool(numbers) and numbers == list(range(numbers[0], numbers[-1] + 1))


def sequence(name, text):
    """`sequence NAME`: one guest's whole serial logs on stdin; prints the ACK range, exits 1 if broken."""
    numbers = sorted(int(n) for n in re.findall(r"VMPAIR-ACK (\d+)", text))
    whole = whole_sequence(numbers)
    ends = (numbers[0], numbers[-1]) if numbers else (0, 0)
    print("%s: ACK %d..%d, %s" % (name, ends[0], ends[1], "whole" if whole else "BROKEN"))
    return 0 if whole else 1


def acks(prefix):
    return [(t, int(n)) for t, n in stamped(prefix + ".serial", r".*VMPAIR-ACK (\d+)")]


def samples(prefix):
    """[(time, writes, in_flight, qemu_cpu_seconds, host_busy_ticks, host_idle_ticks)]."""
    return [
        (t, int(w), int(f), int(c) / 100.0, int(busy), int(idle))
        for t, w, f, c, busy, idle in stamped(prefix + ".writes", r"W (\d+) (\d+) (\d+) (\d+) (\d+)")
    ]


def writes(rows):
    """The times the write count moved (completed writes), from :func:`samples`."""
    out, before = [], None
    for t, w, *_rest in rows:
        if before is not None and w != before:
            out.append(t)
        before = w
    return out


def event(prefix, kind):
    found = [
        t for t, what in stamped(prefix + ".events", r"event 'lifecycle' for domain \S+: (.*)") if what.startswith(kind)
    ]
    if not found:
        sys.exit("no %s event in %s.events" % (kind, prefix))
    return found[0]


def main(src, dst):
    a_src, a_dst = acks(src), acks(dst)
    if not a_src or not a_dst:
        sys.exit("no ACK seen on one side")
    numbers = sorted(n for _t, n in a_src + a_dst)
    if not whole_sequence(numbers):
        sys.exit("ACK sequence broken: %s ... %s" % (numbers[:3], numbers[-3:]))
    s_dst = samples(dst)
    w_src, w_dst = writes(samples(src)), writes(s_dst)
    if not w_src or not w_dst:
        sys.exit("no disk write seen on one side")
    last_ack, first_ack = max(a_src, key=lambda a: a[1]), min(a_dst, key=lambda a: a[1])
    paused, resumed = event(src, "Suspended"), event(dst, "Resumed")
    last_w, first_w = max(w_src), min(w_dst)
    # On the target between the resume and the first write: how busy its QEMU was (CPU seconds
    # per second) and how often a write was in flight (waiting for the disk, DRBD and the peer).
    window = [x for x in s_dst if resumed <= x[0] <= first_w]
    busy = (
        (window[-1][3] - window[0][3]) / (window[-1][0] - window[0][0])
        if len(window) > 1 and window[-1][0] > window[0][0]
        else 0.0
    )
    in_flight = sum(1 for x in window if x[2] > 0) / float(len(window)) if window else 0.0
    ticks = (window[-1][4] - window[0][4], window[-1][5] - window[0][5]) if len(window) > 1 else (0, 0)
    host_busy = ticks[0] / float(sum(ticks)) if sum(ticks) else 0.0
    print(
        " ".join(
            "%s=%s" % kv
            for kv in [
                ("ack_gap", "%.2f" % (first_ack[0] - last_ack[0])),
                ("write_gap", "%.2f" % (first_w - last_w)),
                ("write_to_pause", "%.2f" % (paused - last_w)),
                ("pause_to_resume", "%.2f" % (resumed - paused)),
                ("resume_to_write", "%.2f" % (first_w - resumed)),
                ("resume_cpu", "%.2f" % busy),
                ("resume_in_flight", "%.2f" % in_flight),
                ("resume_host_busy", "%.2f" % host_busy),
                ("last_ack", last_ack[1]),
                ("first_ack", first_ack[1]),
            ]
        )
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["stamp"]:
        sys.exit(stamp())
    if len(sys.argv) == 3 and sys.argv[1] == "sequence":
        sys.exit(sequence(sys.argv[2], sys.stdin.read()))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

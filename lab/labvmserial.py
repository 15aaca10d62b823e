"""What a lab host's serial log (<lab dir>/<host>.log, every boot appended) says about its boots.

The kernel runs with `quiet` (console loglevel 4: only KERN_ERR and more urgent reach ttyS0) and
systemd prints nothing unless a unit fails, so a boot of its own may leave no line at all; the
image's vmpair-lab-net (run early at every boot) therefore writes `vmpair-lab: boot <host>
<boot id>` to /dev/console, and that marker is what starts a boot here. Before it, what the
previous boot left on the console says how it ended (the kernel's format, linux 6.1 and 6.12;
with CONFIG_PRINTK_TIME each line starts with `[  seconds]`):

  reboot: Restarting system        kernel_restart() (kernel/reboot.c), pr_emerg: a clean reboot
  reboot: Power down               kernel_power_off(), pr_emerg: a clean power-off (or sysrq-o)
  reboot: System halted            kernel_halt(), pr_emerg
  sysrq: Resetting                 __handle_sysrq() (drivers/tty/sysrq.c) prints the action's
                                   message after raising the console loglevel, so it shows
                                   whatever the loglevel: sysrq-b, sbd's self-fence (reset)
  sysrq: Power Off                 the same, sysrq-o (sbd's self-fence with off)
  sysrq: Trigger a crash           the same, sysrq-c (sbd's crashdump action), then a panic
  Kernel panic - not syncing: ...  panic() (kernel/panic.c), pr_emerg
  watchdog: watchdog0: watchdog did not stop!
                                   watchdog_release() (drivers/watchdog/watchdog_dev.c),
                                   pr_crit: the watchdog's user closed it armed (a note only)

A boot with none of these before it ended without a word: the hardware watchdog's reset (QEMU's
i6300esb with -action watchdog=reset), a Redfish ForceRestart or `vm kill` (QEMU killed).
"""

import re

MARKER = re.compile(r"vmpair-lab: boot (\S+)(?: (\S+))?")
# (pattern, event); a sysrq or panic line names the cause even when a `reboot:` line follows it
EVENTS = (
    ("sysrq: Resetting", "sysrq-reset"),
    ("sysrq: Power Off", "sysrq-poweroff"),
    ("sysrq: Trigger a crash", "sysrq-crash"),
    ("Kernel panic - not syncing", "panic"),
    ("reboot: Restarting system", "reboot"),
    ("reboot: Power down", "poweroff"),
    ("reboot: System halted", "halt"),
    ("watchdog did not stop!", "watchdog-not-stopped"),
)
DECISIVE = ("sysrq-reset", "sysrq-poweroff", "sysrq-crash", "panic")
CLEAN = ("reboot", "poweroff", "halt")


def cause(events):
    """How a boot ended, from the events its console showed: the first sysrq action or panic, else
    the last clean reboot/power-off/halt, else none (a hard reset or a killed QEMU)."""
    names = [name for name, _line in events]
    for name in names:
        if name in DECISIVE:
            return name
    clean = [name for name in names if name in CLEAN]
    return clean[-1] if clean else "none"


def parse(text):
    """The boots in a serial log: [{boot, line, host, boot_id, after, evidence}], oldest first.

    `after`: how the previous boot ended (see cause(); `start` for the log's first boot with
    nothing before it); `evidence`: the console lines that say so, with their line numbers.
    """
    boots = []
    events = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.replace("\r", "").strip()
        match = MARKER.search(line)
        if match:
            after = cause(events)
            if not boots and after == "none":
                after = "start"
            boots.append(
                {
                    "boot": len(boots) + 1,
                    "line": number,
                    "host": match.group(1),
                    "boot_id": match.group(2),
                    "after": after,
                    "evidence": [{"line": n, "text": t} for _e, (n, t) in events],
                }
            )
            events = []
            continue
        for pattern, name in EVENTS:
            if pattern in line:
                events.append((name, (number, line)))
                break
    return boots


def summary(text):
    """parse() plus counts, and how the last boot ended if the host went down since (`current`)."""
    boots = parse(text)
    tail = [name for name, _line in _tail_events(text)]
    counts = {}
    for boot in boots[1:]:
        counts[boot["after"]] = counts.get(boot["after"], 0) + 1
    return {
        "boots": len(boots),
        "resets": counts,
        "since_last_boot": cause([(n, None) for n in tail]) if tail else None,
        "history": boots,
    }


def _tail_events(text):
    """The events after the last boot marker (the running boot, or one that ended without a new one)."""
    lines = text.split("\n")
    last = max((i for i, raw in enumerate(lines) if MARKER.search(raw)), default=-1)
    out = []
    for raw in lines[last + 1 :]:
        line = raw.replace("\r", "").strip()
        for pattern, name in EVENTS:
            if pattern in line:
                out.append((name, line))
                break
    return out

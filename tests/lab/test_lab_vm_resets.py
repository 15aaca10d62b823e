"""lab/labvmserial.py and `lab.py vm resets`: boots and how each previous one ended, from a lab
host's serial log.

The logs below are written by hand after the formats of the kernel (Debian 12's linux 6.1, with
CONFIG_PRINTK_TIME's `[seconds]` prefix and the serial console's CR LF): `reboot: Restarting system`
and `reboot: Power down` are kernel_restart()'s and kernel_power_off()'s pr_emerg in kernel/reboot.c
(pr_fmt "reboot: "); `sysrq: Resetting` is __handle_sysrq()'s pr_info of sysrq-b's action message in
drivers/tty/sysrq.c (pr_fmt "sysrq: "), printed after it raises the console loglevel; `Kernel panic -
not syncing:` is panic()'s in kernel/panic.c; `watchdog: watchdog0: watchdog did not stop!` is
watchdog_release()'s pr_crit in drivers/watchdog/watchdog_dev.c. The boot marker is what the image's
vm/vmpair-lab-net writes to /dev/console at every boot.
"""

import argparse
import json
import pathlib
import sys

import pytest

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"
BOOT = "vmpair-lab: boot hv-east {}\r"
LOG = "\n".join(
    [
        BOOT.format("0b1c"),  # 1: the first boot: nothing before it (quiet)
        "",
        "Debian GNU/Linux 12 hv-east ttyS0\r",
        "hv-east login: [  312.441870] reboot: Restarting system\r",  # `reboot`: a clean restart
        BOOT.format("1d2e"),  # 5
        "[  901.002113] sysrq: Resetting\r",  # sbd's self-fence: sysrq-b
        BOOT.format("2f30"),  # 7
        "[   88.100200] watchdog: watchdog0: watchdog did not stop!\r",  # sbd killed, armed watchdog
        BOOT.format("3a4b"),  # 9: the watchdog's reset (or a kill): no line of its own
        "[  120.000001] sysrq: Trigger a crash\r",
        "[  120.000310] Kernel panic - not syncing: sysrq triggered crash\r",
        BOOT.format("4c5d"),  # 12
        "[   40.500000] reboot: Power down\r",
        BOOT.format("5e6f"),  # 14: powered on again after a clean power-off
        "[   77.700000] sysrq: Resetting\r",  # the running boot has reset itself since (no new boot yet)
        "",
    ]
)


@pytest.fixture(name="labvmserial")
def fixture_labvmserial(monkeypatch):
    monkeypatch.syspath_prepend(str(LAB))
    for name in [m for m in sys.modules if m.startswith("lab")]:
        monkeypatch.delitem(sys.modules, name)
    import labvmserial  # pylint: disable=import-outside-toplevel

    return labvmserial


def test_each_boot_and_how_the_one_before_it_ended(labvmserial):
    boots = labvmserial.parse(LOG)
    assert [(b["boot"], b["line"], b["boot_id"], b["after"]) for b in boots] == [
        (1, 1, "0b1c", "start"),
        (2, 5, "1d2e", "reboot"),
        (3, 7, "2f30", "sysrq-reset"),
        (4, 9, "3a4b", "none"),  # a note, not a cause: the reset itself left no line
        (5, 12, "4c5d", "sysrq-crash"),  # the crash's sysrq line names it, not the panic after it
        (6, 14, "5e6f", "poweroff"),
    ]
    assert boots[2]["evidence"] == [{"line": 6, "text": "[  901.002113] sysrq: Resetting"}]
    assert boots[3]["evidence"] == [{"line": 8, "text": "[   88.100200] watchdog: watchdog0: watchdog did not stop!"}]
    assert all(b["host"] == "hv-east" for b in boots)


def test_summary_counts_resets_and_tells_what_the_last_boot_did_since(labvmserial):
    summary = labvmserial.summary(LOG)
    assert summary["boots"] == 6
    assert summary["resets"] == {"reboot": 1, "sysrq-reset": 1, "none": 1, "sysrq-crash": 1, "poweroff": 1}
    assert summary["since_last_boot"] == "sysrq-reset"
    assert labvmserial.summary(LOG.rsplit("[   77", 1)[0])["since_last_boot"] is None


def test_a_log_of_one_quiet_boot_or_none(labvmserial):
    assert labvmserial.summary("")["boots"] == 0
    one = labvmserial.summary("vmpair-lab: boot qw1 aa\r\n\r\nqw1 login: ")
    assert (one["boots"], one["resets"], one["history"][0]["after"]) == (1, {}, "start")


def test_vm_resets_prints_the_hosts_log_as_json(labvmserial, monkeypatch, tmp_path, capsys):
    import labvm  # pylint: disable=import-outside-toplevel
    import labvmstate  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(labvmstate, "LABS_DIR", str(tmp_path))
    roles = ["east", "west", "witness"]
    (tmp_path / "r").mkdir()
    labvm.save({"name": "r", "index": 0, "roles": roles, "memory": 1024, "plan": labvm.plan(0, roles)})
    (tmp_path / "r" / "hv-east.log").write_text(LOG)
    labvm.cmd_resets(argparse.Namespace(name="r", host="east"))
    out = json.loads(capsys.readouterr().out)
    assert (out["host"], out["log"], out["boots"]) == ("hv-east", str(tmp_path / "r" / "hv-east.log"), 6)
    labvm.cmd_resets(argparse.Namespace(name="r", host="qw1"))  # no log yet: no boots
    assert json.loads(capsys.readouterr().out)["boots"] == 0


def test_the_image_writes_the_boot_marker_the_parser_reads(labvmserial, monkeypatch, tmp_path):
    """vm/vmpair-lab-net's boot_marker, run here with /proc's boot id and /dev/console as files."""
    import builtins  # pylint: disable=import-outside-toplevel
    import runpy  # pylint: disable=import-outside-toplevel

    script = runpy.run_path(str(LAB / "vm" / "vmpair-lab-net"), run_name="not_main")
    (tmp_path / "boot_id").write_text("6a0f1e2d-0000-4000-8000-000000000001\n")
    files = {"/proc/sys/kernel/random/boot_id": tmp_path / "boot_id", "/dev/console": tmp_path / "console"}
    real_open = builtins.open
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", lambda name, *a, **kw: real_open(files.get(name, name), *a, **kw))
        script["boot_marker"]("hv-west")
    console = (tmp_path / "console").read_text()
    assert console == "vmpair-lab: boot hv-west 6a0f1e2d-0000-4000-8000-000000000001\n"
    (boot,) = labvmserial.parse(console)
    assert (boot["host"], boot["boot_id"], boot["after"]) == (
        "hv-west",
        "6a0f1e2d-0000-4000-8000-000000000001",
        "start",
    )

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Replacing a VM's failed backing disk on one host (duplex.vmpair.mirror_disk, issue 23).

The DRBD state is the real-kernel lab's capture of guest1 protected on hv-east
(tests/unit/fixtures/state/bookworm/vm_ha: events2 and dump-xml of DRBD 8.4.11, drbd-utils 9.22),
with hv-east's volume crafted ``disk:Diskless`` as DRBD prints it after ``on-io-error detach``. The
tools' other answers (vgs, lvs) and the commands' results are faked at the process boundary: a
runner that answers from a table and records what ran; the device's size in sysfs is a file read
faked the same way (the lab showed blockdev cannot open a Secondary's device: "Wrong medium type"). The lab runs the whole path for
real (molecule/real-kernel/disk_failure.yml).
"""

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError, CommandResult
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import DrbdError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.size import backing_bytes
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import replace
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures

BOOKWORM = Captures("bookworm")
MIB = 1024**2
SERVED = 69592 * 1024  # the device's size in the capture (events2 size: KiB)
EXTENT = 4 * MIB


class Runner:
    """Answers each command from ``answers`` (first word(s) -> (rc, stdout, stderr)) and records it."""

    def __init__(self, answers, fail=None):
        self.answers = answers
        self.fail = fail or ()
        self.ran = []

    def run(self, cmd, data=None, check_rc=True):
        self.ran.append(list(cmd))
        rc, out, err = (1, "", "no answer") if tuple(cmd[:2]) in self.fail else self._answer(cmd)
        if check_rc and rc != 0:
            raise CommandError("%s failed (rc=%s): %s" % (" ".join(cmd), rc, err), cmd=cmd, rc=rc)
        return CommandResult(cmd, rc, out, err)

    def _answer(self, cmd):
        for size in (3, 2, 1):
            if tuple(cmd[:size]) in self.answers:
                return self.answers[tuple(cmd[:size])]
        return (0, "", "")


def answers(events2=None, lvs="", vg_free=8 * 1024 * MIB):
    outputs = BOOKWORM.outputs("vm_ha")
    text = outputs["events2"].stdout.replace("disk:UpToDate size", "disk:Diskless size")
    return {
        ("drbdsetup", "events2"): (0, events2(text) if events2 else text, ""),
        ("drbdadm", "dump-xml"): (0, outputs["dump_xml"].stdout, ""),
        ("vgs",): (0, "  vg_vms:%d:%d:%d\n" % (16 * 1024 * MIB, vg_free, EXTENT), ""),
        ("lvs",): (0, lvs, ""),
    }


@pytest.fixture(autouse=True)
def east(monkeypatch):
    monkeypatch.setattr(replace.os, "uname", lambda: ("Linux", "hv-east", "", "", ""))
    sizes = {"/sys/block/drbd100/size": "%d\n" % (SERVED // 512)}
    monkeypatch.setattr(replace, "read_file", sizes.get)


def test_a_failed_disk_gets_a_new_lv_new_metadata_and_is_attached_in_that_order():
    runner = Runner(answers())
    result = replace.run("guest1", runner)
    size = backing_bytes(SERVED, extent_bytes=EXTENT)
    expected = [
        ["lvcreate", "--yes", "--wipesignatures", "y", "-n", "guest1-vda-drbd", "-L", "%db" % size, "vg_vms"],
        ["drbdadm", "create-md", "--force", "vm-guest1/0"],
        ["drbdadm", "attach", "vm-guest1/0"],
    ]
    assert result["changed"] is True
    assert result["commands"] == expected
    assert runner.ran[-3:] == expected
    assert [(v["target"], v["backing"], v["peer"]) for v in result["replaced"]] == [
        ("vda", "/dev/vg_vms/guest1-vda-drbd", "hv-west")
    ]
    assert result["diff"]["before"] == "/dev/vg_vms/guest1-vda-drbd (disk vda): Diskless, LV absent\n"
    assert "full resync from hv-west" in result["diff"]["after"]
    # the new LV holds what the peer serves with DRBD's metadata after it
    assert size >= SERVED and size % EXTENT == 0


def test_check_mode_says_what_would_run_and_runs_nothing_that_changes():
    runner = Runner(answers())
    result = replace.run("guest1", runner, check_mode=True)
    assert result["changed"] is True and len(result["commands"]) == 3
    assert [c[0] for c in runner.ran] == ["drbdsetup", "drbdadm", "vgs", "lvs"]


def test_an_lv_that_survived_whole_is_reused():
    runner = Runner(answers(lvs="  guest1-vda-drbd:%d:-wi-a-----\n" % (80 * MIB)))
    result = replace.run("guest1", runner)
    assert result["commands"] == [
        ["drbdadm", "create-md", "--force", "vm-guest1/0"],
        ["drbdadm", "attach", "vm-guest1/0"],
    ]


def test_an_attached_disk_is_left_alone():
    runner = Runner(answers(events2=lambda t: t.replace("disk:Diskless", "disk:UpToDate")))
    result = replace.run("guest1", runner)
    assert result["changed"] is False and result["commands"] == []
    assert not [c for c in runner.ran if c[0] == "lvcreate" or c[1:2] in (["attach"], ["create-md"])]


@pytest.mark.parametrize(
    "events2, lvs, vg_free, words",
    [
        (
            lambda t: t.replace("connection:Connected", "connection:Connecting").replace(
                "peer-disk:UpToDate", "peer-disk:DUnknown"
            ),
            "",
            8 * 1024 * MIB,
            ["hv-east: disk vda of VM guest1", "no good copy", "hv-west's copy is DUnknown over a Connecting"],
        ),
        (
            None,
            "  guest1-vda-drbd:%d:-wi-a---p-\n" % (80 * MIB),
            8 * 1024 * MIB,
            ["on a missing physical volume", "vgreduce --removemissing --force vg_vms"],
        ),
        (None, "  guest1-vda-drbd:%d:-wi-a-----\n" % (8 * MIB), 8 * 1024 * MIB, ["less than the", "lvremove"]),
        (None, "", 16 * MIB, ["volume group vg_vms has 16.00 MiB free", "vgextend vg_vms"]),
    ],
    ids=["no-good-copy", "lv-on-missing-pv", "lv-too-small", "vg-full"],
)
def test_what_cannot_be_replaced_is_refused_with_the_fix_and_nothing_changes(events2, lvs, vg_free, words):
    runner = Runner(answers(events2=events2, lvs=lvs, vg_free=vg_free))
    with pytest.raises(DrbdError) as exc:
        replace.run("guest1", runner)
    for word in words:
        assert word in str(exc.value)
    assert str(exc.value).endswith("Nothing was changed.")
    assert [c[0] for c in runner.ran if c[0] not in ("drbdsetup", "drbdadm", "vgs", "lvs")] == []
    assert not [c for c in runner.ran if c[0] == "drbdadm" and c[1] != "dump-xml"]


def test_a_failed_attach_removes_the_lv_this_run_created():
    runner = Runner(answers(), fail={("drbdadm", "attach")})
    with pytest.raises(DrbdError) as exc:
        replace.run("guest1", runner)
    assert "The LV this run created was removed" in str(exc.value)
    assert runner.ran[-1] == ["lvremove", "--yes", "vg_vms/guest1-vda-drbd"]


def test_a_vm_that_is_not_protected_here_is_refused():
    runner = Runner(answers())
    with pytest.raises(DrbdError) as exc:
        replace.run("other", runner)
    assert "DRBD resource vm-other is not up here" in str(exc.value)


def test_only_the_named_disk_is_replaced():
    assert replace.run("guest1", Runner(answers()), disk="vdb")["commands"] == []
    assert len(replace.run("guest1", Runner(answers()), disk="vda")["commands"]) == 3

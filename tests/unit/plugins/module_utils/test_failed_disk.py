# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A VM's backing disk failed under it (issue 23): DRBD detached it (``on-io-error detach``) and the VM
goes on with the peer's copy. pair_info/validate name the host, the VM and its disk, say the VM runs
on the peer's copy, and give the fix (replace_disk.yml).

The states start from the real-kernel lab's capture of guest1 protected on hv-east
(tests/unit/fixtures/state/bookworm/vm_ha: DRBD 8.4.11, drbd-utils 9.22). The detached disk is
crafted from it, each change a field DRBD's events2 prints in that place: ``disk:Diskless`` on the
host whose disk failed, ``peer-disk:Diskless`` on its peer; a disconnected peer is
``connection:Connecting``. Faked only at the process boundary: the tools' outputs.
"""

from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health import mirror
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import GUEST, PAIR

BOOKWORM = Captures("bookworm")


def facts(edit, host="hv-east"):
    outputs = dict(BOOKWORM.outputs("vm_ha"))
    outputs["events2"] = Output(0, edit(outputs["events2"].stdout), "")
    return state.build_facts(outputs, pair=PAIR, host=host, vms=GUEST, read=BOOKWORM.reader("vm_ha"), uname=host)


def mirror_findings(result):
    return [f for f in result["findings"] if f["component"] == "mirror" and f["severity"] != "info"]


def test_the_captured_state_has_no_mirror_finding():
    assert mirror_findings(facts(lambda text: text)) == []


def test_a_failed_disk_names_the_host_the_vm_its_disk_and_the_peer_copy_it_runs_on():
    result = facts(lambda text: text.replace("disk:UpToDate size", "disk:Diskless size"))
    found = mirror_findings(result)
    assert [(f["severity"], f["subject"]) for f in found] == [("critical", "vm-guest1")]
    message, fix = found[0]["message"], found[0]["fix"]
    assert message.startswith("disk vda of VM guest1: the backing disk on hv-east (/dev/vg_vms/guest1-vda-drbd)")
    assert "the VM runs on hv-west's copy over the replication link, with no second copy" in message
    assert "duplex.vmpair.replace_disk -e vm=guest1 -e host=hv-east" in fix
    assert "First bring back" not in fix
    volume = [r for r in result["mirror"]["resources"] if r["name"] == "vm-guest1"][0]["volumes"][0]
    assert volume["backing"] == "/dev/vg_vms/guest1-vda-drbd"


def test_a_failed_disk_with_the_peer_gone_says_no_good_copy_is_reachable():
    def edit(text):
        text = text.replace("disk:UpToDate size", "disk:Diskless size")
        return text.replace("connection:Connected", "connection:Connecting").replace(
            "peer-disk:UpToDate", "peer-disk:DUnknown"
        )

    found = mirror_findings(facts(edit))
    failed = [f for f in found if "backing disk" in f["message"]]
    assert len(failed) == 1
    assert "no good copy is reachable from hv-east" in failed[0]["message"]
    assert failed[0]["fix"].startswith("First bring back hv-west and the replication link")
    # the lost connection is its own finding, as before
    assert any("is not connected to hv-west" in f["message"] for f in found)


def test_the_peer_of_a_failed_disk_reports_it_on_the_peer():
    # hv-west sees hv-east's disk Diskless: the peer-disk finding, which names the host to fix
    found = mirror_findings(facts(lambda text: text.replace("peer-disk:UpToDate", "peer-disk:Diskless")))
    assert len(found) == 1
    assert "the disk on hv-west is Diskless" in found[0]["message"]
    assert "backing disk" not in found[0]["message"]


def test_disk_target_reads_the_vm_disk_from_the_backing_lv():
    assert mirror.disk_target("guest1", "/dev/vg_vms/guest1-vda-drbd") == "vda"
    assert mirror.disk_target("web-1", "/dev/vg/web-1-sdb-drbd") == "sdb"
    assert mirror.disk_target("guest1", "/dev/vg/other-vda-drbd") is None
    assert mirror.disk_target("guest1", None) is None
    assert mirror.disk_target(None, "/dev/vg/guest1-vda-drbd") is None


def test_a_vm_the_site_model_does_not_list_is_named_from_its_mirror():
    # what the real-kernel lab met: validate run where vmpair_vms did not list the lab's guest
    outputs = dict(BOOKWORM.outputs("vm_ha"))
    outputs["events2"] = Output(0, outputs["events2"].stdout.replace("disk:UpToDate size", "disk:Diskless size"), "")
    result = state.build_facts(
        outputs, pair=PAIR, host="hv-east", vms=[], read=BOOKWORM.reader("vm_ha"), uname="hv-east"
    )
    found = [f for f in mirror_findings(result) if "backing disk" in f["message"]]
    assert found[0]["message"].startswith("disk vda of VM guest1: the backing disk on hv-east")
    assert "-e vm=guest1 -e host=hv-east" in found[0]["fix"]
    assert mirror.vm_of("vm-guest1") == "guest1"
    assert mirror.vm_of("vmpair-test") is None


def test_a_failed_disk_on_the_secondary_says_the_peer_holds_the_only_copy():
    # after the cluster moved the VM to the peer (the lab: about 30 s after DRBD detached the disk)
    def edit(text):
        text = text.replace("disk:UpToDate size", "disk:Diskless size")
        return (
            text.replace("role:Primary", "role:PRIMARY")
            .replace("role:Secondary", "role:Primary")
            .replace("role:PRIMARY", "role:Secondary")
        )

    found = [f for f in mirror_findings(facts(edit)) if "backing disk" in f["message"]]
    assert found[0]["message"].endswith("failed or is detached (Diskless): hv-west's copy is the only one")

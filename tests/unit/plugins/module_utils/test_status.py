# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""status.yml's table and summary (filters pair_status and status_summary) on pair_info results built from
the real-kernel lab's captures (tests/unit/fixtures/state/bookworm: vm_ha, vm_alone, mirror_standalone) and
the resync crafted from mirror_resync_source (test_resync_severity.py says how)."""

import pytest

from ansible_collections.duplex.vmpair.plugins.filter.pair_status import pair_status as pair_status_filter
from ansible_collections.duplex.vmpair.plugins.filter.status_summary import status_summary as summary_filter
from ansible_collections.duplex.vmpair.plugins.module_utils.health import status
from ansible_collections.duplex.vmpair.plugins.module_utils.health.report import pair_report
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_resync_severity import crafted
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import facts

# The keys of validate's per-pair report (playbooks/validate.yml's JSON file): status's must have them all.
REPORT_KEYS = {"pair", "redundant", "failed", "fail_on", "checked_from", "counts", "findings", "lines"}


def test_healthy_pair_table_names_every_vm_and_host():
    report = status.pair_status("pair_lab", {"hv-east": facts("vm_ha", "hv-east")})
    assert set(report) == REPORT_KEYS | {"status"}
    assert report["fail_on"] == "never" and report["failed"] is False and report["redundant"] is True
    assert report["lines"] == [
        "pair pair_lab (read on hv-east): every promised redundancy is in place",
        "  VM      LEVEL  RUNS ON  PREFERRED  DISK         MIRROR (here/peer)           FAILOVER NOW",
        "  guest1  ha     hv-east  hv-east    vm-guest1/0  Connected UpToDate/UpToDate  yes, to hv-west",
        "  hosts: hv-east online; hv-west online, DC",
        "  links: link 0 up; link 1 up; bond0 (repl) 2/2 members up",
        "  witness: vote counted (qnetd 172.30.4.30:5403, Connected, TLS)",
        "  fencing: enabled; fence_hv-east (fence_redfish) started on hv-west; fence_hv-west (fence_redfish) "
        "started on hv-east",
    ]
    vm = report["status"]["vms"][0]
    assert (vm["name"], vm["running_on"], vm["can_fail_over"], vm["failover_to"]) == (
        "guest1",
        "hv-east",
        True,
        "hv-west",
    )


def test_after_a_failover_the_table_says_where_it_runs_and_why_it_cannot_fail_over():
    report = status.pair_status("pair_lab", {"hv-west": facts("vm_alone", "hv-west")})
    lines = report["lines"]
    assert lines[0] == "pair pair_lab (read on hv-west): NOT REDUNDANT: 5 critical, 3 warning"
    assert lines[2].split() == (
        "guest1 ha hv-west hv-east vm-guest1/0 Connecting UpToDate/Outdated no: hv-east is offline".split()
    )
    assert "  hosts: hv-east OFFLINE; hv-west online, DC" in lines
    assert "  links: link 0 DOWN to hv-east; link 1 DOWN to hv-east; bond0 (repl) 2/2 members up" in lines
    assert any(
        line.startswith("  fencing: enabled;") and "last action: reboot of hv-east, success" in line for line in lines
    )
    assert "  CRITICAL vm guest1: VM guest1 (ha, on hv-west) cannot fail over: hv-east is offline" in lines


def test_a_resyncing_vm_shows_percent_and_time_left_and_when_redundancy_returns():
    report = status.pair_status("pair_lab", {"hv-east": crafted("mirror_resync_source", "hv-east", swap=True)})
    row = report["lines"][2]
    assert "SyncSource UpToDate/Inconsistent, 13.3 % done, 1 min 22 s left" in row
    assert row.endswith("no: its copy resyncs; redundancy returns in about 2 min")
    assert report["counts"] == {"critical": 0, "warning": 2, "info": 0}
    assert status.status_summary([report]) == (
        "status: 1 pair(s); 1 VM(s): 1 protected, 0 can fail over now; 1 not redundant (pair_lab): 0 critical, "
        "2 warning; 1 VM(s) resyncing, redundancy returns in about 2 min"
    )


def test_a_stalled_resync_is_marked_in_the_table():
    result = crafted(
        "mirror_resync_source",
        "hv-east",
        swap=True,
        events2=lambda t: t.replace("replication:SyncSource", "replication:PausedSyncS"),
        proc=lambda p: p.replace("cs:SyncSource", "cs:PausedSyncS"),
    )
    row = status.pair_status("pair_lab", {"hv-east": result})["lines"][2]
    assert "PausedSyncS UpToDate/Inconsistent" in row and "(STALLED: the resync is paused" in row
    assert "no: the copy on hv-west is not UpToDate" in row


def test_a_pair_no_host_answered_is_unknown_and_critical():
    report = status.pair_status("pair_web", {}, ["hv-north", "hv-south"])
    assert report["lines"] == ["pair pair_web: no host answered (hv-north, hv-south): its state is unknown"]
    assert report["counts"]["critical"] == 2 and report["status"]["read_from"] is None
    healthy = status.pair_status("pair_lab", {"hv-east": facts("vm_ha", "hv-east")})
    assert status.status_summary([healthy, report]) == (
        "status: 2 pair(s); 1 VM(s): 1 protected, 1 can fail over now; 1 not redundant (pair_web): 2 critical, "
        "0 warning; state unknown for pair_web"
    )


def test_summary_of_healthy_pairs_and_the_same_findings_as_validate_from_that_host():
    seen = {"hv-east": facts("vm_ha", "hv-east")}
    report = status.pair_status("pair_lab", seen)
    assert report["findings"] == pair_report("pair_lab", seen, [], "never")["findings"]
    assert (
        status.status_summary([report]) == "status: 1 pair(s); 1 VM(s): 1 protected, 1 can fail over now; all redundant"
    )


def test_a_pair_without_vms():
    report = status.pair_status("pair_lab", {"hv-east": facts("vm_ha", "hv-east", vms=[])})
    assert report["lines"][1] == "  no VM in vmpair_vms"


def test_filters_check_their_input():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="must map"):
        pair_status_filter(["x"], "p")
    with pytest.raises(AnsibleFilterError, match="must be the list"):
        summary_filter("x")
    report = pair_status_filter({"hv-east": facts("vm_ha", "hv-east")}, "pair_lab")
    assert summary_filter([report]).startswith("status: 1 pair(s)")

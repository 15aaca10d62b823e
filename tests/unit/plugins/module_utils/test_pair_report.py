# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate's per-pair report: both hosts' findings merged, a silent host, the fail threshold."""

import pytest

from ansible_collections.duplex.vmpair.plugins.filter.pair_report import pair_report as pair_report_filter
from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import finding
from ansible_collections.duplex.vmpair.plugins.module_utils.health.report import pair_report

LINK = finding("warning", "cluster", "link 1", "link 1 to hv-west is down", "Check the cable.")
LINK_WEST = finding("warning", "cluster", "link 1", "link 1 to hv-east is down", "Check the cable.")
WITNESS = finding("critical", "witness", "qw1", "the qdevice vote is missing (...)", "Check qnetd.")
FENCED = finding("info", "fencing", "hv-west", "last fencing action: reboot of hv-west", "Nothing to do.")


def test_healthy_pair_is_one_green_line():
    report = pair_report("east-west", {"hv-east": {"findings": []}, "hv-west": {"findings": [FENCED]}})
    assert report["redundant"] is True and report["failed"] is False
    assert report["lines"][0] == "pair east-west: every promised redundancy is in place (checked from hv-east, hv-west)"
    assert report["counts"] == {"critical": 0, "warning": 0, "info": 1}


def test_findings_of_both_hosts_merge_worst_first():
    report = pair_report(
        "east-west",
        {"hv-east": {"findings": [LINK, WITNESS]}, "hv-west": {"findings": [LINK_WEST, WITNESS]}},
    )
    assert [(f["message"], f["hosts"]) for f in report["findings"]] == [
        ("the qdevice vote is missing (...)", ["hv-east", "hv-west"]),
        ("link 1 to hv-east is down", ["hv-west"]),
        ("link 1 to hv-west is down", ["hv-east"]),
    ]
    assert report["lines"][0] == "pair east-west: NOT REDUNDANT: 1 critical, 2 warning (checked from hv-east, hv-west)"
    assert report["lines"][1] == "CRITICAL witness qw1: the qdevice vote is missing (...) [hv-east, hv-west]"
    assert report["lines"][2] == "    fix: Check qnetd."
    assert report["failed"] is True


@pytest.mark.parametrize(
    "fail_on, found, failed",
    [
        ("warning", [LINK], True),
        ("critical", [LINK], False),
        ("critical", [LINK, WITNESS], True),
        ("never", [WITNESS], False),
        ("warning", [FENCED], False),
    ],
)
def test_fail_threshold(fail_on, found, failed):
    report = pair_report("p", {"a": {"findings": found}}, fail_on=fail_on)
    assert report["failed"] is failed
    assert report["redundant"] is (found == [FENCED])


def test_a_host_that_did_not_answer_is_critical():
    report = pair_report("east-west", {"hv-east": {"findings": []}}, missing=["hv-west"])
    assert report["redundant"] is False and report["failed"] is True
    assert report["findings"][0]["component"] == "host"
    assert report["findings"][0]["message"].startswith("hv-west did not answer")
    assert report["checked_from"] == ["hv-east"]


def test_unknown_threshold_is_refused_by_the_filter():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="fail_on must be one of critical, warning, never"):
        pair_report_filter({"a": {"findings": []}}, "p", [], "sometimes")
    with pytest.raises(AnsibleFilterError, match="must map each host"):
        pair_report_filter([], "p")

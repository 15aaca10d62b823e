# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate.yml end to end with the real ansible-playbook: one host answers, the other does not.

hv-east runs on this machine (connection local): pair_info reads its real tools, none of whose
daemons run here (corosync, pacemaker), so it finds the cluster down. hv-west is an ssh host on a
closed port: UNREACHABLE. The pair's report is built on hv-east; it must list the silent host, be
written to the JSON file, and fail the run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import INVENTORY, ansible_playbook

PLAYBOOKS = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks"))
HALF_THERE = INVENTORY.replace(
    "            hv-east: {vmpair_site: east}\n            hv-west: {vmpair_site: west}\n",
    "            hv-east: {vmpair_site: east, ansible_connection: local, ansible_python_interpreter: '{{ ansible_playbook_python }}'}\n"
    "            hv-west: {vmpair_site: west, ansible_host: 127.0.0.1, ansible_port: 9, ansible_ssh_timeout: 3}\n",
)


def test_report_of_a_pair_with_a_silent_host(tmp_path):
    assert "ansible_port: 9" in HALF_THERE
    report_file = tmp_path / "out" / "validate.json"
    proc = ansible_playbook(
        tmp_path,
        HALF_THERE,
        os.path.join(PLAYBOOKS, "validate.yml"),
        "-e",
        "vmpair_validate_json_report=%s" % report_file,
        "-e",
        "vmpair_validate_fail_on=critical",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "UNREACHABLE" in out and "hv-west" in out
    document = json.loads(report_file.read_text())
    # The schema status.yml writes too (playbooks/tasks/json_report.yml, tests/unit/plugins/test_status_playbook.py).
    assert set(document) == {"generated", "fail_on", "redundant", "pairs"}
    assert set(document["pairs"]["pair_mail"]) == {
        "pair", "redundant", "failed", "fail_on", "checked_from", "counts", "findings", "lines"
    }  # fmt: skip
    assert document["redundant"] is False and document["fail_on"] == "critical"
    report = document["pairs"]["pair_mail"]
    assert report["checked_from"] == ["hv-east"] and report["failed"] is True
    messages = [f["message"] for f in report["findings"]]
    assert "hv-west did not answer (unreachable, or pair_info failed there): its side is unknown" in messages
    assert any(m.startswith("corosync is not running or not reachable on this host") for m in messages)
    assert report["counts"]["critical"] >= 2
    assert report["lines"][0].startswith("pair pair_mail: NOT REDUNDANT: ")
    assert report["lines"][0] in out  # the report is printed too
    assert "Fail when a finding reaches vmpair_validate_fail_on" in out


def test_an_unknown_threshold_is_refused_before_any_host_is_read(tmp_path):
    proc = ansible_playbook(
        tmp_path, INVENTORY, os.path.join(PLAYBOOKS, "validate.yml"), "-e", "vmpair_validate_fail_on=sometimes"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "vmpair_validate_fail_on is sometimes. Fix: use critical" in out
    assert "UNREACHABLE" not in out

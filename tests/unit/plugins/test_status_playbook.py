# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""status.yml end to end with the real ansible-playbook, as validate's test runs validate.yml.

The pair host that answers runs on this machine (connection local): pair_info reads its real tools,
none of whose daemons run here, so it finds the cluster down; the other is an ssh host on a closed
port: UNREACHABLE. status must read the pair once (on its first host that answers, the peer only when
that one does not), print the table with every host, write its JSON report (written by
playbooks/tasks/json_report.yml, which validate.yml includes too) although its plays run in check mode,
and fail only when no pair is in the run, naming vmpair_pairs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import (
    INVENTORY,
    ansible_command,
    ansible_env,
)
from ansible_collections.duplex.vmpair.tests.unit.plugins.test_validate_playbook import HALF_THERE

PLAYBOOKS = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks"))
LOCAL = "{vmpair_site: %s, ansible_connection: local, ansible_python_interpreter: '{{ ansible_playbook_python }}'}"
SILENT = "{vmpair_site: %s, ansible_host: 127.0.0.1, ansible_port: 9, ansible_ssh_timeout: 3}"
# The first host is silent, its peer answers.
FIRST_SILENT = INVENTORY.replace(
    "            hv-east: {vmpair_site: east}\n            hv-west: {vmpair_site: west}\n",
    "            hv-east: %s\n            hv-west: %s\n" % (SILENT % "east", LOCAL % "west"),
)
# The keys of validate's JSON report (validate.yml and status.yml share playbooks/tasks/json_report.yml).
DOCUMENT_KEYS = {"generated", "fail_on", "redundant", "pairs"}
REPORT_KEYS = {"pair", "redundant", "failed", "fail_on", "checked_from", "counts", "findings", "lines"}


def pair_info_runs(out):
    """The hosts pair_info ran on ("ok:"/"fatal:"/"UNREACHABLE" lines of its two tasks)."""
    hosts = []
    for block in re.split(r"\n(?=TASK \[)", out):
        if block.startswith(("TASK [Read the pair's live state", "TASK [Read it on the peer")):
            hosts += re.findall(r"^(?:ok|changed|fatal): \[([^\]]+)\]", block, re.M)
    return hosts


def run_status(tmp_path, inventory, *args):
    """status.yml run by the real ansible-playbook (a longer timeout than test_site_model's: two plays)."""
    (tmp_path / "inventory.yml").write_text(inventory)
    report_file = tmp_path / "out" / "status.json"
    cmd = [
        ansible_command("ansible-playbook"),
        "-i",
        str(tmp_path / "inventory.yml"),
        os.path.join(PLAYBOOKS, "status.yml"),
    ]
    cmd += ["-e", "vmpair_status_json_report=%s" % report_file] + list(args)
    proc = subprocess.run(cmd, env=ansible_env(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    return proc, proc.stdout + proc.stderr, report_file


def test_status_reads_the_pair_once_and_writes_the_json_report(tmp_path):
    # The documented command: the JSON file is written although the play runs in check mode (check_mode: true).
    proc, out, report_file = run_status(tmp_path, HALF_THERE)
    assert pair_info_runs(out) == ["hv-east"], out  # once, on the first host; hv-west is never asked
    assert "UNREACHABLE" not in out, out
    assert proc.returncode == 0, out  # status shows, it does not fail on findings
    assert "pair pair_mail (read on hv-east): NOT REDUNDANT: " in out
    assert "hosts: unknown (pacemaker does not answer" in out
    assert re.search(
        r"status: 1 pair\(s\); 0 VM\(s\): 0 protected, 0 can fail over now; 1 not redundant \(pair_mail\)", out
    )
    document = json.loads(report_file.read_text())
    assert set(document) == DOCUMENT_KEYS and document["fail_on"] == "never" and document["redundant"] is False
    report = document["pairs"]["pair_mail"]
    assert REPORT_KEYS <= set(report) and report["checked_from"] == ["hv-east"] and report["failed"] is False
    assert set(report) == REPORT_KEYS | {"status"}  # validate's keys (test_validate_playbook reads its file)
    assert report["status"]["read_from"] == "hv-east"
    assert report["lines"][0].startswith("pair pair_mail (read on hv-east)")


def test_the_peer_is_read_when_the_first_host_does_not_answer(tmp_path):
    proc, out, report_file = run_status(tmp_path, FIRST_SILENT)
    # Tried on hv-east (UNREACHABLE), then read on hv-west.
    assert "fatal: [hv-east]: UNREACHABLE!" in out and pair_info_runs(out) == ["hv-east", "hv-west"], out
    assert proc.returncode != 0, out  # ansible-playbook's code for an unreachable host
    report = json.loads(report_file.read_text())["pairs"]["pair_mail"]
    assert report["checked_from"] == ["hv-west"]
    assert "hv-east did not answer (unreachable, or pair_info failed there): its side is unknown" in [
        f["message"] for f in report["findings"]
    ]
    assert "pair pair_mail (read on hv-west)" in out


def test_a_run_without_pairs_fails_naming_vmpair_pairs(tmp_path):
    proc, out, report_file = run_status(tmp_path, HALF_THERE, "--limit", "qw1")
    assert proc.returncode != 0, out
    assert "No pair was read: no host of the group vmpair_pairs is in this run" in out, out
    assert not report_file.exists()

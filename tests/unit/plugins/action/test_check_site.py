# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_site playbook run by the real ansible-playbook: exit codes, strict mode, the JSON and
JUnit reports at the paths the user chooses, unknown variables, and warnings during a deployment."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import yaml

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import (
    INVENTORY,
    REPO_ROOT,
    ansible_playbook,
    run,
)
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_site_report import check_junit_shape

CHECK_SITE = os.path.join(REPO_ROOT, "playbooks", "check_site.yml")


def inventory(change=None):
    data = yaml.safe_load(INVENTORY)
    if change:
        change(data, data["all"]["children"]["vmpair_pairs"]["children"]["pair_mail"])
    return yaml.safe_dump(data)


def check_site(tmp_path, text, *args):
    return ansible_playbook(tmp_path, text, CHECK_SITE, *args)


def same_site_without_witness(data, pair):
    del data["all"]["children"]["vmpair_witnesses"]
    del pair["vars"]["vmpair_witness"]
    pair["hosts"]["hv-west"]["vmpair_site"] = "east"


def test_reports_are_written_where_the_user_says(tmp_path):
    json_path, junit_path = tmp_path / "out" / "ci" / "site.json", tmp_path / "out" / "site.xml"
    proc = check_site(
        tmp_path,
        inventory(),
        "-e",
        "vmpair_check_json_report=%s" % json_path,
        "-e",
        "vmpair_check_junit_report=%s" % junit_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(json_path.read_text())
    assert report["passed"] is True
    assert report["counts"]["pairs"] == 1 and report["counts"]["errors"] == 0
    assert report["inventory"] == [str(tmp_path / "inventory.yml")]
    root = check_junit_shape(junit_path.read_text())
    assert (root.get("tests"), root.get("failures")) == ("12", "0")


def test_errors_fail_with_findings_grouped_by_pair_and_the_reports_still_written(tmp_path):
    def broken(_data, pair):
        pair["vars"]["vmpair_links"][0]["rtt_ms"] = 9
        pair["vars"]["vmpair_vms"] = [{"name": "db1", "level": "ha", "vcpus": 64}]
        pair["hosts"]["hv-east"]["vmpair_host_capacity"] = {"vcpus": 48}

    json_path, junit_path = tmp_path / "site.json", tmp_path / "site.xml"
    proc = check_site(
        tmp_path,
        inventory(broken),
        "-e",
        "vmpair_check_json_report=%s" % json_path,
        "-e",
        "vmpair_check_junit_report=%s" % junit_path,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout
    assert '"pair pair_mail: 2 error(s), 0 warning(s)"' in out
    assert "ERROR: pair pair_mail host hv-east: vmpair_host_capacity.vcpus: the pair's 1 VM(s) need 64 vCPUs" in out
    assert "ERROR: pair pair_mail: vmpair_links[link0].rtt_ms: the link replicates level ha VMs (db1)" in out
    assert out.index("pair pair_mail: 2 error(s)") < out.index("FAILED: 2 error(s), 0 warning(s); 1 pair(s)")
    assert json.loads(json_path.read_text())["counts"]["errors"] == 2
    root = check_junit_shape(junit_path.read_text())
    failed = sorted(c.get("name") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failed == ["capacity", "latency"]


def test_warnings_pass_unless_strict(tmp_path):
    text = inventory(same_site_without_witness)
    proc = check_site(tmp_path, text)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING: pair pair_mail: vmpair_witness: the pair has no witness, so it runs corosync two_node" in (
        proc.stdout
    )
    assert "PASSED: 0 error(s), 1 warning(s)" in proc.stdout
    (tmp_path / "strict").mkdir()
    proc = check_site(tmp_path / "strict", text, "-e", "vmpair_check_strict=true")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "FAILED (vmpair_check_strict: warnings count as errors): 0 error(s), 1 warning(s)" in proc.stdout


def test_strict_can_be_set_in_the_inventory(tmp_path):
    def strict(data, pair):
        same_site_without_witness(data, pair)
        data["all"]["vars"] = {"vmpair_check_strict": True}

    proc = check_site(tmp_path, inventory(strict))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "FAILED (vmpair_check_strict" in proc.stdout


def test_a_misspelt_role_option_is_reported_with_the_closest_name(tmp_path):
    def typo(_data, pair):
        pair["vars"]["vmpair_drbd_resync_rte"] = "200M"
        pair["hosts"]["hv-west"]["vmpair_nodename"] = "west"

    proc = check_site(tmp_path, inventory(typo))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "ERROR: pair pair_mail: vmpair_drbd_resync_rte: is not a variable of duplex.vmpair, so nothing reads it; "
        "the closest known name is vmpair_drbd_resync_rate. Fix: Rename it to vmpair_drbd_resync_rate." in proc.stdout
    )
    assert "ERROR: pair pair_mail host hv-west: vmpair_nodename: " in proc.stdout
    assert "the closest known name is vmpair_node_name" in proc.stdout


def test_a_deployment_shows_warnings_and_still_describes_the_pair(tmp_path):
    proc, results = run(tmp_path, inventory(same_site_without_witness))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results["hv-east"]["pair"]["two_node"] is True
    assert "[WARNING]: pair pair_mail: vmpair_witness: the pair has no witness" in proc.stdout + proc.stderr


def test_a_deployment_stops_on_an_unknown_variable(tmp_path):
    def typo(_data, pair):
        pair["vars"]["vmpair_fence_dealy"] = 30

    proc, results = run(tmp_path, inventory(typo))
    assert proc.returncode != 0
    assert results == {}
    assert "The site inventory has 1 problem(s)" in proc.stdout
    assert "the closest known name is vmpair_fence_delay" in proc.stdout

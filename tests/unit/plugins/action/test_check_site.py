# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_site playbook run by the real ansible-playbook: exit codes, strict mode, the JSON and
JUnit reports at the paths the user chooses, unknown variables, and warnings during a deployment."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

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
    pair["vars"].pop("vmpair_watchdog_fencing", None)  # it needs the witness
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


def test_no_managed_firewall_is_a_warning_in_check_site_and_in_a_deployment(tmp_path):
    def no_firewall(data, pair):
        pair["hosts"]["hv-east"]["vmpair_firewall"] = "none"
        data["all"]["children"]["vmpair_witnesses"]["hosts"]["qw1"]["vmpair_firewall"] = "none"

    text = inventory(no_firewall)
    proc = check_site(tmp_path, text)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING: pair pair_mail host hv-east: vmpair_firewall: is none: the roles manage no firewall on this " in (
        proc.stdout
    )
    assert "WARNING: witness qw1: vmpair_firewall: is none" in proc.stdout
    assert "PASSED: 0 error(s), 2 warning(s)" in proc.stdout
    (tmp_path / "deploy").mkdir()
    proc, results = run(tmp_path / "deploy", text)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = proc.stdout + proc.stderr
    assert "[WARNING]: pair pair_mail host hv-east: vmpair_firewall: is none" in shown
    assert "[WARNING]: witness qw1: vmpair_firewall: is none" in shown
    assert results["hv-east"]["pair"]["firewall"]["hv-east"][0]["closed"] is True


def test_a_deployment_stops_on_an_unknown_variable(tmp_path):
    def typo(_data, pair):
        pair["vars"]["vmpair_fence_dealy"] = 30

    proc, results = run(tmp_path, inventory(typo))
    assert proc.returncode != 0
    assert results == {}
    assert "The site inventory has 1 problem(s)" in proc.stdout
    assert "the closest known name is vmpair_fence_delay" in proc.stdout


# A playbook's options given with -e (or an AWX survey, which passes extra variables) are not
# inventory variables: docs/operations.md documents these for rolling_update.yml.
ROLLING_OPTIONS = {
    "vmpair_rolling_pairs": 1,
    "vmpair_rolling_reboot": "never",
    "vmpair_rolling_apt_upgrade": "no",
    "vmpair_rolling_update_tasks": "/srv/site/update.yml",
    "vmpair_reboot_timeout": 900,
}


def test_a_playbooks_options_given_with_extra_vars_are_not_inventory_mistakes(tmp_path):
    # vmpair_site_label: an option of the site's own playbooks, not of duplex.vmpair, given with -e.
    proc, results = run(tmp_path, inventory(), dict(ROLLING_OPTIONS, vmpair_site_label="x"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(results) == ["hv-east", "hv-west", "qw1"]
    assert "is not a variable" not in proc.stdout


def test_an_unknown_name_in_the_all_group_is_still_an_inventory_mistake(tmp_path):
    def everywhere(data, _pair):
        data["all"]["vars"] = {"vmpair_site_label": "x"}

    proc, results = run(tmp_path, inventory(everywhere), ROLLING_OPTIONS)
    assert proc.returncode != 0
    assert results == {}
    assert "pair pair_mail: vmpair_site_label: is not a variable of duplex.vmpair, so nothing reads it." in proc.stdout
    assert "vmpair_rolling" not in proc.stdout


def test_rolling_update_with_its_documented_options_gets_past_the_site_model(tmp_path):
    # The command of docs/operations.md. The hosts do not answer (TEST-NET): the run stops at the
    # first task that needs a host, after the site model and the option checks passed.
    def unreachable(_data, pair):
        for host in pair["hosts"].values():
            host.update(ansible_host="192.0.2.250", ansible_timeout=1)

    args = []
    for key, value in ROLLING_OPTIONS.items():
        args += ["-e", "%s=%s" % (key, value)]
    proc = ansible_playbook(
        tmp_path, inventory(unreachable), os.path.join(REPO_ROOT, "playbooks", "rolling_update.yml"), *args
    )
    out = proc.stdout
    assert "is not a variable" not in out, out
    validated = out.split("TASK [Validate the site and describe this host's pair]", 1)[1].split("TASK [", 1)[0]
    assert "ok: [hv-east]" in validated and "ok: [hv-west]" in validated, out
    assert "TASK [Check the options before anything changes]" in out
    assert "UNREACHABLE!" in out, out


def ansible_vault(tmp_path, *args):
    """Run the real ansible-vault of this Python with a password file; return (stdout, the password file)."""
    password = tmp_path / "vault-password"
    password.write_text("vmpair-test-password\n")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-vault")] + list(args)
    cmd += ["--vault-password-file", str(password)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout, password


def fenced_with(east, west):
    def change(_data, pair):
        pair["vars"]["vmpair_fencing"]["hv-east"]["options"]["password"] = east
        pair["vars"]["vmpair_fencing"]["hv-west"]["options"]["password"] = west

    return change


def test_a_vars_file_vaulted_whole_is_named_when_the_password_is_missing(tmp_path):
    # docs/quickstart.md: `ansible-vault create group_vars/vmpair_pairs/vault.yml`; the password is
    # given to ansible-vault only, not to check_site.
    vault_file = tmp_path / "group_vars" / "vmpair_pairs" / "vault.yml"
    vault_file.parent.mkdir(parents=True)
    vault_file.write_text("vault_ipmi_east: east-bmc-secret\nvault_ipmi_west: west-bmc-secret\n")
    _out, password = ansible_vault(tmp_path, "encrypt", str(vault_file))
    assert vault_file.read_text().startswith("$ANSIBLE_VAULT;")
    text = inventory(fenced_with("{{ vault_ipmi_east }}", "{{ vault_ipmi_west }}"))
    json_path = tmp_path / "site.json"
    proc = check_site(tmp_path, text, "-e", "vmpair_check_json_report=%s" % json_path)
    out = proc.stdout
    assert proc.returncode == 2, out + proc.stderr
    assert "is missing" not in out
    assert (
        "ERROR: pair pair_mail: inventory: the variables of hv-east and hv-west cannot be read, so nothing else of "
        "this pair was checked: %s is encrypted with ansible-vault as a whole file, and Ansible cannot decrypt it "
        "without the vault password" % vault_file in out
    )
    assert "Fix: Give the vault password (--ask-vault-pass, --vault-password-file or --vault-id" in out
    assert "FAILED: 1 error(s), 0 warning(s)" in out
    [finding] = json.loads(json_path.read_text())["findings"]
    assert (finding["pair"], finding["variable"], finding["check"]) == ("pair_mail", "inventory", "pair")
    # With the password everything is read and checked; the passwords themselves are never templated.
    again = tmp_path / "with-password"
    shutil.copytree(tmp_path / "group_vars", again / "group_vars")
    proc = check_site(again, text, "--vault-password-file", str(password))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED: 0 error(s), 0 warning(s)" in proc.stdout
    assert "bmc-secret" not in proc.stdout + proc.stderr


def test_single_vaulted_values_need_no_password_and_are_never_decrypted(tmp_path):
    # ansible-vault encrypt_string: the values stay encrypted, the check runs without the password.
    (tmp_path / "host_vars").mkdir()
    for host in ("hv-east", "hv-west"):
        vaulted, _password = ansible_vault(tmp_path, "encrypt_string", "bmc-secret", "--name", "vault_bmc")
        (tmp_path / "host_vars" / ("%s.yml" % host)).write_text(vaulted)
    proc = check_site(tmp_path, inventory(fenced_with("{{ vault_bmc }}", "{{ vault_bmc }}")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED: 0 error(s), 0 warning(s)" in proc.stdout

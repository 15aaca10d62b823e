# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate.yml's metrics file (playbooks/tasks/metrics.yml) with the real ansible-playbook.

The pair of test_validate_playbook.py: hv-east runs on this machine (connection local), where pair_info
finds no cluster daemon; hv-west is an ssh host on a closed port (UNREACHABLE). The textfile directory is
a folder of the test, given with vmpair_metrics_textfile_dir. The file is read back with prometheus_client's
text parser."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import ansible_command, ansible_env
from ansible_collections.duplex.vmpair.tests.unit.plugins.test_validate_playbook import HALF_THERE, PLAYBOOKS

VALIDATE = os.path.join(PLAYBOOKS, "validate.yml")


def validate(tmp_path, textfile_dir, *args):
    """validate.yml on the half-there pair (test_site_model.ansible_playbook, with room for a busy machine)."""
    (tmp_path / "inventory.yml").write_text(HALF_THERE)
    cmd = [ansible_command("ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), VALIDATE]
    cmd += ["-e", "vmpair_metrics_textfile_dir=%s" % textfile_dir, *args]
    proc = subprocess.run(cmd, env=ansible_env(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    return proc, proc.stdout + proc.stderr


def samples(path):
    text = path.read_text()
    assert text.endswith("\n")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_written_where_the_directory_exists_even_when_the_run_fails(tmp_path):
    textfile = tmp_path / "node-exporter"
    textfile.mkdir()
    before = time.time()
    proc, out = validate(tmp_path, textfile, "-e", "vmpair_validate_fail_on=critical")
    after = time.time()
    # The run fails (the silent host, no cluster here), after the metrics are in place.
    assert proc.returncode != 0, out
    assert "Fail when a finding reaches vmpair_validate_fail_on" in out
    assert sorted(os.listdir(textfile)) == ["duplex_vmpair.prom"]  # no .tmp left behind
    prom = textfile / "duplex_vmpair.prom"
    assert stat.S_IMODE(prom.stat().st_mode) == 0o644
    got = samples(prom)
    pair = ("pair", "pair_mail")
    assert got[("duplex_vmpair_host_checked", (("host", "hv-east"), pair))] == 1
    assert got[("duplex_vmpair_host_checked", (("host", "hv-west"), pair))] == 0
    assert got[("duplex_vmpair_quorate", (("host", "hv-east"), pair))] == 0
    assert got[("duplex_vmpair_witness_vote", (("host", "hv-east"), pair))] == 0
    assert got[("duplex_vmpair_pair_redundant", (pair,))] == 0
    assert got[("duplex_vmpair_findings", (pair, ("severity", "critical")))] >= 2
    assert before <= got[("duplex_vmpair_last_check_timestamp_seconds", (pair,))] <= after
    # The site model's links, down from hv-east, by their names.
    assert got[("duplex_vmpair_link_up", (("host", "hv-east"), ("link", "link1"), ("linknumber", "1"), pair, ("peer", "hv-west")))] == 0  # fmt: skip
    assert not [key for key in got if ("host", "hv-west") in key[1] and key[0] != "duplex_vmpair_host_checked"]


def test_no_metrics_and_no_error_where_the_directory_is_missing(tmp_path):
    proc, out = validate(tmp_path, tmp_path / "absent", "-e", "vmpair_validate_fail_on=never")
    # hv-west is UNREACHABLE: the run's exit code says so; hv-east must not fail on the metrics.
    assert "hv-west" in out and "UNREACHABLE" in out
    assert "failed=0" in [line for line in out.splitlines() if line.startswith("hv-east")][-1], out
    assert "Write the pair's metrics beside the file node_exporter reads" in out
    assert not (tmp_path / "absent").exists()


def test_check_mode_writes_no_metrics(tmp_path):
    textfile = tmp_path / "node-exporter"
    textfile.mkdir()
    proc, out = validate(tmp_path, textfile, "-e", "vmpair_validate_fail_on=never", "--check")
    assert "failed=0" in [line for line in out.splitlines() if line.startswith("hv-east")][-1], out
    assert os.listdir(textfile) == []


def test_metrics_true_refuses_a_missing_directory(tmp_path):
    proc, out = validate(
        tmp_path, tmp_path / "absent", "-e", "vmpair_metrics=true", "-e", "vmpair_validate_fail_on=never"
    )
    assert proc.returncode != 0, out
    assert "hv-east: vmpair_metrics is true, but %s (vmpair_metrics_textfile_dir) is not a directory" % (
        tmp_path / "absent"
    ) in " ".join(out.split())
    assert "Fix: install prometheus-node-exporter" in out


def test_an_unknown_metrics_setting_is_refused(tmp_path):
    proc, out = validate(
        tmp_path, "relative/dir", "-e", "vmpair_metrics=sometimes", "-e", "vmpair_validate_fail_on=never"
    )
    assert proc.returncode != 0, out
    flat = " ".join(out.split())
    assert "hv-east: vmpair_metrics is sometimes, vmpair_metrics_textfile_dir is relative/dir. Fix:" in flat

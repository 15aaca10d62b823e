# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""protect.yml's level (-e level, the AWX survey's Level) and a VM's vmpair_vms level, run by the real
ansible-playbook: check_site and protect refuse the same levels with the same words, a refused -e level stops
the run in its validation stage (no host is contacted), and an -e level that replaces a VM's own level is a
warning for that VM and shows in the summary.

The pair's hosts do not answer (ssh to 127.0.0.1 port 1): a run that gets past the validation stage ends
UNREACHABLE at the first task that needs a host, so "no host task ran" is a recap without UNREACHABLE."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import (
    INVENTORY,
    REPO_ROOT,
    ansible_playbook,
)

PROTECT = os.path.join(REPO_ROOT, "playbooks", "protect.yml")
CHECK_SITE = os.path.join(REPO_ROOT, "playbooks", "check_site.yml")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
UNREACHABLE = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_ssh_retries": 0, "ansible_ssh_timeout": 3}
VMS = [
    {"name": "web1", "level": "ha", "preferred_host": "hv-east"},
    {"name": "db1", "level": "recovery", "preferred_host": "hv-west"},
]
FT_REFUSED_BY_PROTECT = (
    "-e level=ft (in AWX the survey's Level): level ft (fault tolerance) is not available yet, so protect.yml "
    "refuses it. Nothing was changed. Fix: Use ha, or leave -e level out to keep each VM's vmpair_vms level."
)


def inventory(vms=None):
    data = yaml.safe_load(INVENTORY)
    data["all"]["vars"] = UNREACHABLE
    data["all"]["children"]["vmpair_pairs"]["children"]["pair_mail"]["vars"]["vmpair_vms"] = vms or VMS
    return yaml.safe_dump(data)


def protect(tmp_path, *args, vms=None):
    proc = ansible_playbook(tmp_path, inventory(vms), PROTECT, *args)
    # Ansible wraps a warning at the terminal's width (79 columns without one): compare words, not lines.
    return proc, " ".join((proc.stdout + proc.stderr).split())


def outcome(proc):
    """{host: (unreachable, failed)} from the play recap."""
    return {host: (int(u), int(f)) for host, u, f in RECAP.findall(proc.stdout)}


@pytest.mark.parametrize("mode", [[], ["--check", "--diff"]], ids=["run", "check-mode"])
def test_level_ft_stops_protect_in_its_validation_stage(tmp_path, mode):
    proc, out = protect(tmp_path, "-e", "level=ft", *mode)
    assert proc.returncode == 2, out
    assert FT_REFUSED_BY_PROTECT in out
    assert site_base.FT_UNAVAILABLE in out  # the words of check_site and the modules
    # both hosts failed in the validation stage; none was contacted, no later task started
    assert outcome(proc) == {"hv-east": (0, 1), "hv-west": (0, 1)}, out
    assert "UNREACHABLE" not in out
    assert "TASK [Pick the VMs of this pair]" not in out


def test_an_unknown_level_stops_protect_naming_the_option_and_the_levels(tmp_path):
    proc, out = protect(tmp_path, "-e", "level=gold", "-e", "vms=web1")
    assert proc.returncode == 2, out
    assert (
        "-e level=gold (in AWX the survey's Level): 'gold' is not a protection level. Nothing was changed. "
        "Fix: Use one of recovery, ha, or leave -e level out to keep each VM's vmpair_vms level."
    ) in out
    assert outcome(proc) == {"hv-east": (0, 1), "hv-west": (0, 1)}, out
    assert "UNREACHABLE" not in out


def test_a_vm_listed_with_level_ft_is_refused_by_check_site_and_by_protect_in_the_same_words(tmp_path):
    vms = [VMS[0], dict(VMS[1], level="ft")]
    finding = (
        "pair pair_mail: vmpair_vms[db1].level: level ft (fault tolerance) is not available yet, so protect.yml "
        "refuses it. Fix: Use ha."
    )
    (tmp_path / "check_site").mkdir()
    checked = ansible_playbook(tmp_path / "check_site", inventory(vms), CHECK_SITE)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "ERROR: " + finding in checked.stdout
    # protect, even for the other VM only, stops on the same finding before it contacts a host
    proc, out = protect(tmp_path, "-e", "vms=web1", vms=vms)
    assert proc.returncode == 2, out
    assert "The site inventory has 1 problem(s):\\n- " + finding in out
    assert outcome(proc) == {"hv-east": (0, 1), "hv-west": (0, 1)}, out


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["run", "check-mode"])
def test_a_level_that_replaces_a_vms_own_level_is_a_warning_for_that_vm(tmp_path, mode):
    proc, out = protect(tmp_path, "-e", "level=ha", *mode)
    assert out.count("[WARNING]: db1: level ha from -e level, vmpair_vms says recovery") == 1, out
    assert "(a run without -e level sets recovery again; to keep ha, write it in vmpair_vms)." in out
    assert "web1: level ha from -e level" not in out  # web1 is ha already: nothing to say
    # the level is one protect serves: the run goes on to the hosts (which do not answer)
    assert proc.returncode == 4, out
    assert {h: r for h, r in outcome(proc).items() if r[0]}, out


def test_the_warning_covers_only_the_vms_of_the_run(tmp_path):
    proc, out = protect(tmp_path, "-e", "level=recovery", "-e", "vms=web1")
    assert out.count("[WARNING]: web1: level recovery from -e level, vmpair_vms says ha") == 1, out
    assert "db1: level" not in out
    assert proc.returncode == 4, out


def test_without_level_each_vm_keeps_its_own_level_and_nothing_is_said(tmp_path):
    proc, out = protect(tmp_path)
    assert "from -e level" not in out
    assert proc.returncode == 4, out


def test_the_summary_shows_the_level_used_and_where_it_came_from(tmp_path):
    """protect.yml's last task, run on the results of a protect run where -e level=ha replaced db1's recovery."""
    with open(PROTECT, encoding="utf-8") as handle:
        (play,) = yaml.safe_load(handle)
    (task,) = [t for t in play["tasks"] if t["name"] == "Show where each VM runs and how it is protected"]
    results = [
        {
            "item": dict(VMS[0]),
            "level": "ha",
            "vm_host": "hv-east",
            "vm_node": "hv-east",
            "resource": "vm-web1",
            "port": 7790,
            "devices": {"vda": "/dev/drbd100"},
            "changed": False,
        },
        {
            "item": dict(VMS[1]),
            "level": "ha",
            "vm_host": "hv-east",
            "vm_node": "hv-east",
            "resource": "vm-db1",
            "port": 7791,
            "devices": {"vda": "/dev/drbd101"},
            "changed": True,
        },
    ]
    playbook = [
        {
            "hosts": "hv-east",
            "gather_facts": False,
            "connection": "local",
            "vars": {"__vmpair_protected": {"results": results}},
            "tasks": [task],
        }
    ]
    (tmp_path / "summary.yml").write_text(yaml.safe_dump(playbook))
    proc = ansible_playbook(tmp_path, inventory(), str(tmp_path / "summary.yml"), "-e", "level=ha")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"msg": "web1: level ha, runs on hv-east (hv-east), DRBD vm-web1 port 7790 /dev/drbd100, unchanged"' in (
        proc.stdout
    )
    assert (
        '"msg": "db1: level ha (from -e level; vmpair_vms says recovery), runs on hv-east (hv-east), DRBD vm-db1 '
        'port 7791 /dev/drbd101, changed"'
    ) in proc.stdout

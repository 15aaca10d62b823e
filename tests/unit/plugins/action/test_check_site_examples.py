# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The examples users copy must pass check_site without an error or a warning: every YAML example
in docs/ and the inventory the container lab writes (lab/labinventory.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import glob
import os
import re
import sys

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_check_site import check_site
from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import REPO_ROOT

CLEAN = "PASSED: 0 error(s), 0 warning(s);"


def yaml_examples():
    """[(file:line, data)] for every ```yaml block of docs/*.md that uses the site model's variables
    or is a list of links (other blocks, such as playbooks or tool settings, are not site examples;
    a list of plays is a playbook even when it names the vmpair_pairs group)."""
    out = []
    for path in sorted(glob.glob(os.path.join(REPO_ROOT, "docs", "*.md"))):
        text = open(path, encoding="utf-8").read()
        for match in re.finditer(r"^```yaml\n(.*?)^```", text, re.S | re.M):
            line = text[: match.start()].count("\n") + 1
            data = yaml.safe_load(match.group(1))
            plays = isinstance(data, list) and all(isinstance(i, dict) and {"hosts", "tasks"} <= set(i) for i in data)
            if not plays and ("vmpair_" in match.group(1) or kind(data) is not None):
                out.append(("%s:%d" % (os.path.basename(path), line), data))
    return out


def kind(data):
    if isinstance(data, dict) and "all" in data:
        return "inventory"
    if isinstance(data, list) and all(isinstance(i, dict) and "network" in i for i in data):
        return "links"
    if isinstance(data, dict) and all(k.startswith(("vmpair_", "vault_")) for k in data):
        return "pair vars"
    if isinstance(data, dict) and set(data) == {"groups"}:
        return "prometheus rules"  # docs/monitoring.md's alert rules (tests/unit/.../test_metrics.py checks them)
    return None


def test_every_docs_example_is_known_to_this_test():
    examples = yaml_examples()
    assert [where for where, data in examples if kind(data) is None] == []
    kinds = [kind(data) for _where, data in examples]
    assert kinds.count("inventory") >= 1 and kinds.count("links") >= 1 and kinds.count("pair vars") >= 2


def test_the_docs_inventories_pass(tmp_path):
    inventories = [(w, d) for w, d in yaml_examples() if kind(d) == "inventory"]
    for number, (where, data) in enumerate(inventories):
        run_dir = tmp_path / str(number)
        run_dir.mkdir()
        proc = check_site(run_dir, yaml.safe_dump(data))
        assert proc.returncode == 0, where + "\n" + proc.stdout + proc.stderr
        assert CLEAN in proc.stdout, where + "\n" + proc.stdout


def test_the_docs_fragments_pass_inside_the_docs_inventory(tmp_path):
    """The link and vars fragments (a bonded link, the fencing and vault vars of the quickstart, a VM
    list), put into the first docs inventory in place of what they describe. No error; a warning is
    allowed (a VM example without sizes next to hosts that declare their capacity)."""
    examples = yaml_examples()
    base = [d for _w, d in examples if kind(d) == "inventory"][0]
    data = copy.deepcopy(base)
    pair_vars = data["all"]["children"]["vmpair_pairs"]["children"]["pair_mail"]["vars"]
    used = []
    for where, fragment in examples:
        if kind(fragment) == "links":
            pair_vars["vmpair_links"][: len(fragment)] = fragment
            used.append(where)
        elif kind(fragment) == "pair vars":
            pair_vars.update(fragment)
            used.append(where)
    assert len(used) >= 2
    proc = check_site(tmp_path, yaml.safe_dump(data))
    assert proc.returncode == 0, "%s\n%s%s" % (used, proc.stdout, proc.stderr)
    assert "PASSED: 0 error(s)" in proc.stdout, proc.stdout


@pytest.mark.parametrize("with_vg", [False, True])
def test_the_container_lab_inventory_passes(tmp_path, with_vg):
    sys.path.insert(0, os.path.join(REPO_ROOT, "lab"))
    try:
        import labinventory
        import labup
    finally:
        sys.path.pop(0)
    ifaces = {role: {"link0": "eth1", "link1": "eth2"} for role in labup.PAIR}
    text = labinventory.render("vmpair-ci", 3, ifaces, with_vg=with_vg)
    assert "vmpair_pairs" in text and "fence_lab_podman" in text
    proc = check_site(tmp_path, text)
    assert proc.returncode == 0, text + proc.stdout + proc.stderr
    assert CLEAN in proc.stdout, proc.stdout
    assert "1 pair(s) checked" in proc.stdout

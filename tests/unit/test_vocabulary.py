# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/common/vocabulary.py is the only definition of the collection's shared words.

The protection levels, the hypervisors and the resource ids (``vm-NAME``, ``drbd-NAME``) are written
there once: no other Python file under plugins/ writes a level or hypervisor list or a resource-id
prefix, and no playbook builds a resource id itself (they read the site model's resource_ids). The
supported Debian releases too: no playbook or role task lists them (they read the site model's
debian_releases), and the roles' Galaxy platforms name the same codenames.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects as vm_cib_objects
from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOCABULARY = os.path.join(REPO_ROOT, "plugins", "module_utils", "common", "vocabulary.py")
PYTHON = sorted(
    path
    for path in glob.glob(os.path.join(REPO_ROOT, "plugins", "**", "*.py"), recursive=True)
    if os.path.realpath(path) != VOCABULARY
)
PLAYBOOKS = sorted(
    glob.glob(os.path.join(REPO_ROOT, "playbooks", "*.yml"))
    + glob.glob(os.path.join(REPO_ROOT, "playbooks", "tasks", "*.yml"))
)
ROLE_TASKS = sorted(glob.glob(os.path.join(REPO_ROOT, "roles", "*", "tasks", "*.yml")))
ROLE_METAS = sorted(glob.glob(os.path.join(REPO_ROOT, "roles", "*", "meta", "main.yml")))
# a string that ends in, or puts a placeholder right after, the prefix: "vm-", "vm-%s", f"drbd-{name}"
PREFIX_STRING = re.compile(r"(?<![\w.-])(vm|drbd)-(%s|%\(|$)")
# a playbook expression that builds an id: vm-{{ name }}, 'vm-' ~ name, "drbd-" ~ name
PREFIX_JINJA = re.compile(r"(?<![\w.-])(vm|drbd)-(\{\{|['\"]\s*~)")


def _rel(path):
    return os.path.relpath(path, REPO_ROOT)


def _copies(path):
    """Where a Python file writes a level list, a hypervisor list or a resource-id prefix."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and PREFIX_STRING.search(node.value):
            out.append("%s:%d: resource-id prefix %r" % (_rel(path), node.lineno, node.value))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            words = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        elif isinstance(node, ast.Dict):
            words = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if {"ha", "recovery"} <= words:
                words = words - {"ha", "recovery"}  # a level's settings (drbd_base._SETTINGS), checked there
        else:
            continue
        if {"ha", "recovery"} <= words:
            out.append("%s:%d: a list of protection levels" % (_rel(path), node.lineno))
        if {"kvm", "xen"} <= words:
            out.append("%s:%d: a list of hypervisors" % (_rel(path), node.lineno))
    return out


def test_the_files_are_found():
    assert len(PYTHON) > 20 and any(p.endswith(os.path.join("site", "base.py")) for p in PYTHON)
    assert any(p.endswith(os.path.join("tasks", "migrate_vm.yml")) for p in PLAYBOOKS)


@pytest.mark.parametrize("path", PYTHON, ids=_rel)
def test_no_python_copy(path):
    assert _copies(path) == []


@pytest.mark.parametrize("path", PLAYBOOKS, ids=_rel)
def test_no_playbook_builds_a_resource_id(path):
    with open(path, encoding="utf-8") as handle:
        found = [
            "%s:%d: %s" % (_rel(path), number, line.strip())
            for number, line in enumerate(handle, 1)
            if not line.lstrip().startswith("#") and PREFIX_JINJA.search(line)
        ]
    assert found == [], "read the ids from the site model's resource_ids (module_utils vocabulary)"


def _release_lists(lines):
    """The lines (not comments) that name two or more supported Debian releases: a copy of the list."""
    words = [re.compile(r"\b%s\b" % codename) for codename in vocabulary.DEBIAN_RELEASES]
    words += [re.compile(r"['\"]%s['\"]" % major) for major in vocabulary.DEBIAN_RELEASES.values()]
    return [
        (number, line.strip())
        for number, line in enumerate(lines, 1)
        if not line.lstrip().startswith("#") and sum(1 for word in words if word.search(line)) >= 2
    ]


@pytest.mark.parametrize("path", PLAYBOOKS + ROLE_TASKS, ids=_rel)
def test_no_playbook_or_role_lists_the_debian_releases(path):
    with open(path, encoding="utf-8") as handle:
        found = _release_lists(handle)
    assert found == [], "read the releases from the site model's debian_releases (module_utils vocabulary)"


@pytest.mark.parametrize("path", ROLE_METAS, ids=_rel)
def test_the_roles_galaxy_platforms_are_the_debian_releases(path):
    with open(path, encoding="utf-8") as handle:
        platforms = yaml.safe_load(handle)["galaxy_info"]["platforms"]
    assert platforms == [{"name": "Debian", "versions": list(vocabulary.DEBIAN_RELEASES)}]


def test_the_checks_see_a_copy(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('A = ("ha", "recovery")\nB = ["kvm", "xen"]\nC = "vm-%s" % n\nD = f"drbd-{n}-clone"\n')
    assert len(_copies(str(bad))) == 4
    assert PREFIX_JINJA.search('argv: [pcs, resource, cleanup, "drbd-{{ vm }}"]')
    assert PREFIX_JINJA.search("msg: 'pcs resource enable vm-' ~ name")
    assert not PREFIX_JINJA.search('argv: [drbdadm, role, "{{ ids.drbd_name }}"]')
    assert (
        len(
            _release_lists(
                ["in ['12', '13']", "{bookworm: '12', trixie: '13'}", "Debian 12 (bookworm) and Debian 13 (trixie)"]
            )
        )
        == 3
    )
    assert _release_lists(["# Debian 12 (bookworm) and 13 (trixie)", "major | int >= 13"]) == []


def test_the_old_names_are_the_vocabulary():
    assert site_base.LEVELS is vocabulary.LEVELS
    assert site_base.SERVED_LEVELS is vocabulary.SERVED_LEVELS
    assert site_base.HYPERVISORS is vocabulary.HYPERVISORS
    assert site_base.FT_REFUSED == drbd_base.FT_REFUSED == vocabulary.FT_UNAVAILABLE + ": use ha"
    assert vm_cib_objects.LEVELS is vocabulary.SERVED_LEVELS
    assert set(drbd_base.LEVELS) == set(vocabulary.SERVED_LEVELS)
    assert set(vocabulary.SERVED_LEVELS) < set(vocabulary.LEVELS)
    assert set(vocabulary.LEVEL_DESCRIPTIONS) == set(vocabulary.LEVELS)
    assert vocabulary.DEFAULT_LEVEL in vocabulary.SERVED_LEVELS
    assert set(vocabulary.HYPERVISORS) == set(vocabulary.HYPERVISOR_URIS) == {"kvm", "xen"}


def test_resource_ids():
    assert vocabulary.vm_resource_id("web1") == "vm-web1"
    assert vocabulary.drbd_resource_id("web1") == "drbd-web1"
    assert vocabulary.drbd_clone_id("web1") == "drbd-web1-clone"
    assert vocabulary.drbd_name("web1") == drbd_base.resource_name("web1") == "vm-web1"
    assert vocabulary.resource_ids("web1") == {
        "vm_resource": "vm-web1",
        "drbd_resource": "drbd-web1",
        "drbd_clone": "drbd-web1-clone",
        "drbd_name": "vm-web1",
    }
    assert list(vm_cib_objects.resource_ids("web1").values()) == [
        "drbd-web1",
        "drbd-web1-clone",
        "vm-web1",
        "colocation-vm-web1",
        "order-vm-web1",
        "location-vm-web1",
        "location-drbd-web1-promote-only",
    ]

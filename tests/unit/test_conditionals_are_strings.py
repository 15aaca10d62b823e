# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every conditional of the playbooks, roles and Molecule scenarios is a string once YAML has read it.

An unquoted condition that holds ": " (a message searched for, say) is read by YAML as a mapping;
ansible-core 2.19 then fails the task with "Conditional expressions must be strings" only when it
runs, which for a lab scenario is half an hour in (it happened in molecule/release-upgrade).
"""

from __future__ import absolute_import, division, print_function

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = ("that", "when", "failed_when", "changed_when", "until")
FILES = sorted(
    path
    for pattern in ("playbooks/**/*.yml", "roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "molecule/**/*.yml")
    for path in glob.glob(os.path.join(ROOT, pattern), recursive=True)
)


def _conditions(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KEYS:
                for item in value if isinstance(value, list) else [value]:
                    yield "%s.%s" % (where, key), item
            yield from _conditions(value, "%s.%s" % (where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _conditions(value, "%s[%d]" % (where, index))


def test_the_files_are_found():
    assert any(path.endswith(os.path.join("playbooks", "rolling_update.yml")) for path in FILES)
    assert any(os.sep + "molecule" + os.sep in path for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_condition_is_a_string(path):
    with open(path) as f:
        data = yaml.safe_load(f)
    wrong = [(where, item) for where, item in _conditions(data) if not isinstance(item, (str, bool))]
    assert not wrong, "quote these conditions (YAML read them as %s): %r" % (
        ", ".join(sorted({type(item).__name__ for _w, item in wrong})),
        wrong,
    )

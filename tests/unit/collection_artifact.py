# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection tarball as users get it: built from this tree by this Python's ansible-galaxy."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import subprocess
import sys
import tarfile

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def artifact_names(out_dir):
    """Build the tarball into `out_dir` (ansible-galaxy collection build); the names of its members."""
    ansible_galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    proc = subprocess.run(
        [ansible_galaxy, "collection", "build", "--output-path", str(out_dir), REPO_ROOT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = glob.glob(os.path.join(str(out_dir), "duplex-vmpair-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        return set(tar.getnames())

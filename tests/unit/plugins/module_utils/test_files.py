# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""write_atomic: the file the modules write (DRBD resource files, domain definitions, network files)."""

import os
import stat

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file, write_atomic


def test_secret_is_0600_and_replaces_the_old_file(tmp_path):
    path = tmp_path / "vm-web1.res"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_atomic(str(path), "new secret", 0o600)
    assert path.read_text() == "new secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["vm-web1.res"]


def test_missing_directory_only_with_make_dirs(tmp_path):
    path = tmp_path / "interfaces.d" / "vmpair-repl"
    with pytest.raises(OSError):
        write_atomic(str(path), "auto bond0\n", 0o644)
    write_atomic(str(path), "auto bond0\n", 0o644, make_dirs=True)
    assert path.read_text() == "auto bond0\n"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o755 == 0o755


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "vm-web1.xml"
    path.write_text("<domain/>")
    with pytest.raises(TypeError):
        write_atomic(str(path), b"not text", 0o600)
    assert path.read_text() == "<domain/>"
    assert os.listdir(tmp_path) == ["vm-web1.xml"]


def test_read_file_gives_the_text_or_none(tmp_path):
    path = tmp_path / "drbd"
    assert read_file(str(path)) is None
    path.write_text("version: 8.4.11\n")
    assert read_file(str(path)) == "version: 8.4.11\n"

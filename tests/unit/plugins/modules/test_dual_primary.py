# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.dual_primary: main() with drbdadm faked at the process boundary (a stub on PATH)."""

import json
import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common import runner
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import config as drbd_config
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import dual_primary as drbd_dual
from ansible_collections.duplex.vmpair.plugins.modules import dual_primary
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_drbd import (
    SECRET,
    described_pair,
    spec_for,
)

# What a failing drbdadm adjust prints: the configuration it applies (shared secret included), and
# the drbdsetup call it made, with --shared-secret on its command line.
STUB = """#!/bin/sh
case "$1" in
  role) echo Primary/Secondary; exit 0 ;;
  adjust)
    cat '{res}'
    echo "drbdsetup-84 net 0 ipv4:10.0.0.1:7789 ipv4:10.0.0.2:7789 C --shared-secret={secret} --allow-two-primaries=yes" >&2
    echo "Command 'drbdsetup-84 net ... --shared-secret={secret}' terminated with exit code 10" >&2
    exit 10 ;;
esac
exit 1
"""


@pytest.fixture
def res_file(tmp_path, monkeypatch):
    path = tmp_path / "vm-web1.res"
    path.write_text(drbd_config.render_resource(spec_for(described_pair(), level="recovery"), "8.4"))
    path.chmod(0o600)
    monkeypatch.setattr(drbd_dual, "resource_path", lambda vm: str(path))
    return path


@pytest.fixture
def failing_drbdadm(tmp_path, monkeypatch, res_file):
    """A drbdadm first on PATH whose adjust prints the configuration with the secret and exits 10."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "drbdadm"
    stub.write_text(STUB.format(res=res_file, secret=SECRET))
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    # the runner looks in the sbin directories first; the real drbdadm lives there
    monkeypatch.setattr(runner, "_SBIN_DIRS", [])
    return stub


def test_a_failing_adjust_never_shows_the_shared_secret(run_module, res_file, failing_drbdadm):
    assert SECRET in res_file.read_text()
    before = res_file.read_text()
    rc, result = run_module(dual_primary.main, {"vm": "web1"})
    assert rc == 1, result
    assert result["rc"] == 10
    assert result["cmd"] == ["drbdadm", "adjust", "vm-web1"]
    assert "terminated with exit code 10" in result["msg"]
    # what drbdadm printed is there, the secret is not
    assert "shared-secret" in result["stdout"] and "--shared-secret=" in result["stderr"]
    assert SECRET not in json.dumps(result)
    # the file is put back
    assert res_file.read_text() == before


def test_the_diff_and_result_never_show_the_shared_secret(run_module, res_file, failing_drbdadm):
    rc, result = run_module(dual_primary.main, {"vm": "web1"}, check_mode=True, diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert 'shared-secret "********";' in result["diff"]["before"]
    assert SECRET not in json.dumps(result)


def test_shared_secrets_of_a_resource_file(res_file):
    assert drbd_dual.shared_secrets(res_file.read_text()) == [SECRET]
    assert drbd_dual.shared_secrets('resource "x" {\n  net {\n    protocol C;\n  }\n}\n') == []

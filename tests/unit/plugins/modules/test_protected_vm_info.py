# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.protected_vm_info main() on a host faked at the process boundary (fakehost.FakeHost:
this machine has no qemu:///system): what its result shows of a definition's console password."""

import json

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common import runner as common_runner
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import reader as vm_host
from ansible_collections.duplex.vmpair.plugins.modules import protected_vm_info
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.fakehost import FakeHost
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_protect_plan import (
    VNC_PASSWORD,
    kvm_xml_with_console,
)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The module's commands answered by a FakeHost that runs mail01 with a VNC console password."""
    proc_drbd = tmp_path / "proc_drbd"
    proc_drbd.write_text("version: 8.4.11 (api:1/proto:86-101)\n")
    monkeypatch.setattr(vm_host, "PROC_DRBD", str(proc_drbd))
    fake = FakeHost("hv-east", kvm_xml_with_console(), running=True)
    monkeypatch.setattr(common_runner, "CommandRunner", lambda module, cib_file=None: fake)
    return fake


ARGS = {"names": ["mail01"], "storage_vg": "vg_vms", "peer_address": "192.0.2.2"}


def test_the_definition_is_returned_with_its_console_password_masked(run_module, host):
    rc, result = run_module(protected_vm_info.main, ARGS)
    assert rc == 0, result
    assert ["virsh", "-c", "qemu:///system", "dumpxml", "--inactive", "--security-info", "mail01"] in host.calls
    xml = result["host"]["domains"]["mail01"]["xml"]
    assert "<uuid>4f1a6a3e-2b7c-4d0e-9a51-3c2d8e7f6a10</uuid>" in xml
    assert 'passwd="********"' in xml
    assert VNC_PASSWORD not in json.dumps(result)
    assert "secrets" not in result


def test_secrets_returns_the_values_for_the_peer_only(run_module, host):
    rc, result = run_module(protected_vm_info.main, dict(ARGS, secrets=True))
    assert rc == 0, result
    assert list(result["secrets"]["mail01"].values()) == [VNC_PASSWORD]
    assert "host" not in result

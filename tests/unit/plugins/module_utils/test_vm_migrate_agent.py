# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The virsh command line the real ocf:heartbeat:VirtualDomain agent runs for a live migration,
given the parameters vm_objects puts on a VM resource.

The agent (resource-agents, as installed on this machine) runs for real; only virsh is a fake at
the process boundary: a script first on PATH that records its arguments and says the domain runs.
"""

import os
import re
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import vm_objects
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import vm

AGENT = "/usr/lib/ocf/resource.d/heartbeat/VirtualDomain"
pytestmark = pytest.mark.skipif(not os.access(AGENT, os.X_OK), reason="resource-agents is not installed")

FAKE_VIRSH = """#!/bin/sh
echo "$*" >> "$VIRSH_LOG"
case "$*" in *domstate*) echo running ;; esac
exit 0
"""


def migrate_to(tmp_path, instance, target="hv-west"):
    """Run the agent's migrate_to with ``instance`` as its parameters; the virsh migrate argument list."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "virsh").write_text(FAKE_VIRSH)
    (bindir / "virsh").chmod(0o755)
    config = tmp_path / "g1.xml"
    config.write_text('<domain type="kvm">\n  <name>g1</name>\n</domain>\n')
    log = tmp_path / "virsh.log"
    env = {
        "PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % bindir,
        "VIRSH_LOG": str(log),
        "HA_LOGFILE": "/dev/null",
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "vm-g1",
        "OCF_RESKEY_CRM_meta_migrate_target": target,
        "OCF_RESKEY_CRM_meta_timeout": "20000",
    }
    env.update({"OCF_RESKEY_" + k: v for k, v in instance.items()})
    env["OCF_RESKEY_config"] = str(config)
    done = subprocess.run([AGENT, "migrate_to"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in log.read_text().splitlines() if " migrate " in line]
    return line.split()


def test_tunnelled_the_agent_runs_virsh_migrate_p2p_tunnelled_over_ssh_with_no_migration_uri(tmp_path):
    instance = vm_objects.desired_objects(vm("g1"))["vm"]["instance"]
    argv = migrate_to(tmp_path, instance)
    assert argv == [
        "--connect=qemu:///system",
        "--quiet",
        "migrate",
        "--live",
        "--p2p",
        "--tunnelled",
        "g1",
        "qemu+ssh://hv-west-vmpair/system",
    ]
    assert not any(a.startswith(("tcp:", "--migrateuri")) for a in argv)


def test_opted_out_the_agent_sends_qemu_s_stream_to_the_target_s_replication_name(tmp_path):
    instance = vm_objects.desired_objects(vm("g1", migration_tunnelled=False))["vm"]["instance"]
    argv = migrate_to(tmp_path, instance)
    assert argv[:5] == ["--connect=qemu:///system", "--quiet", "migrate", "--live", "g1"]
    assert argv[5] == "qemu+ssh://hv-west-vmpair/system"
    match = re.match(r"^tcp:hv-west-vmpair:(\d+)$", argv[6])
    assert match and 49152 <= int(match.group(1)) <= 49215

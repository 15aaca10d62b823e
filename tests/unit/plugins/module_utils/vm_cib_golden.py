# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Golden CIBs of vm_resources: what the real pcs made of each step, kept as test data.

Two chains of steps (:data:`CHAINS`), each on its own pair CIB (two nodes, ``stonith-enabled=false``):
``pair`` (schema pacemaker-3.9, the one Debian 12's Pacemaker writes) creates four VMs of every
kind, then updates, moves and ends the moves; ``legacy`` (schema pacemaker-3.6, before the role
names Promoted/Unpromoted) creates a recovery VM and changes it. For each step the generator asks
:func:`.vm_present.ensure_vms_present` for its pcs commands (check mode) and runs each of them
with the real ``pcs -f`` on the previous step's CIB, so the file is pcs's own XML: the golden files
in ``tests/unit/fixtures/vm_cib/`` were made that way with the pcs-per-object code (before issue 26)
and pcs 0.11.5, Pacemaker 2.1.5 (Debian 12). Regenerate (only when the wanted objects change):

  PYTHONPATH=.build/collections .venv/bin/python tests/unit/plugins/module_utils/vm_cib_golden.py
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "fixtures", "vm_cib")
EAST, WEST = "hv-east", "hv-west"


def _vm(name, level="ha", host=EAST, **kw):
    from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import protected_vm

    return protected_vm(name, level, host, f"r-{name}", f"/etc/vmpair/domains/{name}.xml", **kw)


def chains():
    """{chain: (schema, [(step, [ProtectedVm...]), ...])}: each step runs on the CIB of the one before."""
    created = [
        _vm("mail", hypervisor="xen"),
        _vm("web", level="recovery", host=WEST),
        _vm("plain", host=WEST, migration_tunnelled=False, force_stop=True, stop_timeout=300),
        _vm("hop", move_to=WEST, live=True),
    ]
    updated = [
        _vm("mail", level="recovery", hypervisor="xen", stop_timeout=300),
        _vm("web", level="recovery", host=EAST),
        _vm("plain", host=WEST, migration_update=True, monitor_timeout=90),
        _vm("hop"),
    ]
    moved = [
        _vm("mail", level="recovery", hypervisor="xen", stop_timeout=300, move_to=WEST, live=True),
        _vm("web", level="recovery", host=EAST, move_to=WEST),
        _vm("plain", host=WEST, migration_tunnelled=False),
        _vm("hop", host=WEST),
    ]
    legacy = [
        ("create", [_vm("old", level="recovery")]),
        ("move", [_vm("old", level="recovery", move_to=WEST, live=True, stop_timeout=60)]),
        ("back", [_vm("old", level="recovery", host=WEST)]),
    ]
    return {
        "pair": ("pacemaker-3.9", [("create", created), ("update", updated), ("move", moved), ("back", updated)]),
        "legacy": ("pacemaker-3.6", legacy),
    }


def base_path(chain):
    return os.path.join(GOLDEN, f"{chain}-base.xml")


def step_path(chain, step):
    return os.path.join(GOLDEN, f"{chain}-{step}.xml")


def _run(*args, cib=None):
    env = dict(os.environ, LC_ALL="C")
    if cib:
        env["CIB_file"] = cib
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (rc={proc.returncode}): {proc.stdout}{proc.stderr}")
    return proc.stdout


def make_base(path, schema):
    xml = _run("cibadmin", "--empty", schema).replace("<cib ", '<cib have-quorum="1" ', 1)
    with open(path, "w") as f:
        f.write(xml)
    for nid, node in ((1, EAST), (2, WEST)):
        _run("cibadmin", "--create", "-o", "nodes", "--xml-text", f'<node id="{nid}" uname="{node}"/>', cib=path)
    _run("pcs", "-f", path, "property", "set", "stonith-enabled=false")


def main():
    from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandRunner
    from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_present import ensure_vms_present
    from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.cibsim import FakeModule

    os.makedirs(GOLDEN, exist_ok=True)
    for chain, (schema, steps) in chains().items():
        path = base_path(chain)
        make_base(path, schema)
        with open(path) as f:
            current = f.read()
        for step, vms in steps:
            out = step_path(chain, step)
            with open(out, "w") as f:
                f.write(current)
            result = ensure_vms_present(CommandRunner(FakeModule(), cib_file=out), vms, check_mode=True)
            for cmd in result.commands:
                _run("pcs", "-f", out, *cmd[1:])
            with open(out) as f:
                current = f.read()
            print(f"{chain} {step}: {len(result.commands)} pcs commands", file=sys.stderr)


if __name__ == "__main__":
    main()

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster half of protecting N VMs on one pair: time and tool calls.

Runs the module duplex.vmpair.vm_resources (the last step of protect.yml) against an offline CIB
of a two-node pair with the real pcs, cibadmin and crm_verify, for 1, 10 and 50 VMs (three runs
each, median), then the idempotent rerun, and counts the pcs, cibadmin and crm_verify calls (all
the processes it starts) and CIB pushes of each run, and the seconds per VM. Since issue 26 the
objects are built in one XML document in Python: three processes (query, crm_verify, push)
whatever the count, where the pcs-per-object path started about 5.5 pcs processes per VM.

  .venv/bin/python bench/protect_cluster.py [COUNTS...]      (default: 1 10 50)

Needs `make deps` (pcs, pacemaker-cli-utils, .build/collections).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandRunner  # noqa: E402
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import protected_vm  # noqa: E402
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_present import ensure_vms_present  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ENV = dict(os.environ, LC_ALL="C")


class CountingModule:
    """What CommandRunner needs from AnsibleModule, counting every program it runs."""

    def __init__(self):
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        from shutil import which

        return which(name, path=os.environ.get("PATH", "") + ":" + ":".join(opt_dirs or []))

    def run_command(self, args, data=None, check_rc=False, environ_update=None, binary_data=False):
        self.calls.append(os.path.basename(args[0]) + (" " + args[3] if "cib-push" in args else ""))
        env = dict(ENV, **(environ_update or {}))
        proc = subprocess.run(args, input=data, capture_output=True, text=True, env=env, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def pair_cib(path):
    xml = subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True, env=ENV).stdout
    with open(path, "w") as f:
        f.write(xml.replace("<cib ", '<cib have-quorum="1" ', 1))
    env = dict(ENV, CIB_file=path)
    for nid, node in ((1, "hv-east"), (2, "hv-west")):
        subprocess.run(["cibadmin", "--create", "-o", "nodes", "--xml-text", f'<node id="{nid}" uname="{node}"/>'],
                       check=True, env=env, capture_output=True)  # fmt: skip
    subprocess.run(["pcs", "-f", path, "property", "set", "stonith-enabled=false"], check=True, capture_output=True)


def vms(count):
    return [
        protected_vm(f"vm{i:03d}", "ha" if i % 2 else "recovery", "hv-east" if i % 2 else "hv-west",
                     f"vm-vm{i:03d}", f"/etc/libvirt/qemu/vm{i:03d}.xml")
        for i in range(count)
    ]  # fmt: skip


def one(count):
    with tempfile.TemporaryDirectory() as tmp:
        cib = os.path.join(tmp, "cib.xml")
        pair_cib(cib)
        module = CountingModule()
        runner = CommandRunner(module, cib_file=cib)
        start = time.monotonic()
        first = ensure_vms_present(runner, vms(count))
        first_s = time.monotonic() - start
        first_calls = list(module.calls)
        module.calls.clear()
        start = time.monotonic()
        again = ensure_vms_present(runner, vms(count))
        again_s = time.monotonic() - start
        assert first.changed and not again.changed
        verify = subprocess.run(["crm_verify", "-x", cib], capture_output=True, text=True, env=ENV, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        return first_s, again_s, first_calls, list(module.calls), first.data["pushes"]


def main():
    counts = [int(a) for a in sys.argv[1:]] or [1, 10, 50]
    report = []
    for count in counts:
        runs = [one(count) for _run in range(RUNS)]
        first = statistics.median(r[0] for r in runs)
        again = statistics.median(r[1] for r in runs)
        calls = runs[0][2]
        row = {
            "vms": count,
            "first_s": round(first, 2),
            "rerun_s": round(again, 2),
            "s_per_vm": round(first / count, 3),
            "processes": len(calls),
            "pcs_calls": sum(1 for c in calls if c.startswith("pcs")),
            "cibadmin_calls": sum(1 for c in calls if c.startswith("cibadmin")),
            "crm_verify_calls": sum(1 for c in calls if c.startswith("crm_verify")),
            "pushes": runs[0][4],
            "rerun_pcs_calls": sum(1 for c in runs[0][3] if c.startswith("pcs")),
        }
        report.append(row)
        print(
            f"{count:3d} VMs: cluster change {row['first_s']:.2f} s (median of {RUNS}, {row['s_per_vm']:.3f} s/VM), "
            f"rerun {row['rerun_s']:.2f} s; {row['processes']} processes: {row['pcs_calls']} pcs + "
            f"{row['cibadmin_calls']} cibadmin + {row['crm_verify_calls']} crm_verify, {row['pushes']} CIB push; "
            f"rerun {row['rerun_pcs_calls']} pcs calls"
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()

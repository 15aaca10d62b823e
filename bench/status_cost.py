# SPDX-License-Identifier: GPL-3.0-or-later
"""What status.yml costs against validate.yml, over 1 and 10 pairs (issue 25: "must not cost more than validate").

1. The commands run on each host: pair_info's own code (plugins/modules/pair_info.py run_tools, with
   health.facts.commands) is run with a recording command runner that answers from the real-kernel lab's
   captures (tests/unit/fixtures/state/bookworm/vm_ha): the fake is at the process boundary only, so the
   commands counted are the ones the module runs. Per pair, validate runs pair_info on both hosts; status on
   the first host that answers (its peer only when it does not). The files pair_info reads (/proc/drbd, each
   bond's /proc/net/bonding file) are counted too.
2. The controller's time: the filters each playbook runs on the results, over 1 and 10 pairs (status:
   pair_status per pair and status_summary; validate: pair_report per pair), median of RUNS runs each.
3. With --playbooks: the real ansible-playbook runs of validate.yml and status.yml over 1 and 10 pairs whose
   hosts all run on this machine (connection local; no daemon of the cluster runs here, so every tool answers
   at once with an error): the wall time and how many hosts ran pair_info.

Usage (from the repository root, with the collection on ANSIBLE_COLLECTIONS_PATH's layout):
  PYTHONPATH=.build/collections python bench/status_cost.py [--runs 200] [--playbooks]
"""

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

from ansible_collections.duplex.vmpair.plugins.filter.pair_report import pair_report
from ansible_collections.duplex.vmpair.plugins.filter.pair_status import pair_status
from ansible_collections.duplex.vmpair.plugins.filter.status_summary import status_summary
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandResult
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.modules import pair_info
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import GUEST, PAIR

CAPTURES = Captures("bookworm")
STATE = "vm_ha"


class RecordingRunner:
    """CommandRunner.run's interface: records each argv, answers with the captured output of that tool."""

    def __init__(self, outputs, commands):
        self.by_argv = {tuple(argv): outputs[key] for key, argv in commands.items() if key in outputs}
        self.ran = []

    def run(self, cmd, check_rc=True, data=None):
        self.ran.append(list(cmd))
        out = self.by_argv[tuple(cmd)]
        return CommandResult(cmd, out.rc, out.stdout, out.stderr)


def pair_info_once(host):
    """One pair_info call on host: (its result, the commands it ran, the files it read)."""
    commands = state.commands(state.CHECKS, PAIR["hypervisor"], True)
    runner = RecordingRunner(CAPTURES.outputs(STATE), commands)
    files = ["/proc/drbd"]  # read by main() before the tools, to know whether DRBD is loaded
    reader = CAPTURES.reader(STATE)

    def read(path):
        if path != "/proc/drbd":
            files.append(path)
        return reader(path)

    result = state.build_facts(
        pair_info.run_tools(runner, commands), None, pair=PAIR, host=host, vms=GUEST, checks=state.CHECKS, read=read,
        uname=host,
    )  # fmt: skip
    return result, runner.ran, files


def validate_run(names, seen):
    """validate's filter over the pairs: pair_report of each (both hosts read)."""
    return [pair_report(seen, name, [], "warning") for name in names]


def status_run(names, seen):
    """status's filters over the pairs: pair_status of each (one host read), then the summary."""
    return status_summary([pair_status(seen, name) for name in names])


def median_ms(func, runs):
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--playbooks", action="store_true", help="also time the real playbooks over 1 and 10 local pairs"
    )
    args = parser.parse_args()

    east, ran, files = pair_info_once("hv-east")
    west, _ran, _files = pair_info_once("hv-west")
    print("pair_info, one call on one host (capture %s): %d commands, %d files read" % (STATE, len(ran), len(files)))
    for argv in ran:
        print("    " + " ".join(argv))
    for path in files:
        print("    read " + path)
    print()
    print("%-8s %-9s %-24s %-24s %s" % ("pairs", "playbook", "pair_info calls", "commands per host", "commands total"))
    for pairs in (1, 10):
        for name, hosts_asked in (("validate", 2), ("status", 1)):
            per_host = "%d (both hosts)" % len(ran) if hosts_asked == 2 else "%d (first), 0 (peer)" % len(ran)
            print(
                "%-8d %-9s %-24d %-24s %d"
                % (pairs, name, pairs * hosts_asked, per_host, pairs * hosts_asked * len(ran))
            )
    print()
    print("controller: the filters over the results, median of %d runs" % args.runs)
    for pairs in (1, 10):
        names = ["pair_%02d" % i for i in range(pairs)]
        both = {"hv-east": east, "hv-west": west}
        one = {"hv-east": east, "hv-west": {"skipped": True}}

        validate_filters = functools.partial(validate_run, names, both)
        status_filters = functools.partial(status_run, names, one)

        print(
            "    %2d pair(s): validate pair_report %.3f ms, status pair_status + status_summary %.3f ms"
            % (pairs, median_ms(validate_filters, args.runs), median_ms(status_filters, args.runs))
        )
    if args.playbooks:
        print()
        print("ansible-playbook on this machine (every pair host connection local: pair_info reads this machine's")
        print("tools, whose daemons do not run here), wall time of one run each, and pair_info runs per host:")
        for pairs in (1, 10):
            for name in ("validate", "status"):
                seconds, runs = playbook_run(name, pairs)
                print(
                    "    %2d pair(s) %-9s %6.1f s, pair_info ran on %d of %d hosts"
                    % (pairs, name, seconds, runs, 2 * pairs)
                )


def inventory(pairs):
    """A site of PAIRS pairs whose hosts all run on this machine."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    children = {}
    for i in range(pairs):
        east, west = "hv-%02d-east" % i, "hv-%02d-west" % i
        children["pair_%02d" % i] = {
            "hosts": {east: dict(local, vmpair_site="east"), west: dict(local, vmpair_site="west")},
            "vars": {
                "vmpair_witness": "qw1",
                "vmpair_storage_vg": "vg_vms",
                "vmpair_links": [
                    {"name": "link0", "network": "10.%d.0.0/24" % (10 + i), "carries": ["cluster", "replication"],
                     "hosts": {east: {"interface": "eth1", "address": "10.%d.0.1" % (10 + i)},
                               west: {"interface": "eth1", "address": "10.%d.0.2" % (10 + i)}}},
                    {"name": "link1", "network": "10.%d.1.0/24" % (10 + i), "carries": ["cluster"],
                     "hosts": {east: {"interface": "eth2", "address": "10.%d.1.1" % (10 + i)},
                               west: {"interface": "eth2", "address": "10.%d.1.2" % (10 + i)}}},
                ],
                "vmpair_fencing": {
                    east: {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.%d" % (2 * i + 10)}},
                    west: {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.%d" % (2 * i + 11)}},
                },
            },
        }  # fmt: skip
    hosts = [h for child in children.values() for h in child["hosts"]]
    return {
        "all": {
            "children": {
                "vmpair_witnesses": {"hosts": {"qw1": {"vmpair_site": "hq", "vmpair_witness_address": "192.0.2.200"}}},
                "vmpair_pairs": {"children": children},
                "kvm_hosts": {"hosts": dict.fromkeys(hosts)},
            }
        }
    }


def playbook_run(name, pairs):
    """(seconds, pair_info runs) of one ansible-playbook run of playbooks/NAME.yml over PAIRS local pairs."""
    base = tempfile.mkdtemp(prefix="status-cost-")
    try:
        path = os.path.join(base, "inventory.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(inventory(pairs), handle)
        playbook = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "playbooks", name + ".yml")
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", path, playbook]
        if name == "validate":
            cmd += ["-e", "vmpair_validate_fail_on=never"]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="0")
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False, cwd=base)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(
                "%s over %d pair(s) failed (%d):\n%s" % (name, pairs, proc.returncode, proc.stdout[-3000:])
            )
        runs = 0
        for block in proc.stdout.split("\nTASK ["):
            if block.startswith(("Read the live state", "Read the pair's live state", "Read it on the peer")):
                runs += block.count("\nok: [")
        return seconds, runs
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()

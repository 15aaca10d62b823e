# SPDX-License-Identifier: GPL-3.0-or-later
"""Time check_site against `ansible-inventory --list` on the same generated site, in one run.

For each size it writes one inventory (PAIRS pairs, VMS_PER_PAIR VMs each, a witness per 100 pairs,
two links per pair, capacity on every host), then times, RUNS times each, alternating:
  ansible-inventory -i INV --list                       (the baseline: read and print the inventory)
  ansible-playbook -i INV duplex.vmpair.check_site      (with the JSON and JUnit reports)
and prints the medians, check_site / ansible-inventory (goal: at most 2x), and how both grow from
the smallest to the largest size. Usage (bench/check_site.sh sets the venv and collections path first):
  python bench/check_site.py [--pairs 100 1000] [--vms-per-pair 10] [--runs 3] [--keep DIR]
"""

import argparse
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NET0 = ipaddress.ip_network("10.0.0.0/9")
NET1 = ipaddress.ip_network("10.128.0.0/9")


def site(pairs, vms_per_pair):
    """The inventory of a valid site as a dict (dumped as JSON, which YAML reads)."""
    witnesses = {
        "qw%d" % w: {"vmpair_site": "hq%d" % w, "vmpair_witness_address": "192.0.2.%d" % (w + 1)}
        for w in range((pairs + 99) // 100)
    }
    children = {}
    for p in range(pairs):
        east, west = "hv%04d-a" % p, "hv%04d-b" % p
        links = []
        for index, (space, carries) in enumerate(((NET0, ["cluster", "replication"]), (NET1, ["cluster"]))):
            net = ipaddress.ip_network("%s/29" % (space.network_address + 8 * p))
            links.append(
                {
                    "name": "link%d" % index,
                    "network": str(net),
                    "carries": carries,
                    "rtt_ms": 0.3,
                    "hosts": {
                        east: {"interface": "eth%d" % (index + 1), "address": str(net.network_address + 1)},
                        west: {"interface": "eth%d" % (index + 1), "address": str(net.network_address + 2)},
                    },
                }
            )
        vms = [
            {
                "name": "vm%05d" % (p * vms_per_pair + v),
                "level": ("ha", "recovery")[v % 2],  # ft is refused (not available yet)
                "vcpus": 2,
                "memory_mib": 4096,
                "preferred_host": (east, west)[v % 2],
            }
            for v in range(vms_per_pair)
        ]
        capacity = {"vcpus": 4 * vms_per_pair, "memory_mib": 8192 * vms_per_pair}
        children["pair%04d" % p] = {
            "hosts": {
                east: {"vmpair_site": "east", "vmpair_host_capacity": capacity, "ansible_host": "192.0.2.250"},
                west: {"vmpair_site": "west", "vmpair_host_capacity": capacity, "ansible_host": "192.0.2.250"},
            },
            "vars": {
                "vmpair_hypervisor": "kvm",
                "vmpair_witness": "qw%d" % (p // 100),
                "vmpair_storage_vg": "vg_vms",
                "vmpair_links": links,
                "vmpair_fencing": {
                    h: {"agent": "fence_ipmilan", "options": {"ip": "192.0.2.9", "password": "{{ vault_bmc }}"}}
                    for h in (east, west)
                },
                "vmpair_watchdog_fencing": True,
                "vmpair_vms": vms,
            },
        }
    return {"all": {"children": {"vmpair_witnesses": {"hosts": witnesses}, "vmpair_pairs": {"children": children}}}}


def timed(cmd, env, out):
    start = time.monotonic()
    with open(out, "w") as handle:
        proc = subprocess.run(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("%s failed (exit %d), see %s" % (" ".join(cmd), proc.returncode, out))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--vms-per-pair", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="write the inventories and outputs here and keep them")
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="check_site_bench.")
    os.makedirs(work, exist_ok=True)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    results = []
    for pairs in args.pairs:
        inventory = os.path.join(work, "site-%d.yml" % pairs)
        with open(inventory, "w") as handle:
            json.dump(site(pairs, args.vms_per_pair), handle)
        inv_cmd = [os.path.join(bindir, "ansible-inventory"), "-i", inventory, "--list"]
        check_cmd = [
            os.path.join(bindir, "ansible-playbook"),
            "-i",
            inventory,
            "duplex.vmpair.check_site",
            "-e",
            "vmpair_check_json_report=%s" % os.path.join(work, "report-%d.json" % pairs),
            "-e",
            "vmpair_check_junit_report=%s" % os.path.join(work, "report-%d.xml" % pairs),
        ]
        inv_times, check_times = [], []
        for run in range(args.runs):
            inv_times.append(timed(inv_cmd, env, os.path.join(work, "inventory-%d.%d.out" % (pairs, run))))
            check_times.append(timed(check_cmd, env, os.path.join(work, "check-%d.%d.out" % (pairs, run))))
        with open(os.path.join(work, "report-%d.json" % pairs)) as handle:
            report = json.load(handle)
        assert report["passed"] and report["counts"]["pairs"] == pairs, report["counts"]
        inv, check = statistics.median(inv_times), statistics.median(check_times)
        results.append((pairs, pairs * args.vms_per_pair, inv, check))
        print(
            "%5d pairs, %6d VMs: ansible-inventory --list %6.2f s, check_site %6.2f s, ratio %.2fx (goal <= 2x)"
            % (pairs, pairs * args.vms_per_pair, inv, check, check / inv),
            flush=True,
        )
    if len(results) > 1:
        (p0, _v0, i0, c0), (p1, _v1, i1, c1) = results[0], results[-1]
        print(
            "growth %d -> %d pairs (x%g): ansible-inventory x%.1f, check_site x%.1f"
            % (p0, p1, p1 / p0, i1 / i0, c1 / c0)
        )
    if args.keep:
        print("medians of %d run(s); inventories, outputs and reports in %s" % (args.runs, work))
    else:
        print("medians of %d run(s)" % args.runs)
        shutil.rmtree(work)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The real-kernel (QEMU VM) lab, median of RUNS (default 3):
#   image build cold (--force) and cached; boot to ssh of 2 and of 3 hosts; site.yml first run and
#   idempotent rerun on the VMs; DRBD initial sync throughput (256 MiB, protocol C, over the bond);
#   crash of the DRBD primary: loss seen, fenced, promoted on the peer (lab.py vm crash).
# Usage: bench/vm_lab.sh [RUNS]. Needs `make deps`. Rebuilds the VM image in place: run it only
# when no other VM lab is up. Uses its own lab (index 6). Prints each run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
lab=vmpair-mol-bench
inventory=lab/.state/vm/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_PIPELINING=true ANSIBLE_NOCOLOR=1 ANSIBLE_TIMEOUT=60
# The Molecule scenario's verify and side_effect playbooks, run outside Molecule on this lab.
export MOLECULE_PROJECT_DIRECTORY=$PWD MOLECULE_SCENARIO_NAME=bench
log=$(mktemp -d)/bench
. bench/lib.sh
for i in $(seq 1 "$runs"); do
  python3 lab/lab.py vm down --name "$lab" >/dev/null
  t=$(now); python3 lab/lab.py vm image --force >"$log.$i.image" 2>&1; add image_cold "$(since "$t")"
  t=$(now); python3 lab/lab.py vm image >/dev/null 2>&1; add image_cached "$(since "$t")"
  t=$(now); python3 lab/lab.py vm up --name "$lab" --index 6 --hosts 2 --inventory "$inventory" >/dev/null 2>&1
  add boot_2 "$(since "$t")"
  python3 lab/lab.py vm down --name "$lab" >/dev/null
  t=$(now); python3 lab/lab.py vm up --name "$lab" --index 6 --inventory "$inventory" >/dev/null 2>&1
  add boot_3 "$(since "$t")"
  t=$(now); ansible-playbook -i "$inventory" playbooks/site.yml >"$log.$i.first" 2>&1; add site_first "$(since "$t")"
  t=$(now); ansible-playbook -i "$inventory" playbooks/site.yml >"$log.$i.rerun" 2>&1; add site_rerun "$(since "$t")"
  grep -q 'changed=0.*failed=0' "$log.$i.rerun" || echo "run $i: rerun was not idempotent (see $log.$i.rerun)" >&2
  ansible-playbook -i "$inventory" molecule/real-kernel/verify.yml \
    -e '{"__test": {"name": "vmpair-test", "lv": "vmpair_test", "size": "256m", "minor": 90, "port": 7789}}' \
    >"$log.$i.verify" 2>&1
  add sync_mib_s "$(grep -o 'initial sync: 256m in [0-9.]* s ([0-9.]* MiB/s)' "$log.$i.verify" | sed 's/.*(\([0-9.]*\) MiB.*/\1/')"
  ansible-playbook -i "$inventory" molecule/real-kernel/crash_drbd.yml \
    -e '{"__test": {"name": "vmpair-test", "lv": "vmpair_test", "size": "256m", "minor": 90, "port": 7789}}' \
    >"$log.$i.crash" 2>&1
  line=$(grep -o 'crash timeline: [^"]*' "$log.$i.crash" | head -n 1)
  field() { grep -o "$1 [0-9.?]* s" <<<"$line" | awk '{print $(NF-1)}'; }
  add crash_loss "$(field 'loss seen')"
  add crash_fenced "$(field fenced)"
  add crash_promoted "$(field promoted)"
  add crash_back "$(field 'back on ssh')"
  add crash_resynced "$(field resynced)"
  echo "run $i: $(for k in "${!results[@]}"; do printf '%s=%s ' "$k" "$(awk '{print $NF}' <<<"${results[$k]}")"; done)"
done
python3 lab/lab.py vm down --name "$lab" >/dev/null
echo "median of $runs (logs: $log.*):"
for k in image_cold image_cached boot_2 boot_3 site_first site_rerun sync_mib_s crash_loss crash_fenced crash_promoted \
  crash_back crash_resynced; do
  printf '  %-15s %s   (runs: %s)\n' "$k" "$(median <<<"${results[$k]:-}")" "${results[$k]:-}"
done

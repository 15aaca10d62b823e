#!/usr/bin/env bash
# `maintenance.yml` with every lab guest on one host: the lab of
# `make demo DEMO_GUESTS=5 DEMO_MEMORY=2048 DEMO_GUEST_PERIOD=10` (guest1..guest5 protected at level ha, all on hv-east;
# 5 x 160 MiB of guests need the 2 GiB hosts). RUNS times (default 1):
#   enter on hv-east: every VM moves live to hv-west, then the node's standby;
#   exit with move_back=true: the node back, its mirrors resynced, every VM moved live back.
# For each: the playbook's time and each VM's downtime as libvirt measured it. At the end every
# guest's ACK sequence (the serial logs of both hosts together) must be whole: no number skipped
# or repeated, so no guest restarted and no acknowledged write was lost.
# Usage: bench/maintenance_vms.sh [RUNS]. Leaves the lab as it found it (every guest on hv-east).
# ENTER_ONLY=1 bench/maintenance_vms.sh: one enter, and the lab is left with hv-east in standby (end
# it with maintenance.yml -e host=hv-east -e action=exit -e move_back=true).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
lab=${DEMO_LAB:-vmpair-demo}
inventory=lab/.state/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
# Each playbook log ends with the time of its slowest tasks.
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
log=$(mktemp -d)/bench
on() { python3 lab/lab.py vm ssh "$lab" "$@"; }
. bench/lib.sh

mapfile -t guests < <(on hv-east -- 'virsh list --name' | grep '^guest' | sort -V)
[ "${#guests[@]}" -gt 0 ] || { echo "no guest runs on hv-east: run make demo DEMO_GUESTS=5 DEMO_MEMORY=2048 DEMO_GUEST_PERIOD=10" >&2; exit 1; }
# The entries as make demo protected them (force_stop: lab_guest_force_stop): a move passes them to the cluster.
vms=$(printf '%s\n' "${guests[@]}" | python3 -c '
import json, sys
print(json.dumps({"vmpair_vms": [{"name": g.strip(), "level": "ha", "preferred_host": "hv-east", "force_stop": True} for g in sys.stdin]}))')
echo "${#guests[@]} VMs on hv-east: ${guests[*]}"

downtimes() {
  local g
  for g in "${guests[@]}"; do
    on "$1" -- "virsh domjobinfo --completed $g" | awk '/Total downtime/ {printf "%s ", $3}'
  done
}
play() { ansible-playbook -i "$inventory" playbooks/maintenance.yml -e host=hv-east -e "$vms" "$@"; }
enter=() exit_=()
for i in $(seq 1 "$runs"); do
  t=$(now)
  play -e action=enter >"$log.enter.$i" 2>&1 || { echo "enter failed: $log.enter.$i" >&2; exit 1; }
  enter+=("$(since "$t")")
  echo "run $i: enter ${enter[-1]} s; downtime (ms) $(downtimes hv-west)"
  [ "${ENTER_ONLY:-0}" = 1 ] && break
  t=$(now)
  play -e action=exit -e move_back=true >"$log.exit.$i" 2>&1 || { echo "exit failed: $log.exit.$i" >&2; exit 1; }
  exit_+=("$(since "$t")")
  echo "run $i: exit with move_back ${exit_[-1]} s; downtime (ms) $(downtimes hv-east)"
done

for g in "${guests[@]}"; do
  for h in hv-east hv-west; do
    on "$h" -- "cat /var/log/vmpair-$g.serial 2>/dev/null || true"
  done | python3 bench/migration_gap.py sequence "$g"
done
echo "median of ${#enter[@]} with ${#guests[@]} VMs (logs: $log.*): enter $(median <<<"${enter[*]}") s," \
  "exit with move_back $(median <<<"${exit_[*]:-}") s"

#!/usr/bin/env bash
# Live migration and host maintenance on the demo lab (`make demo`: the real-kernel VMs, guest1
# protected at level ha and running on hv-east), RUNS times (default 2) each:
#   migrate.yml hv-east -> hv-west and back: the playbook's time, libvirt's downtime and elapsed
#   time, and the guest's own gap: the time between its last acknowledged write seen on the source
#   and its first one seen on the target (it writes every 0.2 s, so the gap includes one period;
#   both serial logs are followed from this machine, so one clock times both);
#   maintenance.yml enter on hv-east (the VM moves live to hv-west, standby) and exit with
#   move_back=true (back from standby, resynced, the VM moved live back).
# Every ACK sequence is checked: no number lost or repeated across a move.
# Usage: bench/migration.sh [RUNS]. Leaves the lab as it found it (guest1 on hv-east).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2}
lab=${DEMO_LAB:-vmpair-demo}
inventory=lab/.state/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_NOCOLOR=1
vms='{"vmpair_vms": [{"name": "guest1", "level": "ha", "preferred_host": "hv-east"}]}'
log=$(mktemp -d)/bench
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$(now)"; }
declare -A results
add() { results[$1]+="$2 "; }

# Follow a host's serial log of the guest, each line stamped with this machine's clock.
follow() {
  python3 lab/lab.py vm ssh "$lab" "$1" -- 'tail -n 0 -F /var/log/vmpair-guest1.serial 2>/dev/null' \
    | while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done >"$2"
}

# One move of guest1 from $1 to $2 (inventory names) by the command after them.
measure() {
  local from=$1 to=$2 name=$3
  shift 3
  follow "$from" "$log.$name.from" &
  local f1=$!
  follow "$to" "$log.$name.to" &
  local f2=$!
  sleep 3
  local t
  t=$(now)
  "$@" >"$log.$name.playbook" 2>&1 || { echo "$name failed: $log.$name.playbook" >&2; exit 1; }
  add "$name" "$(since "$t")"
  sleep 5
  kill "$f1" "$f2" 2>/dev/null || true
  pkill -f "tail -n 0 -F /var/log/vmpair-guest1.serial" 2>/dev/null || true
  python3 - "$log.$name.from" "$log.$name.to" <<'EOF' >"$log.$name.gap"
import re, sys
def acks(path):
    out = []
    for line in open(path, errors="replace"):
        m = re.match(r"(\S+) .*VMPAIR-ACK (\d+)", line)
        if m:
            out.append((float(m.group(1)), int(m.group(2))))
    return out
src, dst = acks(sys.argv[1]), acks(sys.argv[2])
if not src or not dst:
    sys.exit("no ACK seen on one side")
last, first = max(src, key=lambda a: a[1]), min(dst, key=lambda a: a[1])
numbers = sorted(n for _t, n in src + dst)
if numbers != list(range(numbers[0], numbers[-1] + 1)):
    sys.exit("ACK sequence broken: %s ... %s" % (numbers[:3], numbers[-3:]))
print("%.2f %d %d" % (first[0] - last[0], last[1], first[1]))
EOF
  read -r gap last first <"$log.$name.gap"
  add "${name}_gap" "$gap"
  local job
  job=$(python3 lab/lab.py vm ssh "$lab" "$to" -- 'virsh domjobinfo --completed guest1')
  add "${name}_downtime_ms" "$(awk '/Total downtime/ {print $3}' <<<"$job")"
  add "${name}_libvirt_s" "$(awk '/^Time elapsed:/ {printf "%.1f", $3 / 1000}' <<<"$job")"
  echo "  $name: ACK $last on $from, ACK $first on $to; gap ${gap} s; $(grep -E 'Total downtime' <<<"$job" | tr -s ' ')"
}

play() { ansible-playbook -i "$inventory" "$@" -e "$vms"; }
for i in $(seq 1 "$runs"); do
  echo "run $i"
  measure hv-east hv-west migrate_to_west play playbooks/migrate.yml -e vm=guest1 -e to=hv-west
  measure hv-west hv-east migrate_to_east play playbooks/migrate.yml -e vm=guest1 -e to=hv-east
  measure hv-east hv-west maintenance_enter play playbooks/maintenance.yml -e host=hv-east -e action=enter
  measure hv-west hv-east maintenance_exit play playbooks/maintenance.yml -e host=hv-east -e action=exit \
    -e move_back=true
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "median of $runs (logs: $log.*):"
for k in migrate_to_west migrate_to_east maintenance_enter maintenance_exit; do
  for s in "" _gap _downtime_ms _libvirt_s; do
    printf '  %-32s %s   (runs: %s)\n' "$k$s" "$(median <<<"${results[$k$s]:-}")" "${results[$k$s]:-}"
  done
done

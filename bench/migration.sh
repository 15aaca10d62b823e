#!/usr/bin/env bash
# Live migration and host maintenance on the demo lab (`make demo`: the real-kernel VMs, guest1
# protected at level ha and running on hv-east), RUNS times (default 2) each:
#   migrate.yml hv-east -> hv-west and back: the playbook's time, libvirt's downtime and elapsed
#   time, and the move as the guest lived it (bench/migration_gap.py), followed on both hosts from
#   this machine so that one clock times both: the gap in its disk writes (the write count of its
#   DRBD device, read every 0.25 s; only the local QEMU's writes count there), the gap in its
#   "VMPAIR-ACK" lines, and the write gap cut by libvirt's lifecycle events into last write to
#   pause, pause to resume and resume to first write. The guest writes every 0.2 s, plus the
#   time a write takes, so each gap includes about one period;
#   maintenance.yml enter on hv-east (the VM moves live to hv-west, standby) and exit with
#   move_back=true (back from standby, resynced, the VM moved live back).
# Every ACK sequence is checked: no number lost or repeated across a move.
# What the lab shows (2-core machine, hosts and guest both emulated by TCG): libvirt pauses the
# guest 0.1-0.6 s, then the guest needs 12-42 s for its next write on the target, not because it
# waits for the disk (no write in flight) but for the CPU: the target host's one emulated CPU is
# 100 % busy with the cluster's actions after the move and the playbook's tasks, and the guest's
# QEMU gets about 30 % of it. The sampling itself takes CPU too: the playbook times of a run with
# it are longer than without (migrate.yml: about 290 s without, 480-540 s with a sampler that forked
# four processes every 0.1 s; about 330 s with this one, which forks one every 0.25 s). Each
# playbook log ends with its slowest tasks: in the lab, the two CIB transactions (pcs, started on an
# emulated CPU for each command) take most of the time; libvirt's copy takes 7-12 s.
# Usage: bench/migration.sh [RUNS]. Leaves the lab as it found it (guest1 on hv-east).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2}
lab=${DEMO_LAB:-vmpair-demo}
inventory=lab/.state/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
# Each playbook log ends with the time of its slowest tasks.
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
# guest1 as make demo protected it (force_stop: lab_guest_force_stop): a move passes it to the cluster.
vms='{"vmpair_vms": [{"name": "guest1", "level": "ha", "preferred_host": "hv-east", "force_stop": true}]}'
log=$(mktemp -d)/bench
. bench/lib.sh

# Follow three things on a host, each line stamped with this machine's clock, in PREFIX.serial,
# PREFIX.writes and PREFIX.events: the guest's serial log, its disk writes ("W WRITES IN_FLIGHT
# QEMU BUSY IDLE": the VM's DRBD device's write count and requests in flight, the CPU ticks of its
# QEMU process and the host's busy and idle CPU ticks, each time the first two change and every
# 10 samples; bash builtins but for sleep, so that the sampling itself costs little CPU) and
# libvirt's lifecycle events.
follow() {
  local host=$1 prefix=$2 what
  # shellcheck disable=SC2016 # expanded on the lab host
  for what in serial:'tail -n 0 -F /var/log/vmpair-guest1.serial 2>/dev/null' \
    writes:'b=$(basename "$(drbdadm sh-dev vm-guest1)"); p= q=0 n=0
      while sleep 0.25; do
        read -r _ _ _ _ w _ _ _ f _ 2>/dev/null </sys/block/$b/stat || continue; n=$((n + 1))
        [ -d "/proc/$q" ] || { q=$(pgrep -f "[q]emu-system.*guest=guest1" | head -n 1); q=${q:-0}; }
        c=0; [ "$q" = 0 ] || { read -r -a st <"/proc/$q/stat" && c=$((st[13] + st[14])); } 2>/dev/null
        read -r _ u nn s i io x y z _ </proc/stat
        [ "$w $f" = "$p" ] && [ $((n % 10)) != 0 ] || echo "W $w $f $c $((u + nn + s + x + y + z)) $((i + io))"
        p="$w $f"
      done' \
    events:'virsh event --loop --event lifecycle --domain guest1'; do
    python3 lab/lab.py vm ssh "$lab" "$host" -- "${what#*:}" \
      | python3 bench/migration_gap.py stamp >"$prefix.${what%%:*}" &
  done
}
unfollow() {
  local h
  for h in "$@"; do
    python3 lab/lab.py vm ssh "$lab" "$h" -- \
      'pkill -f "[t]ail -n 0 -F /var/log/vmpair-guest1"; pkill -f "[w]hile sleep 0.25"; pkill -f "[v]irsh event --loop"' \
      >/dev/null 2>&1 || true
  done
  wait
}

# One move of guest1 from $1 to $2 (inventory names) by the command after them.
measure() {
  local from=$1 to=$2 name=$3
  shift 3
  follow "$from" "$log.$name.from"
  follow "$to" "$log.$name.to"
  sleep 3
  local t
  t=$(now)
  "$@" >"$log.$name.playbook" 2>&1 || { echo "$name failed: $log.$name.playbook" >&2; unfollow "$from" "$to"; exit 1; }
  add "$name" "$(since "$t")"
  sleep 5
  unfollow "$from" "$to"
  python3 bench/migration_gap.py "$log.$name.from" "$log.$name.to" >"$log.$name.gap"
  local kv
  for kv in $(<"$log.$name.gap"); do
    case $kv in last_ack=* | first_ack=*) ;; *) add "${name}_${kv%%=*}" "${kv#*=}" ;; esac
  done
  local job
  job=$(python3 lab/lab.py vm ssh "$lab" "$to" -- 'virsh domjobinfo --completed guest1')
  add "${name}_downtime_ms" "$(awk '/Total downtime/ {print $3}' <<<"$job")"
  add "${name}_libvirt_s" "$(awk '/^Time elapsed:/ {printf "%.1f", $3 / 1000}' <<<"$job")"
  echo "  $name: $(<"$log.$name.gap"); $(grep -E 'Total downtime' <<<"$job" | tr -s ' ')"
}

play() { ansible-playbook -i "$inventory" "$@" -e "$vms"; }
# A run that stopped half way may have left guest1 on hv-west: that move back is measured too.
if python3 lab/lab.py vm ssh "$lab" hv-east -- 'crm_resource --resource vm-guest1 --locate' | grep -q 'running on: hv-west'; then
  echo "guest1 runs on hv-west: moving it back to hv-east first"
  measure hv-west hv-east migrate_to_east play playbooks/migrate.yml -e vm=guest1 -e to=hv-east
fi
for i in $(seq 1 "$runs"); do
  echo "run $i"
  measure hv-east hv-west migrate_to_west play playbooks/migrate.yml -e vm=guest1 -e to=hv-west
  measure hv-west hv-east migrate_to_east play playbooks/migrate.yml -e vm=guest1 -e to=hv-east
  measure hv-east hv-west maintenance_enter play playbooks/maintenance.yml -e host=hv-east -e action=enter
  measure hv-west hv-east maintenance_exit play playbooks/maintenance.yml -e host=hv-east -e action=exit \
    -e move_back=true
done
echo "median of $runs (logs: $log.*):"
for k in migrate_to_west migrate_to_east maintenance_enter maintenance_exit; do
  for s in "" _write_gap _ack_gap _write_to_pause _pause_to_resume _resume_to_write _resume_cpu _resume_in_flight _resume_host_busy _downtime_ms _libvirt_s; do
    printf '  %-32s %s   (runs: %s)\n' "$k$s" "$(median <<<"${results[$k$s]:-}")" "${results[$k$s]:-}"
  done
done

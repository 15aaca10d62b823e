#!/usr/bin/env bash
# Time site.yml on the container lab from fresh containers, and the idempotent rerun.
# Usage: bench/site_timing.sh [RUNS]   (default 3; prints each run and the medians)
# Needs `make deps` and the lab images (`python3 lab/lab.py image`). Uses its own lab, index 5.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
lab=vmpair-bench
inventory=lab/.state/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_PIPELINING=true ANSIBLE_NOCOLOR=1
log=$(mktemp -d)/bench
first=() rerun=()
now() { date +%s.%N; }
for i in $(seq 1 "$runs"); do
  python3 lab/lab.py down --name "$lab" >/dev/null
  python3 lab/lab.py up --name "$lab" --index 5 --inventory "$inventory" >/dev/null
  t0=$(now); ansible-playbook -i "$inventory" playbooks/site.yml >"$log.$i.first" 2>&1; t1=$(now)
  ansible-playbook -i "$inventory" playbooks/site.yml >"$log.$i.rerun" 2>&1; t2=$(now)
  grep -q 'changed=0.*failed=0' "$log.$i.rerun" || echo "run $i: rerun was not idempotent (see $log.$i.rerun)" >&2
  first+=("$(python3 -c "print($t1 - $t0)")") rerun+=("$(python3 -c "print($t2 - $t1)")")
  printf 'run %d: site.yml first %.1f s, rerun %.1f s\n' "$i" "${first[-1]}" "${rerun[-1]}"
done
python3 lab/lab.py down --name "$lab" >/dev/null
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'median of %d: site.yml first run %.1f s, idempotent rerun %.1f s\n' "$runs" "$(median "${first[@]}")" "$(median "${rerun[@]}")"

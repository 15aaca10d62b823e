#!/usr/bin/env bash
# What the guest sees while it is unprotected and protected again live: the longest gap between two of
# its acknowledged writes during each playbook, against its normal pace, and each playbook's time.
# Usage: bench/protect_pause.sh [CYCLES]   (default 1; each cycle: unprotect.yml, then protect.yml)
# Needs the demo lab with its test VM protected (`make demo`), i.e. lab vmpair-demo, VM guest1. The guest
# writes a record every 0.2 s and prints "VMPAIR-ACK n" after each fsync; the host running it timestamps
# every line of its serial console, so a pause of the guest's disk shows as a long gap between ACKs.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-1}
lab=vmpair-demo
inventory=lab/.state/$lab.yml
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_PIPELINING=true ANSIBLE_NOCOLOR=1
vars='{"vmpair_vms": [{"name": "guest1", "level": "ha", "preferred_host": "hv-east"}], "vms": "guest1"}'
ssh_vm() { python3 lab/lab.py vm ssh "$lab" "$1" -- "${@:2}"; }
. bench/lib.sh
where=$(ssh_vm east crm_resource --resource vm-guest1 --locate 2>/dev/null | sed -n 's/.*running on: hv-//p')
where=${where:-east}
log=$(mktemp -d)
ssh_vm "$where" "cat >/root/vmpair-ack-stamp.sh" <<'EOS'
tail -n0 -F /var/log/vmpair-guest1.serial | while IFS= read -r l; do echo "$(date +%s.%N) $l"; done
EOS
ssh_vm "$where" "nohup sh /root/vmpair-ack-stamp.sh >/root/acks.ts 2>/dev/null </dev/null &"
sleep 10
marks=()
for i in $(seq 1 "$cycles"); do
  t0=$(now); ansible-playbook -i "$inventory" playbooks/unprotect.yml -e "$vars" >"$log/unprotect.$i" 2>&1; t1=$(now)
  ansible-playbook -i "$inventory" playbooks/protect.yml -e "$vars" >"$log/protect.$i" 2>&1; t2=$(now)
  marks+=("$t0 $t1 $t2")
  if ! grep -q 'failed=0' "$log/unprotect.$i" || ! grep -q 'failed=0' "$log/protect.$i"; then
    echo "cycle $i failed: see $log" >&2
    exit 1
  fi
done
sleep 5
ssh_vm "$where" "pkill -f '[t]ail -n0 -F /var/log/vmpair-guest1.serial'; cat /root/acks.ts" >"$log/acks.ts"
python3 - "$log/acks.ts" "${marks[@]}" <<'EOF'
import statistics
import sys

acks = [float(line.split()[0]) for line in open(sys.argv[1]) if "VMPAIR-ACK" in line]
gaps = [(b - a, b) for a, b in zip(acks, acks[1:], strict=False)]


def worst(start, end):
    inside = [g for g, t in gaps if start <= t <= end]
    return max(inside) if inside else float("nan"), len(inside)


before = [g for g, t in gaps if t < float(sys.argv[2].split()[0])]
print(f"normal pace: median gap between acknowledged writes {statistics.median(before):.2f} s ({len(before)} gaps)")
for n, mark in enumerate(sys.argv[2:], 1):
    t0, t1, t2 = map(float, mark.split())
    w_un, n_un = worst(t0, t1)
    w_pr, n_pr = worst(t1, t2)
    print(f"cycle {n}: unprotect.yml {t1 - t0:.1f} s, longest gap {w_un:.2f} s over {n_un} writes; "
          f"protect.yml {t2 - t1:.1f} s, longest gap {w_pr:.2f} s over {n_pr} writes")
EOF

#!/usr/bin/env bash
# Run the Molecule scenarios for `make molecule`.
#   scripts/molecule.sh [--all | -s NAME ...]
# --all (the default) runs the container-lab scenarios one after the other, then the real-kernel
# scenario (QEMU VMs under TCG, about 27 min on 2 cores: it protects a nested VM and crashes its
# host) when VMPAIR_REAL_KERNEL=1, which `make molecule` and `make test` set. MOLECULE_PARALLEL=1
# runs real-kernel in the background while the container scenarios run in the foreground instead
# (its output goes to .build/molecule-real-kernel.log and is printed when it ends); `make` keeps it
# at 0, because the two labs starve each other on a 2-core machine.
# Each scenario uses its own lab (index), so they do not share hosts or addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 0 && $1 != --all ]]; then
  exec molecule test "$@"
fi
mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
background=()
foreground=()
for s in "${scenarios[@]}"; do
  if [[ $s == real-kernel ]]; then
    if [[ ${VMPAIR_REAL_KERNEL:-0} != 1 ]]; then
      echo "molecule: scenario real-kernel skipped (make test-real-kernel runs it)"
    elif [[ ${MOLECULE_PARALLEL:-1} != 0 ]]; then
      background+=("$s")
    else
      foreground+=("$s")
    fi
  else
    foreground+=("$s")
  fi
done
mkdir -p .build
pids=()
for s in "${background[@]}"; do
  echo "molecule: scenario $s runs in the background; its log: .build/molecule-$s.log"
  (
    start=$SECONDS
    if molecule test -s "$s" >".build/molecule-$s.log" 2>&1; then rc=0; else rc=$?; fi
    echo "molecule: scenario $s finished with rc $rc in $((SECONDS - start)) s" >>".build/molecule-$s.log"
    exit "$rc"
  ) &
  pids+=("$!")
done
failed=()
for s in "${foreground[@]}"; do
  start=$SECONDS
  if molecule test -s "$s"; then
    echo "molecule: scenario $s passed in $((SECONDS - start)) s"
  else
    echo "molecule: scenario $s FAILED after $((SECONDS - start)) s"
    failed+=("$s")
  fi
done
for i in "${!pids[@]}"; do
  s=${background[$i]}
  if ! wait "${pids[$i]}"; then failed+=("$s"); fi
  echo "=============================== molecule scenario $s (background) ==============================="
  cat ".build/molecule-$s.log"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "molecule: FAILED scenarios: ${failed[*]}" >&2
  exit 1
fi
echo "molecule: all scenarios passed: ${foreground[*]} ${background[*]}"

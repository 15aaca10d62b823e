#!/usr/bin/env bash
# Run the Molecule scenarios for `make molecule`, one after the other, each step timed.
#   scripts/molecule.sh [SCENARIO ...]   (default: $MOLECULE_SCENARIOS, else every scenario but real-kernel)
# `make test` runs default (container lab: site.yml, idempotence, check mode, verify, then the
# faults on the same pair), xen (container lab) and real-kernel-quick (QEMU VMs with Debian's kernel:
# site.yml, a running VM protected while it writes, its host's plug pulled). The whole real-kernel
# scenario (about 50 min on 2 cores) is `make test-real-kernel`. VMPAIR_REAL_KERNEL=0 leaves every
# real-kernel scenario out.
# Each scenario uses its own lab (index), so they share no hosts or addresses. A failed scenario
# does not stop the others; the exit status is 1 if any failed. Each scenario's time per step is
# printed after it (scripts/steptimes.py) and appended to $VMPAIR_TEST_TIMES when set.
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
  # shellcheck disable=SC2206 # a space-separated list
  scenarios=(${MOLECULE_SCENARIOS:-})
fi
if [[ ${#scenarios[@]} -eq 0 ]]; then
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' \
    | xargs -n1 basename | grep -vx real-kernel | sort)
fi
selected=()
for s in "${scenarios[@]}"; do
  if [[ $s == real-kernel* && ${VMPAIR_REAL_KERNEL:-1} == 0 ]]; then
    echo "molecule: scenario $s skipped (VMPAIR_REAL_KERNEL=0)"
  else
    selected+=("$s")
  fi
done
failed=()
for s in "${selected[@]}"; do
  start=$SECONDS
  if molecule test -s "$s" 2>&1 | python3 scripts/steptimes.py "$s" "${VMPAIR_TEST_TIMES:-}"; then
    status=passed
  else
    status=FAILED
    failed+=("$s")
  fi
  echo "molecule: scenario $s $status after $((SECONDS - start)) s"
  if [[ -n ${VMPAIR_TEST_TIMES:-} ]]; then
    printf 'molecule %s\t%s\t%d\n' "$s" "$status" "$((SECONDS - start))" >>"$VMPAIR_TEST_TIMES"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "molecule: FAILED scenarios: ${failed[*]}" >&2
  exit 1
fi
echo "molecule: all scenarios passed: ${selected[*]}"

#!/usr/bin/env bash
# `make test`: every stage in turn, each timed, then a table of where the time went.
#   scripts/test.sh [STAGE ...]     (default: deps lint sanity importer unit matrix ee molecule)
# A failed stage does not stop the later ones (one run shows every failure); the exit status is 1
# when any failed. The times (and Molecule's per scenario and per step, from scripts/steptimes.py)
# are in .build/test-times.tsv, and printed at the end, after the failed Molecule tasks' own lines
# (.build/test-failures.txt): the end of the log says why.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(deps lint sanity importer unit matrix ee molecule)
mkdir -p .build
export VMPAIR_TEST_TIMES=$PWD/.build/test-times.tsv VMPAIR_TEST_FAILURES=$PWD/.build/test-failures.txt
: >"$VMPAIR_TEST_TIMES"
: >"$VMPAIR_TEST_FAILURES"
failed=()
total_start=$SECONDS
for stage in "${stages[@]}"; do
  start=$SECONDS
  echo "=============================== make $stage ==============================="
  if make "$stage"; then
    status=passed
  else
    status=FAILED
    failed+=("$stage")
  fi
  printf 'make %s\t%s\t%d\n' "$stage" "$status" "$((SECONDS - start))" >>"$VMPAIR_TEST_TIMES"
  # deps is what every later stage needs: nothing can run without it
  if [[ $stage == deps && $status == FAILED ]]; then break; fi
  # The Debian 13 root that matrix needs is mostly downloads and dpkg: build it beside the stages
  # before matrix (scripts/debian13.sh holds a lock, so matrix waits for it, then finds it built).
  if [[ $stage == deps && " ${stages[*]} " == *" matrix "* ]]; then
    echo "make debian13-root: in the background (.build/debian13-root.log)"
    make debian13-root >.build/debian13-root.log 2>&1 &
  fi
done
if [[ -s $VMPAIR_TEST_FAILURES ]]; then
  echo
  echo "=============================== the tasks that failed ==============================="
  cat "$VMPAIR_TEST_FAILURES"
fi
echo
echo "=============================== where the time went ==============================="
awk -F'\t' '{ printf "  %-34s %-12s %6d s\n", $1, $2, $3 }' "$VMPAIR_TEST_TIMES"
printf '  %-34s %-12s %6d s (%d min)\n' "make test" "" "$((SECONDS - total_start))" "$(((SECONDS - total_start + 59) / 60))"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "make test: FAILED stages: ${failed[*]}" >&2
  exit 1
fi
echo "make test: every stage passed: ${stages[*]}"

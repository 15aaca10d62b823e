#!/usr/bin/env bash
# Run the Molecule scenarios for `make molecule`, one after the other, each step timed.
#   scripts/molecule.sh [SCENARIO ...]   (default: $MOLECULE_SCENARIOS, else every scenario but real-kernel)
# `make test` runs default (container lab: site.yml, idempotence, check mode, verify, then the
# faults on the same pair), xen (container lab) and real-kernel-quick (QEMU VMs with Debian's kernel:
# site.yml, a running VM protected while it writes, its host's plug pulled). The whole real-kernel
# scenario (about 50 min on 2 cores) is `make test-real-kernel`, the Debian 12 to 13 upgrade
# `make test-release-upgrade`. VMPAIR_REAL_KERNEL=0 leaves every
# real-kernel scenario out.
# Each scenario uses its own lab (index), so they share no hosts or addresses. A failed scenario
# does not stop the others; the exit status is 1 if any failed. Each scenario's time per step is
# printed after it (scripts/steptimes.py) and appended to $VMPAIR_TEST_TIMES when set; each failed
# task's account to $VMPAIR_TEST_FAILURES when set.
#
# A scenario runs on .venv's ansible-core unless $MOLECULE_CORES names another for it, as
# SCENARIO=CORE words (MOLECULE_CORES="default=2.21 xen=2.21"): Molecule and ansible-core then come
# from requirements-CORE.txt, in the Debian 13 root (`make debian13-root` first; its venv is made
# here when missing), through `scripts/debian13.sh run --core CORE --host-podman`, while the lab's
# containers stay the host's. Each scenario's line says which ansible-core it ran on.
#
# MOLECULE_TEST_ARGS: more words for `molecule test`, e.g. "--destroy never" to keep a failed
# scenario's lab for a look (then `make lab-down`).
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A core_of=()
for word in ${MOLECULE_CORES:-}; do
  if [[ $word != ?*=?* ]]; then
    echo "molecule: MOLECULE_CORES: '$word' is not SCENARIO=CORE (e.g. default=2.21)" >&2
    exit 2
  fi
  core_of[${word%%=*}]=${word#*=}
done
scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
  # shellcheck disable=SC2206 # a space-separated list
  scenarios=(${MOLECULE_SCENARIOS:-})
fi
if [[ ${#scenarios[@]} -eq 0 ]]; then
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' \
    | xargs -n1 basename | grep -vx -e real-kernel -e release-upgrade -e site-loss | sort)
fi
selected=()
for s in "${scenarios[@]}"; do
  if [[ ($s == real-kernel* || $s == site-loss) && ${VMPAIR_REAL_KERNEL:-1} == 0 ]]; then
    echo "molecule: scenario $s skipped (VMPAIR_REAL_KERNEL=0)"
  else
    selected+=("$s")
  fi
done

in_core() {
  # in_core CORE CMD...: CMD in the Debian 13 root on CORE's venv, the host's podman and lab.py,
  # with this environment's Ansible, Molecule and lab settings (the root starts from an empty one).
  local core=$1 passenv=() kv
  shift
  while IFS= read -r -d '' kv; do
    case $kv in
    ANSIBLE_* | MOLECULE_* | VMPAIR_* | PY_COLORS=* | NO_COLOR=*) passenv+=("$kv") ;;
    esac
  done < <(env -0)
  scripts/debian13.sh run --core "$core" --host-podman env "${passenv[@]}" "$@"
}

core_version() {
  # core_version [CORE]: the `ansible --version` headline a scenario runs with (CORE's, or .venv's).
  if [[ -n ${1:-} ]]; then in_core "$1" ansible --version; else ansible --version; fi 2>/dev/null | sed -n 1p
}

run_scenario() {
  # run_scenario SCENARIO [CORE]: `molecule test -s SCENARIO`, each step timed.
  local s=$1 core=${2:-} run=() where=""
  if [[ -n $core ]]; then
    if ! scripts/debian13.sh venv "$core"; then
      echo "molecule: no Debian 13 root or no venv for ansible-core $core (make debian13-root)" >&2
      return 1
    fi
    if ! scripts/debian13.sh run --core "$core" sh -c 'command -v molecule' >/dev/null; then
      echo "molecule: no molecule in requirements-$core.txt (MOLECULE_CORES)" >&2
      return 1
    fi
    run=(in_core "$core")
    where=" (Debian 13 root, the host's podman and lab)"
  fi
  echo "molecule: scenario $s on $(core_version "$core")$where"
  # shellcheck disable=SC2086  # MOLECULE_TEST_ARGS is words
  "${run[@]}" molecule test -s "$s" ${MOLECULE_TEST_ARGS:-} 2>&1 | python3 scripts/steptimes.py "$s" "${VMPAIR_TEST_TIMES:-}" "${VMPAIR_TEST_FAILURES:-}"
}

failed=()
for s in "${selected[@]}"; do
  start=$SECONDS
  core=${core_of[$s]:-}
  if run_scenario "$s" "$core"; then
    status=passed
  else
    status=FAILED
    failed+=("$s")
  fi
  label="$s${core:+ on $core}"
  echo "molecule: scenario $label $status after $((SECONDS - start)) s"
  if [[ -n ${VMPAIR_TEST_TIMES:-} ]]; then
    printf 'molecule %s\t%s\t%d\n' "$label" "$status" "$((SECONDS - start))" >>"$VMPAIR_TEST_TIMES"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "molecule: FAILED scenarios: ${failed[*]}" >&2
  exit 1
fi
echo "molecule: all scenarios passed: ${selected[*]}"

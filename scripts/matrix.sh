#!/usr/bin/env bash
# `make matrix`: ansible-test sanity and the product's unit tests (tests/unit; the lab's, bench's and
# AWX's tests in tests/lab run once, in `make unit`) on the newer ansible-core releases, each in
# the Debian 13 root (scripts/debian13.sh; they need Python 3.12 or later). The main pipeline
# (`make sanity`, `make unit`, Molecule) runs on .venv's release. The cores run side by side, one
# log each (.build/matrix-CORE.log), printed when both are done.
#   scripts/matrix.sh "APT PACKAGES" CORE...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
packages=$1
shift
cores=("$@")

scripts/debian13.sh root "$packages" || exit 1
for core in "${cores[@]}"; do
    scripts/debian13.sh venv "$core" || exit 1
done

in_core() {
    # in_core CORE CMD...: CMD in the root with CORE's venv and a HOME of its own. The cores run side
    # by side, and ansible-test keeps its sanity venvs under ~/.ansible/test with names that do not
    # tell the cores apart: with one HOME, both built the same venv at once and one failed
    # ("does not have pip available").
    local core=$1
    shift
    # shellcheck disable=SC2016  # the inner script's variables are its own
    scripts/debian13.sh run --core "$core" env HOME="/root/home-$core" \
        /bin/sh -c 'mkdir -p "$HOME" && exec "$@"' in_core "$@"
}

one_core() {
    local core=$1 status=0
    echo "matrix $core: $(in_core "$core" ansible --version 2>/dev/null | head -n 1)"
    # ansible-test wants the collection under ansible_collections/NS/NAME: one copy per core.
    in_core "$core" scripts/sanity.sh ".build/matrix-$core" --venv --requirements --python 3.13 --color no || status=1
    in_core "$core" env PYTHONPATH="$PWD/.build/collections" ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 \
        pytest tests/unit -q -p no:cacheprovider || status=1
    return $status
}

declare -A pids
for core in "${cores[@]}"; do
    one_core "$core" >".build/matrix-$core.log" 2>&1 &
    pids[$core]=$!
done
failed=()
for core in "${cores[@]}"; do
    if ! wait "${pids[$core]}"; then failed+=("$core"); fi
    echo "=============================== matrix: ansible-core $core ==============================="
    cat ".build/matrix-$core.log"
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "matrix: FAILED on ansible-core ${failed[*]} (logs: .build/matrix-CORE.log)" >&2
    exit 1
fi
echo "matrix: sanity and unit tests passed on ansible-core ${cores[*]}"

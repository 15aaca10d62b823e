#!/usr/bin/env bash
# Time check_site against `ansible-inventory --list` on generated sites of 100 and 1,000 pairs
# (10 VMs per pair: 1,000 and 10,000 VMs), in the same run. Needs `make deps`.
# Usage: bench/check_site.sh [bench/check_site.py options, e.g. --runs 5 --pairs 100 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.build/collections}
export PATH=$PWD/.venv/bin:$PATH
exec python bench/check_site.py "$@"

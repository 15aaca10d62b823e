#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection's files (tracked and untracked but not
# ignored) at BUILD/sanity/ansible_collections/duplex/vmpair: ansible-test needs that path and
# resolves symlinks, so the .build/collections link cannot be used.
# Usage: scripts/sanity.sh BUILD_DIR [ansible-test sanity options...]
set -euo pipefail

build=$1
shift
repo_root=$(cd "$(dirname "$0")/.." && pwd)
copy="$build/sanity/ansible_collections/duplex/vmpair"

# Fresh copy each run, but keep ansible-test's tests/output (its delegation venv and caches).
keep="$build/sanity/output.keep"
rm -rf "$keep"
if [[ -d "$copy/tests/output" ]]; then
    mv "$copy/tests/output" "$keep"
fi
rm -rf "$copy"
mkdir -p "$copy"
cd "$repo_root"
# Files git knows about or would add; skip tracked files deleted in the work tree.
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do
        if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
    done \
    | tar --null --no-recursion -T - -cf - \
    | tar -xf - -C "$copy"

# ansible-test lists a collection's files through git when it sits in a repository: give the
# copy one of its own so the file list is exactly the copied set.
if [[ -d "$keep" ]]; then
    mkdir -p "$copy/tests"
    mv "$keep" "$copy/tests/output"
fi

cd "$copy"
git init -q
git add -A

# ansible-test bootstraps pip into its sanity venvs with a get-pip script it downloads from a CI
# file host that is not reachable here; it uses a cached copy when one exists. Cache a stand-in
# that does the same with the interpreter's own ensurepip and the package index.
pip_version=$(python3 - <<'PY'
import pathlib
import re

import ansible_test

source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
bootstrap="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
# Rewritten whenever its text here changes (a copy from an older version of this script is replaced).
stand_in=$(cat <<'PY'
"""Stand-in for ansible-test's get-pip bootstrap script (written by duplex.vmpair scripts/sanity.sh).

ansible-test runs it in a venv created without pip, with get-pip's arguments (pinned pip, and on
newer releases get-pip's own --no-setuptools/--no-wheel, which pip itself does not know) in
sys.argv[1:]."""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *args])
PY
)
if [[ ! -s "$bootstrap" || "$(cat "$bootstrap")" != "$stand_in" ]]; then
    mkdir -p "$(dirname "$bootstrap")"
    printf '%s\n' "$stand_in" >"$bootstrap.tmp"
    mv "$bootstrap.tmp" "$bootstrap"
fi

exec ansible-test sanity "$@"

#!/usr/bin/env bash
# Vendor the collections the tests need (Galaxy is not reachable; the PyPI `ansible` package
# ships them) and link this repository into the tree so it resolves as duplex.vmpair.
# Usage: scripts/vendor-collections.sh PIP ANSIBLE_VERSION DEST   (DEST: .../collections)
set -euo pipefail

pip=$1
version=$2
dest=$3
collections=(containers/podman ansible/posix)
repo_root=$(cd "$(dirname "$0")/.." && pwd)
marker="$dest/.vendored-ansible-$version"

if [[ ! -e "$marker" ]]; then
    download="$(dirname "$dest")/download"
    wheel="$download/ansible-$version-py3-none-any.whl"
    if [[ ! -s "$wheel" ]]; then
        mkdir -p "$download"
        "$pip" download -qq --no-deps --only-binary=:all: -d "$download" "ansible==$version"
    fi
    for c in "${collections[@]}"; do
        rm -rf "${dest:?}/ansible_collections/$c"
    done
    mkdir -p "$dest"
    python3 - "$wheel" "$dest" "${collections[@]}" <<'PY'
import sys
import zipfile

wheel, dest, *wanted = sys.argv[1:]
prefixes = tuple(f"ansible_collections/{c}/" for c in wanted)
with zipfile.ZipFile(wheel) as zf:
    members = [m for m in zf.namelist() if m.startswith(prefixes)]
    for c in wanted:
        if not any(m.startswith(f"ansible_collections/{c}/") for m in members):
            sys.exit(f"{wheel}: no ansible_collections/{c}")
    zf.extractall(dest, members)
PY
    rm -f "$dest"/.vendored-ansible-*
    touch "$marker"
fi

# This repository as duplex.vmpair (relative, so the tree can move).
link="$dest/ansible_collections/duplex/vmpair"
mkdir -p "$(dirname "$link")"
target=$(realpath --relative-to="$(dirname "$link")" "$repo_root")
if [[ "$(readlink "$link" 2>/dev/null || true)" != "$target" ]]; then
    ln -sfn "$target" "$link"
fi

#!/usr/bin/env bash
# Install Debian packages (--no-install-recommends) that are not installed yet.
# `apt-get update` runs only when the package lists are missing or an install fails on them.
# Usage: scripts/apt-tools.sh PACKAGE...
set -euo pipefail

missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}
echo "apt: installing ${missing[*]}"
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -q
fi
if ! install; then
    apt-get update -q
    install
fi

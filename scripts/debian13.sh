#!/usr/bin/env bash
# A Debian 13 (trixie) root under .build/debian13 for what needs a newer Python than Debian 12's
# 3.11: ansible-core 2.20 and 2.21 need Python 3.12 or later. Built with debootstrap from the same
# Debian mirror the host's apt uses (no container registry), with trixie's own offline cluster
# tools (pcs 0.12, Pacemaker 3.0, drbd-utils, libvirt 11), so the unit tests that drive them run
# against Debian 13's releases of them too.
#
#   scripts/debian13.sh root "APT PACKAGES"      build or refresh the root (kept while its recipe holds)
#   scripts/debian13.sh venv CORE                 /opt/venv-CORE in the root from requirements-CORE.txt
#   scripts/debian13.sh run [--core CORE] CMD...  CMD in the root, in this repository's directory
#
# `run` uses a private mount namespace (unshare): the repository is bind-mounted at its own path,
# so paths are the same inside and out, and nothing stays mounted when the command ends. Daemons
# of the packages are never started (policy-rc.d). pip inside uses the host's CA bundle, so it
# works behind the same TLS proxy as the host's pip (/etc/pip.conf in the root).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${VMPAIR_DEBIAN13_ROOT:-$repo/.build/debian13}
suite=trixie
# Bump when the recipe below changes in a way that needs a new root.
recipe=2
base_packages=python3,python3-venv,ca-certificates,git,make
# Root's PATH inside the root (Debian's, sbin included: drbdadm execs drbdmeta from there).
root_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
    echo "debian13: $*" >&2
    exit 1
}

mirror() {
    # The host's Debian mirror, read from its apt sources by the lab's own parser (both formats).
    python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import labimage; print(labimage.find_mirror(sys.argv[2]))' \
        "$repo/lab" "$suite"
}

in_root() {
    # in_root CMD...: CMD chrooted into the root with /proc, /dev and the repository mounted.
    # shellcheck disable=SC2016  # the inner script's variables are its own
    unshare --mount --propagation private -- /bin/sh -c '
        set -e
        root=$1; repo=$2; root_path=$3; shift 3
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mkdir -p "$root$repo"
        mount --bind "$repo" "$root$repo"
        exec chroot "$root" /usr/bin/env -i PATH="$root_path" HOME=/root LANG=C.UTF-8 \
            TERM="${TERM:-dumb}" CI="${CI:-}" "$@"
    ' in_root "$root" "$repo" "$root_path" "$@"
}

cmd_root() {
    local packages=${1:-}
    local stamp
    stamp=$(printf '%s\n' "$recipe" "$suite" "$base_packages" "$packages" | sha256sum | cut -c1-16)
    if [[ -f $root/.vmpair-recipe && $(cat "$root/.vmpair-recipe") == "$stamp" ]]; then
        exit 0
    fi
    command -v debootstrap >/dev/null || scripts/apt-tools.sh debootstrap
    local started=$SECONDS src
    src=$(mirror)
    echo "debian13: building $root ($suite from $src)"
    rm -rf "$root"
    debootstrap --variant=minbase --include="$base_packages" "$suite" "$root" "$src" \
        >"$repo/.build/debian13-debootstrap.log" 2>&1 \
        || die "debootstrap failed; its log is .build/debian13-debootstrap.log"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/vmpair-host-ca.crt"
    # For every pip in the root, ansible-test's venvs included (it clears PIP_* from their environment).
    printf '[global]\ncert = /etc/vmpair-host-ca.crt\ndisable-pip-version-check = true\n' >"$root/etc/pip.conf"
    if [[ -n $packages ]]; then
        # shellcheck disable=SC2086  # a list of package names
        in_root /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends $packages >/dev/null" \
            || die "apt-get install in the root failed"
    fi
    in_root /bin/sh -c 'rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb'
    echo "$stamp" >"$root/.vmpair-recipe"
    echo "debian13: root ready in $((SECONDS - started)) s ($(in_root python3 --version))"
}

cmd_venv() {
    local core=${1:?usage: debian13.sh venv CORE}
    local req="requirements-$core.txt" venv="/opt/venv-$core"
    [[ -f $repo/$req ]] || die "no $req"
    [[ -f $root/.vmpair-recipe ]] || die "no root: run scripts/debian13.sh root first"
    if cmp -s "$repo/$req" "$root$venv/.requirements" 2>/dev/null; then
        exit 0
    fi
    echo "debian13: creating $venv ($req)"
    rm -rf "${root:?}$venv"
    in_root /bin/sh -c "python3 -m venv $venv && $venv/bin/pip install -qq -r $repo/$req" \
        || die "pip install -r $req in the root failed"
    cp "$repo/$req" "$root$venv/.requirements"
}

cmd_run() {
    local core=""
    if [[ ${1:-} == --core ]]; then
        core=$2
        shift 2
    fi
    [[ -f $root/.vmpair-recipe ]] || die "no root: run scripts/debian13.sh root first"
    local path=$root_path
    [[ -z $core ]] || path=/opt/venv-$core/bin:$path
    # shellcheck disable=SC2016  # the inner script's variables are its own
    in_root /bin/sh -c 'cd "$1" && shift && PATH=$0 exec "$@"' "$path" "$PWD" "$@"
}

[[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot and mounts)"
action=${1:-}
shift || true
lock() {
    # One build of the root or a venv at a time (a second waits, then finds it done).
    mkdir -p "$(dirname "$root")"
    exec 9>"$root.lock"
    flock 9
}
case $action in
root) lock && cmd_root "$@" ;;
venv) lock && cmd_venv "$@" ;;
run) cmd_run "$@" ;;
*) die "usage: debian13.sh root|venv|run ..." ;;
esac

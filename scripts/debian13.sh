#!/usr/bin/env bash
# A Debian 13 (trixie) root under .build/debian13 for what needs a newer Python than Debian 12's
# 3.11: ansible-core 2.20 and 2.21 need Python 3.12 or later. Built with debootstrap from the same
# Debian mirror the host's apt uses (no container registry), with trixie's own offline cluster
# tools (pcs 0.12, Pacemaker 3.0, drbd-utils, libvirt 11), so the unit tests that drive them run
# against Debian 13's releases of them too.
#
#   scripts/debian13.sh root "APT PACKAGES"      build or refresh the root (kept while its recipe holds)
#   scripts/debian13.sh venv CORE                 /opt/venv-CORE in the root from requirements-CORE.txt
#   scripts/debian13.sh run [--core CORE] [--host-podman] CMD...
#                                                 CMD in the root, in this repository's directory
#
# `run` uses a private mount namespace (unshare): the repository is bind-mounted at its own path,
# so paths are the same inside and out, and nothing stays mounted when the command ends. Daemons
# of the packages are never started (policy-rc.d). pip inside uses the host's CA bundle, so it
# works behind the same TLS proxy as the host's pip (/etc/pip.conf in the root).
#
# `run --host-podman` (Molecule on CORE: MOLECULE_CORES of scripts/molecule.sh): the lab stays the
# host's. First on the root's PATH, scripts/host-podman/podman runs the host's podman in the host's
# mount namespace (scripts/host-podman/on-host: nsenter into this script's), and lab/lab.py runs
# itself there too (VMPAIR_ON_HOST). The root's podman storage (/var/lib/containers/storage) is a
# link through /proc/PID/root to the host's, so the overlay mounts that the host's podman makes
# later (`podman mount`, read by Ansible's containers.podman connection) are seen in the root. A
# bind mount with slave propagation would miss them: podman makes its overlay directory a private
# mount, and the host's / is private here too.
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

# --host-podman: the host's podman storage (its graphroot), which the root then sees; empty otherwise.
host_storage=""

in_root() {
    # in_root CMD...: CMD chrooted into the root with /proc, /dev and the repository mounted (and,
    # with $host_storage set, a link to the host's view of it at the same path).
    # shellcheck disable=SC2016  # the inner script's variables are its own
    unshare --mount --propagation private -- /bin/sh -c '
        set -e
        root=$1; repo=$2; root_path=$3; storage=$4; host_pid=$5; shift 5
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mkdir -p "$root$repo"
        mount --bind "$repo" "$root$repo"
        if [ -n "$storage" ]; then
            mkdir -p "$root${storage%/*}"
            mount -t tmpfs -o mode=0755,size=1m vmpair-host-storage "$root${storage%/*}"
            ln -s "/proc/$host_pid/root$storage" "$root$storage"
            # The same settings as on-host'"'"'s environment, for a command that clears it (env -i).
            mkdir -p "$root/run/vmpair-host"
            mount -t tmpfs -o mode=0755,size=64k vmpair-host "$root/run/vmpair-host"
            printf "VMPAIR_HOST_PID=%s\nVMPAIR_ROOT_DIR=%s\nVMPAIR_HOST_PATH=%s\nVMPAIR_HOST_HOME=%s\n" \
                "$host_pid" "$root" "$PATH" "${HOME:-/root}" >"$root/run/vmpair-host/env"
        fi
        exec chroot "$root" /usr/bin/env -i PATH="$root_path" HOME=/root LANG=C.UTF-8 \
            TERM="${TERM:-dumb}" CI="${CI:-}" "$@"
    ' in_root "$root" "$repo" "$root_path" "$host_storage" "$$" "$@"
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
    local core="" host_podman=0
    while [[ ${1:-} == --* ]]; do
        case $1 in
        --core)
            core=${2:?usage: debian13.sh run --core CORE CMD...}
            shift 2
            ;;
        --host-podman)
            host_podman=1
            shift
            ;;
        --) shift && break ;;
        *) die "run: unknown option $1" ;;
        esac
    done
    [[ -f $root/.vmpair-recipe ]] || die "no root: run scripts/debian13.sh root first"
    [[ -z $core || -x $root/opt/venv-$core/bin/python ]] || die "no venv for $core: run scripts/debian13.sh venv $core first"
    local path=$root_path
    [[ -z $core ]] || path=/opt/venv-$core/bin:$path
    local host_env=()
    if ((host_podman)); then
        command -v podman >/dev/null || die "--host-podman: the host has no podman (make lab-deps)"
        host_storage=$(podman info --format '{{.Store.GraphRoot}}') || die "--host-podman: podman info failed"
        [[ $host_storage == /?*/* ]] || die "--host-podman: unexpected podman storage path '$host_storage'"
        path=$repo/scripts/host-podman:$path
        # This script's process stays in the host's mount namespace until CMD ends: on-host enters it.
        host_env=(VMPAIR_HOST_PID=$$ VMPAIR_HOST_PATH="$PATH" VMPAIR_HOST_HOME="${HOME:-/root}"
            VMPAIR_ROOT_DIR="$root" VMPAIR_ON_HOST="$repo/scripts/host-podman/on-host")
    fi
    # shellcheck disable=SC2016  # the inner script's variables are its own
    in_root "${host_env[@]}" /bin/sh -c 'cd "$1" && shift && PATH=$0 exec "$@"' "$path" "$PWD" "$@"
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

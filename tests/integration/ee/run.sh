#!/usr/bin/env bash
# Execution environment test (make ee): builds ee/execution-environment.yml with ansible-builder
# from the lab's local Debian 12 base image (no registry), then runs the AWX project's wrapper
# playbooks (awx/) inside the image with ansible-navigator, as AWX would:
#   - the image holds duplex.vmpair and its control-node requirements (meta/execution-environment.yml);
#   - check_site passes on the lab inventory and fails on a broken one, printing the finding;
#   - every wrapper playbook in awx/ passes --syntax-check.
# Needs root, podman and the image `python3 lab/lab.py image` builds. Ends with "ee: N passed, M failed".
# Environment: EE_IMAGE (default localhost/duplex-vmpair-ee:test), KEEP=1 keeps the work directory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
here="$repo/tests/integration/ee"
lab_base=localhost/vmpair-lab-base
ee_base=localhost/vmpair-ee-base
ee_image=${EE_IMAGE:-localhost/duplex-vmpair-ee:test}
label=io.duplex.vmpair.ee.inputs

work=$(mktemp -d /var/tmp/vmpair-ee.XXXXXX)
if [[ "${KEEP:-0}" == 1 ]]; then
    trap 'echo "ee: work directory kept: $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi

passed=0
failed=0
failures=()
log() { printf 'ee: %s\n' "$*"; }
pass() {
    passed=$((passed + 1))
    log "PASS $1"
}
fail() {
    failed=$((failed + 1))
    failures+=("$1")
    log "FAIL $1"
    if [[ -n "${2:-}" ]]; then
        printf '%s\n' "$2" | tail -n 40 | sed 's/^/    | /'
    fi
}
seconds() { printf '%d' "$SECONDS"; }

# navigator (from .venv) runs ansible inside the image only: nothing of the host's Ansible setup
# (the Makefile's ANSIBLE_COLLECTIONS_PATH points at this tree) may leak into the container.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH ANSIBLE_CONFIG
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

for tool in podman ansible-builder ansible-navigator ansible-galaxy; do
    command -v "$tool" >/dev/null || {
        echo "ee: $tool not found (run make deps, or use make ee)" >&2
        exit 1
    }
done
if ! podman image exists "$lab_base"; then
    echo "ee: $lab_base is missing: build it with 'python3 lab/lab.py image' (make ee does)" >&2
    exit 1
fi

# ansible-runner starts podman with --ipc=host, so navigator requires the POSIX message queue
# file system at /dev/mqueue. systemd hosts mount it at boot; this machine kind does not.
if [[ ! -d /dev/mqueue ]]; then
    log "mounting the POSIX message queue file system at /dev/mqueue (ansible-navigator needs it with podman)"
    mkdir -p /dev/mqueue
    mount -t mqueue mqueue /dev/mqueue
fi

# ---------------------------------------------------------------------------- 1. the base layer
# The lab base plus this machine's extra CA certificates (a TLS-inspecting proxy in front of PyPI
# must be trusted inside the build as it is on the host). Rebuilt only when its inputs change.
mkdir -p "$work/base/ca"
find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$work/base/ca/" \; 2>/dev/null || true
cp "$here/base.Containerfile" "$work/base/Containerfile"
inputs=$({
    podman image inspect --format '{{.Id}}' "$lab_base"
    cat "$work/base/Containerfile" "$work/base/ca/"*.crt 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
current=$(podman image inspect --format "{{index .Labels \"$label\"}}" "$ee_base" 2>/dev/null || true)
start=$SECONDS
if [[ "$current" == "$inputs" ]]; then
    log "$ee_base up to date"
else
    old=$(podman image inspect --format '{{.Id}}' "$ee_base" 2>/dev/null || true)
    log "building $ee_base from $lab_base"
    podman build --pull=never --label "$label=$inputs" --build-arg "LAB_BASE=$lab_base" \
        -t "$ee_base" -f "$work/base/Containerfile" "$work/base" >"$work/base.log" 2>&1 || {
        tail -n 30 "$work/base.log" >&2
        echo "ee: building $ee_base failed" >&2
        exit 1
    }
    if [[ -n "$old" && "$old" != "$(podman image inspect --format '{{.Id}}' "$ee_base")" ]]; then
        podman rmi "$old" >/dev/null 2>&1 || true
    fi
    log "$ee_base built in $((SECONDS - start)) s"
fi

# ------------------------------------------------------------------ 2. the execution environment
# Exactly ee/execution-environment.yml, with the collection tarball of this tree beside it and the
# base image swapped for the local one.
mkdir -p "$work/ee/collections" "$work/dist"
ansible-galaxy collection build --force --output-path "$work/dist" "$repo" >/dev/null
tarball=$(ls "$work"/dist/duplex-vmpair-*.tar.gz)
version=$(basename "$tarball" .tar.gz)
version=${version#duplex-vmpair-}
cp "$tarball" "$work/ee/collections/duplex-vmpair.tar.gz"
cp "$repo/ee/execution-environment.yml" "$work/ee/"
old=$(podman image inspect --format '{{.Id}}' "$ee_image" 2>/dev/null || true)
start=$SECONDS
log "ansible-builder build of ee/execution-environment.yml as $ee_image (base $ee_base)"
if ansible-builder build -f "$work/ee/execution-environment.yml" -c "$work/context" -t "$ee_image" \
    --container-runtime podman --build-arg "EE_BASE_IMAGE=$ee_base" \
    --extra-build-cli-args=--pull=never -v 2 >"$work/build.log" 2>&1; then
    pass "ansible-builder built $ee_image in $((SECONDS - start)) s"
else
    fail "ansible-builder build ($((SECONDS - start)) s)" "$(cat "$work/build.log")"
    log "$passed passed, $failed failed"
    exit 1
fi
new=$(podman image inspect --format '{{.Id}}' "$ee_image")
if [[ -n "$old" && "$old" != "$new" ]]; then
    podman rmi "$old" >/dev/null 2>&1 || true
fi

# ------------------------------------------------------------------ 3. what the image contains
in_ee() { podman run --rm --pull=never --entrypoint "" "$ee_image" "$@" 2>&1; }
out=$(in_ee ansible-galaxy collection list duplex.vmpair) || true
if grep -Eq "^duplex\.vmpair +$version\b" <<<"$out"; then
    pass "the image holds duplex.vmpair $version"
else
    fail "duplex.vmpair $version is not installed in the image" "$out"
fi
out=$(in_ee ansible --version) || true
if grep -q "core 2\.1[6-9]" <<<"$out"; then
    pass "ansible-core in the image: $(head -n 1 <<<"$out")"
else
    fail "ansible-core 2.16+ missing in the image" "$out"
fi
# requirements.txt and bindep.txt reached the image through meta/execution-environment.yml.
reqs=$(grep -Ev '^\s*(#|$)' "$repo/requirements.txt" | sed -E 's/[<>=!~ ;\[].*//')
for req in $reqs; do
    out=$(in_ee python3 -m pip show "$req") || true
    if grep -q "^Name:" <<<"$out"; then
        pass "requirements.txt: $req is installed ($(grep '^Version:' <<<"$out"))"
    else
        fail "requirements.txt: $req is missing from the image" "$out"
    fi
done
out=$(in_ee ssh -V) || true
if grep -q "OpenSSH" <<<"$out"; then
    pass "bindep.txt: the ssh client is installed ($out)"
else
    fail "bindep.txt: no ssh client in the image" "$out"
fi

# ------------------------------------------------------------------ 4. inventories and project
# The lab inventory as `lab.py up` writes it (no lab needs to run: check_site contacts no host),
# and a broken copy: hv-west has no fence device.
mkdir -p "$work/inventory"
python3 - "$repo/lab" "$work/inventory" <<'PY'
import sys

sys.path.insert(0, sys.argv[1])
import labinventory  # noqa: E402

text = labinventory.render("vmpair-ee", 0, {role: {"link0": "eth1", "link1": "eth2"} for role in ("east", "west")})
open(f"{sys.argv[2]}/lab.yml", "w").write(text)
lines = text.splitlines(keepends=True)
start = next(i for i, line in enumerate(lines) if line.strip() == "vmpair_fencing:")
indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
west = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("hv-west:"))
end = west + 1
while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > indent:
    end += 1
open(f"{sys.argv[2]}/broken.yml", "w").write("".join(lines[:west] + lines[end:]))
PY
if ! grep -q "hv-west:" <<<"$(sed -n '/vmpair_fencing:/,/vmpair_vms:/p' "$work/inventory/broken.yml")"; then
    pass "broken inventory: hv-west's fence device removed"
else
    fail "could not remove hv-west's fence device from the lab inventory"
fi
# The AWX project as AWX checks it out: the awx/ folder, with its ansible-navigator.yml.
cp -r "$repo/awx" "$work/project"
cd "$work/project"
export ANSIBLE_NAVIGATOR_CONFIG="$work/project/ansible-navigator.yml"
# Without a terminal, ansible-runner's event markers (ESC[K<base64>ESC[nD) stay in the output.
navigator() {
    local rc=0
    ansible-navigator run "$@" --eei "$ee_image" --pp never --mode stdout --pae false \
        --lf "$work/navigator.log" </dev/null >"$work/navigator.out" 2>&1 || rc=$?
    sed -E 's/\x1b\[K[A-Za-z0-9+\/=]*\x1b\[[0-9]+D//g; s/\x1b\[K//g' "$work/navigator.out"
    return $rc
}

# ------------------------------------------------------------------ 5. check_site in the EE
start=$SECONDS
rc=0
out=$(navigator check_site.yml -i "$work/inventory/lab.yml") || rc=$?
if [[ $rc -eq 0 ]] && grep -Eq "localhost +: ok=[1-9][0-9]* .* failed=0 " <<<"$out"; then
    pass "check_site in the EE on the lab inventory: rc 0 ($((SECONDS - start)) s)"
else
    fail "check_site in the EE on the lab inventory: rc $rc" "$out"
fi
start=$SECONDS
rc=0
out=$(navigator check_site.yml -i "$work/inventory/broken.yml") || rc=$?
if [[ $rc -ne 0 ]] && grep -q "vmpair_fencing" <<<"$out" && grep -q "hv-west" <<<"$out"; then
    pass "check_site in the EE on the broken inventory: rc $rc, the finding names vmpair_fencing and hv-west ($((SECONDS - start)) s)"
    grep -m 3 "vmpair_fencing" <<<"$out" | sed 's/^/    | /'
else
    fail "check_site in the EE on the broken inventory: rc $rc, expected non-zero and a finding on hv-west's vmpair_fencing" "$out"
fi

# ------------------------------------------------------------------ 6. syntax of every wrapper
mapfile -t wrappers < <(grep -l "import_playbook:" -- *.yml)
if [[ ${#wrappers[@]} -eq 0 ]]; then
    fail "no wrapper playbook (import_playbook) in awx/"
fi
for wrapper in "${wrappers[@]}"; do
    rc=0
    out=$(navigator "$wrapper" --syntax-check -i "$work/inventory/lab.yml") || rc=$?
    if [[ $rc -eq 0 ]]; then
        pass "syntax check in the EE: awx/$wrapper"
    else
        fail "syntax check in the EE: awx/$wrapper (rc $rc)" "$out"
    fi
done

log "$passed passed, $failed failed"
for f in "${failures[@]}"; do
    log "failed: $f"
done
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# galaxy-importer, the check that Galaxy and Automation Hub run on every uploaded collection, on the
# tarball that `make build` makes, offline.
#
#   scripts/galaxy-importer.sh        (as root on Debian 12, after `make deps`; any working directory)
#
# 1. builds .build/dist/duplex-vmpair-<version>.tar.gz (ansible-galaxy collection build, as `make build`);
# 2. makes .build/galaxy-importer-venv with the pinned galaxy-importer and the tools whose findings it
#    reports (remade only when the pins below change);
# 3. writes .build/galaxy-importer/galaxy-importer.cfg and runs `python -m galaxy_importer.main TARBALL`
#    there, with a clean environment, as Galaxy does;
# 4. fails when the import fails (exit code, no "Importer processing completed successfully"), on every
#    ERROR line, and on every WARNING line that is not one of the known ones below (ansible-lint
#    findings, flake8 findings, "No changelog found", ... are WARNING lines), then prints one summary line.
#
# Every check of the importer that runs without a network or a container runtime is on: ansible-doc
# (plugin docs), role and collection README rendering, file manifest and checksums, galaxy.yml and
# meta/runtime.yml schema with the tags Automation Hub requires (check_required_tags), changelog,
# meta/execution-environment.yml dependency files, the sanity ignore files notice, ansible-lint (the
# `production` profile and skip list the importer passes; offline) and flake8 on the plugins. Off:
# run_ansible_test (the importer runs `ansible-test sanity --docker` with an image from a registry;
# `make sanity` runs ansible-test sanity here) and require_v1_or_greater (Automation Hub's certified
# content only; this collection is 0.x).
set -euo pipefail

# The pins. galaxy-importer 0.4.44 allows ansible-lint up to 26.10.1; ansible-core 2.19 is the newest
# that runs on Debian 12's Python 3.11.
PINS=(
    galaxy-importer==0.4.44
    ansible-core==2.19.14
    ansible-lint==26.10.1
    ansible-compat==26.10.0
    flake8==6.1.0
    pycodestyle==2.11.1
    pyflakes==3.1.0
)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo_root/.build
venv=$build/galaxy-importer-venv
dist=$build/dist
work=$build/galaxy-importer
python=${PYTHON:-python3}
start=$SECONDS

# 1. The tarball, built by the project's ansible-core (.venv, as `make build`).
ansible_galaxy=$repo_root/.venv/bin/ansible-galaxy
[[ -x $ansible_galaxy ]] || ansible_galaxy=$(command -v ansible-galaxy) \
    || { echo "galaxy-importer: no ansible-galaxy; run make deps first" >&2; exit 2; }
built=$(cd "$repo_root" && "$ansible_galaxy" collection build --force --output-path "$dist")
tarball=${built##* }
if [[ $built != "Created collection for "* || ! -f $tarball ]]; then
    printf 'galaxy-importer: ansible-galaxy collection build said: %s\n' "$built" >&2
    exit 2
fi

# 2. The importer's venv.
pins="${PINS[*]}"
if [[ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        "$repo_root/scripts/apt-tools.sh" python3-venv
    fi
    echo "galaxy-importer: creating $venv (${PINS[0]})"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -qq --disable-pip-version-check "${PINS[@]}"
    printf '%s\n' "$pins" > "$venv/.pins"
fi

# 3. Config and run, in a fresh work directory (the importer writes importer_result.json to its cwd).
rm -rf "$work"
mkdir -p "$work/tmp" "$work/ansible-tmp" "$work/home"
cat > "$work/galaxy-importer.cfg" <<EOF
[galaxy-importer]
log_level_main = INFO
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
run_flake8 = True
check_changelog = True
check_required_tags = True
require_v1_or_greater = False
run_ansible_test = False
ansible_test_local_image = False
local_image_docker = False
infra_osd = False
tmp_root_dir = $work/tmp
ansible_local_tmp = $work/ansible-tmp
EOF

log=$work/importer.log
set +e
(cd "$work" && env -i \
    PATH="$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    HOME="$work/home" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
    GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" \
    "$venv/bin/python" -m galaxy_importer.main "$tarball") > "$log" 2>&1
rc=$?
set -e
cat "$log"

# 4. Judge the log. Known WARNING lines, each for a reason that is not the collection's to fix:
#  - flake8 W503 (line break before a binary operator) and E203 (whitespace before ':' in a slice):
#    the layout of `ruff format`, the project's formatter (`make lint`); PEP 8 recommends W503's
#    opposite, and flake8 leaves both out by default, but the importer selects them back;
#  - flake8 E999 on plugins/<type>/<name>.yml: the importer runs flake8 on each plugin's documentation
#    file, which for a filter is YAML, not Python;
#  - ansible-lint's "Failed to find duplex.vmpair.<name> playbook." for awx/<name>.yml's
#    import_playbook, when playbooks/<name>.yml is in the tarball: the importer gives ansible-lint a
#    collections path that ends in ansible_collections/, where ansible-lint looks for
#    ansible_collections/duplex/vmpair/playbooks/<name>.yml (ansible-lint issue 4362). The lint
#    itself passes.
playbooks=$(tar -tzf "$tarball" | sed -n 's|^playbooks/\([A-Za-z0-9_]*\)\.yml$|\1|p' | paste -sd'|' -)
known_flake8='^WARNING: plugins/[^ ]*\.py:[0-9]+:[0-9]+: (W503|E203) '
known_doc_yaml='^WARNING: plugins/[a-z_]+/[A-Za-z0-9_]+\.ya?ml:[0-9]+:[0-9]+: E999 SyntaxError: '
known_import="^WARNING: ERROR +Failed to find duplex\.vmpair\.(${playbooks:-no_playbook}) playbook\.\$"
errors=$(grep -E '^(ERROR|CRITICAL)' "$log" || true)
warnings=$(grep -E '^WARNING' "$log" || true)
count() { if [[ -n $1 ]]; then printf '%s\n' "$1" | grep -cE "${2:-.}" || true; else echo 0; fi; }
new=$(printf '%s\n' "$warnings" | grep -vE "$known_flake8|$known_doc_yaml|$known_import" | grep . || true)
n_errors=$(count "$errors")
n_new=$(count "$new")
n_known=$(( $(count "$warnings") - n_new ))
ok=1
if [[ $rc -ne 0 ]]; then ok=0; fi
if ! grep -qx 'Importer processing completed successfully' "$log"; then ok=0; fi
if [[ $n_errors -ne 0 || $n_new -ne 0 ]]; then ok=0; fi

echo
if [[ -n $errors ]]; then printf 'galaxy-importer: errors:\n%s\n' "$errors"; fi
if [[ -n $new ]]; then printf 'galaxy-importer: warnings that are not known ones (step 4 of %s):\n%s\n' \
    "${BASH_SOURCE[0]#"$repo_root"/}" "$new"; fi
summary="$(basename "$tarball"), galaxy-importer ${PINS[0]#*==}: exit $rc, $n_errors error(s), $n_new new warning(s)"
summary+=", $n_known known ($(count "$warnings" "$known_flake8") flake8 W503/E203, $(count "$warnings" "$known_doc_yaml")"
summary+=" flake8 on doc YAML, $(count "$warnings" "$known_import") lint FQCN import_playbook), $((SECONDS - start)) s"
if [[ $ok -eq 1 ]]; then
    echo "galaxy-importer: PASS: $summary"
else
    echo "galaxy-importer: FAIL: $summary (log: ${log#"$repo_root"/})"
    exit 1
fi

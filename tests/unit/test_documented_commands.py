# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
r"""Every ansible-playbook command of README.md and docs/*.md, run with exactly its documented options.

The commands are read from the markdown (code blocks and inline code; a trailing backslash continues a
line, a ``# comment`` is dropped). Only placeholders are replaced: the inventory (``INVENTORY``,
``inventory.yml``, the demo's ``lab/.state/vmpair-demo.yml``) by a site inventory this test writes, and
``--ask-vault-pass`` by ``--vault-password-file`` with the test's password file. The site has the names
the docs use (pair_mail: hv-east, hv-west, VMs web1 and db1; pair_web: hv-north, hv-south, VM app1;
witness qw1), so no host or VM name is replaced. An optional ``[-e x=y]`` is given: the run has every
documented option. A command that names ``playbooks/NAME.yml`` runs from the repository root (the
quickstart's "in a clone of this repository"); the others run in the inventory's directory, so a
relative report path (``out/site.json``) lands there.

The site's secrets (the fence passwords, the corosync key) are in ``group_vars/vmpair_pairs/vault.yml``
next to ``inventory.yml``. The commands of a code block are one session on one inventory: where one of
them gives ``--ask-vault-pass``, the block runs on that file encrypted as a whole (the quickstart's
``ansible-vault create group_vars/vmpair_pairs/vault.yml``); other blocks run on the secrets as inline
``!vault`` values (``ansible-vault encrypt_string``), which no command without a vault option may need.

How each runs, in test_documented_command[ID]:

- **check_site**: run in full; it must pass (exit 0, ``PASSED: 0 error(s), 0 warning(s)``) and write each
  report it is given at its path.
- **every other playbook** ("syntax + unreachable"): ``--syntax-check`` with the documented options,
  then a real run on the same inventory, whose hosts do not answer (ssh to 127.0.0.1 port 1, no retries).
  Every playbook first checks on the controller (its own argument asserts, the site model with its
  unknown variables) before it touches a host: the run must get through that to the hosts, so a host of
  pair_mail (hv-east, hv-west) is UNREACHABLE and no host failed (no refusal of a documented option, no
  "is not a variable").
- **and against the container lab**: the commands the lab can serve (no DRBD kernel module, no VM there) also
  run on the deployed lab pair, on the lab's inventory, in molecule/default/user_paths.yml (the default
  scenario's verify step): exit 0, what the docs promise (validate's report and its JSON file say the pair is
  fully redundant, check_site passes and writes its reports, maintenance enter leaves hv-east in standby and
  exit brings it back online, as pcs reads it). test_the_container_lab_runs_the_commands_marked_for_it keeps
  that file's commands equal to the rows marked so, with the same options; the file's header says where the
  others run.

The documented commands (test_the_table_lists_every_documented_command keeps this list equal to the docs:
a new documented command fails it until it is listed here):

- README.md#1, check_site, whole-file vault, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.check_site --ask-vault-pass
- README.md#2, syntax + unreachable, whole-file vault:
    ansible-playbook -i inventory.yml duplex.vmpair.site --ask-vault-pass
- README.md#3, syntax + unreachable, whole-file vault, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.validate --ask-vault-pass
- README.md#4, syntax + unreachable, whole-file vault:
    ansible-playbook -i inventory.yml duplex.vmpair.protect --ask-vault-pass
- docs/awx.md#1, not run here (not a playbook of the collection: the user's own, for infra.aap_configuration):
    ansible-playbook configure_awx.yml -e aap_hostname=https://awx.example.com \
        -e aap_username=admin -e aap_password=...
- docs/operations.md#1, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.validate
- docs/operations.md#2, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.validate -e vmpair_validate_fail_on=critical \
        -e vmpair_validate_json_report=out/validate.json
- docs/operations.md#3, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.maintenance -e host=hv-east -e action=enter
- docs/operations.md#4, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.maintenance -e host=hv-east -e action=exit [-e move_back=true]
- docs/operations.md#5, syntax + unreachable:
    ansible-playbook -i INVENTORY duplex.vmpair.rolling_update [-e vmpair_rolling_pairs=1] [-e move_back=true]
- docs/operations.md#6, syntax + unreachable:
    ansible-playbook -i INVENTORY duplex.vmpair.rolling_update -e vmpair_rolling_release=trixie [-e vmpair_rolling_pairs=1]
- docs/operations.md#7, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.maintenance -e host=hv-east -e action=exit -e move_back=true
- docs/operations.md#8, syntax + unreachable:
    ansible-playbook -i INVENTORY duplex.vmpair.split_brain -e vm=web1 -e survivor=hv-east [-e confirm=yes]
- docs/operations.md#9, syntax + unreachable:
    ansible-playbook -i INVENTORY duplex.vmpair.site
- docs/operations.md#10, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.status
- docs/operations.md#11, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i INVENTORY duplex.vmpair.status -e vmpair_status_json_report=out/status.json
- docs/operations.md#12, syntax + unreachable:
    ansible-playbook -i INVENTORY duplex.vmpair.replace_disk -e vm=web1 -e host=hv-east [-e disk=vdb]
- docs/protect.md#1, syntax + unreachable (check mode):
    ansible-playbook -i inventory.yml duplex.vmpair.protect --check --diff
- docs/protect.md#2, syntax + unreachable:
    ansible-playbook -i inventory.yml duplex.vmpair.protect
- docs/protect.md#3, syntax + unreachable:
    ansible-playbook -i inventory.yml duplex.vmpair.protect -e vms=web1,db1
- docs/protect.md#4, syntax + unreachable:
    ansible-playbook -i inventory.yml duplex.vmpair.migrate -e vm=web1 [-e to=hv-west] [-e migrate_timeout=600]
- docs/protect.md#5, syntax + unreachable:
    ansible-playbook -i inventory.yml duplex.vmpair.failover -e vm=web1 [-e to=hv-west]
- docs/protect.md#6, syntax + unreachable:
    ansible-playbook -i inventory.yml duplex.vmpair.unprotect -e vms=web1 [-e keep_peer_copy=true]
- docs/quickstart.md#1, syntax + unreachable, from the repository root:
    ansible-playbook -i lab/.state/vmpair-demo.yml playbooks/site.yml
- docs/quickstart.md#2, not run here (not a playbook of the collection: the lab's demo, run by make demo):
    ansible-playbook -i lab/.state/vmpair-demo.yml lab/demo.yml
- docs/quickstart.md#3, syntax + unreachable, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i lab/.state/vmpair-demo.yml duplex.vmpair.validate
- docs/quickstart.md#4, check_site, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.check_site
- docs/quickstart.md#5, syntax + unreachable, whole-file vault:
    ansible-playbook -i inventory.yml duplex.vmpair.site --ask-vault-pass
- docs/quickstart.md#6, syntax + unreachable, whole-file vault, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.validate --ask-vault-pass
- docs/site_model.md#1, check_site, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.check_site
- docs/site_model.md#2, check_site, both reports written, and against the container lab (molecule/default/user_paths.yml):
    ansible-playbook -i inventory.yml duplex.vmpair.check_site -e vmpair_check_strict=true \
        -e vmpair_check_json_report=out/site.json -e vmpair_check_junit_report=out/site.xml
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import glob
import json
import os
import pathlib
import re
import shlex
import subprocess

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import (
    REPO_ROOT,
    ansible_command,
    ansible_env,
)
from ansible_collections.duplex.vmpair.tests.unit.test_inventory_forms import dump, one_yaml_file, the_site, vault_texts

DOCS = ["README.md"] + sorted(os.path.relpath(p, REPO_ROOT) for p in glob.glob(os.path.join(REPO_ROOT, "docs", "*.md")))
INVENTORY_PLACEHOLDERS = ("INVENTORY", "inventory.yml", "lab/.state/vmpair-demo.yml")
PLAYBOOK = re.compile(r"^(?:duplex\.vmpair\.(\w+)|playbooks/(\w+)\.yml)$")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# Hosts, reached over ssh on a closed port: every contact is UNREACHABLE at once.
UNREACHABLE = {
    "ansible_host": "127.0.0.1",
    "ansible_port": 1,
    "ansible_user": "root",
    "ansible_ssh_retries": 0,
    "ansible_ssh_timeout": 3,
}
# The rows of the table below that also run on the container lab's deployed pair, and that file.
LAB_MARK = "and against the container lab (molecule/default/user_paths.yml)"
USER_PATHS = os.path.join(REPO_ROOT, "molecule", "default", "user_paths.yml")
# Documented commands that fail because the product is wrong: {ID: reason}.
PRODUCT_BUGS = {}

Documented = collections.namedtuple("Documented", "id doc text vaulted")


def read(doc):
    with open(os.path.join(REPO_ROOT, doc), encoding="utf-8") as handle:
        return handle.read()


def blocks(text):
    """The code of a markdown text: each fenced block's lines, and each inline code span alone."""
    out, block, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if fenced:
                out.append(block)
            block, fenced = [], not fenced
        elif fenced:
            block.append(line)
        else:
            out.extend([span] for span in re.findall(r"`([^`]+)`", line))
    return out


def commands_of(block):
    """The ansible-playbook commands of a code block: continuation lines joined, comments dropped."""
    joined, out = "", []
    for line in block:
        line = re.sub(r"(^|\s)#.*$", "", line).rstrip()
        if line.endswith("\\"):
            joined += line[:-1] + " "
            continue
        command, joined = " ".join((joined + line).split()), ""
        if command.startswith("ansible-playbook "):
            out.append(command)
    return out


def documented_commands():
    """Every documented ansible-playbook command, numbered in each doc's order."""
    found = []
    for doc in DOCS:
        number = 0
        for block in blocks(read(doc)):
            commands = commands_of(block)
            vaulted = any("--ask-vault-pass" in c.split() for c in commands)
            for command in commands:
                number += 1
                found.append(Documented("%s#%d" % (doc, number), doc, command, vaulted))
    return found


def playbook_of(command):
    """The collection playbook a command runs (its name), or None."""
    for word in command.split():
        match = PLAYBOOK.match(word)
        if match:
            return match.group(1) or match.group(2)
    return None


def with_options(command):
    """The command with every optional [part] given."""
    return re.sub(r"\[([^\[\]]+)\]", r"\1", command)


def argv_of(command, site, password_file):
    """The command's words with only the placeholders replaced; fails on a placeholder it does not know."""
    words = shlex.split(command)
    assert "-i" in words, "%s: no inventory: it would run on Ansible's default one" % command
    argv = [ansible_command("ansible-playbook")]
    for before, word in zip(words, words[1:], strict=False):
        if before == "-i":
            assert word in INVENTORY_PLACEHOLDERS, "%s: an inventory the test does not know: %s" % (command, word)
            argv.append(str(site / "inventory.yml"))
        elif word == "--ask-vault-pass":
            argv += ["--vault-password-file", str(password_file)]
        else:
            assert not re.search(r"(^|[=/])[A-Z][A-Z_]{2,}\b", word), "%s: unknown placeholder %s" % (command, word)
            argv.append(word)
    return argv


def table_rows():
    """(ID, command) of each entry of the list in this module's docstring (its lines read as a code block)."""
    entries = re.findall(r"^- (\S+#\d+), [^\n]*:\n((?:    .*\n)+)", __doc__, re.M)
    return [(number, command) for number, lines in entries for command in commands_of(lines.splitlines())]


COMMANDS = documented_commands()
RUN = [c for c in COMMANDS if playbook_of(c.text)]


def documented_site(base, env):
    """Write the docs' site under base: ({"vaulted"|"inline": a directory with inventory.yml and
    group_vars/vmpair_pairs/vault.yml}, the vault password file). Its hosts do not answer (UNREACHABLE);
    tests/lab/test_awx_runner.py launches the AWX job templates on the same site."""
    site = the_site()
    site["pairs"]["pair_mail"]["vars"]["vmpair_vms"] = [
        {
            "name": "web1",
            "level": "ha",
            "preferred_host": "hv-east",
            "vcpus": 2,
            "memory_mib": 2048,
            "stop_timeout": 300,
        },
        {"name": "db1", "level": "recovery", "preferred_host": "hv-west", "vcpus": 4, "memory_mib": 8192},
    ]
    site["pairs"]["pair_web"]["vars"]["vmpair_vms"] = [
        {"name": "app1", "level": "ha", "preferred_host": "hv-north", "vcpus": 2, "memory_mib": 4096}
    ]
    secrets = dict(site["secrets"], vmpair_corosync_authkey="q2V" + "A" * 252 + "==")
    vault = vault_texts(base, env, secrets)
    inventory = one_yaml_file(dict(site, secrets={}))
    inventory["all"]["vars"] = UNREACHABLE
    layouts = {}
    for layout, vault_yml in (("vaulted", vault["file"]), ("inline", vault["inline"])):
        dump(base / layout / "inventory.yml", inventory)
        dump(base / layout / "group_vars" / "vmpair_pairs" / "vault.yml", vault_yml)
        layouts[layout] = base / layout
    return layouts, vault["password_file"]


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """(run, {"vaulted"|"inline": a directory with inventory.yml and group_vars/vmpair_pairs/vault.yml}, the vault
    password file). run(argv, cwd) runs a command once: a command documented twice runs once."""
    base = tmp_path_factory.mktemp("documented")
    env = ansible_env(base)
    layouts, password_file = documented_site(base, env)
    done = {}

    def run(argv, cwd):
        key = (tuple(argv), str(cwd))
        if key not in done:
            done[key] = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
        return done[key]

    return run, layouts, password_file


def test_the_table_lists_every_documented_command():
    assert table_rows() == [(c.id, c.text) for c in COMMANDS]


def lab_commands():
    """{ID: command} of the documented commands molecule/default/user_paths.yml runs (its first play's __commands)."""
    with open(USER_PATHS, encoding="utf-8") as handle:
        commands = yaml.safe_load(handle)[0]["vars"]["__commands"]
    return {doc_id: " ".join(entry["command"].split()) for entry in commands.values() for doc_id in entry["docs"]}


def any_inventory(command):
    """The command with its inventory placeholder, whichever the docs use, written INVENTORY."""
    words = command.split()
    return " ".join(
        "INVENTORY" if before == "-i" and word in INVENTORY_PLACEHOLDERS else word
        for before, word in zip([""] + words[:-1], words, strict=True)
    )


def test_the_container_lab_runs_the_commands_marked_for_it():
    """Each row marked LAB_MARK runs in user_paths.yml with exactly its documented options (every optional
    part given), and nothing else runs there as a documented command."""
    marked = re.findall(r"^- (\S+#\d+), [^\n]*%s:$" % re.escape(LAB_MARK), __doc__, re.M)
    lab = lab_commands()
    assert sorted(lab) == sorted(marked)
    documented = {c.id: c.text for c in COMMANDS}
    for doc_id, command in lab.items():
        assert command.split()[command.split().index("-i") + 1] in INVENTORY_PLACEHOLDERS, command
        assert any_inventory(command) == any_inventory(with_options(documented[doc_id])), doc_id


def test_commands_are_read_from_blocks_and_inline_code_and_only_placeholders_are_replaced():
    text = "Run `ansible-playbook -i inventory.yml playbooks/site.yml` first.\n\n```\n# a comment\n"
    text += "ansible-playbook -i INVENTORY duplex.vmpair.validate   # add --ask-vault-pass\n"
    text += "ansible-playbook -i INVENTORY duplex.vmpair.check_site -e a=1 \\\n    -e b=2\nmake demo\n```\n"
    found = [c for b in blocks(text) for c in commands_of(b)]
    assert found == [
        "ansible-playbook -i inventory.yml playbooks/site.yml",
        "ansible-playbook -i INVENTORY duplex.vmpair.validate",
        "ansible-playbook -i INVENTORY duplex.vmpair.check_site -e a=1 -e b=2",
    ]
    assert with_options("x -e a=1 [-e b=2] [-e c=3]") == "x -e a=1 -e b=2 -e c=3"
    site = pathlib.Path("/site")
    assert argv_of("ansible-playbook -i INVENTORY duplex.vmpair.site --ask-vault-pass -e a=b", site, "pw")[1:] == [
        "-i",
        "/site/inventory.yml",
        "duplex.vmpair.site",
        "--vault-password-file",
        "pw",
        "-e",
        "a=b",
    ]
    with pytest.raises(AssertionError, match="unknown placeholder host=HOST"):
        argv_of("ansible-playbook -i INVENTORY duplex.vmpair.maintenance -e host=HOST", site, "pw")
    with pytest.raises(AssertionError, match="an inventory the test does not know: hosts.ini"):
        argv_of("ansible-playbook -i hosts.ini duplex.vmpair.site", site, "pw")


def outcome(proc):
    """{host: (unreachable, failed)} from the play recap."""
    return {host: (int(u), int(f)) for host, u, f in RECAP.findall(proc.stdout)}


@pytest.mark.parametrize(
    "documented",
    [
        pytest.param(
            c, marks=[pytest.mark.xfail(strict=True, reason=PRODUCT_BUGS[c.id])] if c.id in PRODUCT_BUGS else []
        )
        for c in RUN
    ],
    ids=[c.id for c in RUN],
)
def test_documented_command(documented, sites):
    run, layouts, password_file = sites
    site = layouts["vaulted" if documented.vaulted else "inline"]
    playbook = playbook_of(documented.text)
    assert os.path.isfile(os.path.join(REPO_ROOT, "playbooks", playbook + ".yml")), documented.text
    cwd = REPO_ROOT if "playbooks/%s.yml" % playbook in documented.text.split() else site
    argv = argv_of(with_options(documented.text), site, password_file)
    if playbook == "check_site":
        proc = run(argv, cwd)
        assert proc.returncode == 0, documented.text + "\n" + proc.stdout + proc.stderr
        assert "PASSED: 0 error(s), 0 warning(s); 2 pair(s) checked" in proc.stdout, proc.stdout
        for report in re.findall(r"vmpair_check_(?:json|junit)_report=(\S+)", documented.text):
            assert os.path.isfile(os.path.join(cwd, report)), report
            if report.endswith(".json"):
                with open(os.path.join(cwd, report)) as handle:
                    assert json.load(handle)["passed"] is True
        return
    syntax = run(argv + ["--syntax-check"], cwd)
    assert syntax.returncode == 0, documented.text + "\n" + syntax.stdout + syntax.stderr
    proc = run(argv, cwd)
    out = proc.stdout + proc.stderr
    hosts = outcome(proc)
    assert "is not a variable" not in out and "FAILED!" not in out, documented.text + "\n" + out
    assert {h: r for h, r in hosts.items() if r[1]} == {}, documented.text + "\n" + out
    # The first task that contacts a host finds it silent (some playbooks ask one host of the pair first).
    assert {h for h, r in hosts.items() if r[0]} & {"hv-east", "hv-west"}, documented.text + "\n" + out
    assert proc.returncode == 4, documented.text + "\n" + out  # ansible-playbook's code for unreachable hosts


@pytest.mark.xfail(
    strict=True,
    reason="product bug: rolling_update.yml relies on any_errors_fatal, which Ansible (2.17 and 2.19) does not apply "
    "to an UNREACHABLE host: the play goes on with the next serial batch, so the next pair is updated while the "
    "host that stopped answering may be left in standby",
)
def test_a_rolling_update_stops_when_the_host_being_updated_does_not_answer(sites):
    """docs/operations.md, Rolling update: "A failure stops the whole run (any_errors_fatal) with the host that was
    being updated still in standby". The documented command's run above: hv-east, the first host of the first batch
    (pair_mail), does not answer; pair_web's batch must not start."""
    run, layouts, password_file = sites
    documented = next(c for c in RUN if playbook_of(c.text) == "rolling_update" and "vmpair_rolling_pairs=1" in c.text)
    proc = run(argv_of(with_options(documented.text), layouts["inline"], password_file), layouts["inline"])
    hosts = outcome(proc)
    assert hosts["hv-east"] == (1, 0), proc.stdout
    assert [h for h in ("hv-north", "hv-south") if h in hosts] == [], proc.stdout  # no task ran on them

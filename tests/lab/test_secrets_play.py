"""molecule/default/secrets.yml's own logic, run by ansible-playbook on this machine.

Faked at the process boundary: the lab hosts are this machine (connection local), each host's file
tree is a directory of the test's (its paths written back as the host's own in the search's result),
the CIB and journal commands are `true`, and the documented ansible-playbook run is a script that
prints what the JSON callback prints. The plays' tasks that decide (the secrets and their places, the
run's recap, the judgement) are taken from secrets.yml as they are, and find_secrets.py searches.
"""

import base64
import bz2
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAY = ROOT / "molecule" / "default" / "secrets.yml"
TOOL = ROOT / "molecule" / "default" / "files" / "find_secrets.py"
PAIR = ("hv-east", "hv-west")
KEY = base64.b64encode(bytes(range(192)))  # the key file's bytes: base64 text, as the cluster role makes it
DRBD = "0123456789abcdef" * 3
VNC = "Pw3xYz9q"
BMC = "bmc-Secret-pw"  # the lab's BMC: one password for both hosts

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")


def plays():
    return yaml.safe_load(PLAY.read_text())


def tasks(play, *prefixes):
    return [t for t in play["tasks"] if t["name"].startswith(prefixes)]


def write(path, data, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    path.chmod(mode)


def lab(tmp_path, fence_files=True):
    """Each host's tree as the pair holds it after protect: every secret in its place."""
    trees = tmp_path / "trees"
    for host in PAIR + ("qw1",):
        write(trees / host / "var/log/syslog", "nothing\n", 0o644)
    for host, peer in (PAIR, PAIR[::-1]):
        t = trees / host
        write(t / "etc/corosync/authkey", KEY, 0o400)
        write(t / "etc/drbd.d/vm-guest1.res", 'resource vm-guest1 {\n  net { shared-secret "%s"; }\n}\n' % DRBD, 0o600)
        for path in ("etc/libvirt/qemu/guest1.xml", "etc/vmpair/domains/guest1.xml"):
            write(t / path, "<domain><graphics type='vnc' passwd='%s'/></domain>" % VNC, 0o600)
        if fence_files:
            write(t / ("etc/vmpair/fence/fence_%s.password" % peer), BMC, 0o600)
    return trees


def run_playbook(tmp_path, playbook, inventory, env=None):
    (tmp_path / "pb.yml").write_text(yaml.safe_dump(playbook, sort_keys=False, width=1000))
    (tmp_path / "inv.yml").write_text(yaml.safe_dump(inventory))
    environ = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        **(env or {}),
    )
    environ.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    return subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "inv.yml"), str(tmp_path / "pb.yml")],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        check=False,
    )


def judged(proc):
    """The message of secrets.yml's judgement (its assert on localhost), from the JSON callback's output."""
    doc = json.loads(proc.stdout[proc.stdout.index("{") :])
    for play in doc["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].startswith("Check no secret"):
                return task["hosts"]["localhost"]["msg"]
    raise AssertionError("no judgement: %s" % json.dumps(doc)[-3000:])


def inventory():
    fencing = {
        h: {"agent": "fence_redfish", "options": {"ip": "10.0.2.2", "username": "lab", "password": BMC}} for h in PAIR
    }
    return {
        "all": {
            "vars": {"ansible_connection": "local"},
            "children": {
                "vmpair_pairs": {
                    "children": {"pair_lab": {"hosts": {h: {} for h in PAIR}, "vars": {"vmpair_fencing": fencing}}}
                },
                "vmpair_witnesses": {"hosts": {"qw1": {}}},
            },
        }
    }


def search_and_judge(tmp_path, trees, run_output):
    """secrets.yml's plays 2 to 4, on the trees, with secrets.yml's own list and judgement tasks."""
    source = plays()
    shared = dict(source[0]["vars"], __secrets_vms=["guest1"], __secrets_workdir=str(tmp_path / "work"))
    shared["__secrets_tool"] = str(TOOL)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "run.json").write_text(run_output)
    (tmp_path / "work" / "run.stderr").write_text("")
    site = {"pair": {"hosts": list(PAIR), "nodes": [{"host": h, "name": h} for h in PAIR]}}
    res = 'resource vm-guest1 {\n  net { shared-secret "%s"; }\n}\n' % DRBD
    read = {
        "name": "What the hosts' reads return",
        "ansible.builtin.set_fact": {
            "__secrets_site": site,
            "__secrets_authkey": {"content": base64.b64encode(KEY).decode()},
            "__secrets_res": {"results": [{"content": base64.b64encode(res.encode()).decode()}]},
            "__secrets_domains": {"results": [{"stdout": "<domain><graphics type='vnc' passwd='%s'/></domain>" % VNC}]},
        },
        "no_log": True,
    }
    tree = "%s/{{ inventory_hostname }}" % trees
    tree_expr = "'%s/' ~ inventory_hostname" % trees  # the same, inside a template
    search = [
        # the allowed places as the tree's paths, and the result's paths as the host's own
        {
            "ansible.builtin.copy": {
                "content": "{{ {'secrets': __secrets} | to_json | replace(inventory_hostname ~ ':/', inventory_hostname ~ ':' ~ %s ~ '/') }}"
                % tree_expr,
                "dest": "%s/work/{{ inventory_hostname }}.json" % tmp_path,
                "mode": "0600",
            },
            "no_log": True,
        },
        {
            "ansible.builtin.command": {
                "argv": [sys.executable, str(TOOL), "--secrets", "%s/work/{{ inventory_hostname }}.json" % tmp_path]
                + ["--label", "{{ inventory_hostname }}:", "--command", "cib=true", "--command", "journal=true", tree]
            },
            "register": "__found",
            "changed_when": False,
        },
        {
            "ansible.builtin.set_fact": {
                "__secrets_search": {"stdout": "{{ __found.stdout | replace(%s, '') }}" % tree_expr}
            }
        },
    ]
    controller = [
        {
            "ansible.builtin.copy": {
                "content": "{{ {'secrets': __secrets} | to_json }}",
                "dest": "%s/work/secrets.json" % tmp_path,
                "mode": "0600",
            },
            "no_log": True,
        },
        {
            "ansible.builtin.command": {
                "argv": [
                    sys.executable,
                    str(TOOL),
                    "--secrets",
                    "%s/work/secrets.json" % tmp_path,
                    "--label",
                    "controller:",
                ]
                + ["--playbook-json", "%s/work/run.json" % tmp_path, "%s/work/run.stderr" % tmp_path]
            },
            "register": "__secrets_controller",
            "changed_when": False,
        },
    ]
    secrets_of_first = "{{ hostvars[groups['vmpair_pairs'][0]].__secrets_list }}"
    playbook = [
        dict(source[1], vars=shared, tasks=[read] + tasks(source[1], "List the secrets", "Check there is")),
        dict(source[2], vars=dict(shared, __secrets=secrets_of_first), tasks=search),
        dict(
            source[3],
            vars=dict(shared, __secrets=secrets_of_first, __lab_hosts=source[3]["vars"]["__lab_hosts"]),
            tasks=controller + tasks(source[3], "Check no secret"),
        ),
    ]
    return run_playbook(tmp_path, playbook, inventory())


def callback_output(diff_after="x", failed=False):
    doc = {
        "plays": [
            {
                "play": {"name": "Deploy"},
                "tasks": [
                    {
                        "task": {"name": "Configure a fence device for each host"},
                        "hosts": {"hv-east": {"changed": True, "diff": {"before": "", "after": diff_after}}},
                    },
                    {"task": {"name": "Check"}, "hosts": {"hv-west": {"failed": failed, "msg": "it broke"}}},
                ],
            }
        ],
        "stats": {h: {"ok": 2, "changed": 1, "failures": int(failed), "unreachable": 0} for h in PAIR},
    }
    return "Using /etc/ansible/ansible.cfg as config file\n" + json.dumps(doc, indent=4) + "\n"


def test_every_secret_only_where_it_belongs_passes_and_says_what_was_searched(tmp_path):
    proc = search_and_judge(tmp_path, lab(tmp_path), callback_output())
    assert proc.returncode == 0, proc.stdout[-3000:]
    msg = judged(proc)
    assert "4 secret(s) (DRBD secret of vm-guest1, fence password of hv-east (options.password) = fence password" in msg
    assert "(2 tasks, 2 host results, 1 diffs)" in msg
    assert "found only where allowed: hv-east:/etc/corosync/authkey, hv-east:/etc/drbd.d/vm-guest1.res" in msg
    for secret in (KEY.decode(), DRBD, VNC, BMC):
        assert secret not in proc.stdout + proc.stderr


def test_leaks_a_missing_place_and_an_open_file_are_each_named(tmp_path):
    trees = lab(tmp_path, fence_files=False)
    write(
        trees / "hv-east/var/lib/pacemaker/pengine/pe-input-3.bz2",
        bz2.compress(b"<nvpair value='%s'/>" % BMC.encode()),
        0o600,
    )
    (trees / "hv-west/etc/corosync/authkey").chmod(0o644)
    write(trees / "qw1/root/authkey.b64", base64.b64encode(b"x" + KEY), 0o600)  # a slurp left on the witness
    proc = search_and_judge(tmp_path, trees, callback_output(diff_after="<graphics passwd='%s'/>" % VNC))
    assert proc.returncode != 0
    msg = judged(proc)
    assert msg.startswith("3 leak(s): ")
    assert "fence password of hv-east (options.password) = fence password of hv-west (options.password) in " in msg
    assert "hv-east:/var/lib/pacemaker/pengine/pe-input-3.bz2 (bz2) (raw, 1 time(s), first at line 1, mode 0600)" in msg
    assert "corosync key in qw1:/root/authkey.b64 (base64+1, 1 time(s), first at line 1, mode 0600)" in msg
    assert "console password of guest1 in controller:%s/work/run.json (raw, " % tmp_path in msg
    assert "allowed but readable by others or not owned by root: hv-west:/etc/corosync/authkey" in msg
    assert "at hv-west:/etc/vmpair/fence/fence_hv-east.password" in msg
    assert "at hv-east:/etc/vmpair/fence/fence_hv-west.password" in msg
    for secret in (KEY.decode(), DRBD, VNC, BMC):
        assert secret not in proc.stdout + proc.stderr


@pytest.mark.parametrize("failed", [False, True])
def test_the_documented_command_runs_with_the_json_callback_and_its_failures_are_shown(tmp_path, failed):
    fake = tmp_path / "bin" / "ansible-playbook"
    write(
        fake,
        '#!/bin/sh\nprintf \'%%s\\n\' "$*" "$ANSIBLE_STDOUT_CALLBACK $ANSIBLE_CALLBACKS_ENABLED" > %s/args\n'
        "cat %s/output\necho 'a warning' >&2\nexit %d\n" % (tmp_path, tmp_path, 2 if failed else 0),
        0o755,
    )
    (tmp_path / "output").write_text(callback_output(failed=failed))
    source = plays()[0]
    playbook = [
        dict(source, vars=dict(source["vars"], __secrets_workdir=str(tmp_path / "work"), __secrets_vms=["guest1"]))
    ]
    inv = inventory()
    inv["all"]["hosts"] = {"localhost": {}}
    inv["all"]["children"]["vmpair_pairs"]["children"]["pair_lab"]["hosts"]["hv-east"] = {
        "vmpair_vms": [{"name": "guest1"}]
    }
    (tmp_path / "pb.yml").write_text(yaml.safe_dump(playbook, sort_keys=False, width=1000))
    (tmp_path / "inv.yml").write_text(yaml.safe_dump(inv))
    proc = subprocess.run(
        [shutil.which("ansible-playbook"), "-i", str(tmp_path / "inv.yml"), str(tmp_path / "pb.yml")],
        capture_output=True,
        text=True,
        env=dict(
            os.environ, PATH="%s:%s" % (fake.parent, os.environ["PATH"]), ANSIBLE_PYTHON_INTERPRETER=sys.executable
        ),
        cwd=tmp_path,
        check=False,
    )
    args = (tmp_path / "args").read_text().splitlines()
    assert args == [
        "-i %s duplex.vmpair.protect -e vms=guest1 -e @%s/work/vms.yml --diff -v" % (tmp_path / "inv.yml", tmp_path),
        "ansible.posix.json vmpair_lab",
    ]
    assert yaml.safe_load((tmp_path / "work" / "vms.yml").read_text()) == {"vmpair_vms": [{"name": "guest1"}]}
    if failed:
        assert proc.returncode != 0
        assert 'failures\\": 1' in proc.stdout
        assert 'failed: [\\"Check on hv-west: it broke\\"]; stderr: [\\"a warning\\"]' in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout[-3000:]

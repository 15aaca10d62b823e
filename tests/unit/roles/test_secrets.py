# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles write that guards access: the migration key's authorized_keys options (hypervisor)
and the modes of the witness's certificate database (witness), read from the roles' task files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.duplex.vmpair.tests.unit.roletemplates import ROLES, role_vars, trust_as_template


def tasks(role, name):
    """Every task of roles/ROLE/tasks/NAME, blocks flattened."""
    with open(os.path.join(ROLES, role, "tasks", name)) as handle:
        pending = list(yaml.safe_load(handle))
    found = []
    while pending:
        task = pending.pop(0)
        found.append(task)
        for key in ("block", "rescue", "always"):
            pending[0:0] = task.get(key, [])
    return found


def module_args(task, module):
    return task.get(module) or task.get(module.rsplit(".", 1)[-1])


# hypervisor: the peer's migration key in root's authorized_keys ------------------------------------


def authorized_keys_task():
    found = [
        t
        for t in tasks("hypervisor", "migration.yml")
        if (module_args(t, "ansible.builtin.lineinfile") or {}).get("path") == "/root/.ssh/authorized_keys"
    ]
    assert len(found) == 1, found
    return module_args(found[0], "ansible.builtin.lineinfile")


def authorized_keys_line(pubkey, peer="hv-west", peer_address="10.10.0.2"):
    """The line as the role writes it on hv-east for the peer hv-west."""
    variables = role_vars(
        "hypervisor",
        __vmpair_migration_peer=peer,
        hostvars={peer: {"__vmpair_migration_own_address": peer_address, "__vmpair_migration_pubkey": pubkey}},
    )
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(authorized_keys_task()["line"]))


def split_options(line):
    """(options, key type, key, comment) of an authorized_keys line whose options hold no spaces."""
    options, keytype, key, comment = line.split(" ", 3)
    return options.split(","), keytype, key, comment


@pytest.fixture(scope="module")
def pubkey(tmp_path_factory):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    path = tmp_path_factory.mktemp("key") / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def test_migration_key_is_restricted_to_the_peer_and_to_commands(pubkey, tmp_path):
    line = authorized_keys_line(pubkey)
    options, keytype, key, comment = split_options(line)
    # restrict: no port/agent/X11 forwarding, no pty, no ~/.ssh/rc (and what OpenSSH adds later)
    assert "restrict" in options
    assert 'from="10.10.0.2"' in options
    # qemu+ssh runs a remote command (virt-ssh-helper or nc) on an exec channel: nothing re-enables a pty or
    # forwarding, and no forced command replaces libvirt's own
    assert not [o for o in options if o in ("pty", "port-forwarding", "agent-forwarding", "X11-forwarding")]
    assert not [o for o in options if o.startswith(("command=", "permitopen=", "permitlisten="))]
    assert f"{keytype} {key}" == pubkey
    assert comment == "duplex.vmpair-migration-from-hv-west"
    # the role's regexp finds the line again (a rerun replaces it, never adds a second one)
    regexp = Templar(loader=DataLoader(), variables={"__vmpair_migration_peer": "hv-west"}).template(
        trust_as_template(authorized_keys_task()["regexp"])
    )
    assert re.search(regexp, line)
    # OpenSSH reads the key past the options
    keys = tmp_path / "authorized_keys"
    keys.write_text(line + "\n")
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(keys)], capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "duplex.vmpair-migration-from-hv-west" in listed.stdout


# witness: the certificate database that holds the CA's private key ------------------------------------


def test_qnetd_database_is_readable_not_writable_by_the_daemon():
    found = {}
    for task in tasks("witness", "main.yml"):
        args = module_args(task, "ansible.builtin.file") or {}
        path = str(args.get("path", ""))
        for item in task.get("loop", []) if "{{ item }}" in path else [os.path.basename(path)]:
            found[item] = args
    for name in ("cert9.db", "key4.db"):
        assert name in found, "the witness role does not set the mode of %s" % name
        args = found[name]
        # key4.db holds qnetd's server key and the CA's private key: root writes it, the daemon's group reads it
        assert args.get("owner") == "root"
        assert args.get("group") == "coroqnetd"
        assert str(args.get("mode")) == "0640"


# cluster: the fence password, in a root-only file on the node that runs the device -------------------

FENCE_PASSWORD = "Vault-only-fence-7q"
PAIR_NODES = [{"name": "hv-east", "host": "hv-east"}, {"name": "hv-west", "host": "hv-west"}]


def fence_tasks():
    """(block vars, {task name: task}) of roles/cluster/tasks/fence_device.yml."""
    with open(os.path.join(ROLES, "cluster", "tasks", "fence_device.yml")) as handle:
        (block,) = yaml.safe_load(handle)
    return block["vars"], {t["name"]: t for t in block["block"]}


def fence_templar(options, **extra):
    block_vars, _unused = fence_tasks()
    variables = role_vars(
        "cluster",
        __vmpair_fenced=PAIR_NODES[0],
        __vmpair_fence_device={"id": "fence_hv-east", "agent": "fence_ipmilan", "level": 1, "index": 0},
        __vmpair_pair={"nodes": PAIR_NODES, "watchdog": None},
        vmpair_fencing={"hv-east": {"agent": "fence_ipmilan", "options": options}},
        inventory_hostname="hv-east",
        **extra,
    )
    variables.update({k: trust_as_template(v) for k, v in block_vars.items()})
    templar = Templar(loader=DataLoader(), variables=variables)
    return lambda value: templar.template(trust_as_template(value)) if isinstance(value, str) else value


def fence_task(module, contains=""):
    _unused, found = fence_tasks()
    hits = [t for t in found.values() if module_args(t, module) is not None and contains in t["name"]]
    assert len(hits) == 1, (module, contains, list(found))
    return hits[0]


def test_fence_password_is_written_root_only_on_the_peer_and_kept_off_the_fenced_node():
    render = fence_templar({"ip": "192.0.2.10", "password": FENCE_PASSWORD})
    path = "/etc/vmpair/fence/fence_hv-east.password"

    directory = fence_task("ansible.builtin.file", "directory")
    assert module_args(directory, "ansible.builtin.file")["mode"] == "0700"
    assert module_args(directory, "ansible.builtin.file")["owner"] == "root"
    assert render(directory["delegate_to"]) == "hv-west"

    write = fence_task("ansible.builtin.copy")
    args = module_args(write, "ansible.builtin.copy")
    assert write["no_log"] is True and write["diff"] is False
    assert (args["owner"], args["group"], str(args["mode"])) == ("root", "root", "0600")
    assert render(args["dest"]) == path
    assert render(args["content"]) == FENCE_PASSWORD
    assert render(write["delegate_to"]) == "hv-west"  # the peer: it runs fence_hv-east
    assert render("{{ " + write["when"] + " }}") is True

    stale = fence_task("ansible.builtin.file", "node it fences")
    assert render(module_args(stale, "ansible.builtin.file")["path"]) == path
    assert module_args(stale, "ansible.builtin.file")["state"] == "absent"
    assert render(stale["delegate_to"]) == "hv-east"

    device = fence_task("duplex.vmpair.fence_device")
    assert render(module_args(device, "duplex.vmpair.fence_device")["password_file"]) == path
    assert render(device["delegate_to"]) == "hv-west"  # the module checks the file where it is


@pytest.mark.parametrize(
    "options, extra",
    [
        ({"ip": "192.0.2.10", "password": FENCE_PASSWORD}, {"vmpair_fence_password_file": False}),
        ({"ip": "192.0.2.10", "community": "private"}, {}),  # no password option: nothing to put in a file
    ],
)
def test_fence_password_stays_in_the_cib_without_a_file(options, extra):
    render = fence_templar(options, **extra)
    assert render("{{ __vmpair_fence_use_file | bool }}") is False
    device = fence_task("duplex.vmpair.fence_device")
    assert render(device["delegate_to"]) == "hv-east"
    removal = fence_task("ansible.builtin.file", "configured without one")
    assert render(removal["delegate_to"]) == "hv-west"


def test_fence_passwd_alias_goes_to_the_file_too():
    render = fence_templar({"ip": "192.0.2.10", "passwd": FENCE_PASSWORD})
    assert render(module_args(fence_task("ansible.builtin.copy"), "ansible.builtin.copy")["content"]) == FENCE_PASSWORD

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/inventory.py: the pair groups from `ansible-inventory --graph`, the vaulted vars files
named, the implicit localhost, and the real ansible-inventory of this Python on a real inventory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.duplex.vmpair.plugins.plugin_utils import inventory

# What `ansible-inventory --graph vmpair_pairs` prints (2.4 to 2.21): a pair group with a child group
# of its own, hosts directly under vmpair_pairs (no pair), and --vars lines.
GRAPH = """@vmpair_pairs:
  |--@pair_mail:
  |  |--hv-east
  |  |--hv-west
  |  |--{vmpair_storage_vg = vg_vms}
  |--@pair_web:
  |  |--@pair_web_rack:
  |  |  |--hv-a
  |  |--hv-b
  |--stray
"""

GROUPS = {
    "all": ["hv-east", "hv-west", "hv-a", "hv-b", "stray", "qw1"],
    "ungrouped": [],
    "vmpair_pairs": ["stray", "hv-east", "hv-west", "hv-b", "hv-a"],
    "pair_mail": ["hv-east", "hv-west"],
    "pair_web": ["hv-b", "hv-a"],
    "pair_web_rack": ["hv-a"],
    "kvm_hosts": ["hv-east", "hv-west"],
    "vmpair_witnesses": ["qw1"],
}


class FakePopen(object):
    """Stands in for subprocess.Popen: records the command, answers with `stdout` or fails."""

    def __init__(self, stdout="", returncode=0, stderr=""):
        self.stdout, self.returncode, self.stderr = stdout, returncode, stderr
        self.calls = []
        self.killed = False

    def __call__(self, cmd, **kwargs):
        self.calls.append((cmd, kwargs))
        return self

    def communicate(self, timeout=None):
        return self.stdout, self.stderr

    def poll(self):
        return self.returncode

    def kill(self):
        self.killed = True


def test_child_groups_are_the_direct_children_in_inventory_order():
    assert inventory.child_groups(GRAPH, "vmpair_pairs") == ["pair_mail", "pair_web"]


def test_a_graph_of_another_group_is_refused():
    with pytest.raises(inventory.InventoryReadError, match="unexpected output"):
        inventory.child_groups("@all:\n  |--@ungrouped:\n", "vmpair_pairs")


def test_pair_groups_take_the_hosts_from_the_groups_variable_in_inventory_order():
    run = FakePopen(GRAPH)
    pairs = inventory.PairGroups(GROUPS, ["/site/inventory.yml"], "vmpair_pairs", "/site/playbooks", popen=run).result()
    assert pairs == {"pair_mail": ["hv-east", "hv-west"], "pair_web": ["hv-b", "hv-a"]}
    [(cmd, kwargs)] = run.calls
    assert cmd[1:] == ["-i", "/site/inventory.yml", "--playbook-dir", "/site/playbooks", "--graph", "vmpair_pairs"]
    # It never waits for a prompt (an ask_vault_pass in ansible.cfg): --graph needs no vault password.
    assert kwargs["stdin"] == subprocess.DEVNULL and kwargs["env"]["ANSIBLE_ASK_VAULT_PASS"] == "False"


def test_without_the_pairs_group_ansible_inventory_is_not_run():
    run = FakePopen(GRAPH)
    assert inventory.PairGroups({"all": ["a"]}, ["inv"], "vmpair_pairs", popen=run).result() == {}
    assert run.calls == []


def test_a_failing_ansible_inventory_says_what_it_printed():
    run = FakePopen(
        returncode=1, stderr="[WARNING]: noise\n[ERROR]: Attempting to decrypt but no vault secrets found.\n"
    )
    with pytest.raises(inventory.InventoryReadError, match="exited with 1: .*no vault secrets found"):
        inventory.PairGroups(GROUPS, ["inv"], "vmpair_pairs", popen=run).result()


def test_the_implicit_localhost_is_a_local_name_the_inventory_does_not_have():
    assert inventory.implicit_localhost(GROUPS) == "localhost"
    assert inventory.implicit_localhost({"all": ["localhost"], "ungrouped": []}) == "127.0.0.1"


def test_inventory_names_are_none_when_ansible_inventory_fails():
    assert inventory.inventory_names(["inv"], "localhost", popen=FakePopen('{"vmpair_x": 1, "a": 2}')) == {
        "vmpair_x",
        "a",
    }
    assert inventory.inventory_names(["inv"], "localhost", popen=FakePopen(returncode=5)) is None


def test_vaulted_files_are_the_whole_encrypted_vars_files_the_host_reads(tmp_path):
    (tmp_path / "inventory.yml").write_text("all: {}\n")
    vault = b"$ANSIBLE_VAULT;1.1;AES256\n6231\n"
    files = {
        "group_vars/vmpair_pairs/vault.yml": vault,
        "group_vars/vmpair_pairs/main.yml": b"vmpair_storage_vg: vg_vms\n",
        "group_vars/all.yml": vault,
        "group_vars/kvm_hosts.yml": vault,  # a group hv-east is not in
        "host_vars/hv-east": vault,
        "host_vars/hv-west.yml": vault,
    }
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    groups = {"all": ["hv-east", "hv-west"], "vmpair_pairs": ["hv-east", "hv-west"], "kvm_hosts": ["hv-west"]}
    found = inventory.vaulted_files("hv-east", groups, [str(tmp_path / "inventory.yml"), "a,b,"])
    assert found == [
        str(tmp_path / "group_vars/all.yml"),
        str(tmp_path / "group_vars/vmpair_pairs/vault.yml"),
        str(tmp_path / "host_vars/hv-east"),
    ]


def test_the_real_ansible_inventory_finds_the_pairs_of_a_real_inventory(tmp_path):
    # This Python's ansible-inventory (2.17, 2.19, ...), a group beside the pair with the same hosts.
    (tmp_path / "inventory.yml").write_text(
        "all:\n"
        "  children:\n"
        "    kvm_hosts: {hosts: {hv-west: {}, hv-east: {}}}\n"
        "    vmpair_pairs:\n"
        "      children:\n"
        "        pair_mail: {hosts: {hv-east: {}, hv-west: {}}}\n"
        "        pair_web: {hosts: {hv-b: {}, hv-a: {}}}\n"
    )
    groups = {"pair_mail": ["hv-east", "hv-west"], "pair_web": ["hv-b", "hv-a"], "vmpair_pairs": ["hv-east"]}
    assert inventory._command() == [os.path.join(os.path.dirname(sys.executable), "ansible-inventory")]
    pairs = inventory.PairGroups(groups, [str(tmp_path / "inventory.yml")], "vmpair_pairs").result()
    assert pairs == {"pair_mail": ["hv-east", "hv-west"], "pair_web": ["hv-b", "hv-a"]}


def test_a_run_whose_result_is_no_longer_wanted_is_stopped():
    run = FakePopen(GRAPH, returncode=None)  # still running
    inventory.PairGroups(GROUPS, ["inv"], "vmpair_pairs", popen=run).close()
    assert run.killed


def test_one_answer_serves_every_task_of_a_run_and_only_that_run(tmp_path, monkeypatch):
    # site_model runs once per host and role: ansible-inventory is started once per playbook run.
    monkeypatch.setattr(inventory.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    source = tmp_path / "inventory.yml"
    source.write_text("all: {}\n")
    first = FakePopen(GRAPH)
    assert inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=first, run_key="1:100").result()
    again = FakePopen("not a graph")
    pairs = inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=again, run_key="1:100").result()
    assert pairs == {"pair_mail": ["hv-east", "hv-west"], "pair_web": ["hv-b", "hv-a"]}
    assert len(first.calls) == 1 and again.calls == []
    # another run (or the same process id started later) asks again
    other = FakePopen(GRAPH)
    inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=other, run_key="1:200").result()
    assert len(other.calls) == 1
    # an inventory rewritten during the run is read again
    source.write_text("all: {children: {}}\n")
    rewritten = FakePopen(GRAPH)
    inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=rewritten, run_key="1:100").result()
    assert len(rewritten.calls) == 1
    # a failed answer is not kept; without a run key nothing is kept
    failing = FakePopen("", returncode=1, stderr="ERROR! boom")
    with pytest.raises(inventory.InventoryReadError):
        inventory.PairGroups(GROUPS, ["elsewhere"], "vmpair_pairs", popen=failing, run_key="1:100").result()
    assert sorted(os.listdir(tmp_path / "tmp" / ("duplex-vmpair-inventory-%d" % os.getuid())))[0].endswith(".out")
    plain = FakePopen(GRAPH)
    inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=plain).result()
    inventory.PairGroups(GROUPS, [str(source)], "vmpair_pairs", popen=plain).result()
    assert len(plain.calls) == 2


def test_the_run_key_names_the_parent_process_and_its_start():
    key = inventory.playbook_run_key()
    assert key.split(":")[0] == str(os.getppid())
    with open("/proc/%d/stat" % os.getppid()) as handle:
        assert key.split(":")[1] == handle.read().rsplit(")", 1)[1].split()[19]

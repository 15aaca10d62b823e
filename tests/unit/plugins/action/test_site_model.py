# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.site_model run by the real ansible-playbook against real inventory files:
pair groups found from the inventory tree, group vars, vaulted-style fencing passwords that are
never read, and the messages a user sees."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import subprocess
import sys

import yaml

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))

INVENTORY = """
all:
  children:
    vmpair_witnesses:
      hosts:
        qw1: {vmpair_site: hq, vmpair_witness_address: 192.0.2.30}
    vmpair_pairs:
      children:
        pair_mail:
          hosts:
            hv-east: {vmpair_site: east}
            hv-west: {vmpair_site: west}
          vars:
            vmpair_witness: qw1
            vmpair_storage_vg: vg_vms
            vmpair_links:
              - {name: link0, network: 10.10.0.0/24, carries: [cluster, replication],
                 hosts: {hv-east: {interface: eth1, address: 10.10.0.1}, hv-west: {interface: eth1, address: 10.10.0.2}}}
              - {name: link1, network: 10.10.1.0/24, carries: [cluster],
                 hosts: {hv-east: {interface: eth2, address: 10.10.1.1}, hv-west: {interface: eth2, address: 10.10.1.2}}}
            vmpair_fencing:
              hv-east: {agent: fence_ipmilan, options: {ip: 192.0.2.10, password: "{{ vault_undefined_east }}"}}
              hv-west: {agent: fence_ipmilan, options: {ip: 192.0.2.11, password: "{{ vault_undefined_west }}"}}
            vmpair_watchdog_fencing: true
    kvm_hosts:
      hosts:
        hv-east:
        hv-west:
"""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - duplex.vmpair.site_model:
        require: "{{ require | default(omit) }}"
      register: described
    - ansible.builtin.copy:
        content: "{{ described | to_json }}"
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
"""


def collections_path(tmp_path):
    """A collections path where duplex.vmpair is this tree (never an installed copy)."""
    namespace = tmp_path / "collections" / "ansible_collections" / "duplex"
    namespace.mkdir(parents=True)
    (namespace / "vmpair").symlink_to(REPO_ROOT)
    return str(tmp_path / "collections")


def ansible_env(tmp_path):
    """The environment of an Ansible command with this tree as duplex.vmpair (made under tmp_path, once)."""
    return dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=collections_path(tmp_path),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",  # make, outside CI, exports ANSIBLE_FORCE_COLOR=1: it would win over NOCOLOR
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )


def ansible_command(name):
    """The path of an Ansible command (ansible-playbook, ansible-vault) of the ansible-core running the tests."""
    return os.path.join(os.path.dirname(sys.executable), name)


def ansible_playbook(tmp_path, inventory, playbook, *args):
    """Run the real ansible-playbook with this tree as duplex.vmpair on the inventory text."""
    (tmp_path / "inventory.yml").write_text(inventory)
    cmd = [ansible_command("ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), playbook]
    return subprocess.run(
        cmd + list(args), env=ansible_env(tmp_path), capture_output=True, text=True, timeout=300, check=False
    )


def run(tmp_path, inventory, extra=None):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    out = tmp_path / "out"
    out.mkdir()
    args = ["-e", "out=%s" % out]
    for key, value in (extra or {}).items():
        args += ["-e", "%s=%s" % (key, value)]
    proc = ansible_playbook(tmp_path, inventory, str(tmp_path / "play.yml"), *args)
    results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return proc, results


def test_pairs_come_from_the_inventory_tree(tmp_path):
    proc, results = run(tmp_path, INVENTORY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    east = results["hv-east"]
    assert east["pair"]["name"] == "pair_mail"  # not kvm_hosts, which holds the same two hosts
    assert east["node"]["nodeid"] == 1 and east["peer"]["host"] == "hv-west"
    assert east["pair"]["witness"]["address"] == "192.0.2.30"
    assert east["pairs"] == ["pair_mail"]
    assert results["qw1"]["pair"] is None
    assert results["qw1"]["witness"]["clusters"] == ["pair_mail"]
    # The roles' OS check reads the supported releases here, on the pair hosts and the witness.
    assert east["debian_releases"] == results["qw1"]["debian_releases"] == {"bookworm": "12", "trixie": "13"}
    # The undefined vault variables were never templated, and no option value leaks.
    assert "192.0.2.10" not in json.dumps(results)


def test_require_pair_fails_clearly_on_the_witness(tmp_path):
    proc, _results = run(tmp_path, INVENTORY, {"require": "pair"})
    assert proc.returncode != 0
    assert "qw1 is not in a pair" in proc.stdout


def test_a_bad_inventory_names_pair_host_variable_and_fix(tmp_path):
    data = yaml.safe_load(INVENTORY)
    pair_vars = data["all"]["children"]["vmpair_pairs"]["children"]["pair_mail"]["vars"]
    pair_vars["vmpair_links"][0]["hosts"]["hv-west"]["address"] = "10.10.9.2"
    del pair_vars["vmpair_witness"]
    proc, results = run(tmp_path, yaml.safe_dump(data))
    assert proc.returncode != 0
    assert results == {}
    assert "The site inventory has 2 problem(s)" in proc.stdout
    assert (
        "pair pair_mail host hv-west: vmpair_links[link0].hosts.hv-west.address: 10.10.9.2 is not inside link0's network 10.10.0.0/24."
        in proc.stdout
    )
    assert "pair pair_mail: vmpair_witness: the hosts are on different sites" in proc.stdout


def test_an_inventory_without_the_pairs_group_says_so(tmp_path):
    # The same hosts, but in a flat group: nothing is guessed from other groups.
    data = yaml.safe_load(INVENTORY)
    pair = data["all"]["children"].pop("vmpair_pairs")["children"]["pair_mail"]
    data["all"]["children"]["pair_mail"] = pair
    proc, results = run(tmp_path, yaml.safe_dump(data))
    assert proc.returncode != 0
    assert results == {}
    assert "vmpair_pairs" in proc.stdout


def run_check_site(tmp_path, inventory):
    return ansible_playbook(tmp_path, inventory, os.path.join(REPO_ROOT, "playbooks", "check_site.yml"))


def test_check_site_accepts_a_valid_site_without_reaching_any_host(tmp_path):
    # The hosts have no address that answers: the playbook must not try to connect.
    proc = run_check_site(
        tmp_path, INVENTORY.replace("vmpair_site: east}", "vmpair_site: east, ansible_host: 192.0.2.250}")
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "PASSED: 0 error(s), 0 warning(s); 1 pair(s) checked (0 with errors, 0 with warnings), 1 witness(es), 0 VM(s)."
        in proc.stdout
    )


def test_check_site_fails_with_every_problem(tmp_path):
    data = yaml.safe_load(INVENTORY)
    pair_vars = data["all"]["children"]["vmpair_pairs"]["children"]["pair_mail"]["vars"]
    pair_vars["vmpair_links"][1]["carries"] = ["replication"]
    pair_vars["vmpair_fencing"].pop("hv-west")
    proc = run_check_site(tmp_path, yaml.safe_dump(data))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert '"pair pair_mail: 2 error(s), 0 warning(s)"' in proc.stdout
    assert "ERROR: pair pair_mail host hv-west: vmpair_fencing.hv-west: no fence device for hv-west" in proc.stdout
    assert "ERROR: pair pair_mail: vmpair_links: 1 link(s) carry cluster traffic" in proc.stdout
    assert "FAILED: 2 error(s), 0 warning(s); 1 pair(s) checked (1 with errors, 0 with warnings)" in proc.stdout


def test_the_site_model_uses_no_private_ansible_interface():
    # ansible-core 2.19 changed HostVarsVars (every playbook failed at its first task); its inventory
    # and variable objects are private. The site model reads the inventory through the magic
    # variables and ansible-inventory only (plugins/plugin_utils/inventory.py says why).
    private = ("HostVarsVars", "ansible.vars", "ansible.inventory", "ansible.context", "._inventory", "._vars")
    private += ("._variable_manager", "ansible.utils.vars", "ansible._internal")
    paths = [os.path.join(REPO_ROOT, "plugins", "action", "site_model.py")]
    paths += sorted(glob.glob(os.path.join(REPO_ROOT, "plugins", "plugin_utils", "**", "*.py"), recursive=True))
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            code = "\n".join(line for line in handle if not line.lstrip().startswith("#"))
        assert [name for name in private if name in code] == [], path

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""One site, written in each way users write inventories, gives check_site the same answer.

The site: two pairs (pair_mail: hv-east, hv-west; pair_web: hv-north, hv-south), the witness qw1,
two links per pair, IPMI fencing whose passwords come from vault variables, and vmpair_vms with
one VM that has no vcpus or memory_mib (the site's one warning). It is written as:

- ``yaml``: one YAML inventory file holding everything;
- ``ini``: an INI hosts file (host vars inline), with ``group_vars/NAME.yml`` and ``host_vars/NAME.yml``;
- ``dirs``: an inventory directory, its hosts in ``hosts.yml`` and every variable in
  ``group_vars/NAME/main.yml`` and ``host_vars/NAME/main.yml``, the passwords in
  ``group_vars/vmpair_pairs/vault.yml`` (plain text);
- ``vault_file``: ``dirs`` with ``vault.yml`` encrypted as a whole file (``ansible-vault encrypt``);
  the password file is given to ansible-playbook;
- ``vault_inline``: ``dirs`` with each password an inline ``!vault`` value (``ansible-vault
  encrypt_string``); check_site runs without the vault password, as docs/site_model.md promises;
- ``nested``: one YAML file where a pair group holds its hosts through child groups (pair_mail: hv-east
  itself and hv-west in a child group; pair_web: one child group per site).

check_site (playbooks/check_site.yml, with its JSON report) must give each form the same verdict and the
same findings as the first, for the site as it is and for the same site with one link address outside
its network. The site model's pairs are the child groups of vmpair_pairs; a group nested deeper is part
of its pair. A group between vmpair_pairs and a pair group is itself taken as the pair: holding one pair,
the pair gets that group's name (and so its default cluster name); holding two, it is refused as a
"pair" of four hosts (the last tests).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re
import subprocess

import pytest
import yaml

from ansible_collections.duplex.vmpair.tests.unit import sitedata
from ansible_collections.duplex.vmpair.tests.unit.plugins.action.test_site_model import (
    REPO_ROOT,
    ansible_command,
    ansible_env,
)

CHECK_SITE = os.path.join(REPO_ROOT, "playbooks", "check_site.yml")
VAULT_PASSWORD = "vmpair-forms-vault-password"
# The vmpair_pairs group's own variables: the same for every pair.
SHARED = ("vmpair_hypervisor", "vmpair_witness", "vmpair_storage_vg")
FORMS = ("yaml", "ini", "dirs", "vault_file", "vault_inline", "nested")
WARNING = "pair pair_mail: vmpair_vms: 1 VM(s) have no vcpus or memory_mib (app1): the capacity check counts them as 0."
ERROR = (
    "pair pair_mail host hv-west: vmpair_links[link0].hosts.hv-west.address: 10.10.9.2 is not inside link0's "
    "network 10.10.0.0/24."
)


def the_site(broken=False):
    """The site as groups: {"shared": vmpair_pairs' vars, "pairs": {pair: {"hosts": {host: vars}, "vars": vars}},
    "witnesses": {host: vars}, "secrets": {vault variable: password}}, from tests/unit/sitedata.py."""
    pairs, witnesses, hostvars = sitedata.site()
    sitedata.add_pair(pairs, hostvars)
    vms = hostvars["hv-east"]["vmpair_vms"] + [{"name": "app1", "level": "recovery"}]
    sitedata.set_pair_var(hostvars, "vmpair_vms", vms)
    site = {"shared": {}, "pairs": {}, "witnesses": {w: hostvars[w] for w in witnesses}, "secrets": {}}
    for pair, hosts in pairs.items():
        first = hostvars[hosts[0]]
        pair_vars = {k: copy.deepcopy(first[k]) for k in sitedata.PAIR_VARS if k not in SHARED}
        for host, device in pair_vars["vmpair_fencing"].items():
            secret = "vault_ipmi_%s" % hostvars[host]["vmpair_site"]
            device["options"]["password"] = "{{ %s }}" % secret
            site["secrets"][secret] = "%s-bmc-password" % host
        site["shared"].update({k: first[k] for k in SHARED})
        site["pairs"][pair] = {
            "hosts": {h: {k: v for k, v in hostvars[h].items() if k not in sitedata.PAIR_VARS} for h in hosts},
            "vars": pair_vars,
        }
    if broken:
        site["pairs"]["pair_mail"]["vars"]["vmpair_links"][0]["hosts"]["hv-west"]["address"] = "10.10.9.2"
    return site


def dump(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, width=200))


def one_yaml_file(site, pair_group=None):
    """The whole site as one YAML inventory; pair_group(name, hosts, vars) gives a pair's group."""
    pair_group = pair_group or (lambda _name, hosts, pair_vars: {"hosts": hosts, "vars": pair_vars})
    return {
        "all": {
            "children": {
                "vmpair_witnesses": {"hosts": copy.deepcopy(site["witnesses"])},
                "vmpair_pairs": {
                    "vars": dict(site["shared"], **site["secrets"]),
                    "children": {
                        name: pair_group(name, copy.deepcopy(pair["hosts"]), pair["vars"])
                        for name, pair in site["pairs"].items()
                    },
                },
            }
        }
    }


def write_yaml(where, site, _vault):
    dump(where / "inventory.yml", one_yaml_file(site))
    return ["-i", "inventory.yml"]


def write_nested(where, site, _vault):
    def through_child_groups(name, hosts, pair_vars):
        names = list(hosts)
        if name == "pair_mail":  # the pair group holds one host itself, the other through a child group
            child = {"mail_dr": {"hosts": {names[1]: hosts[names[1]]}}}
            return {"hosts": {names[0]: hosts[names[0]]}, "vars": pair_vars, "children": child}
        return {
            "vars": pair_vars,
            "children": {"web_%s" % h.split("-")[1]: {"hosts": {h: v}} for h, v in hosts.items()},
        }

    dump(where / "inventory.yml", one_yaml_file(site, through_child_groups))
    return ["-i", "inventory.yml"]


def write_ini(where, site, _vault):
    def line(host, host_vars):
        inline = {k: host_vars[k] for k in ("vmpair_site", "vmpair_witness_address") if k in host_vars}
        rest = {k: v for k, v in host_vars.items() if k not in inline}
        if rest:
            dump(where / "host_vars" / ("%s.yml" % host), rest)
        return " ".join([host] + ["%s=%s" % item for item in inline.items()])

    text = ["[vmpair_witnesses]"] + [line(h, v) for h, v in site["witnesses"].items()]
    for name, pair in site["pairs"].items():
        text += ["", "[%s]" % name] + [line(h, v) for h, v in pair["hosts"].items()]
        dump(where / "group_vars" / ("%s.yml" % name), pair["vars"])
    text += ["", "[vmpair_pairs:children]"] + list(site["pairs"])
    dump(where / "hosts.ini", "\n".join(text) + "\n")
    dump(where / "group_vars" / "vmpair_pairs.yml", dict(site["shared"], **site["secrets"]))
    return ["-i", "hosts.ini"]


def write_dirs(where, site, vault, vault_text=None):
    inventory = where / "inventory"
    hosts = {
        "all": {
            "children": {
                "vmpair_witnesses": {"hosts": dict.fromkeys(site["witnesses"])},
                "vmpair_pairs": {
                    "children": {name: {"hosts": dict.fromkeys(p["hosts"])} for name, p in site["pairs"].items()}
                },
            }
        }
    }
    dump(inventory / "hosts.yml", hosts)
    dump(inventory / "group_vars" / "vmpair_pairs" / "main.yml", site["shared"])
    dump(inventory / "group_vars" / "vmpair_pairs" / "vault.yml", vault_text or site["secrets"])
    for name, pair in site["pairs"].items():
        dump(inventory / "group_vars" / name / "main.yml", pair["vars"])
    for host, host_vars in [(h, v) for p in site["pairs"].values() for h, v in p["hosts"].items()] + list(
        site["witnesses"].items()
    ):
        dump(inventory / "host_vars" / host / "main.yml", host_vars)
    return ["-i", "inventory/"]


def write_vault_file(where, site, vault):
    return write_dirs(where, site, vault, vault["file"]) + ["--vault-password-file", vault["password_file"]]


def write_vault_inline(where, site, vault):
    return write_dirs(where, site, vault, vault["inline"])  # no vault password: check_site never decrypts


WRITERS = {
    "yaml": write_yaml,
    "ini": write_ini,
    "dirs": write_dirs,
    "vault_file": write_vault_file,
    "vault_inline": write_vault_inline,
    "nested": write_nested,
}


def run(argv, where, env):
    return subprocess.run(argv, cwd=where, env=env, capture_output=True, text=True, timeout=120, check=False)


def vault_texts(base, env, secrets):
    """The passwords as an ansible-vault encrypted file and as inline !vault values, made by ansible-vault."""
    password_file = base / "vault-password"
    password_file.write_text(VAULT_PASSWORD + "\n")
    plain = base / "vault.yml"
    dump(plain, secrets)
    vault = ["--vault-password-file", str(password_file)]
    proc = run([ansible_command("ansible-vault"), "encrypt", *vault, str(plain)], base, env)
    assert proc.returncode == 0, proc.stderr
    names = [arg for name in secrets for arg in ("--name", name)]
    inline = run([ansible_command("ansible-vault"), "encrypt_string", *vault, *names, *secrets.values()], base, env)
    assert inline.returncode == 0, inline.stderr
    return {"file": plain.read_text(), "inline": inline.stdout, "password_file": str(password_file)}


class CheckSite(object):
    """One check_site run: the form's arguments, the process and the JSON report."""

    def __init__(self, where, env, args):
        self.where, self.args = where, args
        report = where / "report.json"
        argv = [ansible_command("ansible-playbook"), *args, CHECK_SITE, "-e", "vmpair_check_json_report=%s" % report]
        self.proc = run(argv, where, env)
        self.out = self.proc.stdout + self.proc.stderr
        self.report = json.loads(report.read_text()) if report.exists() else None

    def verdict(self):
        """(exit code, the summary's last line): what a CI job and a reader see."""
        last = re.findall(r'"((?:PASSED|FAILED)[^"]*)"', self.proc.stdout)
        return self.proc.returncode, last[-1] if last else self.out[-2000:]

    def answer(self):
        """The report without the inventory sources, which name each form's own files."""
        assert self.report is not None, self.out
        return {k: v for k, v in self.report.items() if k != "inventory"}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """{(variant, form): CheckSite}: every form of the good and of the broken site, checked once."""
    base = tmp_path_factory.mktemp("inventory-forms")
    env = ansible_env(base)
    vault = vault_texts(base, env, the_site()["secrets"])
    runs = {}
    for variant in ("good", "broken"):
        site = the_site(broken=variant == "broken")
        for form in FORMS:
            where = base / variant / form
            where.mkdir(parents=True)
            runs[variant, form] = CheckSite(where, env, WRITERS[form](where, site, vault))
    return runs


def test_the_yaml_form_passes_with_the_sites_one_warning(checked):
    first = checked["good", "yaml"]
    assert first.verdict() == (
        0,
        "PASSED: 0 error(s), 1 warning(s); 2 pair(s) checked (0 with errors, 1 with warnings), 1 witness(es), 3 VM(s).",
    ), first.out
    assert first.report["pairs"] == {
        "pair_mail": {"errors": 0, "hosts": ["hv-east", "hv-west"], "valid": True, "warnings": 1},
        "pair_web": {"errors": 0, "hosts": ["hv-north", "hv-south"], "valid": True, "warnings": 0},
    }
    assert [f["text"].split(" Fix: ")[0] for f in first.report["findings"]] == [WARNING]


def test_the_broken_yaml_form_fails_naming_the_address_outside_its_network(checked):
    first = checked["broken", "yaml"]
    assert first.verdict() == (
        2,
        "FAILED: 1 error(s), 1 warning(s); 2 pair(s) checked (1 with errors, 1 with warnings), 1 witness(es), 3 VM(s).",
    ), first.out
    texts = [f["text"] for f in first.report["findings"]]
    assert any(t.startswith(ERROR) for t in texts), texts
    assert ERROR in first.proc.stdout


@pytest.mark.parametrize("variant", ["good", "broken"])
@pytest.mark.parametrize("form", FORMS[1:])
def test_every_form_gets_the_same_verdict_and_findings(checked, form, variant):
    run_, first = checked[variant, form], checked[variant, "yaml"]
    assert run_.verdict() == first.verdict(), run_.out
    assert run_.answer() == first.answer()
    # The report names this form's own inventory sources.
    source = run_.args[run_.args.index("-i") + 1]
    assert run_.report["inventory"] == [str(run_.where / source)]


@pytest.mark.parametrize("variant", ["good", "broken"])
def test_no_form_shows_a_fencing_password(checked, variant):
    secrets = list(the_site()["secrets"].values())
    for form in FORMS:
        run_ = checked[variant, form]
        shown = run_.out + json.dumps(run_.report)
        assert [s for s in secrets if s in shown] == [], form


def test_the_vault_forms_really_are_vaulted(checked):
    """The forms the site model never decrypts: one file as a whole, and each password inline."""
    vault_file = checked["good", "vault_file"].where / "inventory" / "group_vars" / "vmpair_pairs" / "vault.yml"
    assert vault_file.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert "--vault-password-file" in checked["good", "vault_file"].args
    inline = checked["good", "vault_inline"]
    values = yaml.safe_load(
        (inline.where / "inventory" / "group_vars" / "vmpair_pairs" / "vault.yml").read_text().replace("!vault", "")
    )
    assert sorted(values) == sorted(the_site()["secrets"])
    assert all(v.startswith("$ANSIBLE_VAULT;1.1;AES256\n") for v in values.values()), values
    assert not any(arg.startswith("--vault") for arg in inline.args)


def test_a_whole_file_vault_without_its_password_names_the_file(checked, tmp_path):
    """docs/site_model.md: each pair whose hosts read the vaulted file fails with an error that names it."""
    vaulted = checked["good", "vault_file"]
    no_password = vaulted.args[: vaulted.args.index("--vault-password-file")]
    run_ = CheckSite(vaulted.where, ansible_env(tmp_path), no_password)
    assert run_.proc.returncode == 2, run_.out
    vault_yml = str(vaulted.where / "inventory" / "group_vars" / "vmpair_pairs" / "vault.yml")
    errors = {f["pair"]: f["text"] for f in run_.report["findings"] if f["severity"] == "error"}
    assert sorted(errors) == ["pair_mail", "pair_web"], run_.report["findings"]
    assert errors["pair_mail"].startswith(
        "pair pair_mail: inventory: the variables of hv-east and hv-west cannot be read"
    )
    assert all("%s is encrypted with ansible-vault as a whole file" % vault_yml in t for t in errors.values()), errors
    assert "Fix: Give the vault password (--ask-vault-pass, --vault-password-file" in errors["pair_web"]


@pytest.fixture(scope="module")
def deeper(tmp_path_factory):
    """check_site on the site with a group between vmpair_pairs and the pair groups."""
    base = tmp_path_factory.mktemp("deeper")
    env = ansible_env(base)
    site = the_site()
    runs = {}
    for case in ("both_pairs_under_dc1", "pair_mail_under_room1"):
        data = one_yaml_file(site)
        pairs = data["all"]["children"]["vmpair_pairs"]["children"]
        if case == "both_pairs_under_dc1":
            pairs = {"dc1": {"children": pairs}}
        else:
            pairs = {"room1": {"children": {"pair_mail": pairs["pair_mail"]}}, "pair_web": pairs["pair_web"]}
        data["all"]["children"]["vmpair_pairs"]["children"] = pairs
        where = base / case
        dump(where / "inventory.yml", data)
        runs[case] = CheckSite(where, env, ["-i", "inventory.yml"])
    return runs


def test_a_group_holding_two_pairs_under_vmpair_pairs_is_refused_as_one_pair_of_four_hosts(deeper):
    run_ = deeper["both_pairs_under_dc1"]
    assert run_.proc.returncode == 2, run_.out
    assert sorted(run_.report["pairs"]) == ["dc1"]
    assert run_.report["pairs"]["dc1"]["hosts"] == ["hv-east", "hv-west", "hv-north", "hv-south"]
    assert [f["text"] for f in run_.report["findings"] if f["severity"] == "error"] == [
        "pair dc1: hosts: has 4 host(s) (hv-east, hv-west, hv-north, hv-south); a pair is exactly two hosts. "
        "Fix: Put exactly two hosts in the group dc1."
    ]


def test_a_group_holding_one_pair_under_vmpair_pairs_becomes_the_pair_and_names_it(deeper):
    run_ = deeper["pair_mail_under_room1"]
    assert run_.proc.returncode == 0, run_.out
    assert run_.report["pairs"] == {
        "pair_web": {"errors": 0, "hosts": ["hv-north", "hv-south"], "valid": True, "warnings": 0},
        "room1": {"errors": 0, "hosts": ["hv-east", "hv-west"], "valid": True, "warnings": 1},
    }
    assert [f["pair"] for f in run_.report["findings"]] == ["room1"]

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.fence_device: main() against an offline CIB with the real pcs and fence agents."""

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from ansible_collections.duplex.vmpair.plugins.modules import fence_device

SECRET = "Vault-only-9f3k"
MASK = "********"


def east(cib_file, **overrides):
    args = {
        "cib_file": cib_file,
        "name": "fence_hv-east",
        "agent": "fence_ipmilan",
        "host": "hv-east",
        "delay": 10,
        "options": {"ip": "192.0.2.10", "username": "admin", "password": SECRET, "lanplus": 1},
    }
    args.update(overrides)
    return args


def read(path):
    with open(path) as f:
        return f.read()


def test_create_idempotent_and_secret_free(run_module, empty_cib):
    rc, result = run_module(fence_device.main, east(empty_cib), diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["commands"] == [
        [
            "pcs",
            "stonith",
            "create",
            "fence_hv-east",
            "fence_ipmilan",
            "ip=192.0.2.10",
            "lanplus=1",
            f"password={MASK}",
            "pcmk_delay_base=10s",
            "pcmk_host_list=hv-east",
            "username=admin",
        ],
        ["pcs", "constraint", "location", "fence_hv-east", "avoids", "hv-east"],
    ]
    # Only the secret is masked: "1" (lanplus) and the address are not blanked all over the output.
    assert "  ip=192.0.2.10\n" in result["diff"]["after"]
    assert "  pcmk_delay_base=10s\n" in result["diff"]["after"]
    assert f"  password={MASK}\n" in result["diff"]["after"]
    assert SECRET not in json.dumps(result)
    assert result["invocation"]["module_args"]["options"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

    root = ET.parse(empty_cib).getroot()
    prim = root.find("./configuration/resources/primitive[@id='fence_hv-east']")
    attrs = {nv.get("name"): nv.get("value") for nv in prim.iter("nvpair")}
    assert attrs["password"] == SECRET and attrs["pcmk_host_list"] == "hv-east"
    assert [(c.get("rsc"), c.get("node"), c.get("score")) for c in root.iter("rsc_location")] == [
        ("fence_hv-east", "hv-east", "-INFINITY")
    ]
    verify = subprocess.run(["crm_verify", "-x", empty_cib], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    rc, again = run_module(fence_device.main, east(empty_cib))
    assert rc == 0
    assert again["changed"] is False
    assert again["commands"] == []


KG = "5ab7c0de5ab7c0de5ab7c0de5ab7c0de5ab7c0de"
COMMUNITY = "n0t-public-9x"
NO_LOG = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize(
    "agent, option, value, plain",
    [
        # an IPMI Kg key: its name has nothing of passw, secret or key
        ("fence_ipmilan", "hexadecimal_kg", KG, {"ip": "192.0.2.10", "username": "admin", "lanplus": 1}),
        # an SNMP community string
        ("fence_apc_snmp", "community", COMMUNITY, {"ip": "192.0.2.20", "snmp_version": "2c", "plug": "3"}),
    ],
)
def test_options_not_known_as_plain_are_secret(run_module, empty_cib, agent, option, value, plain):
    options = dict(plain, **{option: value})
    rc, result = run_module(fence_device.main, east(empty_cib, agent=agent, options=options), diff=True)
    assert rc == 0, result
    assert f"{option}={MASK}" in result["commands"][0]
    assert f"  {option}={MASK}\n" in result["diff"]["after"]
    assert result["invocation"]["module_args"]["options"][option] == NO_LOG
    assert option in result["secret_options"]
    assert value not in json.dumps(result)
    # the known options stay readable everywhere
    for name, shown in plain.items():
        assert f"{name}={shown}" in result["commands"][0]
        assert f"  {name}={shown}\n" in result["diff"]["after"]
        assert result["invocation"]["module_args"]["options"][name] == shown
    # the device has the real value
    prim = ET.parse(empty_cib).getroot().find("./configuration/resources/primitive[@id='fence_hv-east']")
    assert {nv.get("name"): nv.get("value") for nv in prim.iter("nvpair")}[option] == value


def test_check_mode_leaves_cib(run_module, empty_cib):
    before = read(empty_cib)
    rc, result = run_module(fence_device.main, east(empty_cib), check_mode=True, diff=True)
    assert rc == 0
    assert result["changed"] is True
    assert result["diff"]["before"] == ""
    assert "stonith fence_hv-east (agent fence_ipmilan)" in result["diff"]["after"]
    assert "avoids hv-east" in result["diff"]["after"]
    assert SECRET not in json.dumps(result)
    assert read(empty_cib) == before


def test_missing_agent_names_agent_and_package(run_module, empty_cib):
    rc, result = run_module(fence_device.main, east(empty_cib, agent="fence_vmpair_nonexistent"))
    assert rc == 1
    assert "fence_vmpair_nonexistent" in result["msg"]
    assert "fence-agents" in result["msg"]
    assert SECRET not in json.dumps(result)


def test_pcs_error_never_shows_secret(run_module, empty_cib):
    options = {"ip": "192.0.2.10", "password": SECRET, "bogus_option": "1"}
    rc, result = run_module(fence_device.main, east(empty_cib, options=options))
    assert rc == 1
    assert "invalid stonith option 'bogus_option'" in result["stderr"]
    assert f"password={MASK}" in result["cmd"]
    assert SECRET not in json.dumps(result)


def test_agent_required_when_present(run_module, empty_cib):
    rc, result = run_module(fence_device.main, {"cib_file": empty_cib, "name": "f1"})
    assert rc == 1
    assert "agent" in result["msg"]


def test_absent_when_missing_is_unchanged(run_module, empty_cib):
    rc, result = run_module(fence_device.main, {"cib_file": empty_cib, "name": "f1", "state": "absent"})
    assert rc == 0
    assert result["changed"] is False and result["commands"] == []


# ---------------------------------------------------------------------------
# password_file: the password in a root-only file on the node running the device, not in the CIB


@pytest.fixture
def password_file(tmp_path):
    """A password file as the cluster role writes it: the password, owner root, mode 0600."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the module requires a root-owned password file")
    path = tmp_path / "fence" / "fence_hv-east.password"
    path.parent.mkdir(mode=0o700)
    path.write_text(SECRET)
    path.chmod(0o600)
    return str(path)


def cib_device(cib_file, name="fence_hv-east"):
    prim = ET.parse(cib_file).getroot().find(f"./configuration/resources/primitive[@id='{name}']")
    return {nv.get("name"): nv.get("value") for nv in prim.find("instance_attributes").iter("nvpair")}


def test_password_file_keeps_the_password_out_of_the_cib(run_module, empty_cib, password_file):
    rc, result = run_module(fence_device.main, east(empty_cib, password_file=password_file), diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    script = f"password_script=/bin/cat {password_file}"
    assert script in result["commands"][0]
    assert not any(arg.startswith(("password=", "passwd=")) for arg in result["commands"][0])
    # the script only names the file: it is shown, the password appears nowhere
    assert f"  {script}\n" in result["diff"]["after"]
    assert result["invocation"]["module_args"]["options"]["password"] == NO_LOG
    assert not result.get("warnings"), result.get("warnings")
    assert SECRET not in json.dumps(result)
    assert SECRET not in read(empty_cib)
    attrs = cib_device(empty_cib)
    assert "password" not in attrs and "passwd" not in attrs
    assert attrs["password_script"] == f"/bin/cat {password_file}"
    assert attrs["ip"] == "192.0.2.10" and attrs["username"] == "admin"
    verify = subprocess.run(["crm_verify", "-x", empty_cib], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    rc, again = run_module(fence_device.main, east(empty_cib, password_file=password_file), diff=True)
    assert rc == 0, again
    assert again["changed"] is False and again["commands"] == []
    assert again["diff"]["before"] == again["diff"]["after"]


def test_password_in_the_cib_is_converted_in_one_update(run_module, empty_cib, password_file):
    rc, result = run_module(fence_device.main, east(empty_cib))
    assert rc == 0, result
    assert cib_device(empty_cib)["password"] == SECRET

    rc, result = run_module(fence_device.main, east(empty_cib, password_file=password_file), diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["commands"] == [
        ["pcs", "stonith", "update", "fence_hv-east", f"password_script=/bin/cat {password_file}", "password="]
    ]
    assert f"  password={MASK}\n" in result["diff"]["before"]
    assert "password=" not in result["diff"]["after"]
    assert f"  password_script=/bin/cat {password_file}\n" in result["diff"]["after"]
    assert SECRET not in json.dumps(result)
    assert SECRET not in read(empty_cib)
    assert cib_device(empty_cib)["password_script"] == f"/bin/cat {password_file}"


def test_passwd_alias_is_replaced_too(run_module, empty_cib, password_file):
    options = {"ip": "192.0.2.10", "username": "admin", "passwd": SECRET}
    rc, result = run_module(fence_device.main, east(empty_cib, options=options, password_file=password_file))
    assert rc == 0, result
    assert SECRET not in read(empty_cib)
    attrs = cib_device(empty_cib)
    assert "passwd" not in attrs and attrs["password_script"] == f"/bin/cat {password_file}"


def test_password_file_check_mode_leaves_cib(run_module, empty_cib, password_file):
    run_module(fence_device.main, east(empty_cib))
    before = read(empty_cib)
    rc, result = run_module(fence_device.main, east(empty_cib, password_file=password_file), check_mode=True, diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert f"password_script=/bin/cat {password_file}" in result["diff"]["after"]
    assert SECRET not in json.dumps(result)
    assert read(empty_cib) == before


def _missing(path):
    os.unlink(path)


def _world_readable(path):
    os.chmod(path, 0o644)


def _not_root(path):
    os.chown(path, 65534, 65534)


def _empty(path):
    with open(path, "w"):
        pass


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize(
    "spoil, expect",
    [
        (_missing, ["does not exist", "mode 0600"]),
        (_world_readable, ["mode 0644, not 0600", "chmod 0600"]),
        (_not_root, ["owned by uid 65534, not root", "chown root:root"]),
        (_empty, ["is empty"]),
    ],
)
def test_unsafe_password_file_is_refused(run_module, empty_cib, password_file, spoil, expect, check_mode):
    spoil(password_file)
    before = read(empty_cib)
    rc, result = run_module(fence_device.main, east(empty_cib, password_file=password_file), check_mode=check_mode)
    assert rc == 1, result
    assert password_file in result["msg"]
    for text in expect:
        assert text in result["msg"]
    assert SECRET not in json.dumps(result)
    assert read(empty_cib) == before


def test_password_file_path_must_need_no_quoting(run_module, empty_cib, password_file):
    rc, result = run_module(fence_device.main, east(empty_cib, password_file="/etc/fence pw; rm -rf x"))
    assert rc == 1
    assert "absolute path" in result["msg"]


def test_password_file_conflicts_with_a_password_script(run_module, empty_cib, password_file):
    options = {"ip": "192.0.2.10", "password_script": "/usr/local/bin/get-pw"}
    rc, result = run_module(fence_device.main, east(empty_cib, options=options, password_file=password_file))
    assert rc == 1
    assert "options.password_script conflicts with password_file" in result["msg"]


def test_documentation_matches_argument_spec(monkeypatch):
    captured = {}

    class Capture(Exception):
        pass

    def fake_module(**kwargs):
        captured.update(kwargs)
        raise Capture()

    monkeypatch.setattr(fence_device, "AnsibleModule", fake_module)
    with pytest.raises(Capture):
        fence_device.main()
    doc = yaml.safe_load(fence_device.DOCUMENTATION)
    documented = set(doc["options"]) | {"cib_file"}  # cib_file comes from the doc fragment
    assert documented == set(captured["argument_spec"])
    for name, spec in captured["argument_spec"].items():
        if name in doc["options"]:
            assert doc["options"][name].get("type") == spec.get("type"), name
            assert doc["options"][name].get("default") == spec.get("default"), name
    assert captured["argument_spec"]["options"]["no_log"] is True
    yaml.safe_load(fence_device.EXAMPLES)
    yaml.safe_load(fence_device.RETURN)

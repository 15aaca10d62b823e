# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""duplex.vmpair.fence_device: main() against an offline CIB with the real pcs and fence agents."""

import json
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

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.pcs and module_utils.runner against the real, offline pcs.

Every test works on its own CIB file (``pcs -f`` / ``CIB_file``), so pcs,
cibadmin and crm_verify run for real and validate against the installed
Pacemaker and fence agents' metadata.
"""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK, CommandError, CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import cib
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import properties as pcs

SECRET = "S3cr3t-ipmi-pw"
AGENT = "fence_ipmilan"


class FakeModule:
    """The two AnsibleModule methods the runner uses, recording every command."""

    def __init__(self):
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        path = os.environ.get("PATH", "") + ":" + ":".join(opt_dirs or [])
        return shutil.which(name, path=path)

    def run_command(self, args, data=None, check_rc=False, environ_update=None, binary_data=False):
        self.calls.append({"args": list(args), "env": dict(environ_update or {})})
        env = dict(os.environ)
        env.update(environ_update or {})
        proc = subprocess.run(args, input=data, capture_output=True, text=True, env=env, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def changing_calls(self):
        """Every pcs call: reads go through cibadmin/crm_resource only."""
        return [
            [os.path.basename(c["args"][0])] + c["args"][1:]
            for c in self.calls
            if os.path.basename(c["args"][0]) == "pcs"
        ]


@pytest.fixture
def module():
    return FakeModule()


@pytest.fixture
def runner(module, empty_cib):
    return CommandRunner(module, cib_file=empty_cib)


def cib_root(path):
    return ET.parse(path).getroot()


def crm_verify(path):
    proc = subprocess.run(["crm_verify", "-x", path], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def read(path):
    with open(path) as f:
        return f.read()


# ---------------------------------------------------------------------------
# runner


def test_runner_sets_locale_and_cib_file(module, empty_cib):
    r = CommandRunner(module, cib_file=empty_cib)
    result = r.run(["cibadmin", "--query"])
    assert result.rc == 0
    assert "<cib" in result.stdout
    env = module.calls[-1]["env"]
    assert env["LANG"] == "C" and env["LC_ALL"] == "C"
    assert env["CIB_file"] == empty_cib


def test_runner_without_cib_file_has_no_cib_env(module):
    assert "CIB_file" not in CommandRunner(module).environ


def test_runner_refuses_string_commands(module):
    with pytest.raises(TypeError):
        CommandRunner(module).run("pcs status")


def test_runner_error_carries_cmd_rc_stderr(runner):
    with pytest.raises(CommandError) as exc:
        runner.run(["pcs", "-f", runner.cib_file, "property", "set", "no-such-property=1"])
    err = exc.value
    assert err.rc == 1
    assert err.cmd == ["pcs", "-f", runner.cib_file, "property", "set", "no-such-property=1"]
    assert "no-such-property" in err.stderr
    kwargs = err.fail_kwargs()
    assert set(kwargs) >= {"msg", "cmd", "rc", "stderr"}
    assert "no-such-property" in kwargs["msg"]


def test_runner_missing_program_names_package(module):
    with pytest.raises(CommandError) as exc:
        CommandRunner(module).run(["no-such-tool-vmpair", "--help"])
    assert exc.value.rc is None
    assert "no-such-tool-vmpair was not found" in exc.value.msg


def test_runner_masks_secrets_in_errors(runner):
    runner.redact = pcs_fence.redactor({"password"})
    runner.add_secrets([SECRET])
    with pytest.raises(CommandError) as exc:
        runner.run(["sh", "-c", 'echo "bad $0" >&2; exit 3', f"password={SECRET}"])
    dumped = json.dumps(exc.value.fail_kwargs())
    assert SECRET not in dumped
    assert exc.value.cmd[-1] == f"password={MASK}"
    assert exc.value.rc == 3


# ---------------------------------------------------------------------------
# exact commands (no pcs run)


def test_pcs_cmd_targets_cib_file_with_dash_f(module):
    assert cib.pcs_cmd(CommandRunner(module), "status") == ["pcs", "status"]
    offline = CommandRunner(module, cib_file="/tmp/x.xml")
    assert cib.pcs_cmd(offline, "status") == ["pcs", "-f", "/tmp/x.xml", "status"]


def test_cluster_property_commands_exact(module):
    r = CommandRunner(module)
    assert pcs.cluster_property_commands(r, {}, []) == []
    assert pcs.cluster_property_commands(
        r, {"no-quorum-policy": "stop", "stonith-enabled": "true"}, ["maintenance-mode"]
    ) == [["pcs", "property", "set", "no-quorum-policy=stop", "stonith-enabled=true", "maintenance-mode="]]


def test_fence_commands_create_exact(module):
    r = CommandRunner(module)
    options = pcs_fence.desired_fence_options({"ip": "192.0.2.10", "password": SECRET}, host="hv-east", delay=10)
    cmds = pcs_fence.fence_device_commands(r, "fence_hv-east", AGENT, None, options, {"priority": "5"}, "hv-east")
    assert cmds == [
        [
            "pcs",
            "stonith",
            "create",
            "fence_hv-east",
            AGENT,
            "ip=192.0.2.10",
            f"password={SECRET}",
            "pcmk_delay_base=10s",
            "pcmk_host_list=hv-east",
            "meta",
            "priority=5",
        ],
        ["pcs", "constraint", "location", "fence_hv-east", "avoids", "hv-east"],
    ]
    assert [r.mask_cmd(c) for c in cmds][0][6] == f"password={SECRET}"  # no redactor set yet
    r.redact = pcs_fence.redactor({"password"})
    assert r.mask_cmd(cmds[0])[6] == f"password={MASK}"


def test_fence_commands_update_only_differences(module):
    r = CommandRunner(module)
    current = pcs_fence.StonithDevice(
        "f1",
        AGENT,
        {"ip": "192.0.2.10", "username": "admin", "pcmk_delay_base": "5s", "pcmk_host_list": "a"},
        {"priority": "1", "target-role": "Stopped"},
    )
    wanted = {"ip": "192.0.2.99", "username": "admin", "pcmk_host_list": "a"}
    constraints = [cib.LocationConstraint("location-f1-a--INFINITY", "f1", "a", "-INFINITY")]
    cmds = pcs_fence.fence_device_commands(r, "f1", AGENT, current, wanted, {"priority": None}, "a", constraints)
    assert cmds == [["pcs", "stonith", "update", "f1", "ip=192.0.2.99", "pcmk_delay_base=", "meta", "priority="]]


def test_fence_commands_nothing_to_do(module):
    current = pcs_fence.StonithDevice("f1", AGENT, {"ip": "1", "pcmk_host_list": "a"}, {})
    constraints = [cib.LocationConstraint("location-f1-a--INFINITY", "f1", "a", "-INFINITY")]
    assert (
        pcs_fence.fence_device_commands(
            CommandRunner(module), "f1", AGENT, current, dict(current.options), {}, "a", constraints
        )
        == []
    )


def test_fence_commands_host_moved_replaces_our_constraint(module):
    current = pcs_fence.StonithDevice("f1", AGENT, {"pcmk_host_list": "a"}, {})
    constraints = [
        cib.LocationConstraint("location-f1-a--INFINITY", "f1", "a", "-INFINITY"),
        cib.LocationConstraint("operator-ban", "f1", "c", "-INFINITY"),
    ]
    cmds = pcs_fence.fence_device_commands(
        CommandRunner(module), "f1", AGENT, current, {"pcmk_host_list": "b"}, {}, "b", constraints
    )
    assert cmds == [
        ["pcs", "stonith", "update", "f1", "pcmk_host_list=b"],
        ["pcs", "constraint", "location", "f1", "avoids", "b"],
        ["pcs", "constraint", "delete", "location-f1-a--INFINITY"],
    ]


def test_fence_commands_agent_change_recreates(module):
    current = pcs_fence.StonithDevice("f1", "fence_dummy", {"pcmk_host_list": "a"}, {"priority": "3"})
    constraints = [cib.LocationConstraint("location-f1-a--INFINITY", "f1", "a", "-INFINITY")]
    cmds = pcs_fence.fence_device_commands(
        CommandRunner(module), "f1", AGENT, current, {"pcmk_host_list": "a"}, {}, "a", constraints
    )
    assert cmds == [
        ["pcs", "stonith", "delete", "f1"],
        ["pcs", "stonith", "create", "f1", AGENT, "pcmk_host_list=a"],
        ["pcs", "constraint", "location", "f1", "avoids", "a"],
    ]


@pytest.mark.parametrize(
    "name, param_type, secret",
    [
        ("password", "string", True),
        ("passwd", None, True),
        ("password_script", "string", True),
        ("api_secret", "string", True),
        ("ssh_key", None, True),
        ("community", "password", True),
        # not in the allow-list: secret whatever the name looks like
        ("hexadecimal_kg", "string", True),
        ("community", "string", True),
        ("snmp_priv_passwd", "string", True),
        ("apikey", None, True),
        ("token", None, True),
        ("an_option_from_a_newer_agent", "string", True),
        ("ip", "string", False),
        ("username", "string", False),
        ("pcmk_host_list", "string", False),
        ("pcmk_reboot_timeout", None, False),
        ("lanplus", "boolean", False),
        ("ssl_insecure", "boolean", False),
        ("systems_uri", "string", False),
        ("auth", "select", False),
        # a known option the metadata calls a password is still masked
        ("ip", "password", True),
    ],
)
def test_is_secret_option(name, param_type, secret):
    assert pcs_fence.is_secret_option(name, param_type) is secret


def test_desired_options_normalise_and_conflicts():
    assert pcs_fence.desired_fence_options({"lanplus": True, "ipport": 623, "x": None}) == {
        "lanplus": "true",
        "ipport": "623",
    }
    with pytest.raises(cib.PcsError):
        pcs_fence.desired_fence_options({"pcmk_host_list": "a"}, host="b")
    with pytest.raises(cib.PcsError):
        pcs_fence.desired_fence_options({"pcmk_delay_base": "3s"}, delay=5)
    with pytest.raises(cib.PcsError):
        pcs_fence.desired_fence_options({}, delay=-1)
    with pytest.raises(cib.PcsError):
        pcs_fence.desired_fence_options({"ip": ["a", "b"]})


# ---------------------------------------------------------------------------
# cluster properties against the real pcs


def test_cluster_properties_set_then_idempotent(module, runner, empty_cib):
    wanted = {"stonith-enabled": True, "no-quorum-policy": "stop", "priority-fencing-delay": "10s"}
    result = pcs.ensure_cluster_properties(runner, wanted)
    assert result.changed
    assert result.commands == [
        [
            "pcs",
            "-f",
            empty_cib,
            "property",
            "set",
            "no-quorum-policy=stop",
            "priority-fencing-delay=10s",
            "stonith-enabled=true",
        ]
    ]
    props = {nv.get("name"): nv.get("value") for nv in cib_root(empty_cib).iter("nvpair")}
    assert props == {"stonith-enabled": "true", "no-quorum-policy": "stop", "priority-fencing-delay": "10s"}
    assert result.as_dict()["properties"] == props
    assert result.diff == {
        "before": "",
        "after": "no-quorum-policy=stop\npriority-fencing-delay=10s\nstonith-enabled=true\n",
    }

    module.calls.clear()
    again = pcs.ensure_cluster_properties(runner, wanted)
    assert not again.changed
    assert again.commands == []
    assert module.changing_calls() == []
    assert again.diff["before"] == again.diff["after"]


def test_cluster_properties_change_only_what_differs(module, runner, empty_cib):
    pcs.ensure_cluster_properties(runner, {"stonith-enabled": "true", "no-quorum-policy": "stop"})
    module.calls.clear()
    result = pcs.ensure_cluster_properties(runner, {"stonith-enabled": "true", "no-quorum-policy": "freeze"})
    assert result.changed
    assert module.changing_calls() == [["pcs", "-f", empty_cib, "property", "set", "no-quorum-policy=freeze"]]
    assert "no-quorum-policy=stop" in result.diff["before"]
    assert "no-quorum-policy=freeze" in result.diff["after"]


def test_cluster_properties_check_mode_leaves_cib(module, runner, empty_cib):
    before = read(empty_cib)
    result = pcs.ensure_cluster_properties(runner, {"stonith-enabled": "false"}, check_mode=True)
    assert result.changed
    assert result.commands == [["pcs", "-f", empty_cib, "property", "set", "stonith-enabled=false"]]
    assert result.diff == {"before": "", "after": "stonith-enabled=false\n"}
    assert module.changing_calls() == []
    assert read(empty_cib) == before


def test_cluster_properties_unset(runner, empty_cib):
    pcs.ensure_cluster_properties(runner, {"maintenance-mode": True, "stonith-enabled": True})
    result = pcs.ensure_cluster_properties(runner, {"maintenance-mode": None})
    assert result.changed
    assert result.commands == [["pcs", "-f", empty_cib, "property", "set", "maintenance-mode="]]
    assert result.as_dict()["properties"] == {"stonith-enabled": "true"}
    assert not pcs.ensure_cluster_properties(runner, {"maintenance-mode": None}).changed


def test_cluster_properties_unknown_name_fails_with_pcs_error(runner):
    with pytest.raises(CommandError) as exc:
        pcs.ensure_cluster_properties(runner, {"no-such-property": "1"})
    assert "invalid cluster property option 'no-such-property'" in exc.value.stderr


# ---------------------------------------------------------------------------
# fence devices against the real pcs


EAST = {
    "name": "fence_hv-east",
    "agent": AGENT,
    "options": {"ip": "192.0.2.10", "username": "admin", "password": SECRET, "lanplus": True},
    "meta": {"priority": 5},
    "host": "hv-east",
    "delay": 10,
}


def east(**overrides):
    """EAST with some arguments replaced."""
    args = dict(EAST)
    args.update(overrides)
    return args


@pytest.fixture(scope="module")
def east_template(tmp_path_factory):
    """A CIB with EAST already created (made once: pcs takes about a second per call)."""
    if shutil.which("pcs", path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
        pytest.skip("pcs is not installed (make tools)")
    path = tmp_path_factory.mktemp("east") / "cib.xml"
    xml = subprocess.run(["cibadmin", "--empty"], check=True, capture_output=True, text=True).stdout
    path.write_text(xml.replace("<cib ", '<cib have-quorum="1" ', 1))
    pcs_fence.ensure_fence_device(CommandRunner(FakeModule(), cib_file=str(path)), **EAST)
    return str(path)


@pytest.fixture
def east_cib(east_template, empty_cib):
    """``empty_cib`` holding EAST, as after a first run."""
    shutil.copyfile(east_template, empty_cib)
    return empty_cib


def _primitive(path, name):
    return cib_root(path).find(f"./configuration/resources/primitive[@id='{name}']")


def _attrs(prim, section):
    return {nv.get("name"): nv.get("value") for nv in prim.find(section).iter("nvpair")}


def test_fence_device_create(module, runner, empty_cib):
    result = pcs_fence.ensure_fence_device(runner, **EAST)
    assert result.changed
    assert result.commands == [
        [
            "pcs",
            "stonith",
            "create",
            "fence_hv-east",
            AGENT,
            "ip=192.0.2.10",
            "lanplus=true",
            f"password={MASK}",
            "pcmk_delay_base=10s",
            "pcmk_host_list=hv-east",
            "username=admin",
            "meta",
            "priority=5",
        ],
        ["pcs", "constraint", "location", "fence_hv-east", "avoids", "hv-east"],
    ]
    # Both changes are made on a copy and reach the CIB in ONE push, so the device never exists
    # without the constraint that keeps it off the node it fences.
    calls = module.changing_calls()
    assert [c[3:5] for c in calls[:2]] == [["stonith", "create"], ["constraint", "location"]]
    assert calls[0][2] == calls[1][2] != empty_cib
    assert calls[2][:5] == ["pcs", "-f", empty_cib, "cluster", "cib-push"]
    assert len(calls) == 3
    # the real command had the real password, the reported one is masked
    assert calls[0][9] == f"password={SECRET}"

    prim = _primitive(empty_cib, "fence_hv-east")
    assert prim.get("class") == "stonith" and prim.get("type") == AGENT
    assert _attrs(prim, "instance_attributes") == {
        "ip": "192.0.2.10",
        "username": "admin",
        "password": SECRET,
        "lanplus": "true",
        "pcmk_host_list": "hv-east",
        "pcmk_delay_base": "10s",
    }
    assert _attrs(prim, "meta_attributes") == {"priority": "5"}
    locations = [dict(loc.attrib) for loc in cib_root(empty_cib).iter("rsc_location")]
    assert locations == [
        {
            "id": "location-fence_hv-east-hv-east--INFINITY",
            "rsc": "fence_hv-east",
            "node": "hv-east",
            "score": "-INFINITY",
        }
    ]

    assert result.diff["before"] == ""
    assert result.diff["after"] == (
        f"stonith fence_hv-east (agent {AGENT})\n  ip=192.0.2.10\n  lanplus=true\n  password={MASK}\n"
        "  pcmk_delay_base=10s\n  pcmk_host_list=hv-east\n  username=admin\n  meta\n    priority=5\n"
        "  avoids hv-east\n"
    )
    assert result.as_dict()["secret_options"] == ["password"]
    assert SECRET not in json.dumps(result.as_dict())

    rc, out = crm_verify(empty_cib)
    assert rc == 0, out


def test_fence_device_second_run_changes_nothing(module, runner, east_cib):
    module.calls.clear()
    result = pcs_fence.ensure_fence_device(runner, **EAST)
    assert not result.changed
    assert result.commands == []
    assert module.changing_calls() == []
    assert result.diff["before"] == result.diff["after"]


def test_fence_device_check_mode_leaves_cib(module, runner, empty_cib):
    before = read(empty_cib)
    result = pcs_fence.ensure_fence_device(runner, check_mode=True, **EAST)
    assert result.changed
    assert len(result.commands) == 2
    assert module.changing_calls() == []
    assert read(empty_cib) == before
    # the predicted after is what a real run produces
    real = pcs_fence.ensure_fence_device(runner, **EAST)
    assert result.diff == real.diff
    assert SECRET not in json.dumps(result.as_dict())


def test_fence_device_update_changes_only_what_differs(module, runner, east_cib):
    module.calls.clear()
    changed = east(options=dict(EAST["options"], ip="192.0.2.99"), delay=None, meta={"priority": None})
    del changed["options"]["lanplus"]
    result = pcs_fence.ensure_fence_device(runner, **changed)
    assert result.changed
    assert result.commands == [
        [
            "pcs",
            "stonith",
            "update",
            "fence_hv-east",
            "ip=192.0.2.99",
            "lanplus=",
            "pcmk_delay_base=",
            "meta",
            "priority=",
        ]
    ]
    calls = module.changing_calls()
    assert [["pcs"] + c[3:] for c in calls[:-1]] == result.commands
    assert calls[-1][:5] == ["pcs", "-f", east_cib, "cluster", "cib-push"] and len(calls) == 2
    prim = _primitive(east_cib, "fence_hv-east")
    assert _attrs(prim, "instance_attributes") == {
        "ip": "192.0.2.99",
        "username": "admin",
        "password": SECRET,
        "pcmk_host_list": "hv-east",
    }
    assert prim.find("meta_attributes") is None or not _attrs(prim, "meta_attributes")
    assert "ip=192.0.2.10" in result.diff["before"] and "ip=192.0.2.99" in result.diff["after"]
    assert len(list(cib_root(east_cib).iter("rsc_location"))) == 1
    assert crm_verify(east_cib)[0] == 0


def test_fence_device_password_change_is_masked(module, runner, east_cib):
    module.calls.clear()
    new_secret = "An0ther-s3cret"
    result = pcs_fence.ensure_fence_device(runner, **east(options=dict(EAST["options"], password=new_secret)))
    assert result.changed
    assert result.commands == [["pcs", "stonith", "update", "fence_hv-east", f"password={MASK}"]]
    assert f"password={MASK} (changed)" in result.diff["after"]
    dumped = json.dumps(result.as_dict())
    assert SECRET not in dumped and new_secret not in dumped
    assert _attrs(_primitive(east_cib, "fence_hv-east"), "instance_attributes")["password"] == new_secret


def test_fence_device_error_never_shows_secret(runner):
    bad = east(options=dict(EAST["options"], no_such_option="1"))
    with pytest.raises(CommandError) as exc:
        pcs_fence.ensure_fence_device(runner, **bad)
    dumped = json.dumps(exc.value.fail_kwargs())
    assert "invalid stonith option 'no_such_option'" in dumped
    assert SECRET not in dumped
    assert f"password={MASK}" in exc.value.cmd


def test_fence_device_missing_agent(module, runner, empty_cib):
    before = read(empty_cib)
    with pytest.raises(pcs_fence.AgentNotFound) as exc:
        pcs_fence.ensure_fence_device(runner, **east(agent="fence_vmpair_missing"))
    assert "fence_vmpair_missing" in str(exc.value)
    assert "fence-agents" in str(exc.value)
    assert module.changing_calls() == []
    assert read(empty_cib) == before


def test_fence_device_host_change_moves_constraint(runner, east_cib):
    result = pcs_fence.ensure_fence_device(runner, **east(host="hv-west"))
    assert result.changed
    locations = [(loc.get("node"), loc.get("score")) for loc in cib_root(east_cib).iter("rsc_location")]
    assert locations == [("hv-west", "-INFINITY")]
    assert "avoids hv-east" in result.diff["before"] and "avoids hv-west" in result.diff["after"]


def test_fence_device_agent_change_recreates(runner, east_cib):
    result = pcs_fence.ensure_fence_device(
        runner, name="fence_hv-east", agent="fence_dummy", options={"type": "file"}, host="hv-east"
    )
    assert result.commands == [
        ["pcs", "stonith", "delete", "fence_hv-east"],
        [
            "pcs",
            "stonith",
            "create",
            "fence_hv-east",
            "fence_dummy",
            "pcmk_host_list=hv-east",
            "type=file",
        ],
        ["pcs", "constraint", "location", "fence_hv-east", "avoids", "hv-east"],
    ]
    prim = _primitive(east_cib, "fence_hv-east")
    assert prim.get("type") == "fence_dummy"
    assert _attrs(prim, "instance_attributes") == {"pcmk_host_list": "hv-east", "type": "file"}
    assert [loc.get("node") for loc in cib_root(east_cib).iter("rsc_location")] == ["hv-east"]
    assert result.diff["after"].startswith("stonith fence_hv-east (agent fence_dummy)")


def test_fence_device_absent(module, runner, east_cib):
    result = pcs_fence.ensure_fence_device(runner, name="fence_hv-east", state="absent")
    assert result.changed
    assert result.commands == [["pcs", "stonith", "delete", "fence_hv-east"]]
    assert _primitive(east_cib, "fence_hv-east") is None
    assert list(cib_root(east_cib).iter("rsc_location")) == []
    assert result.diff["after"] == ""
    assert f"password={MASK}" in result.diff["before"] and SECRET not in result.diff["before"]
    module.calls.clear()
    again = pcs_fence.ensure_fence_device(runner, name="fence_hv-east", state="absent")
    assert not again.changed and module.changing_calls() == []


def test_two_devices_pair_verifies(runner, east_cib):
    pcs_fence.ensure_fence_device(
        runner,
        name="fence_hv-west",
        agent=AGENT,
        host="hv-west",
        options={"ip": "192.0.2.11", "username": "admin", "password": "x"},
    )
    assert cib.verify_cib(runner).rc == 0
    bans = sorted((loc.get("rsc"), loc.get("node")) for loc in cib_root(east_cib).iter("rsc_location"))
    assert bans == [("fence_hv-east", "hv-east"), ("fence_hv-west", "hv-west")]


def test_not_a_stonith_resource(runner, empty_cib):
    subprocess.run(
        ["pcs", "-f", empty_cib, "resource", "create", "dummy", "ocf:pacemaker:Dummy"], check=True, capture_output=True
    )
    with pytest.raises(cib.PcsError, match="not a stonith device"):
        pcs_fence.ensure_fence_device(runner, name="dummy", agent=AGENT)

"""molecule/resources/create_vm.yml: the `vm up` command line it runs, rendered by Ansible's Templar
from the play's own YAML with VMPAIR_LAB_WATCHDOG_FENCING set or not (nothing is run)."""

import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar

try:  # ansible-core 2.19 and later template only trusted text, as a playbook's is
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older ansible-core

    def trust_as_template(value):
        return value


LOADED = []
CREATE = pathlib.Path(__file__).resolve().parents[2] / "molecule" / "resources" / "create_vm.yml"


def trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    return value


def up_argv():
    if not LOADED:
        init_plugin_loader()  # the env lookup, as ansible-playbook finds it
        LOADED.append(True)
    (play,) = yaml.safe_load(CREATE.read_text())
    (task,) = [t for t in play["tasks"] if t["name"] == "Boot the VMs and write the inventory"]
    variables = {**play["vars"], **task.get("vars", {}), "molecule_ephemeral_directory": "/tmp/eph"}
    templar = Templar(loader=DataLoader(), variables=trusted(variables))
    return [str(arg) for arg in templar.template(trusted(task["ansible.builtin.command"]["argv"]))]


@pytest.mark.parametrize(
    ("value", "flag"), [("1", "--watchdog-fencing"), ("", "--no-watchdog-fencing"), (None, "--no-watchdog-fencing")]
)
def test_vm_up_gets_watchdog_fencing_from_the_environment(monkeypatch, value, flag):
    monkeypatch.setenv("MOLECULE_PROJECT_DIRECTORY", "/src")
    monkeypatch.setenv("MOLECULE_SCENARIO_NAME", "real-kernel")
    monkeypatch.delenv("VMPAIR_LAB_INDEX", raising=False)
    if value is None:
        monkeypatch.delenv("VMPAIR_LAB_WATCHDOG_FENCING", raising=False)
    else:
        monkeypatch.setenv("VMPAIR_LAB_WATCHDOG_FENCING", value)
    assert up_argv() == [
        "python3", "/src/lab/lab.py", "vm", "up", "--name", "vmpair-mol-real-kernel", "--index", "1",
        "--inventory", "/tmp/eph/inventory/lab.yml", flag,
    ]  # fmt: skip

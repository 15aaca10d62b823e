"""lab/labvm.py: every lab host's emulated hardware watchdog (QEMU's i6300esb, reset on expiry), the
per-host BMC ports of the plan, and `vm up --watchdog-fencing` in the inventory it writes.

No VM boots here: the QEMU command line is checked as argv, and `vm up` runs with the calls that
start QEMU, wait for ssh and ask the guests (start, wait_ssh, nic_names, ensure_vg) and the power
service's start replaced (the process boundary); the rest (state, inventory) is the real code.
"""

import argparse
import pathlib
import sys

import pytest
import yaml

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"
ROLES = ["east", "west", "witness"]


@pytest.fixture(name="labvm")
def fixture_labvm(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(LAB))
    for name in [m for m in sys.modules if m.startswith("lab")]:
        monkeypatch.delitem(sys.modules, name)
    import labvm  # pylint: disable=import-outside-toplevel
    import labvmstate  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(labvmstate, "LABS_DIR", str(tmp_path / "labs"))
    return labvm


def option(argv, flag):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


@pytest.mark.parametrize("role", ROLES)
def test_every_lab_host_has_a_watchdog_that_resets_it_on_a_free_pci_slot(labvm, role):
    lab = {"name": "wd", "roles": ROLES, "memory": 1024, "plan": labvm.plan(0, ROLES)}
    argv = labvm.qemu_argv(lab, role)
    devices = option(argv, "-device")
    assert "i6300esb,addr=0xa" in devices
    assert option(argv, "-action") == ["watchdog=reset"]  # QEMU 7.2: a system reset, QEMU keeps running
    slots = [part.split("=", 1)[1] for dev in devices for part in dev.split(",") if part.startswith("addr=")]
    assert len(slots) == len(devices) and len(set(slots)) == len(slots), slots  # no two devices share a slot


def test_each_pair_host_has_its_own_bmc_port_and_no_port_of_any_lab_collides(labvm):
    seen = {}
    for index in range(10):
        ports = labvm.plan(index, ROLES)["ports"]
        assert set(ports["bmc"]) == {"east", "west"}  # the witness has no BMC
        used = [("bmc", r, p) for r, p in ports["bmc"].items()] + [("ssh", r, p) for r, p in ports["ssh"].items()]
        for role, nics in labvm.plan(index, ROLES)["nics"].items():
            used += [("udp", role, nic["local"]) for nic in nics if "local" in nic]
        for what, role, port in used:
            assert port not in seen, (index, what, role, port, seen.get(port))
            seen[port] = (index, what, role)
        assert ports["bmc"] == {"east": 34081 + 100 * index, "west": 34082 + 100 * index}


def lab_up(labvm, monkeypatch, tmp_path, *flags):
    """`lab.py vm up` (parsed as lab.py parses it) with QEMU, ssh and the power service replaced."""
    import labvmbmcctl  # pylint: disable=import-outside-toplevel
    import labvmimage  # pylint: disable=import-outside-toplevel

    import lab as labpy  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(labvmimage, "image_info", lambda release: {"hash": "cafe"})
    monkeypatch.setattr(labvm, "start", lambda lab, role: True)
    monkeypatch.setattr(labvm, "pid", lambda lab, role: None)
    monkeypatch.setattr(labvm, "wait_ssh", lambda lab, roles, started: dict.fromkeys(roles, 1.0))
    names = {"mgmt": "ens3", "link0": "ens4", "link1": "ens5", "wan": "ens6", "link2": "ens7"}
    monkeypatch.setattr(labvm, "nic_names", lambda lab, role: names)
    monkeypatch.setattr(labvm, "ensure_vg", lambda lab, role: None)
    monkeypatch.setattr(labvmbmcctl, "ensure", labvmbmcctl.credentials)  # bmc.json, no service
    inventory = tmp_path / "lab.yml"
    args = labpy.build_parser().parse_args(["vm", "up", "--name", "wd", "--inventory", str(inventory), *flags])
    labvm.cmd_up(args)
    return yaml.safe_load(inventory.read_text())


def pair_vars(inventory):
    return inventory["all"]["children"]["vmpair_pairs"]["children"]["pair_lab"]["vars"]


def test_without_the_flag_the_inventory_has_no_watchdog_fencing(labvm, monkeypatch, tmp_path):
    assert not {"vmpair_watchdog_fencing", "vmpair_watchdog_module"} & set(
        pair_vars(lab_up(labvm, monkeypatch, tmp_path))
    )


def test_watchdog_fencing_is_written_and_kept_by_the_next_up_until_turned_off(labvm, monkeypatch, tmp_path):
    wanted = {"vmpair_watchdog_fencing": True, "vmpair_watchdog_module": "i6300esb"}
    assert pair_vars(lab_up(labvm, monkeypatch, tmp_path, "--watchdog-fencing")).items() >= wanted.items()
    assert pair_vars(lab_up(labvm, monkeypatch, tmp_path)).items() >= wanted.items()  # the lab's state keeps it
    off = pair_vars(lab_up(labvm, monkeypatch, tmp_path, "--no-watchdog-fencing"))
    assert not set(wanted) & set(off)


def test_each_fence_device_names_its_own_hosts_bmc_port(labvm, monkeypatch, tmp_path):
    fencing = pair_vars(lab_up(labvm, monkeypatch, tmp_path))["vmpair_fencing"]
    for host, port in (("hv-east", 34081), ("hv-west", 34082)):
        options = fencing[host]["options"]
        assert (options["ip"], options["ipport"], options["systems_uri"]) == (
            "10.0.2.2",
            port,
            f"/redfish/v1/Systems/{host}",
        )


def test_up_keeps_a_dark_bmc_dark(labvm, monkeypatch, tmp_path):
    lab_up(labvm, monkeypatch, tmp_path)
    labvm.cmd_bmc_off(argparse.Namespace(name="wd", host="hv-west"))
    lab_up(labvm, monkeypatch, tmp_path)
    lab = labvm.load("wd")
    assert [labvm.bmc_is_off(lab, role) for role in ("east", "west")] == [False, True]


def test_with_watchdog_fencing_the_devices_keep_the_roles_longer_timeout(labvm, monkeypatch, tmp_path):
    # A dark lab BMC hangs fence_redfish until the device's timeout: the lab's own 240 s would leave
    # Pacemaker 2.1.5 no time for the watchdog level after it (the site model's 400 s does).
    plain = pair_vars(lab_up(labvm, monkeypatch, tmp_path))["vmpair_fencing"]
    assert {o["options"]["pcmk_reboot_timeout"] for o in plain.values()} == {"240s"}
    watched = pair_vars(lab_up(labvm, monkeypatch, tmp_path, "--watchdog-fencing"))["vmpair_fencing"]
    assert [o["options"].get("pcmk_reboot_timeout") for o in watched.values()] == [None, None]


def test_the_pair_stands_on_two_sites_only_with_watchdog_fencing(labvm, monkeypatch, tmp_path):
    def sites(inventory):
        children = inventory["all"]["children"]
        pair = children["vmpair_pairs"]["children"]["pair_lab"]["hosts"]
        witness = children["vmpair_witnesses"]["hosts"]["qw1"]
        return [pair["hv-east"]["vmpair_site"], pair["hv-west"]["vmpair_site"], witness["vmpair_site"]]

    # without it the site model would warn that a lost site needs a human, in every scenario's checks
    assert sites(lab_up(labvm, monkeypatch, tmp_path)) == ["lab-a", "lab-a", "lab-c"]
    assert sites(lab_up(labvm, monkeypatch, tmp_path, "--watchdog-fencing")) == ["lab-a", "lab-b", "lab-c"]

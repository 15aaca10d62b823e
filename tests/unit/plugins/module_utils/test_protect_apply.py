# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Protecting and unprotecting a VM on one host: the commands, their order, rollback and reruns.

The hosts are :class:`fakehost.FakeHost`: faked at the process boundary because this machine's
kernel has no device-mapper and no DRBD (see there). The reader, the planner and the steps are the
real code; the real-kernel lab runs the same steps on real DRBD.
"""

import json
import os

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import reader as vm_host
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.apply import ApplyError, HostActions, apply_protect
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.host import (
    masked_facts,
    read_facts,
    read_secrets,
    run_protected_vm,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.plan import PlanError, plan_protect
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import HostReader, facts_from_json
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.unprotect import apply_unprotect, plan_unprotect
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.fakehost import FakeHost
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_drbd import dump, write_config
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_protect_plan import (
    SECRET,
    VNC_PASSWORD,
    kvm_xml,
    kvm_xml_with_console,
    pair,
)

VM = "mail01"
CDROM = {"sda": "/var/lib/libvirt/images/debian-12-netinst.iso"}  # not copied: the peer needs the same image
ORIGINAL = dict(CDROM, vda="/dev/vg_vms/mail01-vda", vdb="/var/lib/libvirt/images/mail01-data.qcow2")
ON_DRBD = dict(CDROM, vda="/dev/drbd100", vdb="/dev/drbd101")


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """The cluster's copies of the definitions (/etc/vmpair/domains on a host) in a test directory.
    Both fake hosts share it; each test writes one host's file at a time and checks it."""
    path = tmp_path / "domains"
    monkeypatch.setattr(vm_host, "CONFIG_DIR", str(path))
    return path


@pytest.fixture
def hosts():
    return {"hv-east": FakeHost("hv-east", kvm_xml(), running=True), "hv-west": FakeHost("hv-west")}


def facts(hosts, me=None):
    """Each host's facts; the peer's (not ``me``) as they arrive: through the controller as JSON."""
    out = {}
    for name, fake in hosts.items():
        out[name] = read_facts(None, [VM], "kvm", "vg_vms", runner=fake)
        out[name]["drbd_version"] = "8.4"  # /proc/drbd of the fake host
        if me is not None and name != me:
            out[name] = facts_from_json(json.loads(json.dumps(out[name])))
    return out


def protect(hosts, me, tmp_path, check_mode=False, **kwargs):
    fake = hosts[me]
    plan = plan_protect(pair(), me, facts(hosts, me), VM, secret=SECRET, **kwargs)
    plan["res_path"] = str(tmp_path / ("%s-vm-mail01.res" % me))
    plan["config_path"] = str(tmp_path / ("%s-domains" % me) / "mail01.xml")
    actions = HostActions(fake, HostReader(fake), check_mode=check_mode, sleep=lambda s: None)
    fake.calls.clear()
    apply_protect(actions, plan, "vg_vms", HostReader(fake).domain(VM))
    return plan, actions


def words(calls):
    """Commands without the libvirt URI, for readable comparisons."""
    return [c[:1] + c[3:] if c[0] == "virsh" else c for c in calls]


def test_vm_host_protects_a_running_vm_without_stopping_it(hosts, tmp_path):
    plan, actions = protect(hosts, "hv-east", tmp_path)
    east = hosts["hv-east"]
    assert [w[:3] for w in words(east.changing_calls())] == [
        ["lvcreate", "--yes", "--wipesignatures"],
        ["lvcreate", "--yes", "--wipesignatures"],
        ["drbdadm", "create-md", "--force"],
        ["drbdadm", "create-md", "--force"],
        ["drbdadm", "up", "vm-mail01"],
        ["drbdadm", "primary", "--force"],
        ["virsh", "blockcopy", VM],
        ["virsh", "blockcopy", VM],
        ["virsh", "define", east.calls[-1][-1]],
    ]
    copy = [w for w in words(east.changing_calls()) if w[1] == "blockcopy"][0]
    assert copy[:4] == ["virsh", "blockcopy", VM, "vda"] and copy[4] == "--xml"
    assert copy[6:] == [
        "--reuse-external", "--transient-job", "--synchronous-writes", "--wait", "--pivot", "--verbose",
    ]  # fmt: skip
    # the destination: the DRBD device, raw, no host cache, and a slice of exactly the disk's size (the device is
    # larger; QEMU's copy needs equal sizes and the guest must not see its disk grow)
    disk = east.copied[0]
    assert disk.find("source").get("dev") == "/dev/drbd100"
    assert disk.find("driver").attrib == {
        "name": "qemu",
        "type": "raw",
        "cache": "none",
        "io": "native",
        "discard": "unmap",
    }
    assert disk.find("source/slices/slice").attrib == {"type": "storage", "offset": "0", "size": str(20 * 1024**3)}
    dom = east.domains[VM]
    assert dom["running"], "the guest must never stop"
    assert dom["live"] == ON_DRBD
    assert domxml.same(dom["xml"], plan["protected_xml"])
    assert east.drbd["vm-mail01"]["role"] == "Primary"
    assert set(east.lvs) == {"mail01-vda-drbd", "mail01-vdb-drbd"}
    res = tmp_path / "hv-east-vm-mail01.res"
    assert res.read_text() == plan["res_text"] and oct(os.stat(res).st_mode & 0o777) == "0o600"
    assert ["write", str(res), "(0600)"] in actions.commands
    # the cluster starts the VM from its own copy of the definition (VirtualDomain's config), root only
    config = tmp_path / "hv-east-domains" / "mail01.xml"
    assert config.read_text() == plan["protected_xml"] and oct(os.stat(config).st_mode & 0o777) == "0o600"
    assert plan["config_path"] == str(config)


def test_peer_defines_the_same_vm_and_does_not_start_it(hosts, tmp_path):
    protect(hosts, "hv-east", tmp_path)
    plan, _actions = protect(hosts, "hv-west", tmp_path)
    west = hosts["hv-west"]
    assert [w[:2] for w in words(west.changing_calls())] == [
        ["lvcreate", "--yes"],
        ["lvcreate", "--yes"],
        ["drbdadm", "create-md"],
        ["drbdadm", "create-md"],
        ["drbdadm", "up"],
        ["virsh", "define"],
    ]
    assert not west.domains[VM]["running"]
    assert west.drbd["vm-mail01"]["role"] == "Secondary"
    assert domxml.guest_view(west.domains[VM]["xml"]) == domxml.guest_view(hosts["hv-east"].domains[VM]["xml"])


def test_second_run_changes_nothing(protected, tmp_path):
    """Both hosts now report the resource (drbdadm dump-xml), the peer's facts as JSON: the same minors and
    port are kept and nothing runs."""
    for me in ("hv-east", "hv-west"):
        plan, actions = protect(protected, me, tmp_path)
        assert plan["devices"] == {"vda": "/dev/drbd100", "vdb": "/dev/drbd101"} and plan["port"] == 7790
        assert actions.commands == [], me
        assert protected[me].changing_calls() == []


def test_check_mode_changes_nothing_and_lists_the_commands(hosts, tmp_path):
    _plan, actions = protect(hosts, "hv-east", tmp_path, check_mode=True)
    east = hosts["hv-east"]
    assert east.changing_calls() == []
    assert east.lvs == {} and east.drbd == {}
    assert not (tmp_path / "hv-east-vm-mail01.res").exists()
    assert [c[1] if c[0] != "virsh" else c[3] for c in actions.commands] == [
        "--yes", "--yes", str(tmp_path / "hv-east-vm-mail01.res"), "create-md", "create-md", "up", "primary",
        "blockcopy", "blockcopy", "define", str(tmp_path / "hv-east-domains" / "mail01.xml"),
    ]  # fmt: skip


def test_failure_before_the_first_pivot_undoes_everything(hosts, tmp_path):
    east = hosts["hv-east"]
    east.fail["blockcopy"] = "error: internal error: unable to execute QEMU command 'blockdev-mirror'"
    with pytest.raises(ApplyError) as exc:
        protect(hosts, "hv-east", tmp_path)
    assert exc.value.rolled_back
    assert "This run's changes were undone; the VM still runs on its own disks" in str(exc.value)
    assert "blockdev-mirror" in str(exc.value)
    # undone newest first: the block job, Primary, DRBD, the file (no command), the LVs
    assert words(east.changing_calls())[-5:] == [
        ["virsh", "blockjob", VM, "vda", "--abort"],
        ["drbdadm", "secondary", "vm-mail01"],
        ["drbdadm", "down", "vm-mail01"],
        ["lvremove", "--yes", "/dev/vg_vms/mail01-vdb-drbd"],
        ["lvremove", "--yes", "/dev/vg_vms/mail01-vda-drbd"],
    ]
    assert east.lvs == {} and east.drbd == {}
    assert not (tmp_path / "hv-east-vm-mail01.res").exists()
    assert east.domains[VM]["running"] and east.domains[VM]["live"] == ORIGINAL
    assert domxml.same(east.domains[VM]["xml"], kvm_xml())


def test_failure_after_a_pivot_keeps_drbd_and_a_rerun_completes(hosts, tmp_path):
    east = hosts["hv-east"]
    original_answer = east._answer

    def vdb_copy_fails(cmd):
        if "blockcopy" in cmd and "vdb" in cmd:
            return 1, "", "error: block copy still active"
        return original_answer(cmd)

    east._answer = vdb_copy_fails
    with pytest.raises(ApplyError) as exc:
        protect(hosts, "hv-east", tmp_path)
    assert not exc.value.rolled_back
    assert "nothing was undone" in str(exc.value) and "the rerun completes the protection" in str(exc.value)
    assert east.domains[VM]["live"]["vda"] == "/dev/drbd100" and "vm-mail01" in east.drbd
    east._answer = original_answer
    plan, _actions = protect(hosts, "hv-east", tmp_path)
    # the rerun copies only the disk that is not on DRBD yet, then defines the protected VM
    assert [w[1:4] for w in words(east.changing_calls())] == [["blockcopy", VM, "vdb"], ["define", east.calls[-1][-1]]]
    assert east.domains[VM]["live"] == ON_DRBD
    assert domxml.same(east.domains[VM]["xml"], plan["protected_xml"])


def test_offline_path_shuts_down_copies_and_starts(hosts, tmp_path):
    protect(hosts, "hv-east", tmp_path, online=False)
    east = hosts["hv-east"]
    steps = [w[1] if w[0] == "virsh" else w[0] for w in words(east.changing_calls())]
    assert steps[-5:] == ["shutdown", "qemu-img", "qemu-img", "define", "start"]
    convert = [w for w in east.changing_calls() if w[0] == "qemu-img"]
    assert convert[1] == ["qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw", ORIGINAL["vdb"], "/dev/drbd101"]
    assert east.domains[VM]["running"]


def test_level_change_adjusts_drbd_without_stopping_the_vm(hosts, tmp_path):
    protect(hosts, "hv-east", tmp_path)
    plan, _actions = protect(hosts, "hv-east", tmp_path, level="recovery")
    east = hosts["hv-east"]
    assert words(east.changing_calls()) == [["drbdadm", "adjust", "vm-mail01"]]
    assert "protocol A;" in (tmp_path / "hv-east-vm-mail01.res").read_text()
    assert east.domains[VM]["running"]


def test_volume_group_full_changes_nothing(hosts, tmp_path):
    hosts["hv-west"].free = 1024**3
    with pytest.raises(PlanError) as exc:
        protect(hosts, "hv-east", tmp_path)
    assert any(p.startswith("hv-west: volume group vg_vms has 1.00 GiB free") for p in exc.value.problems)
    assert hosts["hv-east"].changing_calls() == [] and hosts["hv-west"].changing_calls() == []


# ---------------------------------------------------------------------------
# unprotect


def unprotect(hosts, me, keep_peer_copy=False, cluster_manages=False):
    fake = hosts[me]
    fake.calls.clear()
    plan = plan_unprotect(pair(), me, facts(hosts, me), VM, keep_peer_copy, cluster_manages)
    plan["res_path"] = "/nonexistent/vm-mail01.res"
    plan["config_path"] = "/nonexistent/mail01.xml"
    actions = HostActions(fake, HostReader(fake))
    apply_unprotect(actions, plan, "vg_vms", HostReader(fake).domain(VM))
    return plan, actions


@pytest.fixture
def protected(hosts, tmp_path):
    plan, _actions = protect(hosts, "hv-east", tmp_path)
    protect(hosts, "hv-west", tmp_path)
    # what the real drbdadm dump-xml reports once the resource file is in /etc/drbd.d
    (tmp_path / "conf").mkdir()
    rc, out, err = dump("8.4", write_config(tmp_path / "conf", "8.4", [plan["res_text"]]), "dump-xml")
    assert rc == 0, err
    for fake in hosts.values():
        fake.dump_xml = out
    return hosts


def test_unprotect_refused_while_the_cluster_manages_the_vm(protected):
    with pytest.raises(PlanError) as exc:
        unprotect(protected, "hv-east", cluster_manages=True)
    assert "leave_running: true" in exc.value.problems[0]
    assert protected["hv-east"].changing_calls() == []


def test_unprotect_moves_the_running_vm_back_to_local_volumes(protected):
    plan, _actions = unprotect(protected, "hv-east")
    east = protected["hv-east"]
    assert plan["role"] == "vm_host"
    steps = [(w[0], w[1]) for w in words(east.changing_calls())]
    assert steps[:4] == [("lvcreate", "--yes"), ("lvcreate", "--yes"), ("virsh", "blockcopy"), ("virsh", "blockcopy")]
    assert steps[4] == ("virsh", "define") and steps[5] == ("drbdadm", "down")
    assert east.domains[VM]["running"]
    assert east.domains[VM]["live"] == dict(
        CDROM, vda="/dev/vg_vms/mail01-vda-local", vdb="/dev/vg_vms/mail01-vdb-local"
    )
    assert "/dev/drbd" not in east.domains[VM]["xml"]
    assert words(east.changing_calls())[-3:] == [
        ["drbdadm", "down", "vm-mail01"],
        ["lvremove", "--yes", "/dev/vg_vms/mail01-vda-drbd"],
        ["lvremove", "--yes", "/dev/vg_vms/mail01-vdb-drbd"],
    ]
    assert set(east.lvs) == {"mail01-vda-local", "mail01-vdb-local"} and east.drbd == {}


def test_unprotect_peer_keeps_its_copy_when_asked(protected):
    unprotect(protected, "hv-east")
    plan, _actions = unprotect(protected, "hv-west", keep_peer_copy=True)
    west = protected["hv-west"]
    assert plan["role"] == "peer"
    assert words(west.changing_calls()) == [
        ["virsh", "undefine", VM],
        ["drbdadm", "down", "vm-mail01"],
        ["lvrename", "vg_vms", "mail01-vda-drbd", "mail01-vda-peercopy"],
        ["lvrename", "vg_vms", "mail01-vdb-drbd", "mail01-vdb-peercopy"],
    ]
    assert VM not in west.domains and set(west.lvs) == {"mail01-vda-peercopy", "mail01-vdb-peercopy"}


def test_unprotect_second_run_changes_nothing(protected):
    unprotect(protected, "hv-east")
    unprotect(protected, "hv-west")
    for me in ("hv-east", "hv-west"):
        _plan, actions = unprotect(protected, me)
        assert actions.commands == [] and protected[me].changing_calls() == [], me


def test_unprotect_offline_shuts_down_copies_and_starts(protected):
    fake = protected["hv-east"]
    fake.calls.clear()
    plan = plan_unprotect(pair(), "hv-east", facts(protected), VM, online=False)
    plan["res_path"] = "/nonexistent/vm-mail01.res"
    plan["config_path"] = "/nonexistent/mail01.xml"
    apply_unprotect(
        HostActions(fake, HostReader(fake), sleep=lambda s: None), plan, "vg_vms", HostReader(fake).domain(VM)
    )
    steps = [w[1] if w[0] == "virsh" else w[0] for w in words(fake.changing_calls())]
    assert steps[:6] == ["lvcreate", "lvcreate", "shutdown", "qemu-img", "qemu-img", "define"]
    assert steps[6] == "start" and fake.domains[VM]["running"]
    convert = [c for c in fake.changing_calls() if c[0] == "qemu-img"][0]
    assert convert[-2:] == ["/dev/drbd100", "/dev/vg_vms/mail01-vda-local"]


def test_peer_lost_mid_protect_the_vm_host_finishes_and_a_rerun_completes_the_peer(hosts, tmp_path):
    """Both hosts passed the checks, then the peer went away before its part ran: the VM host's part does
    not need the peer (DRBD waits for it), and the rerun, once the peer is back, only does the peer's part."""
    protect(hosts, "hv-east", tmp_path)
    east = hosts["hv-east"]
    assert east.domains[VM]["running"] and east.domains[VM]["live"] == ON_DRBD
    assert VM not in hosts["hv-west"].domains
    # the peer is back: a rerun on both hosts
    _plan, again = protect(hosts, "hv-east", tmp_path)
    assert again.commands == []
    _plan, peer = protect(hosts, "hv-west", tmp_path)
    assert [c[3] if c[0] == "virsh" else c[1] for c in peer.commands][-2:] == [
        "define",
        str(tmp_path / "hv-west-domains" / "mail01.xml"),
    ]
    assert not hosts["hv-west"].domains[VM]["running"]


def test_unprotect_after_a_failover_the_transient_vm_becomes_a_plain_persistent_one(protected, config_dir):
    """After a failover the cluster runs the VM transient on the peer (VirtualDomain: virsh create CONFIG); its
    definition is then the cluster's config file. Unprotecting defines the plain VM there and removes the file."""
    west = protected["hv-west"]
    west.domains[VM]["running"] = True
    west.domains[VM]["persistent"] = False
    west.domains[VM]["live"] = dict(ON_DRBD)
    west.drbd["vm-mail01"] = {"role": "Primary", "disk": "UpToDate", "cstate": "WFConnection"}
    protected["hv-east"].domains[VM]["running"] = False
    config_dir.mkdir()
    (config_dir / "mail01.xml").write_text(west.domains[VM]["xml"])
    west.calls.clear()
    plan = plan_unprotect(pair(), "hv-west", facts(protected, "hv-west"), VM)
    assert plan["role"] == "vm_host" and plan["config_path"] == str(config_dir / "mail01.xml")
    plan["res_path"] = "/nonexistent/vm-mail01.res"
    apply_unprotect(
        HostActions(west, HostReader(west)),
        plan,
        "vg_vms",
        read_facts(None, [VM], "kvm", "vg_vms", runner=west)["domains"][VM],
    )
    assert not (config_dir / "mail01.xml").exists()
    assert west.domains[VM]["running"] and "/dev/drbd" not in west.domains[VM]["xml"]
    assert west.domains[VM]["live"]["vda"] == "/dev/vg_vms/mail01-vda-local"


class FakeModule:
    """What run_protected_vm uses of AnsibleModule (params, check mode, no_log values, warnings)."""

    def __init__(self, **params):
        self.params = {
            "state": "present", "level": "ha", "online": True, "preferred_host": None, "keep_peer_copy": False,
            "secret": SECRET, "shutdown_timeout": 300, "force_stop": False, "stop_timeout": 120,
            "monitor_timeout": 30,
        }  # fmt: skip
        self.params.update(params)
        self.check_mode = False
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def test_module_result_hands_the_cluster_its_definition_file_and_masks_the_secret(
    hosts, tmp_path, config_dir, monkeypatch
):
    """The whole host side, as protected_vm runs it on the VM's host: the cluster is pointed at the definition
    file the module wrote (VirtualDomain starts the VM from it), and the diff never shows the secret."""
    proc_drbd = tmp_path / "proc_drbd"
    proc_drbd.write_text("version: 8.4.11 (api:1/proto:86-101)\n")
    monkeypatch.setattr(vm_host, "PROC_DRBD", str(proc_drbd))
    monkeypatch.setattr(drbd_base, "RESOURCE_DIR", str(tmp_path))
    peer = json.loads(json.dumps(read_facts(None, [VM], "kvm", "vg_vms", runner=hosts["hv-west"])))
    module = FakeModule(name=VM, host="hv-east", pair=pair(), peer_facts=peer, stop_timeout=300, monitor_timeout=90)
    result = run_protected_vm(module, runner=hosts["hv-east"])
    assert result["changed"] and result["role"] == "vm_host"
    # How the cluster stops it (the VM's vmpair_vms entry) goes with it: protect.yml hands this to vm_resources.
    assert result["cluster_vm"] == {
        "name": VM,
        "level": "ha",
        "host": "hv-east",
        "hypervisor": "kvm",
        "config": str(config_dir / "mail01.xml"),
        "force_stop": False,
        "stop_timeout": 300,
        "monitor_timeout": 90,
    }
    assert (config_dir / "mail01.xml").read_text() == hosts["hv-east"].domains[VM]["xml"]
    res_diff = result["diff"][0]
    assert res_diff["before"] == "" and 'shared-secret "********";' in res_diff["after"]
    assert SECRET not in json.dumps(result) and SECRET in module.no_log_values


# ---------------------------------------------------------------------------
# console passwords (virsh dumpxml --security-info)


@pytest.fixture
def console_hosts(tmp_path, monkeypatch):
    """hv-east runs mail01 with a VNC console password; the module's files in tmp_path."""
    proc_drbd = tmp_path / "proc_drbd"
    proc_drbd.write_text("version: 8.4.11 (api:1/proto:86-101)\n")
    monkeypatch.setattr(vm_host, "PROC_DRBD", str(proc_drbd))
    monkeypatch.setattr(drbd_base, "RESOURCE_DIR", str(tmp_path))
    return {"hv-east": FakeHost("hv-east", kvm_xml_with_console(), running=True), "hv-west": FakeHost("hv-west")}


def info(hosts, name):
    """protected_vm_info's host result as the other host receives it (through the controller, as JSON)."""
    return json.loads(json.dumps(masked_facts(read_facts(None, [VM], "kvm", "vg_vms", runner=hosts[name]))))


def info_secrets(hosts, name):
    """protected_vm_info's secrets result (secrets=true, a no_log task) as the other host receives it."""
    return json.loads(json.dumps(read_secrets(None, [VM], "kvm", runner=hosts[name])))


def test_console_password_reaches_the_peer_definition_but_no_result(console_hosts, config_dir):
    east, west = console_hosts["hv-east"], console_hosts["hv-west"]
    # protected_vm_info: the definition is read with --security-info, returned masked
    assert VNC_PASSWORD in east.domains[VM]["xml"]
    east_info = info(console_hosts, "hv-east")
    assert VNC_PASSWORD not in json.dumps(east_info)
    assert 'passwd="********"' in east_info["domains"][VM]["xml"]
    assert list(info_secrets(console_hosts, "hv-east")[VM].values()) == [VNC_PASSWORD]
    assert info_secrets(console_hosts, "hv-west") == {VM: {}}

    # the VM's host: its diff and result are masked, its definitions keep the password
    module = FakeModule(
        name=VM,
        host="hv-east",
        pair=pair(),
        peer_facts=info(console_hosts, "hv-west"),
        peer_secrets=info_secrets(console_hosts, "hv-west"),
    )
    result = run_protected_vm(module, runner=east)
    assert result["role"] == "vm_host"
    assert VNC_PASSWORD not in json.dumps(result)
    assert 'passwd="********"' in result["diff"][1]["before"] and 'passwd="********"' in result["diff"][1]["after"]
    assert VNC_PASSWORD in east.domains[VM]["xml"] and "/dev/drbd100" in east.domains[VM]["xml"]
    assert VNC_PASSWORD in (config_dir / "mail01.xml").read_text()
    assert VNC_PASSWORD in module.no_log_values and VNC_PASSWORD in east.secrets

    # the peer: defined from the masked peer_facts with the password put back from peer_secrets
    peer_facts = info(console_hosts, "hv-east")
    module = FakeModule(
        name=VM,
        host="hv-west",
        pair=pair(),
        peer_facts=peer_facts,
        peer_secrets=info_secrets(console_hosts, "hv-east"),
    )
    result = run_protected_vm(module, runner=west)
    assert result["role"] == "peer" and result["changed"]
    assert VNC_PASSWORD not in json.dumps(result)
    assert 'passwd="********"' in result["diff"][1]["after"]
    assert [c for c in west.changing_calls() if c[0] == "virsh"][-1][3] == "define"
    assert list(domxml.secrets(west.domains[VM]["xml"]).values()) == [VNC_PASSWORD]
    assert domxml.guest_view(west.domains[VM]["xml"]) == domxml.guest_view(east.domains[VM]["xml"])
    assert domxml.secrets(west.domains[VM]["xml"]) == domxml.secrets(east.domains[VM]["xml"])
    assert VNC_PASSWORD in (config_dir / "mail01.xml").read_text()
    # the module's parameters (its invocation) stay masked
    assert module.params["peer_facts"] == peer_facts and VNC_PASSWORD not in json.dumps(peer_facts)

    # a rerun on the peer changes nothing: its definition has the password already
    module.params["peer_facts"] = info(console_hosts, "hv-east")
    west.calls.clear()
    assert run_protected_vm(module, runner=west)["commands"] == []


def test_peer_without_peer_secrets_refuses_to_define_a_masked_password(console_hosts):
    west = console_hosts["hv-west"]
    module = FakeModule(name=VM, host="hv-west", pair=pair(), peer_facts=info(console_hosts, "hv-east"))
    with pytest.raises(PlanError) as exc:
        run_protected_vm(module, runner=west)
    assert "peer_secrets" in str(exc.value) and VNC_PASSWORD not in str(exc.value)
    assert west.changing_calls() == [] and VM not in west.domains


def test_unprotect_diff_masks_the_console_password(console_hosts, tmp_path):
    east = console_hosts["hv-east"]
    for me, peer in (("hv-east", "hv-west"), ("hv-west", "hv-east")):
        module = FakeModule(
            name=VM,
            host=me,
            pair=pair(),
            peer_facts=info(console_hosts, peer),
            peer_secrets=info_secrets(console_hosts, peer),
        )
        run_protected_vm(module, runner=console_hosts[me])
    (tmp_path / "conf").mkdir()
    rc, out, err = dump(
        "8.4", write_config(tmp_path / "conf", "8.4", [(tmp_path / "vm-mail01.res").read_text()]), "dump-xml"
    )
    assert rc == 0, err
    for fake in console_hosts.values():
        fake.dump_xml = out
    module = FakeModule(name=VM, host="hv-east", pair=pair(), peer_facts=info(console_hosts, "hv-west"), state="absent")
    result = run_protected_vm(module, runner=east)
    assert result["role"] == "vm_host" and result["changed"]
    assert VNC_PASSWORD not in json.dumps(result)
    assert 'passwd="********"' in result["diff"][0]["before"] and 'passwd="********"' in result["diff"][0]["after"]
    assert VNC_PASSWORD in east.domains[VM]["xml"] and "/dev/drbd" not in east.domains[VM]["xml"]

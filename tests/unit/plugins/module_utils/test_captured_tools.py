# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils readers besides pair_info's, on tool outputs captured on lab hosts of each release.

``capture_state.py --extra`` (``extra_commands``) and ``--domain`` (``domain_commands``) captured, on
hv-east of the container lab deployed by site.yml (``lab.py up --index 5``, a Dummy resource
vm-test and a disabled vm-off added), the outputs that cib, pcs_fence, protect_host, vm_host and
netpath_live read and the playbooks match: the whole CIB, ``cibadmin --xpath``, ``crm_verify``,
the lab fence agent's metadata, ``crm_mon`` of one node, ``crm_resource --locate``, virsh of an
unknown domain, ``ip -json``; and virsh of a defined (``defined``) and a running (``domain_running``)
TCG domain guest1. States: ``deployed`` (everything healthy), ``defined``, ``domain_running``.

Each test runs on every release that captured what it reads (captures.releases_with): the
module's answer must be the same on Debian 12 and 13 unless the test says otherwise. The runner
is the real CommandRunner over a module that answers each command line from its capture.
"""

import os
import re

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain
from ansible_collections.duplex.vmpair.plugins.module_utils.netpath import live as netpath_live
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import cib
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker import fencing as pcs_fence
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import LocationConstraint
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import host as protect_host
from ansible_collections.duplex.vmpair.plugins.module_utils.protect import reader as vm_host
from ansible_collections.duplex.vmpair.tests.unit.fixtures import capture_state
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures, releases_with

HOST = "hv-east"
AGENT = "fence_lab_podman"
VM = "guest1"


class CapturedHost:
    """run_command/get_bin_path of a lab host: each command line answered from STATE's capture."""

    def __init__(self, release, state_name):
        self.captures = Captures(release)
        self.state_name = state_name
        self.keys = {}
        for commands in (
            capture_state.extra_commands(HOST, AGENT, "vm-test"),
            capture_state.domain_commands(VM, "vda"),
        ):
            for key, argv in commands.items():
                self.keys[tuple(argv)] = key
        self.calls = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/bin/" + name

    def run_command(self, args, data=None, check_rc=False, environ_update=None, binary_data=False):
        argv = (os.path.basename(args[0]),) + tuple(args[1:])
        self.calls.append(list(argv))
        key = self.keys.get(argv)
        if key is None:
            raise AssertionError("no capture answers %s" % (argv,))
        out = self.captures.output(self.state_name, key)
        return out.rc, out.stdout, out.stderr


def runner(release, state_name):
    return CommandRunner(CapturedHost(release, state_name))


def with_capture(state_name, key):
    return pytest.mark.parametrize("release", releases_with(state_name, key))


# ---------------------------------------------------------------------------
# the CIB (cibadmin --query): cib.py's readers; Pacemaker 3.0 validates it with pacemaker-4.0


@with_capture("deployed", "cib")
def test_whole_cib(release):
    tree = cib.read_cib(runner(release, "deployed"))
    schema = tree.get("validate-with")
    assert schema == {"bookworm": "pacemaker-3.9", "trixie": "pacemaker-4.0"}[release]
    properties = cib.read_cluster_properties(tree)
    assert (properties["cluster-name"], properties["stonith-enabled"], properties["no-quorum-policy"]) == (
        "pair_lab",
        "true",
        "stop",
    )
    assert cib.node_names(tree) == ["hv-east", "hv-west"]
    dummy = cib.read_primitive(tree, "vm-test")
    assert dummy["agent"] == "ocf:pacemaker:Dummy"
    assert {"name": "monitor", "interval": "10s", "timeout": "20s", "id": "vm-test-monitor-interval-10s"} in dummy[
        "ops"
    ]
    assert cib.read_primitive(tree, "vm-off")["meta"] == {"target-role": "Stopped"}
    device = pcs_fence.read_stonith(tree, "fence_hv-west")
    assert (device.agent, device.options) == (
        AGENT,
        {"pcmk_host_list": "hv-west", "plug": "vmpair-cap-west", "socket": "/run/lab/podman.sock"},
    )
    assert sorted(cib.read_location_constraints(tree)) == [
        LocationConstraint("location-fence_hv-east-hv-east--INFINITY", "fence_hv-east", "hv-east", "-INFINITY"),
        LocationConstraint("location-fence_hv-west-hv-west--INFINITY", "fence_hv-west", "hv-west", "-INFINITY"),
    ]


@with_capture("deployed", "crm_verify")
def test_live_cib_verifies(release):
    result = cib.verify_cib(runner(release, "deployed"))
    assert (result.rc, result.stdout.strip()) == (0, "")


@with_capture("deployed", "cib_xpath")
def test_cluster_manages_a_vm_by_its_primitive(release):
    # cibadmin --query --xpath: the primitive (rc 0), or rc 105 "No such device or address" for none.
    assert protect_host.cluster_manages(runner(release, "deployed"), "test") is True
    missing = Captures(release).output("deployed", "cib_xpath_missing")
    assert (missing.rc, missing.stdout) == (105, "")
    assert missing.stderr.strip() == "Call cib_query failed: No such device or address"
    assert protect_host.cluster_manages(runner(release, "deployed"), "no-such-vm") is False


@with_capture("deployed", "stonith_metadata")
def test_fence_agent_parameters_from_its_metadata(release):
    params = pcs_fence.agent_parameters(runner(release, "deployed"), AGENT)
    assert {name: params[name] for name in ("plug", "socket", "action", "delay", "verbose")} == {
        "plug": "string",
        "socket": "string",
        "action": "string",
        "delay": "second",
        "verbose": "boolean",
    }


# ---------------------------------------------------------------------------
# what the playbooks match in crm_mon and crm_resource output


@with_capture("deployed", "locate")
def test_locate_answers_the_failover_playbooks_pattern(release):
    # playbooks/failover.yml and tasks/migrate_vm.yml: regex_search('running on: (\S+)')
    captures = Captures(release)
    located = captures.output("deployed", "locate")
    assert located.rc == 0
    assert re.search(r"running on: (\S+)", located.stdout).group(1) == HOST
    missing = captures.output("deployed", "locate_missing")
    assert missing.rc == 105 and missing.stdout == ""
    assert "Resource 'vm-no-such-vm' not found" in missing.stderr


@with_capture("deployed", "crm_mon_node")
def test_crm_mon_of_one_node_answers_the_maintenance_checks(release):
    # playbooks/tasks/maintenance_enter.yml: no active VirtualDomain in the XML of the node, and
    # "Started|Promoted|Unpromoted" searched in the text while something runs there.
    captures = Captures(release)
    xml = captures.output("deployed", "crm_mon_node")
    assert xml.rc == 0
    assert re.findall(r'resource_agent="ocf:pacemaker:Dummy"[^>]*active="true"', xml.stdout)
    assert not re.findall(r'resource_agent="ocf:heartbeat:VirtualDomain"[^>]*active="true"', xml.stdout)
    shown = captures.output("deployed", "crm_mon_node_text")
    assert shown.rc == 0 and re.search("Started|Promoted|Unpromoted", shown.stdout)


# ---------------------------------------------------------------------------
# libvirt (virsh): vm_host.HostReader


@with_capture("deployed", "virsh_domstate_missing")
def test_unknown_domain_is_none(release):
    assert vm_host.HostReader(runner(release, "deployed")).domain("no-such-vm") is None


@with_capture("defined", "virsh_dominfo")
def test_defined_domain(release):
    dom = vm_host.HostReader(runner(release, "defined")).domain(VM)
    assert (dom["name"], dom["uuid"], dom["state"], dom["running"], dom["persistent"]) == (
        VM,
        "6f1c2a4e-3b7d-4c1e-9a2f-0d5e8b7c6a01",
        "shut off",
        False,
        True,
    )
    assert dom["disks"] == {
        "vda": {"type": "file", "device": "disk", "source": "/var/lib/libvirt/images/guest1.img", "capacity": 67108864},
        "sda": {"type": "file", "device": "cdrom", "source": None, "capacity": None},
    }
    # --security-info: the VNC password is in the definition the module reads
    assert "passwd='s3cret'" in dom["xml"] and dom["xml"].startswith("<domain type='qemu'>")
    assert dom["jobs"] == {}


@with_capture("defined", "virsh_dumpxml")
def test_definition_of_each_libvirt_protects_and_keeps_what_the_guest_sees(release):
    # libvirt 9.0 (QEMU 7.2: machine pc-q35-7.2) and 11.3 (QEMU 10.0: pc-q35-10.0, and an implicit
    # iTCO watchdog on q35) print the same definition otherwise.
    xml = Captures(release).text("defined", "virsh_dumpxml")
    assert ("<watchdog model='itco' action='reset'/>" in xml) is (release == "trixie")
    assert list(domain.secrets(xml).values()) == ["s3cret"]  # the VNC password (--security-info)
    protected = domain.protect(xml, {"vda": "/dev/drbd100"}, {"vda": 67108864})
    assert domain.guest_view(protected) == domain.guest_view(xml)
    assert domain.same(domain.protect(protected, {"vda": "/dev/drbd100"}, {"vda": 67108864}), protected)
    disk = domain.disk_element(protected, "vda")
    assert "/dev/drbd100" in disk and 'type="block"' in disk
    assert domain.same(domain.peer_definition(protected), protected)


@with_capture("domain_running", "virsh_blockjob")
def test_running_domain_without_a_block_job(release):
    reader = vm_host.HostReader(runner(release, "domain_running"))
    dom = reader.domain(VM)
    assert (dom["state"], dom["running"]) == ("running", True)
    assert dom["disks"]["vda"]["capacity"] == 67108864
    assert dom["jobs"] == {}
    # without a job: libvirt 9.0 and 11.3 print an empty line with --raw, the sentence without it
    raw = Captures(release).output("domain_running", "virsh_blockjob")
    shown = Captures(release).output("domain_running", "virsh_blockjob_text")
    assert vm_host.parse_blockjob_raw(raw.stdout) is None and vm_host.parse_blockjob_raw(shown.stdout) is None
    assert shown.stdout.strip() == "No current block job for vda"


# ---------------------------------------------------------------------------
# ip -json: netpath_live


@with_capture("deployed", "ip_link")
def test_ip_json_of_a_lab_host(release):
    captures = Captures(release)
    links = netpath_live.parse_links(captures.text("deployed", "ip_link"))
    addresses = netpath_live.parse_addresses(captures.text("deployed", "ip_address"))
    assert sorted(links) == ["eth0", "eth1", "eth2", "lo"]
    assert [(links[name]["kind"], links[name]["up"]) for name in ("eth0", "eth1", "eth2")] == [("veth", True)] * 3
    assert netpath_live.interface_with_address(addresses, "172.31.106.11") == "eth1"
    assert netpath_live.interface_with_address(addresses, "172.31.107.11") == "eth2"
    assert addresses["eth0"] == ["172.31.105.11/24"]

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.protect.plan: what both hosts check and compute before protecting a VM.

The facts are what ``protected_vm_info`` returns; the domain is the q35 KVM fixture that the
domain tests define in libvirt's test driver. The rendered resource is read by the real
``drbdadm`` (9) and ``drbdadm-84`` (8.4) with the mirror role's global_common.conf, and the
protected and peer definitions are defined in ``virsh -c test:///default``.
"""

import os
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.plan import PlanError, derive_secret, plan_protect
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_drbd import dump, parsed, write_config
from ansible_collections.duplex.vmpair.tests.unit.sitedata import site

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "domain")
GIB = 1024**3
MIB = 1024**2
SECRET = derive_secret(b"corosync-key-bytes-for-the-test", "vm-mail01")


def kvm_xml():
    with open(os.path.join(FIXTURES, "kvm_q35.xml")) as f:
        return f.read()


VNC_PASSWORD = "s3cret"


def kvm_xml_with_console():
    """kvm_xml() with a VNC console password, as `virsh dumpxml --security-info` shows it."""
    console = "<graphics type='vnc' port='-1' autoport='yes' passwd='%s'/>\n  </devices>" % VNC_PASSWORD
    return kvm_xml().replace("  </devices>", console)


def pair():
    pairs, witnesses, hostvars = site()
    return site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]


def domain_facts(xml=None, running=True, capacities=None):
    xml = xml or kvm_xml()
    dom = domxml.Domain(xml)
    capacities = capacities or {"vda": 20 * GIB, "vdb": 50 * GIB}
    return {
        "name": dom.name,
        "uuid": dom.uuid,
        "state": "running" if running else "shut off",
        "running": running,
        "persistent": True,
        "xml": xml,
        "disks": {d.target: {"source": d.source, "capacity": capacities.get(d.target)} for d in dom.disks},
        "jobs": {},
    }


def host(domain=None, free=500 * GIB, version="8.4", quorate=True, resources=None, lvs=None, name="mail01"):
    return {
        "hypervisor": "kvm",
        "domains": {name: domain},
        "vg": {"name": "vg_vms", "size": 1000 * GIB, "free": free, "extent": 4 * MIB},
        "lvs": lvs or {},
        "drbd_version": version,
        "drbd_resources": resources or {},
        "drbd_states": {},
        "quorate": quorate,
    }


def both(east=None, west=None):
    return {"hv-east": east or host(domain_facts()), "hv-west": west or host()}


def problems_of(facts, me="hv-east", **kwargs):
    with pytest.raises(PlanError) as exc:
        plan_protect(pair(), me, facts, kwargs.pop("name", "mail01"), secret=SECRET, **kwargs)
    return exc.value.problems


# ---------------------------------------------------------------------------
# the plan


def test_both_hosts_compute_the_same_resource():
    facts = both()
    east = plan_protect(pair(), "hv-east", facts, "mail01", secret=SECRET)
    west = plan_protect(pair(), "hv-west", facts, "mail01", secret=SECRET)
    assert east["role"] == "vm_host" and west["role"] == "peer"
    assert east["vm_host"] == west["vm_host"] == "hv-east"
    assert east["res_text"] == west["res_text"]
    assert east["devices"] == west["devices"] == {"vda": "/dev/drbd100", "vdb": "/dev/drbd101"}
    assert east["port"] == 7790
    # the LVs: virtual size + internal metadata, whole 4 MiB extents, on both hosts
    for plan in (east, west):
        lvs = {d["lv"]: d["lv_bytes"] for d in plan["storage"]}
        assert set(lvs) == {"mail01-vda-drbd", "mail01-vdb-drbd"}
        assert lvs["mail01-vda-drbd"] > 20 * GIB and lvs["mail01-vda-drbd"] % (4 * MIB) == 0
        assert lvs["mail01-vda-drbd"] - 20 * GIB < 8 * MIB
    assert "protocol C;" in east["res_text"] and "fencing resource-and-stonith;" in east["res_text"]


def test_recovery_level_is_asynchronous():
    plan = plan_protect(pair(), "hv-east", both(), "mail01", level="recovery", secret=SECRET)
    assert "protocol A;" in plan["res_text"] and "fencing resource-only;" in plan["res_text"]


@pytest.mark.parametrize("version", ["8.4", "9"])
def test_rendered_resource_passes_drbdadm(tmp_path, version):
    facts = both(host(domain_facts(), version=version), host(version=version))
    plan = plan_protect(pair(), "hv-west", facts, "mail01", secret=SECRET)
    rc, out, err = dump(version, write_config(tmp_path, version, [plan["res_text"]]))
    assert rc == 0, err
    assert "/dev/vg_vms/mail01-vdb-drbd" in out and "protocol" in out


def test_definitions_keep_identity_and_define_in_libvirt(tmp_path):
    plan = plan_protect(pair(), "hv-east", both(), "mail01", secret=SECRET)
    original = domxml.Domain(kvm_xml())
    for xml in (plan["protected_xml"], plan["peer_xml"]):
        dom = domxml.Domain(xml)
        assert (dom.name, dom.uuid, dom.macs) == (original.name, original.uuid, original.macs)
        assert {d.target: d.source for d in dom.mirrored} == plan["devices"]
        path = tmp_path / "dom.xml"
        path.write_text(xml)
        proc = subprocess.run(
            ["virsh", "-c", "test:///default", "define", "--validate", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
    assert domxml.guest_view(plan["protected_xml"]) == domxml.guest_view(plan["peer_xml"])


def test_existing_resources_on_either_host_are_avoided():
    other = {
        "vm-other": {
            "name": "vm-other",
            "minors": [100],
            "ports": [7790],
            "hosts": {},
            "protocol": "C",
            "options": {},
            "secret_digest": None,
        }
    }
    facts = both(west=host(resources=other))
    plan = plan_protect(pair(), "hv-east", facts, "mail01", secret=SECRET)
    assert plan["devices"] == {"vda": "/dev/drbd101", "vdb": "/dev/drbd102"}
    assert plan["port"] == 7791


@pytest.mark.parametrize("version", ["8.4", "9"])
def test_rerun_on_protected_vm_keeps_everything(tmp_path, version):
    facts = both(host(domain_facts(), version=version), host(version=version))
    first = plan_protect(pair(), "hv-east", facts, "mail01", secret=SECRET)
    # what both hosts report after the first run: drbdadm's own view of the resource file, the LVs,
    # the VM on its DRBD devices here and the peer's definition there
    resources = parsed(version, tmp_path, [first["res_text"]])
    lvs = {d["lv"]: d["lv_bytes"] for d in first["storage"]}
    protected = domain_facts(first["protected_xml"])
    peer_dom = domain_facts(first["peer_xml"], running=False)
    facts = both(
        host(protected, resources=resources, lvs=lvs, free=0, version=version),
        host(peer_dom, resources=resources, lvs=lvs, free=0, version=version),
    )
    for me in ("hv-east", "hv-west"):
        again = plan_protect(pair(), me, facts, "mail01", secret=SECRET)
        assert again["already_on_drbd"] and again["vm_host"] == "hv-east"
        assert again["devices"] == first["devices"] and again["port"] == first["port"]
        assert again["res_text"] == first["res_text"]
        assert all(d["exists"] for d in again["storage"])
        assert domxml.same(again["protected_xml"], first["protected_xml"])


# ---------------------------------------------------------------------------
# refusals: every problem, each naming the host and the fix


def test_vm_not_defined_anywhere():
    problems = problems_of(both(host(None), host(None)))
    assert problems == [
        "VM mail01 is not defined on hv-east or hv-west. Fix: check the name (virsh list --all), or define the VM "
        "on one host of pair pair_mail"
    ]


def test_vm_running_on_both_hosts():
    (problem,) = problems_of(both(host(domain_facts()), host(domain_facts())))
    assert "runs on both hv-east and hv-west" in problem and "virsh destroy" in problem


def test_unrelated_vm_of_the_same_name_on_the_peer():
    (problem,) = problems_of(both(host(domain_facts(running=False)), host(domain_facts(running=False))))
    assert "defined on both hv-east and hv-west and is not protected on hv-east, hv-west" in problem


def test_peer_volume_group_too_small():
    (problem,) = problems_of(both(west=host(free=10 * GIB)))
    assert problem.startswith(
        "hv-west: volume group vg_vms has 10.00 GiB free; VM mail01 needs 70.01 GiB (vda 20.00 GiB, vdb 50.00 GiB, with DRBD metadata)"
    )
    assert "vgextend" in problem


def test_every_host_problem_at_once():
    east = host(domain_facts(), quorate=False)
    west = host(version=None, free=1 * GIB)
    west["vg"] = None
    problems = problems_of(both(east, west))
    assert any(p.startswith("hv-east: the cluster is not quorate here") for p in problems)
    assert any(p.startswith("hv-west: the DRBD kernel module is not loaded") for p in problems)
    assert any(p.startswith("hv-west: volume group vg_vms does not exist") for p in problems)


def test_peer_unreachable_on_replication_link():
    east = host(domain_facts())
    east.update(peer_reachable=False, peer_address="10.10.0.2")
    (problem,) = problems_of(both(east))
    assert "hv-east: the peer does not answer on the replication link (10.10.0.2)" in problem


def test_different_drbd_versions():
    (problem,) = problems_of(both(host(domain_facts(), version="9"), host(version="8.4")))
    assert "different DRBD versions (hv-east 9, hv-west 8.4)" in problem


def test_no_facts_from_the_peer():
    facts = {"hv-east": host(domain_facts()), "hv-west": None}
    (problem,) = problems_of(facts)
    assert problem.startswith("no facts from hv-west")


def test_ft_is_refused_with_a_message():
    (problem,) = problems_of(both(), level="ft")
    assert "level ft (fault tolerance) is not available yet: use ha" in problem


def test_xen_guest_needs_offline_path():
    with open(os.path.join(FIXTURES, "xen_pv.xml")) as f:
        xen = f.read()
    name = domxml.Domain(xen).name
    dom = domain_facts(xen, capacities={d.target: 10 * GIB for d in domxml.Domain(xen).mirrored})
    facts = both(host(dom, name=name), host(name=name))
    (problem,) = problems_of(facts, name=name)
    assert "cannot copy a disk while the guest runs" in problem and "online: false" in problem
    plan = plan_protect(pair(), "hv-east", facts, name, online=False, secret=SECRET)
    assert plan["hypervisor"] == "xen" and not plan["online"]


def test_pass_through_device_is_refused():
    xml = kvm_xml().replace(
        "</devices>",
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev></devices>",
    )
    (problem,) = problems_of(both(host(domain_facts(xml))))
    assert problem.startswith("hv-east: domain mail01: host device pass-through")


def test_transient_vm_is_refused():
    dom = domain_facts()
    dom.update(persistent=False, xml=None)
    (problem,) = problems_of(both(host(dom)))
    assert "transient" in problem and "virsh define" in problem


def test_secret_length_limit_is_drbdadms(tmp_path):
    """drbdadm takes at most 63 characters (SHARED_SECRET_MAX 64 counts the NUL)."""
    facts = both()
    longest = plan_protect(pair(), "hv-east", facts, "mail01", secret="a" * 63)
    rc, _out, err = dump("8.4", write_config(tmp_path, "8.4", [longest["res_text"]]))
    assert rc == 0, err
    with pytest.raises(PlanError) as exc:
        plan_protect(pair(), "hv-east", facts, "mail01", secret="a" * 64)
    assert "64 characters long; DRBD takes at most 63" in exc.value.problems[0]
    assert len(SECRET) == 48 and SECRET == derive_secret(b"corosync-key-bytes-for-the-test", "vm-mail01")
    assert derive_secret(b"corosync-key-bytes-for-the-test", "vm-other") != SECRET

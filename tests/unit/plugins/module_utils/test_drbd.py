# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils.drbd against the real, offline drbd-utils.

Rendered resources are read by ``drbdadm`` (DRBD 9) and ``/usr/lib/drbd/drbdadm-84``
(DRBD 8.4) together with the global_common.conf that role duplex.vmpair.mirror writes;
drbdadm itself rejects two resources sharing a minor, a disk or an address:port, which
makes it the collision check for allocation. The commands are checked with drbdadm's
dry run (``-d``) in a UTS namespace whose host name is each node's name, because
drbdadm picks "this host" by ``uname -n``.
"""

import os
import random
import re
import shutil
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.module_utils.common import runner
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import allocation as drbd_alloc
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import commands as drbd_cmd
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import config as drbd_config
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import parse as drbd_parse
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.roletemplates import render
from ansible_collections.duplex.vmpair.tests.unit.sitedata import set_pair_var, site

DRBDADM = {"9": "drbdadm", "8.4": "/usr/lib/drbd/drbdadm-84"}
OTHER = {"9": "8.4", "8.4": "9"}
VERSIONS = ["8.4", "9"]
SECRET = "Zq7pLr2vXw9mK4tB"
ENV = dict(os.environ, LANG="C", LC_ALL="C")


def need(tool):
    path = shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or (
        tool if os.path.exists(tool) else None
    )
    if path is None:
        pytest.fail("%s is not installed: run `make deps` (it installs drbd-utils and util-linux)." % tool)
    return path


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=ENV, timeout=60, **kwargs)


def as_node(node, cmd):
    """Run ``cmd`` with ``uname -n`` = node (a private UTS namespace)."""
    need("unshare")
    need(cmd[0])
    return run(["unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh", node] + cmd)


def noise_free(text):
    """drbdadm asks modinfo for the kernel module version; this host has neither."""
    return "\n".join(line for line in text.splitlines() if "modinfo: not found" not in line)


# ---------------------------------------------------------------------------
# fixtures


def described_pair(**pair_vars):
    pairs, witnesses, hostvars = site()
    for name, value in pair_vars.items():
        set_pair_var(hostvars, name, value)
    return site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]


@pytest.fixture
def pair():
    return described_pair()


def global_common(version):
    """global_common.conf as role duplex.vmpair.mirror renders it."""
    return render("mirror", "global_common.conf.j2", __vmpair_drbd_version=version)


def write_config(tmp_path, version, texts, with_common=True):
    """A drbd.conf in tmp_path including global_common.conf and each resource text; return its path."""
    includes = []
    if with_common:
        (tmp_path / "global_common.conf").write_text(global_common(version))
        includes.append(tmp_path / "global_common.conf")
    for index, text in enumerate(texts):
        path = tmp_path / ("r%03d.res" % index)
        path.write_text(text)
        includes.append(path)
    conf = tmp_path / "drbd.conf"
    conf.write_text("".join('include "%s";\n' % p for p in includes))
    return str(conf)


def dump(version, conf, what="dump", resource="all"):
    result = run([need(DRBDADM[version]), "-c", conf, what, resource])
    return result.returncode, result.stdout, noise_free(result.stderr)


def spec_for(pair, vm="web1", disks=("vda",), level="ha", existing=None, **kwargs):
    allocation = drbd_alloc.allocate({vm: list(disks)}, existing)[vm]
    return drbd_config.build_resource(pair, vm, allocation, level, SECRET, **kwargs)


def parsed(version, tmp_path, texts):
    rc, out, err = dump(version, write_config(tmp_path, version, texts), "dump-xml")
    assert rc == 0, err
    return drbd_parse.parse_dump_xml(out)


# ---------------------------------------------------------------------------
# rendering: the real parsers


@pytest.mark.parametrize("version", VERSIONS)
def test_rendered_resource_parses_with_global_common(tmp_path, pair, version):
    spec = spec_for(pair, disks=("vda", "vdb"))
    text = drbd_config.render_resource(spec, version)
    rc, out, err = dump(version, write_config(tmp_path, version, [text]))
    assert rc == 0, err
    assert "resource vm-web1 {" in out
    assert "device           /dev/drbd100 minor 100;" in out or "device       /dev/drbd100 minor 100;" in out
    assert "/dev/vg_vms/web1-vda-drbd;" in out and "/dev/vg_vms/web1-vdb-drbd;" in out
    assert "ipv4 10.10.0.1:7790;" in out and "ipv4 10.10.0.2:7790;" in out
    assert "resource-and-stonith" in out
    assert ("node-id 1;" in out) == (version == "9")
    assert ("connection-mesh" in out) == (version == "9")


@pytest.mark.parametrize("version", VERSIONS)
def test_each_syntax_is_refused_by_the_other_parser(tmp_path, pair, version):
    text = drbd_config.render_resource(spec_for(pair), version)
    conf = write_config(tmp_path, version, [text], with_common=False)
    rc, _out, err = dump(version, conf)
    assert rc == 0, err
    rc, out, err = dump(OTHER[version], conf)
    assert rc == 10, out + err
    # fencing is a net option in 9 only and a disk option in 8.4 only; 8.4 also has no node-id.
    assert "Parse error" in err and "but got 'fencing'" in err


LEVEL_WIRE = [("ha", "C", "resource-and-stonith"), ("recovery", "A", "resource-only")]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("level, protocol, fencing", LEVEL_WIRE)
def test_protocol_follows_the_level(tmp_path, pair, version, level, protocol, fencing):
    spec = spec_for(pair, level=level)
    assert spec.protocol == protocol
    entry = parsed(version, tmp_path, [drbd_config.render_resource(spec, version)])["vm-web1"]
    assert entry["protocol"] == protocol
    section = "disk" if version == "8.4" else "net"
    assert entry["options"][section]["fencing"] == fencing
    assert entry["options"]["net"]["cram-hmac-alg"] == "sha256"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("level, protocol, fencing", LEVEL_WIRE)
def test_the_kernel_gets_a_fencing_policy_it_accepts(tmp_path, pair, version, level, protocol, fencing):
    """The kernel refuses resource-and-stonith with protocol A (ERR_STONITH_AND_PROT_A) and the
    common section of global_common.conf sets resource-and-stonith: the resource must win."""
    spec = spec_for(pair, level=level)
    conf = write_config(tmp_path, version, [drbd_config.render_resource(spec, version)])
    lines = dry_run(version, conf, "hv-east", drbd_cmd.DrbdCommands(spec.name).up())
    text = "\n".join(lines)
    assert re.findall(r"--protocol=(\w)", text) == [protocol]
    assert re.findall(r"--fencing=([\w-]+)", text) == [fencing]
    assert "resource-and-stonith" in global_common(version)


@pytest.mark.parametrize("version", VERSIONS)
def test_ping_settings_override_the_common_ones(tmp_path, pair, version):
    spec = spec_for(pair, ping_int=4, ping_timeout=9)
    entry = parsed(version, tmp_path, [drbd_config.render_resource(spec, version)])["vm-web1"]
    assert entry["options"]["net"]["ping-int"] == "4"
    assert entry["options"]["net"]["ping-timeout"] == "9"
    assert "ping-int" not in drbd_config.render_resource(spec_for(pair), version)
    with pytest.raises(drbd_base.DrbdError, match="ping-timeout 0 is outside 1-300"):
        spec_for(pair, ping_timeout=0)


def test_level_ft_is_refused(pair):
    with pytest.raises(drbd_base.LevelError) as err:
        spec_for(pair, level="ft")
    assert str(err.value) == "level ft (fault tolerance) is not available yet: use ha"
    with pytest.raises(drbd_base.LevelError, match="'gold' is not a protection level"):
        spec_for(pair, level="gold")


@pytest.mark.parametrize("version", VERSIONS)
def test_ipv6_replication_link(tmp_path, version):
    links = described_pair()["links"]
    v6 = [
        {
            "name": "link0",
            "network": "fd00:10::/64",
            "carries": ["cluster", "replication"],
            "hosts": {
                "hv-east": {"interface": "enp65s0f0", "address": "fd00:10::1"},
                "hv-west": {"interface": "enp65s0f0", "address": "fd00:10::2"},
            },
        },
        dict(
            links[1],
            hosts={h: {"interface": v["interface"], "address": v["address"]} for h, v in links[1]["hosts"].items()},
        ),
    ]
    pair = described_pair(vmpair_links=v6)
    text = drbd_config.render_resource(spec_for(pair), version)
    assert "address ipv6 [fd00:10::1]:7790;" in text
    entry = parsed(version, tmp_path, [text])["vm-web1"]
    assert entry["hosts"]["hv-west"]["address"] == {"family": "ipv6", "address": "fd00:10::2", "port": 7790}


def test_node_names_and_ids_come_from_the_site_model():
    pairs, witnesses, hostvars = site()
    hostvars["hv-east"]["vmpair_node_name"] = "east.example"
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    text = drbd_config.render_resource(spec_for(pair), "9")
    assert "on east.example {\n        node-id 1;\n        address ipv4 10.10.0.1:7790;" in text
    assert "on hv-west {\n        node-id 2;\n        address ipv4 10.10.0.2:7790;" in text
    assert "hosts east.example hv-west;" in text


def test_pair_without_replication_link_is_refused(pair):
    pair = dict(pair, replication_links=[])
    with pytest.raises(drbd_base.DrbdError, match="no link that carries replication"):
        spec_for(pair)


def test_names():
    assert drbd_base.resource_name("web1") == "vm-web1"
    assert drbd_base.resource_path("web1") == "/etc/drbd.d/vm-web1.res"
    assert drbd_base.lv_path("vg_vms", "mbx-exec", "vda") == "/dev/vg_vms/mbx-exec-vda-drbd"
    assert drbd_base.disk_of_lv("mbx-exec", "/dev/vg_vms/mbx-exec-vda-drbd") == "vda"
    assert drbd_base.disk_of_lv("mbx", "/dev/vg_vms/mbx-exec-vda-drbd") is None
    for bad in ("", "-x", "a b", "a/b", "x" * 49):
        with pytest.raises(drbd_base.DrbdError, match="cannot name a DRBD resource"):
            drbd_base.resource_name(bad)
    with pytest.raises(drbd_base.DrbdError, match="not a disk target name"):
        drbd_base.lv_name("web1", "v-da")
    assert drbd_base.normalize_version("8.4.11") == "8.4" and drbd_base.normalize_version(9) == "9"
    with pytest.raises(drbd_base.DrbdError, match="use 8.4 or 9"):
        drbd_base.normalize_version("8.3")


# ---------------------------------------------------------------------------
# allocation


def test_allocation_of_new_vms_is_lowest_free_in_name_order():
    got = drbd_alloc.allocate({"b": ["vda", "vdb"], "a": ["vda"], "c": ["sda"]})
    assert got["a"] == {
        "resource": "vm-a",
        "port": 7790,
        "new": True,
        "volumes": [{"volume": 0, "disk": "vda", "minor": 100, "device": "/dev/drbd100"}],
    }
    assert [(v["volume"], v["disk"], v["minor"]) for v in got["b"]["volumes"]] == [(0, "vda", 101), (1, "vdb", 102)]
    assert got["b"]["port"] == 7791
    assert got["c"]["port"] == 7792 and got["c"]["volumes"][0]["minor"] == 103


def test_allocation_is_deterministic():
    names = ["vm%02d" % i for i in range(20)]
    first = drbd_alloc.allocate({n: ["vda"] for n in names})
    shuffled = list(names)
    random.Random(4).shuffle(shuffled)
    assert drbd_alloc.allocate({n: ["vda"] for n in shuffled}) == first


def rendered_existing(tmp_path, pair, allocation, version="9", extra=()):
    """What drbdadm dump-xml would report after writing every allocated resource."""
    texts = [
        drbd_config.render_resource(drbd_config.build_resource(pair, vm, entry, "ha", SECRET), version)
        for vm, entry in sorted(allocation.items())
    ]
    sub = tmp_path / ("run%d" % len(list(tmp_path.iterdir())))
    sub.mkdir()
    return parsed(version, sub, texts + list(extra))


def test_allocation_is_stable_when_vms_come_and_go(tmp_path, pair):
    vms = {"alpha": ["vda"], "bravo": ["vda", "vdb"], "delta": ["vda"]}
    first = drbd_alloc.allocate(vms)
    existing = rendered_existing(tmp_path, pair, first)
    # Same input again: nothing moves, nothing is new.
    again = drbd_alloc.allocate(vms, existing)
    assert {vm: (e["port"], e["volumes"]) for vm, e in again.items()} == {
        vm: (e["port"], e["volumes"]) for vm, e in first.items()
    }
    assert not any(e["new"] for e in again.values())
    # Adding a VM that sorts first moves nobody: it gets the next free numbers.
    added = drbd_alloc.allocate(dict(vms, aaa=["vda"]), existing)
    for vm in vms:
        assert added[vm]["port"] == first[vm]["port"] and added[vm]["volumes"] == first[vm]["volumes"]
    assert added["aaa"]["port"] == 7793 and added["aaa"]["volumes"][0]["minor"] == 104
    # Removing bravo: while its resource still exists, its numbers stay taken.
    without = {"alpha": ["vda"], "delta": ["vda"], "echo": ["vda"]}
    got = drbd_alloc.allocate(without, existing)
    assert got["echo"]["port"] == 7793 and got["echo"]["volumes"][0]["minor"] == 104
    # Once bravo's resource is gone from the hosts, the next new VM gets its numbers; the others stay.
    kept = {vm: e for vm, e in first.items() if vm != "bravo"}
    existing = rendered_existing(tmp_path, pair, kept)
    got = drbd_alloc.allocate(without, existing)
    assert got["echo"]["port"] == first["bravo"]["port"] == 7791
    assert got["echo"]["volumes"][0]["minor"] == 101
    for vm in ("alpha", "delta"):
        assert got[vm]["port"] == first[vm]["port"] and got[vm]["volumes"] == first[vm]["volumes"]


def test_a_disk_keeps_its_volume_and_minor(tmp_path, pair):
    first = drbd_alloc.allocate({"web": ["vda"], "zzz": ["vda"]})
    existing = rendered_existing(tmp_path, pair, first)
    # A disk added later (and listed first) gets the next volume number and the lowest free minor.
    got = drbd_alloc.allocate({"web": ["vdb", "vda"], "zzz": ["vda"]}, existing)
    assert got["web"]["volumes"] == [
        {"volume": 0, "disk": "vda", "minor": 100, "device": "/dev/drbd100"},
        {"volume": 1, "disk": "vdb", "minor": 102, "device": "/dev/drbd102"},
    ]
    assert got["zzz"]["volumes"][0]["minor"] == 101


FOREIGN = """resource "r0" {
    volume 0 { device /dev/drbd100; disk /dev/vg_other/data; meta-disk internal; }
    volume 1 { device /dev/drbd102; disk /dev/vg_other/logs; meta-disk internal; }
    on hv-east { node-id 0; address ipv4 10.10.0.1:7790; }
    on hv-west { node-id 1; address ipv4 10.10.0.2:7790; }
    connection-mesh { hosts hv-east hv-west; }
}
"""


def test_allocation_avoids_foreign_resources(tmp_path, pair):
    existing = parsed("9", tmp_path, [FOREIGN])
    assert existing["r0"]["minors"] == [100, 102] and existing["r0"]["ports"] == [7790]
    got = drbd_alloc.allocate({"web": ["vda", "vdb"], "db": ["vda"]}, existing, reserved_ports=[7791])
    assert got["db"]["port"] == 7792 and got["db"]["volumes"][0]["minor"] == 101
    assert got["web"]["port"] == 7793 and [v["minor"] for v in got["web"]["volumes"]] == [103, 104]
    # drbdadm agrees: the foreign resource and ours load together.
    texts = [FOREIGN] + [
        drbd_config.render_resource(drbd_config.build_resource(pair, vm, e, "ha", SECRET), "9") for vm, e in got.items()
    ]
    sub = tmp_path / "together"
    sub.mkdir()
    rc, _out, err = dump("9", write_config(sub, "9", texts))
    assert rc == 0, err


def test_existing_resource_that_collides_is_reported(tmp_path, pair):
    web = drbd_alloc.allocate({"web": ["vda"]})  # minor 100, port 7790, the same as r0
    foreign = parsed("9", tmp_path, [FOREIGN])
    sub = tmp_path / "web"
    sub.mkdir()
    text = drbd_config.render_resource(drbd_config.build_resource(pair, "web", web["web"], "ha", SECRET), "9")
    existing_web = parsed("9", sub, [text])
    with pytest.raises(drbd_base.AllocationError, match="minor 100 of vm-web .* is also used by r0"):
        # As if one host had r0 and the other vm-web (drbdadm refuses both in one configuration).
        drbd_alloc.allocate({"web": ["vda"]}, [foreign, existing_web])


def test_hosts_that_disagree_are_reported(tmp_path, pair):
    a = drbd_alloc.allocate({"web": ["vda"]})
    b = drbd_alloc.allocate({"web": ["vda"]}, reserved_ports=[7790])
    east = rendered_existing(tmp_path, pair, a)
    west = rendered_existing(tmp_path, pair, b)
    with pytest.raises(drbd_base.AllocationError, match="vm-web uses ports 7790, 7791 on the hosts"):
        drbd_alloc.allocate({"web": ["vda"]}, [east, west])


def test_exhausted_minors_and_ports_are_clear_errors():
    with pytest.raises(drbd_base.AllocationError) as err:
        drbd_alloc.allocate({"a": ["vda", "vdb"], "b": ["vda"]}, base_minor=10, max_minor=11)
    assert str(err.value) == (
        "no free DRBD minor in 10-11 for VM b disk vda: all 2 are in use; raise the minor limit or unprotect a VM"
    )
    with pytest.raises(drbd_base.AllocationError, match=r"no free DRBD port in 7790-7791 for VM c: all 2 are in use"):
        drbd_alloc.allocate({"a": ["vda"], "b": ["vda"], "c": ["vda"]}, max_port=7791)
    with pytest.raises(drbd_base.DrbdError, match="minor range 20-10 is empty"):
        drbd_alloc.allocate({"a": ["vda"]}, base_minor=20, max_minor=10)
    with pytest.raises(drbd_base.DrbdError, match="VM a has no disks"):
        drbd_alloc.allocate({"a": []})
    with pytest.raises(drbd_base.DrbdError, match="lists a disk twice"):
        drbd_alloc.allocate({"a": ["vda", "vda"]})


@pytest.mark.parametrize("version", VERSIONS)
def test_fifty_vms_allocate_without_collisions(tmp_path, pair, version):
    vms = {"vm%02d" % i: ["vda", "vdb", "vdc"][: 1 + i % 3] for i in range(50)}
    got = drbd_alloc.allocate(vms)
    minors = [v["minor"] for e in got.values() for v in e["volumes"]]
    ports = [e["port"] for e in got.values()]
    assert len(minors) == len(set(minors)) == sum(len(d) for d in vms.values())
    assert len(ports) == len(set(ports)) == 50
    # drbdadm rejects any shared minor, disk or address:port among loaded resources.
    texts = [
        drbd_config.render_resource(drbd_config.build_resource(pair, vm, e, "ha", SECRET), version)
        for vm, e in got.items()
    ]
    conf = write_config(tmp_path, version, texts)
    rc, out, err = dump(version, conf, "dump-xml")
    assert rc == 0, err
    existing = drbd_parse.parse_dump_xml(out)
    assert len(existing) == 50
    assert drbd_alloc.allocate(vms, existing) == {vm: dict(e, new=False) for vm, e in got.items()}


def test_drbdadm_really_rejects_a_collision(tmp_path, pair):
    """The 50-VM check above is only worth something if drbdadm refuses duplicates."""
    a = drbd_alloc.allocate({"a": ["vda"]})["a"]
    b = dict(drbd_alloc.allocate({"b": ["vda"]})["b"], port=7791)  # same minor 100
    texts = [
        drbd_config.render_resource(drbd_config.build_resource(pair, vm, e, "ha", SECRET), "9")
        for vm, e in (("a", a), ("b", b))
    ]
    rc, _out, err = dump("9", write_config(tmp_path, "9", texts))
    assert rc == 10 and "conflicting use of device-minor" in err


# ---------------------------------------------------------------------------
# parsing and differences


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_dump_xml(tmp_path, pair, version):
    spec = spec_for(pair, disks=("vda", "vdb"))
    entry = parsed(version, tmp_path, [drbd_config.render_resource(spec, version)])["vm-web1"]
    assert entry["minors"] == [100, 101] and entry["ports"] == [7790]
    assert sorted(entry["hosts"]) == ["hv-east", "hv-west"]
    assert entry["hosts"]["hv-east"]["volumes"][1] == {
        "minor": 101,
        "device": "/dev/drbd101",
        "disk": "/dev/vg_vms/web1-vdb-drbd",
        "meta_disk": "internal",
    }
    assert entry["secret_digest"] == drbd_base.secret_digest("vm-web1", SECRET)
    assert SECRET not in repr(entry)
    assert drbd_parse.resource_differences(entry, spec) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_differences_are_found_and_say_what(tmp_path, pair, version):
    spec = spec_for(pair, disks=("vda",))
    entry = parsed(version, tmp_path, [drbd_config.render_resource(spec, version)])["vm-web1"]
    other = drbd_config.build_resource(
        pair,
        "web1",
        {"port": 7795, "volumes": [{"volume": 0, "disk": "vda", "minor": 120, "device": "/dev/drbd120"}]},
        "recovery",
        "another-secret",
        ping_int=3,
    )
    diffs = drbd_parse.resource_differences(entry, other)
    assert "hv-east: address ipv4:10.10.0.1:7790, want ipv4:10.10.0.1:7795" in diffs
    assert any("volume 0 is minor 100" in d and "want minor 120" in d for d in diffs)
    assert "protocol C, want A" in diffs
    assert "the shared secret differs" in diffs
    assert "ping-int None, want 3" in diffs
    assert not any(SECRET in d or "another-secret" in d for d in diffs)
    assert drbd_parse.resource_differences(None, spec) == ["resource vm-web1 does not exist"]


def test_parse_errors_are_typed():
    with pytest.raises(drbd_base.ParseError, match="not XML"):
        drbd_parse.parse_dump_xml("drbdadm: no resources defined")
    assert drbd_parse.parse_dump_xml('<config file="/etc/drbd.conf">\n</config>') == {}


# ---------------------------------------------------------------------------
# the secret


def test_secret_never_shows(pair):
    spec = spec_for(pair)
    assert SECRET not in repr(spec) and SECRET not in str(spec) and runner.MASK in repr(spec)
    assert SECRET in drbd_config.render_resource(spec, "9")
    secrets = [SECRET + "x" * 60, 'has"quote', "has space", ""]
    for bad in secrets:
        with pytest.raises(drbd_base.DrbdError) as err:
            drbd_config.build_resource(pair, "web1", drbd_alloc.allocate({"web1": ["vda"]})["web1"], "ha", bad)
        assert (bad or "\0") not in str(err.value) and (bad or "\0") not in repr(err.value)
    for level in ("ft", "gold"):
        with pytest.raises(drbd_base.DrbdError) as err:
            drbd_config.build_resource(pair, "web1", drbd_alloc.allocate({"web1": ["vda"]})["web1"], level, SECRET)
        assert SECRET not in str(err.value)


# ---------------------------------------------------------------------------
# commands and drbdadm's dry run


def test_commands_are_argument_lists():
    cmds = drbd_cmd.DrbdCommands("vm-web1")
    assert cmds.create_md() == ["drbdadm", "create-md", "--force", "vm-web1"]
    assert cmds.create_md(1) == ["drbdadm", "create-md", "--force", "vm-web1/1"]
    assert cmds.dump_md(0) == ["drbdadm", "dump-md", "vm-web1/0"]
    assert cmds.up() == ["drbdadm", "up", "vm-web1"]
    assert cmds.adjust() == ["drbdadm", "adjust", "vm-web1"]
    assert cmds.primary(force=True) == ["drbdadm", "primary", "--force", "vm-web1"]
    assert cmds.primary() == ["drbdadm", "primary", "vm-web1"]
    assert cmds.secondary() == ["drbdadm", "secondary", "vm-web1"]
    assert cmds.down() == ["drbdadm", "down", "vm-web1"]
    dry = drbd_cmd.DrbdCommands("vm-web1", program="/usr/lib/drbd/drbdadm-84", config="/tmp/x.conf", dry_run=True)
    assert dry.up() == ["/usr/lib/drbd/drbdadm-84", "-c", "/tmp/x.conf", "-d", "up", "vm-web1"]


def test_host_plan():
    new = drbd_cmd.host_plan("vm-web1", [0, 1], configured=False, initial_primary=True, all_volumes=[0, 1])
    assert new == [
        ["drbdadm", "create-md", "--force", "vm-web1"],
        ["drbdadm", "up", "vm-web1"],
        ["drbdadm", "primary", "--force", "vm-web1"],
    ]
    peer = drbd_cmd.host_plan("vm-web1", [0, 1], configured=False, initial_primary=False, all_volumes=[0, 1])
    assert peer == [["drbdadm", "create-md", "--force", "vm-web1"], ["drbdadm", "up", "vm-web1"]]
    # A disk added to a running resource: metadata for that volume only, then adjust; no promotion.
    grown = drbd_cmd.host_plan("vm-web1", [2], configured=True, initial_primary=False, all_volumes=[0, 1, 2])
    assert grown == [["drbdadm", "create-md", "--force", "vm-web1/2"], ["drbdadm", "adjust", "vm-web1"]]
    assert drbd_cmd.host_plan("vm-web1", [], configured=True, initial_primary=False) == [
        ["drbdadm", "adjust", "vm-web1"]
    ]


def dry_run(version, conf, node, cmd):
    """Run a planned command as drbdadm -c conf -d on node; return the drbdsetup/drbdmeta lines."""
    assert cmd[0] == "drbdadm"
    result = as_node(node, [need(DRBDADM[version]), "-c", conf, "-d"] + cmd[1:])
    assert result.returncode == 0, noise_free(result.stderr)
    # drbdadm names drbdmeta/drbdsetup as found on PATH; keep the 8.4 backends' full names.
    return [re.sub(r"^/(usr/)?s?bin/", "", line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("version", VERSIONS)
def test_dry_run_on_each_host(tmp_path, pair, version):
    spec = spec_for(pair, disks=("vda", "vdb"))
    conf = write_config(tmp_path, version, [drbd_config.render_resource(spec, version)])
    setup = "drbdsetup" if version == "9" else "/usr/lib/drbd/drbdsetup-84"
    meta = "v09" if version == "9" else "v08"
    addresses = {"hv-east": "10.10.0.1", "hv-west": "10.10.0.2"}
    for node, peer in (("hv-east", "hv-west"), ("hv-west", "hv-east")):
        plan = drbd_cmd.host_plan(spec.name, [0, 1], False, node == "hv-east", all_volumes=[0, 1])
        create_md, up = plan[0], plan[1]
        lines = dry_run(version, conf, node, create_md)
        assert [line.split()[:5] for line in lines] == [
            ["drbdmeta", "100", meta, "/dev/vg_vms/web1-vda-drbd", "internal"],
            ["drbdmeta", "101", meta, "/dev/vg_vms/web1-vdb-drbd", "internal"],
        ]
        assert all("create-md" in line and "--force" in line for line in lines)
        lines = dry_run(version, conf, node, up)
        assert "%s new-minor vm-web1 100 0" % setup in lines
        assert "%s new-minor vm-web1 101 1" % setup in lines
        # attach carries the common section's disk options (from global_common.conf).
        for minor, disk in ((100, "vda"), (101, "vdb")):
            lv = "/dev/vg_vms/web1-%s-drbd" % disk
            attach = [line for line in lines if line.startswith("%s attach %d " % (setup, minor))]
            assert attach and attach[0].startswith("%s attach %d %s %s internal" % (setup, minor, lv, lv)), lines
            assert "--on-io-error=detach" in attach[0]
        local, remote = "ipv4:%s:7790" % addresses[node], "ipv4:%s:7790" % addresses[peer]
        if version == "9":
            # The peer is addressed by its DRBD node-id, the path goes local -> remote.
            peer_id = 2 if peer == "hv-west" else 1
            assert "drbdsetup new-path vm-web1 %d %s %s" % (peer_id, local, remote) in lines
            new_peer = [line for line in lines if line.startswith("drbdsetup new-peer ")][0]
            assert "--_name=%s" % peer in new_peer and "--protocol=C" in new_peer
        else:
            connect = [line for line in lines if " connect " in line][0]
            assert connect.startswith("%s connect vm-web1 %s %s " % (setup, local, remote))
            assert "--protocol=C" in connect
        # drbdadm's own output carries the secret: it must go through the runner's masking.
        assert any("--shared-secret=%s" % SECRET in line for line in lines)
        if node == "hv-east":
            lines = dry_run(version, conf, node, plan[2])
            want = (
                ["drbdsetup primary vm-web1 --force"]
                if version == "9"
                else ["%s primary 100 --force" % setup, "%s primary 101 --force" % setup]
            )
            assert lines == want
        else:
            assert len(plan) == 2
        assert dry_run(version, conf, node, drbd_cmd.DrbdCommands(spec.name).down()) == ["%s down vm-web1" % setup]


@pytest.mark.parametrize("version", VERSIONS)
def test_dry_run_refuses_a_host_outside_the_resource(tmp_path, pair, version):
    conf = write_config(tmp_path, version, [drbd_config.render_resource(spec_for(pair), version)])
    result = as_node("hv-north", [need(DRBDADM[version]), "-c", conf, "-d", "up", "vm-web1"])
    assert result.returncode != 0
    assert "not defined in your config (for this host)" in result.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_metadata_detection_with_real_drbdmeta(tmp_path, pair, version):
    """dump-md on file-backed volumes: none before create-md, present after (drbdmeta needs
    --force for a regular file; LVs on a host are block devices)."""
    spec = spec_for(pair, disks=("vda", "vdb"))
    text = drbd_config.render_resource(spec, version)
    for disk in ("vda", "vdb"):
        backing = tmp_path / ("%s.img" % disk)
        with open(backing, "wb") as handle:
            handle.truncate(64 * 1024 * 1024)
        text = text.replace("/dev/vg_vms/web1-%s-drbd" % disk, str(backing))
    conf = write_config(tmp_path, version, [text])
    program = need(DRBDADM[version])

    def md(volume):
        cmd = drbd_cmd.DrbdCommands(spec.name, program=program, config=conf).dump_md(volume)
        result = as_node("hv-east", cmd[:-2] + ["--", "--force"] + cmd[-2:])
        return drbd_cmd.has_metadata(result.returncode, result.stdout, result.stderr)

    assert md(0) is False and md(1) is False
    meta = "v09" if version == "9" else "v08"
    create = ["drbdmeta", "--force", "100", meta, str(tmp_path / "vda.img"), "internal", "create-md"]
    result = run(create + (["1"] if version == "9" else []))
    assert result.returncode == 0, result.stderr
    assert md(0) is True and md(1) is False
    assert drbd_cmd.host_plan(spec.name, [1], configured=False, initial_primary=False, all_volumes=[0, 1])[0] == [
        "drbdadm",
        "create-md",
        "--force",
        "vm-web1/1",
    ]


def test_has_metadata_classifies_drbdmeta_answers():
    assert drbd_cmd.has_metadata(0, "# DRBD meta data dump", "") is True
    assert drbd_cmd.has_metadata(1, "", "No valid meta data found\n") is False
    assert drbd_cmd.has_metadata(20, "", "Device '100' is configured!\n") is True
    with pytest.raises(drbd_base.ParseError, match=r"rc=20\): '/dev/x' is not a block device!"):
        drbd_cmd.has_metadata(20, "", "'/dev/x' is not a block device!")


def test_no_secret_in_any_command_list(pair):
    spec = spec_for(pair)
    plan = drbd_cmd.host_plan(spec.name, [0], configured=False, initial_primary=True, all_volumes=[0])
    assert not any(SECRET in arg for cmd in plan for arg in cmd)
    assert all(isinstance(cmd, list) and all(isinstance(a, str) for a in cmd) for cmd in plan)
    assert re.match(r"^vm-[a-z0-9]+$", spec.name)

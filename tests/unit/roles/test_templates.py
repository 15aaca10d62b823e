# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role template, rendered by Ansible's own templating from a site-model description, and
checked by the real tool that reads the file: corosync -t, drbdadm dump (8.4 and 9)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import os
import shutil
import subprocess

import pytest

from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.roletemplates import render
from ansible_collections.duplex.vmpair.tests.unit.sitedata import set_pair_var, site


def need(tool):
    path = shutil.which(tool) or (tool if os.path.exists(tool) else None)
    if path is None:
        pytest.fail("%s is not installed: run `make deps` (it installs the offline cluster tools)." % tool)
    return path


def described_pair(two_node=False):
    pairs, witnesses, hostvars = site()
    if two_node:
        set_pair_var(hostvars, "vmpair_witness", None)
        set_pair_var(hostvars, "vmpair_watchdog_fencing", False)  # it needs the witness
        hostvars["hv-west"]["vmpair_site"] = "east"
    return site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]


def corosync_check(text, tmp_path, local_addresses):
    """Run `corosync -t` on the file, in a network namespace that has this host's link addresses."""
    need("corosync")
    need("unshare")
    key = tmp_path / "authkey"
    key.write_text("k" * 256)
    key.chmod(0o400)
    conf = tmp_path / "corosync.conf"
    conf.write_text(text.replace("    transport: knet\n", "    transport: knet\n    keyfile: %s\n" % key))
    script = "ip link set lo up; %s corosync -t -c %s" % (
        "".join("ip addr add %s/32 dev lo; " % a for a in local_addresses),
        conf,
    )
    return subprocess.run(
        ["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


# /etc/default/sbd -------------------------------------------------------------------------------


def test_sbd_defaults_are_diskless_with_the_site_models_watchdog(tmp_path):
    pairs, witnesses, hostvars = site()
    set_pair_var(hostvars, "vmpair_watchdog_device", "/dev/watchdog1")
    set_pair_var(hostvars, "vmpair_watchdog_timeout", 40)
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    text = render("cluster", "sbd.j2", __vmpair_pair=pair, ansible_managed="managed")
    conf = tmp_path / "sbd"
    conf.write_text(text)
    # read as systemd's EnvironmentFile and the sbd init script read it: shell variable assignments
    names = ["SBD_DEVICE", "SBD_PACEMAKER", "SBD_WATCHDOG_DEV", "SBD_WATCHDOG_TIMEOUT", "SBD_TIMEOUT_ACTION"]
    script = ". %s; %s" % (conf, "; ".join('echo "%s=${%s-unset}"' % (n, n) for n in names))
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == [
        "SBD_DEVICE=unset",  # diskless: no shared disk
        "SBD_PACEMAKER=yes",
        "SBD_WATCHDOG_DEV=/dev/watchdog1",
        "SBD_WATCHDOG_TIMEOUT=40",
        "SBD_TIMEOUT_ACTION=flush,reboot",
    ]
    assert "stonith-watchdog-timeout (80 s)" in text


# corosync.conf ---------------------------------------------------------------------------------


def test_corosync_conf_with_witness(tmp_path):
    pair = described_pair()
    text = render("cluster", "corosync.conf.j2", __vmpair_pair=pair)
    assert "cluster_name: pair_mail" in text
    assert "transport: knet" in text
    assert "crypto_cipher: aes256" in text and "crypto_hash: sha256" in text
    assert text.count("interface {") == 2
    assert "ring0_addr: 10.10.0.1" in text and "ring1_addr: 10.10.1.2" in text
    assert "two_node" not in text
    assert "model: net" in text and "host: 192.0.2.30" in text and "algorithm: ffsplit" in text
    # qdevice refuses a witness that does not start TLS unless the site chose otherwise (issue 24).
    assert "tls: required\n" in text and "tls: on" not in text
    result = corosync_check(text, tmp_path, ["10.10.0.1", "10.10.1.1"])
    assert result.returncode == 0, result.stderr


def test_corosync_conf_qdevice_tls_can_be_relaxed():
    text = render("cluster", "corosync.conf.j2", __vmpair_pair=described_pair(), vmpair_qdevice_tls="on")
    assert "tls: on\n" in text and "tls: required" not in text


def test_corosync_conf_two_node(tmp_path):
    text = render("cluster", "corosync.conf.j2", __vmpair_pair=described_pair(two_node=True))
    assert "two_node: 1" in text
    assert "device {" not in text
    result = corosync_check(text, tmp_path, ["10.10.0.2", "10.10.1.2"])
    assert result.returncode == 0, result.stderr


def test_corosync_rejects_a_node_without_local_address(tmp_path):
    """The check is real: on a host that owns none of the ring addresses, corosync refuses the file."""
    text = render("cluster", "corosync.conf.j2", __vmpair_pair=described_pair())
    result = corosync_check(text, tmp_path, ["10.99.0.1"])
    assert result.returncode != 0
    assert "No valid name found for local host" in result.stderr


def test_corosync_link_priority_follows_the_inventory_order():
    text = render("cluster", "corosync.conf.j2", __vmpair_pair=described_pair())
    first = text.index("linknumber: 0")
    second = text.index("linknumber: 1")
    assert "knet_link_priority: 2" in text[first:second]
    assert "knet_link_priority: 1" in text[second:]


# DRBD global configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, drbdadm, other",
    [("8.4", "/usr/lib/drbd/drbdadm-84", "drbdadm"), ("9", "drbdadm", "/usr/lib/drbd/drbdadm-84")],
)
def test_drbd_global_config_parses_with_its_drbdadm(tmp_path, version, drbdadm, other):
    text = render("mirror", "global_common.conf.j2", __vmpair_drbd_version=version)
    conf = tmp_path / "global_common.conf"
    conf.write_text(text)
    ok = subprocess.run([need(drbdadm), "-c", str(conf), "dump", "all"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "resource-and-stonith" in ok.stdout
    assert "usage-count no" in ok.stdout
    # Each syntax is refused by the other version's parser: the template really switches syntax.
    wrong = subprocess.run([need(other), "-c", str(conf), "dump", "all"], capture_output=True, text=True, check=False)
    assert wrong.returncode == 10, wrong.stdout + wrong.stderr


def test_drbd_handlers_match_the_version():
    text84 = render("mirror", "global_common.conf.j2", __vmpair_drbd_version="8.4")
    text9 = render("mirror", "global_common.conf.j2", __vmpair_drbd_version="9")
    assert 'fence-peer "/usr/lib/drbd/crm-fence-peer.sh"' in text84
    assert 'after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh"' in text84
    assert 'fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh"' in text9
    assert 'unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh"' in text9
    for text in (text84, text9):
        for script in ("/usr/lib/drbd/crm-fence-peer.sh", "/usr/lib/drbd/crm-fence-peer.9.sh"):
            if script in text:
                assert os.path.exists(script), "%s named in the template is not shipped by drbd-utils" % script


def test_drbd_liveness_settings_come_from_the_variables():
    text = render(
        "mirror", "global_common.conf.j2", __vmpair_drbd_version="9", vmpair_drbd_ping_int=3, vmpair_drbd_ping_timeout=7
    )
    assert "ping-int 3;" in text and "ping-timeout 7;" in text


# Witness, hypervisor, network -----------------------------------------------------------------


def test_qnetd_options():
    text = render("witness", "corosync-qnetd.j2", __vmpair_site={"witness": {"clusters": ["pair_mail"]}})
    # TLS required by default (issue 24): qnetd's own spelling is "req" ("required" makes it exit).
    assert 'COROSYNC_QNETD_OPTIONS="-p 5403 -s req -c on"' in text
    text = render(
        "witness",
        "corosync-qnetd.j2",
        __vmpair_site={"witness": {"clusters": []}},
        vmpair_witness_port=5500,
        vmpair_witness_listen_address="192.0.2.30",
        vmpair_witness_tls="on",
    )
    assert 'COROSYNC_QNETD_OPTIONS="-p 5500 -s on -c on -l 192.0.2.30"' in text


def test_xen_boot_defaults(tmp_path):
    text = render("hypervisor", "vmpair-xen.cfg.j2", vmpair_xen_dom0_memory_mib=8192, vmpair_xen_dom0_vcpus=2)
    assert "XEN_OVERRIDE_GRUB_DEFAULT=1" in text
    assert 'GRUB_CMDLINE_XEN_DEFAULT="dom0_mem=8192M,max:8192M dom0_max_vcpus=2 dom0_vcpus_pin"' in text
    # update-grub sources the file with sh: it must be valid shell that sets both variables.
    path = tmp_path / "xen.cfg"
    path.write_text(text)
    out = subprocess.run(
        ["sh", "-c", '. "$0"; echo "$XEN_OVERRIDE_GRUB_DEFAULT|$GRUB_CMDLINE_XEN_DEFAULT"', str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout.strip() == "1|dom0_mem=8192M,max:8192M dom0_max_vcpus=2 dom0_vcpus_pin"


def test_network_link_stanza():
    pair = described_pair()
    text = render(
        "network", "link.j2", __vmpair_site={"pair": pair}, __vmpair_link=pair["links"][1], inventory_hostname="hv-west"
    )
    assert "auto eno1\niface eno1 inet static\n    address 10.10.1.2/24" in text


def plain_link(mtu=None, address=None):
    pairs, witnesses, hostvars = site()
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["mtu"] = mtu
    if address:
        links[1]["network"] = "fd00:10:1::/64"
        links[1]["hosts"]["hv-west"]["address"] = address
        links[1]["hosts"]["hv-east"]["address"] = "fd00:10:1::1"
    set_pair_var(hostvars, "vmpair_links", links)
    pair = site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]
    return {"__vmpair_site": {"pair": pair}, "__vmpair_link": pair["links"][1], "inventory_hostname": "hv-west"}


def ini(text):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections()}


def test_network_plain_link_with_mtu_for_ifupdown():
    text = render("network", "link.j2", **plain_link(mtu=9000))
    assert "auto eno1\niface eno1 inet static\n    address 10.10.1.2/24\n    mtu 9000\n" in text


def test_network_plain_link_for_networkd():
    sections = ini(render("network", "link.network.j2", **plain_link(mtu=9000)))
    assert sections == {
        "Match": {"Name": "eno1"},
        "Link": {"MTUBytes": "9000"},
        "Network": {"Address": "10.10.1.2/24", "ConfigureWithoutCarrier": "yes"},
    }
    assert "Link" not in ini(render("network", "link.network.j2", **plain_link()))


def test_network_plain_link_for_networkmanager():
    first = ini(render("network", "link.nmconnection.j2", **plain_link(mtu=1500)))
    assert first["connection"]["interface-name"] == "eno1" and first["connection"]["type"] == "ethernet"
    assert first["ethernet"] == {"mtu": "1500"}
    assert first["ipv4"] == {"method": "manual", "address1": "10.10.1.2/24"}
    assert first["ipv6"] == {"method": "link-local"}
    # The same link renders the same UUID on every run (a rerun changes nothing), another host another one.
    again = ini(render("network", "link.nmconnection.j2", **plain_link(mtu=1500)))
    assert again["connection"]["uuid"] == first["connection"]["uuid"]
    on_east = plain_link()
    on_east["inventory_hostname"] = "hv-east"
    east = ini(render("network", "link.nmconnection.j2", **on_east))
    assert east["connection"]["uuid"] != first["connection"]["uuid"]
    six = ini(render("network", "link.nmconnection.j2", **plain_link(address="fd00:10:1::2")))
    assert six["ipv4"] == {"method": "disabled"} and six["ipv6"]["address1"] == "fd00:10:1::2/64"

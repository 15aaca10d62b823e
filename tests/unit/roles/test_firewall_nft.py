# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The network role's nftables table (vmpair_firewall nftables, or auto without firewalld): the template
rendered by Ansible's templating from the site model's rules, checked by `nft -c`, then loaded by the
real nft in a private network namespace and probed over a veth pair from a second one: the documented
source gets in, any other address is dropped on the pair's ports, every other port is left alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.tests.unit.roles.test_templates import need
from ansible_collections.duplex.vmpair.tests.unit.roletemplates import ROLES, render
from ansible_collections.duplex.vmpair.tests.unit.sitedata import site

NETWORK = os.path.join(ROLES, "network")
WITNESS_RULE = {
    "purpose": "corosync-qnetd (witness)",
    "protocol": "tcp",
    "port": "5403",
    "sources": ["192.0.2.11", "2001:db8::12", "192.0.2.12"],
    "closed": True,
}


def rules_of(host="hv-east"):
    pairs, witnesses, hostvars = site()
    return site_model.build_site(pairs, witnesses, hostvars)["pairs"]["pair_mail"]["firewall"][host]


def table(rules, host="hv-east"):
    return render("network", "firewall.nft.j2", __vmpair_firewall_rules=rules, inventory_hostname=host)


def in_netns(script, timeout=60):
    need("unshare")
    need("nft")
    need("ip")
    return subprocess.run(
        ["unshare", "--net", "sh", "-ec", script], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_pair_hosts_table_accepts_each_port_from_the_peer_then_drops_the_closed_ones():
    lines = [line.strip() for line in table(rules_of()).splitlines()]
    body = lines[lines.index("table inet duplex_vmpair {") :]
    rules = [line for line in body if line and not line.startswith(("#", "table", "chain", "type", "}"))]
    assert rules == [
        'iif "lo" accept',
        "ct state established,related accept",
        "udp dport 5405 ip saddr { 10.10.0.2, 10.10.1.2 } accept",
        "tcp dport 7790-7999 ip saddr { 10.10.0.2 } accept",
        "tcp dport 22 ip saddr { 10.10.0.2 } accept",
        # ssh (22) is not closed: the controller and the admins reach it too; live migration is tunnelled
        # through it (vmpair_migration_tunnelled, the default), so QEMU's 49152-49215 has no rule
        "udp dport 5405 drop",
        "tcp dport 7790-7999 drop",
    ]
    assert "type filter hook input priority filter; policy accept;" in lines
    # only its own table is replaced (declared, so the delete never fails, then deleted); nothing flushed
    assert lines.index("table inet duplex_vmpair") < lines.index("delete table inet duplex_vmpair")
    assert not [line for line in lines if "flush" in line]


def test_ipv6_sources_get_a_rule_of_their_own():
    text = table([WITNESS_RULE], host="qw1")
    assert "tcp dport 5403 ip saddr { 192.0.2.11, 192.0.2.12 } accept" in text
    assert "tcp dport 5403 ip6 saddr { 2001:db8::12 } accept" in text
    assert "tcp dport 5403 drop" in text


@pytest.mark.parametrize("rules", [rules_of(), rules_of("hv-west"), [WITNESS_RULE]], ids=["east", "west", "witness"])
def test_nft_accepts_the_file(tmp_path, rules):
    path = tmp_path / "firewall.nft"
    path.write_text(table(rules))
    proc = in_netns("nft -c -f %s" % path)
    assert proc.returncode == 0, proc.stderr


def test_loading_it_again_replaces_only_its_own_table(tmp_path):
    path = tmp_path / "firewall.nft"
    path.write_text(table(rules_of()))
    proc = in_netns(
        "nft add table inet site_own; nft add chain inet site_own input '{ type filter hook input priority 0; }'; "
        f"nft -f {path}; nft -f {path}; nft -j list ruleset"
    )
    assert proc.returncode == 0, proc.stderr
    tables = [i["table"]["name"] for i in json.loads(proc.stdout)["nftables"] if "table" in i]
    assert sorted(tables) == ["duplex_vmpair", "site_own"]
    rules = [i for i in json.loads(proc.stdout)["nftables"] if "rule" in i]
    assert len(rules) == 7  # loaded twice, present once


# The target namespace (the pair host hv-east) has 10.10.0.1 on one end of a veth pair; the client
# namespace has 10.10.0.2 (hv-west's replication address: documented) and 10.10.0.9 (not) on the other.
# The client connects once from each source address (the route's `src` picks it) to: a DRBD port (a
# closed rule), ssh (a rule that is not closed) and 7788 (a port no rule names).
PROBE = r"""
import socket, sys
out = {}
for port in map(int, sys.argv[2:]):
    s = socket.socket()
    s.settimeout(1.5)
    try:
        s.connect((sys.argv[1], port))
        out[port] = "open"
    except socket.timeout:
        out[port] = "filtered"
    except ConnectionRefusedError:
        out[port] = "refused"
    finally:
        s.close()
print(json_dumps(out))
""".replace("json_dumps", "__import__('json').dumps")

LISTEN = r"""
import socket, sys, time
socks = []
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(8)
    socks.append(s)
print("listening", flush=True)
time.sleep(60)
"""


def test_the_loaded_table_lets_in_the_documented_source_only(tmp_path):
    need("nsenter")
    path = tmp_path / "firewall.nft"
    path.write_text(table(rules_of()))
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "listen.py").write_text(LISTEN)
    script = f"""
ip link set lo up
unshare --net sleep 120 &
CLIENT=$!
sleep 0.3
ip link add vtarget type veth peer name vclient
ip link set vclient netns $CLIENT
ip addr add 10.10.0.1/24 dev vtarget
ip link set vtarget up
nsenter -t $CLIENT -n ip link set lo up
nsenter -t $CLIENT -n ip addr add 10.10.0.2/24 dev vclient
nsenter -t $CLIENT -n ip addr add 10.10.0.9/24 dev vclient
nsenter -t $CLIENT -n ip link set vclient up
nft -f {path}
{sys.executable} {tmp_path}/listen.py 7790 22 7788 > {tmp_path}/listen.out &
LISTENER=$!
for i in $(seq 50); do grep -q listening {tmp_path}/listen.out && break; sleep 0.1; done
for src in 10.10.0.2 10.10.0.9; do
  nsenter -t $CLIENT -n ip route replace 10.10.0.1 dev vclient src $src
  echo "$src $(nsenter -t $CLIENT -n {sys.executable} {tmp_path}/probe.py 10.10.0.1 7790 22 7788)"
done
kill $LISTENER $CLIENT
"""
    proc = in_netns(script, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answers = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines()}
    assert answers == {
        "10.10.0.2": {"7790": "open", "22": "open", "7788": "open"},  # the peer's replication address
        "10.10.0.9": {"7790": "filtered", "22": "open", "7788": "open"},  # DRBD dropped; the rest untouched
    }


def test_the_boot_unit_loads_the_file_the_role_writes_before_the_network_and_corosync():
    unit = configparser.ConfigParser(strict=False)
    unit.read(os.path.join(NETWORK, "files", "duplex-vmpair-firewall.service"))
    with open(os.path.join(NETWORK, "tasks", "firewall.yml")) as handle:
        tasks = handle.read()
    assert "__vmpair_firewall_file: /etc/duplex-vmpair/firewall.nft" in tasks
    assert unit["Service"]["ExecStart"] == "/usr/sbin/nft -f /etc/duplex-vmpair/firewall.nft"
    assert unit["Service"]["Type"] == "oneshot" and unit["Service"]["RemainAfterExit"] == "yes"
    before = unit["Unit"]["Before"].split()
    assert {"network-pre.target", "corosync.service", "corosync-qnetd.service"} <= set(before)
    assert unit["Unit"]["DefaultDependencies"] == "no"
    assert unit["Install"]["WantedBy"] == "sysinit.target"

"""molecule/default/files/portscan.py: what the port scan of a deployed lab counts as a finding.

The judging is pure: each case hands it a lab's targets and scans as ports.yml builds them. The nft
table check reads `nft -j` output captured from nft 1.0.6 (Debian 12) loading the network role's
rendered table (portscan_nft.json; tests/unit/roles/test_firewall_nft.py renders and loads the same
template); the scan itself runs against listeners on this machine's loopback.
"""

import copy
import importlib.util
import json
import pathlib
import socket
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
SCRIPT = HERE.parents[1] / "molecule" / "default" / "files" / "portscan.py"
_spec = importlib.util.spec_from_file_location("portscan", SCRIPT)
portscan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(portscan)

EAST = ["172.31.93.11", "172.31.94.11", "172.31.95.11"]  # mgmt, link0 (cluster + replication), link1
WEST = ["172.31.93.12", "172.31.94.12", "172.31.95.12"]
WITNESS = ["172.31.93.30"]
CONTROLLER = "172.31.93.1"
SS_EAST = """\
LISTEN 0      4096         0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=210,fd=3))
LISTEN 0      4096            [::]:22           [::]:*    users:(("sshd",pid=210,fd=4))
LISTEN 0      5                  *:7790            *:*    users:(("python3",pid=901,fd=3))
LISTEN 0      5                  *:49152           *:*    users:(("python3",pid=902,fd=3))
LISTEN 0      5                  *:7788            *:*    users:(("python3",pid=903,fd=3))
LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=99,fd=14))
"""
SS_WITNESS = """\
LISTEN 0      10                 *:5403            *:*    users:(("corosync-qnetd",pid=300,fd=5))
LISTEN 0      5                  *:7788            *:*    users:(("python3",pid=903,fd=3))
"""


def pair_rules(peer_link0, peer_link1):
    return [
        {
            "purpose": "corosync knet",
            "protocol": "udp",
            "port": "5405",
            "sources": [peer_link0, peer_link1],
            "closed": True,
        },
        {"purpose": "DRBD", "protocol": "tcp", "port": "7790-7999", "sources": [peer_link0], "closed": True},
        {"purpose": "ssh", "protocol": "tcp", "port": "22", "sources": [peer_link0], "closed": False},
        {
            "purpose": "QEMU migration",
            "protocol": "tcp",
            "port": "49152-49215",
            "sources": [peer_link0],
            "closed": True,
        },
    ]


def targets():
    return {
        "hv-east": {
            "host": "hv-east",
            "addresses": EAST,
            "listening": SS_EAST,
            "rules": pair_rules(WEST[1], WEST[2]),
            "default": "open",
            "canary": 7788,
            "peer": "hv-west",
        },
        "qw1": {
            "host": "qw1",
            "addresses": WITNESS,
            "listening": SS_WITNESS,
            "rules": [
                {"purpose": "qnetd", "protocol": "tcp", "port": "5403", "sources": [EAST[0], WEST[0]], "closed": True}
            ],
            "default": "closed",
            "canary": 7788,
            "peer": None,
        },
    }


def answer_of_a_right_lab(target, address, port, source):
    """What a correctly firewalled lab answers (the pair hosts: table, policy accept; the witness: firewalld)."""
    rule = portscan.covering_rule(target["rules"], port)
    listening = portscan.listens(portscan.parse_ss(target["listening"]), address, port)
    if rule and rule["closed"] and source not in rule["sources"]:
        return "filtered" if target["default"] == "open" else "unreachable"
    if not rule and target["default"] == "closed" and port != 22:
        return "unreachable"  # firewalld's zone rejects with an ICMP error
    return "open" if listening else "refused"


def scans(answer=answer_of_a_right_lab):
    """The scans of hv-east by its peer, the witness and the controller, and of qw1 by hv-east."""
    by_scanner = {"hv-west": [("hv-east", a, WEST[i]) for i, a in enumerate(EAST)]}
    by_scanner["qw1"] = [("hv-east", a, WITNESS[0]) for a in EAST]
    by_scanner["controller"] = [("hv-east", EAST[0], CONTROLLER), ("qw1", WITNESS[0], CONTROLLER)]
    by_scanner["hv-east"] = [("qw1", WITNESS[0], EAST[0])]
    out = {}
    for scanner, probes in by_scanner.items():
        out[scanner] = {"scanner": scanner, "probes": []}
        for host, address, source in probes:
            target = targets()[host]
            for port in portscan.ports_of(target):
                state = answer(target, address, port, source)
                out[scanner]["probes"].append(
                    {"host": host, "address": address, "port": port, "source": source, "state": state}
                )
    return out


def judged(scans_):
    return portscan.judge({"scans": scans_, "targets": targets()})


def test_ss_lines_give_address_and_port():
    assert portscan.parse_ss(SS_EAST) == [
        ("0.0.0.0", 22),
        ("::", 22),
        ("*", 7790),
        ("*", 49152),
        ("*", 7788),
        ("127.0.0.53", 53),
    ]
    listening = portscan.parse_ss(SS_EAST)
    assert portscan.listens(listening, EAST[1], 7790)
    assert portscan.listens(listening, EAST[1], 22)
    assert not portscan.listens(listening, EAST[1], 53)  # only on the loopback resolver address
    assert portscan.listens([("::", 22)], "fd00::1", 22) and not portscan.listens([("0.0.0.0", 22)], "fd00::1", 22)


def test_the_ports_probed_are_the_listening_the_documented_ssh_pcsd_the_canary_and_the_interception_ones():
    assert portscan.ports_of(targets()["hv-east"]) == [1, 22, 53, 2224, 7788, 7790, 7999, 49152, 49215, 65001]
    assert portscan.ports_of(targets()["qw1"]) == [1, 22, 2224, 5403, 7788, 65001]


def test_a_right_lab_has_no_finding():
    findings, notes, counts = judged(scans())
    assert findings == []
    assert counts["finding"] == 0 and counts["ok"] > 40
    # ssh from sources other than the documented one is never judged, and said so
    assert (
        "hv-west -> hv-east 172.31.93.11:22 from 172.31.93.12: 22 (ssh) is open to other sources by design (open)"
        in notes
    )
    # firewalld lets ssh through (a reset: nothing listens), so every scanner reached every host
    assert not [n for n in notes if "no address answered anything" in n]


def test_a_drbd_port_open_to_the_peers_cluster_only_address_is_a_finding():
    def leaky(target, address, port, source):
        if (source, port) == (WEST[2], 7790):
            return "open"
        return answer_of_a_right_lab(target, address, port, source)

    findings, _unused, _unused = judged(scans(leaky))
    assert findings == [
        "hv-west -> hv-east 172.31.95.11:7790 from 172.31.95.12: 7790 (DRBD) answers 172.31.95.12, which is not a "
        "documented source (172.31.94.12)"
    ]


def test_a_documented_source_that_is_dropped_is_a_finding():
    def shut(target, address, port, source):
        if (source, port) == (WEST[1], 49152):
            return "filtered"
        return answer_of_a_right_lab(target, address, port, source)

    findings, _unused, _unused = judged(scans(shut))
    assert findings == [
        "hv-west -> hv-east 172.31.94.11:49152 from 172.31.94.12: 49152 (QEMU migration) does not let in its "
        "documented source 172.31.94.12 (filtered)"
    ]


def test_an_undocumented_listener_that_answers_is_a_finding():
    def pcsd(target, address, port, source):
        return (
            "open"
            if port == 2224 and target["host"] == "hv-east"
            else answer_of_a_right_lab(target, address, port, source)
        )

    findings, _unused, _unused = judged(scans(pcsd))
    assert len(findings) == 7  # from the peer and from the witness on each of three addresses, from the controller
    assert all("port 2224 answers" in f and "no rule documents it" in f for f in findings)


def test_the_canary_must_be_closed_behind_firewalld_and_open_behind_the_pair_table():
    def open_canary(target, address, port, source):
        return "open" if port == 7788 else answer_of_a_right_lab(target, address, port, source)

    findings, _unused, _unused = judged(scans(open_canary))
    assert findings and all(f.startswith(("controller -> qw1", "hv-east -> qw1")) for f in findings)
    assert "canary 7788 (a listener on a port no rule names) answers" in findings[0]

    def dropped_canary(target, address, port, source):
        if port == 7788 and target["host"] == "hv-east":
            return "filtered"
        return answer_of_a_right_lab(target, address, port, source)

    findings, _unused, _unused = judged(scans(dropped_canary))
    assert findings and all("must leave the host's other ports alone" in f for f in findings)


def test_an_intercepted_address_is_not_judged_and_said():
    def proxy(target, address, port, source):
        if source == CONTROLLER:
            return "open"  # a transparent proxy completes every handshake
        return answer_of_a_right_lab(target, address, port, source)

    findings, notes, counts = judged(scans(proxy))
    assert findings == []
    assert any(n.startswith("controller -> hv-east 172.31.93.11: intercepted") for n in notes)
    assert counts["intercepted"] == len(portscan.ports_of(targets()["hv-east"])) + len(
        portscan.ports_of(targets()["qw1"])
    )


def test_a_peer_that_reaches_nothing_proves_nothing():
    def cut(target, address, port, source):
        return "filtered" if source in WEST else answer_of_a_right_lab(target, address, port, source)

    findings, _unused, _unused = judged(scans(cut))
    assert (
        "hv-west -> hv-east: no address answered anything (open or reset) outside interception: the scan "
        in (findings[0])
    )


# the loaded table -------------------------------------------------------------------------------------

CAPTURED = json.loads((HERE / "portscan_nft.json").read_text())


def test_the_loaded_table_of_the_rendered_template_matches_its_rules():
    for host in ("hv-east", "qw1"):
        assert portscan.check_table(CAPTURED[host]["nft"], CAPTURED[host]["rules"]) == [], host


def test_a_table_with_a_knet_source_more_or_less_is_a_finding():
    rules = copy.deepcopy(CAPTURED["hv-east"]["rules"])
    rules[0]["sources"] = rules[0]["sources"][:1]
    [finding] = portscan.check_table(CAPTURED["hv-east"]["nft"], rules)
    assert finding.startswith("the table's rules differ from the site model's")
    rules = copy.deepcopy(CAPTURED["hv-east"]["rules"])
    rules[1]["closed"] = False  # the table drops DRBD from other addresses, the rules say it should not
    assert portscan.check_table(CAPTURED["hv-east"]["nft"], rules)


def test_a_table_with_another_policy_or_rule_is_a_finding():
    nft = copy.deepcopy(CAPTURED["hv-east"]["nft"])
    for item in nft["nftables"]:
        if "chain" in item:
            item["chain"]["policy"] = "drop"
    assert "not one input chain with policy accept" in portscan.check_table(nft, CAPTURED["hv-east"]["rules"])[0]
    nft = copy.deepcopy(CAPTURED["hv-east"]["nft"])
    nft["nftables"] = [i for i in nft["nftables"] if not ("rule" in i and "drop" in json.dumps(i))]
    assert portscan.check_table(nft, CAPTURED["hv-east"]["rules"])


def test_a_one_address_set_reads_the_same_as_a_single_address():
    one = {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "10.0.0.1"}}
    as_set = copy.deepcopy(one)
    as_set["match"]["right"] = {"set": ["10.0.0.1"]}
    assert portscan._value(one["match"]["right"]) == portscan._value(as_set["match"]["right"]) == ("10.0.0.1",)


# scanning -----------------------------------------------------------------------------------------------


def test_a_scan_of_this_machine_tells_open_from_refused():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    request = {"timeout": 2, "targets": [{"host": "me", "addresses": ["127.0.0.1"], "ports": [port, free]}]}
    try:
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "scan"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    finally:
        listener.close()
    probes = {p["port"]: p for p in json.loads(proc.stdout)["probes"]}
    assert (probes[port]["state"], probes[free]["state"]) == ("open", "refused")
    assert probes[port]["source"] == "127.0.0.1"


def test_judge_exits_non_zero_on_a_finding():
    def leaky(target, address, port, source):
        return "open" if port == 7999 else answer_of_a_right_lab(target, address, port, source)

    for answer, code in ((answer_of_a_right_lab, 0), (leaky, 1)):
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "judge"],
            input=json.dumps({"scans": scans(answer), "targets": targets()}),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == code, proc.stdout + proc.stderr
        assert proc.stdout.splitlines()[-1].endswith("through interception")

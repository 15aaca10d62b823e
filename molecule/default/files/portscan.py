# SPDX-License-Identifier: GPL-3.0-or-later
"""A TCP connect scan of lab hosts, and the judge of what answered (issue 24: only the documented
ports answer, each only from its documented source).

Python 3 standard library only: molecule/default/ports.yml copies it to each lab host and runs it
there and on the controller. Three commands, each reading one JSON document on stdin:

- ``scan``: ``{"timeout": 3, "targets": [target]}`` (a target as for ``judge``; its ``ports``, when
  given, else ``ports_of``: what listens per ss, the documented ports, ssh, pcsd's, the canary and the
  interception ports). Connects to every address and port at once (threads) and prints ``{"scanner", "probes": [{"host", "address",
  "port", "source", "state"}]}``. ``source`` is the address the scanner's routing picks towards the
  target (a UDP socket's connect sends nothing); ``state`` is ``open`` (the handshake completed),
  ``refused`` (a TCP reset), ``filtered`` (no answer before the timeout), ``unreachable`` (an ICMP
  error: host or network unreachable, administratively prohibited) or ``error:<errno name>``.
- ``judge``: ``{"scans": {scanner: scan output}, "targets": {host: target}}`` where a target is
  ``{"addresses", "listening": the output of ss -Htlnp, "rules": [rule], "default": "open"|"closed",
  "canary": port, "peer": its pair peer or null, "nft": nft -j list table output or null}`` and a rule
  is the site model's (``purpose``, ``protocol``, ``port``, ``sources``, ``closed``). Prints one line per
  finding and per note, then a summary; exits 1 when there is a finding.
- ``table``: ``{"nft": nft -j output, "rules": [rule]}``: the table inet duplex_vmpair must hold
  exactly the rules (accepts from the sources per family, then a drop per closed rule), after
  loopback and established traffic, in an input chain with policy accept. Exits 1 otherwise.

How each answer is judged (``judge_probe``): a port of a closed rule answers only from the rule's
sources (and must answer them: open when something listens per ss, refused otherwise; filtered means
the firewall drops the documented source); ssh (22) is not judged from other sources; the canary (a
listener the test opens on a port no rule names) must not answer where the host's firewall closes
what it does not allow (``default: closed``, firewalld's zone), and must answer wherever the scanner
reaches the host where it leaves other ports alone (``default: open``, the collection's nftables
table, policy accept: the host's own services untouched); any other port must not answer at all.

Interception: some networks complete any TCP handshake on the way (a transparent proxy on the default
route). An address that answers a scanner on port 1 and on port 65001, where nothing listens, is
``intercepted`` for that scanner: nothing through it is judged, and the output says so.
"""

import concurrent.futures
import errno
import ipaddress
import json
import socket
import sys

# Nothing listens on these two: an address that "answers" on both is intercepted on the way.
INTERCEPT_PORTS = (1, 65001)
SSH_PORT = 22
PCSD_PORT = 2224
ANSWERED = ("open", "refused")


# scanning -----------------------------------------------------------------------------------------


def route_source(address):
    """The source address this host's routing picks towards `address` (None when there is no route)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.connect((address, 9))
        return sock.getsockname()[0].split("%")[0]
    except OSError:
        return None
    finally:
        sock.close()


def state_of(error):
    """A connect's outcome as a state name: None (it connected) is open."""
    if error is None:
        return "open"
    if isinstance(error, socket.timeout):
        return "filtered"
    code = getattr(error, "errno", None)
    if code == errno.ECONNREFUSED:
        return "refused"
    if code in (errno.ETIMEDOUT,):
        return "filtered"
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.EHOSTDOWN):
        return "unreachable"
    return "error:%s" % (errno.errorcode.get(code, code) if code is not None else type(error).__name__)


def probe(address, port, timeout):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        error = None
    except OSError as exc:
        error = exc
    finally:
        sock.close()
    return state_of(error)


def ports_of(target):
    """The ports worth probing on a target: what listens on it per ss, both ends of each documented TCP
    rule's range, ssh, pcsd's 2224 (which no rule opens), the canary, and the two interception ports."""
    ports = (
        {SSH_PORT, PCSD_PORT} | set(INTERCEPT_PORTS) | {port for _unused, port in parse_ss(target.get("listening", ""))}
    )
    if target.get("canary"):
        ports.add(int(target["canary"]))
    for rule in target.get("rules", []):
        if rule["protocol"] == "tcp":
            ports.update(port_range(rule["port"]))
    return sorted(ports)


def scan(request):
    timeout = float(request.get("timeout", 3))
    jobs = []
    for target in request["targets"]:
        for address in target["addresses"]:
            source = route_source(address)
            for port in target.get("ports") or ports_of(target):
                jobs.append({"host": target["host"], "address": address, "port": port, "source": source})
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        states = list(pool.map(lambda j: probe(j["address"], j["port"], timeout), jobs))
    for job, state in zip(jobs, states, strict=True):
        job["state"] = state
    return {"scanner": socket.gethostname(), "probes": jobs}


# judging (pure) -----------------------------------------------------------------------------------


def parse_ss(text):
    """[(local address, port)] of `ss -Htlnp` (or -Htln) output; the address without brackets or %iface."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "LISTEN":
            continue
        local = fields[3]
        host, _unused, port = local.rpartition(":")
        host = host.strip("[]").split("%")[0]
        try:
            out.append((host, int(port)))
        except ValueError:
            continue
    return out


def listens(listening, address, port):
    """Whether a socket of `listening` (parse_ss) accepts connections to `address`:`port`."""
    v6 = ":" in address
    for host, lport in listening:
        if lport != port:
            continue
        if host == "*" or host == address:
            return True
        if host == "0.0.0.0" and not v6:
            return True
        if host == "::":  # dual-stack unless IPV6_V6ONLY, which ss does not show: counted as both
            return True
    return False


def port_range(port):
    """'7790-7999' or '22' or 22 -> (low, high)."""
    text = str(port)
    low, _unused, high = text.partition("-")
    return int(low), int(high or low)


def covering_rule(rules, port, protocol="tcp"):
    for rule in rules:
        low, high = port_range(rule["port"])
        if rule["protocol"] == protocol and low <= port <= high:
            return rule
    return None


def same_address(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def intercepted(probes):
    """{(host, address)} that answered open on every INTERCEPT_PORTS port."""
    opened = {}
    for p in probes:
        if p["port"] in INTERCEPT_PORTS and p["state"] == "open":
            opened.setdefault((p["host"], p["address"]), set()).add(p["port"])
    return {key for key, ports in opened.items() if ports >= set(INTERCEPT_PORTS)}


def reached(probes):
    """{(host, address)} from which some probe got an answer of the host's own TCP stack (open or reset)."""
    return {(p["host"], p["address"]) for p in probes if p["state"] in ANSWERED}


def judge_probe(target, probe_, listening, reachable):
    """(verdict, why) of one answer: verdict is 'ok', 'finding' or 'unjudged'."""
    port, source, state = probe_["port"], probe_["source"], probe_["state"]
    rule = covering_rule(target["rules"], port)
    listening_here = listens(listening, probe_["address"], port)
    if rule is not None:
        documented = source is not None and any(same_address(source, s) for s in rule["sources"])
        what = "%s (%s)" % (port, rule["purpose"])
        if documented:
            expected = "open" if listening_here else "refused"
            if state == expected:
                return "ok", "%s answers its documented source (%s)" % (what, state)
            if state == "filtered" or state == "unreachable":
                return "finding", "%s does not let in its documented source %s (%s)" % (what, source, state)
            return "finding", "%s answers %s from its documented source %s, %s per ss" % (
                what,
                state,
                source,
                "listening" if listening_here else "nothing listens",
            )
        if not rule.get("closed", True):
            return "unjudged", "%s is open to other sources by design (%s)" % (what, state)
        if state == "open":
            return "finding", "%s answers %s, which is not a documented source (%s)" % (
                what,
                source,
                ", ".join(rule["sources"]),
            )
        return "ok", "%s is closed to %s (%s)" % (what, source, state)
    if port == SSH_PORT:
        return "unjudged", "ssh (%s)" % state
    if port == target.get("canary"):
        if target.get("default") == "open":
            if state == "open":
                return "ok", "canary %s answers: the table leaves the host's other ports alone" % port
            if not reachable:
                return "unjudged", "canary %s: %s, and nothing else of this address answered this scanner" % (
                    port,
                    state,
                )
            return "finding", "canary %s (a listener on a port no rule names) is %s from %s, but the table " % (
                port,
                state,
                source,
            ) + "must leave the host's other ports alone (policy accept)"
        if state == "open":
            return "finding", "canary %s (a listener on a port no rule names) answers %s" % (port, source)
        return "ok", "canary %s is closed to %s (%s)" % (port, source, state)
    if state == "open":
        return "finding", "port %s answers %s but no rule documents it (%s per ss)" % (
            port,
            source,
            "listening" if listening_here else "nothing listens",
        )
    return "ok", "port %s is closed to %s (%s)" % (port, source, state)


def judge(data):
    """(findings, notes, counts) of every scan against the targets' rules and listening sockets."""
    findings, notes = [], []
    counts = {"ok": 0, "finding": 0, "unjudged": 0, "intercepted": 0}
    targets = data["targets"]
    for scanner in sorted(data["scans"]):
        probes = data["scans"][scanner]["probes"]
        lost = intercepted(probes)
        answered = reached(probes)
        for host, address in sorted(lost):
            notes.append(
                "%s -> %s %s: intercepted (ports %s both answer: something on the way completes any handshake); "
                "nothing through it is judged" % (scanner, host, address, " and ".join(map(str, INTERCEPT_PORTS)))
            )
        for host in sorted({p["host"] for p in probes}):
            target = targets[host]
            listening = parse_ss(target.get("listening", ""))
            mine = [p for p in probes if p["host"] == host]
            judged = [p for p in mine if (host, p["address"]) not in lost]
            counts["intercepted"] += len(mine) - len(judged)
            if not any((host, p["address"]) in answered for p in judged):
                line = "%s -> %s: no address answered anything (open or reset) outside interception" % (
                    scanner,
                    host,
                )
                if target.get("peer") == scanner:
                    findings.append(line + ": the scan from the peer proves nothing")
                else:
                    notes.append(line + ": only what must not answer was judged")
            for p in judged:
                if p["port"] in INTERCEPT_PORTS and p["state"] != "open":
                    counts["ok"] += 1
                    continue
                verdict, why = judge_probe(target, p, listening, (host, p["address"]) in answered)
                counts[verdict] += 1
                line = "%s -> %s %s:%s from %s: %s" % (scanner, host, p["address"], p["port"], p["source"], why)
                if verdict == "finding":
                    findings.append(line)
                elif verdict == "unjudged":
                    notes.append(line)
    return findings, notes, counts


# the nftables table -------------------------------------------------------------------------------


def _value(right):
    """A match's right side as a sorted tuple of strings: 'a', {'set': [...]}, {'range': [a, b]}, 22."""
    if isinstance(right, dict) and "set" in right:
        items = right["set"]
    elif isinstance(right, list):
        items = right
    else:
        items = [right]
    out = []
    for item in items:
        if isinstance(item, dict) and "range" in item:
            low, high = item["range"]
            out.append("%s-%s" % (low, high))
        elif isinstance(item, dict) and "prefix" in item:
            out.append("%s/%s" % (item["prefix"]["addr"], item["prefix"]["len"]))
        else:
            out.append(str(item))
    return tuple(sorted(out))


def table_rules(document, table="duplex_vmpair"):
    """(chains, rules) of `nft -j list table inet NAME`: chains [{name, hook, policy}], rules as tuples.

    A rule is ('lo', verdict), ('ct', states, verdict), (protocol, port, family or None, sources or
    None, verdict) or ('other', json) for anything else.
    """
    chains, rules = [], []
    for item in document.get("nftables", []):
        if "chain" in item and item["chain"].get("table") == table:
            c = item["chain"]
            chains.append({"name": c.get("name"), "hook": c.get("hook"), "policy": c.get("policy")})
        if "rule" not in item or item["rule"].get("table") != table:
            continue
        protocol = port = family = sources = verdict = None
        kind = None
        for expr in item["rule"].get("expr", []):
            if "accept" in expr or "drop" in expr or "reject" in expr:
                verdict = [k for k in ("accept", "drop", "reject") if k in expr][0]
                continue
            match = expr.get("match")
            if not match:
                kind = "other"
                continue
            left = match.get("left", {})
            if "meta" in left and left["meta"].get("key") in ("iif", "iifname") and match.get("right") == "lo":
                kind = "lo"
            elif "ct" in left and left["ct"].get("key") == "state":
                kind = ("ct", _value(match.get("right")))
            elif "payload" in left and left["payload"].get("field") == "dport":
                protocol, port = left["payload"].get("protocol"), _value(match.get("right"))
            elif "payload" in left and left["payload"].get("field") == "saddr":
                family, sources = left["payload"].get("protocol"), _value(match.get("right"))
            else:
                kind = "other"
        if kind == "lo":
            rules.append(("lo", verdict))
        elif isinstance(kind, tuple):
            rules.append(("ct", kind[1], verdict))
        elif kind == "other" or protocol is None:
            rules.append(("other", json.dumps(item["rule"].get("expr"), sort_keys=True)))
        else:
            rules.append((protocol, port[0] if len(port) == 1 else port, family, sources, verdict))
    return chains, rules


def expected_rules(rules):
    """What table_rules must find for the site model's rules, in order."""
    out = [("lo", "accept"), ("ct", ("established", "related"), "accept")]
    for rule in rules:
        port = str(rule["port"])
        for family, wanted in (("ip", lambda a: ":" not in a), ("ip6", lambda a: ":" in a)):
            sources = tuple(sorted(str(ipaddress.ip_address(s)) for s in rule["sources"] if wanted(s)))
            if sources:
                out.append((rule["protocol"], port, family, sources, "accept"))
    for rule in rules:
        if rule.get("closed", True):
            out.append((rule["protocol"], str(rule["port"]), None, None, "drop"))
    return out


def check_table(document, rules):
    """Findings (strings) about the loaded table against the rules; [] when it is exactly right."""
    chains, found = table_rules(document)
    findings = []
    if [(c["name"], c["hook"], c["policy"]) for c in chains] != [("input", "input", "accept")]:
        findings.append("the table's chains are %s, not one input chain with policy accept" % chains)
    expected = expected_rules(rules)
    if found != expected:
        findings.append(
            "the table's rules differ from the site model's: found %s, expected %s"
            % (json.dumps(found), json.dumps(expected))
        )
    return findings


# command line -------------------------------------------------------------------------------------


def main(argv):
    if len(argv) != 2 or argv[1] not in ("scan", "judge", "table"):
        sys.stderr.write("usage: portscan.py scan|judge|table < request.json\n")
        return 2
    data = json.load(sys.stdin)
    if argv[1] == "scan":
        json.dump(scan(data), sys.stdout)
        sys.stdout.write("\n")
        return 0
    if argv[1] == "table":
        findings = check_table(data["nft"], data["rules"])
        for line in findings:
            print("FINDING: " + line)
        print("table inet duplex_vmpair: %s" % ("exactly the site model's rules" if not findings else "WRONG"))
        return 1 if findings else 0
    findings, notes, counts = judge(data)
    for line in notes:
        print("note: " + line)
    for line in findings:
        print("FINDING: " + line)
    print(
        "%d answers as documented, %d findings, %d not judged, %d through interception"
        % (counts["ok"], counts["finding"], counts["unjudged"], counts["intercepted"])
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

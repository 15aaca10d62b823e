# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate's Prometheus metrics (health/metrics.py, the prometheus_metrics filter) from pair_info's results
on outputs captured in the labs (tests/unit/fixtures/state, see test_state_components.py), read back with
prometheus_client's own text parser, the one a Prometheus client library uses for this format."""

import math
import re
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.duplex.vmpair.plugins.filter.prometheus_metrics import prometheus_metrics
from ansible_collections.duplex.vmpair.plugins.module_utils.health import metrics
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import (
    CONTAINER_PAIR,
    GUEST,
    PAIR,
    facts,
)

NOW = 1765000000.25
HOSTS = ["hv-east", "hv-west"]
# The site model's pair (site_model's `pair`) for the real-kernel lab's captures: guest1 at level ha.
LAB_PAIR = dict(
    PAIR,
    hosts=HOSTS,
    two_node=False,
    cluster_links=[{"name": "ring0", "linknumber": 0}, {"name": "ring1", "linknumber": 1}],
    vm_settings={"guest1": {"name": "guest1", "level": "ha", "preferred_host": "hv-east"}},
)
# The Debian 13 container lab of molecule/default (no VM, no DRBD module, two plain links).
CONTAINER = dict(
    CONTAINER_PAIR,
    hosts=HOSTS,
    two_node=False,
    cluster_links=[{"name": "link0", "linknumber": 0}, {"name": "link1", "linknumber": 1}],
    vm_settings={},
)


def parse(text):
    """{(name, ((label, value), ...)): value} as a Prometheus client reads the file, and the families' types."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, "duplicate series %s" % (key,)
            samples[key] = sample.value
    return samples, types


def value(samples, name, **labels):
    return samples[("duplex_vmpair_" + name, tuple(sorted(labels.items())))]


def series(samples, name):
    return {key[1]: val for key, val in samples.items() if key[0] == "duplex_vmpair_" + name}


def render(pair, east, west, missing=(), captures=None, vms=None):
    seen = {}
    for host, state_name in (("hv-east", east), ("hv-west", west)):
        if state_name:
            kwargs = {"captures": captures} if captures else {}
            seen[host] = facts(state_name, host, pair=pair, vms=vms, **kwargs)
    return prometheus_metrics(seen, pair, list(missing), NOW)


def test_a_redundant_pair_with_its_protected_vm():
    text = render(LAB_PAIR, "vm_ha", "vm_ha_west")
    samples, types = parse(text)
    # Prometheus naming: one prefix, gauges only, base units in the names, no duplicated family.
    assert set(types.values()) == {"gauge"}
    assert all(name.startswith("duplex_vmpair_") for name in types)
    # Every metric but the two that exist only while a mirror resyncs, and the one of watchdog fencing
    # (this pair has none; test_watchdog_findings.py).
    resync_only = {"duplex_vmpair_mirror_resync_done_ratio", "duplex_vmpair_mirror_resync_remaining_seconds"}
    resync_only.add("duplex_vmpair_watchdog_fencing_ready")
    assert set(types) == {"duplex_vmpair_" + name for name, _labels, _help in metrics.METRICS} - resync_only
    assert text.count("# TYPE ") == len(types)
    assert all(dict(labels)["pair"] == "pair_lab" for _name, labels in samples)
    assert value(samples, "last_check_timestamp_seconds", pair="pair_lab") == NOW
    assert value(samples, "pair_redundant", pair="pair_lab") == 1
    assert [value(samples, "findings", pair="pair_lab", severity=s) for s in ("critical", "warning", "info")] == [
        0,
        0,
        0,
    ]
    assert value(samples, "pair_info", pair="pair_lab", hypervisor="kvm", quorum="witness") == 1
    for host in HOSTS:
        assert value(samples, "host_checked", pair="pair_lab", host=host) == 1
        assert value(samples, "quorate", pair="pair_lab", host=host) == 1
        assert value(samples, "witness_vote", pair="pair_lab", host=host) == 1
        assert value(samples, "witness_connected", pair="pair_lab", host=host) == 1
        assert value(samples, "bond_redundant", pair="pair_lab", host=host, link="repl", bond="bond0") == 1
        assert value(samples, "bond_members_up", pair="pair_lab", host=host, link="repl", bond="bond0") == 2
    peer = {"hv-east": "hv-west", "hv-west": "hv-east"}
    assert series(samples, "link_up") == {
        (("host", h), ("link", link), ("linknumber", str(n)), ("pair", "pair_lab"), ("peer", peer[h])): 1
        for h in HOSTS
        for n, link in enumerate(("ring0", "ring1"))
    }
    assert value(samples, "cluster_view_info", pair="pair_lab", host="hv-east") == 1
    for node in HOSTS:
        assert value(samples, "node_online", pair="pair_lab", node=node) == 1
        assert value(samples, "node_standby", pair="pair_lab", node=node) == 0
        assert value(samples, "fence_device_running", pair="pair_lab", node=node) == 1
    assert value(samples, "fencing_enabled", pair="pair_lab") == 1
    # The VM: protected at ha, running on hv-east, ready to fail over.
    assert (
        value(samples, "vm_info", pair="pair_lab", vm="guest1", level="ha", actual_level="ha", preferred_host="hv-east")
        == 1
    )
    assert value(samples, "vm_protected", pair="pair_lab", vm="guest1") == 1
    assert value(samples, "vm_failover_ready", pair="pair_lab", vm="guest1") == 1
    assert series(samples, "vm_running") == {
        (("node", "hv-east"), ("pair", "pair_lab"), ("vm", "guest1")): 1,
        (("node", "hv-west"), ("pair", "pair_lab"), ("vm", "guest1")): 0,
    }
    # Its mirror, seen from each host.
    east = {"pair": "pair_lab", "host": "hv-east", "resource": "vm-guest1", "vm": "guest1"}
    assert value(samples, "mirror_uptodate", **east) == 1
    assert value(samples, "mirror_out_of_sync_bytes", **east) == 0
    assert value(samples, "mirror_resyncing", **east) == 0
    west = [labels for labels in series(samples, "mirror_info") if ("host", "hv-west") in labels]
    assert len(west) == 1 and dict(west[0]) == {
        "pair": "pair_lab",
        "host": "hv-west",
        "resource": "vm-guest1",
        "vm": "guest1",
        "role": "Secondary",
        "peer_role": "Primary",
        "connection": "Connected",
        "replication": "Established",
        "disk": "UpToDate",
        "peer_disk": "UpToDate",
        "protocol": "C",
    }
    assert (
        series(samples, "mirror_resync_done_ratio") == {} and series(samples, "mirror_resync_remaining_seconds") == {}
    )


def test_a_resync_in_bytes_ratio_and_seconds_left():
    samples, _types = parse(render(LAB_PAIR, "mirror_resync_source", "mirror_resync_target"))
    target = {"pair": "pair_lab", "host": "hv-west", "resource": "vmpair-test", "vm": ""}
    # /proc/drbd on hv-west: 7648 KiB out of sync, 7.5 % done, 75 s left (test_state_components).
    assert value(samples, "mirror_out_of_sync_bytes", **target) == 7648 * 1024
    assert value(samples, "mirror_resyncing", **target) == 1
    assert value(samples, "mirror_uptodate", **target) == 0
    assert value(samples, "mirror_resync_done_ratio", **target) == pytest.approx(0.075)
    assert value(samples, "mirror_resync_remaining_seconds", **target) == 75
    source = {"pair": "pair_lab", "host": "hv-east", "resource": "vmpair-test", "vm": ""}
    assert value(samples, "mirror_resync_done_ratio", **source) == pytest.approx(0.133)
    assert value(samples, "mirror_resync_remaining_seconds", **source) == 82
    assert value(samples, "pair_redundant", pair="pair_lab") == 0
    # A resync that progresses is a warning (redundancy comes back by itself), not critical.
    assert value(samples, "findings", pair="pair_lab", severity="critical") == 0
    assert value(samples, "findings", pair="pair_lab", severity="warning") >= 1


def test_a_crashed_host_the_vm_on_the_survivor_cannot_fail_over():
    samples, _types = parse(render(LAB_PAIR, None, "vm_alone", missing=["hv-east"]))
    assert value(samples, "host_checked", pair="pair_lab", host="hv-east") == 0
    assert value(samples, "host_checked", pair="pair_lab", host="hv-west") == 1
    assert value(samples, "cluster_view_info", pair="pair_lab", host="hv-west") == 1
    # Nothing is made up for the host that did not answer.
    assert not [labels for name, labels in samples if ("host", "hv-east") in labels and "host_checked" not in name]
    assert value(samples, "node_online", pair="pair_lab", node="hv-east") == 0
    assert value(samples, "node_online", pair="pair_lab", node="hv-west") == 1
    assert value(samples, "vm_protected", pair="pair_lab", vm="guest1") == 1
    assert value(samples, "vm_failover_ready", pair="pair_lab", vm="guest1") == 0
    assert value(samples, "vm_running", pair="pair_lab", vm="guest1", node="hv-west") == 1
    assert value(samples, "vm_running", pair="pair_lab", vm="guest1", node="hv-east") == 0
    mirror = {"pair": "pair_lab", "host": "hv-west", "resource": "vm-guest1", "vm": "guest1"}
    assert value(samples, "mirror_uptodate", **mirror) == 0
    assert value(samples, "pair_redundant", pair="pair_lab") == 0
    # The silent host, the disconnected mirrors and the VM without a failover host.
    assert value(samples, "findings", pair="pair_lab", severity="critical") >= 4


def test_a_vm_that_is_not_protected():
    web9 = {"name": "web9", "level": "recovery", "preferred_host": "hv-west"}
    pair = dict(LAB_PAIR, vm_settings=dict(LAB_PAIR["vm_settings"], web9=web9))
    samples, _types = parse(render(pair, "vm_ha", "vm_ha_west", vms=GUEST + [web9]))
    assert value(samples, "vm_protected", pair="pair_lab", vm="web9") == 0
    assert value(samples, "vm_failover_ready", pair="pair_lab", vm="web9") == 0
    assert (
        value(
            samples, "vm_info", pair="pair_lab", vm="web9", level="recovery", actual_level="", preferred_host="hv-west"
        )
        == 1
    )
    assert {labels: v for labels, v in series(samples, "vm_running").items() if ("vm", "web9") in labels} == {
        (("node", "hv-east"), ("pair", "pair_lab"), ("vm", "web9")): 0,
        (("node", "hv-west"), ("pair", "pair_lab"), ("vm", "web9")): 0,
    }
    assert value(samples, "vm_protected", pair="pair_lab", vm="guest1") == 1
    assert value(samples, "pair_redundant", pair="pair_lab") == 0


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_a_split_the_witness_gives_its_vote_to_one_half(release):
    captures = Captures(release)
    samples, _types = parse(render(CONTAINER, "split", "split_west", captures=captures, vms=[]))
    assert value(samples, "quorate", pair="pair_lab", host="hv-east") == 1
    assert value(samples, "quorate", pair="pair_lab", host="hv-west") == 0
    assert value(samples, "witness_vote", pair="pair_lab", host="hv-east") == 1
    assert value(samples, "witness_vote", pair="pair_lab", host="hv-west") == 0
    # The quorate half's view counts for the nodes: the other node is gone.
    assert value(samples, "cluster_view_info", pair="pair_lab", host="hv-east") == 1
    assert value(samples, "node_online", pair="pair_lab", node="hv-west") == 0
    links = series(samples, "link_up")
    assert len(links) == 4 and set(links.values()) == {0}


def test_the_container_lab_as_molecule_verify_sees_it():
    """molecule/default/metrics.yml asserts the same on the deployed container lab."""
    samples, _types = parse(render(CONTAINER, "healthy", "healthy_west", captures=Captures("trixie"), vms=[]))
    assert value(samples, "pair_redundant", pair="pair_lab") == 1
    assert value(samples, "findings", pair="pair_lab", severity="critical") == 0
    assert set(series(samples, "link_up").values()) == {1} and len(series(samples, "link_up")) == 4
    assert set(series(samples, "fence_device_running").values()) == {1}
    assert not series(samples, "vm_info") and not series(samples, "mirror_info")


def test_corosync_stopped_is_zero_not_a_missing_series():
    captures = Captures("trixie")
    samples, _types = parse(render(CONTAINER, "corosync_stopped", "healthy_west", captures=captures, vms=[]))
    assert value(samples, "quorate", pair="pair_lab", host="hv-east") == 0
    assert value(samples, "witness_vote", pair="pair_lab", host="hv-east") == 0
    assert value(samples, "witness_connected", pair="pair_lab", host="hv-east") == 0
    # Both promised links are down from hv-east, as the site model names them.
    assert {labels: v for labels, v in series(samples, "link_up").items() if ("host", "hv-east") in labels} == {
        (("host", "hv-east"), ("link", "link0"), ("linknumber", "0"), ("pair", "pair_lab"), ("peer", "hv-west")): 0,
        (("host", "hv-east"), ("link", "link1"), ("linknumber", "1"), ("pair", "pair_lab"), ("peer", "hv-west")): 0,
    }
    assert value(samples, "cluster_view_info", pair="pair_lab", host="hv-west") == 1


def test_a_two_node_pair_has_no_witness_metrics():
    pair = dict(CONTAINER, two_node=True)
    samples, _types = parse(render(pair, "two_node", None, missing=["hv-west"], captures=Captures("bookworm"), vms=[]))
    assert value(samples, "pair_info", pair="pair_lab", hypervisor="kvm", quorum="two_node") == 1
    assert not series(samples, "witness_vote") and not series(samples, "witness_connected")


def test_labels_are_escaped_so_the_parser_reads_them_back():
    name = 'odd "pair"\\ with\na newline'
    pair = dict(CONTAINER, name=name)
    text = metrics.pair_metrics(pair, {}, HOSTS, NOW)
    samples, _types = parse(text)
    assert value(samples, "host_checked", pair=name, host="hv-east") == 0
    assert value(samples, "pair_redundant", pair=name) == 0
    # Without any answer there is no cluster view: nothing about nodes, fencing or a VM's place.
    assert not series(samples, "node_online") and not series(samples, "cluster_view_info")
    # Every line is HELP, TYPE or one sample: NAME{LABELS} VALUE.
    sample = re.compile(r'^duplex_vmpair_[a-z_]+\{(?:[a-z_]+="(?:[^"\\\n]|\\.)*",?)+\} -?[0-9.e+]+$')
    for line in text.splitlines():
        assert line.startswith(("# HELP duplex_vmpair_", "# TYPE duplex_vmpair_")) or sample.match(line), line


def test_the_timestamp_is_now_by_default():
    before = time.time()
    samples, _types = parse(metrics.pair_metrics(CONTAINER, {}, HOSTS))
    stamp = value(samples, "last_check_timestamp_seconds", pair="pair_lab")
    assert before <= stamp <= time.time() and not math.isnan(stamp)


def test_the_filter_refuses_what_is_not_pair_info_results():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="must map each host to its pair_info result"):
        prometheus_metrics([], CONTAINER)
    with pytest.raises(AnsibleFilterError, match="pair must be the pair that duplex.vmpair.site_model returns"):
        prometheus_metrics({}, {"name": "p"})
    with pytest.raises(AnsibleFilterError, match="prometheus_metrics: "):
        prometheus_metrics({"hv-east": {"findings": [{"severity": "bad"}]}}, CONTAINER)


def test_the_site_model_knows_the_metrics_settings():
    """Set in group vars, vmpair_metrics and vmpair_metrics_textfile_dir are no unknown variables."""
    import os

    from ansible_collections.duplex.vmpair.plugins.action.site_model import known_variables

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "playbooks", "tasks", "metrics.yml")
    with open(path, encoding="utf-8") as handle:
        read = set(re.findall(r"\bvmpair_[a-z_]+\b", handle.read()))
    assert {"vmpair_metrics", "vmpair_metrics_textfile_dir"} <= read
    assert read <= set(known_variables())


def test_docs_list_every_metric_with_its_labels_and_alert_only_on_real_ones():
    import os

    import yaml

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "monitoring.md")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    rows = {name: labels.strip() for name, labels in re.findall(r"^\| `(duplex_vmpair_\w+)` \|([^|]*)\|", text, re.M)}
    assert rows == {
        metrics.PREFIX + name: ", ".join("`%s`" % label for label in labels) for name, labels, _help in metrics.METRICS
    }
    known = set(rows)
    assert set(re.findall(r"\bduplex_vmpair_[a-z_]+\b", text)) - {"duplex_vmpair_"} <= known
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)
    rules = [rule for block in blocks for group in yaml.safe_load(block)["groups"] for rule in group["rules"]]
    alerts = {rule["alert"] for rule in rules}
    assert {"VmpairVmNotProtected", "VmpairMirrorNotUpToDate", "VmpairNoQuorum", "VmpairWitnessVoteMissing"} <= alerts
    assert "VmpairMetricsStale" in alerts
    for rule in rules:
        used = set(re.findall(r"\bduplex_vmpair_\w+", rule["expr"]))
        assert used and used <= known, rule["alert"]


def test_the_molecule_parser_script_reads_the_file_as_the_assertions_name_it():
    """molecule/default/files/prom_samples.py, which molecule/default/metrics.yml runs on the controller."""
    import json
    import os
    import subprocess
    import sys

    script = os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "..", "molecule", "default", "files", "prom_samples.py"
    )
    text = render(CONTAINER, "healthy", "healthy_west", captures=Captures("trixie"), vms=[])
    proc = subprocess.run([sys.executable, script], input=text, capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout)
    assert set(got["types"].values()) == {"gauge"}
    assert got["samples"]['duplex_vmpair_quorate{host="hv-east",pair="pair_lab"}'] == 1
    assert got["samples"]['duplex_vmpair_link_up{host="hv-west",link="link1",linknumber="1",pair="pair_lab",peer="hv-east"}'] == 1  # fmt: skip
    twice = text + text.splitlines()[2] + "\n"
    refused = subprocess.run([sys.executable, script], input=twice, capture_output=True, text=True, check=False)
    assert refused.returncode != 0

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pair_info's watchdog self-fencing findings (health/watchdog.py), validate's report and metric.

The cluster's state is the real-kernel lab's capture ``vm_ha`` / ``vm_ha_west`` (captures.py; a pair
without watchdog fencing). What the captures lack comes from tests/unit/fixtures/watchdog (see its
README.md): the CIB's configuration made offline by the real pcs and Pacemaker tools, and the sbd
package's /etc/default/sbd; the file the cluster role writes is rendered from its template. The
output of ``systemctl is-active sbd`` is hand-made (``active`` rc 0, ``inactive`` rc 3: what
systemctl prints).
"""

import os

import pytest

from ansible_collections.duplex.vmpair.plugins.filter.prometheus_metrics import prometheus_metrics
from ansible_collections.duplex.vmpair.plugins.module_utils.common import findings as judge
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health import watchdog as state_watchdog
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output
from ansible_collections.duplex.vmpair.plugins.module_utils.health.report import pair_report
from ansible_collections.duplex.vmpair.plugins.modules import pair_info
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.captures import Captures
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_metrics import NOW, parse, series
from ansible_collections.duplex.vmpair.tests.unit.plugins.module_utils.test_state_components import GUEST, PAIR
from ansible_collections.duplex.vmpair.tests.unit.roletemplates import render

BOOKWORM = Captures("bookworm")
FIXTURES = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "watchdog"))
HOSTS = ["hv-east", "hv-west"]
CAPTURE = {"hv-east": "vm_ha", "hv-west": "vm_ha_west"}
# The site model's pair.watchdog with the defaults (plugin_utils/site/quorum.py check_watchdog).
WATCHDOG = {
    "device": "/dev/watchdog",
    "module": "i6300esb",
    "timeout": 35,
    "stonith_watchdog_timeout": 70,
    "stonith_timeout": 550,
    "monitor_timeout": 20,
    "device_id": "watchdog",
}
BASE = dict(
    PAIR,
    hosts=HOSTS,
    two_node=False,
    cluster_links=[{"name": "ring0", "linknumber": 0}, {"name": "ring1", "linknumber": 1}],
    vm_settings={"guest1": {"name": "guest1", "level": "ha", "preferred_host": "hv-east"}},
)
TWO_SITES = dict(
    BASE,
    nodes=[
        {"name": "hv-east", "host": "hv-east", "site": "east"},
        {"name": "hv-west", "host": "hv-west", "site": "west"},
    ],
    watchdog=None,
)
ONE_SITE = dict(
    TWO_SITES,
    nodes=[
        {"name": "hv-east", "host": "hv-east", "site": "dc1"},
        {"name": "hv-west", "host": "hv-west", "site": "dc1"},
    ],
)
WITH_WATCHDOG = dict(TWO_SITES, watchdog=WATCHDOG)

ACTIVE = Output(0, "active\n", "")
INACTIVE = Output(3, "inactive\n", "")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def role_sbd_config(pair=None):
    """/etc/default/sbd as the cluster role writes it (roles/cluster/templates/sbd.j2)."""
    return render("cluster", "sbd.j2", __vmpair_pair=WITH_WATCHDOG if pair is None else pair)


def host_facts(host, pair=None, sbd=ACTIVE, cib="ready.xml", sbd_config=None, checks=state.CHECKS):
    """pair_info's result on ``host``: its lab capture plus sbd's state, /etc/default/sbd and the CIB."""
    pair = WITH_WATCHDOG if pair is None else pair
    outputs = dict(BOOKWORM.outputs(CAPTURE[host]))
    if sbd is not None:
        outputs["sbd_active"] = sbd
    if cib is not None:
        outputs["cib_configuration"] = Output(0, fixture(cib), "")
    config = role_sbd_config(pair) if sbd_config is None and pair.get("watchdog") else sbd_config
    captured = BOOKWORM.reader(CAPTURE[host])

    def read(path):
        return config if path == state_watchdog.SBD_CONFIG else captured(path)

    return state.build_facts(outputs, pair=pair, host=host, vms=GUEST, checks=checks, read=read, uname=host)


def watchdog_findings(result):
    return [
        (f["severity"], f["subject"], f["message"])
        for f in result["findings"]
        if f["component"] == "fencing" and ("sbd" in f["message"] or "watchdog" in f["message"])
    ]


def report(pair=None, missing=(), **per_host):
    """validate's report of both hosts; ``per_host``: {host: host_facts kwargs}."""
    pair = WITH_WATCHDOG if pair is None else pair
    seen = {host: host_facts(host, pair=pair, **per_host.get(host.replace("-", "_"), {})) for host in HOSTS}
    for host in missing:
        seen.pop(host)
    return pair_report("pair_lab", seen, list(missing)), seen


def report_findings(found):
    return [
        (f["severity"], f["subject"], f["message"], f["hosts"])
        for f in found["findings"]
        if f["component"] == "fencing"
    ]


# ---------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("70", 70),
        ("70s", 70),
        ("60s", 60),
        ("1min", 60),
        ("70000ms", 70),
        ("-1", -1),
        ("2h", 7200),
        ("", None),
        ("x", None),
    ],
)
def test_pacemaker_intervals(text, seconds):
    assert state_watchdog.parse_duration(text) == seconds


def test_the_cib_configuration_made_by_pcs():
    parsed = state_watchdog.parse_cib_configuration(fixture("ready.xml"))
    assert parsed["levels"] == {
        "hv-east": [["fence_hv-east"], ["watchdog"]],
        "hv-west": [["fence_hv-west"], ["watchdog"]],
    }
    assert parsed["stonith"] == {
        "fence_hv-east": "fence_ipmilan",
        "fence_hv-west": "fence_ipmilan",
        "watchdog": "fence_watchdog",
    }
    props = parsed["properties"]
    assert (props["stonith-watchdog-timeout"], props["stonith-timeout"], props["have-watchdog"]) == (
        "70",
        "400s",
        "true",
    )
    assert state_watchdog.parse_cib_configuration(fixture("drifted.xml"))["levels"]["hv-west"] == [["fence_hv-west"]]
    with pytest.raises(ValueError, match="cannot parse"):
        state_watchdog.parse_cib_configuration("cibadmin: not xml")


def test_the_sbd_file_of_the_role_and_of_the_package():
    ours = state_watchdog.parse_sbd_config(role_sbd_config())
    assert (ours["SBD_WATCHDOG_DEV"], ours["SBD_WATCHDOG_TIMEOUT"], ours.get("SBD_DEVICE")) == (
        "/dev/watchdog",
        "35",
        None,
    )
    debian = state_watchdog.parse_sbd_config(fixture("sbd_debian.txt"))
    assert (debian["SBD_WATCHDOG_DEV"], debian["SBD_WATCHDOG_TIMEOUT"]) == ("/dev/watchdog", "5")
    assert state_watchdog.parse_sbd_config('export SBD_WATCHDOG_DEV="/dev/watchdog0"\n') == {
        "SBD_WATCHDOG_DEV": "/dev/watchdog0"
    }


# ---------------------------------------------------------------------------
# 1. hosts on two sites without watchdog fencing


def test_hosts_on_two_sites_without_watchdog_fencing_warn_once_per_pair():
    found, seen = report(pair=TWO_SITES)
    expected = (
        "warning",
        "watchdog",
        "the hosts are on different sites (hv-east=east, hv-west=west) without watchdog self-fencing: when a whole "
        "site is lost (host and its BMC), fencing its host fails and its VMs stay down until someone runs "
        "stonith_admin --confirm",
        HOSTS,
    )
    assert report_findings(found) == [expected]
    item = found["findings"][0]
    assert "vmpair_watchdog_fencing: true" in item["fix"] and "A whole site lost" in item["fix"]
    assert found["redundant"] is False and found["counts"]["warning"] == 1
    # pair_info on each host says it too (the report shows it once)
    assert all(watchdog_findings(seen[host])[0][1] == "watchdog" for host in HOSTS)
    assert seen["hv-east"]["watchdog"] is None


def test_hosts_on_one_site_or_without_the_fencing_check_have_no_site_warning():
    found, _seen = report(pair=ONE_SITE)
    assert report_findings(found) == [] and found["redundant"] is True
    assert watchdog_findings(host_facts("hv-east", pair=TWO_SITES, checks=("cluster",))) == []


def test_without_watchdog_fencing_nothing_more_is_read():
    assert "sbd_active" not in state.commands(state.CHECKS, "kvm", True)
    assert "cib_configuration" not in state.commands(state.CHECKS, "kvm", True, watchdog=False)
    with_it = state.commands(state.CHECKS, "kvm", True, watchdog=True)
    assert with_it["sbd_active"] == ["systemctl", "is-active", "sbd"]
    assert with_it["cib_configuration"] == ["cibadmin", "--query", "--scope", "configuration"]
    assert "sbd_active" not in state.commands(["cluster", "vms"], "kvm", True, watchdog=True)


# ---------------------------------------------------------------------------
# 2. pair.watchdog set: sbd and its configuration on each host


def test_everything_in_place_is_one_info_line():
    found, seen = report()
    assert found["redundant"] is True
    assert report_findings(found) == [
        (
            "info",
            "watchdog",
            "watchdog self-fencing is ready: sbd runs on both hosts, each node's last fence level is watchdog, "
            "stonith-watchdog-timeout is 70 s",
            HOSTS,
        )
    ]
    facts = seen["hv-east"]["watchdog"]
    assert facts["sbd"] == {"active": True, "state": "active", "error": None}
    assert facts["config"] == {"present": True, "device": "/dev/watchdog", "timeout": 35}
    assert facts["cib"]["stonith_watchdog_timeout"] == "70" and facts["cib"]["have_watchdog"] is True
    assert facts["node"] == "hv-east" and facts["nodes"] == HOSTS


def test_sbd_not_running_on_a_host():
    found, seen = report(hv_west={"sbd": INACTIVE})
    message = (
        "sbd is not running on hv-west (systemctl is-active sbd: inactive): the pair fences without the watchdog "
        "level, so losing hv-west's whole site (host and BMC) needs a human (stonith_admin --confirm)"
    )
    assert watchdog_findings(seen["hv-west"]) == [("warning", "hv-west", message)]
    assert watchdog_findings(seen["hv-east"]) == []
    # the property and the levels are not judged until sbd runs on both hosts (the role waits for it too)
    assert report_findings(found) == [("warning", "hv-west", message, ["hv-west"])]
    fix = found["findings"][0]["fix"]
    assert "rolling_update.yml" in fix and "pcs cluster start" in fix and "site.yml" in fix


def test_sbd_stopped_with_corosync_is_the_cluster_s_finding():
    """sbd is PartOf corosync: on a host whose corosync is stopped (capture corosync_stopped) the
    cluster's critical finding says it; no second one about sbd."""
    outputs = dict(BOOKWORM.outputs("corosync_stopped", keys=state.COMMANDS), sbd_active=INACTIVE)
    result = state.build_facts(outputs, pair=WITH_WATCHDOG, host="hv-east", read=lambda path: role_sbd_config())
    assert result["watchdog"]["sbd"]["active"] is False
    assert watchdog_findings(result) == []
    assert result["findings"][0]["message"].startswith("corosync is not running")


def test_sbd_unknown_when_systemctl_is_missing():
    result = host_facts("hv-east", sbd=Output(None, "", ""))
    assert result["watchdog"]["sbd"]["active"] is None
    assert watchdog_findings(result)[0][2].startswith(
        "sbd is not running on hv-east (systemctl is-active sbd: systemctl is not installed (Debian package systemd))"
    )


def test_the_package_s_sbd_file_differs_from_the_site_model():
    result = host_facts("hv-east", sbd_config=fixture("sbd_debian.txt"))
    assert watchdog_findings(result) == [
        (
            "warning",
            "hv-east",
            "hv-east's watchdog is not what the site model asks: /etc/default/sbd has SBD_WATCHDOG_TIMEOUT=5 "
            "(the site model: 35)",
        )
    ]
    fix = [f for f in result["findings"] if f["subject"] == "hv-east"][0]["fix"]
    assert fix.startswith("Run site.yml") and "restart the cluster of hv-east" in fix


def test_another_watchdog_device_or_no_sbd_file():
    other = role_sbd_config(dict(WITH_WATCHDOG, watchdog=dict(WATCHDOG, device="/dev/watchdog1")))
    messages = [m for _s, _subject, m in watchdog_findings(host_facts("hv-west", sbd_config=other))]
    assert messages == [
        "hv-west's watchdog is not what the site model asks: /etc/default/sbd has SBD_WATCHDOG_DEV=/dev/watchdog1 "
        "(the site model: /dev/watchdog)"
    ]
    result = host_facts("hv-west", sbd=INACTIVE, sbd_config="")
    assert [m.split(":")[0] for _s, _subject, m in watchdog_findings(result)] == [
        "sbd is not running on hv-west (systemctl is-active sbd",
        "hv-west's watchdog is not what the site model asks",
    ]
    # read() gives None: no file at all
    pair = WITH_WATCHDOG
    outputs = dict(BOOKWORM.outputs("vm_ha"), sbd_active=ACTIVE, cib_configuration=Output(0, fixture("ready.xml"), ""))
    missing = state.build_facts(outputs, pair=pair, host="hv-east", vms=GUEST, read=lambda path: None, uname="hv-east")
    assert watchdog_findings(missing)[0][2] == (
        "hv-east's watchdog is not what the site model asks: has no /etc/default/sbd"
    )


# ---------------------------------------------------------------------------
# 2. the CIB: judged with both hosts' results


def test_a_changed_property_and_a_missing_level():
    found, _seen = report(hv_east={"cib": "drifted.xml"}, hv_west={"cib": "drifted.xml"})
    assert report_findings(found) == [
        (
            "warning",
            "hv-west",
            "sbd runs on both hosts but hv-west's fence levels do not end with watchdog (levels: fence_hv-west): "
            "when its whole site is lost, fencing it fails and its VMs wait for a human",
            HOSTS,
        ),
        (
            "warning",
            "stonith-watchdog-timeout",
            "sbd runs on both hosts but stonith-watchdog-timeout is 60s, not 70 s: the watchdog level waits a time "
            "that does not match the hosts' watchdogs",
            HOSTS,
        ),
    ]
    assert all(f["fix"].startswith("Run site.yml") for f in found["findings"])


def test_sbd_on_both_but_the_role_has_not_run_since():
    found, _seen = report(hv_east={"cib": "no_levels.xml"}, hv_west={"cib": "no_levels.xml"})
    assert [(s, subject) for s, subject, _m, _h in report_findings(found)] == [
        ("warning", "hv-east"),
        ("warning", "hv-west"),
        ("warning", "stonith-watchdog-timeout"),
        ("warning", "watchdog"),
    ]
    messages = [m for _s, _subject, m, _h in report_findings(found)]
    assert "hv-east's fence levels do not end with watchdog (no levels)" in messages[0]
    assert messages[2] == (
        "sbd runs on both hosts but stonith-watchdog-timeout is not set, not 70 s: the watchdog level is ignored "
        "(the fencer disables the watchdog device without it)"
    )
    assert messages[3] == "sbd runs on both hosts but the CIB has no fence device watchdog of agent fence_watchdog"


def test_auto_stonith_watchdog_timeout_is_twice_sbd_s():
    cib = fixture("ready.xml").replace(
        'name="stonith-watchdog-timeout" value="70"', 'name="stonith-watchdog-timeout" value="-1"'
    )
    view = dict(host_facts("hv-east")["watchdog"])
    view["cib"] = dict(
        view["cib"],
        stonith_watchdog_timeout=state_watchdog.parse_cib_configuration(cib)["properties"]["stonith-watchdog-timeout"],
    )
    assert state_watchdog.pair_state([view, view], True)[0] is True


def test_no_cib_judgement_without_both_hosts_or_the_cib():
    # hv-west did not answer: its sbd is unknown, so the drifted CIB is not judged
    found, _seen = report(missing=["hv-west"], hv_east={"cib": "drifted.xml"})
    assert [f for f in report_findings(found) if f[0] != "critical"] == []
    # cibadmin failed on both
    failed = Output(1, "", "cibadmin: Connection to the CIB manager failed")
    found, seen = report(hv_east={"cib": None}, hv_west={"cib": None})
    assert report_findings(found) == []
    assert seen["hv-east"]["watchdog"]["cib"]["error"] == "the CIB was not read"
    assert state_watchdog._cib_facts(failed)["error"].startswith("cibadmin exited with 1")


def test_watchdog_findings_are_never_critical():
    for kwargs in (
        {"hv_east": {"sbd": INACTIVE, "sbd_config": ""}, "hv_west": {"sbd": Output(None, "", "")}},
        {"hv_east": {"cib": "no_levels.xml"}, "hv_west": {"cib": "no_levels.xml"}},
        {"hv_east": {"cib": "drifted.xml"}, "hv_west": {"cib": "drifted.xml"}},
    ):
        found, _seen = report(**kwargs)
        assert found["counts"]["critical"] == 0 and found["counts"]["warning"] >= 1


# ---------------------------------------------------------------------------
# the watchdog device is no node's own device


def test_the_watchdog_device_does_not_stand_in_for_a_missing_fence_device():
    pacemaker = {
        "stonith_enabled": True,
        "stonith": [
            {"id": "fence_hv-east", "agent": "fence_ipmilan", "active": True, "failed": False, "role": "Started"},
            {"id": "watchdog", "agent": "fence_watchdog", "active": True, "failed": False, "role": "Started"},
        ],
    }
    targets = {"fence_hv-east": ["hv-east"], "watchdog": ["hv-east", "hv-west"]}
    assert judge.fencing_facts(pacemaker, HOSTS, targets)["missing"] == ["hv-west"]


# ---------------------------------------------------------------------------
# 4. validate's metric


def metrics(pair, missing=(), **per_host):
    _found, seen = report(pair, missing, **per_host)
    return parse(prometheus_metrics(seen, pair, list(missing), NOW))[0]


def test_watchdog_fencing_ready_metric():
    assert series(metrics(WITH_WATCHDOG), "watchdog_fencing_ready") == {(("pair", "pair_lab"),): 1.0}
    for kwargs in (
        {"hv_west": {"sbd": INACTIVE}},
        {"hv_east": {"cib": "drifted.xml"}, "hv_west": {"cib": "drifted.xml"}},
        {"missing": ["hv-west"]},
    ):
        assert series(metrics(WITH_WATCHDOG, **kwargs), "watchdog_fencing_ready") == {(("pair", "pair_lab"),): 0.0}
    assert series(metrics(TWO_SITES), "watchdog_fencing_ready") == {}


def test_the_watchdog_device_is_not_a_running_fence_device_of_the_node():
    _found, seen = report(WITH_WATCHDOG)
    view = seen["hv-east"]
    view["fencing"]["devices"] = [d for d in view["fencing"]["devices"] if d["id"] != "fence_hv-west"] + [
        {"id": "watchdog", "agent": "fence_watchdog", "active": True, "failed": False, "targets": HOSTS}
    ]
    samples = parse(prometheus_metrics({"hv-east": view}, WITH_WATCHDOG, ["hv-west"], NOW))[0]
    assert series(samples, "fence_device_running") == {
        (("node", "hv-east"), ("pair", "pair_lab")): 1.0,
        (("node", "hv-west"), ("pair", "pair_lab")): 0.0,
    }


# ---------------------------------------------------------------------------
# the module


def test_pair_info_reads_sbd_and_the_cib_s_configuration(run_module, monkeypatch):
    from ansible.module_utils.basic import AnsibleModule

    outputs = dict(
        BOOKWORM.outputs("vm_ha"), sbd_active=INACTIVE, cib_configuration=Output(0, fixture("ready.xml"), "")
    )
    commands = state.commands(state.CHECKS, "kvm", True, watchdog=True)
    calls = []

    def run_command(self, args, **kwargs):
        cmd = [os.path.basename(args[0])] + list(args[1:])
        key = [k for k, c in commands.items() if c == cmd][0]
        calls.append(key)
        out = outputs[key]
        return out.rc, out.stdout, out.stderr

    captured = BOOKWORM.reader("vm_ha")
    config = role_sbd_config()
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(
        AnsibleModule, "get_bin_path", lambda self, arg, required=False, opt_dirs=None: "/usr/bin/" + arg
    )
    monkeypatch.setattr(pair_info, "read_file", lambda path: config if path == "/etc/default/sbd" else captured(path))
    monkeypatch.setattr(pair_info.platform, "node", lambda: "hv-east")
    code, result = run_module(pair_info.main, {"pair": WITH_WATCHDOG, "host": "hv-east", "vms": GUEST}, check_mode=True)
    assert code == 0 and result["changed"] is False
    assert calls[calls.index("cib_resources") + 1 : calls.index("cib_resources") + 3] == [
        "sbd_active",
        "cib_configuration",
    ]
    assert result["watchdog"]["sbd"]["state"] == "inactive"
    assert result["watchdog"]["cib"]["levels"]["hv-east"] == [["fence_hv-east"], ["watchdog"]]
    assert result["redundant"] is False
    assert result["summary"] == [
        "sbd is not running on hv-east (systemctl is-active sbd: inactive): the pair fences without the watchdog "
        "level, so losing hv-east's whole site (host and BMC) needs a human (stonith_admin --confirm)"
    ]

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_site's reports: the summary grouped by pair, the JSON report and the JUnit XML report.

The JUnit file is checked against the shape of the usual JUnit schema (Jenkins' junit-10.xsd,
which GitLab, GitHub actions and most CI readers follow): elements, their order, required
attributes, and counts that add up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.duplex.vmpair.plugins.action.site_model import known_variables
from ansible_collections.duplex.vmpair.plugins.module_utils.site import base as site_base
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import model as site_model
from ansible_collections.duplex.vmpair.plugins.plugin_utils.site import report as site_report
from ansible_collections.duplex.vmpair.tests.unit.sitedata import add_pair, set_pair_var, site

# junit-10.xsd: the attributes each element may carry (required ones first), and its children in order.
JUNIT = {
    "testsuites": (("name", "time", "tests", "failures", "disabled", "errors", "skipped"), ()),
    "testsuite": (
        (
            "name",
            "tests",
            "failures",
            "errors",
            "group",
            "time",
            "disabled",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
        ),
        ("name", "tests"),
    ),
    "testcase": (
        ("name", "assertions", "time", "timestamp", "classname", "status", "file", "line", "log", "group", "url"),
        ("name",),
    ),
    "properties": ((), ()),
    "property": (("name", "value"), ("name", "value")),
    "failure": (("message", "type"), ()),
    "error": (("message", "type"), ()),
    "skipped": (("message",), ()),
    "system-out": ((), ()),
    "system-err": ((), ()),
}
CHILDREN = {
    "testsuites": ["testsuite"],
    "testsuite": ["properties", "testcase", "system-out", "system-err"],
    "testcase": ["skipped", "error", "failure", "system-out", "system-err"],
    "properties": ["property"],
}
INTEGER = re.compile(r"^[0-9]+$")
DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")


def check_junit_shape(text):
    """Assert that `text` is JUnit XML in the schema's shape; return the root element."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)
    assert root.tag == "testsuites"

    def walk(element):
        allowed, required = JUNIT[element.tag]
        assert set(element.attrib) <= set(allowed), (element.tag, element.attrib)
        assert set(required) <= set(element.attrib), (element.tag, element.attrib)
        for key in ("tests", "failures", "errors", "skipped", "disabled"):
            if key in element.attrib:
                assert INTEGER.match(element.get(key)), (element.tag, key)
        if "time" in element.attrib:
            assert DECIMAL.match(element.get("time")), element.attrib
        if "timestamp" in element.attrib:
            assert TIMESTAMP.match(element.get("timestamp")), element.attrib
        order = CHILDREN.get(element.tag, [])
        positions = [order.index(child.tag) for child in element]  # ValueError: child not allowed here
        assert positions == sorted(positions), (element.tag, [c.tag for c in element])
        if element.tag == "testcase":
            assert len(element.findall("skipped")) <= 1
        for child in element:
            walk(child)

    walk(root)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        assert {k: int(suite.get(k)) for k in counted} == counted, suite.get("name")
        for key, value in counted.items():
            totals[key] += value
    assert {k: int(root.get(k)) for k in totals} == totals
    return root


def broken_site():
    """Two pairs: pair_mail has an error (capacity) and a warning (link key); pair_web is clean; and
    an unused witness at site level."""
    pairs, witnesses, hostvars = site()
    add_pair(pairs, hostvars)
    hostvars["hv-west"]["vmpair_host_capacity"] = {"vcpus": 2, "memory_mib": 262144}
    links = hostvars["hv-east"]["vmpair_links"]
    links[1]["rtt"] = 1
    set_pair_var(hostvars, "vmpair_links", links)
    witnesses.append("qw2")
    hostvars["qw2"] = {"vmpair_site": "hq"}
    return site_model.check_site(pairs, witnesses, hostvars, known_variables())


def cases(root):
    return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


def test_summary_groups_by_pair_errors_first_and_counts_last():
    lines = site_report.summary(broken_site())
    assert lines[0] == "pair pair_mail: 1 error(s), 1 warning(s)"
    assert lines[1].startswith("  ERROR: pair pair_mail host hv-west: vmpair_host_capacity.vcpus: ")
    assert lines[2].startswith("  WARNING: pair pair_mail: vmpair_links[link1].rtt: ")
    assert lines[3] == "site (inventory and witnesses): 0 error(s), 1 warning(s)"
    assert lines[4].startswith("  WARNING: witness qw2: vmpair_witness: ")
    assert not any("pair_web" in line for line in lines)  # clean pairs are not listed
    assert lines[-1] == (
        "FAILED: 1 error(s), 2 warning(s); 2 pair(s) checked (1 with errors, 1 with warnings), 2 witness(es), 2 VM(s)."
    )
    assert len(lines) == 6


def test_warnings_alone_pass_unless_strict():
    pairs, witnesses, hostvars = site()
    witnesses.append("qw2")
    result = site_model.check_site(pairs, witnesses, hostvars, known_variables())
    assert site_report.summary(result)[-1].startswith("PASSED: 0 error(s), 1 warning(s);")
    assert site_report.summary(result, strict=True)[-1].startswith(
        "FAILED (vmpair_check_strict: warnings count as errors): 0 error(s), 1 warning(s);"
    )


def test_json_report_has_the_verdict_counts_pairs_and_findings():
    report = json.loads(json.dumps(site_report.json_report(broken_site(), inventory=["inv.yml"])))
    assert report["format"] == "duplex.vmpair.check_site/1"
    assert report["passed"] is False
    assert report["inventory"] == ["inv.yml"]
    assert report["counts"] == {
        "pairs": 2,
        "witnesses": 2,
        "vms": 2,
        "errors": 1,
        "warnings": 2,
        "pairs_with_errors": 1,
        "pairs_with_warnings": 1,
        "strict": False,
    }
    assert report["pairs"]["pair_web"] == {
        "hosts": ["hv-north", "hv-south"],
        "valid": True,
        "errors": 0,
        "warnings": 0,
    }
    assert report["pairs"]["pair_mail"]["errors"] == 1
    error = [f for f in report["findings"] if f["severity"] == "error"][0]
    assert {k: error[k] for k in ("pair", "host", "check", "variable")} == {
        "pair": "pair_mail",
        "host": "hv-west",
        "check": "capacity",
        "variable": "vmpair_host_capacity.vcpus",
    }
    assert error["text"].startswith("pair pair_mail host hv-west: vmpair_host_capacity.vcpus: the pair's 1 VM(s)")


def test_junit_has_one_testcase_per_check_per_pair_and_failures_carry_the_finding():
    text = site_report.junit_xml(broken_site(), timestamp="2026-01-02T03:04:05", duration=0.25)
    root = check_junit_shape(text)
    found = cases(root)
    expected = {("duplex.vmpair.check_site.%s" % p, c) for p in ("pair_mail", "pair_web") for c in site_base.CHECKS}
    expected |= {("duplex.vmpair.check_site.site", c) for c in site_base.SITE_CHECKS}
    assert set(found) == expected
    assert (root.get("tests"), root.get("failures"), root.get("skipped"), root.get("time")) == ("21", "1", "0", "0.250")
    failure = found[("duplex.vmpair.check_site.pair_mail", "capacity")].find("failure")
    assert failure.get("type") == "error"
    assert "hv-west: vmpair_host_capacity.vcpus" in failure.get("message")
    assert "Fix: " in failure.text
    links = found[("duplex.vmpair.check_site.pair_mail", "links")]
    assert links.find("failure") is None
    assert "vmpair_links[link1].rtt" in links.find("system-out").text
    assert all(c.find("failure") is None for k, c in found.items() if "pair_web" in k[0])


def test_strict_junit_turns_warnings_into_failures():
    root = check_junit_shape(site_report.junit_xml(broken_site(), strict=True))
    found = cases(root)
    assert root.get("failures") == "3"
    failure = found[("duplex.vmpair.check_site.site", "witness")].find("failure")
    assert failure.get("type") == "warning"
    assert "qw2" in failure.get("message")


def test_the_other_checks_of_a_pair_that_is_not_two_hosts_are_skipped():
    pairs, witnesses, hostvars = site()
    pairs["pair_mail"].append("hv-spare")
    root = check_junit_shape(site_report.junit_xml(site_model.check_site(pairs, witnesses, hostvars)))
    found = cases(root)
    assert found[("duplex.vmpair.check_site.pair_mail", "pair")].find("failure") is not None
    skipped = [k[1] for k, c in found.items() if c.find("skipped") is not None]
    # no known variables given: the variables checks are skipped too
    assert sorted(skipped) == sorted([c for c in site_base.CHECKS if c != "pair"] + ["variables"])
    assert root.get("skipped") == str(len(skipped))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace('tests="21"', 'tests="20"', 1),
        lambda t: t.replace("<testcase ", "<testcase nme=", 1).replace('nme=name="', 'nme="x" name="', 1),
        lambda t: t.replace("<failure ", "<failed ", 1).replace("</failure>", "</failed>", 1),
        lambda t: t.replace('timestamp="2026-01-02T03:04:05"', 'timestamp="yesterday"', 1),
    ],
    ids=["wrong-count", "unknown-attribute", "unknown-element", "bad-timestamp"],
)
def test_the_shape_check_rejects_broken_junit(mangle):
    text = site_report.junit_xml(broken_site(), timestamp="2026-01-02T03:04:05")
    check_junit_shape(text)
    with pytest.raises((AssertionError, ValueError)):
        check_junit_shape(mangle(text))

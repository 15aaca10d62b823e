# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What check_site reports: the summary for people, a JSON report and a JUnit XML report for CI.

All three take a site.SiteCheck. Errors fail the check; warnings fail it only when strict.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import CHECKS, ERROR, SITE_CHECKS, WARNING

FORMAT = "duplex.vmpair.check_site/1"
SUITE = "duplex.vmpair.check_site"
SITE_GROUP = "site"  # the group of findings that belong to no pair


def passed(result, strict=False):
    return not result.errors and not (strict and result.warnings)


def _groups(result):
    """[(group, [problems])]: each pair with findings (by name), then the site-level findings (group None)."""
    by_pair = {}
    for problem in result.problems:
        by_pair.setdefault(problem.pair or None, []).append(problem)
    order = sorted(g for g in by_pair if g is not None) + ([None] if None in by_pair else [])
    return [(group, by_pair[group]) for group in order]


def _count(problems, severity):
    return sum(1 for p in problems if p.severity == severity)


def counts(result, strict=False):
    groups = dict(_groups(result))
    return {
        "pairs": len(result.pair_hosts),
        "witnesses": len(result.witness_hosts),
        "vms": result.vm_count(),
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "pairs_with_errors": sum(1 for g, ps in groups.items() if g is not None and _count(ps, ERROR)),
        "pairs_with_warnings": sum(1 for g, ps in groups.items() if g is not None and _count(ps, WARNING)),
        "strict": bool(strict),
    }


def summary(result, strict=False):
    """The lines people read: findings grouped by pair (errors first), then the counts."""
    lines = []
    for group, problems in _groups(result):
        errors, warnings = _count(problems, ERROR), _count(problems, WARNING)
        title = "pair %s" % group if group is not None else "site (inventory and witnesses)"
        lines.append("%s: %d error(s), %d warning(s)" % (title, errors, warnings))
        for severity in (ERROR, WARNING):
            lines.extend("  %s: %s" % (severity.upper(), p) for p in problems if p.severity == severity)
    c = counts(result, strict)
    verdict = "PASSED" if passed(result, strict) else "FAILED"
    if verdict == "FAILED" and not c["errors"]:
        verdict = "FAILED (vmpair_check_strict: warnings count as errors)"
    lines.append(
        "%s: %d error(s), %d warning(s); %d pair(s) checked (%d with errors, %d with warnings), %d witness(es), "
        "%d VM(s)."
        % (
            verdict,
            c["errors"],
            c["warnings"],
            c["pairs"],
            c["pairs_with_errors"],
            c["pairs_with_warnings"],
            c["witnesses"],
            c["vms"],
        )
    )
    return lines


def json_report(result, strict=False, inventory=None):
    """A JSON-ready dict: verdict, counts, every pair's counts and every finding."""
    pairs = {}
    for pair, hosts in sorted(result.pair_hosts.items()):
        pairs[pair] = {"hosts": hosts, "valid": pair in result.site["pairs"], "errors": 0, "warnings": 0}
    for problem in result.problems:
        if problem.pair in pairs:
            pairs[problem.pair][problem.severity + "s"] += 1
    return {
        "format": FORMAT,
        "inventory": list(inventory or []),
        "passed": passed(result, strict),
        "counts": counts(result, strict),
        "pairs": pairs,
        "findings": [p.as_dict() for p in result.problems],
    }


def _testcase(suite, classname, check, problems, strict, skipped=None):
    case = ET.SubElement(suite, "testcase", name=check, classname=classname, time="0")
    if skipped:
        ET.SubElement(case, "skipped", message=skipped)
        return 0, 1
    failing = [p for p in problems if p.severity == ERROR or strict]
    if failing:
        failure = ET.SubElement(
            case,
            "failure",
            message="%d finding(s): %s" % (len(failing), failing[0]),
            type=ERROR if any(p.severity == ERROR for p in failing) else WARNING,
        )
        failure.text = "\n".join("%s: %s" % (p.severity.upper(), p) for p in failing) + "\n"
    notes = [p for p in problems if p not in failing]
    if notes:
        ET.SubElement(case, "system-out").text = "\n".join("WARNING: %s" % p for p in notes) + "\n"
    return (1 if failing else 0), 0


def _suite(root, name, classname, checks, problems, strict, skip, timestamp, properties):
    suite = ET.SubElement(root, "testsuite", name=name, tests="0", failures="0", errors="0", skipped="0")
    suite.set("time", "0")
    suite.set("timestamp", timestamp)
    suite.set("hostname", "localhost")
    if properties:
        props = ET.SubElement(suite, "properties")
        for key, value in properties:
            ET.SubElement(props, "property", name=key, value=value)
    by_check = {}
    for problem in problems:
        by_check.setdefault(problem.check, []).append(problem)
    failures = skipped = 0
    checks = list(checks) + sorted(set(by_check) - set(checks))
    for check in checks:
        failed, skip_count = _testcase(suite, classname, check, by_check.get(check, []), strict, skip(check))
        failures += failed
        skipped += skip_count
    suite.set("tests", str(len(checks)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return len(checks), failures, skipped


def _add(totals, counted):
    return [totals[i] + counted[i] for i in range(len(totals))]


def junit_xml(result, strict=False, timestamp="1970-01-01T00:00:00", duration=0.0):
    """JUnit XML text: one test suite per pair with one test case per check, and a suite for the site."""
    root = ET.Element("testsuites", name=SUITE, tests="0", failures="0", errors="0", skipped="0")
    grouped = dict(_groups(result))
    totals = [0, 0, 0]
    for pair, hosts in sorted(result.pair_hosts.items()):
        built = pair in result.site["pairs"]

        def skip(check, built=built):
            if check == "pair":
                return None
            if not built:
                return "not checked: see the pair check (not two hosts, or variables that cannot be read)"
            if check == "variables" and not result.checked_variables:
                return "not checked: no list of known variables"
            return None

        counted = _suite(
            root,
            "pair %s" % pair,
            "%s.%s" % (SUITE, pair),
            CHECKS,
            grouped.get(pair, []),
            strict,
            skip,
            timestamp,
            [("hosts", " ".join(hosts))],
        )
        totals = _add(totals, counted)
    counted = _suite(
        root,
        SITE_GROUP,
        "%s.%s" % (SUITE, SITE_GROUP),
        SITE_CHECKS,
        grouped.get(None, []),
        strict,
        lambda check: (
            "not checked: no list of known variables" if check == "variables" and not result.checked_variables else None
        ),
        timestamp,
        [],
    )
    totals = _add(totals, counted)
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", "0")
    root.set("skipped", str(totals[2]))
    root.set("time", "%.3f" % duration)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documentation against the code, where a machine can tell that a text went stale.

Every playbook is in docs/architecture.md, and the protection levels it calls planned are the ones the
code refuses; the report lines the docs show are lines validate can print (their format strings are in
plugins/); every file a doc cites exists; protected_vm documents the secret length the code takes; a
playbook header promises resync progress only where a task shows it; the license file the headers cite
is there; no changelog fragment announces a breaking change before the first release."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import SEVERITIES, finding
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd import base as drbd_base
from ansible_collections.duplex.vmpair.plugins.module_utils.health import report as pair_report

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = sorted(glob.glob(os.path.join(REPO_ROOT, "docs", "*.md"))) + [
    os.path.join(REPO_ROOT, "README.md"),
    os.path.join(REPO_ROOT, "lab", "README.md"),
]
PLAYBOOKS = sorted(
    os.path.basename(p)[: -len(".yml")] for p in glob.glob(os.path.join(REPO_ROOT, "playbooks", "*.yml"))
)


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def rel(path):
    return os.path.relpath(path, REPO_ROOT)


def section(text, heading):
    """The text of the section '## heading...', its heading line first (up to the next '## ')."""
    match = re.search(r"^## %s\b.*?(?=^## |\Z)" % re.escape(heading), text, re.M | re.S)
    assert match, "no section '## %s'" % heading
    return match.group(0)


def list_items(text):
    """The top-level '- ' items of a markdown text, each with its indented continuation lines."""
    items, current = [], None
    for line in text.splitlines():
        if line.startswith("- "):
            current = [line.strip()]
            items.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    return [" ".join(parts) for parts in items]


# ----------------------------------------------------------------------------- architecture.md
def test_architecture_lists_every_playbook_once():
    items = list_items(section(read(os.path.join(REPO_ROOT, "docs", "architecture.md")), "Playbooks"))
    named = [re.findall(r"`playbooks/(\w+)\.yml`", item) for item in items]
    for item, names in zip(items, named, strict=True):
        assert len(names) == 1, "docs/architecture.md, Playbooks: one item per playbook, not %s: %s" % (names, item)
    listed = [names[0] for names in named if names]
    assert sorted(listed) == PLAYBOOKS, "docs/architecture.md, Playbooks: missing %s, unknown or twice %s" % (
        sorted(set(PLAYBOOKS) - set(listed)),
        sorted({n for n in listed if n not in PLAYBOOKS or listed.count(n) > 1}),
    )


def test_architecture_calls_planned_only_the_levels_the_code_refuses():
    text = section(read(os.path.join(REPO_ROOT, "docs", "architecture.md")), "Protection levels")
    heading = text.splitlines()[0]
    assert "planned" not in heading, "docs/architecture.md: the levels %s exist: %r" % (
        sorted(drbd_base.LEVELS),
        heading,
    )
    assert "nothing acts on it" not in text.lower()
    items = {re.match(r"- `(\w+)`", item).group(1): item for item in list_items(text) if re.match(r"- `\w+`", item)}
    for level in drbd_base.LEVELS:
        assert level in items, "docs/architecture.md, Protection levels: no item for level %s" % level
        assert not re.search(r"planned|not available", items[level]), "level %s exists: %s" % (level, items[level])
    with pytest.raises(drbd_base.LevelError):
        drbd_base.level_settings("ft")
    assert re.search(r"planned|not available", items["ft"]), "level ft is refused by the code: say so"


# ----------------------------------------------------------------------------- report lines
def format_patterns(paths):
    """Every string literal and f-string of the given files as a regular expression (its %-placeholders and
    replacement fields match anything), skipping the ones too short to say anything."""
    spec = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifx]|%%")
    patterns = set()
    for path in paths:
        tree = ast.parse(read(path))
        parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if id(node) in parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pieces, pos = [], 0
                for match in spec.finditer(node.value):
                    pieces += [re.escape(node.value[pos : match.start()]), "%" if match.group() == "%%" else "(.+?)"]
                    pos = match.end()
                pattern = "".join(pieces) + re.escape(node.value[pos:])
            elif isinstance(node, ast.JoinedStr):
                pattern = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else "(.+?)" for v in node.values)
            else:
                continue
            if len(re.sub(r"\(\.\+\?\)|\\", "", pattern)) >= 10:
                patterns.add(pattern)
    return [re.compile(p, re.S) for p in sorted(patterns)]


@pytest.fixture(scope="module")
def printable():
    """Whether a text is something the code can print: a match of one of its format strings."""
    patterns = format_patterns(glob.glob(os.path.join(REPO_ROOT, "plugins", "**", "*.py"), recursive=True))
    return lambda text: any(p.fullmatch(text) for p in patterns)


# pair_report.report_lines: "SEVERITY component subject: message[ [hosts]]", then "    fix: ...".
FINDING = re.compile(r"^(%s) (%s) (.+)$" % ("|".join(s.upper() for s in SEVERITIES), "|".join(pair_report._COMPONENTS)))


def report_line_problem(kind, text, printable):
    """None when validate can print the line, else why not."""
    if kind == "finding":
        match = FINDING.match(text)
        if not match:
            return "not a finding line (SEVERITY component subject: message; severities %s)" % (
                ", ".join(s.upper() for s in SEVERITIES)
            )
        rest = re.sub(r" \[[^\]]+\]$", "", match.group(3))
        if not any(printable(rest[m.end() :]) for m in re.finditer(": ", rest)):
            return "no finding has this message"
    elif not printable(text):
        return "no format string of plugins/ prints it"
    return None


def report_lines_in(path):
    """(line number, kind, text) of what a doc shows as validate's (or check_site's) output: the report
    lines in its code blocks, and what a comment after a validate command says it prints."""
    blocks, block, fenced = [], [], False
    for number, line in enumerate(read(path).splitlines(), 1):
        if line.lstrip().startswith("```"):
            if fenced:
                blocks.append(block)
            block, fenced = [], not fenced
        elif fenced:
            block.append((number, line))
    for block in blocks:
        found, fixes = [], []
        for number, line in block:
            text = line.strip().rstrip(",").strip().strip('"').strip()
            if re.search(r"duplex\.vmpair\.validate|validate\.yml", line) and "# " in line:
                comment = line.split("# ", 1)[1].strip()
                if re.match(r"[A-Z]{4,}\b", comment):
                    found.append((number, "finding", comment))
            if re.match(r"^pair \S+: ", text):
                found.append((number, "head", text))
            elif re.match(r"^[A-Z]{4,} [a-z]", text):
                found.append((number, "finding", text))
            elif text.startswith("fix: "):
                fixes.append((number, "fix", text[len("fix: ") :]))
        yield from found
        if any(kind != "finding" or FINDING.match(text) for _n, kind, text in found):
            yield from fixes


def test_the_report_line_check_knows_what_validate_prints(printable):
    """The check itself: the lines of a real report pass, an invented label or message does not."""
    link = finding("warning", "cluster", "link 1", "link 1 to hv-west is down", "Check the cable (ip link).")
    lines = pair_report.pair_report("pair_lab", {"hv-east": {"findings": [link]}, "hv-west": {}})["lines"]
    assert lines[1] == "WARNING cluster link 1: link 1 to hv-west is down [hv-east]"
    assert report_line_problem("head", lines[0], printable) is None
    assert report_line_problem("finding", lines[1], printable) is None
    assert report_line_problem("finding", "MISSING: link ... is down", printable)
    assert report_line_problem("finding", "WARNING cluster link 1: link 1 is gone", printable)
    assert report_line_problem("head", "pair pair_lab: BROKEN", printable)


@pytest.mark.parametrize("path", DOCS, ids=rel)
def test_docs_show_only_report_lines_the_code_prints(path, printable):
    problems = [
        "%s:%d: %s: %s" % (rel(path), number, problem, text)
        for number, kind, text in report_lines_in(path)
        for problem in [report_line_problem(kind, text, printable)]
        if problem
    ]
    assert not problems, "lines no code prints (copy them from a real run):\n" + "\n".join(problems)


# ----------------------------------------------------------------------------- cited files
def expand(path):
    match = re.search(r"\{([^{}]*)\}", path)
    if not match:
        return [path]
    return [p for alt in match.group(1).split(",") for p in expand(path[: match.start()] + alt + path[match.end() :])]


def cited_files(path):
    """(what the doc says, the places it may mean) for every file a doc cites: its relative links, any
    NAME.md, and the paths in backquotes that start at a folder of the repository (or of the doc's folder,
    plugins/ or a role)."""
    text = read(path)
    here = os.path.dirname(path)
    roots = [here, REPO_ROOT, os.path.join(REPO_ROOT, "plugins"), os.path.join(REPO_ROOT, "roles", "*")]
    for match in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = match.group(1).split("#")[0]
        if target and not re.match(r"^[a-z]+:", target):
            yield target, [os.path.join(here, target)]
    for match in re.finditer(r"(?<![\w/.-])([\w.-]+(?:/[\w.-]+)*\.md)\b", text):
        yield match.group(1), [os.path.join(root, match.group(1)) for root in (here, REPO_ROOT, REPO_ROOT + "/docs")]
    for match in re.finditer(r"`([^`\n]+)`", text):
        cited = match.group(1)
        if not re.match(r"^[\w.-]+(/[\w.*{},-]+)+/?$", cited) or cited.startswith(".state/"):
            continue
        if re.search(r"(^|/)[A-Z][A-Z0-9_]*(\.\w+)?(/|$)", cited):
            continue  # a placeholder: playbooks/NAME.yml
        first = cited.split("/")[0]
        places = [root for root in roots if any(os.path.isdir(d) for d in glob.glob(os.path.join(root, first)))]
        if places and first not in (".build", ".venv") and "/.state/" not in "/" + cited:
            yield cited, [os.path.join(root, cited) for root in places]


@pytest.mark.parametrize("path", DOCS, ids=rel)
def test_every_file_a_doc_cites_exists(path):
    missing = sorted(
        {cited for cited, places in cited_files(path) if not any(glob.glob(p) for c in places for p in expand(c))}
    )
    assert not missing, "%s cites files that are not in the repository: %s" % (rel(path), missing)


def test_the_cited_file_check_sees_a_missing_file(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("Slower than LAB.md's; see `roles/cluster/tasks/nothing.yml` and [a](nothing.md).\n")
    cited = {c for c, places in cited_files(str(doc)) if not any(glob.glob(p) for p in places)}
    assert cited == {"LAB.md", "roles/cluster/tasks/nothing.yml", "nothing.md"}


# ----------------------------------------------------------------------------- protected_vm's secret
def test_protected_vm_documents_the_secret_length_the_code_takes():
    source = read(os.path.join(REPO_ROOT, "plugins", "modules", "protected_vm.py"))
    doc = yaml.safe_load(re.search(r"^DOCUMENTATION = r?('''|\"\"\")(.*?)\1", source, re.S | re.M).group(2))
    described = " ".join(doc["options"]["secret"]["description"])
    longest = drbd_base.SECRET_MAX_LEN
    drbd_base.check_secret("x" * longest)
    with pytest.raises(drbd_base.DrbdError):
        drbd_base.check_secret("x" * (longest + 1))
    lengths = [int(n) for n in re.findall(r"(\d+) characters", described)]
    assert lengths == [longest], "protected_vm's secret: the code takes at most %d characters, the docs say %s" % (
        longest,
        lengths,
    )
    for path in DOCS:
        for sentence in re.split(r"(?<=[.;])\s", read(path).replace("\n", " ")):
            if "secret" in sentence:
                for n in re.findall(r"(?:at most|to) (\d+) characters", sentence):
                    assert int(n) == longest, "%s: %r" % (rel(path), sentence)


# ----------------------------------------------------------------------------- playbook headers
def header(name):
    """The comment lines at the top of a playbook."""
    lines = read(os.path.join(REPO_ROOT, "playbooks", name + ".yml")).splitlines()
    body = lines[1:] if lines and lines[0] == "---" else lines
    top = []
    for line in body:
        if not line.startswith("#"):
            break
        top.append(line)
    return "\n".join(top)


def with_included_files(name):
    """The playbook's text and that of the task files it includes from playbooks/tasks/, recursively."""
    seen, todo, texts = set(), [os.path.join(REPO_ROOT, "playbooks", name + ".yml")], []
    while todo:
        path = os.path.normpath(todo.pop())
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        text = read(path)
        texts.append(text)
        for included in re.findall(r"(?:include|import)_tasks:\s*(?:file:\s*)?([\w./-]+\.yml)", text):
            todo.append(os.path.join(os.path.dirname(path), included))
    return "\n".join(texts)


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_playbook_header_promises_resync_progress_only_where_a_task_shows_it(name):
    if not re.search(r"progress", header(name), re.I) or re.search(r"no (resync )?progress", header(name), re.I):
        return
    text = with_included_files(name)
    assert "duplex.vmpair.wait_redundancy" in text or "mirror_progress" in text, (
        "playbooks/%s.yml's header promises progress, but no task of it shows the resync's progress "
        "(duplex.vmpair.wait_redundancy, or the duplex.vmpair.mirror_progress filter)" % name
    )


# ----------------------------------------------------------------------------- license, changelog
def test_the_license_the_headers_cite_is_there():
    citing = []
    for path in glob.glob(os.path.join(REPO_ROOT, "plugins", "**", "*.py"), recursive=True):
        if "see COPYING" in read(path):
            citing.append(rel(path))
    copying = os.path.join(REPO_ROOT, "COPYING")
    if citing:
        assert os.path.isfile(copying), "no COPYING, but %s cite it" % citing[:5]
    if os.path.isfile(copying):
        text = read(copying)
        assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE") and "Version 3, 29 June 2007" in text
    galaxy = yaml.safe_load(read(os.path.join(REPO_ROOT, "galaxy.yml")))
    assert galaxy.get("license") == ["GPL-3.0-or-later"] and not galaxy.get("license_file"), (
        "galaxy.yml: license GPL-3.0-or-later (the plugins' SPDX-License-Identifier) and no license_file "
        "(ansible-galaxy takes one or the other)"
    )
    build_ignore = galaxy.get("build_ignore") or []
    assert "COPYING" not in build_ignore, "the artifact must carry COPYING"


def test_no_breaking_change_before_the_first_release():
    changelog = yaml.safe_load(read(os.path.join(REPO_ROOT, "changelogs", "changelog.yaml")))
    if changelog.get("releases"):
        pytest.skip("released: breaking changes are possible now")
    breaking = [
        rel(path)
        for path in sorted(glob.glob(os.path.join(REPO_ROOT, "changelogs", "fragments", "*.y*ml")))
        if "breaking_changes" in (yaml.safe_load(read(path)) or {})
    ]
    assert not breaking, (
        "nothing was released yet (changelogs/changelog.yaml), so no change breaks a user: "
        "use minor_changes or trivial in %s" % breaking
    )

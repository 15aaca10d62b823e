# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The CIB itself: reading it into plain data and changing it in one push.

Every module that looks at or changes the Pacemaker configuration uses this:

* :func:`read_cib`, :func:`verify_cib` and :func:`pcs_cmd` (``pcs -f FILE``
  when the runner has a ``cib_file``: pcs 0.11 does not pass the ``CIB_file``
  environment variable on to the tools it runs itself);
* readers that turn CIB elements into plain data: nvpairs, primitives
  (agent, instance and meta attributes, operations), clones, constraints,
  cluster properties and node names;
* normalisation so that values compare as Pacemaker means them: Python
  values as CIB strings, durations, roles (Master = Promoted) and scores
  (+INFINITY = INFINITY);
* :class:`CibTransaction`: a temporary copy of the CIB changed with
  ``pcs -f COPY`` (fence devices, properties, removal) or in Python
  (:meth:`CibTransaction.write`, the protected VMs' objects), checked with
  ``crm_verify`` and pushed once as a diff;
* text for diffs (:func:`render_pairs`, :func:`element_xml`) and
  :class:`Result`, what every ``ensure_*`` function returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK, CommandError, CommandRunner

BOOTSTRAP_SET = "cib-bootstrap-options"
MINUS_INFINITY = ("-INFINITY", "-infinity", "-inf")
# the role names before Pacemaker 2.1 (schema 3.7) and what they are now
LEGACY_ROLES = {"Master": "Promoted", "Slave": "Unpromoted"}
_INFINITY = {"INFINITY": "INFINITY", "+INFINITY": "INFINITY", "-INFINITY": "-INFINITY"}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "msec": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000, "hr": 3600000}

LocationConstraint = collections.namedtuple("LocationConstraint", ["id", "rsc", "node", "score"])


class PcsError(Exception):
    """A problem found before running any command (bad input, unexpected CIB)."""


class Result:
    """What an ``ensure_*`` function did (or would do in check mode)."""

    def __init__(self, changed=False, commands=None, before="", after="", **data):
        self.changed = changed
        self.commands = commands or []
        self.before = before
        self.after = after
        self.data = data

    @property
    def diff(self):
        return {"before": self.before, "after": self.after}

    def as_dict(self):
        out = {"changed": self.changed, "commands": self.commands, "diff": self.diff}
        out.update(self.data)
        return out


# ---------------------------------------------------------------------------
# commands and the whole CIB


def pcs_cmd(runner, *args):
    """``pcs [-f CIB_FILE] ARGS...`` as a list."""
    cmd = ["pcs"]
    if runner.cib_file:
        cmd += ["-f", runner.cib_file]
    return cmd + list(args)


def read_cib(runner):
    """Return the whole CIB (live, or ``runner.cib_file``) as an Element."""
    result = runner.run(["cibadmin", "--query"])
    try:
        return ET.fromstring(result.stdout)
    except ET.ParseError as exc:
        raise PcsError(f"cannot parse the CIB returned by cibadmin --query: {exc}") from exc


def parse_cib_file(path):
    """The CIB in file ``path`` as an Element, comments kept (Python 3.8+), so that a diff against it is only ours."""
    try:
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    except TypeError:  # Python < 3.8
        parser = None
    return ET.parse(path, parser=parser).getroot()


def verify_cib(runner):
    """Run crm_verify on the CIB file or the live CIB; raise CommandError on problems."""
    if runner.cib_file:
        return runner.run(["crm_verify", "--xml-file", runner.cib_file])
    return runner.run(["crm_verify", "--live-check"])


# ---------------------------------------------------------------------------
# normalisation


def normalize_value(value):
    """Values as Pacemaker stores them: True -> "true", 5 -> "5"; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        raise PcsError(f"values must be single strings, numbers or booleans, not a {type(value).__name__}")
    return str(value)


def duration_ms(value):
    """A Pacemaker duration ("90s", "2min", "500ms", "10") in milliseconds; unreadable text as is."""
    match = _DURATION.match(str(value or "0"))
    if not match:
        return str(value)
    return int(match.group(1)) * _UNIT_MS[(match.group(2) or "s").lower()]


def normalize_role(value):
    """Roles by their Pacemaker 2.1 names: Master -> Promoted, Slave -> Unpromoted."""
    return LEGACY_ROLES.get(value, value)


def normalize_score(value):
    """``+INFINITY``/``infinity`` -> ``INFINITY``, other scores as text; None stays None."""
    return _INFINITY.get(str(value).upper(), str(value)) if value is not None else None


def op_key(op):
    """What makes two operations the same: name, interval, role and timeout (normalised)."""
    return (
        op["name"],
        duration_ms(op.get("interval")),
        normalize_role(op.get("role")) or "",
        duration_ms(op.get("timeout")),
    )


# ---------------------------------------------------------------------------
# readers


def nvpairs(element, block=None):
    """name -> value of the nvpairs of ``element``, or of every ``block`` child of it
    (e.g. ``"meta_attributes"``; later blocks win). None reads as empty."""
    values = collections.OrderedDict()
    if element is None:
        return values
    blocks = [element] if block is None else element.findall(block)
    for attrs in blocks:
        for nvpair in attrs.findall("nvpair"):
            name = nvpair.get("name")
            if name is not None:
                values[name] = nvpair.get("value", "")
    return values


def find_element(parent, tag, rid):
    """The first ``tag`` element with id ``rid`` anywhere below ``parent``, or None."""
    if parent is None:
        return None
    for el in parent.iter(tag):
        if el.get("id") == rid:
            return el
    return None


def find_resource(cib, tag, rid):
    """The resource element (``primitive``, ``clone``, ...) with id ``rid``, or None."""
    return find_element(cib.find("./configuration/resources"), tag, rid)


def read_primitive(cib, rid):
    """A primitive as {"agent", "instance", "meta", "ops": [{name, interval, timeout, role, id}]} or None."""
    el = find_resource(cib, "primitive", rid)
    if el is None:
        return None
    provider = el.get("provider")
    agent = ":".join(p for p in (el.get("class"), provider, el.get("type")) if p)
    ops = []
    for op in el.findall("./operations/op"):
        ops.append({k: op.get(k) for k in ("id", "name", "interval", "timeout", "role") if op.get(k) is not None})
    return {
        "agent": agent,
        "instance": nvpairs(el, "instance_attributes"),
        "meta": nvpairs(el, "meta_attributes"),
        "ops": ops,
    }


def read_clone(cib, rid):
    """(meta attributes, id of the primitive inside) of clone ``rid``, or None."""
    el = find_resource(cib, "clone", rid)
    if el is None:
        return None
    child = el.find("primitive")
    return nvpairs(el, "meta_attributes"), (child.get("id") if child is not None else None)


def read_cluster_properties(cib, set_id=BOOTSTRAP_SET):
    """Cluster properties of one crm_config cluster_property_set (name -> value)."""
    prop_set = cib.find(f"./configuration/crm_config/cluster_property_set[@id='{set_id}']")
    return nvpairs(prop_set)


def node_names(cib):
    return [n.get("uname") for n in cib.findall("./configuration/nodes/node") if n.get("uname")]


def constraint_element(cib, cid):
    """The constraint element with id ``cid``, or None."""
    constraints = cib.find("./configuration/constraints")
    if constraints is None:
        return None
    for el in constraints:
        if el.get("id") == cid:
            return el
    return None


def read_constraint(cib, cid):
    """Constraint ``cid`` as a dict with its ``tag`` and normalised attributes, or None.

    Colocation: rsc, with-rsc, score, rsc-role, with-rsc-role; order: first,
    first-action, then, then-action, kind, symmetrical (Pacemaker's defaults
    filled in); location: rsc and node + score, or ``rule`` = (role, score,
    attribute, operation, value) for a rule with one expression
    (``"unsupported"`` for other rules).
    """
    el = constraint_element(cib, cid)
    if el is None:
        return None
    out = {"tag": el.tag}
    if el.tag == "rsc_colocation":
        out.update(
            {
                "rsc": el.get("rsc"),
                "with-rsc": el.get("with-rsc"),
                "score": normalize_score(el.get("score")),
                "rsc-role": normalize_role(el.get("rsc-role", "Started")),
                "with-rsc-role": normalize_role(el.get("with-rsc-role", "Started")),
            }
        )
    elif el.tag == "rsc_order":
        out.update(
            {
                "first": el.get("first"),
                "first-action": el.get("first-action", "start"),
                "then": el.get("then"),
                "then-action": el.get("then-action", el.get("first-action", "start")),
                "kind": el.get("kind", "Mandatory"),
                "symmetrical": el.get("symmetrical", "true"),
            }
        )
    elif el.tag == "rsc_location":
        out["rsc"] = el.get("rsc")
        rules = el.findall("rule")
        if len(rules) == 1 and len(rules[0].findall("expression")) == 1 and el.get("node") is None:
            rule = rules[0]
            expr = rule.find("expression")
            out["rule"] = (
                normalize_role(rule.get("role")),
                normalize_score(rule.get("score")),
                expr.get("attribute"),
                expr.get("operation"),
                expr.get("value"),
            )
        elif rules:
            out["rule"] = "unsupported"
        else:
            out["node"] = el.get("node")
            out["score"] = normalize_score(el.get("score"))
    return out


def read_location_constraints(cib, rsc=None):
    """Simple (node + score, no rule) location constraints, optionally for one resource."""
    found = []
    for loc in cib.findall("./configuration/constraints/rsc_location"):
        if loc.get("node") is None or loc.get("score") is None:
            continue  # rule based or score-attribute: not ours
        if rsc is not None and loc.get("rsc") != rsc:
            continue
        found.append(LocationConstraint(loc.get("id"), loc.get("rsc"), loc.get("node"), loc.get("score")))
    return found


def render_pairs(pairs, mask=(), changed=()):
    """``name=value`` lines (sorted, for diffs); values of names in ``mask`` are masked."""
    lines = []
    for name in sorted(pairs):
        value = pairs[name]
        if name in mask:
            value = MASK + (" (changed)" if name in changed else "")
        lines.append(f"{name}={value}")
    return lines


def element_xml(el):
    """Indented XML text of one element (for diffs); whitespace of the source is dropped."""
    el = copy.deepcopy(el)
    for sub in el.iter():
        sub.tail = None
        if len(sub):
            sub.text = None
    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(el)
    return ET.tostring(el, encoding="unicode").strip()


# ---------------------------------------------------------------------------
# the transaction


def logical_command(cmd):
    """A pcs command as shown to users: without ``-f TEMPFILE``."""
    if len(cmd) > 2 and cmd[0] == "pcs" and cmd[1] == "-f":
        return ["pcs"] + list(cmd[3:])
    return list(cmd)


def _refuses(line):
    """A line of crm_verify's that stops a change: anything but a warning and the summary of warnings
    (Pacemaker 3 calls a CIB with only warnings, such as the deprecated Master role, "invalid (with
    warnings)"; its schema errors come on lines of their own without an "error:" prefix)."""
    text = line.strip()
    return bool(text) and not text.lower().startswith("warning:") and text != "Configuration invalid (with warnings)"


class CibTransaction:
    """A copy of the CIB changed with ``pcs -f`` or in Python, and pushed once as a diff.

    Use as a context manager: entering runs ``cibadmin --query`` into a
    temporary ORIGINAL and COPY; ``pcs(*args)`` runs ``pcs -f COPY ARGS``;
    ``write(cib)`` replaces COPY with an Element changed in Python (see
    :mod:`.vm_edits`) and ``verify()`` has ``crm_verify --xml-file COPY`` judge
    it; ``push()`` runs ``pcs cluster cib-push COPY diff-against=ORIGINAL``
    against the cluster (or the runner's CIB file): pcs sends only the
    difference (``crm_diff``, ``cibadmin --patch``), which the CIB manager
    checks against the schema. ``commands`` lists the logical pcs commands
    run on the copy. Check mode: do everything but the push, so the diff is
    exact.
    """

    def __init__(self, runner):
        self.runner = runner
        self.tmpdir = None
        self.original = None
        self.copy = None
        self.commands = []
        self.pushed = False

    def __enter__(self):
        self.tmpdir = tempfile.mkdtemp(prefix="vmpair-cib-")
        self.original = os.path.join(self.tmpdir, "original.xml")
        self.copy = os.path.join(self.tmpdir, "new.xml")
        xml = self.runner.run(["cibadmin", "--query"]).stdout
        for path in (self.original, self.copy):
            with open(path, "w") as f:
                f.write(xml)
        self.file_runner = CommandRunner(
            self.runner.module, cib_file=self.copy, secrets=self.runner.secrets, redact=self.runner.redact
        )
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return False

    def cib(self, which="copy"):
        return parse_cib_file(self.copy if which == "copy" else self.original)

    def write(self, cib):
        """Make COPY the Element ``cib`` (a CIB read with :meth:`cib` and changed in Python)."""
        with open(self.copy, "w") as f:
            f.write(ET.tostring(cib, encoding="unicode"))

    def verify(self):
        """Raise CommandError when ``crm_verify`` finds in COPY an error that ORIGINAL does not have.

        A CIB may hold problems of its own before the change (no fence device yet with
        ``stonith-enabled=true``, a foreign resource): those do not stop the change, new ones do.
        """
        copy = self.runner.run(["crm_verify", "--verbose", "--xml-file", self.copy], check_rc=False)
        if copy.rc == 0:
            return
        original = self.runner.run(["crm_verify", "--verbose", "--xml-file", self.original], check_rc=False)
        known = set((original.stdout + original.stderr).splitlines()) if original.rc != 0 else set()
        new = [line for line in (copy.stdout + copy.stderr).splitlines() if line not in known]
        if any(_refuses(line) for line in new):
            detail = "\n".join(new).strip()
            raise CommandError(
                f"crm_verify refused the changed CIB (rc={copy.rc}), nothing was pushed: {detail}",
                cmd=["crm_verify", "--verbose", "--xml-file", self.copy],
                rc=copy.rc,
                stdout=copy.stdout,
                stderr=copy.stderr,
            )

    def pcs(self, *args):
        cmd = pcs_cmd(self.file_runner, *args)
        self.file_runner.run(cmd)
        self.commands.append(logical_command(cmd))

    def run_all(self, commands):
        """Run commands built with :func:`pcs_cmd` against this transaction's file runner."""
        for cmd in commands:
            self.file_runner.run(cmd)
            self.commands.append(logical_command(cmd))

    def push(self):
        self.runner.run(pcs_cmd(self.runner, "cluster", "cib-push", self.copy, f"diff-against={self.original}"))
        self.pushed = True

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one place that reads the CIB and changes the cluster through pcs.

Shape of every ``ensure_*`` function: read the current state from the CIB
(``cibadmin --query``, parsed with xml.etree), compute what must change,
then - unless in check mode - run the pcs commands. Each returns a
:class:`Result` with ``changed``, the ``commands`` that were (or would be)
run and a ``diff`` with before/after text. Secrets never appear in any of
them.

All commands go through a :class:`~.runner.CommandRunner`. When the runner
has a ``cib_file``, pcs is called as ``pcs -f FILE``: pcs 0.11 does not pass
the ``CIB_file`` environment variable on to the tools it runs itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.runner import (
    MASK,
    CommandError,
)

BOOTSTRAP_SET = "cib-bootstrap-options"
FENCE_AGENT_PACKAGE = "fence-agents"
_SECRET_NAME = re.compile(r"passw|secret|key", re.IGNORECASE)
_MINUS_INFINITY = ("-INFINITY", "-infinity", "-inf")

StonithDevice = collections.namedtuple("StonithDevice", ["name", "agent", "options", "meta"])
LocationConstraint = collections.namedtuple("LocationConstraint", ["id", "rsc", "node", "score"])


class PcsError(Exception):
    """A problem found before running any command (bad input, unexpected CIB)."""


class AgentNotFound(PcsError):
    """The fence agent is not installed on this host."""

    def __init__(self, agent, detail=""):
        self.agent = agent
        self.package = FENCE_AGENT_PACKAGE
        msg = (
            f"fence agent {agent} is not installed on this host (Pacemaker cannot read its metadata); "
            f"install the package that provides it, e.g. 'apt-get install {FENCE_AGENT_PACKAGE}'"
        )
        if detail:
            msg = f"{msg}. {detail.strip()}"
        super().__init__(msg)


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
# commands and reading the CIB


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


def verify_cib(runner):
    """Run crm_verify on the CIB file or the live CIB; raise CommandError on problems."""
    if runner.cib_file:
        return runner.run(["crm_verify", "--xml-file", runner.cib_file])
    return runner.run(["crm_verify", "--live-check"])


def _nvpairs(element):
    values = collections.OrderedDict()
    if element is None:
        return values
    for nvpair in element.findall("nvpair"):
        name = nvpair.get("name")
        if name is not None:
            values[name] = nvpair.get("value", "")
    return values


def read_cluster_properties(cib, set_id=BOOTSTRAP_SET):
    """Cluster properties of one crm_config cluster_property_set (name -> value)."""
    prop_set = cib.find(f"./configuration/crm_config/cluster_property_set[@id='{set_id}']")
    return _nvpairs(prop_set)


def read_stonith(cib, name):
    """The stonith primitive ``name`` as a StonithDevice, or None if absent."""
    resources = cib.find("./configuration/resources")
    if resources is None:
        return None
    for primitive in resources.iter("primitive"):
        if primitive.get("id") != name:
            continue
        if primitive.get("class") != "stonith":
            raise PcsError(
                "resource {} exists but is a {}:{} resource, not a stonith device".format(
                    name, primitive.get("class"), primitive.get("type")
                )
            )
        return StonithDevice(
            name=name,
            agent=primitive.get("type"),
            options=dict(_nvpairs(primitive.find("instance_attributes"))),
            meta=dict(_nvpairs(primitive.find("meta_attributes"))),
        )
    return None


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


def normalize_value(value):
    """Values as Pacemaker stores them: True -> "true", 5 -> "5"; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        raise PcsError(f"values must be single strings, numbers or booleans, not a {type(value).__name__}")
    return str(value)


def _render_pairs(pairs, mask=(), changed=()):
    lines = []
    for name in sorted(pairs):
        value = pairs[name]
        if name in mask:
            value = MASK + (" (changed)" if name in changed else "")
        lines.append(f"{name}={value}")
    return lines


# ---------------------------------------------------------------------------
# cluster properties


def cluster_property_commands(runner, to_set, to_unset=()):
    """One ``pcs property set`` for everything; ``name=`` removes a property."""
    args = [f"{name}={value}" for name, value in to_set.items()]
    args += [f"{name}=" for name in to_unset]
    if not args:
        return []
    return [pcs_cmd(runner, "property", "set", *args)]


def ensure_cluster_properties(runner, properties, check_mode=False):
    """Make the cib-bootstrap-options properties match ``properties``.

    ``properties`` maps name -> value; a value of None removes the property.
    Properties not named are left alone.
    """
    current = read_cluster_properties(read_cib(runner))
    to_set = collections.OrderedDict()
    to_unset = []
    for name in sorted(properties):
        value = normalize_value(properties[name])
        if value is None:
            if name in current:
                to_unset.append(name)
        elif current.get(name) != value:
            to_set[name] = value

    after = dict(current)
    after.update(to_set)
    for name in to_unset:
        after.pop(name, None)

    commands = cluster_property_commands(runner, to_set, to_unset)
    for cmd in commands:
        if not check_mode:
            runner.run(cmd)
    if commands and not check_mode:
        after = read_cluster_properties(read_cib(runner))

    return Result(
        changed=bool(commands),
        commands=[runner.mask_cmd(c) for c in commands],
        before="\n".join(_render_pairs(current)) + ("\n" if current else ""),
        after="\n".join(_render_pairs(after)) + ("\n" if after else ""),
        properties=dict(after),
    )


# ---------------------------------------------------------------------------
# fence devices


def agent_parameters(runner, agent):
    """Parameter name -> content type from the agent's metadata.

    Raises AgentNotFound when Pacemaker cannot run the agent.
    """
    try:
        result = runner.run(["crm_resource", "--show-metadata", f"stonith:{agent}"])
    except CommandError as exc:
        raise AgentNotFound(agent, exc.stderr) from exc
    try:
        root = ET.fromstring(result.stdout)
    except ET.ParseError as exc:
        raise AgentNotFound(agent, "its metadata is not valid XML") from exc
    params = {}
    for param in root.iter("parameter"):
        content = param.find("content")
        params[param.get("name")] = content.get("type", "string") if content is not None else "string"
    return params


def is_secret_option(name, param_type=None):
    """Passwords and the like: metadata type password, or a name with passw/secret/key."""
    return param_type == "password" or bool(_SECRET_NAME.search(name))


def secret_option_names(names, param_types=None):
    param_types = param_types or {}
    return {n for n in names if is_secret_option(n, param_types.get(n))}


def redactor(secret_names):
    """A callable masking ``NAME=value`` arguments of secret options in a command."""
    secret_names = set(secret_names)

    def redact(cmd):
        out = []
        for arg in cmd:
            name, sep, value = arg.partition("=")
            if sep and value and name in secret_names:
                arg = f"{name}={MASK}"
            out.append(arg)
        return out

    return redact


def desired_fence_options(options=None, host=None, delay=None):
    """Instance attributes wanted on the device: ``options`` plus host and delay."""
    wanted = {}
    for name, value in (options or {}).items():
        value = normalize_value(value)
        if value is not None:
            wanted[name] = value
    if host is not None:
        if wanted.get("pcmk_host_list", host) != host:
            raise PcsError("host={} conflicts with options.pcmk_host_list={}".format(host, wanted["pcmk_host_list"]))
        wanted["pcmk_host_list"] = host
    if delay is not None:
        if int(delay) < 0:
            raise PcsError(f"delay must be >= 0, got {delay}")
        value = f"{int(delay)}s"
        if wanted.get("pcmk_delay_base", value) != value:
            raise PcsError(
                "delay={} conflicts with options.pcmk_delay_base={}".format(delay, wanted["pcmk_delay_base"])
            )
        wanted["pcmk_delay_base"] = value
    return wanted


def avoids_constraint_id(name, node):
    """The id pcs 0.11 gives to ``pcs constraint location NAME avoids NODE``."""
    return f"location-{name}-{node}--INFINITY"


def _plan_constraints(name, host, constraints):
    """(node to add an avoids constraint for or None, ids of stale constraints we created)."""
    if host is None:
        return None, []
    bans = [c for c in constraints if c.rsc == name and c.score in _MINUS_INFINITY]
    add = None if any(c.node == host for c in bans) else host
    stale = [c.id for c in bans if c.node != host and c.id == avoids_constraint_id(name, c.node)]
    return add, stale


def fence_device_commands(runner, name, agent, current, options, meta, host=None, constraints=()):
    """The pcs commands turning ``current`` (StonithDevice or None) into the wanted device.

    ``options`` is the full wanted instance attribute set; ``meta`` only names
    the meta attributes to manage (None value: remove). With ``host``, an
    avoids constraint keeps the device off that node, and avoids constraints
    this code created earlier for other nodes are deleted.
    """
    commands = []
    recreate = current is not None and current.agent != agent
    add_avoid, stale_ids = _plan_constraints(name, host, constraints)
    if recreate:
        # pcs cannot change the agent of a device; delete also drops its constraints
        commands.append(pcs_cmd(runner, "stonith", "delete", name))
        add_avoid, stale_ids = host, []
    if current is None or recreate:
        args = [f"{k}={options[k]}" for k in sorted(options)]
        meta_args = [f"{k}={meta[k]}" for k in sorted(meta) if meta[k] is not None]
        if meta_args:
            args += ["meta"] + meta_args
        commands.append(pcs_cmd(runner, "stonith", "create", name, agent, *args))
    else:
        args = [f"{k}={options[k]}" for k in sorted(options) if current.options.get(k) != options[k]]
        args += [f"{k}=" for k in sorted(current.options) if k not in options]
        meta_args = []
        for key in sorted(meta):
            if meta[key] is None:
                if key in current.meta:
                    meta_args.append(f"{key}=")
            elif current.meta.get(key) != meta[key]:
                meta_args.append(f"{key}={meta[key]}")
        if meta_args:
            args += ["meta"] + meta_args
        if args:
            commands.append(pcs_cmd(runner, "stonith", "update", name, *args))
    if add_avoid is not None:
        commands.append(pcs_cmd(runner, "constraint", "location", name, "avoids", add_avoid))
    for cid in stale_ids:
        commands.append(pcs_cmd(runner, "constraint", "delete", cid))
    return commands


def render_fence_device(device, avoids=(), secret_names=(), changed_secrets=()):
    """Text for diffs; secret values are masked."""
    if device is None:
        return ""
    lines = [f"stonith {device.name} (agent {device.agent})"]
    lines += [f"  {line}" for line in _render_pairs(device.options, secret_names, changed_secrets)]
    if device.meta:
        lines.append("  meta")
        lines += [f"    {line}" for line in _render_pairs(device.meta)]
    for node in sorted(avoids):
        lines.append(f"  avoids {node}")
    return "\n".join(lines) + "\n"


def _banned_nodes(name, constraints):
    return [c.node for c in constraints if c.rsc == name and c.score in _MINUS_INFINITY]


def ensure_fence_device(
    runner,
    name,
    agent=None,
    options=None,
    meta=None,
    host=None,
    delay=None,
    state="present",
    check_mode=False,
):
    """Create, update or delete the stonith device ``name``.

    ``options`` are the agent's options (the complete set: options present on
    the device but not given are removed). ``host`` is the node the device
    fences: it sets ``pcmk_host_list`` and keeps the device off that node with
    an avoids location constraint. ``delay`` (seconds) sets ``pcmk_delay_base``.
    ``meta`` attributes given are set (None removes one); others are kept.
    Secret option values are masked in the result and in errors.
    """
    if state not in ("present", "absent"):
        raise PcsError(f"state must be present or absent, not {state}")
    meta = {k: normalize_value(v) for k, v in (meta or {}).items()}
    cib = read_cib(runner)
    current = read_stonith(cib, name)
    constraints = read_location_constraints(cib, name)

    param_types = {}
    wanted_options = {}
    if state == "present":
        if not agent:
            raise PcsError("agent is required when state is present")
        param_types = agent_parameters(runner, agent)
        wanted_options = desired_fence_options(options, host, delay)

    names = set(wanted_options) | set(current.options if current else ())
    secrets = secret_option_names(names, param_types)
    runner.redact = redactor(secrets)
    runner.add_secrets(wanted_options[n] for n in secrets if n in wanted_options)
    runner.add_secrets(current.options[n] for n in secrets if current and n in current.options)

    before = render_fence_device(current, _banned_nodes(name, constraints), secrets)

    if state == "absent":
        commands = [pcs_cmd(runner, "stonith", "delete", name)] if current is not None else []
        predicted = None
        predicted_bans = []
    else:
        commands = fence_device_commands(runner, name, agent, current, wanted_options, meta, host, constraints)
        recreate = current is not None and current.agent != agent
        kept_meta = {} if current is None or recreate else dict(current.meta)
        for key, value in meta.items():
            if value is None:
                kept_meta.pop(key, None)
            else:
                kept_meta[key] = value
        predicted = StonithDevice(name, agent, wanted_options, kept_meta)
        if recreate:
            predicted_bans = {host} if host is not None else set()
        else:
            add_avoid, stale = _plan_constraints(name, host, constraints)
            predicted_bans = {c.node for c in constraints if c.score in _MINUS_INFINITY and c.id not in stale}
            if add_avoid is not None:
                predicted_bans.add(add_avoid)

    changed_secrets = {n for n in secrets if current is not None and current.options.get(n) != wanted_options.get(n)}

    if commands and not check_mode:
        for cmd in commands:
            runner.run(cmd)
        cib = read_cib(runner)
        predicted = read_stonith(cib, name)
        predicted_bans = _banned_nodes(name, read_location_constraints(cib, name))

    return Result(
        changed=bool(commands),
        commands=[runner.mask_cmd(c) for c in commands],
        before=before,
        after=render_fence_device(predicted, predicted_bans, secrets, changed_secrets),
        secret_options=sorted(secrets),
    )

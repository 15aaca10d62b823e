# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stonith (fence) devices, created, updated and deleted through pcs.

:func:`ensure_fence_device` reads the device and its avoids location
constraints from the CIB, compares them with the wanted agent, options,
meta attributes, fenced host and delay, and applies the pcs commands that
differ in ONE CIB transaction (unless in check mode): the device never
exists in the cluster without its avoids constraint. Option values are masked in commands, diffs and
errors unless the option is a known non-secret one (:data:`PLAIN_OPTIONS`): an allow-list, because
agents keep secrets under names that look harmless (an IPMI Kg key is ``hexadecimal_kg``, an SNMP
community string ``community``).

With a password file (:func:`password_file_options`) the device gets no password at all: its
``password``/``passwd`` option is replaced by ``password_script=/bin/cat FILE`` (fence-agents' own
option: the agent runs the script and takes its output as the password), so the CIB, which every
``haclient`` member and every pe-input file can read, holds only the file's path. The file is
written by the caller on the node that runs the device; :func:`check_password_file` refuses one
that is missing or readable by others.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os
import re
import stat
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK, CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    MINUS_INFINITY,
    CibTransaction,
    PcsError,
    Result,
    find_resource,
    logical_command,
    normalize_value,
    nvpairs,
    pcs_cmd,
    read_cib,
    read_location_constraints,
    render_pairs,
)

FENCE_AGENT_PACKAGE = "fence-agents"

# Debian 12 ships every fence agent in one package, fence-agents. Debian 13 splits them: a package
# per agent, fence-agents-<name> (fence_apc_snmp: fence-agents-apc-snmp), and fence-agents became a
# metapackage of all of them (fence-agents-all, about 650 packages with their dependencies). The
# agents whose Debian 13 package is named otherwise (read from trixie's packages):
_DEBIAN13_AGENT_PACKAGES = {
    "fence_tripplite_snmp": "fence-agents-apc-snmp",
    "fence_evacuate": "fence-agents-compute",
    "fence_epsr2": "fence-agents-eps",
    "fence_ilo3_ssh": "fence-agents-ilo-ssh",
    "fence_ilo4_ssh": "fence-agents-ilo-ssh",
    "fence_ilo5_ssh": "fence-agents-ilo-ssh",
    "fence_ilo": "fence-agents-ilo2",
    "fence_idrac": "fence-agents-ipmilan",
    "fence_ilo3": "fence-agents-ipmilan",
    "fence_ilo4": "fence-agents-ipmilan",
    "fence_ilo5": "fence-agents-ipmilan",
    "fence_imm": "fence-agents-ipmilan",
    "fence_ipmilanplus": "fence-agents-ipmilan",
    "fence_lindypdu": "fence-agents-lindy-pdu",
    "fence_virt": "fence-virt",
    "fence_xvm": "fence-virt",
}


# Pacemaker's own agents, in its package on both releases.
_PACEMAKER_AGENTS = {"fence_legacy", vocabulary.WATCHDOG_AGENT}


def agent_package(agent, debian_major):
    """The Debian package that provides fence agent ``agent`` on Debian ``debian_major`` (12 or 13)."""
    if agent in _PACEMAKER_AGENTS:
        return "pacemaker"
    if int(debian_major) < 13:
        return FENCE_AGENT_PACKAGE
    if agent in _DEBIAN13_AGENT_PACKAGES:
        return _DEBIAN13_AGENT_PACKAGES[agent]
    name = agent[len("fence_") :] if agent.startswith("fence_") else agent
    return "fence-agents-" + name.replace("_", "-")


def agent_packages(agents, debian_major):
    """The packages that provide ``agents`` on Debian ``debian_major``: sorted, each once."""
    return sorted({agent_package(agent, debian_major) for agent in agents})


# Pacemaker's own device options (pacemaker-fenced metadata): host selection, delays, action overrides.
_PCMK_OPTIONS = {
    "pcmk_host_argument",
    "pcmk_host_map",
    "pcmk_host_list",
    "pcmk_host_check",
    "pcmk_delay_max",
    "pcmk_delay_base",
    "pcmk_action_limit",
} | {
    f"pcmk_{action}_{what}"
    for action in ("reboot", "off", "on", "list", "monitor", "status")
    for what in ("action", "timeout", "retries")
}

# Fence agent options (fence-agents' metadata) whose values are not secret: addresses, user names,
# protocol switches, paths of tools, timeouts. Their values are shown; every other option's value is
# masked like a password. Passwords, password scripts, IPMI Kg keys (hexadecimal_kg), SNMP communities
# and privacy passwords, API keys and tokens are deliberately absent, and so is any option not listed.
PLAIN_OPTIONS = frozenset(
    _PCMK_OPTIONS
    | {
        # where and as whom
        "action",
        "ip",
        "ipaddr",
        "ipport",
        "username",
        "login",
        "plug",
        "port",
        "port_as_ip",
        "plug_separator",
        "separator",
        "target",
        "switch",
        "nodename",
        # transport
        "ssl",
        "ssl_insecure",
        "ssl_secure",
        "notls",
        "tls1.0",
        "secure",
        "ssh",
        "ssh_options",
        "identity_file",
        "inet4_only",
        "inet6_only",
        "cmd_prompt",
        "command_prompt",
        # IPMI, Redfish, SNMP settings (not their keys, passwords or communities)
        "lanplus",
        "auth",
        "cipher",
        "privlvl",
        "method",
        "systems_uri",
        "systems-uri",
        "redfish_uri",
        "redfish-uri",
        "ribcl",
        "snmp_version",
        "snmp_auth_prot",
        "snmp_sec_level",
        "snmp_priv_prot",
        # timing and retries
        "delay",
        "disable_timeout",
        "login_timeout",
        "power_timeout",
        "power_wait",
        "shell_timeout",
        "stonith_status_sleep",
        "ipmitool_timeout",
        "retry_on",
        "missing_as_off",
        # logging
        "quiet",
        "verbose",
        "verbose_level",
        "debug",
        "debug_file",
        # helper programs
        "sudo",
        "use_sudo",
        "sudo_path",
        "ssh_path",
        "telnet_path",
        "ipmitool_path",
        "gnutlscli_path",
        "snmpget_path",
        "snmpset_path",
        "snmpwalk_path",
        # fence_dummy (tests)
        "type",
        "status_file",
        "random_sleep_range",
    }
)

# The agent's password options (fence-agents: ``password``, deprecated ``passwd``) and the options that
# name a program printing the password instead.
PASSWORD_OPTIONS = ("password", "passwd")
PASSWORD_SCRIPT_OPTIONS = ("password_script", "passwd_script")
PASSWORD_SCRIPT = "password_script"
# fence-agents run password_script through a shell (os.popen): the path must need no quoting.
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+/-]+$")

StonithDevice = collections.namedtuple("StonithDevice", ["name", "agent", "options", "meta"])


class AgentNotFound(PcsError):
    """The fence agent is not installed on this host."""

    def __init__(self, agent, detail=""):
        self.agent = agent
        msg = (
            f"fence agent {agent} is not installed on this host (Pacemaker cannot read its metadata); "
            f"install the package that provides it: on Debian 12 'apt-get install {agent_package(agent, 12)}', "
            f"on Debian 13 'apt-get install {agent_package(agent, 13)}'"
        )
        if detail:
            msg = f"{msg}. {detail.strip()}"
        super().__init__(msg)


# ---------------------------------------------------------------------------
# reading


def read_stonith(cib, name):
    """The stonith primitive ``name`` as a StonithDevice, or None if absent."""
    primitive = find_resource(cib, "primitive", name)
    if primitive is None:
        return None
    if primitive.get("class") != "stonith":
        raise PcsError(
            "resource {} exists but is a {}:{} resource, not a stonith device".format(
                name, primitive.get("class"), primitive.get("type")
            )
        )
    return StonithDevice(
        name=name,
        agent=primitive.get("type"),
        options=dict(nvpairs(primitive.find("instance_attributes"))),
        meta=dict(nvpairs(primitive.find("meta_attributes"))),
    )


# ---------------------------------------------------------------------------
# changing


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
    """Whether the value of option ``name`` is masked: any option not in :data:`PLAIN_OPTIONS`, and
    any whose metadata type is ``password``."""
    return param_type == "password" or name not in PLAIN_OPTIONS


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


def password_script_for(password_file):
    """The ``password_script`` value that makes the agent read its password from ``password_file``."""
    return f"/bin/cat {password_file}"


def check_password_file(path):
    """Refuse a password file that the agent cannot use or that others could read or change.

    It must be an absolute path without characters a shell would interpret, and a non-empty regular
    file owned by root with mode 0600.
    """
    node = os.uname()[1]
    if not _SAFE_PATH.match(path or ""):
        raise PcsError(
            f"password_file {path!r} must be an absolute path of letters, digits and . _ + - / only "
            "(fence agents run the password_script through a shell); choose such a path"
        )
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise PcsError(
            f"password_file {path} does not exist on {node}: write the fence password into it (owner root, "
            "mode 0600) on the node that runs the device, before the device is configured; the "
            "duplex.vmpair.cluster role does so on the peer of the fenced node"
        ) from exc
    except OSError as exc:
        raise PcsError(f"password_file {path} on {node}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise PcsError(
            f"password_file {path} on {node} is not a regular file: replace it with one (owner root, mode 0600)"
        )
    problems = []
    if st.st_uid != 0:
        problems.append(f"owned by uid {st.st_uid}, not root")
    mode = stat.S_IMODE(st.st_mode)
    if mode != 0o600:
        problems.append(f"mode {mode:04o}, not 0600")
    if problems:
        raise PcsError(
            f"password_file {path} on {node} is {' and '.join(problems)}: others could read or change the fence "
            f"password; fix it with 'chown root:root {path} && chmod 0600 {path}'"
        )
    if st.st_size == 0:
        raise PcsError(
            f"password_file {path} on {node} is empty: write the fence password into it (owner root, mode 0600)"
        )


def password_file_options(options, password_file):
    """``options`` with the password option replaced by ``password_script=/bin/cat PASSWORD_FILE``.

    The password itself (``password`` or ``passwd``) is dropped: it lives in the file only. A
    password script given in ``options`` as well is a conflict.
    """
    for name in PASSWORD_SCRIPT_OPTIONS:
        if name in options:
            raise PcsError(
                f"options.{name} conflicts with password_file (which sets {PASSWORD_SCRIPT}): give one of them"
            )
    wanted = {k: v for k, v in options.items() if k not in PASSWORD_OPTIONS}
    wanted[PASSWORD_SCRIPT] = password_script_for(password_file)
    return wanted


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
    bans = [c for c in constraints if c.rsc == name and c.score in MINUS_INFINITY]
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
    lines += [f"  {line}" for line in render_pairs(device.options, secret_names, changed_secrets)]
    if device.meta:
        lines.append("  meta")
        lines += [f"    {line}" for line in render_pairs(device.meta)]
    for node in sorted(avoids):
        lines.append(f"  avoids {node}")
    return "\n".join(lines) + "\n"


def _banned_nodes(name, constraints):
    return [c.node for c in constraints if c.rsc == name and c.score in MINUS_INFINITY]


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
    password_file=None,
):
    """Create, update or delete the stonith device ``name``.

    ``options`` are the agent's options (the complete set: options present on
    the device but not given are removed). ``host`` is the node the device
    fences: it sets ``pcmk_host_list`` and keeps the device off that node with
    an avoids location constraint. ``delay`` (seconds) sets ``pcmk_delay_base``.
    ``meta`` attributes given are set (None removes one); others are kept.
    Secret option values are masked in the result and in errors. With
    ``password_file`` (checked with :func:`check_password_file`, in check mode
    too) the device reads its password from that file through
    ``password_script`` and the CIB holds no password.
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
        if password_file is not None:
            check_password_file(password_file)
            given = wanted_options
            wanted_options = password_file_options(wanted_options, password_file)
            # the password given is not written, but stays masked wherever it could show
            runner.add_secrets(given[n] for n in PASSWORD_OPTIONS if n in given)

    names = set(wanted_options) | set(current.options if current else ())
    secrets = secret_option_names(names, param_types)
    if password_file is not None and (
        current is None or current.options.get(PASSWORD_SCRIPT) in (None, wanted_options[PASSWORD_SCRIPT])
    ):
        # our own script only names the file: show it (another one, being replaced, stays masked)
        secrets.discard(PASSWORD_SCRIPT)
    runner.redact = redactor(secrets)
    runner.add_secrets(wanted_options[n] for n in secrets if n in wanted_options)
    runner.add_secrets(current.options[n] for n in secrets if current and n in current.options)

    before = render_fence_device(current, _banned_nodes(name, constraints), secrets)

    def commands_for(target):
        """The commands, as ``pcs -f FILE`` when ``target`` (a runner) works on a file."""
        if state == "absent":
            return [pcs_cmd(target, "stonith", "delete", name)] if current is not None else []
        return fence_device_commands(target, name, agent, current, wanted_options, meta, host, constraints)

    commands = commands_for(runner)
    if state == "absent":
        predicted = None
        predicted_bans = []
    else:
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
            predicted_bans = {c.node for c in constraints if c.score in MINUS_INFINITY and c.id not in stale}
            if add_avoid is not None:
                predicted_bans.add(add_avoid)

    changed_secrets = {n for n in secrets if current is not None and current.options.get(n) != wanted_options.get(n)}

    shown = [runner.mask_cmd(logical_command(c)) for c in commands]
    if commands and not check_mode:
        # One push: the device and its avoids constraint reach the cluster together. Created one by
        # one, Pacemaker could start the new device on the very node it fences before the constraint
        # exists, and that failed start stays in the resource history.
        with CibTransaction(runner) as tx:
            tx.run_all(commands_for(tx.file_runner))
            tx.push()
        cib = read_cib(runner)
        predicted = read_stonith(cib, name)
        predicted_bans = _banned_nodes(name, read_location_constraints(cib, name))

    return Result(
        changed=bool(commands),
        commands=shown,
        before=before,
        after=render_fence_device(predicted, predicted_bans, secrets, changed_secrets),
        secret_options=sorted(secrets),
    )

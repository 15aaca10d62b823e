# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fencing levels (the CIB's fencing-topology) and the watchdog (diskless SBD) device.

:func:`ensure_fence_topology` makes the fencing levels of the nodes it is given exactly the wanted
lists (level 1 first; a level is one or more stonith device ids, all of which must succeed), and
keeps the watchdog device and the ``stonith-watchdog-timeout`` cluster property in step:

* with ``watchdog`` given, a stonith resource with id ``watchdog`` and agent ``fence_watchdog``
  (the only id and agent Pacemaker's fencer accepts for watchdog fencing) fences the listed nodes
  (``pcmk_host_list``), and ``stonith-watchdog-timeout`` is set: a level naming ``watchdog`` then
  succeeds for a lost node once that many seconds have passed (the node has reset itself through
  its watchdog by then);
* with ``watchdog`` None, that device and the property are removed, after the levels that name it.

The current levels are read from the CIB XML (``configuration/fencing-topology/fencing-level``),
never from pcs's text output, which may differ between pcs releases. Levels change through
``pcs stonith level add`` / ``pcs stonith level delete N target NODE`` (pcs 0.11's keyword form,
which pcs 0.12's usage text keeps); the watchdog device through ``pcs stonith create/update/delete``.
The property is set with ``crm_attribute --type crm_config``, not ``pcs property set``: pcs refuses
``stonith-watchdog-timeout`` unless sbd.service is enabled on the host that runs pcs, which need not
be true where the CIB is prepared (an offline CIB file, or a cluster whose sbd is enabled in the
same run).

Everything runs on one copy of the CIB (:class:`.cib.CibTransaction`), checked with crm_verify and
pushed once, in this order: levels that change or go are deleted; the watchdog device is created or
updated; ``stonith-watchdog-timeout`` is set; the new levels are added; a watchdog device no longer
wanted is deleted and ``stonith-watchdog-timeout`` removed. Check mode runs the same commands on the
copy and does not push it, so the commands and the diff shown are the ones pcs accepted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.duplex.vmpair.plugins.module_utils.common import vocabulary
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    CibTransaction,
    PcsError,
    Result,
    duration_ms,
    find_resource,
    logical_command,
    node_names,
    pcs_cmd,
    read_cib,
    read_cluster_properties,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.fencing import read_stonith

WATCHDOG_TIMEOUT_PROPERTY = "stonith-watchdog-timeout"

Watchdog = collections.namedtuple("Watchdog", ["nodes", "timeout"])


# ---------------------------------------------------------------------------
# reading


def read_levels(cib):
    """target node -> {index: (device, ...)} of the CIB's fencing levels that name a node.

    Levels by node pattern (``target-pattern``) or node attribute (``target-attribute``) are not
    read: this code never makes or changes them.
    """
    levels = collections.OrderedDict()
    for level in cib.findall("./configuration/fencing-topology/fencing-level"):
        target = level.get("target")
        if not target:
            continue
        try:
            index = int(level.get("index", ""))
        except ValueError:
            continue
        devices = tuple(d for d in level.get("devices", "").split(",") if d)
        levels.setdefault(target, {})[index] = devices
    return levels


def levels_as_lists(levels):
    """{target: {index: devices}} as {target: [[device, ...], ...]} in index order."""
    return {target: [list(by_index[i]) for i in sorted(by_index)] for target, by_index in sorted(levels.items())}


def read_watchdog(cib):
    """The ``watchdog`` stonith device as a StonithDevice, or None (a non-stonith ``watchdog`` raises)."""
    return read_stonith(cib, vocabulary.WATCHDOG_DEVICE_ID)


def _host_list(device):
    return (device.options.get("pcmk_host_list") or "").replace(",", " ").split()


# ---------------------------------------------------------------------------
# checking what is asked


def _check_id(what, value):
    if not isinstance(value, str) or not value.strip():
        raise PcsError(f"{what} must be a non-empty string, got {value!r}")
    if any(c.isspace() or c == "," for c in value):
        raise PcsError(f"{what} {value!r} must not contain a comma or white space")
    return value


def normalize_levels(levels):
    """``{node: [[device, ...], ...]}`` checked, as ``{node: {1: (device, ...), 2: ...}}``."""
    if not isinstance(levels, dict):
        raise PcsError(f"levels must be a dict of node name -> list of levels, got {type(levels).__name__}")
    wanted = collections.OrderedDict()
    for node in sorted(levels):
        _check_id("a node name in levels", node)
        node_levels = levels[node] if levels[node] is not None else []
        if not isinstance(node_levels, list):
            raise PcsError(
                f"levels.{node} must be a list of levels (each a list of fence device ids), "
                f"got {type(node_levels).__name__}"
            )
        wanted[node] = {}
        for index, level in enumerate(node_levels, start=1):
            if isinstance(level, str):
                level = [level]
            if not isinstance(level, list) or not level:
                raise PcsError(
                    f"levels.{node} level {index} must be a non-empty list of fence device ids, got {level!r}"
                )
            devices = tuple(_check_id(f"levels.{node} level {index}: device id", d) for d in level)
            if len(set(devices)) != len(devices):
                raise PcsError(f"levels.{node} level {index} names a device twice: {', '.join(devices)}")
            wanted[node][index] = devices
    return wanted


def normalize_watchdog(watchdog):
    """``{stonith_watchdog_timeout, nodes}`` checked, as a :class:`Watchdog`; None stays None."""
    if watchdog is None:
        return None
    if not isinstance(watchdog, dict):
        raise PcsError(f"watchdog must be a dict with stonith_watchdog_timeout and nodes, or null, not {watchdog!r}")
    unknown = sorted(set(watchdog) - {"stonith_watchdog_timeout", "nodes"})
    if unknown:
        raise PcsError(f"watchdog has unknown keys {', '.join(unknown)}: give stonith_watchdog_timeout and nodes")
    timeout = watchdog.get("stonith_watchdog_timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise PcsError(
            "watchdog.stonith_watchdog_timeout must be a positive number of seconds, larger than "
            f"SBD_WATCHDOG_TIMEOUT in /etc/default/sbd on every node (for example 70), got {timeout!r}"
        )
    nodes = watchdog.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise PcsError(
            "watchdog.nodes must list the nodes that run sbd with a watchdog (the nodes the watchdog "
            f"device fences), got {nodes!r}"
        )
    nodes = [_check_id("watchdog.nodes: node name", n) for n in nodes]
    if len(set(nodes)) != len(nodes):
        raise PcsError(f"watchdog.nodes names a node twice: {' '.join(nodes)}")
    return Watchdog(tuple(nodes), timeout)


def _stonith_ids(cib):
    return {
        p.get("id")
        for p in cib.findall("./configuration/resources//primitive")
        if p.get("class") == "stonith" and p.get("id")
    }


def check_request(cib, wanted, watchdog, current_levels, current_watchdog):
    """Refuse, before any command, what pcs would refuse or what would leave a broken topology."""
    known_nodes = set(node_names(cib))
    devices = _stonith_ids(cib)
    wd_id = vocabulary.WATCHDOG_DEVICE_ID
    if watchdog is not None:
        devices.add(wd_id)
    elif current_watchdog is not None:
        devices.discard(wd_id)  # about to be removed
    for node, by_index in wanted.items():
        if by_index and node not in known_nodes:
            raise PcsError(
                f"levels.{node}: node {node} is not a node of the cluster (CIB nodes: "
                f"{', '.join(sorted(known_nodes)) or 'none'}); use the node names of the cluster "
                "(pcs status nodes)"
            )
        for index, level in sorted(by_index.items()):
            for device in level:
                if device in devices:
                    continue
                if device == wd_id:
                    raise PcsError(
                        f"levels.{node} level {index} names fence device {wd_id}, but watchdog is not set "
                        f"(the {wd_id} device is not made, or is removed): set watchdog "
                        "(stonith_watchdog_timeout and nodes) or drop the level"
                    )
                if find_resource(cib, "primitive", device) is not None:
                    raise PcsError(
                        f"levels.{node} level {index} names {device}, which is a resource but not a fence "
                        "(stonith) device: name a stonith device"
                    )
                raise PcsError(
                    f"levels.{node} level {index} names fence device {device}, which does not exist in the "
                    "CIB: create it first (duplex.vmpair.fence_device) or correct the id"
                )
    if watchdog is None and current_watchdog is not None:
        for target, by_index in current_levels.items():
            if target in wanted:
                continue
            for index, level in sorted(by_index.items()):
                if wd_id in level:
                    raise PcsError(
                        f"watchdog is null, so device {wd_id} is to be removed, but level {index} of node "
                        f"{target} (not given in levels) still names it: give levels.{target} without "
                        f"{wd_id}, or keep watchdog set"
                    )
    if current_watchdog is not None and current_watchdog.agent != vocabulary.WATCHDOG_AGENT:
        raise PcsError(
            f"stonith device {wd_id} exists with agent {current_watchdog.agent}, not "
            f"{vocabulary.WATCHDOG_AGENT}: Pacemaker ignores it for watchdog fencing and this module does "
            f"not replace a device it did not make; remove it (pcs stonith delete {wd_id}) and run again"
        )


# ---------------------------------------------------------------------------
# planning


def _crm_attribute(*args):
    return ["crm_attribute", "--type", "crm_config", "--name", WATCHDOG_TIMEOUT_PROPERTY] + list(args)


def plan(target, wanted, watchdog, current_levels, current_watchdog, current_timeout):
    """The commands, in order, for ``target`` (a runner: ``pcs -f FILE`` when it works on a file)."""
    removals, additions = [], []
    for node, by_index in wanted.items():
        have = current_levels.get(node, {})
        for index in sorted(have):
            if have[index] != by_index.get(index):
                removals.append(pcs_cmd(target, "stonith", "level", "delete", str(index), "target", node))
        for index in sorted(by_index):
            if have.get(index) != by_index[index]:
                additions.append(pcs_cmd(target, "stonith", "level", "add", str(index), node, *by_index[index]))

    wd_id = vocabulary.WATCHDOG_DEVICE_ID
    device, prop_set, device_delete, prop_delete = [], [], [], []
    if watchdog is not None:
        host_list = " ".join(watchdog.nodes)
        if current_watchdog is None:
            device.append(
                pcs_cmd(target, "stonith", "create", wd_id, vocabulary.WATCHDOG_AGENT, f"pcmk_host_list={host_list}")
            )
        else:
            args = []
            if sorted(_host_list(current_watchdog)) != sorted(watchdog.nodes):
                args.append(f"pcmk_host_list={host_list}")
            args += [f"{name}=" for name in sorted(current_watchdog.options) if name != "pcmk_host_list"]
            if args:
                device.append(pcs_cmd(target, "stonith", "update", wd_id, *args))
        if current_timeout is None or duration_ms(current_timeout) != watchdog.timeout * 1000:
            prop_set.append(_crm_attribute("--update", str(watchdog.timeout)))
    else:
        if current_watchdog is not None:
            device_delete.append(pcs_cmd(target, "stonith", "delete", wd_id))
        if current_timeout is not None:
            prop_delete.append(_crm_attribute("--delete"))
    return removals + device + prop_set + additions + device_delete + prop_delete


# ---------------------------------------------------------------------------
# text for diffs


def render(levels, watchdog_device, timeout):
    """The levels of every node, the watchdog device and ``stonith-watchdog-timeout`` as text."""
    lines = []
    for target, by_index in sorted(levels.items()):
        if not by_index:
            continue
        lines.append(f"fencing levels of {target}")
        lines += [f"  level {index}: {','.join(by_index[index])}" for index in sorted(by_index)]
    if watchdog_device is not None:
        lines.append(f"stonith {watchdog_device.name} (agent {watchdog_device.agent})")
        lines += [f"  {name}={watchdog_device.options[name]}" for name in sorted(watchdog_device.options)]
    if timeout is not None:
        lines.append(f"{WATCHDOG_TIMEOUT_PROPERTY}={timeout}")
    return "\n".join(lines) + "\n" if lines else ""


def _state(cib):
    levels = read_levels(cib)
    device = read_watchdog(cib)
    timeout = read_cluster_properties(cib).get(WATCHDOG_TIMEOUT_PROPERTY)
    return levels, device, timeout


# ---------------------------------------------------------------------------
# the whole change


def ensure_fence_topology(runner, levels, watchdog=None, check_mode=False):
    """Make the fencing levels of the nodes in ``levels`` exactly as given, and the watchdog device
    and ``stonith-watchdog-timeout`` as ``watchdog`` says (None: removed).

    ``levels`` maps node name -> list of levels, level 1 first, each a list of stonith device ids;
    an empty list removes all of the node's levels; nodes not named keep theirs. ``watchdog`` is
    ``{"stonith_watchdog_timeout": SECONDS, "nodes": [NODE, ...]}`` or None. Raises PcsError, before
    any command, for a device id that does not exist, a node that is not in the cluster, or a
    removal that would leave a level naming the watchdog device.
    """
    wanted = normalize_levels(levels)
    wd = normalize_watchdog(watchdog)
    cib = read_cib(runner)
    current_levels, current_device, current_timeout = _state(cib)
    check_request(cib, wanted, wd, current_levels, current_device)

    before = render(current_levels, current_device, current_timeout)
    commands = plan(runner, wanted, wd, current_levels, current_device, current_timeout)
    after_levels, after_device, after_timeout = current_levels, current_device, current_timeout
    if commands:
        with CibTransaction(runner) as tx:
            tx.run_all(plan(tx.file_runner, wanted, wd, current_levels, current_device, current_timeout))
            tx.verify()
            if check_mode:
                after_levels, after_device, after_timeout = _state(tx.cib())
            else:
                tx.push()
        if not check_mode:
            after_levels, after_device, after_timeout = _state(read_cib(runner))

    return Result(
        changed=bool(commands),
        commands=[runner.mask_cmd(logical_command(c)) for c in commands],
        before=before,
        after=render(after_levels, after_device, after_timeout),
        levels=levels_as_lists(after_levels),
    )

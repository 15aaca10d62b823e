# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Pacemaker objects of a protected VM: what is wanted and what is there.

Per protected VM ``<vm>`` (see :func:`resource_ids` for every id):

* ``drbd-<vm>`` (``ocf:linbit:drbd``, ``drbd_resource=<res>``,
  ``adjust_master_score``: see :data:`PROMOTION_SCORES`) in the promotable
  clone ``drbd-<vm>-clone`` (promoted-max=1, promoted-node-max=1, clone-max=2,
  clone-node-max=1, notify=true), monitors 29 s Promoted and 31 s Unpromoted
  (two intervals: Pacemaker needs them distinct), each with the VM's
  ``monitor_timeout`` (default 30 s, like the VM's 10 s monitor: a check that
  times out makes the cluster recover the VM, and a slow host needs longer;
  a changed timeout reschedules the monitor, it restarts nothing);
* ``vm-<vm>`` (``ocf:heartbeat:VirtualDomain``), ``allow-migrate=false``: DRBD
  is single-primary, so outside a live migration a move is stop, demote,
  promote, start. ``force_stop=false``: the agent shuts the guest down and
  destroys it only when the stop timeout is nearly over. ``resource-stickiness``
  (1000) is above the preferred-host score (100), so a VM that failed over does
  not fail back (a second outage) when its preferred host returns. The
  ``migrate_to`` (600 s) and ``migrate_from`` (120 s) operations are defined
  for live migration (an operation added to a running VM does not restart it;
  the 20 s default would turn a slow migration into a cold restart), and the
  migration goes over ssh to the target's migration name
  (``migration_transport=ssh``, ``migration_network_suffix=-vmpair``), by
  default tunnelled through that ssh connection (``migrate_options``, see
  :data:`TUNNELLED_OPTIONS`): all given at creation, on a cold move or on
  request only, see :data:`MIGRATION_PARAMS` and :func:`migration_pending`;
* ``colocation-vm-<vm>``: the VM with the Promoted role of the clone, INFINITY;
* ``order-vm-<vm>``: promote the clone, then start the VM (symmetrical, so the
  VM stops before the demote);
* ``location-vm-<vm>``: the VM prefers its preferred host (score 100); through
  the colocation the promotion follows it;
* level ``recovery`` only, ``location-drbd-<vm>-promote-only``: a rule
  ``role=Promoted score=-INFINITY #uname ne <host>``. DRBD is never promoted
  on the peer by the cluster, so the VM (colocated with the Promoted role)
  cannot start there either. Banning only the VM is not enough: Pacemaker
  would still promote the asynchronous (protocol A) peer after a host loss,
  which makes a DRBD split brain with the lost host's unreplicated writes.
  The peer still runs DRBD Unpromoted (it must replicate). Moving a recovery
  VM = running this code with the other host as ``host``: the rule and the
  preference change in one transaction and Pacemaker stops, demotes,
  promotes and starts in order (also when the old host is fenced and gone).
* while a VM is being moved (``move_to``), ``location-vm-<vm>`` puts the VM
  on ``move_to`` with score INFINITY instead, above the stickiness, so the
  cluster moves it (a preference of 100 would not move an ``ha`` VM that runs;
  and pcs keeps one location constraint per resource and node, so the move
  cannot be a constraint of its own beside a preference for the same node). With
  ``live`` as well, the clone allows two Promoted instances
  (``promoted-max=2``, DRBD's own ``allow-two-primaries`` must be on), the VM
  ``allow-migrate=true`` and a recovery VM's promote-only rule is left out, so
  Pacemaker promotes the target, then migrates the VM (``migrate_to``,
  ``migrate_from``) instead of stopping it. The same objects without
  ``move_to`` (the next call) take all of it back: the source is demoted.

:func:`desired_objects` describes them for a :class:`ProtectedVm`,
:func:`read_vm_objects` reads them from a CIB in the same shape (through the
readers of :mod:`.cib`), :func:`render_vm_objects` shows them in diffs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import (
    DEFAULT_FORCE_STOP,
    DEFAULT_HYPERVISOR,
    DEFAULT_MONITOR_TIMEOUT,
    DEFAULT_STOP_TIMEOUT,
    FT_UNAVAILABLE,
    HYPERVISOR_URIS,
    MIN_TIMEOUT,
    SERVED_LEVELS,
    cib_ids,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import (
    PcsError,
    constraint_element,
    element_xml,
    find_resource,
    read_clone,
    read_constraint,
    read_primitive,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.site.base import MIGRATION_SUFFIX

LEVELS = SERVED_LEVELS
HYPERVISORS = HYPERVISOR_URIS
PREFERRED_SCORE = 100
STICKINESS = 1000
# The promotion scores the DRBD agent gives (its adjust_master_score, four values): only Consistent
# data; the local disk failed or still syncing but the peer's UpToDate (ONLY_REMOTE_SCORE); local
# UpToDate and the peer unknown; local UpToDate and the peer known. The agent's defaults
# (0 10 1000 10000) make a Primary whose disk failed and was detached (on-io-error detach: it runs
# on the peer's copy) so much worse than its UpToDate peer that the cluster stops the VM, demotes,
# promotes the peer and starts the VM cold there: the restart a mirror exists to spare. With these,
# the VM's stickiness (above) outweighs the difference, so the VM goes on running where it is, on the
# peer's copy, until replace_disk restores the disk; a VM that is not running still starts where
# the data is local (its preferred host's score does not outweigh the difference). The agent wants
# the values non-decreasing, so the third (1000 by default) is raised with the second: a Secondary
# that lost its peer is alone anyway, and one beside a Primary stays below it. Measured on
# Pacemaker's own scheduler: tests/unit/plugins/module_utils/test_promotion_scores.py.
ONLY_REMOTE_SCORE = 9000
BEST_SCORE = 10000
PROMOTION_SCORES = f"0 {ONLY_REMOTE_SCORE} {ONLY_REMOTE_SCORE} {BEST_SCORE}"
# Live migration goes over ssh to the target's migration name (role duplex.vmpair.hypervisor sets
# up both). Given when the resource is created, or on request (migration_update): a changed
# parameter restarts a running VM (VirtualDomain 4.12 and 4.16 have no reload action and mark no
# parameter reloadable), so an older resource keeps what it has (see vm_edits).
MIGRATION_PARAMS = {"migration_transport": "ssh", "migration_network_suffix": MIGRATION_SUFFIX}
# Tunnelled migration (the default): the source libvirtd opens the qemu+ssh connection to the target
# itself (--p2p) and sends the guest's memory through it (--tunnelled), so no QEMU port opens and
# nothing crosses the link in clear. The empty --migrateuri= stops VirtualDomain from adding its own
# tcp:NODE-vmpair:PORT URI (the agent takes a --migrateuri= in migrate_options before any it would
# make, and strips it from the options): libvirt refuses a migration URI with --tunnelled.
# Without it (migration_tunnelled=false) the agent passes tcp:NODE-vmpair:PORT, QEMU's own TCP
# stream to the target's replication address, unencrypted.
TUNNELLED_OPTIONS = "--p2p --tunnelled --migrateuri="
# The instance parameters that decide how a live migration travels: never changed on a running VM
# by an ordinary update (see vm_edits).
MIGRATION_KEYS = (*MIGRATION_PARAMS, "migrate_options")
# the keys of resource_ids() that name constraints
CONSTRAINT_KEYS = ("colocation", "order", "location", "promote_only")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

ProtectedVm = collections.namedtuple(
    "ProtectedVm",
    [
        "name",
        "level",
        "host",
        "drbd_resource",
        "config",
        "hypervisor",
        "force_stop",
        "stop_timeout",
        "move_to",
        "live",
        "migration_tunnelled",
        "migration_update",
        "monitor_timeout",
    ],
    defaults=(None, False, True, False, DEFAULT_MONITOR_TIMEOUT),
)


class VmCibError(PcsError):
    """Bad input, or a CIB object with one of our ids that is not ours."""


# ---------------------------------------------------------------------------
# input


def protected_vm(
    name,
    level,
    host,
    drbd_resource,
    config,
    hypervisor=DEFAULT_HYPERVISOR,
    force_stop=DEFAULT_FORCE_STOP,
    stop_timeout=DEFAULT_STOP_TIMEOUT,
    move_to=None,
    live=False,
    migration_tunnelled=True,
    migration_update=False,
    monitor_timeout=DEFAULT_MONITOR_TIMEOUT,
):
    """A validated :class:`ProtectedVm`; raises VmCibError with a clear message."""
    if not name or not _NAME.match(str(name)):
        raise VmCibError(f"VM name {name!r} is not usable in resource ids (letters, digits, '_', '.', '-')")
    if level == "ft":
        raise VmCibError(f"VM {name}: {FT_UNAVAILABLE}: use {' or '.join(sorted(LEVELS))}")
    if level not in LEVELS:
        raise VmCibError(f"VM {name}: level must be one of {', '.join(sorted(LEVELS))}, not {level!r}")
    if not host:
        raise VmCibError(f"VM {name}: the preferred host (a cluster node name) is required")
    if not drbd_resource or not _NAME.match(str(drbd_resource)):
        raise VmCibError(f"VM {name}: DRBD resource name {drbd_resource!r} is not valid")
    if not config or not str(config).startswith("/"):
        raise VmCibError(f"VM {name}: config must be the absolute path of the domain XML, not {config!r}")
    if hypervisor not in HYPERVISORS:
        raise VmCibError(f"VM {name}: hypervisor must be {' or '.join(sorted(HYPERVISORS))}, not {hypervisor!r}")
    for key, value in (("stop_timeout", stop_timeout), ("monitor_timeout", monitor_timeout)):
        if int(value) < MIN_TIMEOUT:
            raise VmCibError(f"VM {name}: {key} must be at least {MIN_TIMEOUT} seconds")
    if live and not move_to:
        raise VmCibError(f"VM {name}: live needs move_to, the node to migrate the VM to")
    return ProtectedVm(
        str(name),
        level,
        str(host),
        str(drbd_resource),
        str(config),
        hypervisor,
        bool(force_stop),
        int(stop_timeout),
        str(move_to) if move_to else None,
        bool(live),
        bool(migration_tunnelled),
        bool(migration_update),
        int(monitor_timeout),
    )


def resource_ids(name):
    """Every CIB id this module owns for VM ``name`` (vocabulary.cib_ids)."""
    return cib_ids(name)


# ---------------------------------------------------------------------------
# desired state


def _op(name, interval, timeout, role=None):
    op = collections.OrderedDict([("name", name), ("interval", interval), ("timeout", timeout)])
    if role:
        op["role"] = role
    return op


def migration_params(tunnelled=True):
    """The VirtualDomain parameters of live migration: over ssh, tunnelled through it or not."""
    params = dict(MIGRATION_PARAMS)
    if tunnelled:
        params["migrate_options"] = TUNNELLED_OPTIONS
    return params


def migration_pending(instance, tunnelled=True):
    """Whether a VM resource's parameters (``instance``) migrate otherwise than wanted.

    True when a VM resource made before (or with another ``migration_tunnelled``) still has its
    old migration parameters: they change only when it is created, moved cold or asked to
    (``migration_update``), because a changed parameter restarts a running VM.
    """
    want = migration_params(tunnelled)
    return any((instance or {}).get(k) != want.get(k) for k in MIGRATION_KEYS)


def desired_objects(vm):
    """The wanted objects of ``vm`` by kind: primitives, clone meta, constraints (or None = absent)."""
    ids = resource_ids(vm.name)
    drbd = {
        "agent": "ocf:linbit:drbd",
        "instance": {"drbd_resource": vm.drbd_resource, "adjust_master_score": PROMOTION_SCORES},
        "meta": {},
        "ops": [
            _op("monitor", "29s", f"{vm.monitor_timeout}s", "Promoted"),
            _op("monitor", "31s", f"{vm.monitor_timeout}s", "Unpromoted"),
            _op("start", "0s", "240s"),
            _op("stop", "0s", "100s"),
            _op("promote", "0s", "90s"),
            _op("demote", "0s", "90s"),
            _op("notify", "0s", "90s"),
        ],
    }
    clone_meta = collections.OrderedDict(
        [
            ("promoted-max", "1"),
            ("promoted-node-max", "1"),
            ("clone-max", "2"),
            ("clone-node-max", "1"),
            ("notify", "true"),
        ]
    )
    live = bool(vm.move_to and vm.live)
    if live:
        clone_meta["promoted-max"] = "2"
    domain = {
        "agent": "ocf:heartbeat:VirtualDomain",
        "instance": {
            "config": vm.config,
            "hypervisor": HYPERVISORS[vm.hypervisor],
            "force_stop": "true" if vm.force_stop else "false",
            **migration_params(vm.migration_tunnelled),
        },
        "meta": {"allow-migrate": "true" if live else "false", "resource-stickiness": str(STICKINESS)},
        "ops": [
            _op("monitor", "10s", f"{vm.monitor_timeout}s"),
            _op("start", "0s", "90s"),
            _op("stop", "0s", f"{vm.stop_timeout}s"),
            _op("migrate_to", "0s", "600s"),
            _op("migrate_from", "0s", "120s"),
        ],
    }
    constraints = collections.OrderedDict()
    constraints[ids["colocation"]] = {
        "tag": "rsc_colocation",
        "rsc": ids["vm"],
        "with-rsc": ids["clone"],
        "score": "INFINITY",
        "rsc-role": "Started",
        "with-rsc-role": "Promoted",
    }
    constraints[ids["order"]] = {
        "tag": "rsc_order",
        "first": ids["clone"],
        "first-action": "promote",
        "then": ids["vm"],
        "then-action": "start",
        "kind": "Mandatory",
        "symmetrical": "true",
    }
    constraints[ids["location"]] = {
        "tag": "rsc_location",
        "rsc": ids["vm"],
        "node": vm.move_to or vm.host,
        "score": "INFINITY" if vm.move_to else str(PREFERRED_SCORE),
    }
    constraints[ids["promote_only"]] = None
    if vm.level == "recovery" and not live:
        constraints[ids["promote_only"]] = {
            "tag": "rsc_location",
            "rsc": ids["clone"],
            "rule": ("Promoted", "-INFINITY", "#uname", "ne", vm.host),
        }
    return {"drbd": drbd, "clone_meta": clone_meta, "vm": domain, "constraints": constraints}


# ---------------------------------------------------------------------------
# current state


def read_vm_objects(cib, name):
    """What exists now for VM ``name`` (same shape as :func:`desired_objects`, None for absent)."""
    ids = resource_ids(name)
    clone = read_clone(cib, ids["clone"])
    return {
        "drbd": read_primitive(cib, ids["drbd"]),
        "clone": clone,
        "clone_meta": clone[0] if clone else None,
        "vm": read_primitive(cib, ids["vm"]),
        "constraints": collections.OrderedDict(
            (cid, read_constraint(cib, cid)) for key, cid in ids.items() if key in CONSTRAINT_KEYS
        ),
    }


def render_vm_objects(cib, names):
    """XML text of every object we own for ``names`` (for diffs)."""
    parts = []
    for name in names:
        ids = resource_ids(name)
        for key in ("clone", "vm"):
            el = find_resource(cib, "clone" if key == "clone" else "primitive", ids[key])
            if el is not None:
                parts.append(element_xml(el))
        for key in CONSTRAINT_KEYS:
            el = constraint_element(cib, ids[key])
            if el is not None:
                parts.append(element_xml(el))
    return "\n".join(parts) + ("\n" if parts else "")

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plan protecting one VM on a pair, from what both hosts reported. Pure Python.

Both hosts of a pair run ``protected_vm`` with the same inputs: the site
model's pair, their own facts (read fresh) and the peer's facts (read by
``protected_vm_info`` in the task before). :func:`plan_protect` checks
everything on both hosts and computes the same plan on both: where the VM
lives, the DRBD resource (minors and port collision-free on both hosts), the
LVs, the resource file, the protected definition and the peer's definition.
Every problem is returned at once, each naming the host and the fix, so a
playbook with ``any_errors_fatal`` stops both hosts before either changes
anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac

from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_LEVEL
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.allocation import allocate
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import (
    DrbdError,
    LevelError,
    device_path,
    level_settings,
    resource_name,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.config import build_resource, render_resource
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import config_path
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.storage import storage_plan


class PlanError(Exception):
    """The VM cannot be protected now; ``problems`` lists every reason."""

    def __init__(self, problems, warnings=None):
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        super().__init__("; ".join(self.problems))


def derive_secret(key_bytes, resource):
    """A per-resource DRBD shared secret from the pair's corosync key (48 hex characters, 192 bits).

    Both hosts hold the same ``/etc/corosync/authkey`` (0400, root only), so both compute the
    same secret without it ever crossing the network or the controller. (A whole SHA-256 in hex is
    64 characters, one more than drbdadm takes.)
    """
    digest = hmac.new(key_bytes, ("duplex.vmpair drbd " + resource).encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:48]


def check_level(name, level):
    """Refuse ``ft`` and unknown levels (the DRBD layer's rule) as a PlanError naming the VM."""
    try:
        level_settings(level)
    except LevelError as exc:
        raise PlanError(["VM %s: %s" % (name, exc)]) from None


def _protected_devices(dom):
    """``{target: /dev/drbdN}`` when every mirrored disk of ``dom`` is already on a DRBD device, else None."""
    out = {}
    for disk in dom.mirrored:
        if not (disk.source or "").startswith("/dev/drbd"):
            return None
        out[disk.target] = disk.source
    return out


def locate(pair, facts, name, preferred_host=None):
    """(host that holds the VM, its domain facts, problems): where it runs, else where it is defined.

    ``facts``: ``{inventory host: host facts}`` for both hosts. A VM defined on both hosts is fine
    when both definitions are already protected (a rerun, or after a failover): then it lives
    where it runs, else where DRBD is Primary, else on ``preferred_host``.
    """
    hosts = pair["hosts"]
    doms = {h: (facts[h].get("domains") or {}).get(name) for h in hosts}
    defined = [h for h in hosts if doms[h]]
    running = [h for h in hosts if doms[h] and doms[h]["running"]]
    if not defined:
        return (
            None,
            None,
            [
                "VM %s is not defined on %s. Fix: check the name (virsh list --all), or define the VM on one host "
                "of pair %s" % (name, " or ".join(hosts), pair["name"])
            ],
        )
    if len(running) == 2:
        return (
            None,
            None,
            [
                "VM %s runs on both %s: two copies write to their own disks. Fix: stop one (virsh destroy) and keep "
                "the copy whose data is current" % (name, " and ".join(hosts))
            ],
        )
    if running:
        return running[0], doms[running[0]], []
    if len(defined) == 1:
        return defined[0], doms[defined[0]], []
    unprotected = [h for h in defined if doms[h]["xml"] and _protected_devices(domxml.Domain(doms[h]["xml"])) is None]
    if unprotected:
        return (
            None,
            None,
            [
                "VM %s is defined on both %s and is not protected on %s: two unrelated VMs share the name. Fix: "
                "undefine the wrong one (virsh undefine) or rename it"
                % (name, " and ".join(hosts), ", ".join(unprotected))
            ],
        )
    res = resource_name(name)
    for host in hosts:
        state = (facts[host].get("drbd_states") or {}).get(res) or {}
        if state.get("role") == "Primary":
            return host, doms[host], []
    host = preferred_host if preferred_host in hosts else hosts[0]
    return host, doms[host], []


def _check_hosts(pair, facts, problems):
    versions = {}
    for host in pair["hosts"]:
        f = facts[host]
        if f.get("quorate") is False:
            problems.append(
                "%s: the cluster is not quorate here. Fix: bring both hosts (or one host and the witness) "
                "online before protecting (duplex.vmpair.validate tells what is missing)" % host
            )
        elif f.get("quorate") is None:
            problems.append("%s: corosync does not run here. Fix: deploy the pair first (duplex.vmpair.site)" % host)
        if not f.get("drbd_version"):
            problems.append(
                "%s: the DRBD kernel module is not loaded. Fix: run duplex.vmpair.site (role mirror loads it)" % host
            )
        versions[host] = f.get("drbd_version")
        if not f.get("vg"):
            problems.append(
                "%s: volume group %s does not exist. Fix: create it (vgcreate %s PV...) or set vmpair_storage_vg"
                % (host, pair["storage_vg"], pair["storage_vg"])
            )
        if f.get("peer_reachable") is False:
            problems.append(
                "%s: the peer does not answer on the replication link (%s). Fix: check the link and the peer's "
                "address on it (duplex.vmpair.validate)" % (host, f.get("peer_address"))
            )
    if len({v for v in versions.values() if v}) > 1:
        problems.append(
            "the hosts run different DRBD versions (%s). Fix: run the same DRBD module on both hosts"
            % ", ".join("%s %s" % item for item in sorted(versions.items()))
        )


def plan_protect(pair, me, facts, name, level=DEFAULT_LEVEL, online=True, preferred_host=None, secret=None,
                 ping_int=None, ping_timeout=None):  # fmt: skip
    """The plan for this host (``me``, an inventory host of ``pair``); raises PlanError with every problem.

    :param facts: ``{inventory host: facts}`` for both hosts (see :func:`.reader.host_facts`, plus
        ``drbd_states`` {resource: state} and optionally ``peer_reachable``/``peer_address``)
    :param secret: the DRBD shared secret (from the vault, or :func:`derive_secret`)
    """
    check_level(name, level)
    hosts = pair["hosts"]
    if me not in hosts:
        raise PlanError(["%s is not a host of pair %s (%s)" % (me, pair["name"], ", ".join(hosts))])
    missing = [h for h in hosts if not facts.get(h)]
    if missing:
        raise PlanError(
            ["no facts from %s: the host did not answer. Fix: make it reachable, then run again" % ", ".join(missing)]
        )
    problems = []
    _check_hosts(pair, facts, problems)
    vm_host, dom_facts, where = locate(pair, facts, name, preferred_host)
    problems += where
    if dom_facts is None:
        raise PlanError(problems)
    if not dom_facts["xml"]:
        raise PlanError(
            problems
            + [
                "%s: VM %s is transient (not defined): the peer could not start it. Fix: virsh define it with its "
                "current XML (virsh dumpxml %s > %s.xml; virsh define %s.xml)" % (vm_host, name, name, name, name)
            ]
        )
    try:
        dom = domxml.Domain(dom_facts["xml"])
    except domxml.DomainError as exc:
        raise PlanError(problems + ["%s: %s" % (vm_host, exc)]) from None
    problems += ["%s: %s" % (vm_host, p) for p in dom.problems]
    if problems:
        raise PlanError(problems, dom.warnings)
    already = _protected_devices(dom)
    running = dom_facts["running"]
    if online and running and dom.hypervisor == "xen" and not already:
        raise PlanError(
            [
                "%s: VM %s is a Xen guest: libvirt's Xen driver cannot copy a disk while the guest runs. Fix: set "
                "online: false (the VM is shut down, copied and started again)" % (vm_host, name)
            ]
        )
    peer = [h for h in hosts if h != vm_host][0]
    node = {n["host"]: n["name"] for n in pair["nodes"]}
    res = resource_name(name)
    targets = [d.target for d in dom.mirrored]
    existing = [facts[h].get("drbd_resources") or {} for h in hosts]
    try:
        allocation = allocate({name: targets}, existing=existing)[name]
        spec = build_resource(pair, name, allocation, level, secret, ping_int=ping_int, ping_timeout=ping_timeout)
        version = facts[me]["drbd_version"]
        res_text = render_resource(spec, version)
    except DrbdError as exc:
        raise PlanError(["VM %s: %s" % (name, exc)]) from None
    devices = {v["disk"]: device_path(v["minor"]) for v in allocation["volumes"]}
    if already and already != devices:
        raise PlanError(
            [
                "%s: VM %s is on DRBD devices %s but its resource %s says %s. Fix: compare %s with the domain XML"
                % (vm_host, name, already, res, devices, spec.path)
            ]
        )
    capacities = {}
    for target in targets:
        disk = dom_facts["disks"].get(target) or {}
        capacities[target] = disk.get("capacity")
    storage = {}
    for host in hosts:
        f = facts[host]
        vg = f["vg"]
        plan = storage_plan(host, dom, capacities, pair["storage_vg"], vg["free"], vg["extent"], f.get("lvs"))
        problems += plan["problems"]
        storage[host] = plan["disks"]
    if problems:
        raise PlanError(problems, dom.warnings)
    protected_xml = domxml.protect(dom_facts["xml"], devices, capacities)
    return {
        "vm": name,
        "level": level,
        "vm_host": vm_host,
        "peer": peer,
        "role": "vm_host" if me == vm_host else "peer",
        "node": node[me],
        "vm_node": node[vm_host],
        "resource": res,
        "res_path": spec.path,
        "config_path": config_path(name),
        "res_text": res_text,
        "secret": spec.secret,
        "volumes": allocation["volumes"],
        "port": allocation["port"],
        "devices": devices,
        "storage": storage[me],
        "running": running,
        "online": bool(online),
        "already_on_drbd": bool(already),
        "xml": dom_facts["xml"],
        "protected_xml": protected_xml,
        "peer_xml": domxml.peer_definition(protected_xml),
        "hypervisor": dom.hypervisor,
        "warnings": dom.warnings,
    }

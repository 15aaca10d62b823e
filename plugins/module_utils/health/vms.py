# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each VM of ``vmpair_vms`` as the pair sees it now: protected or not, at which
level, where it runs, where it would fail over to, and whether its peer copy is
UpToDate; and what is missing against the level the site model promises.

Built from facts other readers made (Pacemaker's resources, the mirrors, the
libvirt domains of this host), so it runs no tool itself.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

from ansible_collections.duplex.vmpair.plugins.module_utils.common.findings import CRITICAL, INFO, WARNING, finding
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_LEVEL
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import resource_name
from ansible_collections.duplex.vmpair.plugins.module_utils.health.mirror import minutes_left, resync_text
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.vm_objects import migration_pending, resource_ids

# The level a mirror's DRBD protocol gives.
PROTOCOL_LEVELS = {"C": "ha", "A": "recovery"}


def parse_virsh_names(text):
    """``virsh list --name [--all]`` -> list of names."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def owned_resources(vms):
    """The Pacemaker resource ids the VM findings judge (the others judge the rest)."""
    owned = set()
    for vm in vms:
        ids = resource_ids(vm["name"])
        owned.update((ids["vm"], ids["drbd"], ids["clone"]))
    return owned


def _unusable(name, node):
    """Why node ``name`` cannot take a VM now, or None."""
    if node is None or not node["online"]:
        return "%s is offline" % name
    if node["pending"]:
        return "%s is still joining the cluster" % name
    if node["standby"]:
        return "%s is in standby" % name
    if node["maintenance"]:
        return "%s is in maintenance mode" % name
    return None


def vm_facts(vms, nodes, pacemaker, mirror, domains, local_node=None, instances=None, tunnelled=True):
    """One fact dict per VM of ``vms`` (``{name, level, preferred_host}`` each).

    ``nodes``: the pair's node names; ``domains``: {"running": [...], "defined": [...]}
    of this host's libvirt, or None when libvirt did not answer; ``local_node``:
    this host's node name (where an unprotected VM found running here runs);
    ``instances``: each primitive's parameters from the CIB (None: not read), against
    which ``tunnelled`` (the pair's ``migration_tunnelled``) is compared.
    """
    by_id = {item["id"]: item for item in pacemaker["resources"]["items"]}
    cluster_nodes = {node["name"]: node for node in pacemaker["nodes"]}
    mirrors = {res["name"]: res for res in mirror["resources"]}
    out = []
    for vm in vms:
        name = vm["name"]
        ids = resource_ids(name)
        res = mirrors.get(resource_name(name))
        item = by_id.get(ids["vm"])
        running_on = (item["nodes"][0] if item["nodes"] else None) if item and item["active"] else None
        if item is None and domains is not None and name in domains["running"]:
            running_on = local_node or "this host"
        actual = PROTOCOL_LEVELS.get(res["protocol"]) if res else None
        peer_copy = None
        failover_to = None
        why_not = None
        resync_eta = None
        if res is not None and item is not None:
            here_primary = res["role"] == "Primary"
            copy_disk = res["peer_disk"] if here_primary else res["disk"]
            peer_copy = res["connection"] == "Connected" and not res["resyncing"] and copy_disk == "UpToDate"
            others = [n for n in nodes if n != running_on] if running_on else []
            target = others[0] if len(others) == 1 else None
            unusable = _unusable(target, cluster_nodes.get(target)) if target else None
            if target is None:
                why_not = "it is not running"
            elif unusable:
                why_not = unusable
            elif not peer_copy:
                # While it resyncs (after a failover, say), how far it is and how long is left.
                why_not = "the copy on %s is not UpToDate (mirror %s)" % (
                    target,
                    resync_text(res) if res["resyncing"] else res["connection"] + ", peer disk " + str(copy_disk),
                )
            else:
                failover_to = target
            if res["resyncing"] and res.get("resync_progressing") and copy_disk != "UpToDate":
                # The copy comes back by itself: how long until it does.
                resync_eta = res.get("resync_eta_s")
        out.append(
            {
                "name": name,
                "level": vm.get("level", DEFAULT_LEVEL),
                "actual_level": actual,
                "preferred_host": vm.get("preferred_host"),
                "protected": res is not None and item is not None,
                "mirror": res["name"] if res else None,
                "resource": ids["vm"] if item else None,
                "target_role": item["target_role"] if item else None,
                "running_on": running_on,
                "failover_to": failover_to,
                "no_failover_reason": why_not if failover_to is None else None,
                "peer_copy_uptodate": peer_copy,
                # its resource's live migration is not what the pair asks yet (None: unknown)
                "migration_pending": (
                    migration_pending(instances[ids["vm"]], tunnelled)
                    if item is not None and instances is not None and ids["vm"] in instances
                    else None
                ),
                # made for live migration at all (a resource without migration_transport predates it:
                # migrate.yml refuses to move it live and says how to fix that)
                "migration_ready": bool(
                    item is not None and instances and (instances.get(ids["vm"]) or {}).get("migration_transport")
                ),
                "migration_tunnelled": tunnelled,
                "resync_eta_s": resync_eta,
            }
        )
    return out


def _only_resync(vm):
    """The VM's only gap is its copy's resync (its peer is usable): the reason vm_facts gives then."""
    return (vm["no_failover_reason"] or "").startswith("the copy on ") or vm["failover_to"] is not None


def _protect_fix(name):
    return "ansible-playbook duplex.vmpair.protect -e vms=%s (docs/protect.md)" % name


def vm_findings(facts, preferred_node=None):
    """What each VM misses against its promised level.

    ``preferred_node``: maps a VM's ``preferred_host`` (inventory name) to its node name.
    """
    out = []
    for vm in facts:
        name = vm["name"]
        if vm["level"] == "ft":
            out.append(
                finding(
                    CRITICAL,
                    "vm",
                    name,
                    "VM %s is promised level ft (continuous), which this collection cannot provide yet" % name,
                    "Set its level to ha in vmpair_vms (restart on the peer, no data lost) and protect it.",
                )
            )
            continue
        if not vm["protected"]:
            out.append(
                finding(
                    CRITICAL,
                    "vm",
                    name,
                    "VM %s is promised level %s but is not protected (%s)"
                    % (name, vm["level"], "no mirror" if vm["mirror"] is None else "not in the cluster"),
                    _protect_fix(name),
                )
            )
            continue
        if vm["actual_level"] and vm["actual_level"] != vm["level"]:
            less = vm["level"] == "ha"
            out.append(
                finding(
                    CRITICAL if less else WARNING,
                    "vm",
                    name,
                    "VM %s is promised level %s but its mirror runs as %s" % (name, vm["level"], vm["actual_level"]),
                    _protect_fix(name) + " sets the promised level without stopping the VM.",
                )
            )
        if vm.get("migration_pending") and vm.get("migration_ready"):
            tunnelled = vm.get("migration_tunnelled", True)
            out.append(
                finding(
                    WARNING,
                    "vm",
                    name,
                    "VM %s: migration_pending: its resource %s still has its old live-migration parameters: %s"
                    % (
                        name,
                        vm["resource"],
                        "a live move would send its memory in clear over QEMU's TCP port, which the pair's "
                        "firewall no longer opens (vmpair_migration_tunnelled: true), so migrate.yml refuses it"
                        if tunnelled
                        else "a live move would be tunnelled, not the plain QEMU stream vmpair_migration_tunnelled: "
                        "false asks",
                    ),
                    "Move it cold once: ansible-playbook duplex.vmpair.failover -e vm=%s (converts it as it moves); "
                    "or in a maintenance window, duplex.vmpair.vm_resources with migration_update: true (restarts it "
                    "where it runs)." % name,
                )
            )
        if vm["running_on"] is None:
            if vm["target_role"] != "Stopped":
                out.append(
                    finding(
                        CRITICAL,
                        "vm",
                        name,
                        "VM %s is not running" % name,
                        "pcs status --full says why; fix the cause, then pcs resource cleanup %s." % vm["resource"],
                    )
                )
            continue
        resyncing = vm.get("resync_eta_s") is not None
        if resyncing and (vm["failover_to"] is None or not vm["peer_copy_uptodate"]) and _only_resync(vm):
            # A normal resync (after a host came back, or the initial copy): reduced for minutes, not gone.
            out.append(
                finding(
                    WARNING,
                    "vm",
                    name,
                    "VM %s (%s, on %s) cannot fail over until its mirror's resync ends: redundancy returns in about "
                    "%d min" % (name, vm["level"], vm["running_on"], minutes_left(vm["resync_eta_s"])),
                    "Nothing to do: the resync runs by itself; do not move the VM meanwhile. If it stops "
                    "progressing, validate reports it as critical.",
                )
            )
        elif vm["level"] == "ha" and vm["failover_to"] is None:
            out.append(
                finding(
                    CRITICAL,
                    "vm",
                    name,
                    "VM %s (ha, on %s) cannot fail over: %s" % (name, vm["running_on"], vm["no_failover_reason"]),
                    "Bring the peer and its copy back (see the cluster and mirror findings); until then a failure "
                    "of %s stops the VM." % vm["running_on"],
                )
            )
        elif vm["level"] == "recovery" and not vm["peer_copy_uptodate"]:
            out.append(
                finding(
                    CRITICAL,
                    "vm",
                    name,
                    "VM %s (recovery, on %s): its recovery copy is not up to date" % (name, vm["running_on"]),
                    "See the mirror findings; a failover now would start it from an old or unusable copy.",
                )
            )
        preferred = (preferred_node or {}).get(vm["preferred_host"], vm["preferred_host"])
        if preferred and vm["protected"] and vm["running_on"] != preferred:
            out.append(
                finding(
                    INFO,
                    "vm",
                    name,
                    "VM %s runs on %s; its preferred host is %s" % (name, vm["running_on"], preferred),
                    "Move it back when you choose: ansible-playbook duplex.vmpair.failover -e vm=%s -e to=%s."
                    % (name, vm["preferred_host"]),
                )
            )
    return out

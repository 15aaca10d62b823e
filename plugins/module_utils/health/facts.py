# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The live state of a pair host, and what is missing against the site model.

:func:`commands` lists the read-only tools ``duplex.vmpair.pair_info`` runs for
the checks asked; :func:`build_facts` turns their outputs (and a few files) into
the facts it returns: one reader per component of this package (``corosync``,
``pacemaker``, ``mirror``, ``vms``, ``network``, ``watchdog``), the
findings of each (``common.findings``), ``redundant`` and the plain-English ``summary``.

Pure functions only: the unit tests run them on outputs captured from real
clusters in ``tests/unit/fixtures``. A tool's result is an :class:`Output`
whose ``rc`` is None when the program is not installed.
"""

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

import collections

from ansible_collections.duplex.vmpair.plugins.module_utils.common import findings as judge
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import PROC_DRBD, resource_name
from ansible_collections.duplex.vmpair.plugins.module_utils.health import mirror as state_mirror
from ansible_collections.duplex.vmpair.plugins.module_utils.health import network as state_network
from ansible_collections.duplex.vmpair.plugins.module_utils.health import vms as state_vms
from ansible_collections.duplex.vmpair.plugins.module_utils.health import watchdog as state_watchdog
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output, error_text
from ansible_collections.duplex.vmpair.plugins.module_utils.health.corosync import corosync_facts, qdevice_facts
from ansible_collections.duplex.vmpair.plugins.module_utils.health.pacemaker import (
    pacemaker_facts,
    parse_instance_attributes,
    parse_stonith_targets,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt.domain import URIS

# The cluster tools pair_info always runs, by the key build_facts() expects.
COMMANDS = collections.OrderedDict(
    [
        ("quorumtool", ["corosync-quorumtool", "-s"]),
        ("cfgtool", ["corosync-cfgtool", "-s"]),
        ("cmapctl_device", ["corosync-cmapctl", "-g", "quorum.device.model"]),
        ("qdevicetool", ["corosync-qdevice-tool", "-sv"]),
        ("crm_mon", ["crm_mon", "--output-as=xml", "-1", "--inactive"]),
    ]
)
# What pair_info can check; the cluster is always read (the others need its view).
CHECKS = ("cluster", "fencing", "mirror", "vms", "network", "hypervisor")


def commands(checks, hypervisor=None, mirror_loaded=False, watchdog=False):
    """The tools to run for ``checks``: {key: argv}. ``watchdog``: the site model's pair has watchdog
    fencing (sbd and the CIB's fencing configuration are then read for the ``fencing`` check)."""
    out = collections.OrderedDict(COMMANDS)
    if "fencing" in checks or "vms" in checks:
        out["cib_resources"] = ["cibadmin", "--query", "--scope", "resources"]
    if watchdog and "fencing" in checks:
        out.update(state_watchdog.COMMANDS)
    if mirror_loaded and ("mirror" in checks or "vms" in checks):
        out.update(state_mirror.COMMANDS)
    if hypervisor in URIS and ("hypervisor" in checks or "vms" in checks):
        out["virsh_all"] = ["virsh", "-c", URIS[hypervisor], "list", "--all", "--name"]
        out["virsh_running"] = ["virsh", "-c", URIS[hypervisor], "list", "--name"]
    return out


def _hypervisor_facts(outputs, hypervisor):
    listing = outputs.get("virsh_all")
    if listing is None:
        return None
    facts = {"kind": hypervisor, "uri": URIS[hypervisor], "running": listing.rc == 0, "error": None}
    if listing.rc != 0:
        facts["error"] = error_text(listing, "virsh")
        return facts
    running = outputs.get("virsh_running") or Output(1, "", "")
    facts["domains"] = {
        "defined": state_vms.parse_virsh_names(listing.stdout),
        "running": state_vms.parse_virsh_names(running.stdout) if running.rc == 0 else [],
    }
    return facts


def _hypervisor_findings(hyper):
    if hyper is None or hyper["running"]:
        return []
    return [
        judge.finding(
            judge.CRITICAL,
            "hypervisor",
            hyper["uri"],
            "libvirt does not answer on %s (%s)" % (hyper["uri"], hyper["error"]),
            "systemctl status libvirtd (or virtqemud); the cluster cannot start or move VMs here meanwhile.",
        )
    ]


def _instance_attributes(output):
    """Each primitive's parameters, or None when the CIB was not read."""
    if output is None or output.rc != 0:
        return None
    try:
        return parse_instance_attributes(output.stdout)
    except ValueError:
        return None


def _stonith_targets(output):
    if output is None or output.rc != 0:
        return {}
    try:
        return parse_stonith_targets(output.stdout)
    except ValueError:
        return {}


def build_facts(outputs, expect_qdevice=None, pair=None, host=None, vms=None, checks=CHECKS, read=None, uname=None):
    """All facts and findings from the tools' Outputs (keyed as :func:`commands`).

    ``pair`` is the site model's description of the pair (``site_model``'s
    ``pair``) and ``host`` this host's inventory name: with them the facts are
    compared with what the site model promises (a fence device per node, the
    bonds). ``vms`` lists ``vmpair_vms`` entries. ``read(path)`` returns a file's
    text or None (``/proc/drbd``, ``/proc/net/bonding/*``); ``uname`` is the
    host's node name (it names the mirrors' peer).

    With ``pair.watchdog`` (watchdog self-fencing) and the ``fencing`` check, ``watchdog`` is this
    host's view of it (``health.watchdog``: sbd, /etc/default/sbd, the CIB's property and levels).

    Returns ``corosync``, ``qdevice``, ``pacemaker``, ``fencing``, ``watchdog``, ``mirror``,
    ``vms``, ``network``, ``hypervisor`` (None for a component not checked),
    ``findings``, ``redundant`` (no warning or critical finding), ``summary``
    (their messages) and ``healthy`` (the same as ``redundant``).
    """
    read = read or (lambda path: None)
    missing = Output(None, "", "")
    pacemaker = pacemaker_facts(outputs.get("crm_mon", missing))
    names = {node["id"]: node["name"] for node in pacemaker["nodes"] if node["id"] is not None}
    corosync = corosync_facts(outputs.get("quorumtool", missing), outputs.get("cfgtool", missing), names)
    qdevice = qdevice_facts(outputs.get("cmapctl_device"), outputs.get("qdevicetool"), expect_qdevice)
    node_names = [node["name"] for node in pair["nodes"]] if pair else None
    vms = list(vms or [])

    found = judge.corosync_findings(corosync, qdevice) + judge.pacemaker_findings(pacemaker)
    if pair and corosync["running"] and not corosync["error"]:
        promised = len(pair.get("cluster_links") or [])
        if len(corosync["links"]) < promised:
            found.append(
                judge.finding(
                    judge.WARNING,
                    "cluster",
                    "links",
                    "corosync runs %d link(s), the site model promises %d" % (len(corosync["links"]), promised),
                    "Run site.yml: corosync.conf does not match vmpair_links.",
                )
            )
    fencing = None
    watchdog = None
    if "fencing" in checks:
        fencing = judge.fencing_facts(pacemaker, node_names, _stonith_targets(outputs.get("cib_resources")))
        found += judge.fencing_findings(pacemaker, fencing)
        if pair:
            local = [n["name"] for n in pair["nodes"] if n["host"] == host]
            watchdog = state_watchdog.watchdog_facts(
                pair.get("watchdog"), outputs, read, (local or [uname])[0], node_names
            )
            found += state_watchdog.host_findings(watchdog, corosync["running"])
            sites = state_watchdog.sites_finding(pair)
            if sites:
                found.append(sites)
    found += judge.resource_findings(pacemaker, state_vms.owned_resources(vms) if "vms" in checks else ())

    mirror = None
    if "mirror" in checks or "vms" in checks:
        mirror = state_mirror.mirror_facts(
            outputs.get("events2", missing), outputs.get("dump_xml"), read(PROC_DRBD), uname
        )
    vm_by_mirror = {resource_name(vm["name"]): vm["name"] for vm in vms}
    if "mirror" in checks:
        if mirror["error"] and (mirror["loaded"] or vms):
            found.append(
                judge.finding(
                    judge.CRITICAL,
                    "mirror",
                    "drbd",
                    "the mirrors' state is unknown: %s" % mirror["error"],
                    "Run site.yml (the mirror role loads DRBD and installs drbd-utils); drbdsetup status shows "
                    "the state by hand.",
                )
            )
        for res in mirror["resources"]:
            found += state_mirror.resource_findings(res, vm_by_mirror.get(res["name"]))

    hypervisor = _hypervisor_facts(outputs, pair["hypervisor"]) if pair else None
    if "hypervisor" in checks:
        found += _hypervisor_findings(hypervisor)

    vm_list = None
    if "vms" in checks and vms:
        domains = hypervisor.get("domains") if hypervisor else None
        local = [n["name"] for n in pair["nodes"] if n["host"] == host] if pair else []
        vm_list = state_vms.vm_facts(
            vms,
            node_names or [n["name"] for n in pacemaker["nodes"]],
            pacemaker,
            mirror,
            domains,
            (local or [None])[0],
            instances=_instance_attributes(outputs.get("cib_resources")),
            tunnelled=(pair or {}).get("migration_tunnelled", True),
        )
        preferred = {n["host"]: n["name"] for n in pair["nodes"]} if pair else None
        found += state_vms.vm_findings(vm_list, preferred)

    network = None
    if "network" in checks and pair and host:
        network = {"bonds": state_network.bond_facts(pair.get("links") or [], host, read)}
        found += state_network.bond_findings(network["bonds"])

    gaps = judge.gaps(found)
    return {
        "corosync": corosync,
        "qdevice": qdevice,
        "pacemaker": pacemaker,
        "fencing": fencing,
        "watchdog": watchdog,
        "mirror": mirror,
        "vms": vm_list,
        "network": network,
        "hypervisor": hypervisor,
        "findings": found,
        "redundant": not gaps,
        "summary": [f["message"] for f in gaps],
        "healthy": not gaps,
    }

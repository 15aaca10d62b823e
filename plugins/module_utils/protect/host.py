# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The host side of ``protected_vm`` and ``protected_vm_info``: read, plan, apply, report.

The modules stay thin (argument spec and docs); this joins
:mod:`.reader` (reading), :mod:`.plan` / :mod:`.unprotect`
(planning) and :mod:`.apply` (doing) and shapes the result:
``changed``, ``commands``, ``diff`` (the resource file with its secret
masked, and the domain definition with its console passwords and disk cookies
masked) and the plan's facts.

Definitions are read with ``virsh dumpxml --security-info``, because the peer's
copy must keep the VM's console password. They leave a module masked only
(:func:`.domain.redact`); the real values travel to the peer separately
(``protected_vm_info`` ``secrets=true`` -> ``protected_vm`` ``peer_secrets``, both
no_log) and are put back into the peer's definition there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import MASK, CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.common.vocabulary import DEFAULT_HYPERVISOR, vm_resource_id
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import resource_name
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.apply import ApplyError, HostActions, apply_protect
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.plan import (
    PlanError,
    check_level,
    derive_secret,
    plan_protect,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.reader import (
    HostReader,
    HostReadError,
    config_path,
    facts_from_json,
    host_facts,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.protect.unprotect import apply_unprotect, plan_unprotect

COROSYNC_KEY = "/etc/corosync/authkey"


def _definition_from_config(name, dom):
    """A VM the cluster started is transient (VirtualDomain runs `virsh create CONFIG`): its definition
    is the cluster's config file."""
    if dom and not dom["xml"]:
        dom["xml"] = read_file(config_path(name))
        dom["config"] = bool(dom["xml"])
    return dom


def read_facts(module, names, hypervisor, vg, peer_address=None, runner=None):
    """:func:`.reader.host_facts` plus DRBD states and the ping; definitions with their secrets
    (``protected_vm_info`` returns them masked: :func:`masked_facts`)."""
    reader = HostReader(runner or CommandRunner(module), hypervisor)
    facts = host_facts(reader, names, vg)
    for name, dom in facts["domains"].items():
        _definition_from_config(name, dom)
    facts["drbd_states"] = {}
    for name in names:
        res = resource_name(name)
        if res in facts["drbd_resources"]:
            facts["drbd_states"][res] = reader.drbd_state(res)
    if peer_address:
        ping = reader.runner.run(["ping", "-c", "2", "-W", "2", "-q", peer_address], check_rc=False)
        facts["peer_address"] = peer_address
        facts["peer_reachable"] = ping.rc == 0
    return facts


def masked_facts(facts):
    """``facts`` with the secret values of each definition (console passwords, disk cookies: what
    ``virsh dumpxml --security-info`` adds) replaced by ``********``: ``protected_vm_info``'s ``host``."""
    for dom in facts["domains"].values():
        if dom and dom.get("xml"):
            dom["xml"] = domxml.redact(dom["xml"])
    return facts


def read_secrets(module, names, hypervisor, runner=None):
    """``protected_vm_info``'s ``secrets``: VM -> the secret values of its definition (``{}`` when it has
    none or is not defined here), keyed by their place, for ``protected_vm``'s ``peer_secrets``."""
    reader = HostReader(runner or CommandRunner(module), hypervisor)
    out = {}
    for name in names:
        dom = _definition_from_config(name, reader.domain(name))
        out[name] = domxml.secrets(dom["xml"]) if dom and dom["xml"] else {}
    return out


def _with_secrets(facts, values):
    """The peer's facts (masked, from ``peer_facts``) with the secret values of its definitions put
    back from ``peer_secrets``; new dicts, so the module's parameters stay masked."""
    if not facts or not facts.get("domains"):
        return facts
    out = dict(facts)
    out["domains"] = {}
    for name, dom in facts["domains"].items():
        if dom and dom.get("xml"):
            dom = dict(dom, xml=domxml.restore(dom["xml"], (values or {}).get(name) or {}))
        out["domains"][name] = dom
    return out


def _secret_values(*all_facts):
    """Every secret value of the definitions in these facts."""
    values = set()
    for facts in all_facts:
        for dom in ((facts or {}).get("domains") or {}).values():
            if dom and dom.get("xml"):
                values.update(v for v in domxml.secrets(dom["xml"]).values() if v != MASK)
    return values


def _check_peer_definition(plan, name, peer):
    """Refuse to define the peer's copy with a masked console password (peer_secrets missing)."""
    if plan["role"] != "vm_host" and domxml.masked(plan["peer_xml"]):
        raise PlanError(
            [
                "VM %s: its definition from %s came with its console password or disk cookies masked and "
                "peer_secrets does not hold them, so this host cannot define the same VM. Fix: pass %s's "
                "protected_vm_info result with secrets=true (read in a task with no_log: true) as peer_secrets, "
                "as duplex.vmpair.protect does" % (name, peer, peer)
            ]
        )


def pair_secret(given, name, key_path=COROSYNC_KEY):
    """The DRBD shared secret: ``given`` (vault) or derived from the corosync key both hosts hold."""
    if given:
        return given
    try:
        with open(key_path, "rb") as f:
            key = f.read()
    except (IOError, OSError) as exc:  # noqa: UP024
        raise PlanError(
            [
                "cannot read the corosync key %s (%s) to derive the DRBD shared secret. Fix: deploy the pair with "
                "duplex.vmpair.site, or give the secret (vmpair_drbd_secret, from the vault)" % (key_path, exc)
            ]
        ) from None
    if not key:
        raise PlanError(["the corosync key %s is empty. Fix: redeploy the pair (duplex.vmpair.site)" % key_path])
    return derive_secret(key, resource_name(name))


def cluster_manages(runner, name):
    """True when the CIB holds the VM's VirtualDomain resource (``vm-NAME``)."""
    result = runner.run(
        ["cibadmin", "--query", "--xpath", "//primitive[@id='%s']" % vm_resource_id(name)], check_rc=False
    )
    return result.rc == 0 and "<primitive" in (result.stdout or "")


def _res_diff(path, before, after, secret):
    def masked(text):
        return text.replace(secret, MASK) if text and secret else (text or "")

    return {"before_header": path, "after_header": path, "before": masked(before), "after": masked(after)}


def _xml_diff(name, host, before, after):
    """The definition before and after, its secret values (console password, disk cookies) masked."""
    return {
        "before_header": "domain %s on %s" % (name, host),
        "after_header": "domain %s on %s" % (name, host),
        "before": domxml.pretty(domxml.redact(before)) if before else "",
        "after": domxml.pretty(domxml.redact(after)) if after else "",
    }


def run_protected_vm(module, runner=None):
    """The whole of ``protected_vm``: returns the result dict or raises PlanError / ApplyError / CommandError."""
    p = module.params
    runner = runner or CommandRunner(module)
    pair = p["pair"]
    me = p["host"]
    name = p["name"]
    if p["state"] == "present":
        check_level(name, p["level"])  # before anything is read
    if me not in pair.get("hosts", []):
        raise PlanError(["host %s is not in pair %s (%s)" % (me, pair.get("name"), ", ".join(pair.get("hosts", [])))])
    peer = [h for h in pair["hosts"] if h != me][0]
    reader = HostReader(runner, pair.get("hypervisor", DEFAULT_HYPERVISOR))
    own = read_facts(module, [name], reader.hypervisor, pair["storage_vg"], runner=runner)
    facts = {me: own, peer: _with_secrets(facts_from_json(p["peer_facts"]), p.get("peer_secrets"))}
    # Console passwords and disk cookies of both definitions: masked in diffs by _xml_diff, and in errors
    # and anything else the module returns by these.
    hidden = _secret_values(own, facts[peer])
    module.no_log_values.update(hidden)
    runner.add_secrets(hidden)
    actions = HostActions(runner, reader, check_mode=module.check_mode, shutdown_timeout=p["shutdown_timeout"])
    live = own["domains"].get(name)
    result = {"changed": False, "vm": name, "host": me}
    if p["state"] == "present":
        secret = pair_secret(p["secret"], name)
        module.no_log_values.add(secret)
        runner.add_secrets([secret])
        plan = plan_protect(pair, me, facts, name, p["level"], p["online"], p["preferred_host"], secret)
        _check_peer_definition(plan, name, peer)
        diff = apply_protect(actions, plan, pair["storage_vg"], live)
        wanted_xml = plan["protected_xml"] if plan["role"] == "vm_host" else plan["peer_xml"]
        result["diff"] = [
            _res_diff(plan["res_path"], diff["res_before"], plan["res_text"], secret),
            _xml_diff(name, me, live and live.get("xml"), wanted_xml),
        ]
        result.update(
            role=plan["role"],
            vm_host=plan["vm_host"],
            vm_node=plan["vm_node"],
            resource=plan["resource"],
            level=plan["level"],
            devices=plan["devices"],
            port=plan["port"],
            warnings_found=plan["warnings"],
            cluster_vm={
                "name": name,
                "level": plan["level"],
                "host": plan["vm_node"],
                "hypervisor": plan["hypervisor"],
                "config": plan["config_path"],
                "force_stop": p["force_stop"],
                "stop_timeout": p["stop_timeout"],
                "monitor_timeout": p["monitor_timeout"],
            },
        )
        for warning in plan["warnings"]:
            module.warn(warning)
    else:
        managed = cluster_manages(runner, name)
        if managed and module.check_mode:
            # A preview: duplex.vmpair.unprotect releases the VM from the cluster between its check and the real run.
            module.warn(
                "the cluster still manages VM %s: it must let go of it first (vm_resources state=absent "
                "leave_running=true), as duplex.vmpair.unprotect does before the real run" % name
            )
        plan = plan_unprotect(
            pair,
            me,
            facts,
            name,
            p["keep_peer_copy"],
            cluster_manages=managed and not module.check_mode,
            online=p["online"],
        )
        diff = apply_unprotect(actions, plan, pair["storage_vg"], live)
        result["diff"] = [_xml_diff(name, me, diff["xml_before"], diff["xml_after"])]
        result.update(role=plan["role"], vm_host=plan["vm_host"], resource=plan["resource"])
    result["commands"] = actions.commands
    result["changed"] = bool(actions.commands)
    return result


__all__ = [
    "ApplyError",
    "HostReadError",
    "PlanError",
    "masked_facts",
    "read_facts",
    "read_secrets",
    "run_protected_vm",
]

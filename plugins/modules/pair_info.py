#!/usr/bin/python
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

DOCUMENTATION = r"""
module: pair_info
short_description: Read the live state of a pair host and say what redundancy is missing
version_added: 0.1.0
description:
  - Runs the read-only tools of the pair's components on a pair host and returns their state as facts, and
    RV(findings), each missing redundancy with its severity and its fix.
  - "The components: the cluster (C(corosync-quorumtool -s), C(corosync-cfgtool -s),
    C(corosync-cmapctl -g quorum.device.model), C(corosync-qdevice-tool -sv) and
    C(crm_mon --output-as=xml -1 --inactive)), fencing (C(crm_mon) and C(cibadmin --query --scope resources); with the watchdog
    self-fencing of O(pair) also C(systemctl is-active sbd), C(/etc/default/sbd) and
    C(cibadmin --query --scope configuration)),
    the mirrors
    (C(drbdsetup events2 --now --statistics all), C(drbdadm dump-xml) and C(/proc/drbd)), the VMs of O(vms)
    (from the cluster, the mirrors and C(virsh list)), the bonds of O(pair) (C(/proc/net/bonding/*)) and libvirt."
  - With O(pair) the facts are compared with what the site model promises (a fence device for each node, the
    bonds and their members, libvirt answering, watchdog self-fencing where C(pair.watchdog) is set, or a
    warning when the hosts are on different sites without it); without it, with what the host itself has
    configured.
  - Watchdog fencing's cluster property C(stonith-watchdog-timeout) and fence levels are judged only with both
    hosts' results (sbd must run on both), by the C(duplex.vmpair.pair_report) filter that validate runs.
  - A missing tool or a stopped daemon is reported as state (C(running=false) and an C(error) text) and as a
    finding, not as a failure, unless O(fail_on_unhealthy=true).
  - Never changes anything. The C(duplex.vmpair.validate) playbook runs it on every pair host and merges both
    hosts' findings into one report per pair (C(docs/operations.md)).
options:
  fail_on_unhealthy:
    description:
      - Fail when a finding of severity C(warning) or C(critical) is found; their messages are the failure message.
      - The facts are returned in both cases.
    type: bool
    default: false
  expect_qdevice:
    description:
      - Whether a corosync quorum device is expected.
      - By default it is expected when corosync's running configuration has one (C(quorum.device.model)).
      - With V(true), a missing qdevice is a problem even when corosync cannot be asked.
    type: bool
  pair:
    description:
      - The site model's description of this host's pair, as C(duplex.vmpair.site_model) returns it in C(pair).
      - Gives the node names (each must have a fence device C(fence_NODE)), the bonded links and the hypervisor.
    type: dict
  host:
    description:
      - This host's inventory name in O(pair) (its bonds are read from C(pair.links[].hosts[host])).
      - Requires O(pair).
    type: str
  vms:
    description:
      - The VMs the site model promises to protect (the pair's C(vmpair_vms)), each with C(name), C(level) and
        C(preferred_host).
      - Each is reported in RV(vms) and judged against its level.
    type: list
    elements: dict
    default: []
  checks:
    description:
      - What to read and judge besides the cluster (membership, quorum, witness, links and resources), which is
        always read.
      - V(vms) reads the mirrors and libvirt too (it needs them), without judging them unless V(mirror) and
        V(hypervisor) are listed.
    type: list
    elements: str
    choices: [cluster, fencing, mirror, vms, network, hypervisor]
    default: [cluster, fencing, mirror, vms, network, hypervisor]
requirements:
  - corosync (corosync-quorumtool, corosync-cfgtool, corosync-cmapctl)
  - corosync-qdevice when a quorum device is used
  - pacemaker-cli-utils (crm_mon)
  - drbd-utils 9 (drbdsetup, drbdadm) when the DRBD module is loaded
  - libvirt-clients (virsh) when O(pair) is given
attributes:
  check_mode:
    support: full
    description: Only reads state, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
notes:
  - Made for corosync 3 with knet links, corosync-qdevice 3 (model net) and Pacemaker 2.1 as shipped by Debian 12,
    and drbd-utils 9 with the DRBD 8.4 module of Debian 12's kernel (its C(drbdsetup events2)); DRBD 9 prints the same
    C(events2) records but has not been run in the lab. Unit tests parse outputs captured from these versions.
  - "Severities: C(critical): protection is gone now for something (a VM could not fail over, the cluster cannot
    decide, or the next single failure would stop protected VMs); C(warning): a redundancy is reduced but the next
    single failure is still survived, or a resync that progresses (redundancy returns by itself, in the time the
    finding gives; a paused, suspended or stalled resync is C(critical)); C(info): worth knowing (the last fencing action, a VM away from its
    preferred host)."
  - O(fail_on_unhealthy) with the C(until) task keyword makes a "wait until the cluster is formed" task.
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read the pair's cluster state
  duplex.vmpair.pair_info:
  register: __vmpair_state

- name: Both corosync links must reach the peer
  ansible.builtin.assert:
    that: __vmpair_state.corosync.links_connected
    fail_msg: "{{ __vmpair_state.summary | join('; ') }}"

- name: Wait until the cluster is formed and healthy
  duplex.vmpair.pair_info:
    fail_on_unhealthy: true
  register: __vmpair_state
  until: __vmpair_state is succeeded
  retries: 30
  delay: 2

- name: Show the problems, if any
  ansible.builtin.debug:
    var: __vmpair_state.summary

- name: Compare everything with the site model (what validate.yml does on each host)
  duplex.vmpair.pair_info:
    pair: "{{ __vmpair_site.pair }}"
    host: "{{ inventory_hostname }}"
    vms: "{{ vmpair_vms | default([]) }}"
  register: __vmpair_state

- name: Each missing redundancy with its fix
  ansible.builtin.debug:
    msg: "{{ item.severity }} {{ item.component }} {{ item.subject }}: {{ item.message }}. Fix: {{ item.fix }}"
  loop: "{{ __vmpair_state.findings }}"
"""

RETURN = r"""
redundant:
  description: True when no finding is a C(warning) or C(critical).
  returned: always
  type: bool
  sample: false
findings:
  description: Everything found missing or worth knowing, in the order cluster, fencing, resources, mirrors, libvirt,
    VMs, network.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: "C(critical), C(warning) or C(info) (see the notes)"
      type: str
    component:
      description: "C(cluster), C(witness), C(fencing), C(mirror), C(vm), C(network) or C(hypervisor)."
      type: str
    subject:
      description: The node, link, device, resource, mirror or VM concerned.
      type: str
    message:
      description: What is missing or down.
      type: str
    fix:
      description: What to do about it.
      type: str
  sample:
    - severity: warning
      component: cluster
      subject: link 1
      message: link 1 to hv-west is down
      fix: Check the cable, switch port and interface of link 1 on both hosts (ip link; corosync-cfgtool -s).
healthy:
  description: The same as RV(redundant) (kept for playbooks written before it).
  returned: always
  type: bool
  sample: false
summary:
  description: The messages of the C(warning) and C(critical) RV(findings).
  returned: always
  type: list
  elements: str
  sample: ["link 1 to hv-west is down", "no fencing device configured"]
fencing:
  description: Fencing; null when O(checks) leaves it out.
  returned: always
  type: dict
  contains:
    enabled:
      description: Cluster property stonith-enabled.
      type: bool
    devices:
      description: Each fence device with id, agent, active, role, failed, node (where it runs) and targets (the
        nodes it fences, from its C(pcmk_host_list) or C(pcmk_host_map), else from its name C(fence_NODE)).
      type: list
      elements: dict
    missing:
      description: Nodes of O(pair) without a fence device.
      type: list
      elements: str
    last_action:
      description: The newest fencing action Pacemaker remembers (action, target, delegate, origin, status,
        completed), or null.
      type: dict
watchdog:
  description: Watchdog self-fencing (diskless SBD) seen from this host; null without C(pair.watchdog) or when
    O(checks) leaves out V(fencing).
  returned: always
  type: dict
  contains:
    expected:
      description: What the site model asks (device, timeout, stonith_watchdog_timeout).
      type: dict
    node:
      description: This host's node name.
      type: str
    nodes:
      description: The pair's node names.
      type: list
      elements: str
    sbd:
      description: Whether sbd runs here (active), its state as C(systemctl is-active) prints it, and error.
      type: dict
    config:
      description: C(/etc/default/sbd) (present, device from SBD_WATCHDOG_DEV, timeout from SBD_WATCHDOG_TIMEOUT).
      type: dict
    cib:
      description: From C(cibadmin --query --scope configuration) have_watchdog, stonith_watchdog_timeout and
        stonith_timeout (as the CIB has them), levels (each node's fence levels in order, each a list of device
        ids), device (the agent of the device C(watchdog), or null) and error.
      type: dict
mirror:
  description: The DRBD resources of this host; null when O(checks) has neither V(mirror) nor V(vms).
  returned: always
  type: dict
  contains:
    loaded:
      description: The DRBD kernel module is loaded (C(/proc/drbd) exists).
      type: bool
    version:
      description: The module's version, e.g. 8.4.11.
      type: str
    error:
      description: Why the state is unknown, or null.
      type: str
    resources:
      description: Each resource with name, peer (its connection's name), role, peer_role, connection (Connected,
        Connecting, StandAlone ...), replication (Established, SyncSource, SyncTarget ...), disk and peer_disk (the
        worst volume's), suspended, protocol (A or C), out_of_sync_kib, resyncing, resync_percent, resync_eta_s,
        resync_progressing (every resyncing volume moves data now (running, not paused or suspended, with a time
        left and a speed above 0 from C(/proc/drbd))) and volumes (per volume the same, with minor,
        resync_speed_kib_s and resync_suspended, DRBD's reason when the resync is suspended, else null).
      type: list
      elements: dict
  sample:
    loaded: true
    version: 8.4.11
    resources:
      - {name: vm-web1, role: Primary, peer_role: Secondary, connection: Connected, replication: SyncSource,
         disk: UpToDate, peer_disk: Inconsistent, protocol: C, out_of_sync_kib: 40960, resyncing: true,
         resync_percent: 37.5, resync_eta_s: 12}
vms:
  description: Each VM of O(vms); null when O(vms) is empty or O(checks) leaves out V(vms).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The libvirt domain name.
      type: str
    level:
      description: The promised level (ha, recovery, ft).
      type: str
    actual_level:
      description: The level its mirror gives (protocol C is ha, A is recovery), or null.
      type: str
    protected:
      description: It has a mirror and a cluster resource.
      type: bool
    running_on:
      description: The node it runs on (for an unprotected VM running here, this host's node name, or C(this host)
        without O(pair)), or null.
      type: str
    failover_to:
      description: The node it would fail over to now, or null.
      type: str
    no_failover_reason:
      description: Why there is no failover node, or null.
      type: str
    resync_eta_s:
      description: While the only thing that keeps the VM from failing over is its mirror's resync and that resync
        progresses, the seconds until it ends (from C(/proc/drbd)); null otherwise.
      type: int
    peer_copy_uptodate:
      description: The copy on the other node is connected and UpToDate.
      type: bool
    mirror:
      description: Its DRBD resource.
      type: str
    resource:
      description: Its cluster resource.
      type: str
network:
  description: The bonded links of O(host) in O(pair); null without them or when O(checks) leaves out V(network).
  returned: always
  type: dict
  contains:
    bonds:
      description: Each bond with link, interface, exists, mode, active (the member carrying the traffic), members
        (name, up, speed_mbps, link_failures), members_up, missing_members (listed in the site model but not
        enslaved) and redundant.
      type: list
      elements: dict
hypervisor:
  description: libvirt on this host (kind, uri, running, error, domains with defined and running names); null
    without O(pair).
  returned: always
  type: dict
corosync:
  description: Corosync membership, quorum and links as seen from this host.
  returned: always
  type: dict
  contains:
    running:
      description: corosync answered (false when stopped or the tools are missing).
      type: bool
    error:
      description: Why a tool gave no status (null when all answered).
      type: str
    quorate:
      description: This host's partition is quorate.
      type: bool
    node_id:
      description: This host's corosync node id.
      type: int
    ring_id:
      description: Current ring (membership) id.
      type: str
    expected_votes:
      description: Expected votes (nodes plus the quorum device's votes).
      type: int
    highest_expected:
      description: Highest expected votes.
      type: int
    total_votes:
      description: Votes present now.
      type: int
    quorum:
      description: Votes needed for quorum.
      type: int
    activity_blocked:
      description: corosync reports "Activity blocked" (not quorate).
      type: bool
    flags:
      description: Votequorum flags, e.g. Quorate, Qdevice, 2Node, WaitForAll.
      type: list
      elements: str
    qdevice:
      description: The quorum device's vote is counted now.
      type: bool
    qdevice_votes:
      description: Votes the quorum device counts now (null when no quorum device).
      type: int
    members:
      description: Current members.
      type: list
      elements: dict
      contains:
        nodeid:
          description: Node id.
          type: int
        votes:
          description: Votes of the node.
          type: int
        qdevice_flags:
          description: Qdevice flags of the node, e.g. [A, V, NMW] (alive, vote, no master wins); [NR] when its
            qdevice is not registered; empty without a quorum device.
          type: list
          elements: str
        name:
          description: Node name.
          type: str
        local:
          description: This host.
          type: bool
    links:
      description: Every knet link of this host.
      type: list
      elements: dict
      contains:
        id:
          description: Link number.
          type: int
        transport:
          description: Link transport (udp, sctp).
          type: str
        address:
          description: Local address of the link.
          type: str
        peers:
          description: Every other node of the nodelist on this link.
          type: list
          elements: dict
          contains:
            nodeid:
              description: Peer node id.
              type: int
            name:
              description: Peer name (from the membership or Pacemaker; null if unknown).
              type: str
            connected:
              description: The link to this peer is up.
              type: bool
            status:
              description: Status text of corosync-cfgtool.
              type: str
    links_connected:
      description: Every link is connected to every peer.
      type: bool
    links_down:
      description: Each link and peer that is not connected, with link, nodeid, name and status.
      type: list
      elements: dict
  sample:
    running: true
    quorate: true
    node_id: 1
    qdevice: true
    links_connected: false
    links_down: [{link: 1, nodeid: 2, name: hv-west, status: disconnected}]
qdevice:
  description: The corosync-qdevice daemon of this host; null when no quorum device is configured (or corosync
    cannot say and O(expect_qdevice) is not set).
  returned: always
  type: dict
  contains:
    running:
      description: corosync-qdevice answered.
      type: bool
    error:
      description: Why it gave no status.
      type: str
    model:
      description: Quorum device model (net).
      type: str
    state:
      description: Connection state to qnetd, e.g. Connected, Connect failed.
      type: str
    connected:
      description: Connected to qnetd.
      type: bool
    cast_vote:
      description: qdevice casts its vote for this partition now.
      type: bool
    qnetd_host:
      description: qnetd address.
      type: str
    qnetd_port:
      description: qnetd port.
      type: int
    algorithm:
      description: Algorithm, e.g. Fifty-Fifty split.
      type: str
    tie_breaker:
      description: Tie-breaker.
      type: str
    tls:
      description:
        - "The TLS mode the running qdevice was started with, in lower case; C(supported) for
          corosync.conf's C(tls: on), C(required) for C(tls: required)."
      type: str
    tls_active:
      description: The connection to qnetd uses TLS.
      type: bool
pacemaker:
  description: Pacemaker's view of the cluster.
  returned: always
  type: dict
  contains:
    running:
      description: Pacemaker answered on this host.
      type: bool
    error:
      description: Why it gave no status.
      type: str
    dc:
      description: Name of the designated controller, null before one is elected.
      type: str
    have_quorum:
      description: Pacemaker's partition has quorum.
      type: bool
    stonith_enabled:
      description: Cluster property stonith-enabled.
      type: bool
    maintenance_mode:
      description: Cluster property maintenance-mode.
      type: bool
    nodes:
      description: Every cluster node with name, id, online, standby, maintenance, unclean, pending, shutdown,
        is_dc, resources_running and type.
      type: list
      elements: dict
    stonith:
      description: Fencing devices with id, agent (e.g. fence_ipmilan), active, role, failed and node (where it
        runs, or null).
      type: list
      elements: dict
    resources:
      description: C(configured), C(disabled) and C(blocked) counts (fencing devices included) and C(items),
        every other resource with id, agent, role, target_role, active, failed, managed, blocked, nodes and
        parent (group or clone).
      type: dict
    failures:
      description: Failed actions with resource, node, task, interval_ms, exitstatus, exitreason, exitcode and
        last_rc_change.
      type: list
      elements: dict
    fence_events:
      description: Fencing history as crm_mon shows it (action, target, delegate, origin, status, completed).
      type: list
      elements: dict
"""

import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError, CommandRunner
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import PROC_DRBD
from ansible_collections.duplex.vmpair.plugins.module_utils.health import facts as state
from ansible_collections.duplex.vmpair.plugins.module_utils.health.base import Output


def run_tools(runner, commands):
    """Run every read-only tool; a missing program becomes an Output with rc None."""
    outputs = {}
    for key, cmd in commands.items():
        try:
            result = runner.run(cmd, check_rc=False)
        except CommandError:
            outputs[key] = Output(None, "", "")
            continue
        outputs[key] = Output(result.rc, result.stdout, result.stderr)
    return outputs


def main():
    module = AnsibleModule(
        argument_spec={
            "fail_on_unhealthy": {"type": "bool", "default": False},
            "expect_qdevice": {"type": "bool"},
            "pair": {"type": "dict"},
            "host": {"type": "str"},
            "vms": {"type": "list", "elements": "dict", "default": []},
            "checks": {"type": "list", "elements": "str", "choices": list(state.CHECKS), "default": list(state.CHECKS)},
        },
        required_by={"host": ["pair"]},
        supports_check_mode=True,
    )
    params = module.params
    pair = params["pair"]
    hypervisor = pair.get("hypervisor") if pair else None
    # /proc/drbd says whether DRBD is loaded (then its tools run) and is read once for the mirrors' facts.
    proc_drbd = read_file(PROC_DRBD)
    commands = state.commands(params["checks"], hypervisor, proc_drbd is not None, bool(pair and pair.get("watchdog")))
    facts = state.build_facts(
        run_tools(CommandRunner(module), commands),
        params["expect_qdevice"],
        pair=pair,
        host=params["host"],
        vms=params["vms"],
        checks=params["checks"],
        read=lambda path: proc_drbd if path == PROC_DRBD else read_file(path),
        uname=platform.node(),
    )
    if params["fail_on_unhealthy"] and not facts["redundant"]:
        module.fail_json(msg="; ".join(facts["summary"]), changed=False, **facts)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()

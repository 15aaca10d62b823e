#!/usr/bin/python
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function  # noqa: UP010

__metaclass__ = type  # noqa: UP001

DOCUMENTATION = r"""
module: pair_info
short_description: Read the live cluster state of a pair host
version_added: 0.1.0
description:
  - Runs the read-only cluster tools on a pair host (C(corosync-quorumtool -s), C(corosync-cfgtool -s),
    C(corosync-cmapctl -g quorum.device.model), C(corosync-qdevice-tool -sv) and
    C(crm_mon --output-as=xml -1 --inactive)) and returns their state as structured facts.
  - Also returns RV(summary), a list of plain-English problems (for example C(link 1 to hv-west is down),
    C(the qdevice vote is missing), C(node hv-west is offline), C(no fencing device configured)),
    and RV(healthy).
  - A missing tool or a stopped daemon is reported as state (C(running=false) and an C(error) text), not as a
    failure, unless O(fail_on_unhealthy=true).
  - Never changes anything.
options:
  fail_on_unhealthy:
    description:
      - Fail when RV(summary) lists any problem; the problems are the failure message.
      - The facts are returned in both cases.
    type: bool
    default: false
  expect_qdevice:
    description:
      - Whether a corosync quorum device is expected.
      - By default it is expected when corosync's running configuration has one (C(quorum.device.model)).
      - With V(true), a missing qdevice is a problem even when corosync cannot be asked.
    type: bool
requirements:
  - corosync (corosync-quorumtool, corosync-cfgtool, corosync-cmapctl)
  - corosync-qdevice when a quorum device is used
  - pacemaker-cli-utils (crm_mon)
attributes:
  check_mode:
    support: full
    description: Only reads state, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
notes:
  - Made for corosync 3 with knet links, corosync-qdevice 3 (model net) and Pacemaker 2.1 as shipped by Debian 12.
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
"""

RETURN = r"""
healthy:
  description: True when RV(summary) is empty.
  returned: always
  type: bool
  sample: false
summary:
  description: Every problem found, in plain English, each naming what is missing or down.
  returned: always
  type: list
  elements: str
  sample: ["link 1 to hv-west is down", "no fencing device configured"]
corosync:
  description: Corosync membership, quorum and links as seen from this host.
  returned: always
  type: dict
  contains:
    running: {description: corosync answered (false when stopped or the tools are missing)., type: bool}
    error: {description: Why a tool gave no status (null when all answered)., type: str}
    quorate: {description: This host's partition is quorate., type: bool}
    node_id: {description: This host's corosync node id., type: int}
    ring_id: {description: Current ring (membership) id., type: str}
    expected_votes: {description: Expected votes (nodes plus the quorum device's votes)., type: int}
    highest_expected: {description: Highest expected votes., type: int}
    total_votes: {description: Votes present now., type: int}
    quorum: {description: Votes needed for quorum., type: int}
    activity_blocked: {description: corosync reports "Activity blocked" (not quorate)., type: bool}
    flags:
      description: Votequorum flags, e.g. Quorate, Qdevice, 2Node, WaitForAll.
      type: list
      elements: str
    qdevice: {description: The quorum device's vote is counted now., type: bool}
    qdevice_votes: {description: Votes the quorum device counts now (null when no quorum device)., type: int}
    members:
      description: Current members.
      type: list
      elements: dict
      contains:
        nodeid: {description: Node id., type: int}
        votes: {description: Votes of the node., type: int}
        qdevice_flags:
          description: Qdevice flags of the node, e.g. [A, V, NMW] (alive, vote, no master wins); [NR] when its
            qdevice is not registered; empty without a quorum device.
          type: list
          elements: str
        name: {description: Node name., type: str}
        local: {description: This host., type: bool}
    links:
      description: Every knet link of this host.
      type: list
      elements: dict
      contains:
        id: {description: Link number., type: int}
        transport:
          description: Link transport (udp, sctp).
          type: str
        address: {description: Local address of the link., type: str}
        peers:
          description: Every other node of the nodelist on this link.
          type: list
          elements: dict
          contains:
            nodeid: {description: Peer node id., type: int}
            name: {description: Peer name (from the membership or Pacemaker; null if unknown)., type: str}
            connected: {description: The link to this peer is up., type: bool}
            status: {description: Status text of corosync-cfgtool., type: str}
    links_connected: {description: Every link is connected to every peer., type: bool}
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
    running: {description: corosync-qdevice answered., type: bool}
    error: {description: Why it gave no status., type: str}
    model: {description: Quorum device model (net)., type: str}
    state:
      description: Connection state to qnetd, e.g. Connected, Connect failed.
      type: str
    connected: {description: Connected to qnetd., type: bool}
    cast_vote: {description: qdevice casts its vote for this partition now., type: bool}
    qnetd_host: {description: qnetd address., type: str}
    qnetd_port: {description: qnetd port., type: int}
    algorithm:
      description: Algorithm, e.g. Fifty-Fifty split.
      type: str
    tie_breaker: {description: Tie-breaker., type: str}
    tls_active: {description: The connection to qnetd uses TLS., type: bool}
pacemaker:
  description: Pacemaker's view of the cluster.
  returned: always
  type: dict
  contains:
    running: {description: Pacemaker answered on this host., type: bool}
    error: {description: Why it gave no status., type: str}
    dc:
      description: Name of the designated controller, null before one is elected.
      type: str
    have_quorum: {description: Pacemaker's partition has quorum., type: bool}
    stonith_enabled: {description: Cluster property stonith-enabled., type: bool}
    maintenance_mode: {description: Cluster property maintenance-mode., type: bool}
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils import state
from ansible_collections.duplex.vmpair.plugins.module_utils.runner import CommandError, CommandRunner


def run_tools(runner):
    """Run every read-only tool; a missing program becomes an Output with rc None."""
    outputs = {}
    for key, cmd in state.COMMANDS.items():
        try:
            result = runner.run(cmd, check_rc=False)
        except CommandError:
            outputs[key] = state.Output(None, "", "")
            continue
        outputs[key] = state.Output(result.rc, result.stdout, result.stderr)
    return outputs


def main():
    module = AnsibleModule(
        argument_spec={
            "fail_on_unhealthy": {"type": "bool", "default": False},
            "expect_qdevice": {"type": "bool"},
        },
        supports_check_mode=True,
    )
    facts = state.build_facts(run_tools(CommandRunner(module)), module.params["expect_qdevice"])
    if module.params["fail_on_unhealthy"] and not facts["healthy"]:
        module.fail_json(msg="; ".join(facts["summary"]), changed=False, **facts)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()

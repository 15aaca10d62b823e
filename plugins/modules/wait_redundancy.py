#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: wait_redundancy
short_description: Wait until mirrors are UpToDate on both hosts, showing the progress
version_added: 0.1.0
description:
  - "Reads the host's DRBD mirrors (C(duplex.vmpair.pair_info) with C(checks=[mirror])) every O(interval) seconds
    and, after each read, shows one line while the task runs, for example
    C(hv-east, 1 min 20 s: vm-web1 SyncSource 42.0 % done, 1.2 GiB left, about 3 min 0 s left at 6.8 MiB/s)."
  - Ends when every mirror it waits for is Connected and UpToDate on both hosts, not resyncing.
  - The time left is DRBD's own estimate where it gives one (C(/proc/drbd) of DRBD 8.4), otherwise the amount
    out of sync divided by the rate at which it shrank over the last O(stall_timeout) seconds of this wait.
  - Fails when nothing has progressed for O(stall_timeout) seconds (the amount out of sync did not shrink, the
    resync percent did not grow and no mirror became UpToDate), for example a mirror that does not reconnect
    or a resync that stands still, and when O(timeout) has passed. The message names the mirrors, their
    state and the fix.
  - Fails at once when a mirror it should wait for is not up on the host, and when the host cannot say how its
    mirrors are (C(drbdsetup) failing, or the DRBD module not loaded while O(vms) or O(resources) name mirrors).
    A host without the DRBD module and nothing named has no mirror to wait for, and the task ends at once.
  - The C(duplex.vmpair.protect) playbook runs it with C(-e wait=true), C(duplex.vmpair.maintenance) when a host
    leaves maintenance, and C(duplex.vmpair.split_brain) for the resync after the recovery.
options:
  vms:
    description:
      - The VMs whose mirrors to wait for (each VM's DRBD resource C(vm-NAME)).
      - With neither O(vms) nor O(resources), every DRBD resource of the host.
    type: list
    elements: str
    default: []
  resources:
    description:
      - DRBD resources to wait for, by name, besides those of O(vms).
    type: list
    elements: str
    default: []
  interval:
    description:
      - Seconds between two reads, and so between two progress lines.
    type: int
    default: 10
  stall_timeout:
    description:
      - Fail when no read has shown progress for this many seconds.
      - A mirror that is still connecting counts as no progress, so this is also how long a mirror may take to
        reconnect.
    type: int
    default: 300
  timeout:
    description:
      - Fail when the mirrors are not redundant after this many seconds, even while they progress.
    type: int
    default: 7200
attributes:
  check_mode:
    support: full
    description: Only reads state, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  action:
    support: full
    description: An action plugin that runs C(duplex.vmpair.pair_info) on the host once per O(interval).
notes:
  - Each read runs C(duplex.vmpair.pair_info) on the host, so each line costs one module run there (corosync's,
    Pacemaker's and DRBD's read-only tools).
  - The lines are shown by the controller as the reads come back, in every output mode; they are also returned in
    RV(lines).
seealso:
  - module: duplex.vmpair.pair_info
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Wait for the initial copy of web1 and db1 to the peer, showing its progress
  duplex.vmpair.wait_redundancy:
    vms: [web1, db1]

- name: Wait until every mirror of the host is UpToDate on both hosts (at most 2 hours, fail after 5 min stalled)
  duplex.vmpair.wait_redundancy:
    interval: 15
    stall_timeout: 300
    timeout: 7200
  register: __vmpair_waited

- name: How long it took
  ansible.builtin.debug:
    msg: "{{ __vmpair_waited.elapsed }} s, {{ __vmpair_waited.samples | length }} reads"
"""

RETURN = r"""
elapsed:
  description: Seconds from the first read to the last.
  returned: always
  type: float
  sample: 182.4
lines:
  description: The progress lines shown, one per read.
  returned: always
  type: list
  elements: str
  sample:
    - "hv-east, 0 s: vm-web1 SyncSource 41.0 % done, 1.2 GiB left"
    - "hv-east, 10 s: vm-web1 SyncSource 42.0 % done, 1.2 GiB left, about 3 min 0 s left at 6.8 MiB/s"
    - "hv-east, 3 min 10 s: vm-web1 UpToDate on both hosts"
samples:
  description: One per read, what it said about progress.
  returned: always
  type: list
  elements: dict
  contains:
    elapsed:
      description: Seconds since the first read.
      type: float
    percent:
      description: The least advanced mirror's resync percent; 100 when all are redundant; null when unknown.
      type: float
    out_of_sync_kib:
      description: KiB out of sync, all the mirrors together.
      type: int
    pending:
      description: How many of the mirrors were not yet redundant.
      type: int
  sample:
    - {elapsed: 0.0, percent: 41.0, out_of_sync_kib: 1258291, pending: 1}
    - {elapsed: 190.3, percent: 100.0, out_of_sync_kib: 0, pending: 0}
mirrors:
  description: The mirrors waited for as the last read found them (C(duplex.vmpair.pair_info)'s
    C(mirror.resources)).
  returned: always
  type: list
  elements: dict
msg:
  description: The last progress line, or why the wait failed.
  returned: always
  type: str
"""

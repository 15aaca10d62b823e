#!/usr/bin/python
# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fence_device
short_description: Manage a Pacemaker fence (stonith) device with pcs
version_added: 0.1.0
description:
  - Creates, updates or deletes one stonith device with C(pcs stonith create), C(pcs stonith update) and
    C(pcs stonith delete), after reading the device and its constraints from the CIB.
  - All changes of one run are made on a copy of the CIB and pushed to the cluster in one transaction.
  - When O(host) is set the device fences that node only (C(pcmk_host_list)) and a location constraint
    (C(pcs constraint location NAME avoids HOST)) keeps it off that node, so the node never runs the device
    that kills it.
  - Option values are secret unless the option is a known non-secret one, and secret values are shown as
    C(********) in the diff, in the returned commands, in errors and in the module's invocation. The known
    non-secret options are addresses, ports and user names (C(ip), C(ipaddr), C(ipport), C(username),
    C(login), C(plug), C(port)), protocol settings (C(lanplus), C(auth), C(cipher), C(privlvl), C(method),
    C(ssl), C(ssl_insecure), C(systems_uri), C(snmp_version), ...), timeouts, delays, retries, logging, the paths of
    helper programs, and Pacemaker's C(pcmk_*) host, delay and action options. Any other option (C(password),
    C(hexadecimal_kg), C(community), C(snmp_priv_passwd), an API key, an option unknown to this list) is
    secret, and so is an option whose metadata type is C(password).
  - Only secret values stay masked in the module's output; the other option values are shown so the diff is
    readable.
  - With O(password_file) the CIB holds no password; the device reads it from that file at each fence or
    monitor call through fence-agents' C(password_script) option (C(password_script=/bin/cat FILE)).
extends_documentation_fragment:
  - duplex.vmpair.common
  - duplex.vmpair.common.full_support
  - duplex.vmpair.common.cib_file
options:
  name:
    description:
      - Id of the stonith resource, for example C(fence_hv-east).
    type: str
    required: true
  agent:
    description:
      - Fence agent, for example C(fence_ipmilan) or C(fence_redfish).
      - It must be installed on the host (Debian package C(fence-agents)); the module fails naming the agent
        and the package otherwise.
      - When an existing device uses another agent, it is deleted and created again (pcs cannot change the
        agent of a device).
      - Required when O(state=present).
    type: str
  options:
    description:
      - The agent's options (instance attributes), for example C(ip), C(username), C(password), C(lanplus).
      - This is the complete set; options on the device that are neither here nor set through O(host) and
        O(delay) are removed.
      - Booleans become C(true)/C(false), numbers their decimal text.
      - pcs validates the names against the agent's metadata.
    type: dict
    default: {}
  meta:
    description:
      - Meta attributes of the device, for example C(priority).
      - Only the attributes named here are managed; a null value removes one. Others (such as C(target-role)
        set by C(pcs stonith disable)) are kept.
    type: dict
    default: {}
  host:
    description:
      - The node this device fences.
      - Sets C(pcmk_host_list) and creates the C(avoids) location constraint for that node. An avoids
        constraint this module created earlier for another node is removed.
    type: str
  delay:
    description:
      - Seconds to wait before fencing through this device (C(pcmk_delay_base=<delay>s)).
      - Set it on the device that fences the node which should win a fence race; fencing that node waits,
        so it shoots first. In a two-node cluster without a witness set it on one of the two devices only.
      - Omitted means no C(pcmk_delay_base) (unless set in O(options)).
    type: int
  password_file:
    description:
      - Path of a file on this host that holds the device's password, owned by root, mode C(0600).
      - When set, the password option of O(options) (C(password) or C(passwd)) is not written to the CIB; the
        device gets C(password_script=/bin/cat PASSWORD_FILE) instead, and a device that still has C(password)
        or C(passwd) in the CIB is converted with one C(pcs stonith update).
      - The module does not write the file. It fails, in check mode too, when the file is missing, empty, not
        owned by root or not mode C(0600), naming the fix. Write it first on every node that may run the
        device; with O(host) that is every node but O(host) (the role M(duplex.vmpair.cluster) writes it on
        the peer of the fenced node and runs this module there).
      - An absolute path of letters, digits and C(. _ + - /) only (the agent runs the script through a shell).
      - Options that have no script form (C(hexadecimal_kg), C(community), ...) stay in the CIB, masked in the
        output.
      - Cannot be combined with C(password_script) or C(passwd_script) in O(options).
    type: path
  state:
    description:
      - V(present) creates or updates the device, V(absent) deletes it with its constraints.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - pcs 0.11, pacemaker-cli-utils (cibadmin, crm_resource) and the fence agent on the target host.
notes:
  - O(options) is C(no_log) because it holds passwords; the values of its non-secret options are shown again
    in the invocation, the others stay hidden.
seealso:
  - module: duplex.vmpair.cluster_properties
author:
  - duplex.vmpair contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: IPMI device that fences hv-east, never running on hv-east
  duplex.vmpair.fence_device:
    name: fence_hv-east
    agent: fence_ipmilan
    host: hv-east
    delay: 10
    options:
      ip: 192.0.2.10
      username: admin
      password: "{{ vault_ipmi_east }}"
      lanplus: true

- name: The same device, its password read from a root-only file instead of the CIB
  duplex.vmpair.fence_device:
    name: fence_hv-east
    agent: fence_ipmilan
    host: hv-east
    password_file: /etc/vmpair/fence/fence_hv-east.password
    options:
      ip: 192.0.2.10
      username: admin
      lanplus: true

- name: Remove a device
  duplex.vmpair.fence_device:
    name: fence_old
    state: absent

- name: Stage a device in an offline CIB file and show what changes
  duplex.vmpair.fence_device:
    cib_file: /root/staged-cib.xml
    name: fence_hv-west
    agent: fence_ipmilan
    host: hv-west
    options:
      ip: 192.0.2.11
      username: admin
      password: "{{ vault_ipmi_west }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
commands:
  description:
    - The pcs commands that were applied (or would be in check mode), as argument lists, in order.
    - They run on a copy of the CIB (C(pcs -f COPY)) that is pushed once (C(pcs cluster cib-push
      diff-against=...)), so a new device and its C(avoids) constraint reach the cluster together.
    - Secret values are replaced by C(********).
  returned: success
  type: list
  elements: list
  sample:
    - [pcs, stonith, create, fence_hv-east, fence_ipmilan, ip=192.0.2.10, password=********, pcmk_delay_base=10s,
       pcmk_host_list=hv-east, username=admin]
    - [pcs, constraint, location, fence_hv-east, avoids, hv-east]
secret_options:
  description: Names of the options whose values are masked.
  returned: success
  type: list
  elements: str
  sample: [password]
diff:
  description: The device (agent, options, meta attributes, avoided nodes) before and after, secrets masked.
  returned: success
  type: dict
  contains:
    before: {description: The device before the run (empty when absent)., type: str}
    after: {description: The device after the run (empty when absent)., type: str}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import run_and_exit
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.cib import PcsError, normalize_value
from ansible_collections.duplex.vmpair.plugins.module_utils.pacemaker.fencing import (
    ensure_fence_device,
    secret_option_names,
)


def _mask_only_secrets(module, options, secret_names):
    """Keep Ansible's no_log masking for secret option values only.

    ``options`` is no_log, so Ansible would replace every option value - even
    "1" or an IP address - wherever it appears in the output, which garbles the
    diff and errors. Only the values of secret options stay masked here; the
    runner and pacemaker/fencing.py mask those themselves as well.
    """
    secret = set()
    plain = set()
    for name, value in options.items():
        value = normalize_value(value)
        if value:
            (secret if name in secret_names else plain).add(value)
    module.no_log_values.difference_update(plain - secret)
    module.no_log_values.update(secret)


def run_module():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "agent": {"type": "str"},
            "options": {"type": "dict", "default": {}, "no_log": True},
            "meta": {"type": "dict", "default": {}},
            "host": {"type": "str"},
            "delay": {"type": "int"},
            "password_file": {"type": "path", "no_log": False},  # a path, not a secret
            "state": {
                "type": "str",
                "choices": ["present", "absent"],
                "default": "present",
            },
            "cib_file": {"type": "path"},
        },
        required_if=[("state", "present", ["agent"])],
        supports_check_mode=True,
    )
    params = module.params

    def work(runner):
        # Secrets known by name now, those known from the agent's metadata after the run.
        _mask_only_secrets(module, params["options"], secret_option_names(params["options"]))
        result = ensure_fence_device(
            runner,
            params["name"],
            agent=params["agent"],
            options=params["options"],
            meta=params["meta"],
            host=params["host"],
            delay=params["delay"],
            state=params["state"],
            check_mode=module.check_mode,
            password_file=params["password_file"],
        )
        # With password_file the password is not on the device, but it is still a secret.
        secrets = set(result.data["secret_options"]) | secret_option_names(params["options"])
        _mask_only_secrets(module, params["options"], secrets)
        return result

    run_and_exit(module, work, errors=[PcsError], cib_file=params["cib_file"])


def main():
    run_module()


if __name__ == "__main__":
    main()

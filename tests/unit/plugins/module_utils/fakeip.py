# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's ``ip`` faked at the process boundary, for the tests of redundant_path.

FAKE, and why: this machine's kernel has no bonding driver (``ip link add ... type bond`` answers
"Unknown device type") and the tests must not touch its network anyway. :class:`FakeIp` keeps
links and addresses as iproute2 6.1 reports them and answers ``ip -json -details link show`` and
``ip -json address show`` with the same JSON keys (``linkinfo.info_kind``, ``info_data`` of a
bond as printed by iproute2's ip/iplink_bond.c, ``info_slave_kind``/``info_slave_data`` of a
member, ``master``, ``flags``, ``addr_info``). It carries out the ``ip link``/``ip address``
commands the planner emits, with the kernel's refusals that matter here: a member must be down
to be enslaved, a bond's mode changes only when it is down and empty. The state can start from
a captured ``ip -json`` output of a real host.
"""

import copy
import json

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError, CommandResult


def link(ifname, kind=None, up=True, master=None, mtu=1500, bond=None, addresses=(), operstate=None):
    """One entry of ``ip -json -details link show`` merged with its ``addr_info``."""
    entry = {"ifname": ifname, "flags": ["BROADCAST", "MULTICAST"] + (["UP", "LOWER_UP"] if up else []), "mtu": mtu}
    entry["operstate"] = operstate or ("UP" if up else "DOWN")
    if master:
        entry["master"] = master
    if kind or bond:
        entry["linkinfo"] = {"info_kind": kind or "bond"}
    if bond:
        entry["linkinfo"]["info_data"] = dict(bond)
    entry["addr_info"] = [_addr(a) for a in addresses]
    return entry


def _addr(cidr):
    local, prefix = cidr.split("/")
    return {"family": "inet6" if ":" in local else "inet", "local": local, "prefixlen": int(prefix), "scope": "global"}


class FakeIp:
    def __init__(self, links=(), link_json=None, address_json=None):
        self.links = {}
        self.calls = []
        self.secrets = set()
        self.fail = {}  # a word of the command line -> stderr of a failure
        if link_json:
            addrs = {i["ifname"]: i.get("addr_info", []) for i in json.loads(address_json or "[]")}
            for item in json.loads(link_json):
                item = dict(item, addr_info=addrs.get(item["ifname"], []))
                self.links[item["ifname"]] = item
        for item in copy.deepcopy(list(links)):
            self.links[item["ifname"]] = item

    # the runner interface -------------------------------------------------------

    def run(self, cmd, data=None, check_rc=True):
        cmd = [str(c) for c in cmd]
        self.calls.append(cmd)
        for word, err in self.fail.items():
            if word in cmd:
                raise CommandError("%s failed (rc=2): %s" % (" ".join(cmd), err), cmd=cmd, rc=2, stderr=err)
        if cmd == ["ip", "-json", "-details", "link", "show"]:
            out = [{k: v for k, v in i.items() if k != "addr_info"} for i in self.links.values()]
            return CommandResult(cmd, 0, json.dumps(self._with_members(out)), "")
        if cmd == ["ip", "-json", "address", "show"]:
            out = [{k: v for k, v in i.items() if k != "linkinfo"} for i in self.links.values()]
            return CommandResult(cmd, 0, json.dumps(out), "")
        if cmd[:2] == ["ip", "link"]:
            self._link(cmd[2:])
        elif cmd[:2] == ["ip", "address"]:
            self._address(cmd[2], cmd[3], cmd[5])
        return CommandResult(cmd, 0, "", "")

    def changing_calls(self):
        return [c for c in self.calls if "-json" not in c]

    # state -----------------------------------------------------------------------

    def _with_members(self, out):
        for item in out:
            master = self.links.get(item.get("master") or "")
            if master and master["linkinfo"]["info_kind"] == "bond":
                active = master["linkinfo"]["info_data"].get("active_slave") == item["ifname"]
                item["linkinfo"] = dict(item.get("linkinfo") or {}, info_slave_kind="bond")
                item["linkinfo"]["info_slave_data"] = {"state": "ACTIVE" if active else "BACKUP", "mii_status": "UP"}
        return out

    def _error(self, cmd, err):
        raise CommandError("ip %s failed (rc=2): %s" % (" ".join(cmd), err), cmd=["ip"] + cmd, rc=2, stderr=err)

    def _bond_opts(self, cmd, data, opts):
        data = dict(data)
        pairs = {opts[i]: opts[i + 1] for i in range(0, len(opts) - 1, 2)}
        if "mode" in pairs:
            data["mode"] = pairs["mode"]
        if "miimon" in pairs:
            data.update(miimon=int(pairs["miimon"]), arp_interval=0)
        if "arp_interval" in pairs:
            data.update(arp_interval=int(pairs["arp_interval"]), miimon=0)
        if "arp_ip_target" in pairs:
            data["arp_ip_target"] = pairs["arp_ip_target"].split(",")
        if "lacp_rate" in pairs:
            data["ad_lacp_rate"] = pairs["lacp_rate"]
        if "primary" in pairs:
            data["primary"] = data["active_slave"] = pairs["primary"]
        return data

    def _link(self, cmd):
        if cmd[0] == "add":
            name, kind = cmd[1], cmd[3]
            data = {"mode": "balance-rr", "miimon": 0} if kind == "bond" else {"stp_state": 0}
            data = self._bond_opts(cmd, data, cmd[4:]) if kind == "bond" else data
            self.links[name] = link(name, kind=kind, up=False, bond=None)
            self.links[name]["linkinfo"]["info_data"] = data
            return
        name, rest = cmd[2], cmd[3:]
        dev = self.links.get(name) or self._error(cmd, 'Cannot find device "%s"' % name)
        if rest[0] in ("up", "down"):
            dev["flags"] = [f for f in dev["flags"] if f not in ("UP", "LOWER_UP")]
            dev["flags"] += ["UP", "LOWER_UP"] if rest[0] == "up" else []
            dev["operstate"] = rest[0].upper()
        elif rest[0] == "master":
            if "UP" in dev["flags"] and self.links[rest[1]]["linkinfo"]["info_kind"] == "bond":
                self._error(cmd, "Device can not be enslaved while up.")
            dev["master"] = rest[1]
            data = self.links[rest[1]]["linkinfo"].get("info_data") or {}
            if data.get("mode") == "active-backup" and not data.get("active_slave"):
                data["active_slave"] = name
        elif rest[0] == "nomaster":
            dev.pop("master", None)
        elif rest[0] == "mtu":
            dev["mtu"] = int(rest[1])
        elif rest[:2] == ["type", "bond"]:
            data = dev["linkinfo"]["info_data"]
            if "mode" in rest and ("UP" in dev["flags"] or any(i.get("master") == name for i in self.links.values())):
                self._error(cmd, "Error: option mode: unable to set because the bond device is up.")
            dev["linkinfo"]["info_data"] = self._bond_opts(cmd, data, rest[2:])

    def _address(self, verb, cidr, name):
        dev = self.links[name]
        if verb == "add":
            dev["addr_info"].append(_addr(cidr))
        else:
            dev["addr_info"] = [a for a in dev["addr_info"] if "%s/%s" % (a["local"], a["prefixlen"]) != cidr]

# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pair host faked at the process boundary, for the tests of protecting a VM.

FAKE, and why: lvcreate, drbdadm up/primary and virsh blockcopy need device-mapper, the DRBD
kernel module and a running QEMU guest, none of which this machine's kernel offers (the
real-kernel lab runs them for real). So :class:`FakeHost` answers those commands the way the
real tools do (the output formats are those of virsh 9.0 -- checked against libvirt's test
driver --, lvm2 2.03 and drbd-utils 9.22 on DRBD 8.4) and keeps the state they would change:
LVs, DRBD resources (role, disk and connection states), domain definitions, live disk sources
and whether the guest runs. Everything above the process boundary -- the reader's parsers, the
planner, the step logic and rollback -- is the real code.
"""

import os
import re
import xml.etree.ElementTree as ET

from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError, CommandResult

QUORUMTOOL = os.path.join(
    os.path.dirname(__file__), "..", "..", "fixtures", "state", "bookworm", "healthy", "quorumtool.txt"
)


class FakeHost:
    def __init__(self, name, domain_xml=None, running=False, lvs=None, free=500 * 1024**3, extent=4 * 1024**2):
        self.name = name
        self.secrets = set()
        self.redact = None
        self.cib_file = None
        self.calls = []
        self.lvs = dict(lvs or {})
        self.free = free
        self.extent = extent
        self.drbd = {}  # resource -> {"role", "disk", "cstate", "md": set(volumes)}
        self.metadata = set()  # LV paths with DRBD metadata
        self.domains = {}
        self.fail = {}  # command word (e.g. "blockcopy", "up") -> stderr of a failure
        self.copied = []  # the <disk> elements given to virsh blockcopy --xml
        self.dump_xml = None  # drbdadm dump-xml output (from the real drbdadm, set by the test)
        if domain_xml:
            self.define(domain_xml, running)

    # state -------------------------------------------------------------------

    def define(self, xml, running=None):
        name = re.search(r"<name>([^<]+)</name>", xml).group(1)
        old = self.domains.get(name)
        live = {}
        devices = {}
        for disk in ET.fromstring(xml).findall("devices/disk"):
            source = disk.find("source")
            target = disk.find("target").get("dev")
            live[target] = None if source is None else (source.get("dev") or source.get("file"))
            devices[target] = (disk.get("type"), disk.get("device"))
        dom = {"xml": xml, "running": bool(running if running is not None else old and old["running"])}
        dom["persistent"] = True
        dom["devices"] = devices
        dom["live"] = old["live"] if old and old["running"] else live
        self.domains[name] = dom

    # the runner interface ------------------------------------------------------

    def mask_cmd(self, cmd):
        return list(cmd)

    def add_secrets(self, values):
        self.secrets.update(values)

    def run(self, cmd, data=None, check_rc=True):
        cmd = [str(c) for c in cmd]
        self.calls.append(cmd)
        rc, out, err = self._answer(cmd)
        if check_rc and rc != 0:
            raise CommandError("%s failed (rc=%s): %s" % (" ".join(cmd), rc, err.strip()), cmd=cmd, rc=rc, stderr=err)
        return CommandResult(cmd, rc, out, err)

    def changing_calls(self):
        reads = ("domstate", "dominfo", "dumpxml", "domblklist", "domblkinfo", "vgs", "lvs", "dump-xml", "role",
                 "cstate", "dstate", "dump-md", "-d", "dump", "--info", "--query", "-s", "-c")  # fmt: skip
        out = []
        for cmd in self.calls:
            words = cmd[3:] if cmd[0] == "virsh" else cmd[1:]
            if cmd[0] in ("cibadmin", "ping", "corosync-quorumtool", "vgs", "lvs"):
                continue
            if words and (words[0] in reads or "--info" in words):
                continue
            out.append(cmd)
        return out

    # the tools -------------------------------------------------------------------

    def _answer(self, cmd):
        tool = cmd[0]
        for word, err in self.fail.items():
            if word in cmd:
                return 1, "", err
        if tool == "virsh":
            return self._virsh(cmd[3:])
        if tool in ("vgs", "lvs", "lvcreate", "lvremove", "lvrename"):
            return self._lvm(tool, cmd[1:])
        if tool == "drbdadm":
            return self._drbdadm(cmd[1:])
        if tool == "qemu-img":
            return 0, "", ""
        if tool == "corosync-quorumtool":
            with open(QUORUMTOOL) as f:  # captured from a quorate lab pair
                return 0, f.read(), ""
        if tool == "cibadmin":
            return 105, "", "No such device or address"
        if tool == "ping":
            return 0, "", ""
        raise AssertionError("unexpected command %r" % cmd)

    def _virsh(self, args):
        verb, rest = args[0], args[1:]
        name = rest[-1] if verb in ("domstate", "dominfo", "dumpxml", "shutdown", "start", "undefine") else rest[0]
        dom = self.domains.get(name)
        if verb == "define":
            with open(rest[0]) as f:
                self.define(f.read())
            return 0, "Domain '%s' defined from %s\n" % (name, rest[0]), ""
        if dom is None:
            return 1, "", "error: failed to get domain '%s'\n" % name
        if verb == "domstate":
            return 0, ("running" if dom["running"] else "shut off") + "\n\n", ""
        if verb == "dominfo":
            return (
                0,
                "Name:           %s\nUUID:           x\nState:          %s\nPersistent:     %s\n"
                % (name, "running" if dom["running"] else "shut off", "yes" if dom["persistent"] else "no"),
                "",
            )
        if verb == "dumpxml":
            return 0, dom["xml"], ""
        if verb == "domblklist":
            rows = "".join(
                " %s  %s     %s      %s\n" % (dom["devices"].get(t, ("block", "disk")) + (t, s or "-"))
                for t, s in sorted(dom["live"].items())
            )
            return 0, " Type   Device   Target   Source\n-----------------------------\n" + rows + "\n", ""
        if verb == "domblkinfo":
            return 0, "Capacity:       %d\nAllocation:     0\nPhysical:       0\n" % (20 * 1024**3), ""
        if verb == "blockjob":
            if "--abort" in rest:
                return 0, "", ""
            return 0, "No current block job for %s\n" % rest[1], ""
        if verb == "blockcopy":
            target = rest[1]
            with open(rest[rest.index("--xml") + 1]) as f:
                disk = ET.fromstring(f.read())
            self.copied.append(disk)
            dom["live"][target] = disk.find("source").get("dev")
            return 0, "\nSuccessfully pivoted\n", ""
        if verb == "shutdown":
            dom["running"] = False
            return 0, "Domain '%s' is being shutdown\n" % name, ""
        if verb == "start":
            dom["running"] = True
            return 0, "Domain '%s' started\n" % name, ""
        if verb == "undefine":
            del self.domains[name]
            return 0, "Domain '%s' has been undefined\n" % name, ""
        raise AssertionError("unexpected virsh %r" % args)

    def _lvm(self, tool, args):
        if tool == "vgs":
            used = sum(self.lvs.values())
            return 0, "  vg_vms:%d:%d:%d\n" % (1000 * 1024**3, self.free - used, self.extent), ""
        if tool == "lvs":
            return 0, "".join("  %s:%d\n" % item for item in sorted(self.lvs.items())), ""
        if tool == "lvcreate":
            name, size = args[args.index("-n") + 1], int(args[args.index("-L") + 1].rstrip("b"))
            self.lvs[name] = size
            return 0, '  Logical volume "%s" created.\n' % name, ""
        if tool == "lvremove":
            self.lvs.pop(args[-1].split("/")[-1])
            return 0, "", ""
        if tool == "lvrename":
            self.lvs[args[2]] = self.lvs.pop(args[1])
            return 0, "", ""
        raise AssertionError(tool)

    def _drbdadm(self, args):
        verb = args[0]
        target = args[-1]
        res = target.split("/")[0]
        state = self.drbd.get(res)
        if verb == "dump-xml":
            if self.dump_xml is None:
                return 1, "", "no resources defined!\n"
            return 0, self.dump_xml, ""
        if verb == "dump":
            return 0, "", ""
        if verb in ("role", "cstate", "dstate"):
            if state is None:
                return 10, "", "%s: No such resource\n" % res
            return (
                0,
                {"role": state["role"] + "/Unknown", "cstate": state["cstate"], "dstate": state["disk"] + "/DUnknown"}[
                    verb
                ]
                + "\n",
                "",
            )
        if verb == "dump-md":
            return 255, "", "No valid meta data found\n"
        if verb == "create-md":
            return 0, "New drbd meta data block successfully created.\n", ""
        if verb == "up":
            self.drbd[res] = {"role": "Secondary", "disk": "Inconsistent", "cstate": "WFConnection"}
            return 0, "", ""
        if verb == "-d" and args[1] == "adjust":
            return 0, "", ""
        if verb == "adjust":
            return 0, "", ""
        if verb == "primary":
            state["role"] = "Primary"
            if "--force" in args:
                state["disk"] = "UpToDate"
            return 0, "", ""
        if verb == "secondary":
            state["role"] = "Secondary"
            return 0, "", ""
        if verb == "down":
            self.drbd.pop(res, None)
            return 0, "", ""
        raise AssertionError("unexpected drbdadm %r" % args)

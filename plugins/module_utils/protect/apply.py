# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Carry out one host's part of protecting a VM (the plan of :mod:`.plan`).

Every step looks first and acts only when something differs, so a rerun
changes nothing, and check mode records the commands it would run. The steps,
in order:

both hosts
  1. the backing LVs (``lvcreate``), only the missing ones;
  2. ``/etc/drbd.d/vm-<vm>.res`` (0600: it holds the shared secret), checked
     with ``drbdadm dump``; the old text is put back when the check fails;
  3. DRBD metadata: always on an LV this run created (it may hold a stale
     copy of old metadata at its end), on an older LV only when ``dump-md``
     finds none;
  4. ``drbdadm up`` (or ``adjust`` when ``drbdadm -d adjust`` has work);
the VM's host
  5. Primary: ``primary --force`` only on a new resource (this host holds the
     data; the peer is synced in full), plain ``primary`` on UpToDate data;
  6. the copy onto DRBD: a running VM (``online``) with ``virsh blockcopy
     --synchronous-writes --wait --pivot`` per disk (the guest keeps running,
     every write it sees acknowledged after the pivot is on DRBD); otherwise
     shut down (``online: false``), ``qemu-img convert`` and start again;
  7. ``virsh define`` of the protected definition;
the peer
  8. ``virsh define`` of the peer's definition (identical as the guest sees it).

A failure before the first disk moved onto DRBD undoes what this run created
(block job aborted, ``drbdadm down``, file restored, new LVs removed): the VM
never left its own disks. After a disk moved, DRBD holds the VM's data: nothing
is undone and the error says a rerun completes the work.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import time

from ansible_collections.duplex.vmpair.plugins.module_utils.common.files import read_file, write_atomic
from ansible_collections.duplex.vmpair.plugins.module_utils.common.runner import CommandError
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.base import lv_path
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd.commands import DrbdCommands, has_metadata
from ansible_collections.duplex.vmpair.plugins.module_utils.libvirt import domain as domxml

# --reuse-external: the LV (or DRBD device) exists; --transient-job: allowed on a persistent domain (the new
# definition is defined after the pivot); --synchronous-writes: QEMU's write-blocking mode, so the copy converges
# and every write the guest sees acknowledged is on the destination too.
BLOCKCOPY_FLAGS = ["--reuse-external", "--transient-job", "--synchronous-writes", "--wait", "--pivot", "--verbose"]


class ApplyError(Exception):
    """A step failed; ``rolled_back`` says whether this run's changes were undone."""

    def __init__(self, msg, rolled_back, commands=None):
        super().__init__(msg)
        self.rolled_back = rolled_back
        self.commands = commands or []

    def fail_kwargs(self):
        """Keyword arguments for ``module.fail_json``."""
        return {"msg": str(self), "rolled_back": self.rolled_back, "commands": self.commands}


def write_secret_file(path, text):
    """Write ``text`` to ``path`` atomically, mode 0600 from the start (root only)."""
    write_atomic(path, text, 0o600)


class HostActions:
    """Runs (or, in check mode, records) the commands of one host, and remembers how to undo them."""

    def __init__(self, runner, reader, check_mode=False, sleep=time.sleep, shutdown_timeout=300):
        self.runner = runner
        self.reader = reader
        self.check_mode = check_mode
        self.sleep = sleep
        self.shutdown_timeout = shutdown_timeout
        self.commands = []
        self.undo = []  # callables, newest last
        self.point_of_no_return = False

    def run(self, cmd, **kwargs):
        self.commands.append(self.runner.mask_cmd(cmd))
        if self.check_mode:
            return None
        return self.runner.run(cmd, **kwargs)

    def virsh_cmd(self, *args):
        return ["virsh", "-c", self.reader.uri] + list(args)

    def virsh(self, *args):
        return self.run(self.virsh_cmd(*args))

    def virsh_with_xml(self, shown, xml, build):
        """Record ``shown``; unless in check mode, write ``xml`` to a private temporary file and run the
        virsh command ``build(path)`` on it (virsh reads XML from files only)."""
        self.commands.append(shown)
        if self.check_mode:
            return
        fd, path = tempfile.mkstemp(prefix="vmpair-", suffix=".xml")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(xml)
            self.runner.run(build(path))
        finally:
            os.unlink(path)

    def lvcreate(self, vg, name, size):
        self.run(["lvcreate", "--yes", "--wipesignatures", "y", "-n", name, "-L", "%db" % size, vg])

    def rollback(self):
        """Undo this run's changes, newest first; return the problems met on the way (empty: clean)."""
        problems = []
        while self.undo:
            step = self.undo.pop()
            try:
                step()
            except CommandError as exc:
                problems.append(exc.msg)
        return problems

    # 1. LVs ------------------------------------------------------------------

    def ensure_lvs(self, vg, disks):
        created = []
        for disk in disks:
            if disk["exists"]:
                continue
            self.lvcreate(vg, disk["lv"], disk["lv_bytes"])
            created.append(disk["lv_path"])
            self.undo.append(lambda path=disk["lv_path"]: self.runner.run(["lvremove", "--yes", path]))
        return created

    # 2. resource file -------------------------------------------------------------

    def ensure_secret_file(self, path, text):
        """``path`` holds ``text``, mode 0600 (root only), the old text restored on rollback.

        Returns (the text before or None, changed)."""
        before = read_file(path)
        if before == text:
            return before, False
        self.commands.append(["write", path, "(0600)"])
        if self.check_mode:
            return before, True
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o700)
        write_secret_file(path, text)
        self.undo.append(lambda: os.unlink(path) if before is None else write_secret_file(path, before))
        return before, True

    def ensure_res_file(self, path, text, resource):
        """The resource file (0600: it holds the shared secret), put back as it was when drbdadm refuses it."""
        before, changed = self.ensure_secret_file(path, text)
        if changed and not self.check_mode:
            try:
                self.runner.run(["drbdadm", "dump", resource])
            except CommandError as exc:
                self.undo.pop()()
                raise ApplyError("drbdadm refused %s: %s" % (path, exc.msg), rolled_back=False) from None
        return before, changed

    # 3-4. metadata, up/adjust --------------------------------------------------------------

    def ensure_drbd_up(self, resource, volumes, fresh_lvs, file_changed=False):
        """Metadata where missing, then up, or adjust when the file changed or the kernel differs from it.

        Returns True when the resource was brought up new."""
        cmds = DrbdCommands(resource)
        if self.reader.drbd_state(resource) is None:
            for vol in volumes:
                if vol["lv_path"] not in fresh_lvs:
                    result = self.runner.run(cmds.dump_md(vol["volume"]), check_rc=False)
                    if has_metadata(result.rc, result.stdout, result.stderr):
                        continue
                self.run(cmds.create_md(vol["volume"]))
            self.run(cmds.up())
            self.undo.append(lambda: self.runner.run(cmds.down()))
            return True
        pending = None if file_changed else self.runner.run(["drbdadm", "-d", "adjust", resource], check_rc=False)
        if pending is None or pending.rc != 0 or (pending.stdout or "").strip():
            self.run(cmds.adjust())
        return False

    # 5. Primary -------------------------------------------------------------------------

    def ensure_primary(self, resource, new):
        state = self.reader.drbd_state(resource)
        if state and state["role"] == "Primary":
            return
        if state and state["disk"] == "UpToDate":
            self.run(DrbdCommands(resource).primary())
        elif new or (state and state["disk"] == "Inconsistent" and state.get("peer_disk") != "UpToDate"):
            # A new resource: this host holds the only data; --force makes it UpToDate and the peer SyncTarget.
            self.run(DrbdCommands(resource).primary(force=True))
        else:
            raise ApplyError(
                "DRBD resource %s is %s here (peer %s): this host's copy is not current, so it is not promoted. "
                "Fix: check 'drbdadm status %s' on both hosts; the VM still runs on its own disks"
                % (resource, state and state["disk"], state and state.get("peer_disk"), resource),
                rolled_back=False,
            )
        if not self.check_mode:
            self.undo.append(lambda: self.runner.run(DrbdCommands(resource).secondary()))

    # 6. copy ------------------------------------------------------------------------------

    def blockcopy(self, vm, target, disk_xml):
        """``virsh blockcopy --xml``: the destination described as the definition has it (device, raw, cache,
        storage slice), while the guest runs; returns when the copy pivoted onto it."""
        self.virsh_with_xml(
            self.virsh_cmd("blockcopy", vm, target, "--xml", "(disk %s of the new definition)" % target)
            + BLOCKCOPY_FLAGS,
            disk_xml,
            lambda path: self.virsh_cmd("blockcopy", vm, target, "--xml", path) + BLOCKCOPY_FLAGS,
        )

    def live_copy(self, vm, devices, live, new_xml):
        """Block-copy every disk not yet on its DRBD device while the guest runs, pivoting at the end."""
        for target in sorted(devices):
            device = devices[target]
            if (live["disks"].get(target) or {}).get("source") == device:
                continue
            if target in live.get("jobs", {}):
                self.virsh("blockjob", vm, target, "--abort")
            self.undo.append(
                lambda t=target: self.runner.run(self.virsh_cmd("blockjob", vm, t, "--abort"), check_rc=False)
            )
            self.blockcopy(vm, target, domxml.disk_element(new_xml, target))
            self.undo.pop()
            self.point_of_no_return = True

    def offline_copy(self, vm, disks, devices, was_running):
        """Shut the guest down (when it runs), copy each disk with qemu-img, leave it off (the caller starts it)."""
        if was_running:
            self.virsh("shutdown", vm)
            self.undo.append(lambda: self.runner.run(self.virsh_cmd("start", vm)))
            if not self.check_mode:
                self.wait_shut_off(vm)
        for disk in disks:
            self.run(["qemu-img", "convert", "-n", "-f", disk["format"] or "raw", "-O", "raw", disk["source"],
                      devices[disk["target"]]])  # fmt: skip

    def wait_shut_off(self, vm):
        waited = 0
        while waited < self.shutdown_timeout:
            dom = self.reader.domain(vm)
            if dom is None or not dom["running"]:
                return
            self.sleep(2)
            waited += 2
        raise ApplyError(
            "VM %s did not shut down within %d s (it ignores ACPI shutdown?). It still runs on its own disks. "
            "Fix: shut it down from inside, or protect it online (online: true)" % (vm, self.shutdown_timeout),
            rolled_back=False,
        )

    # 7-8. definitions --------------------------------------------------------------------------

    def ensure_definition(self, vm, current_xml, wanted_xml):
        """``virsh define`` ``wanted_xml`` unless the current definition is the same. Returns changed."""
        if current_xml and domxml.same(current_xml, wanted_xml):
            return False
        self.virsh_with_xml(
            self.virsh_cmd("define", "(%s definition)" % vm), wanted_xml, lambda path: self.virsh_cmd("define", path)
        )
        return True


def apply_protect(actions, plan, vg, live_domain=None):
    """Do ``plan`` (this host's role) with ``actions`` (a :class:`HostActions`). Returns the diff pieces.

    ``live_domain``: this host's fresh :meth:`.reader.HostReader.domain` of the VM (None on the peer when
    it is not defined there yet). Raises ApplyError after rolling back what can be.
    """
    vm = plan["vm"]
    diff = {"res_before": None, "xml_before": live_domain and live_domain.get("xml")}
    try:
        fresh = actions.ensure_lvs(vg, plan["storage"])
        volumes = [dict(v, lv_path=lv_path(vg, vm, v["disk"])) for v in plan["volumes"]]
        diff["res_before"], file_changed = actions.ensure_res_file(plan["res_path"], plan["res_text"], plan["resource"])
        new = actions.ensure_drbd_up(plan["resource"], volumes, fresh, file_changed)
        if plan["role"] == "vm_host":
            actions.ensure_primary(plan["resource"], new)
            running = bool(live_domain and live_domain["running"])
            if not plan["already_on_drbd"]:
                if running and plan["online"]:
                    actions.live_copy(vm, plan["devices"], live_domain, plan["protected_xml"])
                else:
                    disks = [
                        {"target": d.target, "source": d.source, "format": d.format}
                        for d in domxml.Domain(plan["xml"]).mirrored
                    ]
                    actions.offline_copy(vm, disks, plan["devices"], running)
            actions.ensure_definition(vm, diff["xml_before"], plan["protected_xml"])
            # the cluster's copy of the definition (0600: it may hold a VNC password)
            actions.ensure_secret_file(plan["config_path"], plan["protected_xml"])
            actions.point_of_no_return = actions.point_of_no_return or not actions.check_mode
            if not plan["already_on_drbd"] and running and not plan["online"]:
                actions.virsh("start", vm)
        else:
            if live_domain and live_domain["running"]:
                raise ApplyError(
                    "VM %s runs on the peer %s too. Fix: stop the copy that should not run" % (vm, plan["peer"]),
                    rolled_back=False,
                )
            actions.ensure_definition(vm, diff["xml_before"], plan["peer_xml"])
            actions.ensure_secret_file(plan["config_path"], plan["peer_xml"])
    except (ApplyError, CommandError) as exc:
        msg = exc.msg if isinstance(exc, CommandError) else str(exc)
        if actions.check_mode:
            raise ApplyError(msg, rolled_back=False, commands=actions.commands) from None
        if actions.point_of_no_return:
            raise ApplyError(
                "%s. The VM's disks are already on DRBD and nothing was undone: fix the cause and run again, the "
                "rerun completes the protection" % msg,
                rolled_back=False,
                commands=actions.commands,
            ) from None
        leftovers = actions.rollback()
        if leftovers:
            raise ApplyError(
                "%s. Undoing this run's changes also failed: %s. The VM still runs on its own disks"
                % (msg, "; ".join(leftovers)),
                rolled_back=False,
                commands=actions.commands,
            ) from None
        raise ApplyError(
            "%s. This run's changes were undone; the VM still runs on its own disks" % msg,
            rolled_back=True,
            commands=actions.commands,
        ) from None
    return diff

"""`lab.py vm crash NAME HOST --resource RES`: pull the plug on a DRBD primary and time the peer.

Kills HOST's QEMU process (as `vm kill`), then watches the peer over the lab's multiplexed ssh
and the power service's log until the peer is DRBD Primary:

  loss_s      the peer's DRBD connection to HOST is gone (polled, so within one poll period)
  fenced_s    the cluster's fence agent (fence_redfish) completed its power action on HOST at the
              power service (its log, exact): the off, or for a reboot of a host that is already
              off, the power-on that ends the fence
  promoted_s  the peer is Primary for RES (polled)

Times are seconds after the kill, on the lab machine's clock. Prints one JSON object on stdout.
Exit 1 when the peer is not promoted within --timeout.
"""

import json
import os
import time

import labvm
import labvmbmcctl
from labcore import LabError, log


def _fence_times(log_path, host, offset, since):
    """Times (after `since`) of the power actions on `host` logged after byte `offset` of the bmc log."""
    out = []
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        fh.seek(offset)
        for line in fh:
            fields = line.split()
            # "<iso time> <epoch> <ResetType> <host> done" (labvmbmc)
            if len(fields) == 5 and fields[4] == "done" and fields[3] == host:
                try:
                    out.append(float(fields[1]) - since)
                except ValueError:
                    continue
    return out


def cmd_crash(args):
    lab = labvm.load(args.name)
    (role,) = labvm.resolve(lab, args.host, allow_multi=False)
    if role not in labvm.PAIR:
        raise LabError("crash a pair host: east or west")
    peer = "west" if role == "east" else "east"
    host = labvm.HOSTS[role][0]
    res = args.resource
    probe = f"drbdadm cstate {res}; drbdadm role {res}"
    before = labvm.ssh(lab, role, probe, check=False).stdout.split()
    if before[-1:] and not before[-1].startswith("Primary"):
        raise LabError(f"{host} is not Primary for {res} ({' '.join(before) or 'no such resource'}); nothing to crash")
    log_path = labvmbmcctl.files(lab)["log"]
    offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    wall0 = time.time()
    start = time.monotonic()
    labvm.kill(lab, role)
    result = {"host": host, "peer": labvm.HOSTS[peer][0], "resource": res, "killed_at": round(wall0, 3)}
    polls = 0
    while time.monotonic() - start < args.timeout:
        polls += 1
        out = labvm.ssh(lab, peer, probe, check=False, timeout=30).stdout.split()
        now = round(time.monotonic() - start, 2)
        if "loss_s" not in result and out and out[0] != "Connected":
            result["loss_s"] = now
        if len(out) >= 2 and out[1].startswith("Primary"):
            result["promoted_s"] = now
            break
        time.sleep(0.2)
    fences = _fence_times(log_path, host, offset, wall0) if os.path.exists(log_path) else []
    if fences:
        result["fenced_s"] = round(fences[0], 2)
    result["polls"] = polls
    print(json.dumps(result, sort_keys=True))
    if "promoted_s" not in result:
        raise LabError(f"{labvm.HOSTS[peer][0]} was not promoted for {res} within {args.timeout}s: {result}")
    log(
        f"{host} killed; {labvm.HOSTS[peer][0]}: loss {result.get('loss_s')} s, fenced {result.get('fenced_s')} s, "
        f"promoted {result['promoted_s']} s"
    )

"""`lab.py up --with-vg`: an LVM volume group vg_vms on a loop device inside a pair host.

Findings on this machine kind (see README.md): losetup, pvcreate and vgcreate work inside a
privileged container, but the kernel has no device-mapper, so logical volumes cannot be
created or activated.  The VG therefore serves checks of the VG itself (vgs, free space),
not VM disks.  Loop devices are global: every privileged container sees every /dev/loopN,
so each host's LVM is filtered to its own loop device (otherwise both pair hosts would see
two VGs named vg_vms).
"""

import os

from labcore import STATE_DIR, LabError, log, podman, run

VG = "vg_vms"
IMAGE = "/var/lib/vmpair-lab/vg_vms.img"
SIZE = "2G"
LVMLOCAL = "/etc/lvm/lvmlocal.conf"
LVMLOCAL_TEXT = """\
# Written by the duplex.vmpair lab (lab.py up --with-vg): this container's LVM sees
# only its own loop device; there is no udev in the container.
devices {{
    filter = [ "a|^{dev}$|", "r|.*|" ]
    obtain_device_list_from_udev = 0
}}
activation {{
    udev_sync = 0
    udev_rules = 0
}}
"""


def _loop_file(cname):
    return os.path.join(STATE_DIR, f"{cname}.loop")


def _exec(cname, *argv, check=True):
    return podman("exec", cname, *argv, check=check)


def has_vg(cname):
    return os.path.exists(_loop_file(cname)) and _exec(cname, "vgs", VG, check=False).returncode == 0


def ensure_vg(cname):
    if has_vg(cname):
        return
    # lvm2 comes from the image's pre-downloaded archives: no network needed.
    _exec(
        cname,
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "lvm2",
    )
    _exec(cname, "mkdir", "-p", os.path.dirname(IMAGE))
    _exec(cname, "truncate", "-s", SIZE, IMAGE)
    dev = _exec(cname, "losetup", "--find", "--show", IMAGE).stdout.strip()
    if not dev.startswith("/dev/loop"):
        raise LabError(f"{cname}: losetup gave {dev!r}")
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(_loop_file(cname), "w", encoding="utf-8") as fh:
        fh.write(dev + "\n")
    run(["podman", "exec", "-i", cname, "sh", "-c", f"cat > {LVMLOCAL}"], input_text=LVMLOCAL_TEXT.format(dev=dev))
    _exec(cname, "pvcreate", "-q", dev)
    _exec(cname, "vgcreate", "-q", VG, dev)
    log(f"{cname}: {VG} on {dev} ({SIZE} sparse file {IMAGE})")


def release(cname):
    """Detach the host's loop device of a pair host (loop devices outlive containers)."""
    path = _loop_file(cname)
    if not os.path.exists(path):
        return
    dev = open(path, encoding="utf-8").read().strip()
    back = run(["losetup", "--noheadings", "--output", "BACK-FILE", dev], check=False).stdout
    if back.strip().endswith(IMAGE):
        run(["losetup", "-d", dev], check=False)
        log(f"{cname}: detached {dev}")
    os.remove(path)

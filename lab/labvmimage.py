"""`lab.py vm deps` and `lab.py vm image`: the bootable Debian 12 image of the VM lab.

The image is three files under lab/.state/vm/image/: root.img (ext4, the whole root file
system, used read-only as the backing file of one qcow2 overlay per VM), vmlinuz and
initrd.img (QEMU boots them directly with -kernel/-initrd).  image.json records the sha256
of the inputs; the image is rebuilt only when that changes.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import labimage
from labcore import LAB_DIR, STATE_DIR, LabError, fmt_time, log, run, write_atomic

VM_STATE = os.path.join(STATE_DIR, "vm")
IMAGE_DIR = os.path.join(VM_STATE, "image")
KEY = os.path.join(VM_STATE, "lab_ed25519")
VM_DIR = os.path.join(LAB_DIR, "vm")
# The real-kernel lab's release (Debian 12 with its kernel 6.1 and DRBD 8.4), whatever VMPAIR_LAB_SUITE
# says for the container lab.
VM_SUITE = "bookworm"
HOST_PACKAGES = ["qemu-system-x86", "qemu-utils", "debootstrap", "openssh-client", "openssl", "e2fsprogs"]
INCLUDE = [
    "systemd",
    "systemd-sysv",
    "udev",
    "kmod",
    "openssh-server",
    "python3",
    "python3-apt",
    "iproute2",
    "iputils-ping",
    "procps",
    "dbus",
    "ifupdown",
    "drbd-utils",
    "lvm2",
    "initramfs-tools",
]
# Files whose content goes into the image; a change rebuilds it.
INPUT_FILES = [
    "packages.txt",
    "90lab-keep-debs",
    "vm/customize.sh",
    "vm/inside.sh",
    "vm/vmpair-lab-net",
    "vm/vmpair-lab-net.service",
    "vm/vmpair-lab-hostkey.service",
]
# Bump when the recipe in this file changes in a way that needs a rebuild.
RECIPE = "2"
# The tree with the HA stack, libvirt and QEMU installed is about 1.3 GB; the rest is room for
# what the tests add.
ROOT_SIZE = "3G"
KERNEL_META = "linux-image-amd64"


def cmd_deps(_args):
    started = time.monotonic()
    missing = [p for p in HOST_PACKAGES if not labimage.installed(p)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log(f"installing {' '.join(missing)}")
        run(["apt-get", "update", "-q"], capture=False, env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], capture=False, env=env)
    else:
        log("host packages already installed")
    log(f"vm deps done in {fmt_time(time.monotonic() - started)}")


def ensure_key():
    """The lab's ssh key pair (generated once, never committed: lab/.state is gitignored)."""
    os.makedirs(VM_STATE, exist_ok=True)
    if not os.path.exists(KEY):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vmpair-vm-lab", "-f", KEY])
        log(f"generated the lab ssh key {KEY}")
    return KEY


def kernel_package():
    """The linux-image-6.1.0-N-amd64 package the meta package points at (host apt lists)."""
    out = run(["apt-cache", "depends", KERNEL_META]).stdout
    for line in out.splitlines():
        dep = line.strip().split(":", 1)
        if dep[0] == "Depends" and dep[1].strip().startswith("linux-image-"):
            name = dep[1].strip()
            version = run(["apt-cache", "policy", name]).stdout
            cand = next((ln.split(":", 1)[1].strip() for ln in version.splitlines() if "Candidate:" in ln), "")
            return name, cand
    raise LabError(f"cannot find the kernel package {KERNEL_META} depends on (apt-get update?)")


def image_hash(mirror, kernel):
    sources = [open(f, "rb").read() for f in labimage.apt_source_files()]
    files = [open(os.path.join(LAB_DIR, f), "rb").read() for f in INPUT_FILES]
    pubkey = open(KEY + ".pub", "rb").read()
    return labimage.sha256_of(
        [RECIPE, VM_SUITE, mirror, ",".join(INCLUDE), ROOT_SIZE, *kernel, pubkey, *sources, *files]
    )


def image_info():
    """Contents of image.json, or {} when there is no complete image."""
    try:
        with open(os.path.join(IMAGE_DIR, "image.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def installed_count(rootfs):
    """Number of packages installed in the image tree."""
    with open(os.path.join(rootfs, "var/lib/dpkg/status"), encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip() == "Status: install ok installed")


def build(mirror, kernel, digest):
    steps = {}
    work = tempfile.mkdtemp(prefix="vmpair-vm-image.", dir="/var/tmp")
    rootfs = os.path.join(work, "rootfs")
    try:
        started = time.monotonic()
        # As root apt-get download warns that _apt cannot write here: harmless.
        proc = subprocess.run(
            ["apt-get", "download", f"{kernel[0]}={kernel[1]}"], cwd=work, capture_output=True, text=True, check=False
        )
        debs = [f for f in os.listdir(work) if f.startswith(kernel[0] + "_") and f.endswith(".deb")]
        if proc.returncode != 0 or not debs:
            raise LabError(f"apt-get download {kernel[0]} failed: {proc.stderr.strip()}")
        kernel_deb = os.path.join(work, debs[0])
        steps["kernel download"] = time.monotonic() - started

        started = time.monotonic()
        log(f"debootstrap {VM_SUITE} from {mirror}")
        run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", VM_SUITE, rootfs, mirror],
            capture=False,
        )
        labimage._copy_sources(rootfs, VM_SUITE, mirror)  # noqa: SLF001 - shared with the container image
        steps["debootstrap"] = time.monotonic() - started

        started = time.monotonic()
        run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                os.path.join(VM_DIR, "customize.sh"),
                rootfs,
                kernel_deb,
                os.path.join(LAB_DIR, "packages.txt"),
                os.path.join(LAB_DIR, "90lab-keep-debs"),
                KEY + ".pub",
                VM_DIR,
            ],
            capture=False,
        )
        steps["kernel, initrd, packages"] = time.monotonic() - started

        started = time.monotonic()
        out = os.path.join(work, "out")
        os.makedirs(out)
        boot = os.path.join(rootfs, "boot")
        version = kernel[0][len("linux-image-") :]
        shutil.copy2(os.path.join(boot, f"vmlinuz-{version}"), os.path.join(out, "vmlinuz"))
        shutil.copy2(os.path.join(boot, f"initrd.img-{version}"), os.path.join(out, "initrd.img"))
        root = os.path.join(out, "root.img")
        run(["truncate", "-s", ROOT_SIZE, root])
        run(["mkfs.ext4", "-q", "-F", "-L", "vmpair-root", "-d", rootfs, root])
        steps["mkfs.ext4 -d"] = time.monotonic() - started
        info = {
            "hash": digest,
            "kernel": kernel[0],
            "kernel_version": kernel[1],
            "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "rootfs_mb": int(run(["du", "-sm", rootfs]).stdout.split()[0]),
            "initrd_mb": round(os.path.getsize(os.path.join(out, "initrd.img")) / 2**20, 1),
            "packages": installed_count(rootfs),
            "steps": {k: round(v, 1) for k, v in steps.items()},
        }
        write_atomic(os.path.join(out, "image.json"), json.dumps(info, indent=1) + "\n")
        if os.path.isdir(IMAGE_DIR):
            shutil.rmtree(IMAGE_DIR)
        os.makedirs(os.path.dirname(IMAGE_DIR), exist_ok=True)
        shutil.move(out, IMAGE_DIR)
        return info
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cmd_image(args):
    started = time.monotonic()
    ensure_key()
    mirror = labimage.find_mirror(VM_SUITE)
    kernel = kernel_package()
    digest = image_hash(mirror, kernel)
    current = image_info()
    if current.get("hash") == digest and not args.force:
        log(f"vm image: up to date ({digest[:12]}, {kernel[0]} {kernel[1]}) [{fmt_time(time.monotonic() - started)}]")
        info = current
    else:
        why = "forced" if args.force else ("missing" if not current else "inputs changed")
        log(f"vm image: building ({why}) with {kernel[0]} {kernel[1]}")
        info = build(mirror, kernel, digest)
        for step, secs in info["steps"].items():
            log(f"  {step}: {secs}s")
        log(f"vm image: built ({digest[:12]}) in {fmt_time(time.monotonic() - started)}")
    print(
        json.dumps(
            {
                "image": IMAGE_DIR,
                "hash": digest[:12],
                "kernel": info.get("kernel"),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )

"""`lab.py vm deps` and `lab.py vm image`: the bootable Debian image of the VM lab.

The release is VMPAIR_LAB_SUITE's, as for the container lab: bookworm (Debian 12, kernel 6.1, the
default) or trixie (Debian 13, kernel 6.12); both have DRBD 8.4 in the kernel.  Each release's image
is three files under its own directory, lab/.state/vm/image/ (bookworm) or image-trixie/, so both
can be kept: root.img (ext4, the whole root file system, used read-only as the backing file of one
qcow2 overlay per VM), vmlinuz and initrd.img (QEMU boots them directly with -kernel/-initrd).
image.json records the sha256 of the inputs; the image is rebuilt only when that changes.

The kernel is the package linux-image-amd64 depends on.  For the host's own release it is read
from the host's apt lists; for another release (trixie on a Debian 12 host) from the lab's own apt
lists of that release (lab/.state/vm/apt-trixie/: the same sources the image gets, from the host's
mirror), refreshed by `vm image` when older than a day, with --force, or when the mirror changed.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import labimage
from labcore import LAB_DIR, STATE_DIR, SUITE, LabError, check_suite, fmt_time, log, run, write_atomic

VM_STATE = os.path.join(STATE_DIR, "vm")
KEY = os.path.join(VM_STATE, "lab_ed25519")
VM_DIR = os.path.join(LAB_DIR, "vm")
# The lab's own apt lists of a release the host does not run are refreshed when older than this.
LISTS_MAX_AGE = 24 * 3600


def image_dir(suite):
    """Where the VM image of a release lives: image/ for bookworm (the name it always had),
    image-SUITE/ for the others."""
    return os.path.join(VM_STATE, "image" if suite == "bookworm" else f"image-{suite}")


# The release of `vm image` and `vm up` (VMPAIR_LAB_SUITE, bookworm when unset) and its image.
VM_SUITE = SUITE
IMAGE_DIR = image_dir(VM_SUITE)
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
# What a release needs beyond INCLUDE: trixie's minbase no longer has e2fsprogs (priority
# important there), which a real host with an ext4 root has (fsck at boot, mkfs).
SUITE_INCLUDE = {"trixie": ["e2fsprogs"]}
# Run in the image's chroot after inside.sh, for that release only (units trixie enables itself).
SUITE_SCRIPTS = {"trixie": "vm/inside-trixie.sh"}
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
# The tree with the HA stack, libvirt and QEMU installed is about 1.3 GB on bookworm and 2.6 GB on
# trixie (fence-agents is there a metapackage of every agent); the rest is room for what the tests add.
ROOT_SIZES = {"bookworm": "3G", "trixie": "4G"}
ROOT_SIZE = ROOT_SIZES.get(VM_SUITE, "4G")
KERNEL_META = "linux-image-amd64"


def include(suite):
    return INCLUDE + SUITE_INCLUDE.get(suite, [])


def input_files(suite):
    """INPUT_FILES plus the release's own script (so a change there rebuilds that release only)."""
    return INPUT_FILES + ([SUITE_SCRIPTS[suite]] if suite in SUITE_SCRIPTS else [])


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


def release_apt(suite, mirror):
    """(apt options, sources text) that make apt-get and apt-cache read `suite`'s packages: none
    for the host's own release (its apt lists), else the lab's own lists in lab/.state/vm/apt-SUITE
    of the sources the image gets (labimage.release_sources)."""
    if labimage.host_runs(suite):
        return [], None
    base = os.path.join(VM_STATE, f"apt-{suite}")
    opts = []
    for key, value in (
        ("Dir::Etc::SourceList", "sources.list"),
        ("Dir::Etc::SourceParts", "sources.list.d"),
        ("Dir::State::Lists", "lists"),
        ("Dir::State::status", "status"),
        ("Dir::Cache", "cache"),
    ):
        opts += ["-o", f"{key}={os.path.join(base, value)}"]
    return opts, labimage.release_sources(suite, mirror)


def ensure_lists(suite, mirror, force=False):
    """The apt options of release_apt, after an `apt-get update` of the lab's own lists when they
    are missing, older than LISTS_MAX_AGE, of other sources, or `force`."""
    opts, sources = release_apt(suite, mirror)
    if not opts:
        return opts
    base = os.path.join(VM_STATE, f"apt-{suite}")
    for sub in ("sources.list.d", "lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    if not os.path.exists(os.path.join(base, "status")):
        open(os.path.join(base, "status"), "w").close()  # nothing is installed from these lists
    stamp = os.path.join(base, "updated")
    listed = os.path.join(base, "sources.list")
    same = os.path.exists(listed) and open(listed, encoding="utf-8").read() == sources
    age = time.time() - os.path.getmtime(stamp) if os.path.exists(stamp) and same else None
    if not force and age is not None and age < LISTS_MAX_AGE:
        return opts
    write_atomic(listed, sources)
    log(f"apt-get update of the lab's {suite} lists ({base})")
    proc = run(["apt-get", *opts, "update", "-q"], check=False)
    if proc.returncode == 0:
        write_atomic(stamp, time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    elif age is not None:  # keep working from the last lists when the mirror does not answer
        log(f"apt-get update of the {suite} lists failed; using those of {age / 3600:.1f} h ago")
    else:
        raise LabError(f"apt-get update of the lab's {suite} lists failed: {(proc.stderr or proc.stdout).strip()}")
    return opts


def kernel_package(apt_opts=()):
    """The kernel package linux-image-amd64 depends on, with its candidate version:
    linux-image-6.1.0-N-amd64 on bookworm, linux-image-6.12.N+deb13-amd64 on trixie.  The host's
    apt lists unless apt_opts (ensure_lists) name other ones."""
    out = run(["apt-cache", *apt_opts, "depends", KERNEL_META]).stdout
    for line in out.splitlines():
        dep = line.strip().split(":", 1)
        if dep[0] == "Depends" and dep[1].strip().startswith("linux-image-"):
            name = dep[1].strip()
            version = run(["apt-cache", *apt_opts, "policy", name]).stdout
            cand = next((ln.split(":", 1)[1].strip() for ln in version.splitlines() if "Candidate:" in ln), "")
            return name, cand
    raise LabError(f"cannot find the kernel package {KERNEL_META} depends on (apt-get update?)")


def image_hash(mirror, kernel, apt_sources=None):
    if apt_sources is None:  # the host's own release: its apt sources are copied into the image
        sources = [open(f, "rb").read() for f in labimage.apt_source_files()]
    else:
        sources = [apt_sources]
    files = [open(os.path.join(LAB_DIR, f), "rb").read() for f in input_files(VM_SUITE)]
    pubkey = open(KEY + ".pub", "rb").read()
    return labimage.sha256_of(
        [RECIPE, VM_SUITE, mirror, ",".join(include(VM_SUITE)), ROOT_SIZE, *kernel, pubkey, *sources, *files]
    )


def image_info(suite=VM_SUITE):
    """Contents of the release's image.json, or {} when there is no complete image."""
    try:
        with open(os.path.join(image_dir(suite), "image.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def installed_count(rootfs):
    """Number of packages installed in the image tree."""
    with open(os.path.join(rootfs, "var/lib/dpkg/status"), encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip() == "Status: install ok installed")


def build(mirror, kernel, digest, apt_opts=()):
    steps = {}
    work = tempfile.mkdtemp(prefix="vmpair-vm-image.", dir="/var/tmp")
    rootfs = os.path.join(work, "rootfs")
    try:
        started = time.monotonic()
        # As root apt-get download warns that _apt cannot write here: harmless.
        proc = subprocess.run(
            ["apt-get", *apt_opts, "download", f"{kernel[0]}={kernel[1]}"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        debs = [f for f in os.listdir(work) if f.startswith(kernel[0] + "_") and f.endswith(".deb")]
        if proc.returncode != 0 or not debs:
            raise LabError(f"apt-get download {kernel[0]} failed: {proc.stderr.strip()}")
        kernel_deb = os.path.join(work, debs[0])
        steps["kernel download"] = time.monotonic() - started

        started = time.monotonic()
        log(f"debootstrap {VM_SUITE} from {mirror}")
        run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(include(VM_SUITE))}", VM_SUITE, rootfs, mirror],
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
        script = SUITE_SCRIPTS.get(VM_SUITE)
        if script:
            shutil.copy2(os.path.join(LAB_DIR, script), os.path.join(rootfs, "tmp/lab-release.sh"))
            run(
                [
                    *("unshare", "--mount", "--propagation", "private", "sh", "-c"),
                    'mount -t proc proc "$1/proc" && chroot "$1" /bin/sh /tmp/lab-release.sh',
                    "sh",
                    rootfs,
                ],
                capture=False,
            )
            os.remove(os.path.join(rootfs, "tmp/lab-release.sh"))
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
            "suite": VM_SUITE,
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
    check_suite()
    started = time.monotonic()
    ensure_key()
    mirror = labimage.find_mirror(VM_SUITE)
    apt_opts = ensure_lists(VM_SUITE, mirror, force=args.force)
    kernel = kernel_package(apt_opts)
    digest = image_hash(mirror, kernel, release_apt(VM_SUITE, mirror)[1])
    current = image_info()
    if current.get("hash") == digest and not args.force:
        log(f"vm image: up to date ({digest[:12]}, {kernel[0]} {kernel[1]}) [{fmt_time(time.monotonic() - started)}]")
        info = current
    else:
        why = "forced" if args.force else ("missing" if not current else "inputs changed")
        log(f"vm image: building {VM_SUITE} ({why}) with {kernel[0]} {kernel[1]}")
        info = build(mirror, kernel, digest, apt_opts)
        for step, secs in info["steps"].items():
            log(f"  {step}: {secs}s")
        log(f"vm image: built ({digest[:12]}) in {fmt_time(time.monotonic() - started)}")
    print(
        json.dumps(
            {
                "suite": VM_SUITE,
                "image": IMAGE_DIR,
                "hash": digest[:12],
                "kernel": info.get("kernel"),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )

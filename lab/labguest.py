"""`lab.py guest ...`: the minimal test guest for protection tests, run nested in the VM lab's hosts.

The guest is Debian's kernel (the host's release's: the one the bookworm VM lab boots, whatever
VMPAIR_LAB_SUITE says; it runs nested in a trixie lab as well), booted as the uncompressed ELF
inside the package's bzImage (vmlinux: QEMU starts it through its PVH entry point, without firmware
or decompression, which under TCG inside TCG took longer than the kernel's own start), with a
busybox initramfs whose /init
(guest/init) writes an increasing sequence number to its disk, one 512-byte record
"VMPAIRSEQ <n>" per number, and prints "VMPAIR-ACK <n>" on its serial console only after fsync
of that record returned: a line on the console is a write the disk acknowledged. `guest check`
compares a disk with the ACK lines someone saw: every acknowledged number must be on the disk
(what a protected VM promises after its host dies).

  guest image              build .state/vm/guest/{vmlinuz,vmlinux.gz,initrd.img} (cached by input hash)
  guest check DISK LOG     every VMPAIR-ACK in LOG is a record on DISK (a file or device)
  guest selftest           boot it under QEMU on the lab machine, pull the plug, check
"""

import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import time

import labvmimage
from labcore import LAB_DIR, LabError, fmt_time, log, run, write_atomic

GUEST_DIR = os.path.join(labvmimage.VM_STATE, "guest")
INIT = os.path.join(LAB_DIR, "guest", "init")
# In load order (each after what it depends on); written to /lib/modules/order for the guest's /init.
MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk"]
BUSYBOX = "busybox-static"
RECIPE = "2"
SEQ = re.compile(rb"VMPAIRSEQ (\d+)\n")
ACK = re.compile(r"VMPAIR-ACK (\d+)")


def _cpio_newc(entries):
    """A gzip'd newc cpio archive of (path, mode, data) entries (directories: data None)."""
    out = io.BytesIO()
    ino = 1
    for path, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        data = data or b""
        name = path.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0]
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + name)
        out.write(b"\0" * ((4 - (110 + len(name)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))
        ino += 1
    return gzip.compress(out.getvalue(), mtime=0)


def _vmlinux(bzimage):
    """The ELF kernel inside a bzImage (its payload, decompressed), with no symbols: QEMU boots it
    through the PVH entry point its notes give (Debian's kernels have CONFIG_PVH). Gzip'd, because
    most of the 60 MiB are zeros between sections, and hosts unpack it (lab/guest_vm.yml)."""
    with open(bzimage, "rb") as fh:
        data = fh.read()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        raise LabError(f"{bzimage}: no xz payload (the guest expects Debian's xz-compressed kernels)")
    elf = lzma.LZMADecompressor().decompress(data[start:])
    if not elf.startswith(b"\x7fELF"):
        raise LabError(f"{bzimage}: its xz payload is not an ELF kernel")
    with tempfile.TemporaryDirectory(prefix="vmpair-vmlinux-") as work:
        full, stripped = os.path.join(work, "vmlinux"), os.path.join(work, "vmlinux.stripped")
        with open(full, "wb") as fh:
            fh.write(elf)
        run(["objcopy", "--strip-all", full, stripped])
        notes = subprocess.run(["readelf", "-n", stripped], capture_output=True, text=True, check=True).stdout
        if "0x00000012" not in notes:  # XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point
            raise LabError(f"{bzimage}: the kernel has no PVH entry point (CONFIG_PVH)")
        with open(stripped, "rb") as fh:
            return gzip.compress(fh.read(), compresslevel=6, mtime=0)


def _busybox_version():
    out = subprocess.run(["apt-cache", "policy", BUSYBOX], capture_output=True, text=True, check=False).stdout
    match = re.search(r"Candidate: (\S+)", out)
    if not match or match.group(1) == "(none)":
        raise LabError(f"no {BUSYBOX} package in the apt lists (apt-get update?)")
    return match.group(1)


def _hash(kernel, busybox):
    digest = hashlib.sha256()
    digest.update(f"{RECIPE}|{kernel[0]}={kernel[1]}|{BUSYBOX}={busybox}|{','.join(MODULES)}|".encode())
    with open(INIT, "rb") as fh:
        digest.update(fh.read())
    return digest.hexdigest()[:12]


def info():
    try:
        with open(os.path.join(GUEST_DIR, "guest.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def build(force=False):
    kernel = labvmimage.kernel_package()
    busybox = _busybox_version()
    digest = _hash(kernel, busybox)
    current = info()
    if current and current.get("hash") == digest and not force:
        log(f"guest image: up to date ({digest})")
        return current
    started = time.monotonic()
    log(f"guest image: building with {kernel[0]} {kernel[1]} and {BUSYBOX} {busybox}")
    with tempfile.TemporaryDirectory(prefix="vmpair-guest-") as work:
        for pkg in (f"{kernel[0]}={kernel[1]}", f"{BUSYBOX}={busybox}"):
            proc = subprocess.run(["apt-get", "download", pkg], cwd=work, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise LabError(f"apt-get download {pkg} failed: {proc.stderr.strip()}")
        tree = os.path.join(work, "x")
        for deb in sorted(f for f in os.listdir(work) if f.endswith(".deb")):
            run(["dpkg-deb", "-x", os.path.join(work, deb), tree])
        version = kernel[0].replace("linux-image-", "")
        found = {}
        for root, _dirs, files in os.walk(os.path.join(tree, "lib", "modules", version, "kernel")):
            for name in files:
                if name.endswith(".ko") and name[:-3] in MODULES:
                    found[name[:-3]] = os.path.join(root, name)
        missing = [m for m in MODULES if m not in found]
        if missing:
            raise LabError(f"kernel {version} has no module(s) {', '.join(missing)}")
        entries = [(d, 0o040755, None) for d in ("bin", "dev", "lib", "lib/modules", "proc", "sys", "tmp")]
        with open(os.path.join(tree, "bin", "busybox"), "rb") as fh:
            entries.append(("bin/busybox", 0o100755, fh.read()))
        with open(INIT, "rb") as fh:
            entries.append(("init", 0o100755, fh.read()))
        entries.append(("lib/modules/order", 0o100644, "".join(m + "\n" for m in MODULES).encode()))
        for name in MODULES:
            with open(found[name], "rb") as fh:
                entries.append((f"lib/modules/{name}.ko", 0o100644, fh.read()))
        os.makedirs(GUEST_DIR, exist_ok=True)
        with open(os.path.join(GUEST_DIR, "initrd.img.tmp"), "wb") as fh:
            fh.write(_cpio_newc(entries))
        os.replace(os.path.join(GUEST_DIR, "initrd.img.tmp"), os.path.join(GUEST_DIR, "initrd.img"))
        bzimage = os.path.join(tree, "boot", f"vmlinuz-{version}")
        shutil.copy(bzimage, os.path.join(GUEST_DIR, "vmlinuz"))
        with open(os.path.join(GUEST_DIR, "vmlinux.gz.tmp"), "wb") as fh:
            fh.write(_vmlinux(bzimage))
        os.replace(os.path.join(GUEST_DIR, "vmlinux.gz.tmp"), os.path.join(GUEST_DIR, "vmlinux.gz"))
    result = {"hash": digest, "kernel": kernel[0], "busybox": busybox, "seconds": round(time.monotonic() - started, 1)}
    write_atomic(os.path.join(GUEST_DIR, "guest.json"), json.dumps(result) + "\n")
    log(f"guest image: built in {fmt_time(time.monotonic() - started)} ({GUEST_DIR})")
    return result


def check(disk, log_text):
    """(acknowledged, found on disk, missing): every ACK must be on the disk."""
    acked = sorted({int(n) for n in ACK.findall(log_text)})
    with open(disk, "rb") as fh:
        on_disk = {int(n) for n in SEQ.findall(fh.read())}
    missing = [n for n in acked if n not in on_disk]
    return acked, on_disk, missing


def cmd_image(args):
    build(force=args.force)


def cmd_check(args):
    with open(args.log, encoding="utf-8", errors="replace") as fh:
        acked, on_disk, missing = check(args.disk, fh.read())
    summary = {
        "acknowledged": len(acked),
        "last_acknowledged": acked[-1] if acked else None,
        "on_disk": len(on_disk),
        "last_on_disk": max(on_disk) if on_disk else None,
        "missing": missing[:20],
    }
    print(json.dumps(summary, sort_keys=True))
    if not acked:
        raise LabError(f"no VMPAIR-ACK line in {args.log}")
    if missing:
        raise LabError(f"{len(missing)} acknowledged write(s) are not on {args.disk}: {missing[:20]}")


def cmd_selftest(args):
    """Boot the guest on the lab machine (QEMU TCG), let it write, kill -9 it, check the disk."""
    build()
    with tempfile.TemporaryDirectory(prefix="vmpair-guest-test-") as work:
        disk, serial = os.path.join(work, "disk.img"), os.path.join(work, "serial.log")
        with open(disk, "wb") as fh:
            fh.truncate(16 * 1024 * 1024)
        kernel = os.path.join(work, "vmlinux")  # booted as the lab's hosts boot it (lab/guest_vm.yml)
        with gzip.open(os.path.join(GUEST_DIR, "vmlinux.gz"), "rb") as src, open(kernel, "wb") as dst:
            shutil.copyfileobj(src, dst)
        argv = [
            "qemu-system-x86_64", "-accel", "tcg", "-m", "128", "-nodefaults", "-display", "none",
            "-kernel", kernel, "-initrd", os.path.join(GUEST_DIR, "initrd.img"),
            "-append", "console=ttyS0 quiet panic=-1 VMPAIR_PERIOD=0.05",
            "-drive", f"file={disk},if=none,id=d0,format=raw,cache=none,aio=native",
            "-device", "virtio-blk-pci,drive=d0", "-serial", f"file:{serial}", "-no-reboot",
        ]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.Popen(argv)
        first = None
        try:
            while time.monotonic() - started < args.timeout:
                time.sleep(0.5)
                text = open(serial, encoding="utf-8", errors="replace").read() if os.path.exists(serial) else ""
                acks = ACK.findall(text)
                if acks and first is None:
                    first = time.monotonic() - started
                if len(acks) >= args.writes:
                    break
        finally:
            proc.kill()  # the plug is pulled: no clean shutdown, no flush
            proc.wait()
        text = open(serial, encoding="utf-8", errors="replace").read()
        acked, on_disk, missing = check(disk, text)
    if not acked:
        raise LabError(f"the guest acknowledged nothing within {args.timeout}s; serial log:\n{text[-2000:]}")
    if missing:
        raise LabError(f"acknowledged writes missing from the disk after the kill: {missing[:20]}")
    log(
        f"guest selftest: first ACK after {first:.1f}s, {len(acked)} acknowledged writes, all on the disk "
        f"({len(on_disk)} records) after kill -9"
    )

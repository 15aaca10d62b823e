"""`lab.py deps` and `lab.py image`: host packages, containers.conf and the two lab images."""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from labcore import (
    BASE_IMAGE,
    HASH_LABEL,
    LAB_DIR,
    NODE_IMAGE,
    SUITE,
    LabError,
    check_suite,
    fmt_time,
    image_label,
    log,
    run,
)

HOST_PACKAGES = [
    "podman",
    "debootstrap",
    "uidmap",
    "slirp4netns",
    "fuse-overlayfs",
    "netavark",
    "aardvark-dns",
    "containernetworking-plugins",
    "crun",
    "runc",
    "iptables",
]
CONTAINERS_CONF = "/etc/containers/containers.conf"
# Without these every container fails to start on this machine kind (root lacks CAP_SYS_RESOURCE;
# crun 1.8 refuses the cgroup hybrid mode): see lab/README.md.
CONTAINERS_SETTINGS = {
    "containers": {"default_ulimits": '["nofile=20000:20000", "nproc=32768:32768"]'},
    "engine": {"runtime": '"runc"', "cgroup_manager": '"cgroupfs"', "events_logger": '"file"'},
}
BASE_INCLUDE = ["systemd", "systemd-sysv", "python3", "python3-apt", "iproute2", "iputils-ping", "procps", "dbus"]
# Bump when the base recipe below changes in a way that needs a rebuild.
BASE_RECIPE = "1"
NODE_FILES = ["Containerfile", "packages.txt", "90lab-keep-debs", "fence_lab_podman", "fence_lab_podman.password"]

_ONE_LINE = re.compile(r"^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$")
_HEADER = re.compile(r'^\s*\[[A-Za-z0-9_.\-"]+\]\s*(#.*)?$')


# ----------------------------------------------------------------------------- deps
def set_toml_keys(text, settings):
    """Set `key = value` lines in TOML sections, keeping all other content. Returns new text."""
    lines = text.splitlines()
    for section, keys in settings.items():
        start = next(
            (i for i, line in enumerate(lines) if _HEADER.match(line) and line.split("#")[0].strip() == f"[{section}]"),
            None,
        )
        if start is None:
            if lines and lines[-1].strip():
                lines.append("")
            lines.append(f"[{section}]")
            start = len(lines) - 1
        for key, value in keys.items():
            end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
            wanted = f"{key} = {value}"
            key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
            idx = next((i for i in range(start + 1, end) if key_re.match(lines[i])), None)
            if idx is None:
                lines.insert(end if lines[end - 1].strip() else end - 1, wanted)
                continue
            stop = idx + 1
            if lines[idx].count("[") > lines[idx].count("]"):  # multi-line array value
                while stop < end and "]" not in lines[stop - 1].split("=", 1)[-1]:
                    stop += 1
            lines[idx:stop] = [wanted]
    return "\n".join(lines) + "\n"


def installed(package):
    proc = run(["dpkg-query", "-W", "-f", "${Status}", package], check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "install ok installed"


def cmd_deps(_args):
    started = time.monotonic()
    missing = [p for p in HOST_PACKAGES if not installed(p)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log(f"installing {' '.join(missing)}")
        run(["apt-get", "update", "-q"], capture=False, env=env)
        run(["apt-get", "install", "-y", "-q", *missing], capture=False, env=env)
    else:
        log("host packages already installed")
    os.makedirs(os.path.dirname(CONTAINERS_CONF), exist_ok=True)
    old = open(CONTAINERS_CONF, encoding="utf-8").read() if os.path.exists(CONTAINERS_CONF) else ""
    new = set_toml_keys(old, CONTAINERS_SETTINGS)
    if new != old:
        with open(CONTAINERS_CONF, "w", encoding="utf-8") as fh:
            fh.write(new)
        log(f"updated {CONTAINERS_CONF}")
    else:
        log(f"{CONTAINERS_CONF} already has the lab settings")
    log(f"deps done in {fmt_time(time.monotonic() - started)}")


# ----------------------------------------------------------------------------- apt sources
def apt_source_files():
    """Active apt source files of the host (sources.list plus *.list / *.sources)."""
    files = ["/etc/apt/sources.list"] + sorted(
        glob.glob("/etc/apt/sources.list.d/*.list") + glob.glob("/etc/apt/sources.list.d/*.sources")
    )
    return [f for f in files if os.path.isfile(f)]


def _entries(path):
    """Yield (uris, suites, components, signed_by) for each deb entry in one source file."""
    text = open(path, encoding="utf-8").read()
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
                yield (
                    fields.get("uris", []),
                    fields.get("suites", []),
                    fields.get("components", []),
                    (fields.get("signed-by") or [None])[0],
                )
    else:
        for line in text.splitlines():
            match = _ONE_LINE.match(line.split("#")[0])
            if match:
                opts, uri, suite, comps = match.groups()
                signed = re.search(r"signed-by=(\S+?)\]?(\s|$)", opts or "")
                yield [uri], [suite], comps.split(), signed.group(1) if signed else None


def find_mirror(suite=SUITE):
    """The URI the host's apt uses for the Debian suite (main component); for a release the host
    does not run (trixie on a Debian 12 host), the mirror of the host's own Debian release."""
    entries = [e for path in apt_source_files() for e in _entries(path)]
    for uris, suites, components, _signed in entries:
        if suite in suites and "main" in components and uris:
            return uris[0].rstrip("/")
    for uris, suites, components, _signed in entries:
        if "main" in components and uris and any(s.isalpha() for s in suites):
            return uris[0].rstrip("/")
    raise LabError(f"no Debian 'main' entry found in the host's apt sources to fetch {suite} from")


def host_runs(suite):
    """True when the host's apt sources name the suite (so they can be copied into an image)."""
    return any(suite in suites for path in apt_source_files() for _u, suites, _c, _s in _entries(path))


# ----------------------------------------------------------------------------- images
def sha256_of(parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def base_hash(mirror):
    sources = [open(f, "rb").read() for f in apt_source_files()] if host_runs(SUITE) else []
    return sha256_of([BASE_RECIPE, SUITE, mirror, ",".join(BASE_INCLUDE), *sources])


def node_hash(base):
    return sha256_of([base] + [open(os.path.join(LAB_DIR, f), "rb").read() for f in NODE_FILES])


def release_sources(suite, mirror):
    """The apt sources of an image of a release the host does not run: its main and -updates
    from the host's mirror (the VM lab reads its kernel from the same lists)."""
    return f"deb {mirror} {suite} main\ndeb {mirror} {suite}-updates main\n"


def _copy_sources(rootfs, suite=SUITE, mirror=None):
    """Copy the host's apt sources into the image (entries whose keyring is missing are skipped).
    For a release the host does not run, the release's main and -updates from the mirror instead
    (debootstrap wrote the first line)."""
    if not host_runs(suite):
        with open(os.path.join(rootfs, "etc/apt/sources.list"), "w", encoding="utf-8") as handle:
            handle.write(release_sources(suite, mirror))
        return
    for path in apt_source_files():
        keyrings = [s for _u, _s, _c, s in _entries(path) if s]
        if any(not os.path.exists(os.path.join(rootfs, k.lstrip("/"))) for k in keyrings):
            log(f"not copying {path}: its keyring is not in the image")
            continue
        shutil.copy2(path, os.path.join(rootfs, path.lstrip("/")))
        if path.endswith(".sources") and os.path.exists(os.path.join(rootfs, "etc/apt/sources.list")):
            os.remove(os.path.join(rootfs, "etc/apt/sources.list"))  # debootstrap's duplicate


def build_base(mirror, digest):
    rootfs = tempfile.mkdtemp(prefix="vmpair-lab-rootfs.", dir="/var/tmp")
    try:
        log(f"debootstrap {SUITE} from {mirror}")
        run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_INCLUDE)}", SUITE, rootfs, mirror],
            capture=False,
        )
        _copy_sources(rootfs, SUITE, mirror)
        open(os.path.join(rootfs, "etc/machine-id"), "w").close()  # one id per container
        for leftover in glob.glob(os.path.join(rootfs, "var/lib/apt/lists/*_*")):
            os.remove(leftover)
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(
            [
                "podman",
                "import",
                "--change",
                'CMD ["/sbin/init"]',
                "--change",
                f"LABEL {HASH_LABEL}={digest}",
                "-",
                BASE_IMAGE,
            ],
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        tar.stdout.close()
        if tar.wait() != 0 or imp.returncode != 0:
            raise LabError("tar | podman import of the base image failed")
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def build_node(digest):
    with tempfile.TemporaryDirectory(prefix="vmpair-lab-ctx.") as ctx:
        for name in NODE_FILES:
            shutil.copy2(os.path.join(LAB_DIR, name), ctx)
        run(
            [
                "podman",
                "build",
                "--pull=never",
                "--label",
                f"{HASH_LABEL}={digest}",
                "--build-arg",
                f"BASE={BASE_IMAGE}",
                "-t",
                NODE_IMAGE,
                "-f",
                os.path.join(ctx, "Containerfile"),
                ctx,
            ],
            capture=False,
        )


def cmd_image(args):
    check_suite()
    total = time.monotonic()
    mirror = find_mirror()
    bdigest = base_hash(mirror)
    ndigest = node_hash(bdigest)
    for image, digest, build in (
        (BASE_IMAGE, bdigest, lambda: build_base(mirror, bdigest)),
        (NODE_IMAGE, ndigest, lambda: build_node(ndigest)),
    ):
        started = time.monotonic()
        current = image_label(image)
        if current == digest and not args.force:
            log(f"{image}: up to date ({digest[:12]}) [{fmt_time(time.monotonic() - started)}]")
            continue
        why = "forced" if args.force else ("missing" if current is None else "inputs changed")
        log(f"{image}: building ({why})")
        old_id = run(["podman", "image", "inspect", "--format", "{{.Id}}", image], check=False).stdout.strip()
        build()
        if old_id:  # drop the replaced image unless a container still uses it
            run(["podman", "rmi", old_id], check=False)
        log(f"{image}: built ({digest[:12]}) in {fmt_time(time.monotonic() - started)}")
    print(
        json.dumps(
            {
                "suite": SUITE,
                "base": BASE_IMAGE,
                "node": NODE_IMAGE,
                "mirror": mirror,
                "seconds": round(time.monotonic() - total, 1),
            }
        )
    )

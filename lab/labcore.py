"""Shared helpers for the duplex.vmpair container lab (python3 stdlib only)."""

import json
import os
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
STATE_DIR = os.path.join(LAB_DIR, ".state")
# The Debian release of the container lab's hosts: bookworm (Debian 12, the default) or trixie
# (Debian 13), from VMPAIR_LAB_SUITE. Each release has its own images (trixie's names end in
# -trixie), so both can be kept; `VMPAIR_LAB_SUITE=trixie lab.py image` builds trixie's, and a lab
# started with the variable set runs on them. The real-kernel (VM) lab follows the same variable
# (labvmimage.py: trixie's image is lab/.state/vm/image-trixie/).
LAB_SUITES = ("bookworm", "trixie")
SUITE = os.environ.get("VMPAIR_LAB_SUITE") or "bookworm"
_SUITE_TAG = "" if SUITE == "bookworm" else "-" + SUITE
BASE_IMAGE = "localhost/vmpair-lab-base" + _SUITE_TAG
NODE_IMAGE = "localhost/vmpair-lab-node" + _SUITE_TAG
HASH_LABEL = "io.duplex.vmpair.lab.inputs"
PODMAN_SOCKET = "/run/podman/podman.sock"


class LabError(Exception):
    """An error with a message meant for the user; lab.py prints it and exits 1."""


def check_suite():
    """Refuse a VMPAIR_LAB_SUITE the lab cannot build, naming the variable and the fix."""
    if SUITE not in LAB_SUITES:
        raise LabError(
            f"VMPAIR_LAB_SUITE={SUITE} is not a release the lab builds. Fix: set it to one of "
            f"{', '.join(LAB_SUITES)}, or unset it for bookworm."
        )


def log(msg):
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def run(argv, check=True, capture=True, input_text=None, env=None):
    """Run argv (a list, never a shell string). Returns CompletedProcess with text output."""
    try:
        proc = subprocess.run(
            argv,
            input=input_text,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {argv[0]} (run `lab.py deps` first?)") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip() if capture else ""
        raise LabError(f"command failed (rc {proc.returncode}): {' '.join(argv)}\n{detail}")
    return proc


def podman(*args, check=True, capture=True):
    return run(["podman", *args], check=check, capture=capture)


def podman_json(*args):
    out = podman(*args).stdout.strip()
    return json.loads(out) if out else []


def image_label(image, label=HASH_LABEL):
    """The value of an image label, or None when the image is missing."""
    proc = podman("image", "inspect", "--format", "{{json .Labels}}", image, check=False)
    if proc.returncode != 0:
        return None
    labels = json.loads(proc.stdout.strip() or "null") or {}
    return labels.get(label, "")


def container_state(name):
    """'running', 'exited', ... or None when the container does not exist."""
    proc = podman("container", "inspect", "--format", "{{.State.Status}}", name, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def wait_systemd(container, timeout=90):
    """Wait until systemd in the container reports running or degraded."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        proc = podman("exec", container, "systemctl", "is-system-running", check=False)
        last = proc.stdout.strip() or proc.stderr.strip()
        if last in ("running", "degraded"):
            return last
        time.sleep(0.5)  # too early gives "Failed to connect to bus"
    raise LabError(f"{container}: systemd did not come up within {timeout}s (last: {last!r})")


def fmt_time(seconds):
    return f"{seconds:.1f}s"


def write_atomic(path, text, mode=0o644):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)

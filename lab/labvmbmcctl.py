"""The VM lab's power service (labvmbmc) as a process: its files in the lab's state directory, its
credentials and TLS key pair, starting it detached (`lab.py vm up`), whether it answers, stopping
it (`lab.py vm down`). labvm and labvmcrash use it; the service itself is labvmbmc.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from labcore import LAB_DIR, LabError, log, run, write_atomic
from labvmstate import lab_dir

BMC_USER = "lab"


def files(lab):
    base = lab_dir(lab["name"])
    return {k: os.path.join(base, f"bmc.{k}") for k in ("json", "pid", "log", "crt", "key")}


def credentials(lab):
    """bmc.json ({"password": ...}) and the TLS key pair; created once per lab."""
    paths = files(lab)
    if not os.path.exists(paths["json"]):
        write_atomic(paths["json"], json.dumps({"username": BMC_USER, "password": secrets.token_hex(12)}), 0o600)
    if not os.path.exists(paths["crt"]):
        run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", f"/CN=vmpair-lab-bmc-{lab['name']}",
                "-addext", "subjectAltName=IP:10.0.2.2,IP:127.0.0.1",
                "-keyout", paths["key"], "-out", paths["crt"],
            ]
        )  # fmt: skip
        os.chmod(paths["key"], 0o600)
    return json.load(open(paths["json"], encoding="utf-8"))


def alive(lab):
    try:
        with socket.create_connection(("127.0.0.1", lab["plan"]["ports"]["bmc"]), timeout=2):
            return True
    except OSError:
        return False


def _our_pid(lab):
    try:
        value = int(open(files(lab)["pid"], encoding="utf-8").read().strip())
        cmdline = open(f"/proc/{value}/cmdline", "rb").read().split(b"\0")
    except (OSError, ValueError):
        return None
    return value if b"bmc" in cmdline and lab["name"].encode() in cmdline else None


def ensure(lab):
    """Start the service for `lab` (detached) unless it answers already."""
    credentials(lab)
    if alive(lab):
        return
    paths = files(lab)
    with open(paths["log"], "ab") as logfh:
        proc = subprocess.Popen(
            [sys.executable, os.path.join(LAB_DIR, "lab.py"), "vm", "bmc", lab["name"]],
            stdin=subprocess.DEVNULL,
            stdout=logfh,
            stderr=logfh,
            start_new_session=True,
        )
    write_atomic(paths["pid"], f"{proc.pid}\n")
    deadline = time.monotonic() + 10
    while not alive(lab):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"the lab power service did not start; see {paths['log']}")
        time.sleep(0.1)
    log(f"power service (Redfish) on 127.0.0.1:{lab['plan']['ports']['bmc']} (pid {proc.pid})")


def stop(lab):
    value = _our_pid(lab)
    if value:
        os.kill(value, signal.SIGTERM)
        log(f"power service stopped (pid {value})")

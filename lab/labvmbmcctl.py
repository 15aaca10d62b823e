"""The VM lab's power service (labvmbmc) as a process: its files in the lab's state directory, its
credentials and TLS key pair, the pair hosts' BMC ports and which BMCs are dark (`vm bmc-off`),
starting it detached (`lab.py vm up`), whether it answers, stopping it (`lab.py vm down`). labvm
and labvmcrash use it; the service itself is labvmbmc.
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
from labtopology import VM_HOSTS as HOSTS
from labvmstate import lab_dir, path

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


def bmc_ports(lab):
    """{pair role: port of its BMC} (each pair host has its own)."""
    ports = lab["plan"]["ports"]["bmc"]
    if not isinstance(ports, dict):  # lab.json of a lab made before each host had its own BMC
        raise LabError(f"lab {lab['name']} has one BMC port for all hosts: run `lab.py vm up` for it again")
    return ports


def bmc_is_off(lab, role):
    """Whether the host's BMC is dark (`lab.py vm bmc-off`): a file in the lab's directory."""
    return os.path.exists(path(lab, role, "bmc-off"))


def set_bmc(lab, role, on):
    """Bring the host's BMC back (on) or make it go dark; noted in bmc.log. Returns whether it changed."""
    marker = path(lab, role, "bmc-off")
    if on == (not os.path.exists(marker)):
        return False
    if on:
        os.remove(marker)
    else:
        write_atomic(marker, time.strftime("%Y-%m-%dT%H:%M:%S") + "\n")
    with open(files(lab)["log"], "a", encoding="utf-8") as fh:
        verb = "on: answers again" if on else "off: dark, requests are ignored"
        fh.write(
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} BMC of {HOSTS[role][0]} {verb} (lab.py vm bmc-{'on' if on else 'off'})\n"
        )
    return True


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def alive(lab):
    """Whether every BMC port of the lab takes connections (a dark BMC's port does too)."""
    return all(_listening(port) for port in bmc_ports(lab).values())


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
    stop(lab)  # one that no longer serves every port (a lab from before its BMC ports changed)
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
    ports = ", ".join(f"{HOSTS[r][0]} 127.0.0.1:{p}" for r, p in bmc_ports(lab).items())
    log(f"power service (Redfish BMCs: {ports}) (pid {proc.pid})")


def stop(lab):
    value = _our_pid(lab)
    if value:
        os.kill(value, signal.SIGTERM)
        for _attempt in range(50):  # its ports free before a new one binds them
            if not os.path.exists(f"/proc/{value}"):
                break
            time.sleep(0.1)
        log(f"power service stopped (pid {value})")

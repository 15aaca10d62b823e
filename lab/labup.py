"""`lab.py up/down/cut/restore/poweroff/poweron/status/exec`: running labs."""

import os
import signal
import socket
import subprocess
import time

import labinventory
import labvg
from labcore import (
    NODE_IMAGE,
    PODMAN_SOCKET,
    STATE_DIR,
    LabError,
    check_suite,
    container_state,
    fmt_time,
    log,
    podman,
    podman_json,
    run,
    wait_systemd,
    write_atomic,
)
from labtopology import HOSTS, LINKS, PAIR, address, container, subnets

LAB_LABEL = "io.duplex.vmpair.lab"
INDEX_LABEL = "io.duplex.vmpair.lab.index"
SERVICE_PID = os.path.join(STATE_DIR, "podman-service.pid")
SERVICE_LOG = os.path.join(STATE_DIR, "podman-service.log")
# The pair hosts get the directory of the socket, not the socket file: a restarted
# service creates a new socket inode that a file bind mount would not follow.
SOCKET_MOUNT = f"{os.path.dirname(PODMAN_SOCKET)}:/run/lab"


def resolve_hosts(name, host, allowed):
    """Map a HOST argument (east, hv-east, NAME-east, or both) to lab roles."""
    if host == "both":
        return list(PAIR)
    for role in allowed:
        if host in (role, HOSTS[role][1], container(name, role)):
            return [role]
    raise LabError(f"unknown host {host!r}; use one of: {', '.join(allowed)}, both")


def lab_index(name):
    """The address plan index of a running lab, read from its containers' labels."""
    for role in HOSTS:
        proc = podman(
            "container",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{INDEX_LABEL}"}}}}',
            container(name, role),
            check=False,
        )
        if proc.returncode == 0 and proc.stdout.strip().isdigit():
            return int(proc.stdout.strip())
    raise LabError(f"lab {name!r} has no containers (run `lab.py up --name {name}` first)")


# ----------------------------------------------------------------------------- podman API service
def api_alive():
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(PODMAN_SOCKET)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: lab\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def our_service_pid():
    try:
        pid = int(open(SERVICE_PID, encoding="utf-8").read().strip())
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"system" in cmdline and b"service" in cmdline else None


def ensure_service():
    if api_alive():
        return
    os.makedirs(STATE_DIR, exist_ok=True)
    os.makedirs(os.path.dirname(PODMAN_SOCKET), exist_ok=True)
    with open(SERVICE_LOG, "ab") as logfh:
        proc = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{PODMAN_SOCKET}"],
            stdin=subprocess.DEVNULL,
            stdout=logfh,
            stderr=logfh,
            start_new_session=True,
        )
    write_atomic(SERVICE_PID, f"{proc.pid}\n")
    deadline = time.monotonic() + 15
    while not api_alive():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"podman API service did not start; see {SERVICE_LOG}")
        time.sleep(0.2)
    log(f"podman API service started (pid {proc.pid}) on {PODMAN_SOCKET}")


def stop_service():
    pid = our_service_pid()
    if pid is None:
        log(
            "podman API service: not started by the lab, left alone"
            if api_alive()
            else "podman API service: not running"
        )
    else:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        log(f"podman API service stopped (pid {pid})")
    if os.path.exists(SERVICE_PID):
        os.remove(SERVICE_PID)


# ----------------------------------------------------------------------------- up
def ensure_networks(name, index):
    existing = {n["name"]: n for n in podman_json("network", "ls", "--format", "json")}
    for net, subnet in subnets(index).items():
        netname = f"{name}-{net}"
        if netname in existing:
            have = [s.get("subnet") for s in existing[netname].get("subnets") or []]
            if subnet not in have:
                raise LabError(
                    f"network {netname} exists with subnet {have}, not {subnet}; run `lab.py down --name {name}` first"
                )
            continue
        extra = [] if net == "mgmt" else ["--internal", "--disable-dns"]
        podman("network", "create", "--subnet", subnet, "--label", f"{LAB_LABEL}={name}", *extra, netname)


def ensure_container(name, index, role):
    cname = container(name, role)
    state = container_state(cname)
    if state is not None:
        have = lab_index(name)
        if have != index:
            raise LabError(f"lab {name} runs with --index {have}; run `lab.py down --name {name}`")
        if state != "running":
            podman("start", cname)
        return cname
    _suffix, inv_name, _site, _octet, nets = HOSTS[role]
    argv = [
        "run",
        "-d",
        "--name",
        cname,
        "--hostname",
        inv_name,
        "--privileged",
        "--systemd=always",
        # corosync and pacemaker keep their IPC in /dev/shm: podman's default 64 MiB fills up and
        # corosync-quorumtool then fails with "Cannot initialise CFG service".
        "--shm-size=512m",
        "--label",
        f"{LAB_LABEL}={name}",
        "--label",
        f"{INDEX_LABEL}={index}",
    ]
    for nic, net in enumerate(nets):
        # Without interface_name podman 4.3 numbers the interfaces in random (Go map) order.
        argv += ["--network", f"{name}-{net}:ip={address(index, net, role)},interface_name=eth{nic}"]
    for other in HOSTS:
        argv += ["--add-host", f"{HOSTS[other][1]}:{address(index, 'mgmt', other)}"]
    if role in PAIR:
        argv += ["-v", SOCKET_MOUNT]
    podman(*argv, NODE_IMAGE, "/sbin/init")
    return cname


def interfaces(cname):
    """{ipv4 address: interface name} inside a container (names are not in --network order)."""
    out = podman("exec", cname, "ip", "-o", "-4", "addr", "show").stdout
    result = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "inet":
            result[fields[3].split("/")[0]] = fields[1].split("@")[0]
    return result


def link_interface(name, index, role, link):
    addr = address(index, link, role)
    iface = interfaces(container(name, role)).get(addr)
    if iface is None:
        raise LabError(f"{container(name, role)}: no interface carries {addr} ({link})")
    return iface


def cmd_up(args):
    check_suite()
    started = time.monotonic()
    if podman("image", "exists", NODE_IMAGE, check=False).returncode != 0:
        raise LabError(f"image {NODE_IMAGE} is missing: run `lab.py image` first")
    subnets(args.index)
    ensure_service()
    ensure_networks(args.name, args.index)
    names = {role: ensure_container(args.name, args.index, role) for role in HOSTS}
    for cname in names.values():
        log(f"{cname}: systemd {wait_systemd(cname)}")
    ifaces = {role: {link: link_interface(args.name, args.index, role, link) for link in LINKS} for role in PAIR}
    if args.with_vg:
        for role in PAIR:
            labvg.ensure_vg(names[role])
    with_vg = all(labvg.has_vg(names[role]) for role in PAIR)  # also from an earlier --with-vg
    text = labinventory.render(args.name, args.index, ifaces, with_vg=with_vg)
    os.makedirs(os.path.dirname(os.path.abspath(args.inventory)), exist_ok=True)
    write_atomic(args.inventory, text)
    log(f"lab {args.name} up in {fmt_time(time.monotonic() - started)}; inventory {args.inventory}")


# ----------------------------------------------------------------------------- down
def lab_names():
    found = {
        c["Labels"][LAB_LABEL]
        for c in podman_json("ps", "-a", "--format", "json")
        if LAB_LABEL in (c.get("Labels") or {})
    }
    found |= {
        n["labels"][LAB_LABEL]
        for n in podman_json("network", "ls", "--format", "json")
        if LAB_LABEL in (n.get("labels") or {})
    }
    return sorted(found)


def down(name):
    for role in HOSTS:
        cname = container(name, role)
        if container_state(cname) is not None:
            if role in PAIR:
                labvg.release(cname)
            podman("rm", "-f", "-t", "0", cname)
            log(f"removed {cname}")
    for net in ("mgmt",) + LINKS:
        if podman("network", "exists", f"{name}-{net}", check=False).returncode == 0:
            podman("network", "rm", "-f", f"{name}-{net}")
            log(f"removed network {name}-{net}")


def cmd_down(args):
    for name in lab_names() if args.all else [args.name]:
        down(name)
    if args.all:
        stop_service()


# ----------------------------------------------------------------------------- day-2 commands
def _set_link(args, state):
    """ip link set down/up on the selected end(s); `both` (the usual cut) takes both ends."""
    index = lab_index(args.name)
    for role in resolve_hosts(args.name, args.host, PAIR):
        cname = container(args.name, role)
        iface = link_interface(args.name, index, role, args.link)
        podman("exec", cname, "ip", "link", "set", "dev", iface, state)
        log(f"{cname}: {iface} ({args.link}) {state}")
    if state == "up":  # the peer keeps stale neighbour entries after a network reconnect otherwise
        for role in PAIR:
            iface = link_interface(args.name, index, role, args.link)
            podman("exec", container(args.name, role), "ip", "neigh", "flush", "dev", iface)


def cmd_cut(args):
    _set_link(args, "down")


def cmd_restore(args):
    _set_link(args, "up")


def cmd_poweroff(args):
    lab_index(args.name)
    for role in resolve_hosts(args.name, args.host, HOSTS):
        cname = container(args.name, role)
        if container_state(cname) == "running":
            podman("kill", cname)
        log(f"{cname}: off")


def cmd_poweron(args):
    lab_index(args.name)
    for role in resolve_hosts(args.name, args.host, HOSTS):
        cname = container(args.name, role)
        if container_state(cname) != "running":
            podman("start", cname)
        log(f"{cname}: systemd {wait_systemd(cname)}")


def cmd_status(args):
    rows = [("CONTAINER", "HOST", "STATE", "MGMT", "LINK0", "LINK1")]
    index = lab_index(args.name)
    for role, (_s, inv_name, _site, _o, nets) in HOSTS.items():
        cname = container(args.name, role)
        state = container_state(cname) or "missing"
        cells = []
        links = {}
        if state == "running":
            proc = podman("exec", cname, "ip", "-o", "link", "show", check=False)
            up = {
                ln.split()[1].rstrip(":").split("@")[0]: "state UP" in ln or ",UP" in ln
                for ln in proc.stdout.splitlines()
                if len(ln.split()) > 1
            }
            addrs = interfaces(cname)
            links = {n: addrs.get(address(index, n, role)) for n in nets}
            links = {n: f"{i} {'up' if up.get(i) else 'DOWN'}" if i else "?" for n, i in links.items()}
        for net in ("mgmt",) + LINKS:
            addr = address(index, net, role) if net in nets else "-"
            cells.append(f"{addr} {links.get(net, '')}".strip())
        rows.append((cname, inv_name, state, *cells))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def cmd_exec(args):
    lab_index(args.name)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise LabError("exec needs a command: lab.py exec NAME HOST -- CMD...")
    if args.host == "both":
        raise LabError("exec runs in one host, not both")
    (role,) = resolve_hosts(args.name, args.host, HOSTS)
    return run(["podman", "exec", container(args.name, role), *cmd], check=False, capture=False).returncode

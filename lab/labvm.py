"""`lab.py vm up/down/poweroff/kill/poweron/cut/restore/bmc-off/bmc-on/resets/status/ssh`: the
real-kernel lab.

Each lab host is a `qemu-system-x86_64 -accel tcg` process booting Debian's kernel from the
image built by `lab.py vm image`, on its own qcow2 overlay, with an emulated hardware watchdog
(i6300esb: an armed watchdog that is not fed resets the VM).  Each pair host's BMC is the lab's
Redfish service on its own port (labvmbmc); `bmc-off` makes it go dark.  Cabling:

  * mgmt: QEMU user networking (10.0.2.15 in each VM, 10.0.2.2 is the lab machine), with a
    hostfwd of 127.0.0.1:<port> to the VM's ssh;
  * link0, link1, link2: point-to-point UDP socket links (cables) between hv-east and hv-west;
    link0 and link1 carry no address from the lab: the inventory makes them the members of
    bond0 (active-backup), which the network role creates; link2 has its address;
  * wan: one point-to-point UDP socket link from each pair host to the witness, which
    answers on a service address (a /32) routed over both; it stands for the routed path
    from each site to the third site.

Addresses come from the kernel command line (vm/vmpair-lab-net in the image writes the
systemd-networkd files at boot).  A lab's state lives in lab/.state/vm/labs/NAME/.  A lab runs on
the image of the Debian release VMPAIR_LAB_SUITE named at its `vm up` (bookworm when unset); the
release is recorded in its state, so the later commands boot the same image whatever the variable
says then.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import labinventory
import labvmbmcctl
import labvmimage
import labvmserial
from labcore import LabError, check_suite, fmt_time, log, run, write_atomic
from labtopology import BOND, PAIR, WATCHDOG_PCI, plan
from labtopology import VM_HOSTS as HOSTS
from labvmbmcctl import BMC_USER, bmc_is_off, bmc_ports
from labvmstate import LABS_DIR, image_dir, lab_dir, load, path, save, suite

DATA_DISK = "2G"
VG = "vg_vms"  # made on the data disk by `vm up`, like a sysadmin preparing a host
# One vCPU per VM: on a loaded 2-core lab machine a second TCG vCPU thread mostly spins (guest
# spinlocks and RCU waiting for a descheduled sibling). Measured boot to ssh, 3 VMs: see README.
VCPUS = 1
# ssh keepalive: a lab host is one emulated CPU on a shared 2-core machine, and under a DRBD resync,
# a booting nested guest and the cluster's monitors its sshd has been seen silent for over 15 s
# (the old 5 s x 3): the connection was dropped and Ansible called the host unreachable although
# it came back. 15 s x 8 = 2 min of silence before a host counts as gone; the kernel's own soft
# lockup warnings (20 s) show in its serial log long before.
ALIVE_INTERVAL = 15
ALIVE_COUNT = 8


def cables(lab, role, link, one_end=False):
    """The (role, netdev id) ends of the cable(s) a cut/restore acts on."""
    roles = list(PAIR) if role == "both" else [role]
    ends = []
    for one in roles:
        nic = next((n for n in lab["plan"]["nics"][one] if n["id"] == link), None)
        if nic is None:
            raise LabError(f"{HOSTS[one][0]} has no {link} in lab {lab['name']}")
        ends.append((one, link))
        if not one_end:
            ends.append((nic["peer_role"], nic["peer_id"]))
    return list(dict.fromkeys(ends))


def resolve(lab, host, allow_multi=True):
    """HOST argument -> list of roles (east, hv-east, NAME-east; both = the pair; all)."""
    if allow_multi and host == "both":
        return list(PAIR)
    if allow_multi and host == "all":
        return list(lab["roles"])
    for role in lab["roles"]:
        if host in (role, HOSTS[role][0], f"{lab['name']}-{role}"):
            return [role]
    raise LabError(f"unknown host {host!r} in lab {lab['name']}; use one of: {', '.join(lab['roles'])}")


# ----------------------------------------------------------------------------- QEMU
def qemu_argv(lab, role):
    inv_name = HOSTS[role][0]
    image = image_dir(lab)
    # quiet: kernel and systemd print only errors on the serial console (each character costs
    # emulated I/O); the log keeps warnings and failures.
    append = ["root=/dev/vda", "rw", "console=ttyS0", "quiet", f"systemd.hostname={inv_name}"]
    append.append(f"vmpair_lab.hostname={inv_name}")
    plan_ = lab["plan"]
    argv = [
        "qemu-system-x86_64",
        "-name",
        f"{lab['name']}-{role}",
        "-accel",
        "tcg",
        "-m",
        str(lab["memory"]),
        "-smp",
        str(VCPUS),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-kernel",
        os.path.join(image, "vmlinuz"),
        "-initrd",
        os.path.join(image, "initrd.img"),
        "-drive",
        f"file={path(lab, role, 'qcow2')},if=none,id=root,format=qcow2",
        "-device",
        "virtio-blk-pci,drive=root,addr=0x8",
    ]
    if role in PAIR:
        argv += [
            "-drive",
            f"file={path(lab, role, 'data.img')},if=none,id=data,format=raw",
            "-device",
            "virtio-blk-pci,drive=data,addr=0x9,serial=vmpair-data",
        ]
    for nic in plan_["nics"][role]:
        if nic["id"] == "mgmt":
            ssh = plan_["ports"]["ssh"][role]
            netdev = f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{ssh}-:22"
            append.append(f"vmpair_lab.dhcp={nic['mac']}")
        else:
            netdev = f"socket,id={nic['id']},udp=127.0.0.1:{nic['peer']},localaddr=127.0.0.1:{nic['local']}"
            if nic["cidr"]:  # bond members stay unconfigured: the network role makes the bond
                append.append(f"vmpair_lab.addr={nic['mac']},{nic['cidr']}")
        if nic.get("route"):
            append.append(f"vmpair_lab.route={nic['route'][0]},{nic['route'][1]}")
        argv += [
            "-netdev",
            netdev,
            "-device",
            f"virtio-net-pci,netdev={nic['id']},mac={nic['mac']},addr={nic['pci']:#x}",
        ]
    if role == "witness":  # qnetd answers on the service address, routed from both pair hosts
        first = next(n for n in plan_["nics"][role] if n["id"] != "mgmt")
        append.append(f"vmpair_lab.addr={first['mac']},{plan_['witness_address']}/32")
    for other in lab["roles"]:
        if other == "witness":
            append.append(f"vmpair_lab.host={plan_['witness_address']},{HOSTS[other][0]}")
        else:
            append.append(f"vmpair_lab.host={plan_['bond'][other]},{HOSTS[other][0]}")
    # An emulated hardware watchdog (Intel 6300ESB; Debian's kernel loads i6300esb by its PCI alias
    # and makes /dev/watchdog): a guest that stops feeding it once armed is hard-reset, as a real
    # server's watchdog does it (QEMU resets the machine and keeps running; no console line).
    argv += ["-device", f"i6300esb,addr={WATCHDOG_PCI:#x}", "-action", "watchdog=reset"]
    argv += [
        "-append",
        " ".join(append),
        "-chardev",
        f"file,id=serial0,path={path(lab, role, 'log')},append=on",
        "-serial",
        "chardev:serial0",
        "-monitor",
        f"unix:{path(lab, role, 'mon')},server=on,wait=off",
        "-pidfile",
        path(lab, role, "pid"),
        "-daemonize",
    ]
    return argv


def pid(lab, role):
    """PID of the VM's QEMU process, or None when it is off."""
    try:
        value = int(open(path(lab, role, "pid"), encoding="utf-8").read().strip())
        cmdline = open(f"/proc/{value}/cmdline", "rb").read().split(b"\0")
    except (OSError, ValueError):
        return None
    return value if f"{lab['name']}-{role}".encode() in cmdline else None


def monitor(lab, role, command, timeout=5.0):
    """Run one HMP command on the VM's monitor socket; returns its output."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path(lab, role, "mon"))
            buf = b""
            while b"(qemu) " not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
            sock.sendall(command.encode() + b"\n")
            buf = b""
            while not buf.rstrip().endswith(b"(qemu)"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError as exc:
            raise LabError(f"{HOSTS[role][0]}: monitor {command!r}: {exc}") from exc
    text = buf.decode("utf-8", "replace").replace("\r", "")
    lines = [ln for ln in text.split("\n") if ln.strip() and "(qemu)" not in ln and command not in ln]
    return "\n".join(lines)


def ensure_disks(lab, role):
    overlay = path(lab, role, "qcow2")
    if lab.get("image_hash") != lab.get("overlay_hash", {}).get(role) and os.path.exists(overlay):
        log(f"{HOSTS[role][0]}: the image changed, recreating its overlay")
        os.remove(overlay)
    if not os.path.exists(overlay):
        root = os.path.join(image_dir(lab), "root.img")
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", root, "-F", "raw", overlay])
        lab.setdefault("overlay_hash", {})[role] = lab.get("image_hash")
        save(lab)
    if role in PAIR and not os.path.exists(path(lab, role, "data.img")):
        run(["truncate", "-s", DATA_DISK, path(lab, role, "data.img")])


def start(lab, role):
    """Boot the VM unless it runs; re-applies cut cable ends (a cable stays unplugged)."""
    if pid(lab, role):
        return False
    ensure_disks(lab, role)
    ssh_control(lab, role, "exit")
    run(qemu_argv(lab, role))
    for end in lab.get("links_off", []):
        end_role, netdev = end.split(":", 1)
        if end_role == role:
            monitor(lab, role, f"set_link {netdev} off")
    return True


def kill(lab, role):
    """Pull the plug: SIGKILL the QEMU process and wait until it is gone."""
    value = pid(lab, role)
    if value:
        os.kill(value, signal.SIGKILL)
        for _attempt in range(100):
            if not os.path.exists(f"/proc/{value}"):
                break
            time.sleep(0.05)
    ssh_control(lab, role, "exit")
    return bool(value)


def poweroff(lab, role, timeout):
    """ACPI power button (system_powerdown); kill after `timeout` seconds. Returns how."""
    value = pid(lab, role)
    if not value:
        return "already off"
    ssh_control(lab, role, "exit")
    monitor(lab, role, "system_powerdown")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{value}"):
            return "shut down"
        time.sleep(0.5)
    kill(lab, role)
    return f"killed after {timeout:g}s"


# ----------------------------------------------------------------------------- ssh
def ssh_config_path(lab):
    return os.path.join(lab_dir(lab["name"]), "ssh_config")


def write_ssh_config(lab):
    text = f"# Generated by lab.py vm up --name {lab['name']}\n"
    for role in lab["roles"]:
        text += f"Host {HOSTS[role][0]} {lab['name']}-{role}\n  HostName 127.0.0.1\n"
        text += f"  Port {lab['plan']['ports']['ssh'][role]}\n"
    text += (
        "Host *\n  User root\n"
        f"  IdentityFile {labvmimage.KEY}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        f"  ControlMaster auto\n  ControlPath {lab_dir(lab['name'])}/cm-%n\n  ControlPersist 10m\n"
        f"  ConnectTimeout 5\n  ServerAliveInterval {ALIVE_INTERVAL}\n  ServerAliveCountMax {ALIVE_COUNT}\n"
    )
    write_atomic(ssh_config_path(lab), text)


def ssh_argv(lab, role, *cmd):
    return ["ssh", "-F", ssh_config_path(lab), HOSTS[role][0], *cmd]


def ssh_control(lab, role, verb):
    """ssh -O exit: drop the shared connection of a VM that goes away."""
    if os.path.exists(ssh_config_path(lab)):
        subprocess.run(ssh_argv(lab, role)[:3] + ["-O", verb, HOSTS[role][0]], capture_output=True, check=False)


def ssh(lab, role, *cmd, check=True, timeout=60):
    try:
        proc = subprocess.run(ssh_argv(lab, role, *cmd), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{HOSTS[role][0]}: ssh {' '.join(cmd)} timed out after {timeout}s") from exc
    if check and proc.returncode != 0:
        raise LabError(f"{HOSTS[role][0]}: {' '.join(cmd)} failed (rc {proc.returncode}): {proc.stderr.strip()}")
    return proc


def wait_ssh(lab, roles, started, timeout=600):
    """Poll ssh on all `roles` until each answers; returns {role: seconds since `started`}."""
    pending = dict.fromkeys(roles)
    done = {}
    deadline = time.monotonic() + timeout
    while pending:
        for role in list(pending):
            proc = pending[role]
            if proc is None:
                argv = ssh_argv(lab, role, "true")
                pending[role] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif proc.poll() is not None:
                if proc.returncode == 0:
                    done[role] = time.monotonic() - started
                    log(f"{HOSTS[role][0]}: ssh up after {fmt_time(done[role])}")
                    del pending[role]
                else:
                    pending[role] = None
        if time.monotonic() > deadline:
            for proc in pending.values():
                if proc is not None:
                    proc.kill()
            names = ", ".join(HOSTS[r][0] for r in pending)
            raise LabError(f"no ssh on {names} after {timeout}s; see {lab_dir(lab['name'])}/*.log")
        time.sleep(1)
    return done


def nic_names(lab, role):
    """{netdev id: guest interface name}, matched by MAC address.

    A bond's members carry the bond's MAC once the host has its bond (after site.yml, at every
    later boot): their own is then shown as ``permaddr``, which wins; the bond itself is skipped,
    and a bridge (made after the cards) does not replace the card whose MAC it took.
    """
    out = ssh(lab, role, "ip", "-o", "link", "show").stdout
    by_mac = {}
    for line in out.splitlines():
        fields = line.replace("\\", " ").split()  # ip -o ends each folded line with a backslash
        if len(fields) < 3 or "MASTER" in fields[2].strip("<>").split(","):
            continue  # a bond: it has its first member's MAC
        name = fields[1].rstrip(":").split("@")[0]
        if "link/ether" in fields:
            by_mac.setdefault(fields[fields.index("link/ether") + 1].lower(), name)
        if "permaddr" in fields:
            by_mac[fields[fields.index("permaddr") + 1].lower()] = name
    names = {}
    for nic in lab["plan"]["nics"][role]:
        if nic["mac"] not in by_mac:
            raise LabError(f"{HOSTS[role][0]}: no interface with MAC {nic['mac']} ({nic['id']})")
        names[nic["id"]] = by_mac[nic["mac"]]
    return names


# ----------------------------------------------------------------------------- inventory
def render_inventory(lab):
    plan_ = lab["plan"]
    common = (
        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ControlMaster=auto "
        f"-o ControlPersist=10m -o ServerAliveInterval={ALIVE_INTERVAL} -o ServerAliveCountMax={ALIVE_COUNT}"
    )

    def site_of(role):
        # Two sites only with watchdog fencing (`vm up --watchdog-fencing`): the site model warns that a
        # pair on two sites without it leaves a lost site to a human, which every check of the other
        # scenarios would report; their pair hosts share the first host's site. The witness keeps its
        # own. Without a witness: one site, two_node.
        if "witness" not in lab["roles"]:
            return "lab"
        if role in PAIR and not lab.get("watchdog_fencing"):
            return HOSTS[PAIR[0]][1]
        return HOSTS[role][1]

    def host(role, **extra):
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": plan_["ports"]["ssh"][role],
            "ansible_user": "root",
            "ansible_ssh_private_key_file": labvmimage.KEY,
            "ansible_ssh_common_args": common,
            "ansible_ssh_pipelining": True,
            # ssh's own failures (exit 255: a connection that broke) are retried before the host
            # counts as unreachable; a host that stays silent longer is lost (see ALIVE_*).
            "ansible_ssh_retries": 2,
            # Where the host's serial console goes: lab/callback_plugins/vmpair_lab.py shows its
            # tail when the host stops answering.
            "lab_serial_log": path(lab, role, "log"),
            "ansible_python_interpreter": "/usr/bin/python3",
            # Two sites only with watchdog fencing (`vm up --watchdog-fencing`): the site model warns
            # that a pair on two sites without it leaves a lost site to a human, which every check of
            # the other scenarios would report. Without a witness: one site, two_node.
            "vmpair_site": site_of(role),
            **extra,
        }

    # repl: bond0 over the link0 and link1 cables (DRBD and corosync knet link 0); link2: corosync knet link 1.
    bonded = {
        HOSTS[role][0]: {
            "interface": BOND["interface"],
            "address": plan_["bond"][role],
            "members": [lab["ifnames"][role][m] for m in BOND["members"]],
        }
        for role in PAIR
    }
    plain = {}
    for role in PAIR:
        nic = next(n for n in plan_["nics"][role] if n["id"] == "link2")
        plain[HOSTS[role][0]] = {"interface": lab["ifnames"][role]["link2"], "address": nic["cidr"].split("/")[0]}
    links = [
        {
            "name": "repl",
            "network": plan_["nets"][BOND["network"]],
            "carries": ["cluster", "replication"],
            "bond": {"mode": "active-backup", "monitor": "mii", "interval_ms": 100},
            "hosts": bonded,
        },
        {"name": "link2", "network": plan_["nets"]["link2"], "carries": ["cluster"], "hosts": plain},
    ]
    bmc = json.load(open(os.path.join(lab_dir(lab["name"]), "bmc.json"), encoding="utf-8"))
    fencing = {
        HOSTS[role][0]: {
            "agent": "fence_redfish",
            "options": {
                "ip": "10.0.2.2",
                "ipport": plan_["ports"]["bmc"][role],  # the host's own BMC: lost with its site
                "username": BMC_USER,
                "password": bmc["password"],
                "ssl_insecure": "1",
                "systems_uri": f"/redfish/v1/Systems/{HOSTS[role][0]}",
                # fence_redfish takes 8-20 s per call under TCG (its Python start-up): Pacemaker's
                # 20 s default would record timed-out monitors and refuse a slow reboot.
                "pcmk_monitor_timeout": "120s",
                "pcmk_reboot_timeout": "240s",
            },
        }
        for role in PAIR
    }
    if lab.get("watchdog_fencing"):
        # With the watchdog level behind it the cluster role gives each device its own, longer timeout
        # (the site model's stonith_timeout, 400 s): a dark lab BMC hangs fence_redfish until then.
        for entry in fencing.values():
            del entry["options"]["pcmk_reboot_timeout"]
    pair_vars = {"vmpair_hypervisor": "kvm"}
    if "witness" in lab["roles"]:
        pair_vars["vmpair_witness"] = "qw1"
    pair_vars.update(
        {
            "vmpair_storage_vg": VG,
            "vmpair_links": links,
            "vmpair_fencing": fencing,
            "vmpair_vms": [],
            "vmpair_drbd_require_kernel_module": True,
            "vmpair_storage_vg_required": True,
        }
    )
    if lab.get("watchdog_fencing"):  # `vm up --watchdog-fencing`: sbd on the lab's i6300esb
        pair_vars.update({"vmpair_watchdog_fencing": True, "vmpair_watchdog_module": "i6300esb"})
    children = {}
    if "witness" in lab["roles"]:
        children["vmpair_witnesses"] = {
            "hosts": {"qw1": host("witness", vmpair_witness_address=plan_["witness_address"])}
        }
    children["vmpair_pairs"] = {
        "children": {"pair_lab": {"hosts": {HOSTS[r][0]: host(r) for r in PAIR}, "vars": pair_vars}}
    }
    header = (
        f"# Generated by lab/lab.py vm up --name {lab['name']} --index {lab['index']}: the VM lab "
        f"(QEMU, Debian {suite(lab)} and its kernel)\n# in the duplex.vmpair site model. Rewritten on every "
        "`vm up`; do not edit.\n"
    )
    return header + "\n".join(labinventory.dump({"all": {"children": children}})) + "\n"


# ----------------------------------------------------------------------------- commands
def cmd_up(args):
    check_suite()
    started = time.monotonic()
    release = labvmimage.VM_SUITE
    info = labvmimage.image_info(release)
    if not info:
        prefix = "" if release == "bookworm" else f"VMPAIR_LAB_SUITE={release} "
        raise LabError(f"no {release} VM image: run `{prefix}lab.py vm image` first")
    roles = list(PAIR) + (["witness"] if args.hosts == 3 else [])
    state = os.path.join(lab_dir(args.name), "lab.json")
    lab = load(args.name) if os.path.exists(state) else {"name": args.name, "links_off": []}
    running = [r for r in lab.get("roles", []) if pid(lab, r)]
    if running and (lab.get("index", args.index) != args.index or lab.get("roles", roles) != roles):
        raise LabError(f"lab {args.name} runs with another --index/--hosts; run `lab.py vm down` first")
    if running and suite(lab) != release:
        raise LabError(
            f"lab {args.name} runs on {suite(lab)}, not on {release} (VMPAIR_LAB_SUITE); "
            f"run `lab.py vm down --name {args.name}` first, or set VMPAIR_LAB_SUITE={suite(lab)}"
        )
    os.makedirs(lab_dir(args.name), exist_ok=True)
    lab.update(
        {"index": args.index, "roles": roles, "memory": args.memory, "plan": plan(args.index, roles), "suite": release}
    )
    if args.watchdog_fencing is not None:  # unset: what the lab's last `vm up` said
        lab["watchdog_fencing"] = args.watchdog_fencing
    lab["image_hash"] = info["hash"]
    save(lab)
    write_ssh_config(lab)
    labvmbmcctl.ensure(lab)
    booted = [role for role in roles if start(lab, role)]
    log(
        f"started {', '.join(HOSTS[r][0] for r in booted) or 'nothing'} (running already: "
        f"{', '.join(HOSTS[r][0] for r in roles if r not in booted) or 'none'})"
    )
    times = wait_ssh(lab, roles, started)
    lab["ifnames"] = {role: nic_names(lab, role) for role in roles}
    for role in PAIR:
        ensure_vg(lab, role)
    lab["boot_seconds"] = {HOSTS[r][0]: round(t, 1) for r, t in times.items()}
    save(lab)
    text = render_inventory(lab)
    os.makedirs(os.path.dirname(os.path.abspath(args.inventory)), exist_ok=True)
    write_atomic(args.inventory, text, mode=0o600)
    log(f"VM lab {args.name} up in {fmt_time(time.monotonic() - started)}; inventory {args.inventory}")


def ensure_vg(lab, role):
    """The host's disk preparation (a sysadmin's job, not the roles'): vg_vms on the data disk."""
    disk = "/dev/disk/by-id/virtio-vmpair-data"
    ssh(lab, role, f"vgs {VG} >/dev/null 2>&1 || {{ pvcreate -q {disk} && vgcreate -q {VG} {disk}; }}", timeout=120)


def cmd_down(args):
    if getattr(args, "all", False):
        names = sorted(os.listdir(LABS_DIR)) if os.path.isdir(LABS_DIR) else []
        for name in names:
            _down(name)
        if not names:
            log("no VM lab")
        return
    _down(args.name)


def _down(name):
    if not os.path.isdir(lab_dir(name)):
        log(f"no VM lab {name}")
        return
    try:
        lab = load(name)
    except LabError:
        lab = None
    if lab:
        for role in lab.get("roles", []):
            if kill(lab, role):
                log(f"{HOSTS[role][0]}: killed")
        labvmbmcctl.stop(lab)
    shutil.rmtree(lab_dir(name))
    log(f"removed VM lab {name} (the image stays)")


def cmd_kill(args):
    lab = load(args.name)
    for role in resolve(lab, args.host):
        started = time.monotonic()
        was = kill(lab, role)
        log(f"{HOSTS[role][0]}: {'killed' if was else 'already off'} [{fmt_time(time.monotonic() - started)}]")


def cmd_poweroff(args):
    lab = load(args.name)
    for role in resolve(lab, args.host):
        started = time.monotonic()
        how = poweroff(lab, role, args.timeout)
        log(f"{HOSTS[role][0]}: {how} [{fmt_time(time.monotonic() - started)}]")


def cmd_poweron(args):
    lab = load(args.name)
    started = time.monotonic()
    roles = resolve(lab, args.host)
    for role in roles:
        log(f"{HOSTS[role][0]}: {'started' if start(lab, role) else 'already running'}")
    if not args.no_wait:
        wait_ssh(lab, roles, started)


def _set_link(args, state):
    lab = load(args.name)
    if args.host not in ("both",):
        (role,) = resolve(lab, args.host, allow_multi=False)
    else:
        role = "both"
    if role == "witness":
        raise LabError("name the pair host whose wan path to cut: east or west (or both)")
    off = set(lab.get("links_off", []))
    for end_role, netdev in cables(lab, role, args.link, args.one_end):
        end = f"{end_role}:{netdev}"
        (off.add if state == "off" else off.discard)(end)
        if pid(lab, end_role):
            monitor(lab, end_role, f"set_link {netdev} {state}")
        log(f"{HOSTS[end_role][0]}: {netdev} {state}" + ("" if pid(lab, end_role) else " (VM off: applied at boot)"))
    lab["links_off"] = sorted(off)
    save(lab)


def cmd_cut(args):
    _set_link(args, "off")


def cmd_restore(args):
    _set_link(args, "on")


def cmd_status(args):
    lab = load(args.name)
    bmc = labvmbmcctl.alive(lab)
    ports = bmc_ports(lab)
    print(
        f"lab {lab['name']} (index {lab['index']}, {suite(lab)}); power service (Redfish BMCs, VMs reach them at "
        f"https://10.0.2.2:PORT) {'running' if bmc else 'NOT running'}"
        + ("; watchdog fencing in the inventory" if lab.get("watchdog_fencing") else "")
    )
    rows = [("HOST", "STATE", "PID", "SSH", "BMC", "NIC", "GUEST IF", "ADDRESS", "CABLE")]
    off = set(lab.get("links_off", []))
    for role in lab["roles"]:
        value = pid(lab, role)
        first = True
        for nic in lab["plan"]["nics"][role]:
            guest_if = lab.get("ifnames", {}).get(role, {}).get(nic["id"], "?")
            if nic["id"] == "mgmt":
                address, cable = "10.0.2.15 (user)", "-"
            else:
                address = nic["cidr"] or f"({BOND['interface']} member)"
                peer_end = f"{nic['peer_role']}:{nic['peer_id']}"
                here = "off" if f"{role}:{nic['id']}" in off else "on"
                there = "off" if peer_end in off else "on"
                cable = f"{here}/{there} -> {HOSTS[nic['peer_role']][0]}"
            cells = (
                (
                    HOSTS[role][0],
                    "running" if value else "off",
                    str(value or "-"),
                    str(lab["plan"]["ports"]["ssh"][role]),
                    (f"{ports[role]} {'OFF' if bmc_is_off(lab, role) else 'on'}" if role in ports else "-"),
                )
                if first
                else ("", "", "", "", "")
            )
            rows.append((*cells, nic["id"], guest_if, address, cable))
            first = False
    if "witness" in lab["roles"]:
        rows.append(("", "", "", "", "", "service", "", lab["plan"]["witness_address"] + "/32", "qnetd, via wan"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def cmd_bmc_off(args):
    _set_bmc(args, on=False)


def cmd_bmc_on(args):
    _set_bmc(args, on=True)


def _set_bmc(args, on):
    lab = load(args.name)
    roles = resolve(lab, args.host) if args.host == "both" else resolve(lab, args.host, allow_multi=False)
    if "witness" in roles:
        raise LabError("the witness has no BMC in the lab: name a pair host (east, west or both)")
    ports = bmc_ports(lab)
    for role in roles:
        changed = labvmbmcctl.set_bmc(lab, role, on)
        state = "on (answers)" if on else "off (dark: takes connections, never answers)"
        log(f"{HOSTS[role][0]}: BMC 127.0.0.1:{ports[role]} {state}{'' if changed else ' already'}")


def boots(lab, role):
    """The host's boots as its serial log tells them (labvmserial.summary), with the log's path."""
    log_path = path(lab, role, "log")
    try:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        text = ""
    return {"host": HOSTS[role][0], "log": log_path, **labvmserial.summary(text)}


def cmd_resets(args):
    lab = load(args.name)
    (role,) = resolve(lab, args.host, allow_multi=False)
    print(json.dumps(boots(lab, role), indent=1))


def cmd_ssh(args):
    lab = load(args.name)
    (role,) = resolve(lab, args.host, allow_multi=False)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    return subprocess.run(ssh_argv(lab, role, *cmd), check=False).returncode

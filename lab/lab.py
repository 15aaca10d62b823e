#!/usr/bin/env python3
"""duplex.vmpair container lab: podman systemd containers that stand in for a pair of
hypervisor hosts and a witness.  Run as root.  See lab/README.md.

Typical use:
  lab.py deps && lab.py image
  lab.py up --name vmpair-demo --inventory /tmp/lab.yml
  lab.py cut vmpair-demo both link0; lab.py restore vmpair-demo both link0
  lab.py down --name vmpair-demo

The real-kernel lab (QEMU VMs with Debian's kernel) is under `lab.py vm ...`:
  lab.py vm deps && lab.py vm image
  lab.py vm up --name vmpair-vm --inventory /tmp/vm.yml; lab.py vm down --name vmpair-vm
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labcore import LabError  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lab.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("deps", help="install the podman stack and configure containers.conf")

    p = sub.add_parser("image", help="build the base and node images (cached by input hash)")
    p.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")

    p = sub.add_parser("up", help="start a lab (idempotent) and write its inventory")
    p.add_argument("--name", required=True, help="lab name, prefix of containers and networks")
    p.add_argument("--inventory", required=True, help="path of the YAML inventory to write")
    p.add_argument(
        "--index", type=int, default=0, help="address plan index (0-40), lets several labs coexist (default 0)"
    )
    p.add_argument("--with-vg", action="store_true", help="create vg_vms on a 2 GiB sparse loop file in each pair host")

    p = sub.add_parser("down", help="remove a lab's containers and networks (keeps the images)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--name", help="lab name")
    group.add_argument("--all", action="store_true", help="remove every lab and stop the podman API service")

    for verb, text in (
        ("cut", "take a link down on both ends"),
        ("restore", "bring a link back up on both ends and flush neighbours"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("name", help="lab name")
        p.add_argument("host", help="east | west | both (or hv-east / hv-west / a container name)")
        p.add_argument("link", choices=["link0", "link1"])

    for verb, text in (
        ("poweroff", "hard power off a lab host (podman kill)"),
        ("poweron", "start a lab host and wait for systemd"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("name", help="lab name")
        p.add_argument("host", help="east | west | witness | both (or inventory name)")

    p = sub.add_parser("status", help="show a lab's containers and their states")
    p.add_argument("name", help="lab name")

    p = sub.add_parser("exec", help="run a command in a lab host: exec NAME HOST -- CMD...")
    p.add_argument("name", help="lab name")
    p.add_argument("host", help="east | west | witness (or inventory name)")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="command (after --)")

    p = sub.add_parser("vm", help="the real-kernel lab: QEMU VMs with the Debian kernel (see `vm -h`)")
    import labvmcli

    labvmcli.add_parser(p)
    return parser


def run_on_host(on_host, argv):
    """Inside the Debian 13 root of `scripts/debian13.sh run --host-podman` (Molecule on a newer
    ansible-core) the lab is the host's (its podman, apt sources, debootstrap, loop devices): run
    this same file there (scripts/host-podman/on-host), the inventory it writes named as the host
    names the root's file."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        option, equals, value = arg.partition("=")
        if option != "--inventory":
            continue
        if not equals and i + 1 < len(argv):
            i, value = i + 1, argv[i + 1]
        path = subprocess.run([on_host, "--path", value], capture_output=True, text=True, check=True).stdout
        argv[i] = ("--inventory=" if equals else "") + path.rstrip("\n")
    os.execv(on_host, [on_host, "python3", os.path.abspath(__file__), *argv])


def main(argv=None):
    on_host = os.environ.get("VMPAIR_ON_HOST")
    if on_host:
        run_on_host(on_host, sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if os.geteuid() != 0:
        print("lab.py: error: run as root", file=sys.stderr)
        return 1
    try:
        if args.command == "vm":
            import labvmcli

            return labvmcli.dispatch(args) or 0
        if args.command in ("deps", "image"):
            import labimage

            return getattr(labimage, f"cmd_{args.command}")(args) or 0
        import labup

        return getattr(labup, f"cmd_{args.command}")(args) or 0
    except LabError as exc:
        print(f"lab.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `lab.py vm ...` subcommands (argument parsing only; the work is in labvm*.py)."""

import argparse

HOST_HELP = "east | west | witness (or hv-east / hv-west / qw1)"


def add_parser(parser):
    sub = parser.add_subparsers(dest="vm_command", metavar="VMCOMMAND", required=True)
    sub.add_parser("deps", help="install QEMU, qemu-utils, debootstrap, ssh and openssl on the lab machine")

    p = sub.add_parser("image", help="build the VM image (root.img, vmlinuz, initrd.img; cached by input hash)")
    p.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")

    p = sub.add_parser("up", help="boot a VM lab (idempotent), wait for ssh and write its inventory")
    p.add_argument("--name", required=True, help="lab name")
    p.add_argument("--inventory", required=True, help="path of the YAML inventory to write")
    p.add_argument("--hosts", type=int, choices=(2, 3), default=3, help="3: pair + witness (default), 2: pair only")
    p.add_argument("--index", type=int, default=0, help="address and port plan index (0-9), default 0")
    p.add_argument("--memory", type=int, default=1024, help="MiB of RAM per VM (default 1024)")
    p.add_argument(
        "--watchdog-fencing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the inventory's pair gets vmpair_watchdog_fencing: true and vmpair_watchdog_module: i6300esb "
        "(sbd on each host's emulated watchdog); kept in the lab's state for the next `vm up` unless "
        "--no-watchdog-fencing",
    )

    p = sub.add_parser("down", help="stop a VM lab and remove its overlays and state (keeps the image)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="lab name")
    which.add_argument("--all", action="store_true", help="every VM lab")

    for verb, text in (
        ("poweroff", "graceful power off (ACPI system_powerdown), killed after --timeout"),
        ("kill", "pull the plug: kill -9 the QEMU process"),
        ("poweron", "start a powered-off VM and wait for ssh"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("name", help="lab name")
        p.add_argument("host", help=HOST_HELP + " | both | all")
        if verb == "poweroff":
            p.add_argument("--timeout", type=float, default=60, help="seconds before falling back to kill")
        if verb == "poweron":
            p.add_argument("--no-wait", action="store_true", help="do not wait for ssh")

    for verb, text in (
        (
            "cut",
            "pull a cable: set_link off on both ends (link0, link1: bond0's members; link2; or HOST's wan path to the witness)",
        ),
        ("restore", "plug a cable back: set_link on on both ends"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("name", help="lab name")
        p.add_argument("host", help="east | west | both (or hv-east / hv-west)")
        p.add_argument("link", choices=["link0", "link1", "link2", "wan"])
        p.add_argument("--one-end", action="store_true", help="only HOST's end (a one-sided failure)")

    p = sub.add_parser("crash", help="kill a DRBD primary and time the peer: loss, fence, promotion (JSON)")
    p.add_argument("name", help="lab name")
    p.add_argument("host", help="east | west (or hv-east / hv-west): the Primary to kill")
    p.add_argument("--resource", required=True, help="DRBD resource name")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the promotion (default 300)")

    for verb, text in (
        ("bmc-off", "make a pair host's BMC go dark (its site lost): its port takes connections and never answers"),
        ("bmc-on", "bring a pair host's BMC back: its port answers again"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("name", help="lab name")
        p.add_argument("host", help="east | west | both (or hv-east / hv-west)")

    p = sub.add_parser("resets", help="a host's boots and how each previous one ended, from its serial log (JSON)")
    p.add_argument("name", help="lab name")
    p.add_argument("host", help=HOST_HELP)

    p = sub.add_parser("status", help="VMs, processes, ports, BMCs, addresses and link states")
    p.add_argument("name", help="lab name")

    p = sub.add_parser("ssh", help="run a command in a VM: vm ssh NAME HOST -- CMD...")
    p.add_argument("name", help="lab name")
    p.add_argument("host", help=HOST_HELP)
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="command (after --)")

    p = sub.add_parser("bmc", help="run the lab's Redfish power service in the foreground (vm up starts it)")
    p.add_argument("name", help="lab name")

    p = sub.add_parser("guest-image", help="build the nested test guest (kernel + busybox initramfs), cached by hash")
    p.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    p = sub.add_parser("guest-check", help="every VMPAIR-ACK in LOG must be a record on DISK (JSON summary)")
    p.add_argument("disk", help="the guest's disk: an image file or a block device")
    p.add_argument("log", help="the guest's serial console output")
    p = sub.add_parser("guest-selftest", help="boot the test guest under QEMU here, kill -9 it, check its disk")
    p.add_argument("--writes", type=int, default=50, help="acknowledged writes to wait for (default 50)")
    p.add_argument("--timeout", type=float, default=180, help="seconds (default 180)")


def dispatch(args):
    if args.vm_command in ("deps", "image"):
        import labvmimage

        return getattr(labvmimage, f"cmd_{args.vm_command}")(args)
    if args.vm_command == "crash":
        import labvmcrash

        return labvmcrash.cmd_crash(args)
    if args.vm_command.startswith("guest-"):
        import labguest

        return getattr(labguest, "cmd_" + args.vm_command[len("guest-") :])(args)
    if args.vm_command == "bmc":
        import labvmbmc

        return labvmbmc.serve(args.name)
    import labvm

    return getattr(labvm, "cmd_" + args.vm_command.replace("-", "_"))(args)

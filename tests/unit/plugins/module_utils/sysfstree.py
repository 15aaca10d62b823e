# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysfs trees for the tests, kept as text manifests (tests/unit/fixtures/sysfs/*.sysfs).

A real sysfs tree cannot be stored in the repository as it is: its names hold ':' (PCI
addresses) and its links point at directories, which ansible-test's sanity rules refuse. A
manifest lists the tree one entry a line, and :func:`build` makes the tree under a temporary
directory for a test::

    L class/net/eth0 -> ../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0   (a symlink)
    D bus/virtio/drivers/virtio_net                                               (a directory)
    F devices/pci0000:00/0000:00:03.0/virtio2/net/eth0/operstate = up             (a file; \\n for a newline)
    E devices/virtual/net/ifb0/speed = EINVAL                                     (reading it fails so)

:func:`capture` writes such a manifest from a live sysfs (how the captured fixtures were made).
"""

import errno
import os
import re

ATTRS = (
    "operstate",
    "carrier",
    "speed",
    "mtu",
    "address",
    "type",
    "dev_id",
    "dev_port",
    "uevent",
    "phys_port_id",
    "phys_switch_id",
    "phys_port_name",
)
DEVICE_ATTRS = ("vendor", "device", "class", "uevent")
LINKS = re.compile(r"^(device|master|lower_.+|upper_.+)$")
PCI = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "sysfs")


def capture(names, root="/sys"):
    """The manifest of interfaces ``names`` under ``root``: what read_interface() looks at."""
    lines = []

    def rel(path):
        return os.path.relpath(os.path.realpath(path), root)

    def link(path):
        lines.append("L %s -> %s" % (os.path.relpath(path, root), os.readlink(path)))

    def attr(path):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError as exc:
            lines.append("E %s = %s" % (rel(path), errno.errorcode.get(exc.errno, exc.errno)))
            return
        lines.append("F %s = %s" % (rel(path), text.replace("\n", "\\n")))

    for name in names:
        net = os.path.join(root, "class", "net", name)
        link(net)
        real = os.path.realpath(net)
        for key in ATTRS:
            if os.path.exists(os.path.join(real, key)):
                attr(os.path.join(real, key))
        for entry in sorted(os.listdir(real)):
            if LINKS.match(entry):
                link(os.path.join(real, entry))
        if not os.path.exists(os.path.join(real, "device")):
            continue
        device = os.path.realpath(os.path.join(real, "device"))
        for key in DEVICE_ATTRS:
            if os.path.exists(os.path.join(device, key)):
                attr(os.path.join(device, key))
        parent = device
        while parent.startswith(root + os.sep):  # the device, then its PCI parents: their drivers
            if parent == device or PCI.match(os.path.basename(parent)):
                for key in ("driver", "physfn"):
                    if os.path.islink(os.path.join(parent, key)):
                        link(os.path.join(parent, key))
                        lines.append("D %s" % rel(os.path.join(parent, key)))
            parent = os.path.dirname(parent)
    return "\n".join(sorted(set(lines), key=lines.index)) + "\n"


def build(manifest, target):
    """Make the tree of ``manifest`` (a fixture file name or a path) under ``target``.

    Returns ``{absolute path: errno}`` for the ``E`` entries: attributes whose read fails.
    """
    path = manifest if os.sep in manifest else os.path.join(FIXTURES, manifest)
    target = str(target)
    failing = {}
    with open(path) as f:
        entries = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    for entry in entries:
        kind, rest = entry.split(" ", 1)
        if kind == "L":
            name, dest = rest.split(" -> ", 1)
            full = os.path.join(target, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.symlink(dest, full)
        elif kind == "D":
            os.makedirs(os.path.join(target, rest), exist_ok=True)
        else:
            name, _sep, value = rest.partition(" = ")
            full = os.path.join(target, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if kind == "F":
                with open(full, "w") as out:
                    out.write(value.replace("\\n", "\n") + "\n")
            else:
                failing[os.path.realpath(full)] = getattr(errno, value)
    return failing


def replay_errors(monkeypatch, module, failing):
    """Make ``module._read_text`` fail as the captured host did for the ``E`` entries (EINVAL, ...)."""
    real = module._read_text

    def read_text(path):
        code = failing.get(os.path.realpath(path))
        if code is not None:
            raise OSError(code, os.strerror(code), path)
        return real(path)

    monkeypatch.setattr(module, "_read_text", read_text)

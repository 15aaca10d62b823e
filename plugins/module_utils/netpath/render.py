# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The persistent configuration of a bonded path for the host's network stack.

A path ``spec`` is a dict: ``name`` (the path's name), ``interface`` (the bond), ``members``,
``mode`` (``active-backup`` or ``802.3ad``), ``monitor`` (``mii`` or ``arp``), ``interval_ms``,
``arp_targets``, ``primary`` (or None), ``lacp_rate`` (802.3ad only, or None), ``mtu`` (or None),
``addresses`` (CIDR strings) and ``bridge`` (or None: with a bridge, the addresses are the
bridge's and the bond is its port).

:func:`render` gives ``{path: (content, mode)}``. The first line of every file names the path
(:func:`owned` recognises the files of a path); the file that holds the addresses lists them on a
``# vmpair-addresses`` line, so a later run knows which addresses it added (:func:`owned_addresses`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import uuid

IFUPDOWN_DIR = "/etc/network/interfaces.d"
NETWORKD_DIR = "/etc/systemd/network"
NM_DIR = "/etc/NetworkManager/system-connections"
STACKS = ("ifupdown", "networkd", "networkmanager")
# (stack, the systemd unit that runs it): the first enabled one wins, see detect_stack().
_SERVICES = (("networkmanager", "NetworkManager.service"), ("networkd", "systemd-networkd.service"))
_WANTS_DIRS = ("multi-user.target.wants", "network-online.target.wants", "network.target.wants")
_UUID_NS = uuid.UUID("6b1f2a52-58d4-4a57-9c2e-0d6c8a0e7a11")


def header(name):
    return "# Managed by duplex.vmpair.redundant_path (path %s); Ansible rewrites this file.\n" % name


def owned(text, name):
    """Whether a file's text is one that render() wrote for path ``name``."""
    return (text or "").startswith(header(name))


def owned_addresses(texts):
    """{interface: [CIDR, ...]} from the ``# vmpair-addresses`` lines of files this module wrote."""
    out = {}
    for text in texts:
        for line in (text or "").splitlines():
            if line.startswith("# vmpair-addresses "):
                ifname, _sep, rest = line[len("# vmpair-addresses ") :].partition(":")
                out.setdefault(ifname.strip(), []).extend(rest.split())
    return out


def holder(spec):
    """The interface that carries the path's addresses: the bridge when there is one, else the bond."""
    return spec["bridge"] or spec["interface"]


def _addresses_line(spec):
    return "# vmpair-addresses %s: %s\n" % (holder(spec), " ".join(spec["addresses"])) if spec["addresses"] else ""


def detect_stack(root="/"):
    """``(stack, reason)``: the network stack that configures this host at boot, or ``(None, reason)``.

    The rule: NetworkManager when its service is enabled, else systemd-networkd when its service is
    enabled, else ifupdown when ``/etc/network/interfaces`` exists and ``ifup`` is installed.
    "Enabled" means a link to the unit in a ``.wants`` directory under ``/etc/systemd/system``.
    """

    def enabled(unit):
        return any(os.path.lexists(os.path.join(root, "etc/systemd/system", d, unit)) for d in _WANTS_DIRS)

    for stack, unit in _SERVICES:
        if enabled(unit):
            return stack, "%s is enabled" % unit
    ifup = any(os.path.exists(os.path.join(root, p)) for p in ("sbin/ifup", "usr/sbin/ifup"))
    if ifup and os.path.exists(os.path.join(root, "etc/network/interfaces")):
        return "ifupdown", "/etc/network/interfaces exists and ifup is installed"
    return None, "neither NetworkManager nor systemd-networkd is enabled and ifupdown is not installed"


def stack_problems(stack, spec, root="/"):
    """[(message, fix)]: what keeps the rendered files from taking effect at boot."""
    problems = []
    if stack != "ifupdown":
        return problems
    hooks = [("ifenslave", "if-pre-up.d/ifenslave", "the bond")]
    if spec["bridge"]:
        hooks.append(("bridge-utils", "if-pre-up.d/bridge", "the bridge"))
    for package, hook, what in hooks:
        if not os.path.exists(os.path.join(root, "etc/network", hook)):
            problems.append(
                (
                    "ifupdown cannot make %s at boot: package %s is not installed (no /etc/network/%s)."
                    % (what, package, hook),
                    "Install %s (apt-get install %s)." % (package, package),
                )
            )
    try:
        with open(os.path.join(root, "etc/network/interfaces")) as f:
            main = f.read()
    except OSError:
        main = ""
    sources = [line for line in main.splitlines() if line.split()[:1] in (["source"], ["source-directory"])]
    if not any("interfaces.d" in line for line in sources):
        problems.append(
            (
                "/etc/network/interfaces does not read %s, so ifupdown ignores the path's file at boot." % IFUPDOWN_DIR,
                "Add the line 'source %s/*' to /etc/network/interfaces." % IFUPDOWN_DIR,
            )
        )
    return problems


def render(stack, spec):
    """{absolute path: (content, mode)} of the path's files for ``stack`` (none for ``none``)."""
    if stack == "ifupdown":
        return {"%s/vmpair-%s" % (IFUPDOWN_DIR, spec["name"]): (_ifupdown(spec), 0o644)}
    if stack == "networkd":
        return _networkd(spec)
    if stack == "networkmanager":
        return _networkmanager(spec)
    return {}


def _ifupdown(spec):
    bond, bridge = spec["interface"], spec["bridge"]
    opts = ["bond-slaves %s" % " ".join(spec["members"]), "bond-mode %s" % spec["mode"]]
    if spec["monitor"] == "mii":
        opts.append("bond-miimon %d" % spec["interval_ms"])
    else:
        opts += ["bond-arp-interval %d" % spec["interval_ms"], "bond-arp-ip-target %s" % " ".join(spec["arp_targets"])]
        opts.append("bond-arp-validate all")
    if spec["primary"]:
        opts.append("bond-primary %s" % spec["primary"])
    if spec["lacp_rate"]:
        opts.append("bond-lacp-rate %s" % spec["lacp_rate"])
    mtu = ["mtu %d" % spec["mtu"]] if spec["mtu"] else []
    stanzas = []
    if bridge:
        stanzas.append(_stanzas(bond, [], opts + mtu))
        opts = ["bridge-ports %s" % bond, "bridge-stp off", "bridge-fd 0"]
    stanzas.append(_stanzas(holder(spec), spec["addresses"], opts + mtu))
    return header(spec["name"]) + _addresses_line(spec) + "\n".join(stanzas)


def _stanzas(ifname, addresses, options):
    """``auto`` plus one ``iface`` stanza per address (ifupdown applies them all), options in the first."""
    blocks = []
    for address in addresses or [None]:
        family = "inet6" if address and ":" in address else "inet"
        block = "iface %s %s %s\n" % (ifname, family, "static" if address else "manual")
        block += "    address %s\n" % address if address else ""
        block += "" if blocks else "".join("    %s\n" % opt for opt in options)
        blocks.append(block)
    return "auto %s\n%s" % (ifname, "\n".join(blocks))


def _ini(sections):
    """INI text from [(section, [(key, value), ...])], sections without keys left out."""
    return "\n".join("[%s]\n%s" % (name, "".join("%s=%s\n" % kv for kv in keys)) for name, keys in sections if keys)


def _networkd(spec):
    name, bond, bridge = spec["name"], spec["interface"], spec["bridge"]
    prefix = "%s/60-vmpair-%s-" % (NETWORKD_DIR, name)
    top = header(name)
    mtu = [("MTUBytes", spec["mtu"])] if spec["mtu"] else []
    opts = [("Mode", spec["mode"])]
    if spec["monitor"] == "mii":
        opts.append(("MIIMonitorSec", "%dms" % spec["interval_ms"]))
    else:
        opts += [("ARPIntervalSec", "%dms" % spec["interval_ms"]), ("ARPIPTargets", " ".join(spec["arp_targets"]))]
        opts.append(("ARPValidate", "all"))
    if spec["lacp_rate"]:
        opts.append(("LACPTransmitRate", spec["lacp_rate"]))
    files = {prefix + bond + ".netdev": _ini([("NetDev", [("Name", bond), ("Kind", "bond")] + mtu), ("Bond", opts)])}
    for member in spec["members"]:
        net = [("Bond", bond)] + ([("PrimarySlave", "true")] if member == spec["primary"] else [])
        files[prefix + member + ".network"] = _ini([("Match", [("Name", member)]), ("Network", net)])
    addressed = [("Address", a) for a in spec["addresses"]] + [("ConfigureWithoutCarrier", "yes")]
    if bridge:
        files[prefix + bridge + ".netdev"] = _ini(
            [("NetDev", [("Name", bridge), ("Kind", "bridge")] + mtu), ("Bridge", [("STP", "no")])]
        )
        files[prefix + bond + ".network"] = _ini(
            [("Match", [("Name", bond)]), ("Network", [("Bridge", bridge), ("LinkLocalAddressing", "no")])]
        )
        files[prefix + bridge + ".network"] = _ini([("Match", [("Name", bridge)]), ("Network", addressed)])
    else:
        files[prefix + bond + ".network"] = _ini([("Match", [("Name", bond)]), ("Network", addressed)])
    held = prefix + holder(spec) + ".network"
    return {path: (top + (_addresses_line(spec) if path == held else "") + text, 0o644) for path, text in files.items()}


def _nm_connection(spec, ifname, kind, controller=None, port_type=None):
    keys = [
        ("id", "vmpair-%s-%s" % (spec["name"], ifname)),
        ("uuid", str(uuid.uuid5(_UUID_NS, "%s/%s" % (spec["name"], ifname)))),
        ("type", kind),
        ("interface-name", ifname),
    ]
    if kind == "bond":
        keys.append(("autoconnect-slaves", 1))
    if controller:
        # NetworkManager 1.42 (Debian 12) spells them master/slave-type (1.46 added controller/port-type).
        keys += [("master", controller), ("slave-type", port_type)]
    return ("connection", keys)


def _nm_ip(spec):
    v4 = ["%s" % a for a in spec["addresses"] if ":" not in a]
    v6 = ["%s" % a for a in spec["addresses"] if ":" in a]
    ipv4 = [("method", "manual" if v4 else "disabled")] + [("address%d" % (i + 1), a) for i, a in enumerate(v4)]
    ipv6 = [("method", "manual" if v6 else "link-local")] + [("address%d" % (i + 1), a) for i, a in enumerate(v6)]
    return [("ipv4", ipv4), ("ipv6", ipv6)]


def _networkmanager(spec):
    name, bond, bridge = spec["name"], spec["interface"], spec["bridge"]
    path = "%s/vmpair-%s-%%s.nmconnection" % (NM_DIR, name)
    mtu = ("ethernet", [("mtu", spec["mtu"])] if spec["mtu"] else [])
    opts = [("mode", spec["mode"])]
    if spec["monitor"] == "mii":
        opts.append(("miimon", spec["interval_ms"]))
    else:
        opts += [("arp_interval", spec["interval_ms"]), ("arp_ip_target", ",".join(spec["arp_targets"]))]
        opts.append(("arp_validate", "all"))
    if spec["primary"]:
        opts.append(("primary", spec["primary"]))
    if spec["lacp_rate"]:
        opts.append(("lacp_rate", spec["lacp_rate"]))
    bond_sections = [_nm_connection(spec, bond, "bond", bridge, "bridge" if bridge else None), ("bond", opts), mtu]
    files = {path % bond: bond_sections + ([] if bridge else _nm_ip(spec))}
    for member in spec["members"]:
        files[path % member] = [_nm_connection(spec, member, "ethernet", bond, "bond")]
    if bridge:
        files[path % bridge] = [_nm_connection(spec, bridge, "bridge"), ("bridge", [("stp", "false")]), mtu]
        files[path % bridge] += _nm_ip(spec)
    held = path % holder(spec)
    return {
        p: (header(name) + (_addresses_line(spec) if p == held else "") + _ini(sections), 0o600)
        for p, sections in files.items()
    }

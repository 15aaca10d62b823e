"""The labs' topology, defined once: the hosts (roles, inventory names, sites, host octets), the
cables and the address plans of the container lab (`lab.py up`) and of the real-kernel VM lab
(`lab.py vm up`), by lab index. Pure data and arithmetic: it imports no other lab module but
labcore, and labup, labinventory, labvm and labvmstate read it.
"""

from labcore import LabError

# The lab hosts of both labs: role -> (inventory name, site, host octet, number used in the VM lab's
# MACs and ports).
ROLES = {
    "east": ("hv-east", "lab-a", 11, 1),
    "west": ("hv-west", "lab-b", 12, 2),
    "witness": ("qw1", "lab-c", 30, 3),
}
PAIR = ("east", "west")


# ----------------------------------------------------------------------------- container lab
# The container lab's cables (podman networks besides mgmt) and its lab indexes.
LINKS = ("link0", "link1")
MAX_INDEX = 54
# role -> (container suffix, inventory name, site, host octet, networks)
HOSTS = {
    role: (role, name, site, octet, ("mgmt",) + (LINKS if role in PAIR else ()))
    for role, (name, site, octet, _number) in ROLES.items()
}


def subnets(index):
    """mgmt, link0, link1 subnets of lab `index`: 172.31.(90+3i+k).0/24, inside 172.16/12."""
    if not 0 <= index <= MAX_INDEX:
        raise LabError(f"--index must be between 0 and {MAX_INDEX}")
    third = 90 + 3 * index
    return {net: f"172.31.{third + k}.0/24" for k, net in enumerate(("mgmt",) + LINKS)}


def address(index, net, role):
    return subnets(index)[net].rsplit(".", 1)[0] + f".{HOSTS[role][3]}"


def container(name, role):
    return f"{name}-{HOSTS[role][0]}"


# ----------------------------------------------------------------------------- VM lab
VM_MAX_INDEX = 9
VM_BASE_PORT = 34000
# role -> (inventory name, site, host octet, number used in MACs and ports)
VM_HOSTS = ROLES
# cable -> (number used in MACs and UDP ports, PCI slot, network key or None for a bond member)
# The emulated hardware watchdog's PCI slot (the NICs use 3-7, the disks 8 and 9).
WATCHDOG_PCI = 0xA
PAIR_LINKS = {"link0": (1, 4, None), "link1": (2, 5, None), "link2": (5, 7, "link2")}
BOND = {"interface": "bond0", "members": ("link0", "link1"), "network": "bond"}


def plan(index, roles):
    """Everything derived from the index: addresses, ports, MACs and the NICs of each VM.

    NIC: {id, mac, pci, cidr, local (udp port), peer (udp port), peer_role, peer_id}.
    """
    if not 0 <= index <= VM_MAX_INDEX:
        raise LabError(f"--index must be between 0 and {VM_MAX_INDEX}")
    third = 10 * index
    port = VM_BASE_PORT + 100 * index
    nets = {
        "bond": f"172.30.{third}.0/24",
        "link2": f"172.30.{third + 1}.0/24",
        "wan-east": f"172.30.{third + 2}.0/24",
        "wan-west": f"172.30.{third + 3}.0/24",
    }
    witness_address = f"172.30.{third + 4}.30"

    def addr(net, role):
        return nets[net].rsplit(".", 1)[0] + f".{VM_HOSTS[role][2]}"

    def mac(role, nic):
        return f"52:54:00:{index:02x}:{VM_HOSTS[role][3]:02x}:{nic:02x}"

    nics = {role: [{"id": "mgmt", "mac": mac(role, 0), "pci": 3}] for role in roles}
    # Each pair host's BMC (the lab's Redfish power service) on its own port, as a real server's
    # BMC has its own address: 80 + the host's number (81, 82), beside the ssh ports (1-3) and the
    # cables' UDP ports (11-52) of the same index; each index has its own hundred.
    ports = {
        "bmc": {role: port + 80 + VM_HOSTS[role][3] for role in roles if role in PAIR},
        "ssh": {role: port + VM_HOSTS[role][3] for role in roles},
    }
    for link, (num, pci, net) in PAIR_LINKS.items():
        for role, peer in (("east", "west"), ("west", "east")):
            nics[role].append(
                {
                    "id": link,
                    "mac": mac(role, num),
                    "pci": pci,
                    "cidr": addr(net, role) + "/24" if net else None,
                    "local": port + 10 * num + VM_HOSTS[role][3],
                    "peer": port + 10 * num + VM_HOSTS[peer][3],
                    "peer_role": peer,
                    "peer_id": link,
                }
            )
    if "witness" in roles:
        for num, role in ((3, "east"), (4, "west")):
            net = f"wan-{role}"
            nics[role].append(
                {
                    "id": "wan",
                    "mac": mac(role, 3),
                    "pci": 6,
                    "cidr": addr(net, role) + "/24",
                    "local": port + 10 * num + 1,
                    "peer": port + 10 * num + 2,
                    "peer_role": "witness",
                    "peer_id": net.replace("-", "_"),
                    "route": (witness_address + "/32", addr(net, "witness")),
                }
            )
            nics["witness"].append(
                {
                    "id": net.replace("-", "_"),
                    "mac": mac("witness", num - 2),
                    "pci": 1 + num,
                    "cidr": addr(net, "witness") + "/24",
                    "local": port + 10 * num + 2,
                    "peer": port + 10 * num + 1,
                    "peer_role": role,
                    "peer_id": "wan",
                }
            )
    bond = {role: addr(BOND["network"], role) for role in PAIR}
    return {"nets": nets, "witness_address": witness_address, "ports": ports, "nics": nics, "bond": bond}

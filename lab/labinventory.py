"""The inventory `lab.py up` writes: the collection's site model for a running lab.

YAML is emitted by hand (block style, scalars quoted when YAML could misread them) so that
the lab needs no PyYAML.
"""

import json
import os
import re

import labtopology

# The password the lab's fence agent expects (the image has it root-only in /etc/lab): a lab-only value,
# not a secret, so that the lab fences through the cluster role's password file and password_script.
with open(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "fence_lab_podman.password"), encoding="utf-8"
) as _fh:
    FENCE_PASSWORD = _fh.read().strip()

CONNECTION = {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$|^\d+\.\d+\.\d+\.\d+(/\d+)?$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def dump(obj, indent=0):
    """Block-style YAML for dicts/lists of scalars; lists of scalars go in flow style."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, (dict, list)) and value and not _flat_list(value):
                lines.append(f"{pad}{scalar(key)}:")
                lines.extend(dump(value, indent + 1))
            else:
                lines.append(f"{pad}{scalar(key)}: {_inline(value)}")
    else:
        for item in obj:
            sub = dump(item, indent + 1) if isinstance(item, (dict, list)) else [_inline(item)]
            first = sub[0].lstrip() if isinstance(item, (dict, list)) else sub[0]
            lines.append(f"{pad}- {first}")
            lines.extend(sub[1:])
    return lines


def _flat_list(value):
    return isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)


def _inline(value):
    if isinstance(value, dict):
        return "{}" if not value else "{" + ", ".join(f"{scalar(k)}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return scalar(value)


def render(name, index, ifaces, with_vg=False):
    """Inventory text for lab `name`; ifaces = {role: {link: interface name}}."""
    nets = labtopology.subnets(index)

    # The container lab's pair hosts stand on one site: containers have no watchdog, so the lab cannot
    # offer what the site model asks of hosts on two sites (watchdog fencing for a lost site). The VM
    # lab (labvm.py) puts them on two sites.
    def host(role, **extra):
        site = labtopology.HOSTS[labtopology.PAIR[0] if role in labtopology.PAIR else role][2]
        return dict(CONNECTION, ansible_host=labtopology.container(name, role), vmpair_site=site, **extra)

    pair = {labtopology.HOSTS[r][1]: host(r) for r in labtopology.PAIR}
    links = []
    for link, carries in (("link0", ["cluster", "replication"]), ("link1", ["cluster"])):
        links.append(
            {
                "name": link,
                "network": nets[link],
                "carries": carries,
                "hosts": {
                    labtopology.HOSTS[r][1]: {
                        "interface": ifaces[r][link],
                        "address": labtopology.address(index, link, r),
                    }
                    for r in labtopology.PAIR
                },
            }
        )
    fencing = {
        labtopology.HOSTS[r][1]: {
            "agent": "fence_lab_podman",
            "options": {
                "socket": "/run/lab/podman.sock",
                "plug": labtopology.container(name, r),
                "password": FENCE_PASSWORD,
            },
        }
        for r in labtopology.PAIR
    }
    inventory = {
        "all": {
            "children": {
                "vmpair_witnesses": {
                    "hosts": {
                        "qw1": host("witness", vmpair_witness_address=labtopology.address(index, "mgmt", "witness"))
                    }
                },
                "vmpair_pairs": {
                    "children": {
                        "pair_lab": {
                            "hosts": pair,
                            "vars": {
                                "vmpair_hypervisor": "kvm",
                                "vmpair_witness": "qw1",
                                "vmpair_storage_vg": "vg_vms",
                                "vmpair_links": links,
                                "vmpair_fencing": fencing,
                                # fence_lab_podman is the lab's own agent (in the image): no package.
                                "vmpair_fence_agent_packages": [],
                                "vmpair_vms": [],
                                "vmpair_drbd_require_kernel_module": False,
                                "vmpair_libvirt_security_driver": "none",
                                "vmpair_storage_vg_required": bool(with_vg),
                            },
                        }
                    }
                },
            }
        }
    }
    header = (
        f"# Generated by lab/lab.py up --name {name} --index {index}: the container lab "
        f"in the duplex.vmpair site model.\n# Rewritten on every `up`; do not edit.\n"
    )
    return header + "\n".join(dump(inventory)) + "\n"

"""Where a VM lab's state lives (lab/.state/vm/labs/NAME/): its directory, the files of each host
in it, its lab.json (load, save) and the Debian release and image it runs. Read by labvm (the
commands), labvmbmcctl (the power service's files) and, through labvm, the others.
"""

import json
import os

import labvmimage
from labcore import LabError, write_atomic
from labtopology import VM_HOSTS as HOSTS

LABS_DIR = os.path.join(labvmimage.VM_STATE, "labs")


def lab_dir(name):
    return os.path.join(LABS_DIR, name)


def path(lab, role, suffix):
    return os.path.join(lab_dir(lab["name"]), f"{HOSTS[role][0]}.{suffix}")


def suite(lab):
    """The Debian release the lab runs (labs from before releases were recorded: bookworm)."""
    return lab.get("suite", "bookworm")


def image_dir(lab):
    return labvmimage.image_dir(suite(lab))


def load(name):
    try:
        with open(os.path.join(lab_dir(name), "lab.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except OSError:
        raise LabError(f"no VM lab {name!r} (run `lab.py vm up --name {name}` first)") from None


def save(lab):
    write_atomic(os.path.join(lab_dir(lab["name"]), "lab.json"), json.dumps(lab, indent=1) + "\n")

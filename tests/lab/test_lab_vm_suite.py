"""lab/labvmimage.py and labvm.py: the real-kernel (VM) lab's Debian release (VMPAIR_LAB_SUITE).

As in test_lab_suite.py, each probe starts the lab modules in a fresh Python with the variable set,
as `lab.py` is started, and the host's apt sources are a file written here (a Debian 12 host's).
The refusals run the real `lab.py`.
"""

import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.duplex.vmpair.tests.lab.test_lab_suite import run_probe

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"
VM_STATE = LAB / ".state" / "vm"

SOURCES = "deb http://mirror.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main\n"

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import labimage, labvm, labvmimage
labimage.apt_source_files = lambda: [sys.argv[2]]
mirror = labimage.find_mirror(labvmimage.VM_SUITE)
opts, sources = labvmimage.release_apt(labvmimage.VM_SUITE, mirror)
roles = ["east", "west", "witness"]
lab = {"name": "probe", "roles": roles, "memory": 1024, "plan": labvm.plan(0, roles)}
kernels = {}
for recorded in (None, "bookworm", "trixie"):
    if recorded:
        lab["suite"] = recorded
    argv = labvm.qemu_argv(lab, "east")
    kernels[recorded or "unrecorded"] = argv[argv.index("-kernel") + 1]
print(json.dumps({
    "suite": labvmimage.VM_SUITE,
    "image": labvmimage.IMAGE_DIR,
    "root_size": labvmimage.ROOT_SIZE,
    "include": labvmimage.include(labvmimage.VM_SUITE),
    "base_include": labvmimage.INCLUDE,
    "input_files": labvmimage.input_files(labvmimage.VM_SUITE),
    "base_input_files": labvmimage.INPUT_FILES,
    "apt_options": opts,
    "apt_sources": sources,
    "kernels": kernels,
}))
"""


def probe(tmp_path, suite):
    return run_probe(PROBE, tmp_path, suite, SOURCES)


def test_bookworm_is_the_default_with_the_image_and_recipe_it_always_had(tmp_path):
    out = probe(tmp_path, None)
    assert out["suite"] == "bookworm"
    assert out["image"] == str(VM_STATE / "image")
    # the same hash inputs as before trixie existed: an existing bookworm image stays valid
    assert out["root_size"] == "3G"
    assert out["include"] == out["base_include"]
    assert out["input_files"] == out["base_input_files"]
    assert out["apt_options"] == [] and out["apt_sources"] is None  # the host's own apt lists


def test_trixie_has_its_own_image_its_own_apt_lists_and_what_it_needs_more(tmp_path):
    out = probe(tmp_path, "trixie")
    assert out["suite"] == "trixie"
    assert out["image"] == str(VM_STATE / "image-trixie")
    assert out["root_size"] == "4G"
    assert out["include"] == out["base_include"] + ["e2fsprogs"]  # not in trixie's minbase
    assert out["input_files"] == out["base_input_files"] + ["vm/inside-trixie.sh"]
    assert (LAB / "vm" / "inside-trixie.sh").is_file()
    # the kernel is read from lists of the sources the image gets, never the host's bookworm ones
    assert out["apt_sources"] == (
        "deb http://mirror.example/debian trixie main\ndeb http://mirror.example/debian trixie-updates main\n"
    )
    apt = VM_STATE / "apt-trixie"
    assert out["apt_options"] == [
        "-o",
        f"Dir::Etc::SourceList={apt / 'sources.list'}",
        "-o",
        f"Dir::Etc::SourceParts={apt / 'sources.list.d'}",
        "-o",
        f"Dir::State::Lists={apt / 'lists'}",
        "-o",
        f"Dir::State::status={apt / 'status'}",
        "-o",
        f"Dir::Cache={apt / 'cache'}",
    ]


def test_a_lab_boots_the_image_of_the_release_it_was_started_on_whatever_the_variable_says(tmp_path):
    for suite in (None, "trixie"):
        assert probe(tmp_path, suite)["kernels"] == {
            "unrecorded": str(VM_STATE / "image" / "vmlinuz"),  # labs from before releases were recorded
            "bookworm": str(VM_STATE / "image" / "vmlinuz"),
            "trixie": str(VM_STATE / "image-trixie" / "vmlinuz"),
        }


@pytest.mark.skipif(os.geteuid() != 0, reason="lab.py runs as root only")
@pytest.mark.parametrize("command", [["image"], ["up", "--name", "vmpair-test-refused", "--index", "9"]])
def test_a_release_the_vm_lab_cannot_build_is_refused_with_the_variable_and_the_fix(tmp_path, command):
    inventory = tmp_path / "lab.yml"
    argv = [sys.executable, str(LAB / "lab.py"), "vm", *command]
    if command[0] == "up":
        argv += ["--inventory", str(inventory)]
    proc = subprocess.run(
        argv, env={"PATH": "/usr/bin:/bin", "VMPAIR_LAB_SUITE": "sid"}, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "lab.py: error: VMPAIR_LAB_SUITE=sid is not a release the lab builds. Fix: set it to one of bookworm, "
        "trixie, or unset it for bookworm.\n"
    )
    assert not inventory.exists()
    assert not (VM_STATE / "labs" / "vmpair-test-refused").exists()
    assert not (VM_STATE / "image-sid").exists()

"""lab/labcore.py and labimage.py: the container lab's Debian release (VMPAIR_LAB_SUITE).

Each test starts the lab modules in a fresh Python with the variable set, as `lab.py` is started;
the host's apt sources are replaced by files written here (a Debian 12 host's, in both of apt's
formats), so what is read from them does not depend on the machine that runs the tests.
"""

import json
import pathlib
import subprocess
import sys

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"

ONE_LINE = "deb http://mirror.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main\n"
DEB822 = (
    "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
    "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
)

PROBE = """
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
import labcore, labimage
labimage.apt_source_files = lambda: [sys.argv[2]]
out = {"suite": labcore.SUITE, "base": labcore.BASE_IMAGE, "node": labcore.NODE_IMAGE}
try:
    labcore.check_suite()
except labcore.LabError as exc:
    out["error"] = str(exc)
    print(json.dumps(out)); sys.exit(0)
out["mirror"] = labimage.find_mirror()
out["host_runs"] = labimage.host_runs(labcore.SUITE)
if out["host_runs"]:  # the host's own release: its files are copied as they are (not redone here)
    print(json.dumps(out)); sys.exit(0)
root = tempfile.mkdtemp()
os.makedirs(os.path.join(root, "etc/apt/sources.list.d"))
open(os.path.join(root, "etc/apt/sources.list"), "w").write("debootstrap's line\\n")
labimage._copy_sources(root, labcore.SUITE, out["mirror"])
listed = []
for folder, _dirs, files in os.walk(os.path.join(root, "etc/apt")):
    for name in files:
        listed.append((os.path.relpath(os.path.join(folder, name), root), open(os.path.join(folder, name)).read()))
out["sources"] = sorted(listed)
print(json.dumps(out))
"""


def run_probe(script, tmp_path, suite, sources, name="sources.list"):
    """Run a probe script (argv: the lab directory, an apt sources file holding ``sources``) in a fresh
    Python with VMPAIR_LAB_SUITE=suite (unset for None); return the JSON it prints."""
    path = tmp_path / name
    path.write_text(sources)
    env = {"PATH": "/usr/bin:/bin"}
    if suite is not None:
        env["VMPAIR_LAB_SUITE"] = suite
    proc = subprocess.run(
        [sys.executable, "-c", script, str(LAB), str(path)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def probe(tmp_path, suite, sources=ONE_LINE, name="sources.list"):
    return run_probe(PROBE, tmp_path, suite, sources, name)


def test_bookworm_is_the_default_with_the_image_names_it_always_had(tmp_path):
    out = probe(tmp_path, None)
    assert (out["suite"], out["base"], out["node"]) == (
        "bookworm",
        "localhost/vmpair-lab-base",
        "localhost/vmpair-lab-node",
    )
    assert out["mirror"] == "http://mirror.example/debian"
    assert out["host_runs"] is True


def test_trixie_has_its_own_images_and_its_own_sources_from_the_hosts_mirror(tmp_path):
    for sources, name in ((ONE_LINE, "sources.list"), (DEB822, "debian.sources")):
        out = probe(tmp_path, "trixie", sources, name)
        assert (out["base"], out["node"]) == ("localhost/vmpair-lab-base-trixie", "localhost/vmpair-lab-node-trixie")
        assert out["mirror"] == "http://mirror.example/debian"
        assert out["host_runs"] is False
        # never the host's bookworm entries in a trixie image
        assert out["sources"] == [
            [
                "etc/apt/sources.list",
                "deb http://mirror.example/debian trixie main\ndeb http://mirror.example/debian trixie-updates main\n",
            ]
        ]


def test_a_release_the_lab_cannot_build_is_refused_with_the_variable_and_the_fix(tmp_path):
    out = probe(tmp_path, "sid")
    assert out["error"] == (
        "VMPAIR_LAB_SUITE=sid is not a release the lab builds. Fix: set it to one of bookworm, trixie, "
        "or unset it for bookworm."
    )

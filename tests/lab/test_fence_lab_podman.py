"""lab/fence_lab_podman: it checks a password like a real BMC's agent, given as password or password_script.

The agent runs as Pacemaker's fencer runs it (options as key=value lines on stdin) or from the command
line. The actions tested (validate-all, monitor with no podman API) stop before or at the podman API, so
no container is touched; the expected password is a file named by FENCE_LAB_PODMAN_EXPECTED, as the
lab image's /etc/lab/fence_lab_podman.password.
"""

import os
import pathlib
import subprocess
import sys

import pytest

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"
AGENT = LAB / "fence_lab_podman"
PASSWORD = (LAB / "fence_lab_podman.password").read_text().strip()


@pytest.fixture
def expected(tmp_path):
    path = tmp_path / "expected"
    path.write_text(PASSWORD + "\n")
    return str(path)


def agent(expected, stdin=None, argv=()):
    env = dict(os.environ, FENCE_LAB_PODMAN_EXPECTED=expected)
    return subprocess.run(
        [sys.executable, str(AGENT), *argv], input=stdin or "", env=env, capture_output=True, text=True, check=False
    )


def password_file(tmp_path, text):
    path = tmp_path / "fence.password"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_right_password_on_stdin(expected):
    run = agent(expected, f"action=validate-all\nplug=x\npassword={PASSWORD}\n")
    assert run.returncode == 0, run.stderr


def test_password_script_output_is_the_password(expected, tmp_path):
    path = password_file(tmp_path, PASSWORD)  # as the cluster role writes it: no newline
    run = agent(expected, f"action=validate-all\nplug=x\npassword_script=/bin/cat {path}\n")
    assert run.returncode == 0, run.stderr
    run = agent(expected, argv=["-o", "validate-all", "-S", f"/bin/cat {path}"])
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    "options",
    [
        "action=validate-all\nplug=x\n",
        "action=validate-all\nplug=x\npassword=not-it\n",
        "action=validate-all\nplug=x\npasswd=not-it\n",
        "action=validate-all\nplug=x\npassword_script=/bin/false\n",
        "action=monitor\n",  # monitor logs in too, like a BMC's agent
    ],
)
def test_missing_or_wrong_password_is_refused(expected, tmp_path, options):
    run = agent(expected, options)
    assert run.returncode == 1
    assert "password" in run.stderr


def test_wrong_password_from_the_script_is_refused(expected, tmp_path):
    path = password_file(tmp_path, "not-it")
    run = agent(expected, f"action=validate-all\nplug=x\npassword_script=/bin/cat {path}\n")
    assert run.returncode == 1
    assert "wrong password" in run.stderr


def test_right_password_reaches_the_power_switch(expected):
    """With the right password the agent goes on to the podman API (absent here: error naming the socket)."""
    run = agent(expected, f"action=monitor\nsocket=/nonexistent/podman.sock\npassword={PASSWORD}\n")
    assert run.returncode == 1
    assert "cannot reach the podman API on /nonexistent/podman.sock" in run.stderr


def test_metadata_needs_no_password_and_lists_the_password_options(expected):
    run = agent(expected, argv=["-o", "metadata"])
    assert run.returncode == 0, run.stderr
    for name in ("password", "passwd", "password_script", "passwd_script"):
        assert f'<parameter name="{name}"' in run.stdout


def test_missing_expected_file_is_an_error(tmp_path):
    run = agent(str(tmp_path / "absent"), f"action=validate-all\npassword={PASSWORD}\n")
    assert run.returncode == 1
    assert "rebuild the image" in run.stderr

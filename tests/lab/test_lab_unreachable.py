"""A lab host that stops answering stops the Molecule play at once, named, with its serial log.

Runs the real ansible-playbook with the settings the Molecule scenarios use
(ANSIBLE_ANY_ERRORS_FATAL and lab/callback_plugins/vmpair_lab.py): one host answers (local
connection), the other is an ssh host on a closed loopback port, as a lab VM whose sshd is gone.
The real-kernel scenario once went on after hv-east stopped answering and failed later on a fact
that hv-east never delivered; here the play must stop at the unreachable task, and no later task
may run on either host.
"""

import os
import pathlib
import socket
import subprocess
import sys

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"

PLAYBOOK = """
- name: The lab play
  hosts: all
  gather_facts: false
  tasks:
    - name: Read what each host has
      ansible.builtin.command: echo fact
      register: __fact
    - name: A check that uses every host's fact
      ansible.builtin.debug:
        msg: "LATER TASK RAN on {{ inventory_hostname }}"
- name: A later play
  hosts: all
  gather_facts: false
  tasks:
    - name: Later play's task
      ansible.builtin.debug:
        msg: "LATER PLAY RAN"
"""


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(tmp_path, fatal=True):
    serial = tmp_path / "hv-east.log"
    serial.write_text(
        "".join(f"boot line {n}\n" for n in range(100)) + "watchdog: BUG: soft lockup - CPU#0 stuck for 102s!\n"
    )
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n"
        "    hv-west: {ansible_connection: local, ansible_python_interpreter: %s}\n"
        "    hv-east: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root, ansible_ssh_retries: 0,\n"
        "              ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',\n"
        "              lab_serial_log: %s}\n" % (sys.executable, closed_port(), serial)
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ)
    env.update(
        ANSIBLE_CALLBACK_PLUGINS=str(LAB / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="vmpair_lab",
        ANSIBLE_ANY_ERRORS_FATAL="true" if fatal else "false",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_TIMEOUT="5",
        VMPAIR_LAB_SERIAL_LINES="5",
    )
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_unreachable_host_stops_the_play_named_with_its_serial_log(tmp_path):
    proc = run(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "LAB HOST hv-east STOPPED ANSWERING during task 'Read what each host has' (play 'The lab play')" in out
    assert "soft lockup - CPU#0 stuck for 102s" in out
    assert "boot line 99" in out and "boot line 94" not in out  # the last 5 lines only
    assert "LATER TASK RAN" not in out
    assert "LATER PLAY RAN" not in out


def test_without_any_errors_fatal_the_play_would_go_on(tmp_path):
    """What the scenarios did before: the other host went on to checks without hv-east's facts."""
    proc = run(tmp_path, fatal=False)
    out = proc.stdout + proc.stderr
    assert "LATER TASK RAN on hv-west" in out

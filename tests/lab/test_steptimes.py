"""scripts/steptimes.py: the time of each Molecule step, from Molecule's own output as it comes.

Runs the script on Molecule's two line formats (a terminal's, and the one it prints with CI set,
as `make test` in CI does), lines fed with pauses between the steps.
"""

import pathlib
import subprocess
import sys
import time

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "steptimes.py"

TERMINAL = ["\x1b[32mdefault\x1b[0m ➜ \x1b[33mcreate\x1b[0m: Executing", "TASK [x]", "default ➜ converge: Executing"]
CI = ["INFO     [default > create] Executing", "TASK [x]", "INFO     [default > converge] Executing"]


def run(lines, tmp_path, pause=0.6):
    times = tmp_path / "times.tsv"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "default", str(times)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in lines:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        if "Executing" in line:
            time.sleep(pause)
    out = proc.communicate(timeout=30)[0]
    return out, [line.split("\t") for line in times.read_text().splitlines()]


def test_terminal_and_ci_formats_give_the_same_steps(tmp_path):
    for lines in (TERMINAL, CI):
        out, rows = run(lines, tmp_path)
        assert [r[:2] for r in rows] == [["molecule default", "create"], ["molecule default", "converge"]], out
        assert int(rows[0][2]) in (0, 1)  # rounded seconds of a 0.6 s step
        assert all(line in out for line in lines)  # every line passed through
        assert "molecule default: time per step" in out
        (tmp_path / "times.tsv").unlink()


def test_other_scenarios_lines_are_not_counted(tmp_path):
    out, rows = run(["INFO     [xen > create] Executing", "INFO     [default > verify] Executing"], tmp_path, 0)
    assert [r[1] for r in rows] == ["verify"]


def test_a_failed_task_is_kept_with_its_header_and_step_and_an_ignored_one_is_not(tmp_path):
    failures = tmp_path / "failures.txt"
    lines = [
        "INFO     [default > converge] Executing",
        "TASK [Probe something] ***",
        'failed: [hv-east] (item=a) => {"msg": "probe"}',
        "...ignoring",
        "INFO     [default > side_effect] Executing",
        "TASK [Wait until the guest writes] ***********",
        "FAILED - RETRYING: [hv-west]: Wait until the guest writes (2 retries left).",
        'fatal: [hv-west]: FAILED! => {"msg": "no write"}',
        "  detail line",
        "",
        "PLAY RECAP *********",
        "hv-west : ok=3 failed=1",
        "CRITICAL Ansible return code was 2, command was: ansible-playbook side_effect.yml",
    ]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "default", "", str(failures)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(line in proc.stdout for line in lines)
    assert failures.read_text().split("\n\n")[:2] == [
        "molecule default side_effect: TASK [Wait until the guest writes]\n"
        'fatal: [hv-west]: FAILED! => {"msg": "no write"}\n  detail line',
        "molecule default side_effect: TASK [Wait until the guest writes]\n"
        "CRITICAL Ansible return code was 2, command was: ansible-playbook side_effect.yml",
    ]

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

# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pass Molecule's output through and time each of its steps.

    molecule test -s NAME 2>&1 | python3 scripts/steptimes.py NAME [TIMES_FILE [FAILURES_FILE]]

Every line is printed as it comes. A step starts at Molecule's "Executing" line for it and ends
at the next step's start or at the end of the output. At the end the steps are printed as
a table, and appended to TIMES_FILE (tab-separated: scenario, step, seconds) for scripts/test.sh.
Each task that failed (Ansible's "fatal:" or "failed:" line, with its TASK header, the step it
was in and what followed, up to MAX_LINES lines) is appended to FAILURES_FILE: scripts/test.sh
prints them after its table, so the end of a long log says why a scenario failed.
"""

import re
import sys
import time

# Molecule's step lines: "default ➜ converge: Executing" on a terminal, "[default > converge]
# Executing" with CI set.
STEP = re.compile(r"\[?(?P<scenario>[\w.-]+) (?:➜|>) (?P<step>[a-z_]+)(?:\]|:) Executing")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Ansible's line for a task that failed on a host (not "...ignoring", not a retry's "FAILED - RETRYING")
FAILED = re.compile(r"^(fatal|failed): \[")
# Molecule's own account of a failed step (CI=1 format: level, spaces, text), e.g. the idempotence
# step's "Idempotence test failed because of the following tasks:"
MOLECULE_ERROR = re.compile(r"^(CRITICAL|ERROR) +\S")
# a task's or play's header, the recap, Molecule's next line: where a failure's account ends
HEADER = re.compile(r"^(TASK|PLAY|RUNNING HANDLER) \[|^PLAY RECAP|^INFO +\[")
MAX_FAILURES = 3
MAX_LINES = 40
MAX_CHARS = 3000


class Failures:
    """The first MAX_FAILURES failed tasks: TASK header, the failure line and what follows it."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.blocks = []
        self.task = ""
        self.open = None

    def feed(self, line, step):
        line = line.rstrip("\n")[:MAX_CHARS]
        if HEADER.match(line):
            self.open = None
            if line.startswith(("TASK", "RUNNING HANDLER")):
                self.task = line.rstrip(" *")
            return
        if line.startswith("...ignoring") and self.open is not None:
            # ignore_errors: the task's failure is not the run's
            self.blocks.remove(self.open)
            self.open = None
            return
        if self.open is not None:
            if len(self.open) < MAX_LINES:
                self.open.append(line)
            return
        if (FAILED.match(line) or MOLECULE_ERROR.match(line)) and len(self.blocks) < MAX_FAILURES:
            self.open = [f"molecule {self.scenario} {step}: {self.task}", line]
            self.blocks.append(self.open)

    def write(self, path):
        with open(path, "a", encoding="utf-8") as handle:
            for block in self.blocks:
                handle.write("\n".join(block).rstrip() + "\n\n")


def main(argv):
    scenario = argv[1] if len(argv) > 1 else "?"
    times_file = argv[2] if len(argv) > 2 else None
    failures_file = argv[3] if len(argv) > 3 else None
    steps = []  # [step, started]
    failures = Failures(scenario)
    started = time.monotonic()
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
        plain = ANSI.sub("", line)
        match = STEP.search(plain)
        if match and match.group("scenario") == scenario:
            steps.append([match.group("step"), time.monotonic()])
        failures.feed(plain, steps[-1][0] if steps else "?")
    ended = time.monotonic()
    rows = []
    for i, (step, begin) in enumerate(steps):
        end = steps[i + 1][1] if i + 1 < len(steps) else ended
        rows.append((step, end - begin))
    print(f"\nmolecule {scenario}: time per step")
    for step, seconds in rows:
        print(f"  {step:<12} {seconds:7.0f} s")
    print(f"  {'total':<12} {ended - started:7.0f} s")
    if times_file:
        with open(times_file, "a", encoding="utf-8") as handle:
            for step, seconds in rows:
                handle.write(f"molecule {scenario}\t{step}\t{seconds:.0f}\n")
    if failures_file:
        failures.write(failures_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

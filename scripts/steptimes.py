# Copyright: (c) 2026, duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pass Molecule's output through and time each of its steps.

    molecule test -s NAME 2>&1 | python3 scripts/steptimes.py NAME [TIMES_FILE]

Every line is printed as it comes. A step starts at Molecule's "Executing" line for it and ends
at the next step's start or at the end of the output. At the end the steps are printed as
a table, and appended to TIMES_FILE (tab-separated: scenario, step, seconds) for scripts/test.sh.
"""

import re
import sys
import time

# Molecule's step lines: "default ➜ converge: Executing" on a terminal, "[default > converge]
# Executing" with CI set.
STEP = re.compile(r"\[?(?P<scenario>[\w.-]+) (?:➜|>) (?P<step>[a-z_]+)(?:\]|:) Executing")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main(argv):
    scenario = argv[1] if len(argv) > 1 else "?"
    times_file = argv[2] if len(argv) > 2 else None
    steps = []  # [step, started]
    started = time.monotonic()
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
        match = STEP.search(ANSI.sub("", line))
        if match and match.group("scenario") == scenario:
            steps.append([match.group("step"), time.monotonic()])
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The mutation score of the graded tests: plausible mistakes, each graded by the notebook's own test cells.

    python benchmarks/mutants.py --json      # {"mutants": N, "killed": K, "cross_charged": C, "killed_by_visible": V}
    python benchmarks/mutants.py             # the same, then every survivor and cross-charge by name

The mistakes are data (``tests/mutants/<assignment>.py``); ``autograder.cli.mutation`` grades them in one process
per assignment. Target: K = N (every mistake loses points) and C = 0 (none loses points outside its exercise).
V counts the mistakes the visible tests alone catch (what Validate runs); each one they miss is listed below, and
last each exercise and kind of mistake (``kind_of``) whose mistakes they all miss (target: none).
"""

from __future__ import annotations

import argparse
import json
import time

from autograder.cli.mutation import grade_all, summary, visible_gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("assignments", nargs="*", help="only these (default: every one with mutants)")
    args = parser.parse_args()
    started = time.monotonic()
    reports = grade_all(args.assignments or None, workers=args.workers)
    figures = summary(reports)
    print(json.dumps(figures))
    if args.json:
        return
    print(f"{time.monotonic() - started:.1f} s")
    for report in reports:
        for test, message in report["baseline_failures"].items():
            print(f"{report['assignment']}: the solution fails {test}: {message}")
        for error in report["errors"]:
            print(f"{report['assignment']}: {error}")
        for o in report["outcomes"]:
            if not o["killed"]:
                print(f"{report['assignment']}: SURVIVES {o['mutant']} ({o['function']})")
            if not o["visible_killed"]:
                print(f"{report['assignment']}: passes the visible tests: {o['mutant']} ({o['function']})")
            if o["cross_charged"]:
                print(
                    f"{report['assignment']}: CROSS-CHARGED {o['mutant']} ({o['function']}): "
                    + "; ".join(f"{t}: {o['messages'][t]}" for t in o["cross_charged"])
                )
    for gap in visible_gaps(reports):
        print(gap)


if __name__ == "__main__":
    main()

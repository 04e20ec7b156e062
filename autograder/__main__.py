"""``python -m autograder <command> [args]`` — the course's grading tools.

Commands:
  release [assignment ...]   regenerate notebooks/ from source/ (what `make release` runs)
  autograde <assignment> [--jobs N] [--student ID]
                             grade every submission, N at a time; repair what is safe, give zero
                             with a reason for what is not, and print a report per student
  private [--group]          make the course folder (the current one) private: 0700, or 0750 for a group of
                             instructors; what `make instructor` runs
  check <topic> [--work DIR]  self-study: grade your own work/<topic>/ with the hidden tests (sandboxed, in a
                             throwaway course folder) and print each test's points and the total
  roster import <roster.csv>  add or update students in the gradebook (autograder/cli/lms.py: also the LMS exporters)
  duedate [<assignment> <date>]  set an assignment's due date in the gradebook, or list them
  report <assignment> [--out report.html]  the class report: pass share and failures per test, score histogram
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "release":
        from autograder.cli import release

        return release.main(rest)
    if command == "autograde":
        from autograder.cli import autograde

        return autograde.main(rest)
    if command == "private":
        from autograder.hooks import privacy

        return privacy.main(rest)
    if command == "check":
        from autograder.cli import check

        return check.main(rest)
    if command in ("roster", "duedate"):
        from autograder.cli import lms

        return (lms.roster_main if command == "roster" else lms.duedate_main)(rest)
    if command == "report":
        from autograder.cli import report

        return report.main(rest)
    print(f"unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

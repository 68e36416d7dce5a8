"""Grade otter submissions without Docker: ``otter run`` on each, with a timeout, into one CSV.

Usage (from the repository root, the course's ``.venv`` active or named)::

    .venv/bin/python scripts/grade_otter.py -a AUTOGRADER.zip -o scores.csv [--timeout S] NB...

Each ``NB`` is one student's notebook, in a folder named after the student (``submissions/ada/
08_capstone.ipynb``); ``otter run`` writes its ``results.json`` beside it. A submission that
runs past ``--timeout`` seconds (default 900) is stopped with its kernel, and one whose grading
wrote no results (its kernel died: ``os._exit``, a crash, memory) is still graded: 0 points and
the reason, in the ``status`` column. The CSV has one row per submission: ``student``,
``score``, ``possible`` (blank where no results were written), ``status`` and one column per
question.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

BIN = Path(sys.executable).parent  # otter lives beside this Python


def grade_one(autograder: Path, notebook: Path, timeout: float) -> dict:
    """One CSV row: ``otter run`` on ``notebook`` in its own process group, stopped at ``timeout``."""
    results = notebook.parent / "results.json"
    results.unlink(missing_ok=True)
    command = [BIN / "otter", "run", "-a", autograder, "-o", notebook.parent, notebook]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(
        [str(c) for c in command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its kernel too is in this group: a timeout stops both
    )
    try:
        process.communicate(timeout=timeout)
        status = "graded" if results.is_file() else (
            f"0 points: otter wrote no results (exit code {process.returncode}); the notebook's "
            "kernel died (os._exit, a crash or memory)"
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        status = f"0 points: timed out after {timeout:g} s (an endless loop?)"
    row = {"student": notebook.parent.name, "score": 0.0, "possible": None, "status": status}
    if status == "graded":
        tests = json.loads(results.read_text())["tests"]
        tests = [t for t in tests if t.get("max_score") is not None]
        row["score"] = sum(t["score"] for t in tests)
        row["possible"] = sum(t["max_score"] for t in tests)
        row.update({t["name"]: t["score"] for t in tests})
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-a", "--autograder", type=Path, required=True, help="the chapter's zip")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the CSV of scores")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per submission")
    parser.add_argument("notebooks", type=Path, nargs="+", help="one notebook per student")
    args = parser.parse_args(argv)
    if not args.autograder.is_file():
        parser.error(f"no autograder zip at {args.autograder}")
    missing = [str(nb) for nb in args.notebooks if not nb.is_file()]
    if missing:
        parser.error(f"no notebook at {', '.join(missing)}")
    rows = []
    for notebook in args.notebooks:
        rows.append(grade_one(args.autograder.resolve(), notebook.resolve(), args.timeout))
        print(f"{rows[-1]['student']}: {rows[-1]['score']:g} ({rows[-1]['status']})")
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

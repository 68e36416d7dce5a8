"""Grade otter submissions without Docker: ``otter run`` on each in a sandbox, points decided here.

Usage (from the repository root, the course's ``.venv`` active or named)::

    .venv/bin/python scripts/grade_otter.py -a AUTOGRADER.zip -o scores.csv [--timeout S] NB...

Each ``NB`` is one student's notebook, in a folder named after the student (``submissions/ada/
08_capstone.ipynb``). ``otter run`` executes it inside bubblewrap's sandbox
(``grading/sandbox.py``: the submission's folder the only place it sees of this machine, every
process it starts ending with it), stopped after ``--timeout`` seconds (default 900). Its hidden
tests only write the answers out (``eelib.exports``); this script then decides every point in its
own process with ``grading/course_grader.py``, from those files alone: otter's own
``results.json`` is not read, so nothing the submission writes or rebinds passes a test. A
submission that stops early (a timeout, a kernel that dies) keeps the points of the tests that
ran before, and its ``status`` says why it stopped. The CSV has one row per submission:
``student``, ``score``, ``possible``, ``status``, one column per question (its points) and one
``<question> reasons`` column (why points were lost, empty where none were).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # otter lives beside this Python
sys.path.insert(0, str(ROOT / "grading"))
import course_grader  # noqa: E402 (the grader's own files, never the submission's)
import sandbox  # noqa: E402


def questions(chapter: str) -> dict[str, dict[str, float]]:
    """question → {hidden test grade_id: points}, from the course notebook's solution cells (a
    prediction, graded by hand through its written comparison, has none)."""
    cells = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())["cells"]
    out = {}
    for cell in cells:
        meta = cell["metadata"]
        hidden = meta.get("grading", {}).get("hidden")
        if meta.get("nbgrader", {}).get("solution") and hidden:
            out[meta["nbgrader"]["grade_id"]] = hidden
    return out


def chapter_of(autograder: Path) -> str:
    """The assignment's name, from the zip's otter_config.json."""
    with zipfile.ZipFile(autograder) as archive:
        return json.loads(archive.read("otter_config.json"))["assignment_name"]


# otter finds its tests by a relative path ("./tests"): an os.chdir in an answer would hide
# every later test, so in the graded copy each cell ends back in the folder it started in
BACK_HOME = """import os as _otter_os

_otter_home = _otter_os.getcwd()
get_ipython().events.register("post_run_cell", lambda *_: _otter_os.chdir(_otter_home))
"""


def graded_copy(notebook: Path) -> Path:
    """The submission as otter runs it: a first cell that undoes an ``os.chdir`` after each cell.

    Written to ``.graded/<name>`` beside it; the student's own file is never changed.
    """
    nb = json.loads(notebook.read_text())
    cell = {"cell_type": "code", "id": "grader-home", "metadata": {}, "outputs": []}
    nb["cells"].insert(0, {**cell, "execution_count": None, "source": BACK_HOME})
    copy = notebook.parent / ".graded" / notebook.name
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(json.dumps(nb))
    return copy


def execute(autograder: Path, notebook: Path, timeout: float) -> str:
    """``otter run`` on ``notebook`` in the sandbox; why it stopped early, or "" where it ran."""
    folder = notebook.parent
    shutil.rmtree(folder / sandbox.EXPORTS, ignore_errors=True)  # only this run may write it
    graded = graded_copy(notebook)
    inside = [str(BIN / "otter"), "run", "-a", str(autograder), "-o", str(folder), str(graded)]
    why = sandbox.why_not()
    if why:
        print(sandbox.UNSAFE.format(why=why), file=sys.stderr)
        command = inside
    else:
        command = sandbox.command(folder, inside, read_only=(autograder,))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    env["EELIB_EXPORTS"] = str(folder / sandbox.EXPORTS)
    with (folder / "otter-run.log").open("w") as log:  # a file, never a pipe it could hold
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # the sandbox and all in it: one group to stop
        )  # fmt: skip
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return f"timed out after {timeout:g} s (an endless loop?)"
    if code or not (folder / "results.json").is_file():
        return f"the run stopped early (exit code {code}): the notebook's kernel died (os._exit, a crash or memory)"
    return ""


def grade_one(autograder: Path, notebook: Path, timeout: float) -> dict:
    """One CSV row: the notebook run in the sandbox, each hidden test decided from its exports."""
    stopped = execute(autograder, notebook, timeout)
    folder = notebook.parent / sandbox.EXPORTS
    row = {"student": notebook.parent.name, "score": 0.0, "possible": 0.0}
    row["status"] = "graded" + (f"; {stopped}" if stopped else "")
    for question, tests in questions(chapter_of(autograder)).items():
        reasons = {g: course_grader.grade(g, folder) for g in tests}
        row[question] = sum(p for g, p in tests.items() if reasons[g] is None)
        row[f"{question} reasons"] = " | ".join(r for r in reasons.values() if r)
        row["score"] += row[question]
        row["possible"] += sum(tests.values())
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

"""Grade each chapter's submissions in both graders, once per session (``make check-grading``).

The submissions are built from each grader's own student version: ``solutions`` (every solution
cell filled from the instructor notebook), ``blank`` (unmodified), ``planted`` (one plausible
wrong answer per autograded exercise) and, for the chapters ``planted.CASES`` names, the
dishonest and faulty submissions (answers that take points without the work, a kernel that
dies, an endless loop). nbgrader grades them with ``nbgrader autograde``, otter-grader with
``scripts/grade_otter.py`` (``otter run`` per submission with a timeout, one CSV: the teaching
page's way without Docker). ``pytest tests_grading -k 08_capstone`` grades one chapter. The
timings (two graders side by side) go to ``_build/grading/timings.csv``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from planted import CASES, PLANTED

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "grading"
BIN = Path(sys.executable).parent
SUBMISSIONS = ("solutions", "blank", "planted")
OTTER_TIMEOUT = 900  # seconds per submission, as the teaching page says


def chapters() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_grading import chapters as graded

    return [p.stem for p in graded()]


def autograded_tests(chapter: str) -> list[str]:
    """grade_ids of the chapter's autograded test cells (not the answers graded by hand)."""
    from eelib.grading import graded_cells

    cells = graded_cells(ROOT / "notebooks" / f"{chapter}.ipynb")
    return list(cells.loc[cells["kind"] == "autograded test", "grade_id"])


def solution_sources(chapter: str) -> dict[str, str]:
    """grade_id → source of every code solution cell of the instructor notebook."""
    nb = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    return {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")
    }


def submission(student_version: Path, answers: dict[str, str], out: Path, case=None) -> None:
    """Write the student version with the solution cells named in ``answers`` replaced, and a
    case's honest edits made (``planted.CASES``: a duplicated cell, a pasted one)."""
    nb = json.loads(student_version.read_text())
    case = case or {}
    cells = []
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["cell_type"] == "code" and grade_id in answers:
            cell["source"] = answers[grade_id]
            if grade_id in case.get("duplicate", {}):  # the copy Jupyter makes: same id, metadata
                cells.append({**copy.deepcopy(cell), "source": case["duplicate"][grade_id]})
        cells.append(cell)
        if "paste" in case and cell["metadata"].get("nbgrader", {}).get("solution"):
            meta = {**cell["metadata"]["nbgrader"], "grade_id": case["paste"]["grade_id"]}
            cells.append(
                {
                    **copy.deepcopy(cell),
                    "id": "pasted",
                    "metadata": {"nbgrader": meta},
                    "source": case["paste"]["source"],
                }
            )
            case = {k: v for k, v in case.items() if k != "paste"}  # one pasted cell
    nb["cells"] = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(nb, indent=1))


def kinds(chapter: str) -> list[str]:
    """The submissions graded for a chapter: the three of every chapter and its CASES."""
    return [*SUBMISSIONS, *CASES.get(chapter, {})]


def answers_for(chapter: str, kind: str) -> dict[str, str]:
    if kind == "solutions":
        return solution_sources(chapter)
    if kind == "planted":
        return {**solution_sources(chapter), **PLANTED.get(chapter, {})}
    if kind in CASES.get(chapter, {}):
        case = CASES[chapter][kind]
        base = solution_sources(chapter) if case.get("from") == "solutions" else {}
        if case.get("prepend"):
            return {**base, **{k: v + base[k] for k, v in case["answers"].items()}}
        return {**base, **case["answers"]}
    return {}


def run(*command, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )


def grade_nbgrader(chapter: str, timings: list) -> dict:
    """{kind: {grade_id: (score, max_score)}} and the autograded notebooks' paths."""
    from nbgrader.api import Gradebook, MissingEntry

    course = OUT / "nbgrader"
    release = course / "release" / chapter / f"{chapter}.ipynb"
    scores = {}
    for kind in kinds(chapter):
        shutil.rmtree(course / "submitted" / kind / chapter, ignore_errors=True)
        submission(
            release,
            answers_for(chapter, kind),
            course / "submitted" / kind / chapter / release.name,
            CASES.get(chapter, {}).get(kind),
        )
        started = time.perf_counter()
        timeout = CASES.get(chapter, {}).get(kind, {}).get("cell_timeout")
        done = run(
            BIN / "nbgrader",
            "autograde",
            chapter,
            "--force",
            f"--student={kind}",
            f"--CourseDirectory.root={course}",
            *([f"--Execute.timeout={timeout}"] if timeout else []),
        )
        timings.append(("nbgrader", chapter, kind, time.perf_counter() - started))
        assert done.returncode == 0, done.stdout + done.stderr
    tests = set(autograded_tests(chapter))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for kind in kinds(chapter):
            try:
                nb = gb.find_submission_notebook(chapter, chapter, kind)
            except MissingEntry:  # no grade recorded
                scores[kind] = {}
                continue
            scores[kind] = {g.name: (g.score, g.max_score) for g in nb.grades if g.name in tests}
    return scores


def grade_otter(chapter: str, timings: list) -> dict:
    """{kind: {question: (score, max_score)}, "status": {kind: status}} from grade_otter.py."""
    folder = OUT / "otter" / chapter
    zip_file = next((folder / "autograder").glob("*.zip"))
    scores: dict = {"status": {}}
    for kind in kinds(chapter):
        work = OUT / "otter-submissions" / chapter / kind
        shutil.rmtree(work, ignore_errors=True)
        student = folder / "student" / f"{chapter}.ipynb"
        submission(
            student,
            answers_for(chapter, kind),
            work / student.name,
            CASES.get(chapter, {}).get(kind),
        )
        timeout = CASES.get(chapter, {}).get(kind, {}).get("otter_timeout", OTTER_TIMEOUT)
        started = time.perf_counter()
        done = run(
            BIN / "python",
            ROOT / "scripts" / "grade_otter.py",
            f"--autograder={zip_file}",
            f"--out={work / 'scores.csv'}",
            f"--timeout={timeout}",
            work / student.name,
        )
        timings.append(("otter", chapter, kind, time.perf_counter() - started))
        assert done.returncode == 0, done.stdout + done.stderr
        row = pd.read_csv(work / "scores.csv", keep_default_na=False).iloc[0]
        scores["status"][kind] = row["status"]
        scores[kind] = {
            q: (float(row[q]), sum(tests.values())) for q, tests in hidden_points(chapter).items()
        }
    return scores


def hidden_points(chapter: str) -> dict[str, dict[str, float]]:
    """question → {hidden test: points} (grade_otter.py reads the same metadata)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from grade_otter import questions

    return questions(chapter)


@pytest.fixture(scope="session")
def graded():
    """``graded(chapter)`` → {grader: {kind: {test: (score, max)}}}, each chapter graded once.

    The two graders run side by side (one process each, one PyTorch thread each), which keeps
    the whole check inside CI's time budget on 2 cores. The timings of the chapters graded in
    this session go to ``timings.csv`` at its end.
    """
    assert (OUT / "nbgrader" / "release").is_dir(), "run `make grading` first"
    before = grader_files()
    done: dict = {}
    timings: list = []

    def grade(chapter: str) -> dict:
        if chapter not in done:
            with ThreadPoolExecutor(2) as pool:
                jobs = {name: pool.submit(f, chapter, timings) for name, f in GRADERS.items()}
                done[chapter] = {name: job.result() for name, job in jobs.items()}
        return done[chapter]

    grade.before = before  # type: ignore[attr-defined] (the grader files as grading began)
    yield grade
    if not timings:
        return
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    with (OUT / "timings.csv").open("w") as file:
        file.write(
            f"# {machine}, nbgrader and otter side by side, one PyTorch thread each; "
            f"measured {time.strftime('%Y-%m-%d')} by tests_grading\n"
        )
        table = pd.DataFrame(timings, columns=["grader", "chapter", "submission", "seconds"])
        table.round(1).to_csv(file, index=False)


def grader_files() -> dict[str, str]:
    """sha256 of every grader file and of nbgrader's source folder: no grading step writes one."""
    paths = [
        *(ROOT / "grading").rglob("*"),
        ROOT / "nbgrader_config.py",
        OUT / "grader_reference.json",
        *(OUT / "nbgrader" / "source").rglob("*"),
        *(OUT / "otter").glob("*/autograder/*"),
    ]
    return {
        str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.is_file() and "__pycache__" not in p.parts
    }


GRADERS = {"nbgrader": grade_nbgrader, "otter": grade_otter}

"""Build both graders' versions of the course from the same notebooks (``make grading``).

Usage: ``python scripts/make_grading.py [OUT]`` (default ``_build/grading``). Writes

- ``OUT/nbgrader/``: an nbgrader course (``nbgrader_config.py`` at the repository root points here):
  ``source/<chapter>/`` and, from ``nbgrader generate_assignment``, ``release/<chapter>/``, the
  student version (solutions and hidden tests removed);
- ``OUT/otter/<chapter>/``: ``otter assign``'s ``student/`` notebook and ``autograder/`` folder
  with the Gradescope autograder zip;
- ``OUT/student/``: one folder of nbgrader's student notebooks, for a plain hand-out.

The hidden tests run ``grading/course_grader.py`` from the grader's side: it travels, with its own
copy of ``eelib/`` and ``grader_reference.json`` (the capstone's bars, computed here by training
the capstone's given network), into nbgrader's ``source/<chapter>/`` (and is removed from
``release/``) and into otter's autograder zips only (``autograder_files`` in ``grading/otter.yml``).
otter's student notebook gets its "Initialize Otter" cell after the course's setup cell, and that
cell installs otter-grader where it is missing (Colab, a fresh environment).

otter-grader runs on a staged copy, ``OUT/stage/notebooks/``, with ``eelib/`` and the committed
results (``results/*.csv``, ``*.json``) beside the notebooks: otter ships only files inside the
notebook's folder, each chapter those its ASSIGNMENT CONFIG names. In nbgrader's source, a chapter
that reads the committed results (``eelib.find_results``, ``eelib.results.locate``) gets them
beside it, so its release and its autograding have them. The graded copies differ from the notebooks in one way only: the
parameters in ``GRADED_PARAMETERS`` (none at present).
"""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # nbgrader and otter live beside this Python
GRADER = ROOT / "grading" / "course_grader.py"
REFERENCE = "grader_reference.json"
GRADER_ONLY = (GRADER.name, REFERENCE)  # never in a student's folder
OTTER = "otter-grader==7.0.0"  # what otter's student notebook installs where it is missing
# Parameters the graded versions set otherwise than the book (name → value as written): none at
# present (the live run that once made chapter 5 slow to grade is on the ungraded companion page,
# 05b_robustness).
GRADED_PARAMETERS: dict[str, str] = {}
# a chapter that reads the committed results (eelib.find_results or eelib.results.locate) gets
# them beside it
READS_RESULTS = re.compile(r"\b(find_results|results\.locate)\(")


def chapters() -> list[Path]:
    """The graded chapters: every notebook with an otter ASSIGNMENT CONFIG cell."""
    return sorted(
        p for p in (ROOT / "notebooks").glob("*.ipynb") if "# ASSIGNMENT CONFIG" in p.read_text()
    )


def copy_results(folder: Path) -> None:
    """The committed results (``results/*.csv`` and their ``.json``, no checkpoints) to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "results").glob("*"):
        if path.suffix in (".csv", ".json"):
            shutil.copy(path, folder)


def copy_eelib(folder: Path) -> None:
    """``eelib/`` (without caches) into ``folder``."""
    shutil.rmtree(folder / "eelib", ignore_errors=True)
    shutil.copytree(ROOT / "eelib", folder / "eelib", ignore=shutil.ignore_patterns("__pycache__"))


def write_reference(out: Path) -> Path:
    """The capstone's bars for this environment's profile (``EELIB_PROFILE``, default fast)."""
    import torch

    import eelib

    torch.manual_seed(0)
    grader = runpy.run_path(str(GRADER))
    profile = eelib.get_profile(os.environ.get("EELIB_PROFILE", "fast"))
    path = out / REFERENCE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(grader["capstone_bars"](eelib, profile), indent=1) + "\n")
    return path


def graded_copy(nb: Path, folder: Path) -> Path:
    """``nb`` copied into ``folder`` with ``GRADED_PARAMETERS`` set in its parameters cell."""
    notebook = json.loads(nb.read_text())
    for cell in notebook["cells"]:
        if "parameters" not in cell["metadata"].get("tags", []):
            continue
        lines = "".join(cell["source"]).splitlines(keepends=True)
        for i, line in enumerate(lines):
            name, equals, rest = line.partition(" = ")
            if equals and name in GRADED_PARAMETERS:
                _, hash_, comment = rest.partition("#")
                end = f"  #{comment}" if hash_ else "\n"
                lines[i] = f"{name} = {GRADED_PARAMETERS[name]}{end}"
        cell["source"] = lines
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / nb.name
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return target


def copy_grader(folder: Path, reference: Path) -> None:
    """The grader's material beside a chapter: the grader, its eelib, the capstone's bars."""
    shutil.copy(GRADER, folder)
    shutil.copy(reference, folder)
    copy_eelib(folder)


def run(*command: str | Path, cwd: Path = ROOT) -> None:
    """Run a grader's command; a failure stops the build with the command's own output."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}  # nbgrader calls alembic from PATH
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")


def build_nbgrader(out: Path, notebooks: list[Path], reference: Path) -> None:
    course = out / "nbgrader"
    shutil.rmtree(course / "source", ignore_errors=True)
    for nb in notebooks:
        graded_copy(nb, course / "source" / nb.stem)
        copy_grader(course / "source" / nb.stem, reference)
        if READS_RESULTS.search(nb.read_text()):
            copy_results(course / "source" / nb.stem / "results")
        run(
            BIN / "nbgrader",
            "generate_assignment",
            nb.stem,
            "--force",
            f"--CourseDirectory.root={course}",
        )
        for name in GRADER_ONLY:  # autograde copies them back from source/
            (course / "release" / nb.stem / name).unlink()
    student = out / "student"
    shutil.rmtree(student, ignore_errors=True)
    student.mkdir()
    for nb in notebooks:
        shutil.copy(course / "release" / nb.stem / nb.name, student)


def setup_first(student: Path) -> None:
    """otter's student notebook: "Initialize Otter" after the setup cell, installing otter."""
    nb = json.loads(student.read_text())
    cells = nb["cells"]
    init = next(i for i, c in enumerate(cells) if "otter.Notebook(" in "".join(c["source"]))
    setup = next(i for i, c in enumerate(cells) if "setup" in c["metadata"].get("tags", []))
    cell = cells.pop(init)
    cell["source"] = (
        "# Initialize Otter (installed first where it is missing: Colab, a fresh environment)\n"
        f'if importlib.util.find_spec("otter") is None:\n'
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{OTTER}"], check=True)\n'
        + "".join(cell["source"]).replace("# Initialize Otter\n", "")
    )
    cells.insert(setup + 1 if init > setup else setup, cell)  # right after the setup cell
    student.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def build_otter(out: Path, notebooks: list[Path], reference: Path) -> None:
    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "grading", stage / "grading")
    copy_grader(stage / "notebooks", reference)
    copy_results(stage / "notebooks" / "results")
    for nb in notebooks:
        graded_copy(nb, stage / "notebooks")
        target = out / "otter" / nb.stem
        shutil.rmtree(target, ignore_errors=True)
        run(BIN / "otter", "assign", stage / "notebooks" / nb.name, target)
        setup_first(target / "student" / nb.name)


def main(out: str = "_build/grading") -> int:
    notebooks = chapters()
    if not notebooks:
        print(
            "error: no notebook in notebooks/ has an otter ASSIGNMENT CONFIG cell", file=sys.stderr
        )
        return 2
    out_dir = (ROOT / out).resolve()
    reference = write_reference(out_dir / "grader")
    build_nbgrader(out_dir, notebooks, reference)
    build_otter(out_dir, notebooks, reference)
    print(f"wrote {len(notebooks)} assignments to {out}/: nbgrader/release, otter/*/, student/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

"""Build both graders' versions of the course from the same notebooks (``make grading``).

Usage: ``python scripts/make_grading.py [OUT]`` (default ``_build/grading``). Writes

- ``OUT/nbgrader/``: an nbgrader course (``nbgrader_config.py`` at the repository root points here):
  ``source/<chapter>/`` and, from ``nbgrader generate_assignment``, ``release/<chapter>/``, the
  student version (solutions and hidden tests removed);
- ``OUT/otter/<chapter>/``: ``otter assign``'s ``student/`` notebook and ``autograder/`` folder
  with the Gradescope autograder zip;
- ``OUT/student/``: one folder of nbgrader's student notebooks, for a plain hand-out.

otter-grader runs on a staged copy, ``OUT/stage/notebooks/``, with ``eelib/`` and the committed
results (``results/*.csv``, ``*.json``) beside the notebooks: otter ships only files inside the
notebook's folder, each chapter those its ASSIGNMENT CONFIG names. In nbgrader's source, a chapter
that reads the committed results (``eelib.find_results``) gets them beside it, so its release and
its autograding have them. The notebooks are not changed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # nbgrader and otter live beside this Python


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


def run(*command: str | Path, cwd: Path = ROOT) -> None:
    """Run a grader's command; a failure stops the build with the command's own output."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}  # nbgrader calls alembic from PATH
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")


def build_nbgrader(out: Path, notebooks: list[Path]) -> None:
    course = out / "nbgrader"
    shutil.rmtree(course / "source", ignore_errors=True)
    for nb in notebooks:
        (course / "source" / nb.stem).mkdir(parents=True)
        shutil.copy(nb, course / "source" / nb.stem)
        if "find_results(" in nb.read_text():
            copy_results(course / "source" / nb.stem / "results")
        run(
            BIN / "nbgrader",
            "generate_assignment",
            nb.stem,
            "--force",
            f"--CourseDirectory.root={course}",
        )
    student = out / "student"
    shutil.rmtree(student, ignore_errors=True)
    student.mkdir()
    for nb in notebooks:
        shutil.copy(course / "release" / nb.stem / nb.name, student)


def build_otter(out: Path, notebooks: list[Path]) -> None:
    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "grading", stage / "grading")
    shutil.copytree(
        ROOT / "eelib",
        stage / "notebooks" / "eelib",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    copy_results(stage / "notebooks" / "results")
    for nb in notebooks:
        shutil.copy(nb, stage / "notebooks")
        target = out / "otter" / nb.stem
        shutil.rmtree(target, ignore_errors=True)
        run(BIN / "otter", "assign", stage / "notebooks" / nb.name, target)


def main(out: str = "_build/grading") -> int:
    notebooks = chapters()
    if not notebooks:
        print(
            "error: no notebook in notebooks/ has an otter ASSIGNMENT CONFIG cell", file=sys.stderr
        )
        return 2
    out_dir = (ROOT / out).resolve()
    build_nbgrader(out_dir, notebooks)
    build_otter(out_dir, notebooks)
    print(f"wrote {len(notebooks)} assignments to {out}/: nbgrader/release, otter/*/, student/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

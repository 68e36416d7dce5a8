"""The teacher's pack works as written: every ```bash block of book/teaching.md, in order, run
from a fresh clone of the repository (issue: classroom-safe grading).

The clone borrows the course's ``.venv`` (a symlink, its stamp kept fresh), so the page's
``make setup`` finds it built instead of installing everything again; every other command runs as
the page gives it: ``make grading``, the class list, nbgrader's autograde, feedback and export of
a submission, ``scripts/grade_otter.py`` on one and ``make clean``; the clone's build draws a
hidden seed of its own.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
from conftest import OUT

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "teaching.md"
CHAPTER = "01_data_and_flops"


def commands() -> list[str]:
    """The page's ```bash blocks, in order."""
    return re.findall(r"^```bash\n(.*?)^```", PAGE.read_text(), re.S | re.M)


def quoted_log() -> list[str]:
    """The lines of autograde's output the page quotes (its ```text block after "prints")."""
    block = re.search(r"it prints these.*?^```text\n(.*?)^```", PAGE.read_text(), re.S | re.M)
    assert block, "the page quotes what autograde prints"
    return block.group(1).splitlines()


def bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_private_copy_steps_run_as_written(tmp_path):
    """The page's private copy (its ```text block: mirror clone, push --mirror, clone), with a
    local bare repository standing in for the course's address and the teacher's host."""
    block = re.search(r"keep a private copy.*?^```text\n(.*?)^```", PAGE.read_text(), re.S | re.M)
    assert block, "the page gives the private copy's commands"
    private = tmp_path / "private-course.git"
    subprocess.run(["git", "init", "-q", "--bare", str(private)], check=True)
    script = re.sub(r"https://github\.com/\S+\.git", str(ROOT), block.group(1))
    script = script.replace("git@github.com:YOU/private-course.git", str(private))
    bash(script, tmp_path, dict(os.environ))
    clone = tmp_path / "private-course"
    assert (clone / "book" / "teaching.md").is_file(), "the private clone has the course"
    head = subprocess.run(
        ["git", "-C", str(clone), "log", "-1", "--format=%H"], capture_output=True, text=True
    )
    assert head.stdout.strip(), "its history came along"


def test_the_page_gives_the_whole_loop_as_commands():
    script = "\n".join(commands())
    for step in ("make grading", "nbgrader autograde", "grade_otter.py", "make clean"):
        assert step in script, step


def test_every_command_on_the_teaching_page_runs_from_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    (ROOT / ".venv" / ".installed").touch()  # newer than the clone's requirements: no reinstall
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("EELIB_HIDDEN_SEED", None)
    *loop, clean = commands()
    done = bash("\n".join(loop), clone, env)
    printed = done.stdout + done.stderr
    missing = [line for line in quoted_log() if line not in printed]
    assert not missing, f"the page quotes lines autograde did not print: {missing}"
    built = clone / "_build" / "grading"
    assert (built / "nbgrader" / "exchange").is_dir(), "nbgrader's exchange, as the page says"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{built / 'nbgrader' / 'gradebook.db'}") as gb:
        ada = gb.find_student("ada")
        assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace"), "the class list is read"
    # the private setting: this build drew its own hidden seed (the grading check's own build,
    # another, gives every chapter's solutions full marks and blank notebooks 0 under its seed)
    seeds = [
        json.loads((b / "grader_reference.json").read_text())["hidden_seed"] for b in (built, OUT)
    ]
    assert seeds[0] != seeds[1], "each build draws its own hidden seed"
    bash(clean, clone, env)
    grades = pd.read_csv(clone / "grades.csv")  # a row per assignment and student
    assert set(grades["student_id"]) == {"ada"}, grades
    assert CHAPTER in set(grades["assignment"]), grades
    scores = pd.read_csv(clone / "scores.csv")
    assert list(scores["student"]) == ["ada"] and scores["status"].iloc[0] == "graded", scores
    nbgrader = clone / "_build" / "grading" / "nbgrader"
    assert (nbgrader / "submitted" / "ada").is_dir() and not (nbgrader / "release").exists()
    # feedback holds only what a student may see: the report, the released eelib, their answers
    feedback = nbgrader / "feedback" / "ada" / "01_data_and_flops"
    top = {p.name for p in feedback.iterdir()}
    assert top == {"01_data_and_flops.html", "eelib", ".eelib-exports"}, top
    report = (feedback / "01_data_and_flops.html").read_text()
    for secret in ("course_grader", "grader_reference", "BEGIN HIDDEN TESTS", "exports.save"):
        assert secret not in report, secret

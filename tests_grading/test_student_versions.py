"""Both graders accept the notebooks, and no solution, hidden test, rubric or grader material
reaches a student's copy: read from the build that ``make check-grading`` starts with
(``make grading`` writes ``_build/grading``), so the check costs no second build."""

import json

import pytest
from conftest import OUT, ROOT, chapters

CHAPTERS = chapters()


def cells(path, kind=None):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def text_of(path) -> str:
    return "\n".join("".join(c["source"]) for c in cells(path))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graders_build_the_student_versions_without_answers(chapter):
    assert (OUT / "nbgrader" / "release").is_dir(), "run `make grading` first"
    nbgrader = OUT / "student" / f"{chapter}.ipynb"
    otter = OUT / "otter" / chapter / "student" / f"{chapter}.ipynb"
    for student in (nbgrader, otter):
        text = text_of(student)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, student
        assert "**Rubric.**" not in text and not cells(student, "raw"), student
        assert "course_grader" not in text, student
    release = OUT / "nbgrader" / "release" / chapter
    assert not [p for p in release.rglob("*") if p.name.startswith(("course_grader", "grader_"))]
    instructor = ROOT / "notebooks" / f"{chapter}.ipynb"
    solutions = sum("# BEGIN SOLUTION" in "".join(c["source"]) for c in cells(instructor, "code"))
    assert text_of(nbgrader).count("# YOUR CODE HERE") == solutions, "one stub per solution cell"
    assert list((OUT / "otter" / chapter / "autograder").glob("*.zip"))

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
        assert "TEST CONFIG" not in text, f"{student}: otter's markup in a student's copy"
        assert "**Rubric.**" not in text and not cells(student, "raw"), student
        assert "course_grader" not in text, student
    release = OUT / "nbgrader" / "release" / chapter
    assert not [p for p in release.rglob("*") if p.name.startswith(("course_grader", "grader_"))]
    instructor = ROOT / "notebooks" / f"{chapter}.ipynb"
    solutions = sum("# BEGIN SOLUTION" in "".join(c["source"]) for c in cells(instructor, "code"))
    assert text_of(nbgrader).count("# YOUR CODE HERE") == solutions, "one stub per solution cell"
    assert list((OUT / "otter" / chapter / "autograder").glob("*.zip"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graded_versions_differ_from_the_notebook_only_in_their_graded_parameters(chapter):
    """Both graders' versions keep the book's parameters but those ``GRADED_PARAMETERS`` names
    (none at present)."""
    from make_grading import GRADED_PARAMETERS

    def parameters(path):
        tagged = [c for c in cells(path) if "parameters" in c["metadata"].get("tags", [])]
        return "".join("".join(c["source"]) for c in tagged).splitlines()

    book = parameters(ROOT / "notebooks" / f"{chapter}.ipynb")
    for graded in (
        OUT / "nbgrader" / "source" / chapter / f"{chapter}.ipynb",
        OUT / "stage" / "notebooks" / f"{chapter}.ipynb",
    ):
        lines = parameters(graded)
        assert len(lines) == len(book), graded
        changed = {b.partition(" = ")[0]: g for b, g in zip(book, lines) if b != g}
        assert set(changed) <= set(GRADED_PARAMETERS), (graded, changed)
        for name, line in changed.items():
            assert line.startswith(f"{name} = {GRADED_PARAMETERS[name]}"), line

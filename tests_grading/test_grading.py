"""Both graders, from the same notebooks: full marks for the solutions, zero for the blank
student version, and points lost for every planted wrong answer (issue: grading)."""

import json

import pytest
from conftest import OUT, chapters, solution_sources
from planted import PLANTED

GRADERS = ("nbgrader", "otter")


def exercise_of(test: str, chapter: str) -> str:
    """The exercise (solution grade_id = otter question) a test belongs to: its longest prefix."""
    names = [name for name in solution_sources(chapter) if test.startswith(name)]
    assert names, f"{chapter}: test {test!r} belongs to no exercise"
    return max(names, key=len)


def by_exercise(scores: dict, chapter: str, grader: str) -> dict:
    """{exercise: (score, max)} summed over the exercise's tests."""
    out: dict = {}
    for test, (score, top) in scores.items():
        name = test if grader == "otter" else exercise_of(test, chapter)
        got, most = out.get(name, (0.0, 0.0))
        out[name] = (got + score, most + top)
    return out


@pytest.mark.parametrize("grader", GRADERS)
def test_solutions_score_full_marks(graded, grader):
    for chapter, kinds in graded[grader].items():
        lost = {t: s for t, s in kinds["solutions"].items() if s[0] != s[1]}
        assert kinds["solutions"] and not lost, f"{grader}, {chapter}: {lost}"


@pytest.mark.parametrize("grader", GRADERS)
def test_the_blank_student_version_scores_zero(graded, grader):
    for chapter, kinds in graded[grader].items():
        earned = {t: s for t, s in kinds["blank"].items() if s[0] != 0}
        assert not earned, f"{grader}, {chapter}: {earned}"


def test_every_autograded_exercise_has_a_planted_wrong_answer(graded):
    for chapter in chapters():
        autograded = set(by_exercise(graded["otter"][chapter]["solutions"], chapter, "otter"))
        assert autograded == set(PLANTED.get(chapter, {})), chapter


@pytest.mark.parametrize("grader", GRADERS)
def test_each_planted_wrong_answer_loses_points(graded, grader):
    for chapter in chapters():
        exercises = by_exercise(graded[grader][chapter]["planted"], chapter, grader)
        kept = {e: s for e, s in exercises.items() if e in PLANTED[chapter] and s[0] >= s[1]}
        assert not kept, f"{grader}, {chapter}: planted wrong answers kept full points: {kept}"


@pytest.mark.parametrize("kind", ["solutions", "blank", "planted"])
def test_test_cells_write_nothing_to_stderr_and_only_they_fail(graded, kind):
    for chapter in chapters():
        path = OUT / "nbgrader" / "autograded" / kind / chapter / f"{chapter}.ipynb"
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            meta = cell["metadata"]
            is_test = meta.get("nbgrader", {}).get("grade", False)
            outputs = cell.get("outputs", [])
            if is_test:
                streams = [o for o in outputs if o.get("name") == "stderr"]
                assert not streams, f"{chapter} {meta['nbgrader']['grade_id']}: {streams}"
            else:
                errors = [o["ename"] for o in outputs if o["output_type"] == "error"]
                assert not errors, f"{kind}, {chapter}: {errors} in {''.join(cell['source'])[:80]}"


def test_the_timings_were_written(graded):
    assert (OUT / "timings.csv").stat().st_size > 0

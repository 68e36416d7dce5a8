"""Both graders, from the same notebooks: full marks for the solutions, zero for the blank
student version, points lost for every planted wrong answer, nothing for the answers that take
points without the work, and a grade for a submission whose kernel dies or loops forever
(issues: grading, classroom-safe grading). ``pytest tests_grading -k <chapter>`` checks one."""

import json
import subprocess

import pytest
from conftest import OUT, ROOT, SUBMISSIONS, chapters, grader_files, solution_sources
from planted import CASES, LINGERING, PLANTED

GRADERS = ("nbgrader", "otter")
CHAPTERS = chapters()
DISHONEST = [
    (c, k)
    for c, cases in CASES.items()
    for k, case in cases.items()
    if "zero" in case or "at_most" in case
]
FAULTS = [(c, k) for c, cases in CASES.items() for k, case in cases.items() if "fault" in case]
HONEST = [(c, k) for c, cases in CASES.items() for k, case in cases.items() if "full" in case]


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


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("grader", GRADERS)
def test_solutions_score_full_marks(graded, grader, chapter):
    scores = graded(chapter)[grader]["solutions"]
    lost = {t: s for t, s in scores.items() if s[0] != s[1]}
    assert scores and not lost, f"{grader}, {chapter}: {lost}"


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("grader", GRADERS)
def test_the_blank_student_version_scores_zero(graded, grader, chapter):
    earned = {t: s for t, s in graded(chapter)[grader]["blank"].items() if s[0] != 0}
    assert not earned, f"{grader}, {chapter}: {earned}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_autograded_exercise_has_a_planted_wrong_answer(graded, chapter):
    autograded = set(by_exercise(graded(chapter)["otter"]["solutions"], chapter, "otter"))
    autograded = {e for e in autograded if e in solution_sources(chapter)}
    assert autograded == set(PLANTED.get(chapter, {})), chapter


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("grader", GRADERS)
def test_each_planted_wrong_answer_loses_points(graded, grader, chapter):
    exercises = by_exercise(graded(chapter)[grader]["planted"], chapter, grader)
    kept = {e: s for e, s in exercises.items() if e in PLANTED[chapter] and s[0] >= s[1]}
    assert not kept, f"{grader}, {chapter}: planted wrong answers kept full points: {kept}"


@pytest.mark.parametrize("chapter,kind", DISHONEST, ids=[f"{c}-{k}" for c, k in DISHONEST])
@pytest.mark.parametrize("grader", GRADERS)
def test_answers_without_the_work_earn_nothing(graded, grader, chapter, kind):
    """Typed numbers, a library call for an implement exercise, moved bars, fake masks, a
    rebound check, a capstone tuned on the split it hands out: 0 on the exercises they target
    (or no more than ``at_most``: the capstone's "answered" point)."""
    exercises = by_exercise(graded(chapter)[grader][kind], chapter, grader)
    case = CASES[chapter][kind]
    allowed = {**{e: 0 for e in case.get("zero", [])}, **case.get("at_most", {})}
    assert set(allowed) <= set(exercises), f"{grader}, {chapter}, {kind}: not graded"
    earned = {e: s for e, s in exercises.items() if e in allowed and s[0] > allowed[e]}
    assert not earned, f"{grader}, {chapter}, {kind}: {earned}"


@pytest.mark.parametrize("chapter,kind", FAULTS, ids=[f"{c}-{k}" for c, k in FAULTS])
@pytest.mark.parametrize("grader", GRADERS)
def test_a_dead_kernel_or_an_endless_loop_still_gets_a_grade(graded, grader, chapter, kind):
    """The exercises whose hidden tests were written before keep their points, the rest 0; otter's
    CSV row (grade_otter.py) says why the run stopped."""
    case, result = CASES[chapter][kind], graded(chapter)[grader]
    if grader == "otter":
        status = result["status"][kind]
        assert status.startswith("graded") and case["reason"] in status, status
    exercises = by_exercise(result[kind], chapter, grader)
    assert exercises, f"{grader} recorded no grade for {chapter}, {kind}"
    kept = case["kept"][grader] if isinstance(case["kept"], dict) else case["kept"]
    for exercise, (score, top) in exercises.items():
        expected = top if exercise in kept else 0
        assert score == expected, f"{chapter}, {kind}: {exercise} scored {score} of {top}"


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("kind", SUBMISSIONS)
def test_test_cells_write_nothing_to_stderr_and_only_they_fail(graded, kind, chapter):
    graded(chapter)
    path = OUT / "nbgrader" / "autograded" / kind / chapter / f"{chapter}.ipynb"
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell["metadata"]
        is_test = "BEGIN TEST CONFIG" in "".join(cell["source"])
        outputs = cell.get("outputs", [])
        if is_test:
            streams = [o for o in outputs if o.get("name") == "stderr"]
            assert not streams, f"{chapter} {meta['nbgrader']['grade_id']}: {streams}"
        else:
            errors = [o["ename"] for o in outputs if o["output_type"] == "error"]
            assert not errors, f"{kind}, {chapter}: {errors} in {''.join(cell['source'])[:80]}"


@pytest.mark.parametrize("chapter,kind", HONEST, ids=[f"{c}-{k}" for c, k in HONEST])
@pytest.mark.parametrize("grader", GRADERS)
def test_honest_edits_keep_full_marks(graded, grader, chapter, kind):
    """A duplicated cell, a pasted cell and an os.chdir cost nothing."""
    scores = graded(chapter)[grader][kind]
    lost = {t: s for t, s in scores.items() if s[0] != s[1]}
    assert scores and not lost, f"{grader}, {chapter}, {kind}: {lost}"


@pytest.mark.parametrize("chapter", [c for c, cases in CASES.items() if "escape" in cases])
def test_a_submission_reaches_no_grader_file_and_leaves_no_process(graded, chapter):
    """The sandbox: nothing the submission planted exists outside it, no grader file changed,
    and the process it started ended with it (in both graders)."""
    graded(chapter)
    planted = [p for p in ROOT.rglob("planted-by-a-submission.py") if ".venv" not in p.parts]
    inside = [p for p in planted if "autograded" in p.parts or "otter-submissions" in p.parts]
    assert planted == inside, f"written outside the submission's folder: {planted}"
    running = subprocess.run(["pgrep", "-f", LINGERING], capture_output=True, text=True)
    assert not running.stdout.strip(), f"a submission's process outlived it: {running.stdout}"


def test_no_grading_step_writes_a_grader_file(graded):
    """Last: every grader file as it was when grading began."""
    assert grader_files() == graded.before

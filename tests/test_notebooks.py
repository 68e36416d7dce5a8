"""The conventions every course notebook keeps (``CONTRIBUTING.md``, "Before a commit"), checked
on the committed files.

nbval executes the notebooks (``make test``); these tests read them, and run nothing but the
statements that build each notebook's networks (under the ``full`` profile, to show that every
notebook builds the profile's network).
"""

import ast
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BIB_KEYS = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.M))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MEASURED = pd.read_csv(ROOT / "benchmarks" / "notebooks.csv", comment="#", index_col="notebook")
MAX_LINE = 88  # the book's code column; wider lines scroll sideways
# pages without exercises: the quick tour, and chapter 5's companion (the robustness cube)
UNGRADED = {"00_quick_tour", "05b_robustness"}


def cells(path, kind=None):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return {chapter["file"] for part in toc["parts"] for chapter in part["chapters"]}


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
class TestNotebook:
    def test_in_the_table_of_contents(self, path):
        assert f"notebooks/{path.stem}" in toc_files()

    def test_outputs_stripped(self, path):
        for cell in cells(path, "code"):
            assert not cell["outputs"] and cell["execution_count"] is None, source(cell)[:80]

    def test_first_code_cell_is_the_hidden_setup_cell(self, path):
        first = cells(path, "code")[0]
        assert {"setup", "hide-cell"} <= set(first["metadata"].get("tags", []))
        assert "eelib.plots.use_style()" in source(first), "one figure style for every notebook"

    def test_setup_cell_uses_the_configured_repository(self, path):
        url = CONFIG["repository"]["url"]
        assert f'REPOSITORY = "{url}"' in source(cells(path, "code")[0])

    def test_has_a_parameters_cell(self, path):
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells(path, "code"))

    def test_objectives_time_and_summary(self, path):
        text = "\n".join(source(c) for c in cells(path, "markdown"))
        assert "{admonition} Learning objectives" in text
        assert re.search(r"\*\*Time:\*\* about \d+ (seconds|minutes?)", text)
        assert "## Summary" in text

    def test_stated_time_is_the_measured_one(self, path):
        """The **Time:** line agrees with ``benchmarks/notebooks.csv`` (within 5 s or 20 %)."""
        text = "\n".join(source(c) for c in cells(path, "markdown"))
        number, unit = re.search(r"\*\*Time:\*\* about (\d+) (second|minute)", text).groups()
        stated = int(number) * (60 if unit == "minute" else 1)
        measured = MEASURED.loc[path.stem, "wall time (s)"]
        assert abs(stated - measured) <= max(5, 0.2 * measured), (
            f"{path.name} says about {stated} s; benchmarks/notebooks.csv measured {measured} s: "
            f"say about {5 * round(measured / 5)} seconds, or measure again"
        )

    def test_prints_its_own_run_time(self, path):
        assert "This notebook ran in" in source(cells(path, "code")[-1])

    def test_code_lines_fit_the_book_column(self, path):
        wide = [
            line
            for c in cells(path, "code")
            for line in source(c).splitlines()
            if len(line) > MAX_LINE
        ]
        assert not wide, f"{len(wide)} code lines over {MAX_LINE} characters: {wide[:3]}"

    def test_no_absolute_paths(self, path):
        code = "\n".join(source(c) for c in cells(path, "code"))
        assert not re.search(r"""["'](/(home|usr|tmp|root|work|mnt)/|[A-Za-z]:\\)""", code)

    def test_every_citation_is_in_the_bibliography(self, path):
        text = "\n".join(source(c) for c in cells(path, "markdown"))
        keys = {
            k.strip()
            for group in re.findall(r"\{cite[tp]?\}`([^`]+)`", text)
            for k in group.split(",")
        }
        assert keys <= BIB_KEYS, f"not in book/references.bib: {keys - BIB_KEYS}"

    def test_solutions_sit_in_nbgrader_solution_cells_folded_in_the_book(self, path):
        ids = []
        for cell in cells(path):
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] == "code":
                marked = "# BEGIN SOLUTION" in source(cell)
                assert marked == bool(meta.get("solution")), source(cell)[:80]
                assert "### BEGIN SOLUTION" not in source(cell), "otter reads single-# markers"
            if meta.get("solution") and cell["cell_type"] == "code":
                text = source(cell)
                assert text.count("# BEGIN SOLUTION") == text.count("# END SOLUTION") == 1
                assert "hide-input" in cell["metadata"].get("tags", []), (
                    "solutions are behind a toggle"
                )
            if meta:
                ids.append(meta["grade_id"])
        assert len(ids) == len(set(ids)), "grade_id must be unique within a notebook"


def test_the_benchmarks_table_of_notebook_times_is_the_measured_one():
    """``benchmarks/README.md``'s table of wall times and peaks is ``benchmarks/notebooks.csv``,
    row for row."""
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    rows = re.findall(r"^\| `(\d\d[a-z]?_\w+)` \| ([\d.]+) \| (\d+) \|$", readme, re.M)
    table = {name: (float(wall), int(peak)) for name, wall, peak in rows}
    measured = {
        name: (row["wall time (s)"], row["peak memory (MB)"]) for name, row in MEASURED.iterrows()
    }
    assert table == measured, "copy benchmarks/notebooks.csv into benchmarks/README.md's table"


def test_every_chapter_has_two_to_four_exercises_with_solutions():
    """Counted by exercise number: 3.1 and 3.1 (b), a prediction and its written comparison
    (``ex2_…`` and ``ex2_…_why_answer``) are parts of one exercise."""
    for path in NOTEBOOKS:
        if path.stem not in UNGRADED:
            ids = [
                c["metadata"]["nbgrader"]["grade_id"]
                for c in cells(path)
                if c["metadata"].get("nbgrader", {}).get("solution")
            ]
            exercises = {re.match(r"ex\d+|.*", grade_id)[0] for grade_id in ids}
            assert 2 <= len(exercises) <= 4, (path.name, sorted(exercises))


sys.path.insert(0, str(ROOT / "scripts"))
import make_grading  # noqa: E402 (the generator of both graders' markup)

GRADED = make_grading.chapters()
BOUNDARY = re.compile(r"# (BEGIN|END) (QUESTION|SOLUTION|TESTS)\b")


def graded_form(path):
    """The cells ``make grading`` writes for a chapter: both graders' markup in."""
    return make_grading.graded_form(path)["cells"]


registry = make_grading.registry  # the grader's TESTS


def test_every_hidden_test_of_the_registry_belongs_to_one_exercise():
    named = [
        grade_id
        for path in GRADED
        for cell in cells(path)
        for grade_id in cell["metadata"].get("grading", {}).get("hidden", {})
    ]
    assert sorted(named) == sorted(registry()), "grading.hidden and TESTS name the same tests"


def test_a_generated_hidden_test_only_writes_the_answers_out():
    """``make grading``'s hidden cells: otter's TEST CONFIG, nbgrader's metadata, one call of
    ``eelib.exports.save`` with the registry's expressions, no comparison, and a hand-over."""

    for path in GRADED:
        generated = [c for c in graded_form(path) if "# BEGIN HIDDEN TESTS" in source(c)]
        assert len(generated) == sum(
            len(c["metadata"].get("grading", {}).get("hidden", {})) for c in cells(path)
        )
        for cell in generated:
            text, meta = source(cell), cell["metadata"]["nbgrader"]
            body = ast.parse(text).body
            assert [type(n) for n in body] == [ast.Expr, ast.FunctionDef, ast.Expr]
            calls = [n for n in ast.walk(body[1]) if isinstance(n, ast.Call)]
            assert calls[0].func.attr == "save" and calls[0].args[0].value == meta["grade_id"]
            assert body[1].body[-1].value.func.attr == "hand_over"
            assert not any(isinstance(n, (ast.Compare, ast.Assert)) for n in ast.walk(body[1]))
            assert meta["grade"] and meta["locked"] and meta["points"] > 0
            assert f"points: {meta['points']:g}\nhidden: true" in text


def test_every_chapter_is_an_assignment():
    assert [p.stem for p in GRADED] == [p.stem for p in NOTEBOOKS if p.stem not in UNGRADED]


@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.stem)
class TestGradedCells:
    """The markup nbgrader and otter-grader both read, written by ``make grading`` from the course
    notebook (the teaching chapter explains it)."""

    def test_the_course_notebook_carries_no_grading_markup(self, path):
        """An exercise is authored once: its solution cell, its visible checks (plain code) and
        cell metadata; otter's cells, TEST CONFIG and the hidden tests are generated."""
        assert not cells(path, "raw"), "otter's boundary cells are written by make grading"
        for cell in cells(path):
            for mark in ("TEST CONFIG", "HIDDEN TESTS", "# BEGIN QUESTION", "# ASSIGNMENT"):
                assert mark not in source(cell), (cell["id"], mark)

    def test_otter_cells_are_raw_tagged_and_first_is_the_config(self, path):
        form = graded_form(path)
        raw = [c for c in form if c["cell_type"] == "raw"]
        assert source(form[0]).startswith("# ASSIGNMENT CONFIG\n")
        assert "config_file: ../grading/otter.yml" in source(form[0])
        for cell in raw:
            assert {"otter", "remove-cell"} <= set(cell["metadata"].get("tags", []))
        marks = [BOUNDARY.match(source(c)).groups() for c in raw[1:]]
        stack = []
        for edge, block in marks:
            if edge == "BEGIN":
                stack.append(block)
            else:
                assert stack and stack.pop() == block, f"{path.stem}: END {block} unmatched"
        assert not stack

    def test_test_cells_carry_points_in_both_graders(self, path):
        """Hidden tests hold every point; visible tests are feedback for the student (0 points:
        they run the student's own eelib.checks, which the student can rebind)."""
        for cell in [c for c in graded_form(path) if c["cell_type"] == "code"]:
            meta, text = cell["metadata"].get("nbgrader", {}), source(cell)
            if "BEGIN TEST CONFIG" not in text:
                assert not meta.get("grade") or meta.get("solution"), meta.get("grade_id")
                continue
            tags = set(cell["metadata"].get("tags", []))
            config = re.match(r'""" # BEGIN TEST CONFIG\n(.*?)"""  # END TEST CONFIG', text, re.S)
            assert config, f"{meta['grade_id']}: starts with otter's TEST CONFIG"
            settings = yaml.safe_load(config.group(1))
            hidden = settings.get("hidden", False)
            assert hidden == ("# BEGIN HIDDEN TESTS" in text) == ("# END HIDDEN TESTS" in text)
            assert meta["locked"] and not meta["solution"], meta["grade_id"]
            assert bool(meta.get("grade")) == hidden, f"{meta['grade_id']}: graded iff hidden"
            assert settings["points"] == meta.get("points", 0), meta["grade_id"]
            assert (settings["points"] > 0) == hidden, meta["grade_id"]
            assert "raises-exception" in tags, "Run all goes on past a failing test"
            assert ("remove-cell" if hidden else "hide-input") in tags, meta["grade_id"]
            body = ast.parse(text).body
            assert isinstance(body[0], ast.Expr) and isinstance(body[1], ast.FunctionDef)
            assert len(body) == 3 and body[2].value.func.id == body[1].name, (
                f"{meta['grade_id']}: one assert-function and one call"
            )
            assert body[1].name.startswith("test_")

    def test_the_course_notebook_holds_no_hidden_test(self, path):
        """Hidden tests are written into the graded versions only (``make grading``); each solution
        cell names its own in ``metadata.grading.hidden`` (grade_id → points > 0), and each of those
        is a test of the grader's registry (``TESTS`` in ``grading/course_grader.py``)."""
        tests = registry()
        for cell in cells(path):
            assert "HIDDEN TESTS" not in source(cell), cell["id"]
            hidden = cell["metadata"].get("grading", {}).get("hidden", {})
            if hidden:
                assert cell["metadata"]["nbgrader"].get("solution"), cell["id"]
            for grade_id, points in hidden.items():
                assert grade_id in tests and points > 0, (path.stem, grade_id)

    def test_each_autograded_exercise_has_visible_and_hidden_tests(self, path):
        """A prediction (``grading.prediction``) has a visible check of its units and no hidden
        test: the number earns nothing; its written comparison, the next graded Markdown cell,
        is graded by hand."""
        form = graded_form(path)
        visible = [source(c) for c in form if make_grading.is_check(c)]
        all_cells = cells(path)
        for index, cell in enumerate(all_cells):
            meta = cell["metadata"]
            if cell["cell_type"] != "code" or not meta.get("nbgrader", {}).get("solution"):
                continue
            answer = meta["nbgrader"]["grade_id"]
            assert any(f"def test_{answer}" in t for t in visible), f"{path.stem}: {answer}"
            if meta.get("grading", {}).get("prediction"):
                assert "hidden" not in meta["grading"], f"{path.stem}: {answer} earns by a guess"
                written = [
                    c["metadata"]["nbgrader"]["grade_id"]
                    for c in all_cells[index:]
                    if c["cell_type"] == "markdown"
                    and c["metadata"].get("nbgrader", {}).get("grade")
                ]
                assert written and written[0] == f"{answer}_why_answer", f"{path.stem}: {answer}"
            else:
                assert meta.get("grading", {}).get("hidden"), f"{path.stem}: {answer}"

    def test_otter_question_names_are_unique(self, path):
        """A written comparison (``…_why_answer``) is a question of its own, beside its guess."""
        raw = [source(c) for c in graded_form(path) if c["cell_type"] == "raw"]
        names = re.findall(r"^name: (\S+)$", "\n".join(raw[1:]), re.M)
        assert len(names) == len(set(names)), f"{path.stem}: {names}"

    def test_written_answers_are_graded_by_hand_with_a_rubric(self, path):
        for cell in cells(path, "markdown"):
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution"):
                assert meta["grade"] and meta["points"] > 0
                assert "{admonition} Model answer and rubric" in source(cell)
                assert "**Rubric.**" in source(cell) and ":class: dropdown" in source(cell)


def test_cell_ids_are_unique_across_the_course():
    """nbformat ids (1–64 letters, digits, '-' or '_'), none used twice in the whole course, so a
    cell can be named without its notebook (the chapter's number prefixes each)."""
    seen = {}
    for path in NOTEBOOKS:
        for cell in cells(path):
            cell_id = cell.get("id", "")
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell_id), (path.name, cell_id)
            assert cell_id not in seen, (
                f"cell id {cell_id!r} in {seen.get(cell_id)} and {path.name}"
            )
            seen[cell_id] = path.name


# --- Every network a notebook builds is the profile's (eelib.build_model) ---------------------

HAND_BUILT = re.compile(r"\bEarlyExit(CNN|ResNet)\(")


def is_build_call(node):
    """``eelib.build_model(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "build_model"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "eelib"
    )


def reads_the_profile(call):
    """The network comes from the reader's profile: ``profile`` or ``profile.replace(...)``.
    (Chapter 5 also builds the committed run's network from that run's saved settings.)"""
    first = call.args[0] if call.args else None
    return (isinstance(first, ast.Name) and first.id == "profile") or (
        isinstance(first, ast.Call)
        and isinstance(first.func, ast.Attribute)
        and first.func.attr == "replace"
        and isinstance(first.func.value, ast.Name)
        and first.func.value.id == "profile"
    )


def build_statements(path):
    """Every ``name = eelib.build_model(profile…)`` of a notebook's code, in order, at any depth."""
    return [
        node
        for cell in cells(path, "code")
        for node in ast.walk(ast.parse(source(cell)))
        if isinstance(node, ast.Assign)
        and is_build_call(node.value)
        and reads_the_profile(node.value)
    ]


BUILDERS = [path for path in NOTEBOOKS if build_statements(path)]


def test_no_notebook_builds_a_network_by_hand():
    """A network built by hand (``eelib.EarlyExitCNN(widths=...)``) drops the profile's other
    settings and breaks under the ``full`` profile; every notebook calls ``eelib.build_model``."""
    for path in NOTEBOOKS:
        code = "\n".join(source(c) for c in cells(path, "code"))
        assert not HAND_BUILT.search(code), f"{path.name}: build networks with eelib.build_model"
        calls = sum(
            is_build_call(node) and reads_the_profile(node) for node in ast.walk(ast.parse(code))
        )
        assert calls == len(build_statements(path)), (
            f"{path.name}: assign each eelib.build_model(profile…) to a name, one statement each"
        )
    assert len(BUILDERS) >= 5, [p.name for p in BUILDERS]


def run_statements(statements, namespace, filename):
    exec(compile(ast.Module(body=list(statements), type_ignores=[]), filename, "exec"), namespace)


@pytest.mark.parametrize("path", BUILDERS, ids=lambda p: p.stem)
def test_networks_are_the_profiles_under_the_full_profile(path, monkeypatch):
    """Under ``EELIB_PROFILE=full``: the setup cell, the parameters cell, the statement that sets
    ``profile`` and then each ``name = eelib.build_model(...)`` statement of the notebook, run in
    one namespace (training the networks would take minutes, so nothing else runs). Each network
    must be the full profile's kind of network with its number of exits, and run on a 28×28 image
    (a network built from the widths alone fails there: "Output size is too small").
    Every build statement must therefore need nothing but the parameters and ``profile``.
    """
    torch = pytest.importorskip("torch")
    matplotlib = pytest.importorskip("matplotlib")
    import eelib

    full = eelib.get_profile("full")
    monkeypatch.setenv("EELIB_PROFILE", full.name)
    monkeypatch.chdir(ROOT / "notebooks")
    code = cells(path, "code")
    parameters = next(c for c in code if "parameters" in c["metadata"].get("tags", []))
    sets_profile = next(
        node
        for cell in code
        for node in ast.parse(source(cell)).body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "profile" for t in node.targets)
    )
    namespace = {"__name__": "__main__"}
    with matplotlib.rc_context():  # the setup cell sets the course's figure style
        for cell in (code[0], parameters):
            run_statements(ast.parse(source(cell)).body, namespace, path.name)
        run_statements([sets_profile], namespace, path.name)
        assert namespace["profile"].name == full.name, "the parameters cell reads EELIB_PROFILE"
        for statement in build_statements(path):
            run_statements([statement], namespace, path.name)
            (target,) = statement.targets
            assert isinstance(target, ast.Name), ast.unparse(statement)
            model = namespace[target.id]
            where = f"{path.name}: {ast.unparse(statement)}"
            reference = eelib.build_model(full)
            assert type(model) is type(reference), where
            assert model.num_exits == reference.num_exits, where
            with torch.no_grad():
                logits = model.eval()(torch.zeros(2, 1, 28, 28))  # two Fashion-MNIST images
            assert [tuple(z.shape) for z in logits] == [(2, 10)] * model.num_exits, where


def test_the_quoted_definitions_and_paper_figures_match_eelib():
    """Chapter 3's collapse threshold and the paper's head sparsities in chapters 0 and 4 are
    typed in their Markdown: they must say what eelib.results and eelib.paper hold."""
    from eelib import paper
    from eelib.results import COLLAPSED

    def markdown(stem: str) -> str:
        cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        return " ".join(text.split())

    assert f"COLLAPSED` sparsity ({COLLAPSED:.0%})".replace("%", " %") in markdown(
        "03_magnitude_pruning"
    )
    low, high, _ = paper.PARTS["all-at-once"]
    for stem in ("00_quick_tour", "04_pruning_early_exit_networks"):
        assert f"{low}–{high} %" in markdown(stem), stem
    low, high, _ = paper.PARTS["ordered"]
    assert f"{low}–{high} %" in markdown("00_quick_tour")


def test_make_grading_refuses_a_chapter_seed_other_than_the_graders(tmp_path):
    """The chapters' SEED is public: a private copy that changes it gets one line, not 0/6."""
    other = tmp_path / "06_explorer.ipynb"
    other.write_text(
        (ROOT / "notebooks" / "06_explorer.ipynb").read_text().replace('"SEED = 0', '"SEED = 1')
    )
    make_grading.check_seeds(GRADED)  # the course as it is
    with pytest.raises(SystemExit, match="06_explorer.ipynb sets SEED = 1, the grader 0"):
        make_grading.check_seeds([other])


def test_each_build_draws_its_hidden_seed_unless_one_is_given(monkeypatch):
    monkeypatch.delenv("EELIB_HIDDEN_SEED", raising=False)
    assert len({make_grading.build_seed() for _ in range(5)}) > 1, "drawn afresh"
    monkeypatch.setenv("EELIB_HIDDEN_SEED", "42")
    assert make_grading.build_seed() == 42
    monkeypatch.setenv("EELIB_HIDDEN_SEED", "-3")
    with pytest.raises(SystemExit, match="HIDDEN_SEED must be a whole number"):
        make_grading.build_seed()


def test_hidden_runs_carry_the_builds_seed():
    """The generated hidden cell draws its random cases with the build's seed and writes it."""
    cells = make_grading.graded_form(GRADED[1], seed=4242)["cells"]
    hidden = [source(c) for c in cells if "ex1_exit_rule_any_network" in source(c)]
    assert hidden and "'seed': 4242" in hidden[-1] and "hidden_seed=4242" in hidden[-1]
    assert "HIDDEN_SEED" not in "".join(source(c) for c in cells)

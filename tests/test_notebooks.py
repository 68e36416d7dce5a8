"""The conventions every course notebook keeps (COURSE_DESIGN §6), checked on the committed files.

nbval executes the notebooks (``make test``); these tests read them without running anything.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BIB_KEYS = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.M))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MAX_LINE = 88  # the book's code column; wider lines scroll sideways


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

    def test_first_cell_is_the_hidden_setup_cell(self, path):
        first = cells(path)[0]
        assert first["cell_type"] == "code"
        assert {"setup", "hide-cell"} <= set(first["metadata"].get("tags", []))
        assert "eelib.plots.use_style()" in source(first), "one figure style for every notebook"

    def test_setup_cell_uses_the_configured_repository(self, path):
        url = CONFIG["repository"]["url"]
        assert f'REPOSITORY = "{url}"' in source(cells(path)[0])

    def test_has_a_parameters_cell(self, path):
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells(path, "code"))

    def test_objectives_time_and_summary(self, path):
        text = "\n".join(source(c) for c in cells(path, "markdown"))
        assert "{admonition} Learning objectives" in text
        assert re.search(r"\*\*Time:\*\* about \d+ (seconds|minutes?)", text)
        assert "## Summary" in text

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
            marked = "### BEGIN SOLUTION" in source(cell)
            meta = cell["metadata"].get("nbgrader", {})
            assert marked == bool(meta.get("solution")), source(cell)[:80]
            if marked:
                assert (
                    source(cell).count("### BEGIN SOLUTION")
                    == source(cell).count("### END SOLUTION")
                    == 1
                )
                assert "hide-input" in cell["metadata"].get("tags", []), (
                    "solutions are behind a toggle"
                )
                ids.append(meta["grade_id"])
        assert len(ids) == len(set(ids)), "grade_id must be unique within a notebook"


def test_every_chapter_has_two_to_four_exercises_with_solutions():
    for path in NOTEBOOKS:
        if path.stem[:2] != "00":  # the quick tour has none
            solutions = [
                c for c in cells(path) if c["metadata"].get("nbgrader", {}).get("solution")
            ]
            assert 2 <= len(solutions) <= 4, path.name


def test_student_version_has_stubs_and_no_solutions(tmp_path):
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_student.py"),
            str(ROOT / "notebooks"),
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    made = sorted(tmp_path.glob("*.ipynb"))
    assert [p.name for p in made] == [p.name for p in NOTEBOOKS]
    for student, original in zip(made, NOTEBOOKS):
        text = "\n".join(source(c) for c in cells(student))
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        stubs = sum("### BEGIN SOLUTION" in source(c) for c in cells(original))
        assert text.count("# YOUR CODE HERE") == stubs


def test_nbgrader_generate_assignment_accepts_the_notebooks(tmp_path):
    source_dir = tmp_path / "source" / "course"
    source_dir.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, source_dir)
    bin_dir = Path(sys.executable).parent  # nbgrader calls alembic from the same environment
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(
        [str(bin_dir / "nbgrader"), "generate_assignment", "course", "--force"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    released = sorted((tmp_path / "release" / "course").glob("*.ipynb"))
    assert [p.name for p in released] == [p.name for p in NOTEBOOKS]

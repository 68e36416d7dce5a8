"""Build both graders' versions of the course from the same notebooks (``make grading``).

Usage: ``python scripts/make_grading.py [OUT]`` (default ``_build/grading``). Writes

- ``OUT/nbgrader/``: an nbgrader course (``nbgrader_config.py`` at the repository root points here):
  ``source/<chapter>/`` and, from ``nbgrader generate_assignment``, ``release/<chapter>/``, the
  student version (solutions and hidden tests removed);
- ``OUT/otter/<chapter>/``: ``otter assign``'s ``student/`` notebook and ``autograder/`` folder
  with the Gradescope autograder zip;
- ``OUT/student/``: one folder of nbgrader's student notebooks, for a plain hand-out.

- ``OUT/grader_reference.json``: the build's hidden seed and the capstone's bars (computed here
  by training the capstone's given network), read by the grader only.

The hidden cases' random inputs come from a seed drawn afresh by each build (``HIDDEN_SEED=…``,
the environment variable ``EELIB_HIDDEN_SEED``, sets it instead: ``make grading HIDDEN_SEED=7``),
so a class's hidden cases are its own, not the public repository's. The chapters' own settings
(profile, ``SEED``, sparsities) are public: the grader's ``SEED`` must equal every graded
chapter's, which the build checks.

The course notebooks hold no hidden test: each solution cell names its hidden tests and their
points in its metadata (``grading.hidden``), and ``graded_copy`` writes them from the grader's
registry (``TESTS`` in ``grading/course_grader.py``). A hidden test only writes the answers out
as plain data (``eelib.exports``); the grader decides every point in its own process, so no
grader file goes into ``source/``, a release, a feedback folder or an autograder zip. The
sandboxed kernel that nbgrader runs submissions in (``grading/sandbox.py``) is installed here as
the ``eelib-sandbox`` kernelspec, in ``OUT/jupyter/``. otter's student notebook gets its "Initialize Otter" cell
after the course's setup cell, and that cell installs otter-grader where it is missing (Colab,
a fresh environment).

otter-grader runs on a staged copy, ``OUT/stage/notebooks/``, with ``eelib/`` and the committed
results (``results/*.csv``, ``*.json``) beside the notebooks: otter ships only files inside the
notebook's folder, each chapter those its ASSIGNMENT CONFIG names. In nbgrader's source, a
chapter that reads the committed results (``eelib.find_results``, ``eelib.results.locate``) gets
them beside it, so its release and its autograding have them. The graded copies differ from the
notebooks in the hidden tests and in the parameters in ``GRADED_PARAMETERS`` (none at present).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import os
import re
import runpy
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # nbgrader and otter live beside this Python
GRADER = ROOT / "grading" / "course_grader.py"
REFERENCE = "grader_reference.json"
OTTER = "otter-grader==7.0.0"  # what otter's student notebook installs where it is missing
# Parameters the graded versions set otherwise than the book (name → value as written): none at
# present (the live run that once made chapter 5 slow to grade is on the ungraded companion page,
# 05b_robustness).
GRADED_PARAMETERS: dict[str, str] = {}
# a chapter that reads the committed results (eelib.find_results or eelib.results.locate) gets
# them beside it
READS_RESULTS = re.compile(r"\b(find_results|results\.locate)\(")


def chapters() -> list[Path]:
    """The graded chapters: every course notebook with an exercise (an nbgrader solution cell)."""
    return sorted(
        p for p in (ROOT / "notebooks").glob("*.ipynb") if '"solution": true' in p.read_text()
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


def write_reference(out: Path, seed: int) -> Path:
    """The build's hidden ``seed`` and the capstone's bars for this environment's profile
    (``EELIB_PROFILE``, default fast)."""
    import torch

    import eelib

    torch.manual_seed(0)
    profile = eelib.get_profile(os.environ.get("EELIB_PROFILE", "fast"))
    path = out / REFERENCE
    path.parent.mkdir(parents=True, exist_ok=True)
    reference = {"hidden_seed": seed, **grader()["capstone_bars"](profile)}
    path.write_text(json.dumps(reference, indent=1) + "\n")
    return path


def build_seed() -> int:
    """The hidden cases' seed: ``EELIB_HIDDEN_SEED`` where set, else drawn afresh.

    Raises:
        SystemExit: ``EELIB_HIDDEN_SEED`` is not a whole number ≥ 0.
    """
    given = os.environ.get("EELIB_HIDDEN_SEED", "").strip()
    if not given:
        return secrets.randbelow(2**31)
    if not given.isdigit():
        sys.exit(f"error: HIDDEN_SEED must be a whole number ≥ 0, got {given!r}")
    return int(given)


def check_seeds(notebooks: list[Path]) -> None:
    """Every graded chapter's ``SEED`` parameter equals the grader's (``course_grader.SEED``).

    Raises:
        SystemExit: a chapter sets another seed (the grader would recompute from other data).
    """
    want = grader()["SEED"]
    for nb in notebooks:
        found = re.search(r'"SEED = (\d+)', nb.read_text())
        if found and int(found.group(1)) != want:
            sys.exit(
                f"error: {nb.name} sets SEED = {found.group(1)}, the grader {want} "
                "(grading/course_grader.py): the chapters' seed is public; set them equal (the "
                "hidden cases get a seed of their own: make grading HIDDEN_SEED=…)"
            )


def hidden_cell(chapter: str, grade_id: str, points: float, seed: int) -> dict:
    """The hidden test cell of ``grade_id``: it writes the answers (:data:`course_grader.TESTS`,
    the hidden runs drawn with the build's ``seed``) and the build's seed with
    ``eelib.exports.save``, compares nothing and hands over (``eelib.exports.hand_over`` raises,
    so a grader that takes the kernel's word scores it 0); nbgrader's and otter's markup around
    it."""
    test = registry()[grade_id]
    exported = {k: v.replace("'HIDDEN_SEED'", str(seed)) for k, v in test.exports.items()}
    imports = "from eelib import checks, exports\n"  # what the cell binds itself
    names = ", ".join(names_read(imports + "\n".join(exported.values())))
    written = "".join(f"        {k}={v},\n" for k, v in exported.items())
    written += f"        hidden_seed={seed},  # this build's (grader_reference.json)\n"
    source = (
        f'""" # BEGIN TEST CONFIG\npoints: {points:g}\nhidden: true\n"""  # END TEST CONFIG\n\n\n'
        f"# BEGIN HIDDEN TESTS\ndef test_{grade_id}({names}):\n"
        "    from eelib import checks, exports  # the grader decides, from what is written\n\n"
        f'    exports.save(\n        "{grade_id}",\n{written}    )\n'
        f'    exports.hand_over("{grade_id}")\n\n\n'
        f"test_{grade_id}({names})\n# END HIDDEN TESTS"
    )
    nbgrader = {"grade": True, "grade_id": grade_id, "locked": True, "points": points}
    nbgrader |= {"schema_version": 3, "solution": False, "task": False}
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{chapter[:2]}-{grade_id.replace('_', '-')}"[:64],
        "metadata": {"nbgrader": nbgrader, "tags": ["remove-cell", "raises-exception"]},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def is_check(cell: dict) -> bool:
    """A visible check: a locked code cell that nbgrader does not grade (0 points)."""
    meta = cell["metadata"].get("nbgrader", {})
    return cell["cell_type"] == "code" and meta.get("locked") and not meta.get("grade")


def names_read(code: str) -> list[str]:
    """The notebook names ``code`` reads without binding them (a test function's parameters)."""
    tree = ast.parse(code)
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            bound |= {a.arg for a in node.args.args}
            bound |= {node.name} if isinstance(node, ast.FunctionDef) else set()
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in bound and not hasattr(builtins, node.id) and node.id not in names:
                names.append(node.id)
    return names


def otter_test(grade_id: str, code: str, config: str) -> str:
    """``code`` as otter's test: its TEST CONFIG, one function of the names it reads, one call."""
    names = ", ".join(names_read(code))
    signature = f"def test_{grade_id}({names}):"
    call = f"test_{grade_id}({names})"
    if len(signature) > 88:
        signature, call = (
            f"def test_{grade_id}(\n    {names}\n):",
            f"test_{grade_id}(\n    {names}\n)",
        )
    body = "".join(f"    {line}" if line.strip() else line for line in code.splitlines(True))
    header = f'""" # BEGIN TEST CONFIG\n{config}"""  # END TEST CONFIG\n\n\n'
    return f"{header}{signature}\n{body.rstrip()}\n\n\n{call}"


def raw(chapter: str, text: str, index: int) -> dict:
    """One of otter's boundary cells (raw, tagged otter; nbgrader's config removes them)."""
    return {
        "cell_type": "raw",
        "id": f"c{chapter[:2]}-otter-{index}",
        "metadata": {"tags": ["otter", "remove-cell"]},
        "source": text.splitlines(keepends=True),
    }


def graded_cells(
    chapter: str, cells: list[dict], reads_results: bool = False, seed: int = 0
) -> list[dict]:
    """The course notebook's cells with both graders' markup written in (``make grading``).

    From the course notebook's own structure: an exercise is the Markdown cell before a solution
    cell (its prompt), the solution, and for code the visible checks that follow it. Each gets
    otter's question boundaries (raw cells), its visible checks otter's test form
    (:func:`otter_test`, 0 points), and its hidden tests (:func:`hidden_cell`, from the solution
    cell's ``grading.hidden``, drawn with the build's hidden ``seed``) after them; the first
    cell is otter's ASSIGNMENT CONFIG.
    """
    files = "# the committed results travel with the notebook (make grading stages them)\n"
    files += "files:\n  - eelib\n  - results\n"
    config = f"# ASSIGNMENT CONFIG\nname: {chapter}\nconfig_file: ../grading/otter.yml\n"
    out = [raw(chapter, config + (files if reads_results else ""), 0)]
    hidden: list = []
    in_tests = False

    def mark(text: str) -> None:
        out.append(raw(chapter, text, len(out)))

    def close_tests() -> None:
        nonlocal hidden, in_tests
        out.extend(hidden_cell(chapter, g, p, seed) for g, p in hidden)
        mark("# END TESTS")
        mark("# END QUESTION")
        hidden, in_tests = [], False

    for cell in cells:
        cell = copy.deepcopy(cell)
        meta = cell["metadata"].get("nbgrader", {})
        if in_tests and not is_check(cell):
            close_tests()
        if meta.get("solution"):
            prompt = out.pop()  # the exercise's Markdown cell, just before its solution
            grade_id = meta["grade_id"]
            if cell["cell_type"] == "markdown":
                name = grade_id.removesuffix("_answer")
                question = f"name: {name}\nmanual: true\npoints: {meta['points']:g}\n"
            else:
                question = f"name: {grade_id}\n"
            mark(f"# BEGIN QUESTION\n{question}")
            out.append(prompt)
            mark("# BEGIN SOLUTION")
            out.append(cell)
            mark("# END SOLUTION")
            if cell["cell_type"] == "markdown":
                mark("# END QUESTION")
            hidden = list(cell["metadata"].get("grading", {}).get("hidden", {}).items())
            continue
        if is_check(cell):
            if not in_tests:
                mark("# BEGIN TESTS")
                in_tests = True
            text = otter_test(meta["grade_id"], "".join(cell["source"]), "points: 0\n")
            cell["source"] = text.splitlines(keepends=True)
        out.append(cell)
    if in_tests:
        close_tests()
    return out


@functools.cache
def grader() -> dict:
    """grading/course_grader.py's names, loaded once (its registry, ``SEED``, the capstone's bars)."""
    return runpy.run_path(str(GRADER))


def registry() -> dict:
    """The grader's :data:`TESTS` (grading/course_grader.py)."""
    return grader()["TESTS"]


def graded_form(nb: Path, seed: int = 0) -> dict:
    """The course notebook ``nb`` with both graders' markup written in (:func:`graded_cells`),
    the hidden runs drawn with ``seed``."""
    text = nb.read_text()
    notebook = json.loads(text)
    reads = bool(READS_RESULTS.search(text))
    notebook["cells"] = graded_cells(nb.stem, notebook["cells"], reads, seed)
    return notebook


def graded_copy(nb: Path, folder: Path, seed: int) -> Path:
    """``nb`` copied into ``folder``: both graders' markup written in (the hidden runs drawn with
    ``seed``), ``GRADED_PARAMETERS`` set."""
    notebook = graded_form(nb, seed)
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


def run(*command: str | Path, cwd: Path = ROOT) -> None:
    """Run a grader's command; a failure stops the build with the command's own output."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}  # nbgrader calls alembic from PATH
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")


def build_nbgrader(out: Path, notebooks: list[Path], seed: int) -> None:
    course = out / "nbgrader"
    shutil.rmtree(course / "source", ignore_errors=True)
    (course / "exchange").mkdir(parents=True, exist_ok=True)  # nbgrader_config's Exchange.root
    for nb in notebooks:
        graded_copy(nb, course / "source" / nb.stem, seed)
        copy_eelib(course / "source" / nb.stem)  # the student's eelib: no check decides here
        if READS_RESULTS.search(nb.read_text()):
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


def build_otter(out: Path, notebooks: list[Path], seed: int) -> None:
    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "grading", stage / "grading", ignore=shutil.ignore_patterns("*.py"))
    copy_eelib(stage / "notebooks")
    copy_results(stage / "notebooks" / "results")
    for nb in notebooks:
        graded_copy(nb, stage / "notebooks", seed)
        target = out / "otter" / nb.stem
        shutil.rmtree(target, ignore_errors=True)
        run(BIN / "otter", "assign", stage / "notebooks" / nb.name, target)
        setup_first(target / "student" / nb.name)


def main(out: str = "_build/grading") -> int:
    notebooks = chapters()
    if not notebooks:
        print(
            "error: no notebook in notebooks/ has an exercise (an nbgrader solution cell)",
            file=sys.stderr,
        )
        return 2
    check_seeds(notebooks)
    seed = build_seed()
    out_dir = (ROOT / out).resolve()
    write_reference(out_dir, seed)
    sys.path.insert(0, str(GRADER.parent))
    import sandbox

    sandbox.install_kernelspec(out_dir / "jupyter")
    why = sandbox.why_not()
    if why:
        print(sandbox.UNSAFE.format(why=why), file=sys.stderr)
    build_nbgrader(out_dir, notebooks, seed)
    build_otter(out_dir, notebooks, seed)
    print(f"wrote {len(notebooks)} assignments to {out}/: nbgrader/release, otter/*/, student/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

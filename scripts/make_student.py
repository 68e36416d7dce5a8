"""Write the student version of every course notebook: solutions replaced by stubs, outputs cleared.

Usage: ``python scripts/make_student.py [NOTEBOOK_DIR] [OUT_DIR]`` (default ``notebooks`` →
``_build/student``); ``make student`` runs it.

It runs nbgrader's own preprocessors through nbconvert: ``ClearSolutions`` replaces each region
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` with a stub, and ``ClearOutput`` empties
the outputs. The stub is ``pass`` rather than nbgrader's default ``raise NotImplementedError()``,
so a student notebook still runs top to bottom: an unanswered exercise leaves its answer at
``None`` and its check says "not answered yet". A teacher using a full nbgrader course can keep
nbgrader's default stub; the ``eelib.checks`` functions treat ``NotImplementedError`` as
unanswered too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import ClearOutput, ClearSolutions
from traitlets.config import Config

STUB = "# YOUR CODE HERE\npass"


def student_version(path: Path) -> str:
    """The student version of the notebook at ``path``, as notebook JSON text."""
    config = Config()
    config.ClearSolutions.code_stub = {"python": STUB}
    exporter = NotebookExporter(config=config)
    exporter.register_preprocessor(ClearSolutions(config=config), enabled=True)
    exporter.register_preprocessor(ClearOutput(config=config), enabled=True)
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    return body


def main(source: str = "notebooks", out: str = "_build/student") -> int:
    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        print(f"error: no notebooks in {source}", file=sys.stderr)
        return 2
    Path(out).mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        (Path(out) / path.name).write_text(student_version(path))
    print(f"wrote {len(notebooks)} student notebooks to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

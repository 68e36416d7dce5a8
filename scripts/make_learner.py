"""Write the learner's notebooks (``make learner``): the exercises without answers or grading markup.

Usage: ``python scripts/make_learner.py [OUT]`` (default ``_build/learner``). Writes
``OUT/notebooks/<chapter>.ipynb`` for every notebook of the course, for a self-learner (the public
book's launch and download buttons give these) and for the student edition of the book:

- nbgrader's own preprocessors clear the solutions (``# YOUR CODE HERE``, as in its student
  version; a model answer becomes "YOUR ANSWER HERE") and remove the otter cells;
- the test cells go: the hidden ones entirely, the visible ones keep their check without otter's
  TEST CONFIG (the student's ``eelib.checks`` still says right or wrong);
- no cell keeps nbgrader's metadata.

The instructor notebooks are not changed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.preprocessors import ClearSolutions

ROOT = Path(__file__).resolve().parent.parent
CONFIG = re.compile(r'^""" # BEGIN TEST CONFIG\n.*?"""  # END TEST CONFIG\n+', re.S)


def learner(path: Path) -> nbformat.NotebookNode:
    """The learner's version of one course notebook."""
    nb = nbformat.read(path, as_version=4)
    resources = {"language": "python"}
    nb, _ = TagRemovePreprocessor(enabled=True, remove_cell_tags={"otter"}).preprocess(
        nb, resources
    )
    stub = {"python": "# YOUR CODE HERE\npass"}
    nb, _ = ClearSolutions(code_stub=stub, enforce_metadata=False).preprocess(nb, resources)
    cells = []
    for cell in nb.cells:
        if "# BEGIN HIDDEN TESTS" in cell.source:
            continue
        cell.source = CONFIG.sub("", cell.source)
        cell.metadata.pop("nbgrader", None)
        cells.append(cell)
    nb.cells = cells
    return nb


def main(out: str = "_build/learner") -> int:
    folder = ROOT / out / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        nbformat.write(learner(path), folder / path.name)
    print(f"wrote {len(paths)} learner's notebooks to {folder.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

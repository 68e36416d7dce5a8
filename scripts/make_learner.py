"""Write the learner's notebooks (``make learner``): the exercises without answers or grading markup.

Usage: ``python scripts/make_learner.py [OUT]`` (default ``_build/learner``). Writes
``OUT/notebooks/<chapter>.ipynb`` for every notebook of the course, for a self-learner (the public
book's launch and download buttons give these) and for the student edition of the book:

- nbgrader's own preprocessor clears the solutions (``# YOUR CODE HERE``, as in its student
  version; a model answer becomes "YOUR ANSWER HERE");
- the visible checks stay (the student's ``eelib.checks`` still says right or wrong); the course
  notebooks hold no hidden test and no otter markup (``make grading`` writes those);
- no cell keeps nbgrader's or the grader's metadata.

The instructor notebooks are not changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions

ROOT = Path(__file__).resolve().parent.parent


def learner(path: Path) -> nbformat.NotebookNode:
    """The learner's version of one course notebook."""
    nb = nbformat.read(path, as_version=4)
    resources = {"language": "python"}
    stub = {"python": "# YOUR CODE HERE\npass"}
    nb, _ = ClearSolutions(code_stub=stub, enforce_metadata=False).preprocess(nb, resources)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("grading", None)
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

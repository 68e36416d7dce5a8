"""The course's graded cells, read from the notebooks' nbgrader metadata (the teaching chapter).

Every graded cell carries nbgrader's cell metadata (``grade``, ``solution``, ``points``,
``grade_id``); a solution cell names its hidden tests and their points in ``grading.hidden``
(``make grading`` writes those cells, with otter's ``TEST CONFIG``, into the graded versions). The teaching
chapter's points table and the course's grading checks read them here, so no total is typed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = ["notebook", "grade_id", "kind", "points", "hidden"]


def graded_cells(notebook: str | Path) -> pd.DataFrame:
    """One row per graded cell of a notebook.

    Args:
        notebook: path to a ``.ipynb`` file.

    Returns:
        Columns ``notebook`` (file stem), ``grade_id``, ``kind`` ("autograded test" for a locked
        test cell, "manual answer" for a written answer graded by hand), ``points`` (float) and
        ``hidden`` (True for a hidden test: in the graded versions only). Empty for a notebook
        without graded cells.

    Raises:
        FileNotFoundError: ``notebook`` does not exist.
    """
    path = Path(notebook)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    rows = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        for grade_id, points in (
            cell.get("metadata", {}).get("grading", {}).get("hidden", {}).items()
        ):
            rows.append(
                {
                    "notebook": path.stem,
                    "grade_id": grade_id,
                    "kind": "autograded test",
                    "points": float(points),
                    "hidden": True,
                }
            )
        if not meta.get("grade"):
            continue
        source = "".join(cell["source"])
        rows.append(
            {
                "notebook": path.stem,
                "grade_id": meta["grade_id"],
                "kind": "manual answer" if meta.get("solution") else "autograded test",
                "points": float(meta.get("points", 0)),
                "hidden": "BEGIN HIDDEN TESTS" in source,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def points_table(folder: str | Path = "notebooks") -> pd.DataFrame:
    """Points per chapter: autograded (visible and hidden tests), graded by hand, and the total.

    Args:
        folder: the folder of course notebooks.

    Returns:
        One row per notebook with graded cells (index: file stem) and a last row ``total``;
        columns ``autograded``, ``of which hidden``, ``by hand``, ``total`` (points).
    """
    cells = pd.concat(
        [graded_cells(p) for p in sorted(Path(folder).glob("*.ipynb"))], ignore_index=True
    )
    auto = cells[cells["kind"] == "autograded test"]
    table = pd.DataFrame(
        {
            "autograded": auto.groupby("notebook")["points"].sum(),
            "of which hidden": auto[auto["hidden"]].groupby("notebook")["points"].sum(),
            "by hand": cells[cells["kind"] == "manual answer"].groupby("notebook")["points"].sum(),
        }
    ).fillna(0.0)
    table["total"] = table.sum(axis=1) - table["of which hidden"]
    table.loc["total"] = table.sum()
    return table

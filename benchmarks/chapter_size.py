"""Visible code lines and words of each course notebook, as a reader of the book sees them.

Usage: ``python benchmarks/chapter_size.py [NOTEBOOK ...]`` (default: every notebook). Visible code
is every code cell not tagged ``remove-cell``, ``remove-input``, ``hide-input`` or ``hide-cell``
(blank lines included); words are those of the Markdown cells (a model answer folded in a dropdown
counts: a reader can open it). Prints a table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HIDDEN = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
ROOT = Path(__file__).resolve().parents[1]


def size(path: Path) -> tuple[int, int]:
    """(visible code lines, Markdown words) of one notebook."""
    cells = json.loads(path.read_text())["cells"]
    lines = words = 0
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            words += len(text.split())
        elif cell["cell_type"] == "code" and not HIDDEN & set(cell["metadata"].get("tags", [])):
            lines += len(text.splitlines())
    return lines, words


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"{'notebook':36} {'visible code lines':>18} {'words':>6}")
    for path in paths:
        lines, words = size(path)
        print(f"{path.stem:36} {lines:>18} {words:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stage the student edition of the book (``make book-student``) for ``jupyter-book build``.

Usage: ``python scripts/make_student_book.py LEARNER SOURCE``: writes to ``SOURCE`` (default
``_build/student/source``) the book's configuration, pages and data, with

- the learner's notebooks from ``LEARNER/myst`` (``make learner``: their MyST kept) in place of the
  instructor notebooks: no solution, model answer, rubric or hidden test;
- no teaching page: it leaves the table of contents, and the sentences that point to it go,
  from every page and notebook;
- no run's finished pieces (``results/checkpoints``, ignored by git): a long run's pieces take
  hundreds of MB, and a run in progress writes them while the book is staged;
- its own execution cache, ``SOURCE/_build/.jupyter_cache``: Jupyter Book resolves the
  configured cache path from the working directory, so both editions would otherwise share one
  SQLite database, and ``make -j2 book book-student`` (CI) would race to create its tables.

``make book-student`` then builds ``SOURCE`` and moves its HTML to ``_build/student/html``.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEACHING = re.compile(r"[^.\n]*(?:\n[^.\n]*)*\{doc\}`(?:\.\./book/)?teaching`[^.]*\.")
COPIED = ["_config.yml", "book", "_static", "benchmarks", "results", "eelib"]
LEFT_OUT = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")


def without_teaching(text: str) -> str:
    """``text`` without the sentences that link to the teaching page."""
    return TEACHING.sub("", text)


def left_out(folder: str, names: list[str]) -> set[str]:
    """The names in ``folder`` that the staged copy leaves out (``shutil.copytree``'s ignore)."""
    pieces = {"checkpoints"} if Path(folder) == ROOT / "results" else set()
    return LEFT_OUT(folder, names) | (pieces & set(names))


def stage(learner: Path, source: Path) -> None:
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for name in COPIED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=left_out)
        else:
            shutil.copy(path, source / name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["cache"] = str((source / "_build" / ".jupyter_cache").resolve())
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    (source / "book" / "teaching.md").unlink()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if c["file"] != "book/teaching"]
    toc["parts"] = [p for p in toc["parts"] if p["chapters"]]
    (source / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))
    for page in sorted((source / "book").glob("*.md")):  # the landing page, setup, references
        page.write_text(without_teaching(page.read_text()))
    (source / "notebooks").mkdir()
    for path in sorted((learner / "myst").glob("*.ipynb")):
        (source / "notebooks" / path.name).write_text(without_teaching(path.read_text()))


def main(learner: str = "_build/learner", source: str = "_build/student/source") -> int:
    if not (ROOT / learner / "myst").is_dir():
        print(f"error: no learner's notebooks in {learner}/myst (run make learner)")
        return 2
    stage(ROOT / learner, ROOT / source)
    print(f"staged the student edition in {source}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

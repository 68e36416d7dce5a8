"""Write the learner's notebooks (``make learner``): the exercises without answers or grading markup.

Usage: ``python scripts/make_learner.py [OUT]`` (default ``_build/learner``). Writes
``OUT/notebooks/<chapter>.ipynb`` for every notebook of the course, for a self-learner (the public
book's launch and download buttons give these) and for the student edition of the book:

- nbgrader's own preprocessor clears the solutions (``# YOUR CODE HERE``, as in its student
  version; a model answer becomes "YOUR ANSWER HERE");
- the visible checks stay (the student's ``eelib.checks`` still says right or wrong); the course
  notebooks hold no hidden test and no otter markup (``make grading`` writes those);
- no cell keeps nbgrader's or the grader's metadata;
- their Markdown is plain Markdown, which JupyterLab and Colab render (:func:`plain_markdown`):
  MyST roles become code, links or citations, admonitions become block quotes.

``OUT/myst/`` holds the same notebooks with their MyST kept, which the student edition of the
book builds from (``make book-student``). The instructor notebooks are not changed.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions

ROOT = Path(__file__).resolve().parent.parent
BOOK = "https://eelib-course.github.io/pruning-early-exit-networks/"  # the published book
ROLE = re.compile(r"\{(py:[a-z]+|cite|doc)\}`([^`]*)`")
ADMONITION = re.compile(
    r"^```\{admonition\} ?([^\n]*)\n(?::class: [a-z]+\n)?(.*?)^```\n?", re.M | re.S
)


@functools.cache
def citations() -> dict[str, str]:
    """Citation key → "Author et al., year" for every entry of ``book/references.bib``."""
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    out = {}
    for key, entry in parse_file(ROOT / "book" / "references.bib").entries.items():
        people = entry.persons.get("author", [])
        names = [Text.from_latex(" ".join(p.last_names)).render_as("text") for p in people]
        if len(names) > 2:
            who = f"{names[0]} et al."
        else:
            who = " & ".join(names) or entry.fields.get("title", key)
        out[key] = f"{who}, {entry.fields.get('year', 'n.d.')}"
    return out


def _title_of(chapter: str) -> str:
    """A course notebook's title: its first Markdown heading."""
    cells = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())["cells"]
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("# "):
            return text.splitlines()[0][2:].strip()
    return chapter


def _role(match: re.Match) -> str:
    kind, body = match.groups()
    named = re.fullmatch(r"(.*?)\s*<([^<>]+)>", body, re.S)  # "title <target>"
    title, target = (" ".join(named[1].split()), named[2]) if named else (body, body)
    if kind.startswith("py:"):
        return f"`{title.lstrip('~')}`"
    if kind == "cite":
        return "(" + "; ".join(citations().get(k.strip(), k.strip()) for k in body.split(",")) + ")"
    if target.startswith("../"):  # a page of the book: its address in the published book
        page = f"{BOOK}{target[3:]}.html"
        return f"[{title if title != target else target.rsplit('/', 1)[-1]}]({page})"
    return f"[{title if title != target else _title_of(target)}]({target}.ipynb)"


def _quote(match: re.Match) -> str:
    title, body = match.groups()
    lines = [f"**{title.strip()}**", "", *body.rstrip("\n").splitlines()]
    return "\n".join(f"> {line}".rstrip() for line in lines) + "\n"


def plain_markdown(text: str) -> str:
    """MyST Markdown as plain Markdown: ``{py:func}`x``` → `` `x` ``, ``{cite}`key``` →
    "(Author et al., year)", ``{doc}`page``` → a link (a sibling notebook, or the page in the
    published book), an admonition → a block quote under its title in bold."""
    return ROLE.sub(_role, ADMONITION.sub(_quote, text))


def learner(path: Path) -> nbformat.NotebookNode:
    """The learner's version of one course notebook, its MyST kept (see :func:`plain`)."""
    nb = nbformat.read(path, as_version=4)
    resources = {"language": "python"}
    stub = {"python": "# YOUR CODE HERE\npass"}
    nb, _ = ClearSolutions(code_stub=stub, enforce_metadata=False).preprocess(nb, resources)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("grading", None)
    return nb


def plain(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a learner's notebook with its Markdown in plain Markdown (:func:`plain_markdown`)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source)
    return nb


def main(out: str = "_build/learner") -> int:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    folders = {name: ROOT / out / name for name in ("notebooks", "myst")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = learner(path)
        nbformat.write(nb, folders["myst"] / path.name)
        nbformat.write(plain(nb), folders["notebooks"] / path.name)
    print(f"wrote {len(paths)} learner's notebooks to {out}/notebooks/ (and, MyST kept, myst/)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

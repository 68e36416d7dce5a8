"""Sphinx extension: the tag ``main_edition`` for the public book, the one with the teaching page.

``make book-student`` builds the student edition from a copy without ``book/teaching.md``; pages
use ``{only} main_edition`` for what only the public book has (the link to the course's PDF, which
``make pdf`` builds from the instructor's notebooks).
"""

from __future__ import annotations

from pathlib import Path


def tag(app, config) -> None:
    if (Path(app.srcdir) / "book" / "teaching.md").is_file():
        app.tags.add("main_edition")


def setup(app):
    app.connect("config-inited", tag)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

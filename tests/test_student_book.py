"""``scripts/make_student_book.py`` stages the student edition apart from the book."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_student_book", ROOT / "scripts" / "make_student_book.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_student_edition_has_its_own_execution_cache(tmp_path):
    # Jupyter Book resolves a relative cache path from the working directory: with the book's
    # own setting both editions would share one SQLite file, and `make -j2 book book-student`
    # raced to create its tables ("table settings already exists", CI at stop 28).
    learner = tmp_path / "learner"
    (learner / "myst").mkdir(parents=True)
    (learner / "myst" / "00_x.ipynb").write_text('{"cells": []}')
    source = tmp_path / "source"
    load_script().stage(learner, source)
    book = yaml.safe_load((ROOT / "_config.yml").read_text())
    staged = yaml.safe_load((source / "_config.yml").read_text())
    cache = Path(staged["execute"]["cache"])
    assert cache.is_absolute() and cache.is_relative_to(source)
    assert cache != (ROOT / book["execute"]["cache"]).resolve()
    staged["execute"].pop("cache"), book["execute"].pop("cache")
    assert staged == book, "the staged configuration differs in more than its cache"
    assert not (source / "book" / "teaching.md").exists()


def test_the_student_edition_leaves_out_the_runs_pieces(tmp_path):
    # results/checkpoints holds a long run's finished pieces (ignored by git, hundreds of MB,
    # written while a run is in progress): the staged book has no use for them.
    script = load_script()
    results = ROOT / "results"
    assert script.left_out(str(results), ["checkpoints", "README.md"]) == {"checkpoints"}
    assert script.left_out(str(ROOT / "eelib"), ["checkpoints.py", "__pycache__"]) == {
        "__pycache__"
    }

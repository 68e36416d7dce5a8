"""The student edition of the book (``make book-student``) holds no answer: no solution line,
model answer, rubric, hidden test or teaching page, in its HTML files and in the pages as headless
Chromium renders them; its downloads are the learner's notebooks (issue: classroom-safe grading).
Also: the public book's download button gives the learner's notebook."""

import html
import json
import re
from pathlib import Path

import pytest
from test_book_html import HTML, _browser

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "_build" / "student" / "html"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARKUP = (
    "BEGIN SOLUTION",
    "HIDDEN TESTS",
    "TEST CONFIG",
    "Model answer",
    "Rubric",
    "course_grader",
)

pytestmark = pytest.mark.skipif(
    not (STUDENT / "index.html").is_file(), reason="build it first: make book-student"
)


def answers() -> dict[str, set[str]]:
    """{notebook stem: the lines (over 30 characters) only its solutions and model answers hold}."""
    found = {}
    for path in NOTEBOOKS:
        secret, shared = set(), set()
        for cell in json.loads(path.read_text())["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "code" and "# BEGIN SOLUTION" in text:
                before, rest = text.split("# BEGIN SOLUTION", 1)
                inside, after = rest.split("# END SOLUTION", 1)
                secret |= lines(inside)
                shared |= lines(before + after)
            elif cell["cell_type"] == "markdown" and "Model answer" in text:
                secret |= lines(text)
            else:
                shared |= lines(text)
        found[path.stem] = {line for line in secret - shared if len(line) > 30}
    return found


def lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def visible_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_no_teaching_page():
    assert not (STUDENT / "book" / "teaching.html").exists()
    assert "teaching" not in (STUDENT / "index.html").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_answer_in_the_html(path):
    page = (STUDENT / "notebooks" / f"{path.stem}.html").read_text()
    text = visible_text(page)
    assert not [m for m in MARKUP if m in page], path.stem
    leaked = answers()[path.stem] & lines(text)
    assert not leaked, f"{path.stem}: {sorted(leaked)[:3]}"


@pytest.mark.parametrize("book", [STUDENT, HTML], ids=["student edition", "public book"])
def test_downloads_are_the_learners_notebooks(book):
    if not (book / "index.html").is_file():
        pytest.skip("not built")
    for path in NOTEBOOKS:
        download = (book / "_sources" / "notebooks" / path.name).read_text()
        assert not [m for m in MARKUP if m in download], f"{book}: {path.name}"


def test_no_answer_in_the_rendered_pages():
    browser = _browser()
    try:
        for path in NOTEBOOKS:
            browser.get((STUDENT / "notebooks" / f"{path.stem}.html").as_uri())
            shown = browser.execute_script("return document.body.textContent")
            assert not [m for m in MARKUP if m in shown], path.stem
            leaked = answers()[path.stem] & lines(shown)
            assert not leaked, f"{path.stem}: {sorted(leaked)[:3]}"
    finally:
        browser.quit()

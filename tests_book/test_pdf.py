"""The PDF edition (``make pdf``): read back with poppler's ``pdftotext`` and ``pdfimages``.

Every chapter's and page's title is in it, every figure of the HTML book is embedded, code lines
of the course's full width (88 characters) stay on one line, no interactive output left its text
stand-in (an ipywidgets ``VBox(...)``), and the HTML book links the PDF. Prints pages, size and
figures. Takes a few seconds.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from test_book_html import HTML

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NAME = Path(CONFIG["latex"]["latex_documents"]["targetname"]).with_suffix(".pdf").name
PDF = ROOT / "_build" / "latex" / NAME
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())

# CI builds the PDF before check-book: there a missing PDF fails
pytestmark = pytest.mark.skipif(
    not PDF.is_file() and not os.environ.get("CI"), reason="build it first: make pdf"
)


def run(*command) -> str:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is missing: apt-get install poppler-utils")
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def files() -> list[str]:
    found = [TOC["root"]]
    for part in TOC["parts"]:
        for chapter in part["chapters"]:
            found.append(chapter["file"])
            found += [s["file"] for s in chapter.get("sections", [])]
    return found


def title(file: str) -> str:
    """A page's title: its first level-1 heading (a notebook's first markdown cell's)."""
    path = ROOT / f"{file}.md"
    if path.is_file():
        text = path.read_text()
    else:
        cells = json.loads((ROOT / f"{file}.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    heading = re.search(r"^# (.+)$", text, re.M).group(1)
    return re.sub(r"[`*]", "", heading).strip()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def test_size_and_pages():
    info = run("pdfinfo", str(PDF))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    print(f"{NAME}: {pages} pages, {PDF.stat().st_size / 1e6:.1f} MB")
    assert pages > 50


def test_every_title_is_in_it():
    text = flat(run("pdftotext", str(PDF), "-"))
    missing = [title(f) for f in files() if flat(title(f)) not in text]
    assert not missing, missing


def test_every_figure_is_in_it():
    listed = run("pdfimages", "-list", str(PDF)).splitlines()[2:]
    embedded = [line for line in listed if line.split()[2] == "image"]
    figures = sum(
        len(BeautifulSoup(page.read_text(), "html.parser").select("article img"))
        for page in (HTML / "notebooks").glob("*.html")
    )
    print(f"figures: {figures} in the HTML chapters, {len(embedded)} images in the PDF")
    assert figures and len(embedded) >= figures


def test_full_width_code_lines_fit_the_page():
    # pdftotext keeps a line a line, not its runs of spaces
    lines = {flat(line) for line in run("pdftotext", "-layout", str(PDF), "-").splitlines()}
    wide = set()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            tags = cell["metadata"].get("tags", [])
            if cell["cell_type"] == "code" and not any(t.startswith("remove") for t in tags):
                wide |= {
                    flat(line)
                    for line in "".join(cell["source"]).splitlines()
                    if len(line) >= 86 and line.isascii()
                }
    assert wide, "the course has code lines of full width"
    broken = sorted(line for line in wide if line not in lines)
    assert not broken, f"{len(broken)} of {len(wide)} wrapped, e.g. {broken[:2]}"


def test_no_interactive_output_left_its_text_stand_in():
    text = run("pdftotext", str(PDF), "-")
    assert not re.search(r"\b[VH]Box\(children=", text)


def test_the_html_book_links_the_pdf():
    intro = BeautifulSoup((HTML / "book" / "intro.html").read_text(), "html.parser")
    links = [a["href"] for a in intro.find_all("a", href=True) if a["href"].endswith(".pdf")]
    assert links == [f"../{NAME}"], links
    assert (HTML / NAME).is_file(), "make pdf copies the PDF into the HTML book"

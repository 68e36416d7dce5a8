"""Accessibility of the built book: axe-core (node_modules/axe-core, ``npm ci``) in headless
Chromium over every page, and alt text on every figure.

Prints each page's violations counted by impact, and their sum. Fails on any critical or serious
violation the course's own content causes (a node inside the page's article: text, figures,
tables, outputs). The theme's own violations (header buttons, sidebars) are printed and allowed
up to THEME_ALLOWED, those no theme option or small override in _static/ removes; the reason for
each is given there. Takes about 2 s a page.
"""

import json
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from test_book_html import HTML, _browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
PAGES = sorted(
    p.relative_to(HTML).as_posix()
    for p in HTML.rglob("*.html")
    if not {"_static", "_sources", "_images"} & set(p.relative_to(HTML).parts)
)

# Serious or critical rules the theme (sphinx-book-theme / pydata-sphinx-theme) breaks outside the
# page's article that no theme option or small CSS/JS override fixes: {rule: why}. Empty now.
THEME_ALLOWED: dict[str, str] = {}

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(), reason="build the book first: make book"
)

# For each violation node: is it inside the page's article (the course's content)?
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(results => {
  done(results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
      const el = document.querySelector(n.target[0]);
      return {target: n.target.join(' '), content: !!(el && el.closest('article'))};
    }),
  })));
}).catch(e => done({error: String(e)}));
"""


def run_axe(html: Path, pages: list[str]) -> dict[str, list[dict]]:
    """{page: [violation, ...]}: axe-core's findings on each page of the book in ``html``."""
    if not AXE.is_file():
        pytest.fail("no axe-core: run npm ci (package.json lists it)")
    browser = _browser()
    browser.set_script_timeout(60)
    found = {}
    try:
        for page in pages:
            browser.get((html / page).as_uri())
            browser.execute_script(AXE.read_text())
            result = browser.execute_async_script(RUN_AXE)
            assert not isinstance(result, dict), f"{page}: axe failed: {result}"
            found[page] = result
    finally:
        browser.quit()
    return found


@pytest.fixture(scope="module")
def violations():
    return run_axe(HTML, PAGES)


def counts(items) -> Counter:
    return Counter({impact: 0 for impact in IMPACTS}) + Counter(
        v["impact"] for v in items for _ in v["nodes"]
    )


def test_axe_ran_on_every_page_and_counts_by_impact(violations):
    """Every built page was scanned and each finding has an impact axe defines; prints the
    counts and keeps them in ``_build/axe.json`` for a comparison between builds."""
    assert sorted(violations) == PAGES, "a page was not scanned"
    assert len(PAGES) > 10 and "index.html" in PAGES, f"the book looks unbuilt: {PAGES[:5]}"
    unknown = {v["impact"] for items in violations.values() for v in items} - set(IMPACTS)
    assert not unknown, f"impacts axe-core does not define: {unknown}"
    report(violations)
    (HTML.parent / "axe.json").write_text(json.dumps(violations, indent=1))


def report(violations) -> None:
    """Print each page's violations (nodes) by impact, the totals, and the rules."""
    total = Counter()
    print(f"\naxe-core over {len(violations)} pages (nodes per impact):")
    print(f"{'page':55s} " + " ".join(f"{i:>8s}" for i in IMPACTS))
    for page, items in violations.items():
        found = counts(items)
        total.update(found)
        print(f"{page:55s} " + " ".join(f"{found[i]:8d}" for i in IMPACTS))
    print(f"{'total':55s} " + " ".join(f"{total[i]:8d}" for i in IMPACTS))
    rules = Counter(f"{v['impact']:8s} {v['id']}" for items in violations.values() for v in items)
    for rule, pages in sorted(rules.items()):
        print(f"  {rule} on {pages} page(s)")


def test_no_serious_violation_in_the_course_content(violations):
    bad = [
        f"{page}: {v['id']} ({v['impact']}: {v['help']}) at {n['target']}"
        for page, items in violations.items()
        for v in items
        if v["impact"] in ("critical", "serious")
        for n in v["nodes"]
        if n["content"]
    ]
    assert not bad, "\n".join(bad[:20])


def test_no_serious_violation_from_the_theme_but_those_explained(violations):
    bad = sorted(
        {
            f"{v['id']} ({v['impact']}: {v['help']}), e.g. {page} at {n['target']}"
            for page, items in violations.items()
            for v in items
            if v["impact"] in ("critical", "serious") and v["id"] not in THEME_ALLOWED
            for n in v["nodes"]
            if not n["content"]
        }
    )
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith(("notebooks/", "book/"))])
def test_every_figure_says_what_it_shows(page):
    soup = BeautifulSoup((HTML / page).read_text(), "html.parser")
    figures = soup.select("article img")
    missing = [
        img.get("src")
        for img in figures
        if not img.get("alt") or Path(img["src"]).name in img["alt"] or len(img["alt"]) < 30
    ]
    assert not missing, f"{page}: figures without alt text saying what they show: {missing}"


def test_tables_have_no_empty_header_cell():
    empty = {}
    for page in PAGES:
        soup = BeautifulSoup((HTML / page).read_text(), "html.parser")
        cells = [th for th in soup.select("article th") if not th.get_text(strip=True)]
        if cells:
            empty[page] = len(cells)
    assert not empty, empty

"""Checks on the built book (run by `make check-book` after `make book`; CI runs both).

Reads the HTML as a reader's browser gets it: every notebook page has working launch links for
Binder and Colab with the configured repository, no code line is wider than the book's column,
and the explorer page's static Plotly figure loads and its τ slider moves the point in headless
Chromium.
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MAX_LINE = 88
NOTEBOOK_PAGES = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(), reason="build the book first: make book"
)


def page(stem):
    return BeautifulSoup((HTML / "notebooks" / f"{stem}.html").read_text(), "html.parser")


@pytest.mark.parametrize("stem", NOTEBOOK_PAGES)
def test_launch_links_use_the_configured_repository(stem):
    owner_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    links = [a["href"] for a in page(stem).find_all("a", href=True)]
    binder = [h for h in links if h.startswith(CONFIG["launch_buttons"]["binderhub_url"])]
    colab = [h for h in links if h.startswith(CONFIG["launch_buttons"]["colab_url"])]
    assert binder and all(
        f"/gh/{owner_repo}/" in h and f"notebooks/{stem}.ipynb" in h for h in binder
    ), binder
    assert colab and all(
        f"/github/{owner_repo}/" in h and f"notebooks/{stem}.ipynb" in h for h in colab
    ), colab


@pytest.mark.parametrize("stem", NOTEBOOK_PAGES)
def test_no_code_line_is_wider_than_the_column(stem):
    inputs = page(stem).select("div.cell_input pre")
    assert inputs, "the page shows its code"
    wide = [line for pre in inputs for line in pre.get_text().splitlines() if len(line) > MAX_LINE]
    assert not wide, wide[:3]


def test_explorer_page_is_light():
    size = (HTML / "notebooks" / "06_explorer.html").stat().st_size
    images = sum(p.stat().st_size for p in (HTML / "_images").glob("06_explorer*"))
    print(
        f"explorer page: {size / 1e6:.2f} MB of HTML, {images / 1e6:.2f} MB of images; "
        f"plotly.min.js {(HTML / '_static' / 'plotly.min.js').stat().st_size / 1e6:.1f} MB, loaded once"
    )
    assert size < 1.5e6


def _browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs chromium and chromedriver (apt-get install chromium chromium-driver)"
            )
        pytest.skip("no chromium/chromedriver here")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1200",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_static_explorer_slider_moves_the_point():
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser = _browser()
    try:
        browser.get((HTML / "notebooks" / "06_explorer.html").as_uri())
        point_x = (
            "const g = document.querySelector('.js-plotly-plot');"
            "const i = g.data.findIndex(t => t.name === 'τ' && t.visible !== false);"
            "return g.data[i].x[0];"
        )
        for _ in range(50):  # wait for plotly.js to draw
            if browser.execute_script(
                "return window.Plotly !== undefined && "
                "document.querySelector('.js-plotly-plot .slider-rail-rect') !== null"
            ):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the Plotly figure did not render: is _static/plotly.min.js there?")
        before = browser.execute_script(point_x)
        rail = browser.find_element(By.CSS_SELECTOR, ".js-plotly-plot .slider-rail-rect")
        width = rail.size["width"]
        ActionChains(browser).move_to_element_with_offset(
            rail, -width // 2 + 2, 0
        ).click().perform()
        time.sleep(0.5)
        after = browser.execute_script(point_x)
        assert after < before, "τ to 0: the point moves to fewer FLOPs"
        label = browser.execute_script(  # the first label is the current value, "τ = …"
            "return document.querySelector('.js-plotly-plot .slider-label').textContent"
        )
        assert re.search(r"τ = 0\.0", label), label
    finally:
        browser.quit()


def test_the_course_map_gives_each_chapter_its_measured_time():
    soup = BeautifulSoup((HTML / "book" / "intro.html").read_text(), "html.parser")
    tables = [t for t in soup.find_all("table") if t.find("th", string=re.compile("Time"))]
    assert len(tables) == 1, "one course map, with the times in it"
    rows = tables[0].find("tbody").find_all("tr")
    assert len(rows) == len(NOTEBOOK_PAGES)
    for row in rows:
        assert re.fullmatch(r"\d+ s", row.find_all("td")[-1].get_text(strip=True)), row
    assert "Status" not in soup.get_text(), "no second, technical table"


def test_math_renders_offline():
    """MathJax comes from the book's own _static folder (npm), never from a CDN."""
    page = (HTML / "notebooks" / "02_early_exits.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in page, "the local MathJax"
    assert "cdn.jsdelivr.net/npm/mathjax" not in page
    assert (HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()

"""The API reference (book/api/, Sphinx autodoc over eelib's docstrings) in the built book.

Every module of ``eelib`` is documented, every public name (each name in ``eelib.__all__``, and
every function, class and constant a module defines without a leading underscore) has an entry in
the book's ``objects.inv``, no cross-reference on any page is left without its link, each chapter
links every ``eelib`` function it calls to its entry, and the committed offline inventories are
the ones ``book/api/inventories/make_inventories.py`` writes.
"""

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx.util.inventory import InventoryFile
from test_book_html import HTML, NOTEBOOK_PAGES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "eelib"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
API_PAGES = sorted((ROOT / "book" / "api").glob("*.md"))

pytestmark = pytest.mark.skipif(
    not (HTML / "objects.inv").is_file(), reason="build the book first: make book"
)


def inventory() -> dict[str, dict[str, tuple]]:
    """{role: {name: (project, version, uri, display name)}} of the built book."""
    with open(HTML / "objects.inv", "rb") as file:
        return InventoryFile.load(file, "", lambda base, uri: uri)


def public_names(module: str) -> list[str]:
    """What ``eelib.<module>`` defines at its top level without a leading underscore."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def py_entries() -> set[str]:
    return {
        name for role, entries in inventory().items() if role.startswith("py:") for name in entries
    }


def where_defined() -> dict[str, str]:
    """{public name: the eelib module that defines it}."""
    return {name: module for module in MODULES for name in public_names(module)}


def test_every_module_has_a_page():
    modules = set(inventory().get("py:module", {}))
    missing = [m for m in MODULES if f"eelib.{m}" not in modules]
    assert not missing, f"modules without a reference entry (add them to book/api/*.md): {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_has_an_entry(module):
    entries = py_entries()
    missing = [n for n in public_names(module) if f"eelib.{module}.{n}" not in entries]
    assert not missing, (
        f"eelib.{module}: no entry for {missing} (a constant needs a docstring, or an "
        f"autodata line in its book/api page)"
    )


def test_every_name_of_the_package_root_has_an_entry():
    sys.path.insert(0, str(ROOT))
    import eelib

    entries, defined = py_entries(), where_defined()
    found = {}
    for name in eelib.__all__:
        if importlib.util.find_spec(f"eelib.{name}") is not None and name in MODULES:
            found[name] = f"eelib.{name}" in entries
        else:
            found[name] = f"eelib.{defined.get(name, '?')}.{name}" in entries
    missing = sorted(n for n, ok in found.items() if not ok)
    print(f"API reference: {len(py_entries())} entries; eelib.__all__: {len(found)} names")
    assert not missing, missing


def test_pages_and_entries_count():
    pages = [HTML / "book" / "api" / f"{p.stem}.html" for p in API_PAGES]
    assert all(p.is_file() for p in pages), [p.name for p in pages if not p.is_file()]
    counts = {
        p.stem: len(BeautifulSoup(p.read_text(), "html.parser").select("dl.py > dt[id]"))
        for p in pages
    }
    print("API reference entries per page:", counts, "total", sum(counts.values()))
    assert all(counts[p] > 0 for p in counts if p != "index")


def every_page():
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def test_no_cross_reference_without_its_link():
    """Sphinx leaves an unresolved role as code without a link (``-n`` warns, ``-W`` fails)."""
    broken = {}
    for path in every_page():
        soup = BeautifulSoup(path.read_text(), "html.parser")
        dead = [c.get_text() for c in soup.select("code.xref") if c.find_parent("a") is None]
        if dead:
            broken[str(path.relative_to(HTML))] = dead[:5]
    assert not broken, broken


def calls(stem: str) -> set[str]:
    """The eelib names a chapter's code calls or reads, as written: ``train``, ``plots.glue``."""
    import json

    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    found = set(re.findall(r"\beelib\.((?:[a-z_]+\.)?[A-Za-z_]+)", code))
    # modules a chapter imports by name (`from eelib import claims`): claims.verdicts(...)
    imported = r"\b(claims|frontiers|report|robustness|stats|paper)\.([a-z_]+)\("
    found |= {f"{module}.{n}" for module, n in re.findall(imported, code)}
    return found


def entry_of(name: str, defined: dict[str, str]) -> str | None:
    """``eelib.<module>.<name>`` for a name as the chapters write it, or None for a module."""
    if "." in name:
        module, short = name.split(".", 1)
        return f"eelib.{module}.{short}" if module in MODULES else None
    if name in MODULES:
        return None
    return f"eelib.{defined[name]}.{name}" if name in defined else None


@pytest.mark.parametrize("stem", NOTEBOOK_PAGES)
def test_each_chapter_links_the_functions_it_calls(stem):
    defined = where_defined()
    soup = BeautifulSoup((HTML / "notebooks" / f"{stem}.html").read_text(), "html.parser")
    linked = {a["href"].rsplit("#", 1)[-1] for a in soup.select("a[href*='api/']")}
    wanted = {entry_of(n, defined) for n in calls(stem)} - {None}
    missing = sorted(e for e in wanted if e not in linked and not e.split(".")[-1].isupper())
    assert not missing, f"{stem} calls these without a link to their entry: {missing}"


def test_committed_inventories_are_what_the_script_writes():
    script = ROOT / "book" / "api" / "inventories" / "make_inventories.py"
    spec = importlib.util.spec_from_file_location("make_inventories", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for key, (project, version, entries) in module.INVENTORIES.items():
        committed = (script.parent / f"{key}.inv").read_bytes()
        assert committed == module.inventory(project, version, entries), f"rerun {script.name}"

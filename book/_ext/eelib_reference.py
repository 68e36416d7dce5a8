"""Sphinx extension for the API reference (book/api/).

Names: ``eelib.NAME``, a name the package root re-exports (``eelib.__all__``), links
to its entry in the API reference, which lists it under the module that defines it
(``eelib.load_dataset`` → ``eelib.data.load_dataset``). So does a bare name in a docstring that
one module of ``eelib`` alone defines (``Profile`` in ``eelib.experiment``).

Constants: ``automodule`` with ``:undoc-members:`` lists a module's functions and classes, with
or without a docstring, but a constant only when it has one (a string after it, or a ``#:``
comment). Here a constant the module assigns itself (an upper-case name at its top level) is
listed either way, with its value; imported ones stay with the module that defines them.

The chapters and the docstrings call these names as a reader types them; the reference documents
each once, where its code is. A reference this cannot place stays unresolved, and the build
(``-n``: every cross-reference must resolve) fails on it.
"""

from __future__ import annotations

import ast
import inspect
from functools import cache
from pathlib import Path

from sphinx.ext.autodoc import DataDocumenter, ModuleDocumenter


def resolve(app, env, node, contnode):
    """The ``missing-reference`` handler: a link for ``eelib.NAME``, or None."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py":
        return None
    name = target.removeprefix("eelib.")  # or a bare name, in a docstring of another module
    if "." in name:
        return None
    domain = env.get_domain("py")
    found = [
        full
        for full in domain.objects
        if full.startswith("eelib.") and full.count(".") == 2 and full.endswith(f".{name}")
    ]
    if len(found) != 1:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], found[0], node, contnode
    )


CONSTANTS = ("data", "attribute")
_as_written: dict[str, list[str]] = {}


def no_type_docstring(app, what, name, obj, options, lines):
    """A constant without a docstring of its own shows its value, not the docstring of its type
    (``dict``'s, ``tuple``'s). Runs before napoleon."""
    own = inspect.getdoc(type(obj)) or ""
    if what in CONSTANTS and lines and "\n".join(lines).strip() == own.strip():
        lines.clear()
    if what in CONSTANTS:
        _as_written[name] = list(lines)


def constant_as_written(app, what, name, obj, options, lines):
    """A constant's docstring is prose: napoleon would read the words before a colon in its first
    line as a type ("The worker resource a GPU task asks for: ..."). Runs after napoleon and puts
    the docstring back as written."""
    if what in CONSTANTS and name in _as_written:
        lines[:] = _as_written.pop(name)


@cache
def assigned_constants(path: str) -> frozenset[str]:
    """The upper-case names a module's source assigns at its top level."""
    tree = ast.parse(Path(path).read_text())
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
    return frozenset(names)


class ConstantDocumenter(DataDocumenter):
    """autodoc's module-level data documenter, which also takes undocumented constants."""

    @classmethod
    def can_document_member(cls, member, membername, isattr, parent) -> bool:
        if not isinstance(parent, ModuleDocumenter):
            return False
        if isattr:
            return True
        path = getattr(parent.object, "__file__", None)
        return bool(path) and membername in assigned_constants(path)

    def check_module(self) -> bool:
        """A constant the module assigns is its own, whatever its value's class (a Path)."""
        path = getattr(self.module, "__file__", None)
        if path and self.objpath[-1] in assigned_constants(path):
            return True
        return super().check_module()


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.add_autodocumenter(ConstantDocumenter, override=True)
    app.connect("missing-reference", resolve)
    app.connect("autodoc-process-docstring", no_type_docstring, priority=100)  # before napoleon
    app.connect("autodoc-process-docstring", constant_as_written, priority=900)  # after it
    return {"parallel_read_safe": True, "parallel_write_safe": True}

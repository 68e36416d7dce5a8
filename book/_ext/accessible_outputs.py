"""Sphinx extension: notebook outputs a screen reader can read.

- A pandas table's top-left corner (and the blank cells of its index-names row) is an empty
  ``<th>``: a header cell that names nothing, which screen readers announce as an empty column
  header (axe-core's ``empty-table-header``). Here it becomes an ordinary empty cell (``<td>``):
  the table keeps its real headers, and no empty one.
- A figure pasted from another page (``{glue:any}`` with ``:doc:``, the landing page's) takes the
  alt text of the notebook cell that glued it; myst-nb's cross-page glue renders none.
- A figure without alt text of its own (the ``mystnb: image: alt:`` cell metadata) is reported:
  its ``alt`` would be the image's file name, which tells a screen reader nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from myst_nb.ext.glue.utils import PendingGlueReference
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)
EMPTY_HEADER = re.compile(r"<th(\s[^>]*)?>(\s|&nbsp;)*</th>")


def glued_alt(env, refdoc: str, key: str) -> str | None:
    """The alt text of the code cell of ``refdoc`` (a notebook) that glues ``key``."""
    path = env.doc2path(refdoc)
    if not str(path).endswith(".ipynb"):
        return None
    glues = re.compile(rf"glue\(\s*[\"']{re.escape(key)}[\"']")
    for cell in json.loads(open(path, encoding="utf-8").read())["cells"]:
        if cell["cell_type"] == "code" and glues.search("".join(cell["source"])):
            return cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
    return None


class GluedAltText(SphinxPostTransform):
    """Before myst-nb pastes a cross-page glue (priority 5): keep its source cell's alt text."""

    default_priority = 4

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(PendingGlueReference)):
            alt = glued_alt(self.env, node.refdoc, node.key) or ""
            node.replace_self(nodes.container("", node.deepcopy(), glued=True, glue_alt=alt))


class GluedImagesInLatex(SphinxPostTransform):
    """After myst-nb pastes a cross-page glue: its image's path is relative to the page's HTML
    folder (``../x.png``); LaTeX reads every image from its output folder, where the notebook's
    own copy of that image already is."""

    default_priority = 6
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for glued in self.document.findall(nodes.container):
            for image in glued.findall(nodes.image) if glued.get("glued") else ():
                image["uri"] = Path(image["uri"]).name
                image["candidates"] = {"*": image["uri"]}


class AccessibleOutputs(SphinxPostTransform):
    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs) -> None:
        for raw in self.document.findall(nodes.raw):
            if "html" in raw.get("format", "") and "<table" in raw.astext():
                text = EMPTY_HEADER.sub(lambda m: f"<td{m.group(1) or ''}></td>", raw.astext())
                raw.children = [nodes.Text(text)]
        for image in self.document.findall(nodes.image):
            glued = next((a["glue_alt"] for a in parents(image) if a.get("glue_alt")), None)
            if glued and not image.get("alt"):
                image["alt"] = glued
            if image.get("alt") or not self.env.docname.startswith(("notebooks/", "book/")):
                continue
            container = image.parent
            while container is not None and "cell" not in container.get("classes", []):
                container = container.parent
            cell = container.get("cell_index", "?") if container is not None else "?"
            logger.warning(
                f"a figure without alt text (cell {cell}): give its cell the metadata "
                "mystnb: {image: {alt: ...}} saying what it shows",
                location=image,
                type="course",
                subtype="alt_text",
            )


def parents(node):
    while node.parent is not None:
        node = node.parent
        yield node


def setup(app):
    app.add_post_transform(GluedAltText)
    app.add_post_transform(GluedImagesInLatex)
    app.add_post_transform(AccessibleOutputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

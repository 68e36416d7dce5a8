"""The learner's notebooks (``make learner``) read as plain Markdown in JupyterLab and Colab."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_learner  # noqa: E402

MYST = re.compile(r"\{[a-z:]+\}`|```\{|^:class:", re.M)


def test_roles_and_admonitions_become_plain_markdown():
    text = (
        'See {py:func}`eelib.train(..., scope="all") <eelib.train>` and {cite}`gormez2022pruning`'
        ",\nthe {doc}`API reference\n<../book/api/index>` and {doc}`03_magnitude_pruning`.\n\n"
        "```{admonition} Learning objectives\n:class: tip\nAfter this chapter you can\n- prune\n```\n"
    )
    plain = make_learner.plain_markdown(text)
    assert '`eelib.train(..., scope="all")`' in plain
    assert "(Görmez & Koyuncu, 2022)" in plain
    assert f"[API reference]({make_learner.BOOK}book/api/index.html)" in plain
    assert "[3. Magnitude pruning, from the ground up](03_magnitude_pruning.ipynb)" in plain
    assert "> **Learning objectives**\n>\n> After this chapter you can\n> - prune\n" in plain
    assert not MYST.search(plain)


def test_every_learner_notebook_is_plain_and_the_student_editions_keep_myst(tmp_path):
    make_learner.main(str(tmp_path))  # an absolute OUT: ROOT / OUT is OUT
    for path in sorted((tmp_path / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert not MYST.search(text), (path.name, MYST.search(text)[0])
        assert "# BEGIN SOLUTION" not in "".join("".join(c["source"]) for c in cells)
    kept = (tmp_path / "myst" / "02_early_exits.ipynb").read_text()
    assert "{cite}`" in kept, "the student edition builds from the MyST copies"

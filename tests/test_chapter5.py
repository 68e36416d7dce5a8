"""Chapter 5 is drawn from any results file: it runs top to bottom on a one-seed file and on a
small `fast` run, every finding computed from that file (papermill sets the parameters)."""

import json
from pathlib import Path

import papermill
import pytest

from eelib import load_results, metrics, run_experiment, save_results

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "05_reproducing_the_conclusions.ipynb"


def _run_chapter(results: Path, out: Path, protocols: dict | None = None) -> dict:
    """Execute chapter 5 on ``results`` (``protocols``: its protocol rows, none by default; no
    live run); the executed notebook.

    papermill writes the parameters; nbclient runs the cells, letting only cells tagged
    ``raises-exception`` raise (the hidden tests, which run in the graders' folders only).
    """
    import nbclient
    import nbformat

    parameters = {"RESULTS": str(results), "PROTOCOLS": protocols or {}, "LIVE": False}
    papermill.execute_notebook(str(CHAPTER), str(out), parameters, prepare_only=True)
    notebook = nbformat.read(out, as_version=4)
    nbclient.NotebookClient(
        notebook, resources={"metadata": {"path": str(CHAPTER.parent)}}
    ).execute()
    nbformat.write(notebook, out)
    return json.loads(out.read_text())


def _markdown(notebook: dict) -> str:
    """Every Markdown output the cells displayed (the generated sentences)."""
    return "\n".join(
        "".join(output["data"]["text/markdown"])
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    )


def _printed(notebook: dict) -> str:
    """Everything the cells printed."""
    return "\n".join(
        "".join(output["text"])
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


def test_one_seed_leaves_every_verdict_undecided_and_says_so(tmp_path):
    """Also: a protocol variant made over several invocations is a row of the robustness table,
    and its cost is given as its pieces' work with the last invocation's wall time; a variant
    not made yet, or made on another dataset, is named as left out."""
    committed = load_results(ROOT / "results" / "full-fashion-mnist.csv")
    one = committed[committed["seed"] == 0].reset_index(drop=True)
    one.attrs["metadata"] = {**committed.attrs["metadata"], "seeds": [0]}
    save_results(one, tmp_path / "one-seed.csv")
    one.attrs["metadata"] |= {"resumed_pieces": 7, "wall_time_s": 600.0}
    save_results(one, tmp_path / "variant.csv")
    config = one.attrs["metadata"]["config"]
    one.attrs["metadata"]["config"] = {**config, "dataset": "cifar10"}
    save_results(one, tmp_path / "elsewhere.csv")
    variant = {
        "a variant, resumed": str(tmp_path / "variant.csv"),
        "not made yet": str(tmp_path / "missing.csv"),
        "on another dataset": str(tmp_path / "elsewhere.csv"),
    }
    notebook = _run_chapter(tmp_path / "one-seed.csv", tmp_path / "out.ipynb", variant)
    text, printed = _markdown(notebook), _printed(notebook)
    # a variant that is missing, or made on another setting, is named and left out
    assert "Protocol variant *not made yet* left out: no results at" in text
    assert "*on another dataset* left out: made with another dataset than RESULTS" in text
    assert "*a variant, resumed* (at 50%, 75%, 90%, 95%, seeds 0): no verdict changes" in text
    assert "A +0.0 (one seed: no interval)" in text, "the variant is the run itself"
    assert "a variant, resumed:\n  seeds [0]" in printed
    assert "its pieces' times sum to 1.7 h" in printed  # the committed run's 6,297 s
    assert "resumed: 7 pieces from earlier invocations; the last took 10 min wall" in printed
    assert "No protocol variant was found" not in text
    assert "1 seed(s)" in text
    for claim in "ABC":
        assert f"**Claim {claim}** (" in text and "Here: **undecided**" in text
    assert "**holds**" not in text and "**does not hold**" not in text


@pytest.mark.parametrize("seeds", [[0, 1]])
def test_a_small_fast_run_renders_with_its_own_numbers(tmp_path, seeds):
    results = run_experiment(
        "fast",
        seeds=seeds,
        sparsities=[0.5, 0.9],
        train_epochs=1,
        head_epochs=2,
        widths=(8, 16, 32),
        thresholds=21,
        progress=False,
        out=tmp_path / "fast.csv",
    )
    text = _markdown(_run_chapter(tmp_path / "fast.csv", tmp_path / "out.ipynb"))
    assert f"{len(seeds)} seed(s), targets 50%, 90%" in text
    assert "final exit 3" in text, "a 3-exit network's own final exit"
    for row in metrics.verdicts(results).itertuples():  # each sentence says the table's verdict
        assert f"**Claim {row.claim}** ({row.statement}): **{row.verdict}**" in text

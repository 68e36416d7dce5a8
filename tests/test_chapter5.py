"""Chapter 5 and its companion page are drawn from any results file: they run top to bottom on a
one-seed file and on a small `fast` run, every finding computed from that file (papermill sets the
parameters), and chapter 5's sentences say what `python -m eelib report` says."""

import json
import subprocess
import sys
from pathlib import Path

import papermill
import pytest

from eelib import claims, load_results, run_experiment, save_results

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "05_reproducing_the_conclusions.ipynb"
COMPANION = ROOT / "notebooks" / "05b_robustness.ipynb"


def _run(notebook: Path, out: Path, **parameters) -> dict:
    """Execute ``notebook`` with ``parameters``; the executed notebook as JSON.

    papermill writes the parameters; nbclient runs the cells, letting only cells tagged
    ``raises-exception`` raise (the hidden tests, which run in the graders' folders only).
    """
    import nbclient
    import nbformat

    papermill.execute_notebook(str(notebook), str(out), parameters, prepare_only=True)
    executed = nbformat.read(out, as_version=4)
    nbclient.NotebookClient(
        executed, resources={"metadata": {"path": str(notebook.parent)}}
    ).execute()
    nbformat.write(executed, out)
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


def _one_seed_files(tmp_path: Path) -> dict:
    """A one-seed headline file and protocol variants beside it: the run itself (made over
    several invocations), one not made, one on another dataset."""
    committed = load_results(ROOT / "results" / "full-fashion-mnist.csv")
    one = committed[committed["seed"] == 0].reset_index(drop=True)
    one.attrs["metadata"] = {**committed.attrs["metadata"], "seeds": [0]}
    save_results(one, tmp_path / "one-seed.csv")
    one.attrs["metadata"] |= {"resumed_pieces": 7, "wall_time_s": 600.0}
    save_results(one, tmp_path / "variant.csv")
    config = one.attrs["metadata"]["config"]
    one.attrs["metadata"]["config"] = {**config, "dataset": "cifar10"}
    save_results(one, tmp_path / "elsewhere.csv")
    return {
        "a variant, resumed": str(tmp_path / "variant.csv"),
        "not made yet": str(tmp_path / "missing.csv"),
        "on another dataset": str(tmp_path / "elsewhere.csv"),
    }


def test_one_seed_leaves_every_verdict_undecided_and_says_so(tmp_path):
    """A variant that is missing or made on another dataset is named as left out; the one that
    can be read counts in the summary."""
    variants = _one_seed_files(tmp_path)
    notebook = _run(
        CHAPTER, tmp_path / "out.ipynb", RESULTS=str(tmp_path / "one-seed.csv"), PROTOCOLS=variants
    )
    text = _markdown(notebook)
    assert "Protocol variant *not made yet* left out: no results at" in text
    assert "*on another dataset* left out: made with another dataset than the headline run" in text
    assert "1 seed(s), targets 50%, 75%, 90%, 95%" in text
    for name in claims.NAMES:
        assert f"- **{name}** — the paper: " in text
    assert "(one seed: no interval)" in text
    assert "**holds**" not in text and "**does not hold**" not in text
    assert "**Where we agree.**\n- On none of the claims." in text


def test_the_companion_page_reads_the_variants_and_their_cost(tmp_path):
    variants = _one_seed_files(tmp_path)
    notebook = _run(
        COMPANION,
        tmp_path / "out.ipynb",
        RESULTS=str(tmp_path / "one-seed.csv"),
        PROTOCOLS=variants,
        LIVE=False,
    )
    printed, text = _printed(notebook), _markdown(notebook)
    assert "protocol variant left out, not made yet: no results at" in printed
    assert "a variant, resumed: seeds 0, trained in bfloat16" in printed
    assert "its pieces' times sum to 1.7 h" in printed  # the committed run's 6,297 s
    assert "resumed: 7 pieces from earlier invocations, the last took 10 min wall" in printed
    # the headline, the variant and the precision check is not made (both are bfloat16)
    assert "× 2 file(s):" in text
    assert "0 hold" in text and "0 do not hold" in text


@pytest.mark.parametrize("seeds", [[0, 1]])
def test_a_small_fast_run_renders_with_its_own_numbers_and_the_reports_verdicts(tmp_path, seeds):
    run_experiment(
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
    notebook = _run(
        CHAPTER, tmp_path / "out.ipynb", RESULTS=str(tmp_path / "fast.csv"), PROTOCOLS={}
    )
    text = _markdown(notebook)
    assert f"{len(seeds)} seed(s), targets 50%, 90%" in text
    assert "*The final exit* (exit 3)" in text, "a 3-exit network's own final exit"
    command = [sys.executable, "-m", "eelib", "report", str(tmp_path / "fast.csv")]
    subprocess.run([*command, "--json", str(tmp_path / "r.json")], check=True, capture_output=True)
    report = json.loads((tmp_path / "r.json").read_text())
    for row in report["verdicts"]:  # each sentence says the report's verdict
        assert f"**{row['claim']}** ({row['statement']}): **{row['verdict']}**" in text
        assert f"- **{row['claim']}** — the paper: " in text
    for row in report["summary"]:
        assert f"**{row['claim']}** — the paper: " in text
        line = next(line for line in text.splitlines() if f"**{row['claim']}** — the" in line)
        assert f"Here: **{row['headline']}**" in line

"""The claims as a referee tests them (eelib.claims, eelib.robustness, eelib.report): recomputed
with plain pandas and scipy, on a hand-made table whose answer is known and on the committed run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from eelib import claims, load_results, report, robustness, save_results, stats

ROOT = Path(__file__).resolve().parents[1]
FLOPS = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
ORDERED = np.array([0.50, 0.60, 0.70, 0.80, 0.86, 0.88])


def _table(lead_low=4.0, lead_high=0.5, exits=(3.0, -1.0), seeds=(0, 1, 2, 3, 4), noise=0.3):
    """Both strategies and a dense run at one target; all at once leads by ``lead_low`` points
    below 80 % accuracy and by ``lead_high`` above, exits 1 and 2 differ by ``exits`` points."""
    frames = []
    for seed in seeds:
        wobble = noise * (seed - 2) / 100
        lead = np.where(ORDERED < 0.8, lead_low, lead_high) / 100 + wobble
        rows = (
            ("dense", 0.0, ORDERED + 0.01, (0.70, 0.89)),
            ("ordered", 0.9, ORDERED, (0.60, 0.88)),
            (
                "all-at-once",
                0.9,
                ORDERED + lead,
                (0.60 + exits[0] / 100 + wobble, 0.88 + exits[1] / 100 + wobble),
            ),
        )
        for strategy, sparsity, accuracy, forced in rows:
            frame = pd.DataFrame(
                {
                    "threshold": np.linspace(0.9, 0.0, len(FLOPS)),
                    "accuracy": accuracy,
                    "flops": FLOPS,
                    "val_accuracy": accuracy,
                    "val_flops": FLOPS,
                }
            )
            frame["strategy"], frame["sparsity"], frame["seed"] = strategy, sparsity, seed
            frame["exit_1_accuracy"], frame["exit_2_accuracy"] = forced
            frame["sparsity_stage_1"], frame["sparsity_final"] = 0.5, 0.2
            frame["collapsed_layers"] = ""
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- a plain recomputation: pandas and scipy only, none of eelib's functions -----------------


def _best_within(curve, budgets):
    curve = curve.sort_values("flops")
    return np.array([curve.loc[curve["flops"] <= b, "accuracy"].max() for b in budgets])


def _plain(results, drop=1.0, points=50):
    """Per seed: A on the rising grid and B contrast, as the module's description defines them."""
    exit_columns = sorted(c for c in results if c.startswith("exit_") and c.endswith("_accuracy"))
    final = exit_columns[-1]
    dense = results[results["strategy"] == "dense"].groupby("seed")[final].first()
    pruned = results[(results["strategy"] != "dense") & (results["sparsity"] <= 0.95 + 1e-9)]
    a_rows, b_rows = [], []
    for target, at in pruned.groupby("sparsity"):
        curves = {key: c for key, c in at.groupby(["strategy", "seed"])}
        low = max(c["flops"].min() for c in curves.values())
        high = min(c["flops"].max() for c in curves.values())
        tops = [c.loc[c["accuracy"] == c["accuracy"].max(), "flops"].min() for c in curves.values()]
        for name, end in (("A", min(high, min(tops))), ("B", high)):
            budgets = np.linspace(low, max(low, end), points)
            for seed in sorted(at["seed"].unique()):
                one = _best_within(curves["all-at-once", seed], budgets)
                two = _best_within(curves["ordered", seed], budgets)
                gap = 100 * (one - two)
                if name == "A":
                    a_rows.append((seed, target, gap.mean()))
                    continue
                top = np.maximum(one, two) >= dense[seed] - drop / 100
                if top.any() and (~top).any():
                    b_rows.append((seed, target, gap[~top].mean() - gap[top].mean()))
    a = pd.DataFrame(a_rows, columns=["seed", "sparsity", "v"]).groupby("seed")["v"].mean()
    b = pd.DataFrame(b_rows, columns=["seed", "sparsity", "v"]).groupby("seed")["v"].mean()
    return a, b


def _t(values, confidence=0.95):
    values = np.asarray(values, dtype=float)
    sem = scipy_stats.sem(values)
    return values.mean(), *scipy_stats.t.interval(confidence, len(values) - 1, values.mean(), sem)


def test_the_claims_on_a_table_whose_answer_is_known():
    table = _table(noise=0.1)
    verdict = claims.verdicts(table).set_index("claim")
    a, b = _plain(table)
    assert verdict.loc["A", "mean"] == pytest.approx(a.mean(), abs=1e-9)
    assert verdict.loc["B contrast", "mean"] == pytest.approx(b.mean(), abs=1e-9)
    mean, low, high = _t(b)
    assert (verdict.loc["B contrast", "low"], verdict.loc["B contrast", "high"]) == pytest.approx(
        (low, high)
    )
    assert verdict.loc["A", "verdict"] == "holds"  # a 4-point lead where the frontiers rise
    assert verdict.loc["B contrast", "verdict"] == "holds"  # 4 points below, 0.5 above
    assert verdict.loc["B accuracy", "verdict"] == "holds"  # 0.5 [±0.2] inside ±1 point
    assert verdict.loc["B FLOPs", "mean"] == pytest.approx(0.0)  # both need the last point
    assert verdict.loc["C early", "mean"] == pytest.approx(3.0)
    assert verdict.loc["C early", "verdict"] == "holds"
    assert verdict.loc["C deep", "mean"] == pytest.approx(-1.0)
    assert verdict.loc["C deep", "verdict"] == "holds"  # ordered better at the final exit


def test_a_gap_that_does_not_shrink_is_no_contrast_and_a_reversed_one_does_not_hold():
    flat = claims.verdicts(_table(lead_low=2.0, lead_high=2.0)).set_index("claim")
    assert flat.loc["B contrast", "verdict"] == "undecided"
    assert flat.loc["B accuracy", "verdict"] == "does not hold"  # 2 points, outside ±1
    grows = claims.verdicts(_table(lead_low=0.5, lead_high=3.0, exits=(-3.0, 2.0)))
    grows = grows.set_index("claim")["verdict"]
    assert grows["B contrast"] == "does not hold"
    assert grows["C early"] == grows["C deep"] == "does not hold"


def test_one_seed_leaves_every_claim_undecided():
    verdict = claims.verdicts(_table(seeds=(0,)))
    assert set(verdict["verdict"]) == set(verdict["corrected"]) == {"undecided"}


def test_the_correction_widens_every_interval():
    verdict = claims.verdicts(_table(lead_low=1.2, noise=1.5))
    decided = verdict.dropna(subset=["low"])
    assert (decided["corrected low"] <= decided["low"] + 1e-12).all()
    assert (decided["corrected high"] >= decided["high"] - 1e-12).all()
    assert stats.corrected(0.95, 6) == pytest.approx(1 - 0.05 / 6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grid": "cubic"}, "unknown grid 'cubic'; choose one of linear, log"),
        ({"confidence": 95}, "confidence is a fraction in (0, 1)"),
        ({"margin": 0}, "margin (accuracy points) must be a number > 0"),
        ({"points": 1}, "points must be an integer ≥ 2"),
        ({"target_drop": 1.0}, "no analysis setting 'target_drop'"),
    ],
)
def test_a_bad_analysis_setting_is_one_line(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        claims.verdicts(_table(seeds=(0, 1)), **change)


def test_decide_has_three_outcomes_for_each_test():
    assert stats.decide(0.1, 0.5, "positive") == "holds"
    assert stats.decide(-0.5, -0.1, "positive") == "does not hold"
    assert stats.decide(-0.5, -0.1, "negative") == "holds"
    assert stats.decide(-0.2, 0.3, "equivalence", 1.0) == "holds"
    assert stats.decide(1.2, 3.0, "equivalence", 1.0) == "does not hold"
    assert stats.decide(0.5, 1.5, "equivalence", 1.0) == "undecided"
    assert stats.decide(np.nan, np.nan, "positive") == "undecided"
    with pytest.raises(ValueError, match="positive margin"):
        stats.decide(0.0, 1.0, "equivalence")


def test_the_committed_headline_agrees_with_a_plain_recomputation():
    results = load_results(ROOT / "results" / "full-fashion-mnist.csv")
    verdict = claims.verdicts(results).set_index("claim")
    a, b = _plain(results)
    for claim, values in (("A", a), ("B contrast", b)):
        mean, low, high = _t(values)
        got = verdict.loc[claim, ["mean", "low", "high"]].to_numpy(dtype=float)
        assert got == pytest.approx([mean, low, high], abs=0.1), claim


# --- the cube and the report ---------------------------------------------------------------


def _with_metadata(table, **config):
    table.attrs["metadata"] = {
        "config": {"dataset": "d", "architecture": "cnn", "widths": [4], **config},
        "budgets": {"dense reference fine-tuning epochs": 1},
    }
    return table


def test_a_protocol_file_equal_to_the_headline_changes_no_cell():
    headline = _with_metadata(_table(), precision="bfloat16")
    cube = robustness.cube(headline, {"same": headline.copy()})
    assert not cube.loc[cube["file"] == "same", "differs"].any()  # each as its reference
    assert set(cube["file"]) == {"headline", "same"}
    summary = robustness.cube_summary(cube).set_index("claim")
    assert summary.loc["A", "agreement"] and not summary.loc["A", "flipped by"]


def test_a_five_seed_protocol_that_flips_a_claim_keeps_it_out_of_agreement():
    headline = _with_metadata(_table(), precision="float32")
    flipped = _with_metadata(_table(lead_low=-4.0, lead_high=-0.5), precision="float32")
    cube = robustness.cube(headline, {"flipped": flipped}, only=["headline"])
    summary = robustness.cube_summary(cube).set_index("claim")
    assert summary.loc["A", "headline"] == "holds"
    assert summary.loc["A", "flipped by"] == ["flipped"]
    assert not summary.loc["A", "agreement"]


def test_a_three_seed_protocol_is_read_on_its_own_seeds_and_a_precision_check_is_a_file():
    headline = _with_metadata(_table(), precision="bfloat16")
    variant = _with_metadata(_table(seeds=(0, 1, 2)), precision="float32")
    cube = robustness.cube(headline, {"three": variant}, only=["headline"])
    three = cube[cube["file"] == "three"]
    assert set(three["seed list"]) == {"0, 1, 2"}
    assert three.set_index("claim").loc["A", "seeds"] == 3 and three["seeds"].max() == 3
    assert "precision: all at once in float32 (from three)" in set(cube["file"])
    other = _with_metadata(_table(), precision="float32", joint_epochs=9)
    with pytest.raises(ValueError, match="joint_epochs"):
        robustness.precision_variant(headline, other)


def test_the_report_command_prints_markdown_and_writes_json(tmp_path):
    headline = _with_metadata(_table(), precision="float32")
    save_results(headline, tmp_path / "run.csv")
    save_results(_with_metadata(_table(seeds=(0, 1, 2)), precision="float32"), tmp_path / "v.csv")
    out = tmp_path / "report.json"
    command = [sys.executable, "-m", "eelib", "report", str(tmp_path / "run.csv")]
    command += ["--protocol", f"variant={tmp_path / 'v.csv'}", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "**A** (all at once leads where the frontiers still rise): **holds**" in done.stdout
    written = json.loads(out.read_text())
    names = [c.name for c in claims.CLAIMS]
    for file in ("headline", "variant"):
        cells = [c for c in written["cube"] if c["file"] == file and c["reading"] == "headline"]
        assert [c["claim"] for c in cells] == names
        assert all({"mean", "low", "high", "verdict", "seeds"} <= set(c) for c in cells)
    bad = subprocess.run(
        [*command[:5], "--protocol", "no-equals-sign"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: --protocol takes LABEL=FILE")


def test_agreement_lines_name_what_keeps_a_claim_out():
    headline = _with_metadata(_table(), precision="float32")
    flipped = _with_metadata(_table(lead_low=-4.0, lead_high=-0.5), precision="float32")
    built = report.build(headline, {"flipped": flipped}, full=False)
    paper = {c.name: c.source for c in claims.CLAIMS}
    text = "\n".join(report.agreement_lines(built, paper))
    assert "**Where we do not, or cannot tell.**" in text
    assert "*holds* is not kept by flipped" in text


def test_claim_a_below_the_bar_shares_no_budget_with_b():
    table = _table(noise=0.0)
    share = claims.overlap(table)
    assert share.between(0, 1).all() and share.iloc[0] > 0  # the rising grid reaches the bar
    below = claims.verdicts(table, below_bar=True).set_index("claim")
    budgets = np.linspace(1.0, 6.0, 50)  # the rising grid: every frontier tops out at 6 FLOPs
    one = _best_within(table.query("strategy == 'all-at-once' and seed == 0"), budgets)
    two = _best_within(table.query("strategy == 'ordered' and seed == 0"), budgets)
    low = np.maximum(one, two) < 0.88  # the bar: the dense final exit (89 %) − 1 point
    assert below.loc["A", "mean"] == pytest.approx(100 * (one - two)[low].mean())
    assert below.loc["B accuracy", "mean"] == pytest.approx(0.5)

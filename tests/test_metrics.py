import numpy as np
import pandas as pd
import pytest

import eelib.results
from eelib import best_accuracy_within, compare_strategies, metrics
from eelib.results import RUN as RUN_KEYS


def test_best_accuracy_within_a_budget():
    curve = pd.DataFrame({"flops": [1.0, 2.0, 3.0, 4.0], "accuracy": [0.5, 0.7, 0.6, 0.9]})
    got = best_accuracy_within(curve, [0.5, 1.0, 2.5, 3.9, 10.0])
    assert np.isnan(got[0])
    assert got[1:].tolist() == [0.5, 0.7, 0.7, 0.9]


def _run(strategy, flops, accuracy, exit_acc):
    frame = pd.DataFrame({"flops": flops, "accuracy": accuracy})
    frame["strategy"], frame["sparsity"], frame["seed"] = strategy, 0.9, 0
    frame["exit_1_accuracy"], frame["exit_2_accuracy"] = exit_acc
    return frame


def test_compare_strategies_on_known_curves():
    # all at once is 10 points better everywhere on the shared range [1, 3]
    one = _run("all-at-once", [1.0, 2.0, 3.0], [0.6, 0.7, 0.8], (0.6, 0.8))
    two = _run("ordered", [1.0, 2.0, 3.0, 4.0], [0.5, 0.6, 0.7, 0.75], (0.5, 0.85))
    table = compare_strategies(pd.concat([one, two]), points=5)
    row = table.iloc[0]
    assert (row["budget_low"], row["budget_high"]) == (1.0, 3.0)
    assert row["mean_gap"] == pytest.approx(10) and row["min_gap"] == pytest.approx(10)
    assert row["exit_1_gap"] == pytest.approx(10) and row["exit_2_gap"] == pytest.approx(-5)


# --- intervals and verdicts on hand-made results where the answer is known -------------------


def _results(shift, exit_shift=(5.0, -3.0), seeds=(0, 1, 2), noise=0.5, flops_scale=1.0):
    """Curves of both strategies and a dense run; all at once is ``shift`` points better per budget.

    Exit k's forced accuracy differs by ``exit_shift[k-1]`` points; ``noise`` points vary by seed.
    """
    frames = []
    flops = np.array([1.0, 2.0, 3.0, 4.0])
    base = np.array([0.60, 0.70, 0.80, 0.85])
    for seed in seeds:
        wobble = noise * (seed - 1) / 100
        for strategy, accuracy, cost, exits in (
            ("dense", base + 0.02, flops, (0.70, 0.86)),
            ("ordered", base, flops, (0.60, 0.85)),
            (
                "all-at-once",
                base + shift / 100 + wobble,
                flops * flops_scale,
                (0.60 + exit_shift[0] / 100 + wobble, 0.85 + exit_shift[1] / 100 + wobble),
            ),
        ):
            frame = pd.DataFrame(
                {
                    "threshold": [0.9, 0.7, 0.5, 0.3],
                    "accuracy": accuracy,
                    "flops": cost,
                    "val_accuracy": accuracy,
                    "val_flops": cost,
                }
            )
            frame["strategy"], frame["seed"] = strategy, seed
            frame["sparsity"] = 0.0 if strategy == "dense" else 0.9
            frame["exit_1_accuracy"], frame["exit_2_accuracy"] = exits
            frame["sparsity_stage_1"], frame["sparsity_final"] = 0.5, 0.2
            frame["collapsed_layers"] = "exit 1" if strategy == "ordered" and seed == 0 else ""
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_interval_is_the_student_t_interval():
    mean, low, high = metrics.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and high - mean == pytest.approx(4.302653 * (1 / 3) ** 0.5, rel=1e-5)
    assert mean - low == pytest.approx(high - mean)
    assert metrics.interval([4.0, 4.0]) == (4.0, 4.0, 4.0)
    with pytest.raises(ValueError, match="fraction"):
        metrics.interval([1.0, 2.0], confidence=95)
    one = metrics.interval([2.0, np.nan])
    assert one[0] == 2.0 and np.isnan(one[1]) and np.isnan(one[2])


def test_verdicts_when_all_at_once_is_better_everywhere():
    table = metrics.verdicts(_results(shift=10.0), points=7).set_index("claim")
    assert table.loc["A", "verdict"] == "holds"
    assert table.loc["A", "mean"] == pytest.approx(10.0, abs=0.01)
    assert table.loc["A", "low"] > 0
    assert table.loc["B", "verdict"] == "does not hold", "10 points apart is not alike"
    assert table.loc["C", "verdict"] == "holds"
    assert table.loc["C", "mean"] == pytest.approx(5.0, abs=0.01)
    assert "final exit 2: -3.0" in table.loc["C", "detail"]


def test_verdicts_when_the_strategies_are_alike_or_reversed():
    alike = metrics.verdicts(_results(shift=0.0, exit_shift=(0.0, 0.0), noise=0.2)).set_index(
        "claim"
    )
    assert alike.loc["A", "verdict"] == "undecided", "the interval spans 0"
    assert alike.loc["B", "verdict"] == "holds", "inside ±1 point"
    worse = metrics.verdicts(_results(shift=-10.0, exit_shift=(-5.0, 3.0))).set_index("claim")
    assert worse.loc["A", "verdict"] == "does not hold"
    assert worse.loc["C", "verdict"] == "does not hold"


def test_one_seed_gives_no_interval_and_no_verdict():
    table = metrics.verdicts(_results(shift=10.0, seeds=(0,)))
    assert set(table["verdict"]) == {"undecided"}
    assert table["low"].isna().all()


def test_gap_bands_saving_exits_parts_and_collapse():
    results = _results(shift=10.0, noise=0.0)
    gap = metrics.gap_by_budget(results, points=4)
    assert gap["mean"].tolist() == pytest.approx([10.0] * 4)
    assert (gap["seeds"] == 3).all() and (gap["low"] == gap["high"]).all()
    bands = metrics.frontier_bands(results, points=4)
    assert set(bands["strategy"]) == {"all-at-once", "ordered"}
    # all at once reaches every accuracy with 80 % of the FLOPs: a 20 % saving
    cheaper = metrics.flops_saving(_results(0.0, flops_scale=0.8, noise=0.0), points=5)
    assert cheaper["mean"].tolist() == pytest.approx([0.2] * 5)
    exits = metrics.exit_accuracies(results).set_index(["strategy", "exit"])
    assert exits.loc[("all-at-once", 1), "mean"] == pytest.approx(0.65)
    parts = metrics.part_sparsities(results)
    assert list(parts.columns) == ["stage 1", "final"]
    collapsed = eelib.results.collapsed_layers(results)
    assert collapsed[["strategy", "seed", "layers"]].values.tolist() == [["ordered", 0, ["exit 1"]]]


def test_operating_points_are_chosen_on_validation():
    results = _results(shift=0.0, noise=0.0)
    results.loc[results["strategy"] == "ordered", "val_accuracy"] -= 0.1  # validation is harsher
    points = metrics.operating_points(results, 0.75).set_index(["strategy", "seed"])
    assert points.loc[("all-at-once", 0), "flops"] == 3.0
    assert points.loc[("ordered", 0), "flops"] == 4.0, "chosen on validation, not on test"
    assert points.loc[("ordered", 0), "accuracy"] == pytest.approx(0.85)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.operating_points(results, 75)


def _with_stress_target(shift_headline, shift_stress):
    """Hand-made results at 90 % plus a 98 % stress target where all at once differs by
    ``shift_stress`` points."""
    headline = _results(shift=shift_headline, noise=0.1)
    stress = _results(shift=shift_stress, noise=0.1)
    stress = stress[stress["strategy"] != "dense"].assign(sparsity=0.98)
    return pd.concat([headline, stress], ignore_index=True)


def test_the_stress_target_stays_out_of_the_headline_verdicts():
    results = _with_stress_target(2.0, -30.0)
    headline = metrics.verdicts(results).set_index("claim")
    assert headline.loc["A", "mean"] == pytest.approx(2.0, abs=0.01)
    assert headline.loc["A", "verdict"] == "holds"
    stressed = metrics.verdicts(results, stress=True).set_index("claim")
    assert stressed.loc["A", "mean"] == pytest.approx((2.0 - 30.0) / 2, abs=0.01)
    by_target = metrics.verdicts_by_target(results).set_index(["sparsity", "claim"])
    assert by_target.loc[(0.9, "A"), "verdict"] == "holds"
    assert by_target.loc[(0.98, "A"), "verdict"] == "does not hold"


def test_robustness_table_shows_which_verdicts_hang_on_a_choice():
    table = metrics.robustness(_with_stress_target(2.0, -30.0), points=7).set_index("choice")
    assert table["headline"].sum() == 1 and table["headline"].iloc[0]
    headline = table.iloc[0]
    assert headline["A"] == "holds" and headline["A numbers"].startswith("+2.0")
    assert headline["B"] == "does not hold", "2 points apart is not alike within ±1"
    stress = table.loc[[c for c in table.index if "stress" in c][0]]
    assert stress["A"] == "does not hold", "the stress target reverses A"
    wide = table.loc["B's margin 2 pt"]
    assert wide["B"] == "undecided", "a gap of 2 ± 0.1 straddles a margin of 2"
    assert set(table.loc[[c for c in table.index if "log" in c][0], ["A", "C"]]) == {"holds"}
    choices = table[table["kind"].isin(["headline", "one change", "two changes"])]
    assert len(choices) == len(metrics.ROBUSTNESS_CHOICES)
    targets = table[table["kind"] == "one target"]
    # one row per target, and a second where a network collapsed (ordered, seed 0, both)
    assert list(targets.index) == [
        "only the 90% target",
        "only the 90% target, collapsed excluded",
        "only the 98% target",
        "only the 98% target, collapsed excluded",
    ]
    assert table.loc["only the 98% target", "A"] == "does not hold"
    no_stress = metrics.robustness(_results(shift=2.0), points=7)
    no_stress = no_stress[no_stress["kind"] != "one target"]
    assert len(no_stress) == len(metrics.ROBUSTNESS_CHOICES) - 1, "no stress row without one"


def test_choosing_on_validation_reports_test_accuracy_of_the_chosen_threshold():
    curve = pd.DataFrame(
        {
            "flops": [1.0, 2.0, 3.0],
            "accuracy": [0.5, 0.9, 0.7],
            "val_flops": [1.0, 2.0, 3.0],
            "val_accuracy": [0.5, 0.6, 0.8],  # validation prefers the third point
        }
    )
    assert best_accuracy_within(curve, [3.0]).tolist() == [0.9]
    assert best_accuracy_within(curve, [3.0], choose="validation").tolist() == [0.7]
    with pytest.raises(ValueError, match="choose"):
        best_accuracy_within(curve, [3.0], choose="train")


def test_grids_and_collapsed_networks():
    results = _results(shift=10.0)
    linear = metrics.frontier_gaps(results, points=5)
    assert np.diff(linear["budget"].iloc[:5]).round(6).tolist() == [0.75] * 4
    log = metrics.frontier_gaps(results, points=5, grid="log")
    assert (
        np.diff(np.log(log["budget"].iloc[:5])).round(6).tolist() == [round(np.log(4) / 4, 6)] * 4
    )
    with pytest.raises(ValueError, match="grid"):
        metrics.frontier_gaps(results, grid="cubic")
    kept = metrics.select(results, exclude_collapsed=True)
    pairs = set(zip(kept["strategy"], kept["seed"]))
    assert ("ordered", 0) not in pairs and ("all-at-once", 0) not in pairs
    assert ("dense", 0) in pairs and ("ordered", 1) in pairs


def test_claim_b_as_flops_at_equal_accuracy():
    alike = _results(shift=0.0, exit_shift=(0.0, 0.0), noise=0.0)
    table = metrics.verdicts(alike, b_measure="flops").set_index("claim")
    assert table.loc["B", "mean"] == pytest.approx(0.0, abs=1e-9)
    assert "FLOPs saving" in table.loc["B", "detail"]
    cheaper = _results(0.0, exit_shift=(0.0, 0.0), flops_scale=0.5, noise=0.0)
    assert metrics.verdicts(cheaper, b_measure="flops").set_index("claim").loc["B", "mean"] == (
        pytest.approx(50.0)
    )


# --- the readings of issue-sized choices: where the grid ends, pairing, collapse, B as TOST ---


def _flat_early(seeds=(0, 1, 2)):
    """All at once reaches its top (0.90) at 2 FLOPs and stays flat; ordered rises to 0.90 at 8.

    Over the covered range [1, 8] the two are equal on the flat stretch beyond 8, so where the
    grid ends decides how large the average lead looks.
    """
    frames = []
    flops = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    curves = {
        "dense": [0.80, 0.91, 0.91, 0.91, 0.91],
        "all-at-once": [0.80, 0.90, 0.90, 0.90, 0.90],
        "ordered": [0.70, 0.75, 0.85, 0.90, 0.90],
    }
    for seed in seeds:
        for strategy, accuracy in curves.items():
            accuracy = np.array(accuracy) + 0.001 * seed
            frame = pd.DataFrame({"threshold": np.linspace(0.9, 0.1, 5), "accuracy": accuracy})
            frame["flops"] = frame["val_flops"] = flops
            frame["val_accuracy"] = accuracy
            frame["strategy"], frame["seed"] = strategy, seed
            frame["sparsity"] = 0.0 if strategy == "dense" else 0.9
            frame["exit_1_accuracy"], frame["exit_2_accuracy"] = 0.8, accuracy[-1]
            frame["collapsed_layers"] = ""
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_where_the_grid_ends():
    results = _flat_early()
    curves = [group for _, group in results[results["strategy"] != "dense"].groupby(RUN_KEYS)]
    assert metrics.budget_range(curves) == (1.0, 16.0)
    assert metrics.budget_range(curves, extent="first-top") == (1.0, 2.0)
    assert metrics.budget_range(curves, extent="last-top") == (1.0, 8.0)
    with pytest.raises(ValueError, match="extent"):
        metrics.budget_range(curves, extent="middle")
    covered = metrics.frontier_gaps(results, points=16)
    last = metrics.frontier_gaps(results, points=16, extent="last-top")
    assert covered["budget"].max() == 16.0 and last["budget"].max() == 8.0
    # the flat stretch past 8 FLOPs adds zeros to the covered grid's average
    assert last["gap"].mean() > covered["gap"].mean() > 0
    table = metrics.robustness(results, points=16).set_index("choice")
    assert table.loc[metrics.FIRST, "A numbers"] != table.iloc[0]["A numbers"]


def test_each_pair_on_its_own_range():
    results = _flat_early()
    late = results["seed"] == 2
    results.loc[late, ["flops", "val_flops"]] *= 2  # seed 2's curves cost twice as much
    shared = metrics.frontier_gaps(results, points=5)
    paired = metrics.frontier_gaps(results, points=5, pairing="pair")
    assert shared.groupby("seed")["budget"].max().tolist() == [16.0, 16.0, 16.0]
    assert paired.groupby("seed")["budget"].agg(["min", "max"]).values.tolist() == [
        [1.0, 16.0],
        [1.0, 16.0],
        [2.0, 32.0],
    ]
    with pytest.raises(ValueError, match="pairing"):
        metrics.frontier_gaps(results, pairing="each")


def test_equivalence_is_two_one_sided_tests():
    from scipy import stats

    values = [0.2, 0.5, 0.3, 0.4]
    p = metrics.equivalence(values, margin=1.0)
    lower = stats.ttest_1samp(values, -1.0, alternative="greater").pvalue
    upper = stats.ttest_1samp(values, 1.0, alternative="less").pvalue
    assert p == pytest.approx(max(lower, upper))
    # equivalence at (1 − 0.95) / 2 per test ⇔ the 95 % interval inside the margin
    for margin in (0.4, 0.6, 0.8, 1.0):
        _, low, high = metrics.interval(values)
        inside = -margin < low and high < margin
        assert (metrics.equivalence(values, margin) < 0.025) == inside, margin
    assert np.isnan(metrics.equivalence([0.1], 1.0))
    assert metrics.equivalence([0.5, 0.5], 1.0) == 0.0
    with pytest.raises(ValueError, match="margin"):
        metrics.equivalence(values, 0.0)


def test_claim_b_verdict_reports_the_test_and_the_sign():
    table = metrics.verdicts(_results(shift=0.3, exit_shift=(0.0, 0.0), noise=0.1))
    b = table.set_index("claim").loc["B"]
    assert b["verdict"] == "holds" and "two one-sided tests, p = 0.003" in b["detail"]
    assert "ahead on average: all at once" in b["detail"]
    behind = metrics.verdicts(_results(shift=-0.3, exit_shift=(0.0, 0.0), noise=0.1))
    assert "ahead on average: ordered" in behind.set_index("claim").loc["B", "detail"]


def test_the_fixed_saving_summary_and_its_maximum():
    summary = metrics.saving_summary(_results(0.0, flops_scale=0.8, noise=0.0), points=5)
    assert summary["mean"] == pytest.approx(0.2) and summary["max"] == pytest.approx(0.2)
    assert summary["cells"] == 5 and summary["seeds"] == 2, "seed 0's collapsed pair is out"
    detail = metrics.verdicts(_results(0.0, flops_scale=0.8, noise=0.0), points=5)["detail"][0]
    assert "mean over accuracy levels: 20.0 %" in detail and "the largest of 5 cells" in detail
    none = _results(0.0).assign(collapsed_layers="stage 1")
    assert metrics.saving_summary(none)["cells"] == 0


def test_claim_c_per_target_with_collapse_counts():
    results = _with_stress_target(2.0, -30.0)
    table = metrics.claim_c_by_target(results).set_index("sparsity")
    assert table.loc[0.9, "early"] == pytest.approx(5.0, abs=0.01)
    assert table.loc[0.9, "final"] == pytest.approx(-3.0, abs=0.01)
    assert table.loc[0.9, "verdict"] == "holds" and table.loc[0.9, "seeds"] == 3
    assert table.loc[0.9, "collapsed ordered"] == 1
    assert table.loc[0.9, "collapsed all-at-once"] == 0


def test_excluding_collapsed_networks_changes_claim_c():
    results = _results(shift=2.0, noise=0.1)
    hit = (results["strategy"] == "all-at-once") & (results["seed"] != 0)
    results.loc[hit, "collapsed_layers"] = "stage 1/0"  # only seed 0 stays (its ordered too)
    kept = metrics.verdicts(results).set_index("claim")
    out = metrics.verdicts(results, exclude_collapsed=True).set_index("claim")
    assert kept.loc["C", "verdict"] == "holds"
    assert out.loc["C", "verdict"] == "undecided", "no pair is left intact"


def test_robustness_summary_names_the_rows_that_change_a_verdict():
    results = _with_stress_target(2.0, -30.0)
    table = metrics.robustness(results, points=7, protocols={"reversed": _results(-10.0)})
    assert table.iloc[-1]["choice"] == "protocol: reversed"
    assert table.iloc[-1]["A"] == "does not hold"
    summary = metrics.robustness_summary(table).set_index("claim")
    assert not summary.loc["A", "steady"]
    changes = dict(summary.loc["A", "changes"])
    assert changes["protocol: reversed"] == "does not hold"
    assert changes["with the stress target (98 %)"] == "does not hold"
    assert summary.loc["A", "changed"] == len(changes)
    # the 90 % target with collapsed networks excluded keeps seeds 1 and 2: data, no change
    assert summary.loc["A", "no data"] == []
    lonely = _results(shift=2.0, noise=0.1)
    lonely["collapsed_layers"] = "stage 1"  # every network collapsed: nothing intact is left
    empty = metrics.robustness_summary(metrics.robustness(lonely, points=7)).set_index("claim")
    assert "collapsed networks excluded" in empty.loc["A", "no data"]
    assert "collapsed networks excluded" not in dict(empty.loc["A", "changes"])


def test_headline_verdicts_agree_with_a_plain_recomputation():
    """A hand-made table, recomputed with plain pandas and scipy (not eelib's helpers)."""
    from scipy import stats

    rng = np.random.default_rng(0)
    frames, flops = [], np.array([1.0, 2.0, 3.0, 4.0])
    for seed in range(5):
        for strategy, lift in (("dense", 0.0), ("all-at-once", 0.01), ("ordered", 0.0)):
            accuracy = np.array([0.6, 0.8, 0.85, 0.86]) + lift + rng.normal(0, 0.003)
            frame = pd.DataFrame({"threshold": [0.9, 0.7, 0.5, 0.3], "accuracy": accuracy})
            frame["flops"], frame["strategy"], frame["seed"] = flops, strategy, seed
            frame["sparsity"] = 0.0 if strategy == "dense" else 0.75
            frame["exit_1_accuracy"] = accuracy[0] + (0.02 if strategy == "all-at-once" else 0)
            frame["exit_2_accuracy"] = accuracy[-1]
            frame["collapsed_layers"] = ""
            frames.append(frame)
    results = pd.concat(frames, ignore_index=True)
    budgets = np.linspace(1.0, 4.0, 50)  # every curve covers [1, 4]

    def best(curve):  # best accuracy within each budget, by brute force
        return np.array([curve.loc[curve["flops"] <= b, "accuracy"].max() for b in budgets])

    a_seed, b_seed = [], []
    for seed in range(5):
        one = results[(results["strategy"] == "all-at-once") & (results["seed"] == seed)]
        two = results[(results["strategy"] == "ordered") & (results["seed"] == seed)]
        dense = results[(results["strategy"] == "dense") & (results["seed"] == seed)]
        gap = 100 * (best(one) - best(two))
        a_seed.append(gap.mean())
        bar = dense["exit_2_accuracy"].iloc[0] - 0.01
        b_seed.append(gap[np.maximum(best(one), best(two)) >= bar].mean())
    low, high = stats.t.interval(0.95, 4, loc=np.mean(a_seed), scale=stats.sem(a_seed))
    table = metrics.verdicts(results).set_index("claim")
    assert table.loc["A", ["mean", "low", "high"]].tolist() == pytest.approx(
        [np.mean(a_seed), low, high]
    )
    assert low > 0 and table.loc["A", "verdict"] == "holds"
    low, high = stats.t.interval(0.95, 4, loc=np.mean(b_seed), scale=stats.sem(b_seed))
    assert table.loc["B", ["mean", "low", "high"]].tolist() == pytest.approx(
        [np.mean(b_seed), low, high]
    )
    inside, outside = -1 < low and high < 1, low > 1 or high < -1  # ±1 point
    plain = "holds" if inside else "does not hold" if outside else "undecided"
    assert table.loc["B", "verdict"] == plain == "undecided", "a 1-point lead straddles ±1"
    # C: exit 1 (the early exits of a 2-exit network) and the final exit 2, per seed
    pruned = results[results["strategy"] != "dense"].drop_duplicates(["strategy", "seed"])
    forced = 100 * pruned.pivot(
        index="seed", columns="strategy", values=["exit_1_accuracy", "exit_2_accuracy"]
    )
    intervals = {}
    for exit_ in ("exit_1_accuracy", "exit_2_accuracy"):
        gap = forced[exit_, "all-at-once"] - forced[exit_, "ordered"]
        intervals[exit_] = stats.t.interval(0.95, 4, loc=gap.mean(), scale=stats.sem(gap))
    (early_low, early_high), (final_low, final_high) = intervals.values()
    assert table.loc["C", ["low", "high"]].tolist() == pytest.approx([early_low, early_high])
    holds, fails = early_low > 0 and final_high < 0, early_high < 0 or final_low > 0
    plain = "holds" if holds else "does not hold" if fails else "undecided"
    assert table.loc["C", "verdict"] == plain == "does not hold", "the final exit: +1 point"


def _at_targets(shifts, seeds=(0, 1, 2)):
    """Hand-made results with one target per ``shifts`` entry (sparsity → all at once's lead)."""
    frames = []
    for target, shift in shifts.items():
        frame = _results(shift=shift, noise=0.1, seeds=seeds)
        pruned = frame["strategy"] != "dense"
        frame.loc[pruned, "sparsity"] = target
        frames.append(frame if not frames else frame[pruned])  # one dense run per seed
    return pd.concat(frames, ignore_index=True)


def test_a_protocol_run_at_fewer_targets_is_read_against_the_same_targets():
    # the headline: all at once leads by 2 at 50 % and trails by 2 at 90 %, so A is undecided
    # on average; a variant run at 90 % only must be read against the headline's 90 %, where
    # A does not hold, or it would seem to change A for no reason of protocol
    results = _at_targets({0.5: 2.0, 0.9: -2.0})
    same = _at_targets({0.9: -2.0})
    better = _at_targets({0.9: 2.0})
    table = metrics.robustness(results, points=7, protocols={"same": same, "better": better})
    table = table.set_index("choice")
    assert table.iloc[0]["A"] == "undecided"
    assert table.loc["protocol: same (at 90%)", "reference"] == "only the 90% target"
    assert table.loc["protocol: same (at 90%)", "A"] == "does not hold"
    changes = dict(
        metrics.robustness_summary(table.reset_index()).set_index("claim").loc["A", "changes"]
    )
    assert "protocol: same (at 90%)" not in changes, "the protocol changes nothing at 90 %"
    assert changes["protocol: better (at 90%)"] == "holds"
    assert changes["only the 90% target"] == "does not hold"
    compared = metrics.compare_protocol(results, better, points=7).set_index("claim")
    assert compared.loc["A", ["targets", "headline protocol", "variant"]].tolist() == [
        "90%",
        "does not hold",
        "holds",
    ]
    assert compared.loc["A", "variant mean"] == pytest.approx(2.0, abs=0.01)
    # paired by seed, the variant moves A by 4 points in every seed
    assert compared.loc["A", "shift"] == pytest.approx(4.0, abs=0.01)
    assert compared.loc["A", "shift numbers"] == "+4.0 [+4.0, +4.0]"
    assert compared.loc["C", "shift"] == pytest.approx(0.0, abs=0.01), "same exits"
    # a variant at two of three headline targets gets the headline run at those two as its
    # reference row; one that shares no headline target cannot be compared
    three = _at_targets({0.5: 2.0, 0.75: 2.0, 0.9: -2.0})
    two = _at_targets({0.5: 2.0, 0.9: -2.0})
    table = metrics.robustness(three, points=7, protocols={"two": two}).set_index("choice")
    reference = "the headline run at 50%, 90%"
    assert table.loc["protocol: two (at 50%, 90%)", "reference"] == reference
    assert table.loc[reference, "kind"] == "subset"
    assert table.loc[reference, "A"] == table.loc["protocol: two (at 50%, 90%)", "A"]
    # a variant run on fewer seeds is read against the headline run on those seeds
    fewer = _at_targets({0.5: 2.0, 0.9: -2.0}, seeds=(0, 1))
    table = metrics.robustness(results, points=7, protocols={"fewer": fewer})
    table = table.set_index("choice")
    reference = "the headline run at 50%, 90%, seeds 0, 1"
    assert table.loc["protocol: fewer", "reference"] == reference
    assert table.loc[reference, "A numbers"] == table.loc["protocol: fewer", "A numbers"]
    compared = metrics.compare_protocol(results, fewer, points=7)
    assert set(compared["seeds"]) == {"0, 1"} and set(compared["targets"]) == {"50%, 90%"}
    with pytest.raises(ValueError, match="share none ≤ 95 %"):
        metrics.robustness(three, points=7, protocols={"far": _at_targets({0.98: 2.0})})


def test_robustness_reads_every_row_at_the_chapters_margin():
    results = _with_stress_target(2.0, -30.0)
    assert metrics.robustness(results, points=7).iloc[0]["B"] == "does not hold"
    wide = metrics.robustness(results, points=7, margin=2.0)
    assert wide.iloc[0]["B"] == "undecided", "a gap of 2 ± 0.1 straddles a margin of 2"
    assert (wide.set_index("choice").loc["B's margin 0.5 pt", "B"]) == "does not hold"


def test_a_reading_whose_reference_has_no_data_changes_nothing():
    row = {"kind": "one target", "headline": False, "reference": "headline"}
    verdicts = {f"{c}{s}": v for c in "BC" for s, v in (("", "holds"), (" mean", 1.0))}
    table = pd.DataFrame(
        [
            {**row, **verdicts, "choice": "headline", "kind": "headline", "headline": True}
            | {"A": "holds", "A mean": 1.0},
            {**row, **verdicts, "choice": "only 90 %", "A": "undecided", "A mean": np.nan},
            {**row, **verdicts, "choice": "variant", "reference": "only 90 %"}
            | {"A": "does not hold", "A mean": -1.0},
        ]
    )
    summary = metrics.robustness_summary(table).set_index("claim")
    assert summary.loc["A", "steady"] and summary.loc["A", "tested"] == 1
    assert summary.loc["A", "no data"] == ["only 90 %", "variant"]
    assert summary.loc["B", "tested"] == 3 and summary.loc["B", "steady"]

"""Frontiers and gaps on a FLOPs grid (eelib.frontiers) and the statistics under every verdict
(eelib.stats), on hand-made curves whose answer is known; how protocol files are read beside the
headline run (eelib.robustness)."""

import numpy as np
import pandas as pd
import pytest

import eelib.results
from eelib import best_accuracy_within, claims, compare_strategies, frontiers, robustness, stats
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
    mean, low, high = stats.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and high - mean == pytest.approx(4.302653 * (1 / 3) ** 0.5, rel=1e-5)
    assert mean - low == pytest.approx(high - mean)
    assert stats.interval([4.0, 4.0]) == (4.0, 4.0, 4.0)
    with pytest.raises(ValueError, match="fraction"):
        stats.interval([1.0, 2.0], confidence=95)
    one = stats.interval([2.0, np.nan])
    assert one[0] == 2.0 and np.isnan(one[1]) and np.isnan(one[2])


def test_gap_bands_saving_exits_parts_and_collapse():
    results = _results(shift=10.0, noise=0.0)
    gap = frontiers.gap_by_budget(results, points=4)
    assert gap["mean"].tolist() == pytest.approx([10.0] * 4)
    assert (gap["seeds"] == 3).all() and (gap["low"] == gap["high"]).all()
    bands = frontiers.frontier_bands(results, points=4)
    assert set(bands["strategy"]) == {"all-at-once", "ordered"}
    # all at once reaches every accuracy with 80 % of the FLOPs: a 20 % saving
    cheaper = frontiers.flops_saving(_results(0.0, flops_scale=0.8, noise=0.0), points=5)
    assert cheaper["mean"].tolist() == pytest.approx([0.2] * 5)
    exits = frontiers.exit_accuracy_table(results).set_index(["strategy", "exit"])
    assert exits.loc[("all-at-once", 1), "mean"] == pytest.approx(0.65)
    parts = frontiers.part_sparsity_table(results)
    assert list(parts.columns) == ["stage 1", "final"]
    collapsed = eelib.results.collapsed_layers(results)
    assert collapsed[["strategy", "seed", "layers"]].values.tolist() == [["ordered", 0, ["exit 1"]]]


def test_operating_points_are_chosen_on_validation():
    results = _results(shift=0.0, noise=0.0)
    results.loc[results["strategy"] == "ordered", "val_accuracy"] -= 0.1  # validation is harsher
    points = frontiers.operating_points(results, 0.75).set_index(["strategy", "seed"])
    assert points.loc[("all-at-once", 0), "flops"] == 3.0
    assert points.loc[("ordered", 0), "flops"] == 4.0, "chosen on validation, not on test"
    assert points.loc[("ordered", 0), "accuracy"] == pytest.approx(0.85)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        frontiers.operating_points(results, 75)


def _with_stress_target(shift_headline, shift_stress):
    """Hand-made results at 90 % plus a 98 % stress target where all at once differs by
    ``shift_stress`` points."""
    headline = _results(shift=shift_headline, noise=0.1)
    stress = _results(shift=shift_stress, noise=0.1)
    stress = stress[stress["strategy"] != "dense"].assign(sparsity=0.98)
    return pd.concat([headline, stress], ignore_index=True)


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
    linear = frontiers.frontier_gaps(results, points=5)
    assert np.diff(linear["budget"].iloc[:5]).round(6).tolist() == [0.75] * 4
    log = frontiers.frontier_gaps(results, points=5, grid="log")
    assert (
        np.diff(np.log(log["budget"].iloc[:5])).round(6).tolist() == [round(np.log(4) / 4, 6)] * 4
    )
    with pytest.raises(ValueError, match="grid"):
        frontiers.frontier_gaps(results, grid="cubic")
    kept = frontiers.select(results, exclude_collapsed=True)
    pairs = set(zip(kept["strategy"], kept["seed"]))
    assert ("ordered", 0) not in pairs and ("all-at-once", 0) not in pairs
    assert ("dense", 0) in pairs and ("ordered", 1) in pairs


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
    assert frontiers.budget_range(curves) == (1.0, 16.0)
    assert frontiers.budget_range(curves, extent="first-top") == (1.0, 2.0)
    assert frontiers.budget_range(curves, extent="last-top") == (1.0, 8.0)
    with pytest.raises(ValueError, match="extent"):
        frontiers.budget_range(curves, extent="middle")
    covered = frontiers.frontier_gaps(results, points=16)
    last = frontiers.frontier_gaps(results, points=16, extent="last-top")
    assert covered["budget"].max() == 16.0 and last["budget"].max() == 8.0
    # the flat stretch past 8 FLOPs adds zeros to the covered grid's average
    assert last["gap"].mean() > covered["gap"].mean() > 0
    # claim A reads the rising grid: the lead where ordered still climbs, not the flat tail
    rising = claims.claim_values(results, points=16)["A"]
    whole = claims.claim_values(results, points=16, rising="covered")["A"]
    assert (rising > whole).all()


def test_each_pair_on_its_own_range():
    results = _flat_early()
    late = results["seed"] == 2
    results.loc[late, ["flops", "val_flops"]] *= 2  # seed 2's curves cost twice as much
    shared = frontiers.frontier_gaps(results, points=5)
    paired = frontiers.frontier_gaps(results, points=5, pairing="pair")
    assert shared.groupby("seed")["budget"].max().tolist() == [16.0, 16.0, 16.0]
    assert paired.groupby("seed")["budget"].agg(["min", "max"]).values.tolist() == [
        [1.0, 16.0],
        [1.0, 16.0],
        [2.0, 32.0],
    ]
    with pytest.raises(ValueError, match="pairing"):
        frontiers.frontier_gaps(results, pairing="each")


def test_equivalence_is_two_one_sided_tests():
    from scipy import stats as scipy_stats

    values = [0.2, 0.5, 0.3, 0.4]
    p = stats.equivalence(values, margin=1.0)
    lower = scipy_stats.ttest_1samp(values, -1.0, alternative="greater").pvalue
    upper = scipy_stats.ttest_1samp(values, 1.0, alternative="less").pvalue
    assert p == pytest.approx(max(lower, upper))
    # equivalence at (1 − 0.95) / 2 per test ⇔ the 95 % interval inside the margin
    for margin in (0.4, 0.6, 0.8, 1.0):
        _, low, high = stats.interval(values)
        inside = -margin < low and high < margin
        assert (stats.equivalence(values, margin) < 0.025) == inside, margin
    assert np.isnan(stats.equivalence([0.1], 1.0))
    assert stats.equivalence([0.5, 0.5], 1.0) == 0.0
    with pytest.raises(ValueError, match="margin"):
        stats.equivalence(values, 0.0)


def _at_targets(shifts, seeds=(0, 1, 2)):
    """Hand-made results with one target per ``shifts`` entry (sparsity → all at once's lead)."""
    frames = []
    for target, shift in shifts.items():
        frame = _results(shift=shift, noise=0.1, seeds=seeds)
        pruned = frame["strategy"] != "dense"
        frame.loc[pruned, "sparsity"] = target
        frames.append(frame if not frames else frame[pruned])  # one dense run per seed
    return pd.concat(frames, ignore_index=True)


def test_the_stress_target_stays_out_of_the_headline_verdicts():
    results = _with_stress_target(2.0, -30.0)
    headline = claims.verdicts(results, points=7).set_index("claim")
    stressed = claims.verdicts(results, points=7, stress=True).set_index("claim")
    assert headline.loc["C early", "mean"] == pytest.approx(5.0, abs=0.01)
    assert headline.loc["A", "verdict"] == "holds"
    assert stressed.loc["A", "mean"] < headline.loc["A", "mean"], "the stress target reverses A"
    by_target = claims.verdicts_by_target(results, points=7).set_index(["sparsity", "claim"])
    assert by_target.loc[(0.9, "A"), "verdict"] == "holds"
    assert by_target.loc[(0.98, "A"), "verdict"] == "does not hold"


def test_the_fixed_saving_summary_and_its_maximum():
    summary = claims.saving_summary(_results(0.0, flops_scale=0.8, noise=0.0), points=5)
    assert summary["mean"] == pytest.approx(0.2) and summary["max"] == pytest.approx(0.2)
    assert summary["cells"] == 5 and summary["seeds"] == 2, "seed 0's collapsed pair is out"
    assert summary["targets"] == [0.9]
    none = _results(0.0).assign(collapsed_layers="stage 1")
    assert claims.saving_summary(none)["cells"] == 0


def test_collapse_counts_per_target():
    table = claims.collapse_by_target(_with_stress_target(2.0, -30.0)).set_index("sparsity")
    assert table.loc[0.9, "seeds"] == 3 and table.loc[0.9, "collapsed ordered"] == 1
    assert table.loc[0.9, "collapsed all-at-once"] == 0


def test_a_protocol_run_at_fewer_targets_or_seeds_is_read_against_the_same_ones():
    # the headline: all at once leads by 2 at 50 % and trails by 2 at 90 %; a variant run at
    # 90 % only is read against the headline's 90 %, or it would seem to change A for no reason
    # of protocol
    results = _at_targets({0.5: 2.0, 0.9: -2.0})
    better = _at_targets({0.9: 2.0})
    compared = robustness.compare_protocol(results, better).set_index("claim")
    assert compared.loc["A", ["targets", "headline protocol", "variant"]].tolist() == [
        "90%",
        "does not hold",
        "holds",
    ]
    # paired by seed, the variant moves A by 4 points in every seed; the exits not at all
    assert compared.loc["A", "shift"] == pytest.approx(4.0, abs=0.01)
    assert compared.loc["C early", "shift"] == pytest.approx(0.0, abs=0.01)
    same = robustness.compare_protocol(results, _at_targets({0.9: -2.0})).set_index("claim")
    assert (same["headline protocol"] == same["variant"]).all()
    fewer = robustness.compare_protocol(results, _at_targets({0.5: 2.0, 0.9: -2.0}, seeds=(0, 1)))
    assert set(fewer["seeds"]) == {"0, 1"} and set(fewer["targets"]) == {"50%, 90%"}
    with pytest.raises(ValueError, match="share none ≤ 95 %"):
        robustness.compare_protocol(results, _at_targets({0.98: 2.0}))


def test_the_old_table_names_still_work_and_say_their_new_name():
    results = _results(0.0, noise=0.0)
    with pytest.warns(DeprecationWarning, match="exit_accuracy_table"):
        old = frontiers.exit_accuracies(results)
    pd.testing.assert_frame_equal(old, frontiers.exit_accuracy_table(results))
    with pytest.warns(DeprecationWarning, match="part_sparsity_table"):
        frontiers.part_sparsities(results)

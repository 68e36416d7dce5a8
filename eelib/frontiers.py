"""Frontiers of the strategies' trade-off curves, compared on a shared FLOPs grid (chapter 5).

Each curve's Pareto frontier gives the best accuracy within a FLOPs budget; the strategy
difference is all at once minus ordered, per budget and seed, in accuracy points, and the FLOPs
saving at equal accuracy a fraction. These are the numbers :mod:`eelib.claims` decides on. Every
function reads the results table of :mod:`eelib.results`; none needs torch.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from .results import (
    RUN,
    STRATEGIES,
    collapsed_layers,
    exit_accuracy_column,
    exit_gaps,
    num_exits,
    part_column,
    parts,
    runs,
)
from .stats import interval_table

GRIDS = ("linear", "log")
"""Spacings of the shared FLOPs-budget grid."""
CHOICES = ("test", "validation")
"""Where an operating point is chosen, on the test curve itself or on the validation split's."""
EXTENTS = ("covered", "first-top", "last-top")
"""Where the budget grid ends (:func:`budget_range`)."""
PAIRINGS = ("shared", "pair")
"""One budget range shared by every pair of frontiers, or each pair on its own range."""
HEADLINE_MAX_SPARSITY = 0.95
"""Targets above this are stress tests, reported on their own, outside the headline verdicts."""


def pareto_frontier(curve: pd.DataFrame, cost: str = "flops") -> pd.DataFrame:
    """The non-dominated rows of a curve: no other row costs as little or less and is more accurate.

    Args:
        curve: rows with ``accuracy`` and the cost column (:func:`tradeoff_curve`,
            :func:`rule_curve`).
        cost: the cost column, ``"flops"`` by default (``"seconds"`` for measured time).

    Returns:
        The frontier's rows sorted by cost (ascending, so accuracy rises along them); of
        identical points the first is kept.
    """
    ordered = curve.sort_values([cost, "accuracy"], ascending=[True, False], kind="stable")
    best_before = ordered["accuracy"].cummax().shift(fill_value=-np.inf)
    return ordered[ordered["accuracy"] > best_before]


def _selector(curve: pd.DataFrame, choose: str) -> pd.DataFrame:
    """The curve whose points pick the operating point: test itself, or the validation split's."""
    if choose not in CHOICES:
        raise ValueError(f"choose is one of {', '.join(CHOICES)}, got {choose!r}")
    if choose == "test":
        return curve
    if "val_accuracy" not in curve.columns:
        raise ValueError("these results have no val_accuracy column; rerun eelib.run_experiment")
    return curve.assign(flops=curve["val_flops"], accuracy=curve["val_accuracy"])


def best_accuracy_within(curve: pd.DataFrame, budgets, choose: str = "test") -> np.ndarray:
    """Best accuracy (fraction) of the curve's operating points that cost at most each budget.

    Args:
        curve: rows with ``flops`` and ``accuracy`` (one trade-off curve; with
            ``choose="validation"`` also ``val_flops`` and ``val_accuracy``).
        budgets: mean FLOPs per sample, 1-D.
        choose: ``"test"`` — the best test accuracy among points whose test FLOPs fit (the curve
            swept on test, as the paper does); ``"validation"`` — the threshold with the best
            validation accuracy among those whose validation FLOPs fit, reported on test.

    Returns:
        float array like ``budgets``; NaN where no point is that cheap.
    """
    front = pareto_frontier(_selector(curve, choose))
    index = (
        np.searchsorted(front["flops"].to_numpy(), np.asarray(budgets, dtype=float), side="right")
        - 1
    )
    accuracy = curve.loc[front.index, "accuracy"].to_numpy()[np.maximum(index, 0)]
    return np.where(index >= 0, accuracy, np.nan)


def select(
    results: pd.DataFrame, stress: bool = True, exclude_collapsed: bool = False
) -> pd.DataFrame:
    """The rows an analysis uses.

    Args:
        results: the results table.
        stress: keep targets above :data:`HEADLINE_MAX_SPARSITY` (False: the headline targets).
        exclude_collapsed: drop every (sparsity, seed) at which either strategy's network has a
            collapsed layer (≥ 99 % sparse), so no number comes from a collapsed network.
    """
    rows = results if stress else results[results["sparsity"] <= HEADLINE_MAX_SPARSITY + 1e-9]
    if not exclude_collapsed:
        return rows
    broken = collapsed_layers(rows)[["sparsity", "seed"]]
    at = pd.MultiIndex.from_frame(rows[["sparsity", "seed"]])
    hit = at.isin(pd.MultiIndex.from_frame(broken)) & (rows["strategy"] != "dense").to_numpy()
    return rows[~hit]


def compare_strategies(results: pd.DataFrame, points: int = 50) -> pd.DataFrame:
    """All at once minus ordered, per (sparsity, seed): a one-line summary of each pair of runs.

    The frontier gaps are :func:`frontier_gaps`'s — the comparison chapter 5 makes, on the same
    shared grid — and the per-exit gaps :func:`eelib.results.exit_gaps`'s.

    Columns: ``sparsity``, ``seed``, ``budget_low`` and ``budget_high`` (the FLOPs range of the
    grid), ``mean_gap``, ``min_gap`` and ``max_gap`` (accuracy differences in points over the
    grid's ``points`` budgets) and ``exit_k_gap`` (per-exit accuracy difference in points, every
    sample forced out at exit k).
    """
    gaps = frontier_gaps(results, points)
    table = gaps.groupby(["sparsity", "seed"]).agg(
        budget_low=("budget", "min"),
        budget_high=("budget", "max"),
        mean_gap=("gap", "mean"),
        min_gap=("gap", "min"),
        max_gap=("gap", "max"),
    )
    exits = exit_gaps(results).rename(columns=lambda k: f"exit_{k}_gap")
    return table.join(exits).reset_index()


def _paired_runs(results: pd.DataFrame):
    """Per target sparsity both strategies were run at, each seed's pair of curves.

    Yields ``(sparsity, pairs)``: ``pairs`` is a list of ``(seed, all-at-once curve, ordered
    curve)``.
    """
    one, two = (
        dict(list(results[results["strategy"] == s].groupby(["sparsity", "seed"])))
        for s in STRATEGIES
    )
    for target in sorted({s for s, _ in one} & {s for s, _ in two}):
        yield (
            target,
            [
                (seed, one[t, seed], two[t, seed])
                for t, seed in one
                if t == target and (t, seed) in two
            ],
        )


def _covered(curves, column: str) -> tuple[float, float]:
    """The range of ``column`` every curve covers: the largest minimum, the smallest maximum."""
    return max(c[column].min() for c in curves), min(c[column].max() for c in curves)


def _top_cost(curve: pd.DataFrame, choose: str) -> float:
    """The FLOPs at which the curve's frontier first reaches its top accuracy (it is flat after)."""
    return float(pareto_frontier(_selector(curve, choose))["flops"].iloc[-1])


def budget_range(curves, choose: str = "test", extent: str = "covered") -> tuple[float, float]:
    """The FLOPs range a budget grid spans over some trade-off curves (mean FLOPs per sample).

    Args:
        curves: trade-off curves (rows with ``flops`` and ``accuracy``; with
            ``choose="validation"``, ``val_flops`` and ``val_accuracy``).
        choose: as in :func:`best_accuracy_within`; the range is in that choice's FLOPs.
        extent: ``"covered"`` — from the largest minimum to the smallest maximum, the range every
            curve covers (the headline); ``"first-top"`` — the same start, ending where the first
            of the curves' frontiers reaches its top accuracy, so that every frontier is still
            rising on the grid; ``"last-top"`` — ending where the last of them reaches its top,
            past which every frontier is flat and a gap only repeats the difference of their
            tops. Neither goes beyond ``"covered"``'s end.

    Returns:
        ``(low, high)`` with ``low <= high``.

    Raises:
        ValueError: an unknown extent or choice.
    """
    if extent not in EXTENTS:
        raise ValueError(f"extent is one of {', '.join(EXTENTS)}, got {extent!r}")
    low, high = _covered(curves, "flops" if choose == "test" else "val_flops")
    if extent != "covered":
        tops = [_top_cost(c, choose) for c in curves]
        high = min(high, min(tops) if extent == "first-top" else max(tops))
    return low, max(low, high)


def frontier_gaps(
    results: pd.DataFrame,
    points: int = 50,
    grid: str = "linear",
    choose: str = "test",
    extent: str = "covered",
    pairing: str = "shared",
) -> pd.DataFrame:
    """Each strategy's best accuracy within each budget of a FLOPs grid, per seed.

    For each target sparsity the grid is ``points`` budgets over :func:`budget_range` of the
    curves (``extent`` says where it ends). ``pairing="shared"`` (the headline) gives one grid
    to every run at that sparsity (both strategies, all seeds), so seeds can be averaged per
    budget; ``"pair"`` gives each seed's pair of runs a grid over its own two curves.
    ``grid="linear"`` spaces the budgets evenly in FLOPs, as the paper's axes do (the headline);
    ``"log"`` evenly in log FLOPs, which weighs the cheap end, where an early-exit network's
    operating points crowd, more. ``choose`` as in :func:`best_accuracy_within`.

    Columns: ``sparsity``, ``seed``, ``budget`` (mean FLOPs per sample), ``all-at-once`` and
    ``ordered`` (best accuracy, fractions) and ``gap`` (all at once − ordered, accuracy points).
    Empty when no target has runs of both strategies.

    Raises:
        ValueError: an unknown grid, choice, extent or pairing.
    """
    if grid not in GRIDS:
        raise ValueError(f"grid is one of {', '.join(GRIDS)}, got {grid!r}")
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing is one of {', '.join(PAIRINGS)}, got {pairing!r}")
    spaced = np.linspace if grid == "linear" else np.geomspace
    rows = []
    for target, pairs in _paired_runs(results):
        shared = budget_range([c for _, a, b in pairs for c in (a, b)], choose, extent)
        for seed, one, two in pairs:
            low, high = shared if pairing == "shared" else budget_range([one, two], choose, extent)
            budgets = spaced(low, high, points)
            a = best_accuracy_within(one, budgets, choose)
            b = best_accuracy_within(two, budgets, choose)
            rows.append(
                pd.DataFrame(
                    {
                        "sparsity": target,
                        "seed": seed,
                        "budget": budgets,
                        "all-at-once": a,
                        "ordered": b,
                        "gap": 100 * (a - b),
                    }
                )
            )
    columns = ["sparsity", "seed", "budget", *STRATEGIES, "gap"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def gap_by_budget(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95, grid: str = "linear"
) -> pd.DataFrame:
    """All at once − ordered per budget: mean and ``confidence`` interval over seeds (points).

    Columns: ``sparsity``, ``budget`` (FLOPs), ``mean``, ``low``, ``high``, ``seeds``.
    """
    gaps = frontier_gaps(results, points, grid)
    return interval_table(gaps, ["sparsity", "budget"], "gap", confidence)


def frontier_bands(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95, grid: str = "linear"
) -> pd.DataFrame:
    """Each strategy's frontier on the shared grid: mean and interval of accuracy over seeds.

    Columns: ``strategy``, ``sparsity``, ``budget`` (FLOPs), ``mean``, ``low``, ``high`` (fractions),
    ``seeds``. The dense network's curve is not included (see :func:`dense_reference`).
    """
    gaps = frontier_gaps(results, points, grid)
    long = gaps.melt(
        ["sparsity", "seed", "budget"], list(STRATEGIES), var_name="strategy", value_name="accuracy"
    )
    return interval_table(long, ["strategy", "sparsity", "budget"], "accuracy", confidence)


def dense_reference(results: pd.DataFrame) -> pd.Series:
    """Per seed, the fine-tuned dense network's final-exit accuracy (fraction); claim B's bar."""
    dense = results[results["strategy"] == "dense"]
    return dense.groupby("seed")[exit_accuracy_column(num_exits(results))].first()


def _flops_to_reach(curve: pd.DataFrame, levels, choose: str = "test") -> np.ndarray:
    """Test FLOPs of the cheapest point with accuracy ≥ each level (chosen as ``choose`` says);
    NaN if none reaches it."""
    front = pareto_frontier(_selector(curve, choose))
    accuracy = front["accuracy"].to_numpy()
    flops = curve.loc[front.index, "flops"].to_numpy()
    index = np.searchsorted(accuracy, np.asarray(levels, dtype=float), side="left")
    return np.where(index < len(flops), flops[np.minimum(index, len(flops) - 1)], np.nan)


def flops_saving_per_seed(
    results: pd.DataFrame, points: int = 50, choose: str = "test", floor=None
) -> pd.DataFrame:
    """FLOPs all at once saves over ordered at equal accuracy, per seed (the paper's "up to 15 %").

    For each target sparsity, accuracy levels are ``points`` values evenly spaced over the range
    every run reaches (from ``floor[seed]`` up, when a per-seed floor is given); at each level
    each strategy's frontier needs some mean FLOPs per sample. Saving = 1 − FLOPs(all at once) /
    FLOPs(ordered), a fraction (0.15 = 15 % fewer FLOPs).

    Columns: ``sparsity``, ``seed``, ``accuracy`` (the level, a fraction), ``saving``.
    """
    column = "accuracy" if choose == "test" else "val_accuracy"
    rows = []
    for target, pairs in _paired_runs(results):
        levels = np.linspace(*_covered([c for _, a, b in pairs for c in (a, b)], column), points)
        for seed, one, two in pairs:
            mine = levels[levels >= floor[seed]] if floor is not None else levels
            saving = 1 - _flops_to_reach(one, mine, choose) / _flops_to_reach(two, mine, choose)
            rows.append(
                pd.DataFrame({"sparsity": target, "seed": seed, "accuracy": mine, "saving": saving})
            )
    columns = ["sparsity", "seed", "accuracy", "saving"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def flops_saving(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95, choose: str = "test"
) -> pd.DataFrame:
    """:func:`flops_saving_per_seed` with a mean and ``confidence`` interval over seeds per level.

    Columns: ``sparsity``, ``accuracy`` (the level, a fraction), ``mean``, ``low``, ``high``
    (saving, a fraction), ``seeds``. To keep collapsed networks out, pass
    ``select(results, exclude_collapsed=True)``.
    """
    savings = flops_saving_per_seed(results, points, choose)
    return interval_table(savings, ["sparsity", "accuracy"], "saving", confidence)


def exit_accuracy_table(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy of each exit with every sample forced out there: mean and interval over seeds.

    Columns: ``strategy``, ``sparsity``, ``exit`` (1..K), ``mean``, ``low``, ``high`` (fractions),
    ``seeds``.
    """
    exits = range(1, num_exits(results) + 1)
    table = runs(results)[[*RUN, *(exit_accuracy_column(k) for k in exits)]]
    table = table.rename(columns={exit_accuracy_column(k): k for k in exits})
    long = table.melt(RUN, list(exits), var_name="exit", value_name="accuracy")
    return interval_table(long, ["strategy", "sparsity", "exit"], "accuracy", confidence)


def part_sparsity_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean sparsity (fraction) of each part over seeds: rows (strategy, sparsity), one column per
    part (``stage k``, ``exit k``, ``final``) in network order."""
    names = parts(results)
    table = runs(results).rename(columns={part_column(p): p for p in names})
    return table.groupby(["strategy", "sparsity"], sort=False)[names].mean()


def operating_points(results: pd.DataFrame, target_accuracy: float) -> pd.DataFrame:
    """The cheapest threshold reaching ``target_accuracy`` on the validation split, reported on test.

    For each run (strategy, sparsity, seed) the threshold with the fewest validation FLOPs among
    those with validation accuracy ≥ the target is chosen (chosen on validation, reported on
    test, as the book's chapter 5 explains). Columns: ``strategy``, ``sparsity``, ``seed``, ``threshold``,
    ``val_accuracy``, ``accuracy`` and ``flops`` (test); runs that never reach the target are left
    out. Raises ValueError if the target is not a fraction in [0, 1] or the results have no
    validation columns.
    """
    if isinstance(target_accuracy, bool) or not 0 <= target_accuracy <= 1:
        raise ValueError(f"target_accuracy is a fraction in [0, 1], got {target_accuracy!r}")
    if "val_accuracy" not in results.columns:
        raise ValueError("these results have no val_accuracy column; rerun eelib.run_experiment")
    ok = results[results["val_accuracy"] >= target_accuracy]
    chosen = ok.sort_values(["val_flops", "val_accuracy"], ascending=[True, False], kind="stable")
    chosen = chosen.groupby(RUN, sort=False).head(1)
    columns = ["strategy", "sparsity", "seed", "threshold", "val_accuracy", "accuracy", "flops"]
    return chosen[columns].reset_index(drop=True)


def targets(results: pd.DataFrame) -> list[float]:
    """The target sparsities of the pruned runs, in order, rounded to 6 places."""
    return sorted(
        {round(float(t), 6) for t in results.loc[results["strategy"] != "dense", "sparsity"]}
    )


def seeds(results: pd.DataFrame) -> list[int]:
    """The seeds of a results table, in order."""
    return sorted(int(seed) for seed in results["seed"].unique())


def on_targets(results: pd.DataFrame, targets: list[float], seeds=None) -> pd.DataFrame:
    """The dense runs and the runs at ``targets`` (of ``seeds`` only, when given)."""
    at = results["sparsity"].round(6).isin([round(t, 6) for t in targets])
    rows = results[(results["strategy"] == "dense") | at]
    return rows if seeds is None else rows[rows["seed"].isin(seeds)]


def per_seed(frame: pd.DataFrame, column: str) -> pd.Series:
    """Mean over budgets (or levels) per (seed, sparsity), then over sparsities per seed."""
    return frame.groupby(["seed", "sparsity"])[column].mean().groupby("seed").mean()


def _old_name(function, old: str):
    """``function`` under the name it had before (issue 33), warning once per call site."""

    @functools.wraps(function)
    def renamed(*args, **kwargs):
        warnings.warn(
            f"eelib.frontiers.{old} is now {function.__name__}; the old name will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    renamed.__name__ = renamed.__qualname__ = old
    renamed.__doc__ = f"Deprecated: the old name of :func:`{function.__name__}`."
    return renamed


flops_savings = _old_name(flops_saving_per_seed, "flops_savings")
exit_accuracies = _old_name(exit_accuracy_table, "exit_accuracies")
part_sparsities = _old_name(part_sparsity_table, "part_sparsities")

"""Comparing the strategies' trade-off curves (the book's chapter 5).

On a shared FLOPs grid, each curve's Pareto frontier gives the best accuracy within that budget;
the strategy difference is all-at-once minus ordered, per budget, with a 95 % interval over seeds
(``scipy.stats``). :func:`verdicts` turns the numbers into a verdict on each of the paper's three
claims (Görmez & Koyuncu, 2022, §4). Every function reads the results table of
:mod:`eelib.results`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .early_exit import pareto_frontier
from .results import (
    RUN,
    STRATEGIES,
    early_exits,
    exit_accuracy_column,
    exit_gaps,
    num_exits,
    part_column,
    parts,
    runs,
)


def best_accuracy_within(curve: pd.DataFrame, budgets) -> np.ndarray:
    """Best accuracy (fraction) of the curve's operating points that cost at most each budget.

    Args:
        curve: rows with ``flops`` and ``accuracy`` (one trade-off curve).
        budgets: mean FLOPs per sample, 1-D.

    Returns:
        float array like ``budgets``; NaN where no point is that cheap.
    """
    front = pareto_frontier(curve)
    index = (
        np.searchsorted(front["flops"].to_numpy(), np.asarray(budgets, dtype=float), side="right")
        - 1
    )
    accuracy = front["accuracy"].to_numpy()[np.maximum(index, 0)]
    return np.where(index >= 0, accuracy, np.nan)


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


# --- Intervals over seeds and verdicts for the paper's claims (the book's chapter 5) ----------

VERDICTS = ("holds", "does not hold", "undecided")


def interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of ``values`` (one number per seed), NaNs dropped.

    Uses ``scipy.stats.t.interval`` with the standard error of the mean, the usual interval for a
    handful of seeds. Returns ``(mean, low, high)``; with fewer than 2 values the bounds are NaN
    (no interval can be given from one seed) and with identical values they equal the mean.
    Raises ValueError for a ``confidence`` outside (0, 1) (0.95, not 95).
    """
    from scipy import stats  # here, not at the top: importing it takes a third of a second

    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a fraction in (0, 1), e.g. 0.95; got {confidence!r}")
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    sem = stats.sem(values)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def _summary(frame: pd.DataFrame, by: list[str], column: str, confidence: float) -> pd.DataFrame:
    rows = []
    for key, group in frame.groupby(by, sort=False):
        mean, low, high = interval(group[column], confidence)
        rows.append(
            dict(zip(by, key if isinstance(key, tuple) else (key,)))
            | {"mean": mean, "low": low, "high": high, "seeds": int(group[column].notna().sum())}
        )
    return pd.DataFrame(rows)


def _paired_runs(results: pd.DataFrame, column: str):
    """Per target sparsity both strategies were run at, each seed's two curves and a shared range.

    Yields ``(sparsity, low, high, pairs)``: ``pairs`` is a list of ``(seed, all-at-once curve,
    ordered curve)``; ``low`` and ``high`` bound the range of ``column`` that every one of those
    curves covers (the largest minimum and the smallest maximum).
    """
    one, two = (
        dict(list(results[results["strategy"] == s].groupby(["sparsity", "seed"])))
        for s in STRATEGIES
    )
    for target in sorted({s for s, _ in one} & {s for s, _ in two}):
        pairs = [
            (seed, one[t, seed], two[t, seed])
            for t, seed in one
            if t == target and (t, seed) in two
        ]
        curves = [c for _, a, b in pairs for c in (a, b)]
        yield (
            target,
            max(c[column].min() for c in curves),
            min(c[column].max() for c in curves),
            pairs,
        )


def frontier_gaps(results: pd.DataFrame, points: int = 50) -> pd.DataFrame:
    """Each strategy's best accuracy within each budget of a shared FLOPs grid, per seed.

    For each target sparsity the grid is ``points`` budgets evenly spaced on a log scale over the
    FLOPs range every run at that sparsity covers (both strategies, all seeds), so seeds can be
    averaged per budget; a log grid because an early-exit network's operating points span orders
    of magnitude of FLOPs, most of them at the cheap end. Columns: ``sparsity``, ``seed``,
    ``budget`` (mean FLOPs per sample), ``all-at-once`` and ``ordered`` (best accuracy, fractions,
    :func:`best_accuracy_within`) and ``gap`` (all at once − ordered, in accuracy points).
    """
    rows = []
    for target, low, high, pairs in _paired_runs(results, "flops"):
        budgets = np.geomspace(low, high, points)
        for seed, one, two in pairs:
            a, b = best_accuracy_within(one, budgets), best_accuracy_within(two, budgets)
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
    return pd.concat(rows, ignore_index=True)


def gap_by_budget(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95
) -> pd.DataFrame:
    """All at once − ordered per budget: mean and ``confidence`` interval over seeds (points).

    Columns: ``sparsity``, ``budget`` (FLOPs), ``mean``, ``low``, ``high``, ``seeds``.
    """
    return _summary(frontier_gaps(results, points), ["sparsity", "budget"], "gap", confidence)


def frontier_bands(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95
) -> pd.DataFrame:
    """Each strategy's frontier on the shared grid: mean and interval of accuracy over seeds.

    Columns: ``strategy``, ``sparsity``, ``budget`` (FLOPs), ``mean``, ``low``, ``high`` (fractions),
    ``seeds``. The dense network's curve is not included (see :func:`dense_reference`).
    """
    gaps = frontier_gaps(results, points)
    long = gaps.melt(
        ["sparsity", "seed", "budget"], list(STRATEGIES), var_name="strategy", value_name="accuracy"
    )
    return _summary(long, ["strategy", "sparsity", "budget"], "accuracy", confidence)


def dense_reference(results: pd.DataFrame) -> pd.Series:
    """Per seed, the fine-tuned dense network's final-exit accuracy (fraction); claim B's bar."""
    dense = results[results["strategy"] == "dense"]
    return dense.groupby("seed")[exit_accuracy_column(num_exits(results))].first()


def _flops_to_reach(curve: pd.DataFrame, levels) -> np.ndarray:
    """Fewest mean FLOPs of a point on ``curve`` with accuracy ≥ each level; NaN if none."""
    front = pareto_frontier(curve)
    flops, accuracy = front["flops"].to_numpy(), front["accuracy"].to_numpy()
    index = np.searchsorted(accuracy, np.asarray(levels, dtype=float), side="left")
    return np.where(index < len(flops), flops[np.minimum(index, len(flops) - 1)], np.nan)


def flops_saving(results: pd.DataFrame, points: int = 50, confidence: float = 0.95) -> pd.DataFrame:
    """FLOPs all at once saves over ordered at equal accuracy (the paper's "up to 15 %").

    For each target sparsity, accuracy levels are ``points`` values evenly spaced over the range
    every run reaches; at each level each strategy's frontier needs some mean FLOPs per sample.
    Saving = 1 − FLOPs(all at once) / FLOPs(ordered), a fraction (0.15 = 15 % fewer FLOPs).

    Columns: ``sparsity``, ``accuracy`` (the level, a fraction), ``mean``, ``low``, ``high``
    (saving over seeds with its interval), ``seeds``.
    """
    rows = []
    for target, low, high, pairs in _paired_runs(results, "accuracy"):
        levels = np.linspace(low, high, points)
        for seed, one, two in pairs:
            saving = 1 - _flops_to_reach(one, levels) / _flops_to_reach(two, levels)
            rows.append(
                pd.DataFrame(
                    {"sparsity": target, "seed": seed, "accuracy": levels, "saving": saving}
                )
            )
    return _summary(pd.concat(rows), ["sparsity", "accuracy"], "saving", confidence)


def exit_accuracies(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy of each exit with every sample forced out there: mean and interval over seeds.

    Columns: ``strategy``, ``sparsity``, ``exit`` (1..K), ``mean``, ``low``, ``high`` (fractions),
    ``seeds``.
    """
    exits = range(1, num_exits(results) + 1)
    table = runs(results)[[*RUN, *(exit_accuracy_column(k) for k in exits)]]
    table = table.rename(columns={exit_accuracy_column(k): k for k in exits})
    long = table.melt(RUN, list(exits), var_name="exit", value_name="accuracy")
    return _summary(long, ["strategy", "sparsity", "exit"], "accuracy", confidence)


def part_sparsities(results: pd.DataFrame) -> pd.DataFrame:
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


def _verdict(low: float, high: float, holds: bool, fails: bool) -> str:
    if np.isnan(low) or np.isnan(high):
        return "undecided"
    return "holds" if holds else "does not hold" if fails else "undecided"


def verdicts(
    results: pd.DataFrame, points: int = 50, margin: float = 1.0, confidence: float = 0.95
) -> pd.DataFrame:
    """A verdict on each of the paper's three claims, with the numbers behind it.

    Each claim gets one number per seed (averaged over target sparsities), then a mean and a
    ``confidence`` Student-t interval over seeds (:func:`interval`):

    - **A**, all at once is better in general: the frontier gap (all at once − ordered, accuracy
      points) averaged over the shared FLOPs grid. Holds if the interval is above 0, does not
      hold if below 0, else undecided. ``detail`` adds the largest mean FLOPs saving at equal
      accuracy (:func:`flops_saving`).
    - **B**, alike at high accuracy: the gap averaged over the budgets where either frontier
      reaches the fine-tuned dense final exit's accuracy − ``margin`` points. Holds if the
      interval lies inside ±``margin`` points, does not hold if it lies wholly outside, else
      undecided (also when no run reaches that accuracy).
    - **C**, all at once is better at the early exits, ordered at the deep ones: per-exit
      accuracy gaps with every sample forced out, the mean over exits 1..⌊K/2⌋ (early) and at
      the final exit K (deep). Holds if the early interval is above 0 and the deep one below 0;
      does not hold if the early one is below 0 or the deep one above 0; else undecided.

    Returns:
        One row per claim: ``claim``, ``statement``, ``mean``, ``low``, ``high`` (points; for C the
        early exits' numbers), ``verdict`` (one of :data:`VERDICTS`) and ``detail`` (text with the
        other numbers).
    """
    K = num_exits(results)
    gaps = frontier_gaps(results, points)
    per_seed_a = gaps.groupby(["seed", "sparsity"])["gap"].mean().groupby("seed").mean()
    a = interval(per_seed_a, confidence)
    saving = flops_saving(results, points, confidence)
    best = saving.loc[saving["mean"].idxmax()] if saving["mean"].notna().any() else None
    a_detail = (
        f"largest mean FLOPs saving at equal accuracy {100 * best['mean']:.1f} % (at "
        f"{100 * best['accuracy']:.1f} % accuracy, sparsity {best['sparsity']:g})"
        if best is not None
        else "no accuracy both strategies reach"
    )

    bar = dense_reference(results) - margin / 100
    gaps["bar"] = gaps["seed"].map(bar)
    high = gaps[(gaps[list(STRATEGIES)].max(axis=1) >= gaps["bar"])]
    per_seed_b = high.groupby(["seed", "sparsity"])["gap"].mean().groupby("seed").mean()
    b = interval(per_seed_b, confidence)

    exit_gap = exit_gaps(results)
    early_ones = early_exits(K)
    early_gap = exit_gap[list(early_ones)].mean(axis=1)
    early = interval(early_gap.groupby("seed").mean(), confidence)
    deep = interval(exit_gap[K].groupby("seed").mean(), confidence)

    rows = [
        {
            "claim": "A",
            "statement": "all at once is better in general",
            "mean": a[0],
            "low": a[1],
            "high": a[2],
            "verdict": _verdict(a[1], a[2], a[1] > 0, a[2] < 0),
            "detail": f"mean frontier gap over the FLOPs grid; {a_detail}",
        },
        {
            "claim": "B",
            "statement": "the two are alike at high accuracy",
            "mean": b[0],
            "low": b[1],
            "high": b[2],
            "verdict": _verdict(
                b[1], b[2], -margin <= b[1] and b[2] <= margin, b[1] > margin or b[2] < -margin
            ),
            "detail": (
                f"gap where accuracy ≥ dense final exit − {margin:g} pt "
                f"(dense final exit {100 * dense_reference(results).mean():.1f} %); "
                f"{len(per_seed_b)} seeds reach it"
            ),
        },
        {
            "claim": "C",
            "statement": "all at once is better at early exits, ordered at deep ones",
            "mean": early[0],
            "low": early[1],
            "high": early[2],
            "verdict": _verdict(
                min(early[1], deep[1]),
                max(early[2], deep[2]),
                early[1] > 0 and deep[2] < 0,
                early[2] < 0 or deep[1] > 0,
            ),
            "detail": (
                f"exits 1–{early_ones[-1]}: {early[0]:+.1f} pt [{early[1]:+.1f}, {early[2]:+.1f}]; "
                f"final exit {K}: {deep[0]:+.1f} pt [{deep[1]:+.1f}, {deep[2]:+.1f}]"
            ),
        },
    ]
    return pd.DataFrame(rows)

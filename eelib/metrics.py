"""Comparing the strategies' trade-off curves (the book's chapter 5).

On a shared FLOPs grid, each curve's Pareto frontier gives the best accuracy within that budget;
the strategy difference is all-at-once minus ordered, per budget, with a 95 % interval over seeds
(``scipy.stats``). :func:`verdicts` turns the numbers into a verdict on each of the paper's three
claims (Görmez & Koyuncu, 2022, §4), and :func:`robustness` tells which verdicts survive other
defensible readings. Every function reads the results table of :mod:`eelib.results`.

The headline analysis (:data:`HEADLINE`) was fixed before the full run: budgets evenly spaced on
a linear FLOPs grid (the paper's axes), curves swept on the test set (as the paper does), target
sparsities up to 95 % (a 98 % target is a stress test, reported on its own), 95 % Student-t
intervals over seeds, claim B's margin 1 accuracy point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .early_exit import pareto_frontier
from .results import (
    RUN,
    STRATEGIES,
    collapsed_layers,
    early_exits,
    exit_accuracy_column,
    exit_gaps,
    num_exits,
    part_column,
    parts,
    runs,
)

GRIDS = ("linear", "log")
CHOICES = ("test", "validation")
HEADLINE_MAX_SPARSITY = 0.95
"""Targets above this are stress tests: reported on their own, outside the headline verdicts."""
HEADLINE = {
    "grid": "linear",
    "choose": "test",
    "stress": False,
    "confidence": 0.95,
    "margin": 1.0,
    "b_measure": "accuracy",
}
"""The pre-registered headline analysis (see the module's description)."""
FLOPS_MARGIN = 10.0
"""Claim B read as FLOPs at equal accuracy: "alike" means within ±10 % of the FLOPs."""


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
    return pd.DataFrame(rows, columns=[*by, "mean", "low", "high", "seeds"])


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


def frontier_gaps(
    results: pd.DataFrame, points: int = 50, grid: str = "linear", choose: str = "test"
) -> pd.DataFrame:
    """Each strategy's best accuracy within each budget of a shared FLOPs grid, per seed.

    For each target sparsity the grid is ``points`` budgets evenly spaced over the FLOPs range
    every run at that sparsity covers (both strategies, all seeds), so seeds can be averaged per
    budget. ``grid="linear"`` spaces them evenly in FLOPs, as the paper's axes do (the headline);
    ``"log"`` evenly in log FLOPs, which weighs the cheap end, where an early-exit network's
    operating points crowd, more. ``choose`` as in :func:`best_accuracy_within`.

    Columns: ``sparsity``, ``seed``, ``budget`` (mean FLOPs per sample), ``all-at-once`` and
    ``ordered`` (best accuracy, fractions) and ``gap`` (all at once − ordered, accuracy points).

    Raises:
        ValueError: an unknown grid or choice.
    """
    if grid not in GRIDS:
        raise ValueError(f"grid is one of {', '.join(GRIDS)}, got {grid!r}")
    spaced = np.linspace if grid == "linear" else np.geomspace
    column = "flops" if choose == "test" else "val_flops"
    rows = []
    for target, low, high, pairs in _paired_runs(results, column):
        budgets = spaced(low, high, points)
        for seed, one, two in pairs:
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
    return pd.concat(rows, ignore_index=True)


def gap_by_budget(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95, grid: str = "linear"
) -> pd.DataFrame:
    """All at once − ordered per budget: mean and ``confidence`` interval over seeds (points).

    Columns: ``sparsity``, ``budget`` (FLOPs), ``mean``, ``low``, ``high``, ``seeds``.
    """
    gaps = frontier_gaps(results, points, grid)
    return _summary(gaps, ["sparsity", "budget"], "gap", confidence)


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
    return _summary(long, ["strategy", "sparsity", "budget"], "accuracy", confidence)


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


def flops_savings(
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
    for target, low, high, pairs in _paired_runs(results, column):
        levels = np.linspace(low, high, points)
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
    """:func:`flops_savings` with a mean and ``confidence`` interval over seeds per level.

    Columns: ``sparsity``, ``accuracy`` (the level, a fraction), ``mean``, ``low``, ``high``
    (saving, a fraction), ``seeds``. To keep collapsed networks out, pass
    ``select(results, exclude_collapsed=True)``.
    """
    savings = flops_savings(results, points, choose)
    return _summary(savings, ["sparsity", "accuracy"], "saving", confidence)


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


def _per_seed(frame: pd.DataFrame, column: str) -> pd.Series:
    """Mean over budgets per (seed, sparsity), then over sparsities per seed."""
    return frame.groupby(["seed", "sparsity"])[column].mean().groupby("seed").mean()


def verdicts(
    results: pd.DataFrame,
    points: int = 50,
    margin: float = 1.0,
    confidence: float = 0.95,
    grid: str = "linear",
    choose: str = "test",
    stress: bool = False,
    b_measure: str = "accuracy",
) -> pd.DataFrame:
    """A verdict on each of the paper's three claims, with the numbers behind it.

    Each claim gets one number per seed (averaged over the target sparsities used), then a mean
    and a ``confidence`` Student-t interval over seeds (:func:`interval`). The defaults are the
    headline analysis (:data:`HEADLINE`).

    - **A**, all at once is better in general: the frontier gap (all at once − ordered, accuracy
      points) averaged over the shared FLOPs grid (:func:`frontier_gaps` with ``grid`` and
      ``choose``). Holds if the interval is above 0, does not hold if below 0, else undecided.
      ``detail`` adds the largest mean FLOPs saving at equal accuracy among networks with no
      collapsed layer (:func:`flops_saving`).
    - **B**, alike at high accuracy, where either frontier reaches the fine-tuned dense final
      exit's accuracy − ``margin`` points. ``b_measure="accuracy"``: the gap averaged over those
      budgets; holds if its interval lies inside ±``margin`` points, does not hold if wholly
      outside. ``"flops"``: the FLOPs saving at equal accuracy over those accuracy levels, in
      percent; holds inside ±:data:`FLOPS_MARGIN` %, does not hold wholly outside. Undecided
      otherwise, and when no run reaches that accuracy.
    - **C**, all at once is better at the early exits, ordered at the deep ones: per-exit
      accuracy gaps with every sample forced out, the mean over exits 1..⌊K/2⌋ (early,
      :func:`eelib.results.early_exits`) and at the final exit K (deep; the paper: ordered is
      better at exit 7). Holds if the early interval is above 0 and the deep one below 0; does
      not hold if the early one is below 0 or the deep one above 0; else undecided.

    Args:
        stress: include targets above :data:`HEADLINE_MAX_SPARSITY` (the stress test).
        Others: as in :func:`frontier_gaps` and :func:`interval`.

    Returns:
        One row per claim: ``claim``, ``statement``, ``mean``, ``low``, ``high`` (points; for B
        as FLOPs, percent; for C the early exits' numbers), ``verdict`` (one of
        :data:`VERDICTS`) and ``detail`` (text with the other numbers).

    Raises:
        ValueError: an unknown grid, choice or B measure, or a confidence outside (0, 1).
    """
    if b_measure not in ("accuracy", "flops"):
        raise ValueError(f"b_measure is 'accuracy' or 'flops', got {b_measure!r}")
    results = select(results, stress=stress)
    K = num_exits(results)
    gaps = frontier_gaps(results, points, grid, choose)
    a = interval(_per_seed(gaps, "gap"), confidence)
    saving = flops_saving(select(results, exclude_collapsed=True), points, confidence, choose)
    best = saving.loc[saving["mean"].idxmax()] if saving["mean"].notna().any() else None
    a_detail = (
        f"largest mean FLOPs saving at equal accuracy, no collapsed layer: "
        f"{100 * best['mean']:.1f} % [{100 * best['low']:.1f}, {100 * best['high']:.1f}] (at "
        f"{100 * best['accuracy']:.1f} % accuracy, sparsity {best['sparsity']:g})"
        if best is not None
        else "no accuracy both strategies reach without a collapsed layer"
    )

    bar = dense_reference(results) - margin / 100
    if b_measure == "accuracy":
        gaps["bar"] = gaps["seed"].map(bar)
        high = gaps[(gaps[list(STRATEGIES)].max(axis=1) >= gaps["bar"])]
        per_seed_b, b_margin, unit = _per_seed(high, "gap"), margin, "pt"
    else:
        high = flops_savings(results, points, choose, floor=bar).dropna(subset=["saving"])
        per_seed_b = 100 * _per_seed(high, "saving")
        b_margin, unit = FLOPS_MARGIN, "% FLOPs"
    b = interval(per_seed_b, confidence)

    exit_gap = exit_gaps(results)
    early_ones = early_exits(K)
    early = interval(exit_gap[list(early_ones)].mean(axis=1).groupby("seed").mean(), confidence)
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
                b[1],
                b[2],
                -b_margin <= b[1] and b[2] <= b_margin,
                b[1] > b_margin or b[2] < -b_margin,
            ),
            "detail": (
                f"{'gap' if b_measure == 'accuracy' else 'FLOPs saving'} where accuracy ≥ dense "
                f"final exit − {margin:g} pt (dense final exit "
                f"{100 * dense_reference(results).mean():.1f} %), alike within ±{b_margin:g} "
                f"{unit}; {len(per_seed_b)} seeds reach it"
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


def verdicts_by_target(results: pd.DataFrame, **analysis) -> pd.DataFrame:
    """:func:`verdicts` at each target sparsity on its own (the stress target included).

    Columns: ``sparsity`` and those of :func:`verdicts`; ``analysis`` as :func:`verdicts` takes.
    """
    tables = []
    for target in sorted(set(results.loc[results["strategy"] != "dense", "sparsity"])):
        one = results[(results["strategy"] == "dense") | (results["sparsity"] == target)]
        table = verdicts(one, **{**analysis, "stress": True})
        tables.append(table.assign(sparsity=target))
    table = pd.concat(tables, ignore_index=True)
    return table[["sparsity", *(c for c in table.columns if c != "sparsity")]]


ROBUSTNESS_CHOICES = (
    ("headline: linear grid, swept on test, 50–95 %, 95 % intervals, B within ±1 pt", {}),
    ("budget grid evenly spaced in log FLOPs", {"grid": "log"}),
    ("thresholds chosen on validation, reported on test", {"choose": "validation"}),
    ("with the stress target (98 %)", {"stress": True}),
    ("90 % intervals", {"confidence": 0.90}),
    ("B's margin 0.5 pt", {"margin": 0.5}),
    ("B's margin 2 pt", {"margin": 2.0}),
    (f"B as FLOPs at equal accuracy (alike within ±{FLOPS_MARGIN:g} %)", {"b_measure": "flops"}),
)
"""The defensible readings :func:`robustness` tries, each one change from :data:`HEADLINE`."""


def robustness(results: pd.DataFrame, points: int = 50) -> pd.DataFrame:
    """Each claim's verdict under each defensible analysis choice (:data:`ROBUSTNESS_CHOICES`).

    Each row changes one choice of the headline analysis (:data:`HEADLINE`, the first row) and
    recomputes :func:`verdicts`; a claim whose verdict is the same in every row does not hang on a
    choice. A stress-target row is left out when the results have no target above
    :data:`HEADLINE_MAX_SPARSITY`.

    Returns:
        One row per choice: ``choice``, ``headline`` (True for the first row), then per claim X
        ``X`` (the verdict) and ``X numbers`` (``mean [low, high]``).
    """
    stressed = (results["sparsity"] > HEADLINE_MAX_SPARSITY + 1e-9).any()
    rows = []
    for label, change in ROBUSTNESS_CHOICES:
        if change.get("stress") and not stressed:
            continue
        table = verdicts(results, points, **{**HEADLINE, **change}).set_index("claim")
        row = {"choice": label, "headline": not change}
        for claim, r in table.iterrows():
            row[claim] = r["verdict"]
            row[f"{claim} numbers"] = f"{r['mean']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}]"
        rows.append(row)
    return pd.DataFrame(rows)

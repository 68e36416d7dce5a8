"""Comparing the strategies' trade-off curves (COURSE_DESIGN §3, "Comparing strategies").

On a shared FLOPs grid, each curve's Pareto frontier gives the best accuracy within that budget;
the strategy difference is all-at-once minus ordered, per budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .early_exit import pareto_frontier
from .experiment import num_exits


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
    """All at once minus ordered, per (sparsity, seed), from :func:`eelib.run_experiment` results.

    Columns: ``budget_low`` and ``budget_high`` (the FLOPs range both curves cover), ``mean_gap``
    and ``max_gap`` / ``min_gap`` (accuracy differences in points over ``points`` budgets evenly
    spread on that range), and ``exit_k_gap`` (per-exit accuracy difference in points, every sample
    forced out at exit k).
    """
    K = num_exits(results)
    rows = []
    for (target, seed), group in results[results["strategy"] != "dense"].groupby(
        ["sparsity", "seed"]
    ):
        one, two = (group[group["strategy"] == s] for s in ("all-at-once", "ordered"))
        low = max(one["flops"].min(), two["flops"].min())
        high = min(one["flops"].max(), two["flops"].max())
        budgets = np.linspace(low, high, points)
        gap = 100 * (best_accuracy_within(one, budgets) - best_accuracy_within(two, budgets))
        row = {
            "sparsity": target,
            "seed": seed,
            "budget_low": low,
            "budget_high": high,
            "mean_gap": np.nanmean(gap),
            "min_gap": np.nanmin(gap),
            "max_gap": np.nanmax(gap),
        }
        for k in range(1, K + 1):
            column = f"exit_{k}_accuracy"
            row[f"exit_{k}_gap"] = 100 * (one[column].iloc[0] - two[column].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)

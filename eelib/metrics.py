"""The first analysis of the three claims, as chapter 5 reads it today (the book's chapter 5).

The claims as a referee tests them — on regions fixed before looking, B as the paper's
contrast, C split into its early and deep halves, with a correction for testing several claims —
live in :mod:`eelib.claims` and :mod:`eelib.robustness` (``python -m eelib report``); the
frontiers and gaps this module reads are :mod:`eelib.frontiers`', the statistics
:mod:`eelib.stats`'. This module keeps the earlier readings until chapter 5 moves to those.

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

from .frontiers import (
    CHOICES,
    EXTENTS,
    GRIDS,
    HEADLINE_MAX_SPARSITY,
    PAIRINGS,
    best_accuracy_within,
    budget_range,
    compare_strategies,
    dense_reference,
    exit_accuracies,
    flops_saving,
    flops_savings,
    frontier_bands,
    frontier_gaps,
    gap_by_budget,
    operating_points,
    part_sparsities,
    select,
)
from .frontiers import per_seed as _per_seed
from .results import (
    STRATEGIES,
    collapsed_layers,
    early_exits,
    exit_gaps,
    num_exits,
)
from .stats import VERDICTS, equivalence, interval
from .stats import summarise as _summary

__all__ = [
    "CHOICES",
    "EXTENTS",
    "GRIDS",
    "HEADLINE_MAX_SPARSITY",
    "PAIRINGS",
    "VERDICTS",
    "best_accuracy_within",
    "budget_range",
    "compare_strategies",
    "dense_reference",
    "equivalence",
    "exit_accuracies",
    "flops_saving",
    "flops_savings",
    "frontier_bands",
    "frontier_gaps",
    "gap_by_budget",
    "interval",
    "operating_points",
    "part_sparsities",
    "select",
]

HEADLINE = {
    "grid": "linear",
    "choose": "test",
    "extent": "covered",
    "pairing": "shared",
    "exclude_collapsed": False,
    "stress": False,
    "confidence": 0.95,
    "margin": 1.0,
    "b_measure": "accuracy",
}
"""The pre-registered headline analysis (see the module's description)."""
FLOPS_MARGIN = 10.0
"""Claim B read as FLOPs at equal accuracy, where "alike" means within ±10 % of the FLOPs."""


def _verdict(low: float, high: float, holds: bool, fails: bool) -> str:
    if np.isnan(low) or np.isnan(high):
        return "undecided"
    return "holds" if holds else "does not hold" if fails else "undecided"


def saving_summary(
    results: pd.DataFrame, points: int = 50, confidence: float = 0.95, choose: str = "test"
) -> dict:
    """The FLOPs saving of all at once at equal accuracy, summarised the way fixed beforehand.

    Only pairs of networks with no collapsed layer count (:func:`select`). Per seed, the saving
    (:func:`flops_savings`) is averaged over the accuracy levels every run at a target reaches,
    then over the targets; the summary is the mean over seeds with its ``confidence`` interval —
    a number fixed before looking, unlike the largest of many cells, which is reported beside
    it as what it is.

    Returns:
        ``mean``, ``low``, ``high`` (fractions: 0.15 = 15 % fewer FLOPs), ``seeds``, ``max`` (the
        largest mean saving of any (target, accuracy level) cell), ``max_accuracy`` and
        ``max_sparsity`` (where), ``cells`` (how many cells that maximum is taken over); NaN
        numbers and 0 counts when no intact pair of networks is left.
    """
    savings = flops_savings(select(results, exclude_collapsed=True), points, choose)
    savings = savings.dropna(subset=["saving"])
    mean, low, high = interval(_per_seed(savings, "saving"), confidence)
    cells = _summary(savings, ["sparsity", "accuracy"], "saving", confidence).dropna(
        subset=["mean"]
    )
    best = cells.loc[cells["mean"].idxmax()] if len(cells) else None
    return {
        "mean": mean,
        "low": low,
        "high": high,
        "seeds": int(savings["seed"].nunique()),
        "max": np.nan if best is None else float(best["mean"]),
        "max_accuracy": np.nan if best is None else float(best["accuracy"]),
        "max_sparsity": np.nan if best is None else float(best["sparsity"]),
        "cells": len(cells),
    }


def _early_and_deep_per_seed(results: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Claim C's two numbers per seed: the early exits' mean gap and the final exit's (points)."""
    K = num_exits(results)
    gaps = exit_gaps(results)
    early = gaps[list(early_exits(K))].mean(axis=1).groupby("seed").mean()
    return early, gaps[K].groupby("seed").mean()


def _early_and_deep(results: pd.DataFrame, confidence: float):
    """Claim C's two numbers: the early exits' mean gap and the final exit's, each ``interval``."""
    early, deep = _early_and_deep_per_seed(results)
    return interval(early, confidence), interval(deep, confidence)


def _claim_c_verdict(early, deep) -> str:
    return _verdict(
        min(early[1], deep[1]),
        max(early[2], deep[2]),
        early[1] > 0 and deep[2] < 0,
        early[2] < 0 or deep[1] > 0,
    )


def claim_values(
    results: pd.DataFrame,
    points: int = 50,
    margin: float = 1.0,
    grid: str = "linear",
    choose: str = "test",
    b_measure: str = "accuracy",
    extent: str = "covered",
    pairing: str = "shared",
) -> pd.DataFrame:
    """The number per seed that each claim is decided on (:func:`verdicts` gives the rules).

    Each is averaged over the target sparsities of ``results`` (select them first, e.g. with
    :func:`select`): ``A`` the frontier gap over the budget grid; ``B`` the gap where accuracy
    reaches the dense final exit − ``margin`` points (``b_measure="flops"``: the FLOPs saving
    there, percent; NaN for a seed that never reaches it); ``C early`` and ``C final`` the
    forced-exit gaps at exits 1..⌊K/2⌋ and at the final exit. Gaps are all at once − ordered,
    in accuracy points.

    Returns:
        One row per seed (index ``seed``), columns ``A``, ``B``, ``C early``, ``C final``.

    Raises:
        ValueError: an unknown grid, choice, extent, pairing or B measure.
    """
    if b_measure not in ("accuracy", "flops"):
        raise ValueError(f"b_measure is 'accuracy' or 'flops', got {b_measure!r}")
    gaps = frontier_gaps(results, points, grid, choose, extent, pairing)
    bar = dense_reference(results) - margin / 100
    if b_measure == "accuracy":
        gaps["bar"] = gaps["seed"].map(bar)
        high = gaps[(gaps[list(STRATEGIES)].max(axis=1) >= gaps["bar"])]
        b = _per_seed(high, "gap")
    else:
        high = flops_savings(results, points, choose, floor=bar).dropna(subset=["saving"])
        b = 100 * _per_seed(high, "saving")
    early, deep = _early_and_deep_per_seed(results)
    table = pd.DataFrame({"A": _per_seed(gaps, "gap"), "C early": early, "C final": deep})
    return table.assign(B=b)[["A", "B", "C early", "C final"]].rename_axis("seed")


def verdicts(
    results: pd.DataFrame,
    points: int = 50,
    margin: float = 1.0,
    confidence: float = 0.95,
    grid: str = "linear",
    choose: str = "test",
    stress: bool = False,
    b_measure: str = "accuracy",
    extent: str = "covered",
    pairing: str = "shared",
    exclude_collapsed: bool = False,
) -> pd.DataFrame:
    """A verdict on each of the paper's three claims, with the numbers behind it.

    Each claim gets one number per seed (averaged over the target sparsities used), then a mean
    and a ``confidence`` Student-t interval over seeds (:func:`interval`). The defaults are the
    headline analysis (:data:`HEADLINE`).

    - **A**, all at once is better in general: the frontier gap (all at once − ordered, accuracy
      points) averaged over the budget grid (:func:`frontier_gaps` with ``grid``, ``choose``,
      ``extent`` and ``pairing``). Holds if the interval is above 0, does not hold if below 0,
      else undecided. ``detail`` adds the FLOPs saving at equal accuracy
      (:func:`saving_summary`: its fixed summary, and the largest cell as a maximum over N).
    - **B**, alike at high accuracy, where either frontier reaches the fine-tuned dense final
      exit's accuracy − ``margin`` points: an equivalence test (:func:`equivalence`, two
      one-sided tests) at the margin, which is the course's choice (the paper gives none).
      ``b_measure="accuracy"``: the gap averaged over those budgets, alike within ±``margin``
      points; ``"flops"``: the FLOPs saving at equal accuracy over those accuracy levels, in
      percent, alike within ±:data:`FLOPS_MARGIN` %. Holds if equivalence is shown (the interval
      inside the margin), does not hold if the interval lies wholly outside it, else undecided
      (also when no run reaches that accuracy). ``detail`` gives the TOST p-value and the gap's
      sign.
    - **C**, all at once is better at the early exits, ordered at the deep ones: per-exit
      accuracy gaps with every sample forced out, the mean over exits 1..⌊K/2⌋ (early,
      :func:`eelib.results.early_exits`) and at the final exit K (deep; the paper: ordered is
      better at exit 7). Holds if the early interval is above 0 and the deep one below 0; does
      not hold if the early one is below 0 or the deep one above 0; else undecided.
      :func:`claim_c_by_target` gives it per target with each target's collapse count.

    Args:
        stress: include targets above :data:`HEADLINE_MAX_SPARSITY` (the stress test).
        exclude_collapsed: leave out every (target, seed) where a network has a collapsed layer
            (:func:`select`), for every claim.
        Others: as in :func:`frontier_gaps` and :func:`interval`.

    Returns:
        One row per claim: ``claim``, ``statement``, ``mean``, ``low``, ``high`` (points; for B
        as FLOPs, percent; for C the early exits' numbers), ``verdict`` (one of
        :data:`VERDICTS`) and ``detail`` (text with the other numbers).

    Raises:
        ValueError: an unknown grid, choice, extent, pairing or B measure, a margin ≤ 0, or a
            confidence outside (0, 1).
    """
    results = select(results, stress=stress, exclude_collapsed=exclude_collapsed)
    K = num_exits(results)
    per_seed = claim_values(results, points, margin, grid, choose, b_measure, extent, pairing)
    a = interval(per_seed["A"], confidence)
    saving = saving_summary(results, points, confidence, choose)
    a_detail = (
        f"FLOPs saving at equal accuracy, no collapsed layer, mean over accuracy levels: "
        f"{100 * saving['mean']:.1f} % [{100 * saving['low']:.1f}, {100 * saving['high']:.1f}]; "
        f"the largest of {saving['cells']} cells {100 * saving['max']:.1f} % (at "
        f"{100 * saving['max_accuracy']:.1f} % accuracy, sparsity {saving['max_sparsity']:g})"
        if saving["cells"]
        else "no accuracy both strategies reach without a collapsed layer"
    )

    per_seed_b = per_seed["B"].dropna()
    b_margin, unit = (margin, "pt") if b_measure == "accuracy" else (FLOPS_MARGIN, "% FLOPs")
    b = interval(per_seed_b, confidence)
    p_b = equivalence(per_seed_b, b_margin, confidence)
    ahead = "no seed reaches it" if np.isnan(b[0]) else "all at once" if b[0] > 0 else "ordered"
    early = interval(per_seed["C early"], confidence)
    deep = interval(per_seed["C final"], confidence)

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
                b[1], b[2], p_b < (1 - confidence) / 2, b[1] > b_margin or b[2] < -b_margin
            ),
            "detail": (
                f"{'gap' if b_measure == 'accuracy' else 'FLOPs saving'} where accuracy ≥ dense "
                f"final exit − {margin:g} pt (dense final exit "
                f"{100 * dense_reference(results).mean():.1f} %), alike within ±{b_margin:g} "
                f"{unit} (two one-sided tests, p = {p_b:.3f}); ahead on average: {ahead}; "
                f"{len(per_seed_b)} seeds reach it"
            ),
        },
        {
            "claim": "C",
            "statement": "all at once is better at early exits, ordered at deep ones",
            "mean": early[0],
            "low": early[1],
            "high": early[2],
            "verdict": _claim_c_verdict(early, deep),
            "detail": (
                f"exits 1–{early_exits(K)[-1]}: {early[0]:+.1f} pt [{early[1]:+.1f}, "
                f"{early[2]:+.1f}]; final exit {K}: {deep[0]:+.1f} pt [{deep[1]:+.1f}, "
                f"{deep[2]:+.1f}]"
            ),
        },
    ]
    return pd.DataFrame(rows)


def _targets(results: pd.DataFrame) -> list[float]:
    """The target sparsities of the pruned runs, in order."""
    return sorted(set(results.loc[results["strategy"] != "dense", "sparsity"]))


def _at(results: pd.DataFrame, target: float) -> pd.DataFrame:
    """The dense runs and the runs at one target."""
    return _on_targets(results, [round(target, 6)])


def verdicts_by_target(results: pd.DataFrame, **analysis) -> pd.DataFrame:
    """:func:`verdicts` at each target sparsity on its own (the stress target included).

    Columns: ``sparsity`` and those of :func:`verdicts`; ``analysis`` as :func:`verdicts` takes.
    """
    tables = [
        verdicts(_at(results, target), **{**analysis, "stress": True}).assign(sparsity=target)
        for target in _targets(results)
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["sparsity", *(c for c in table.columns if c != "sparsity")]]


def claim_c_by_target(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Claim C at each target on its own, with how many seeds' networks collapsed there.

    Columns: ``sparsity``; ``early``, ``early_low``, ``early_high`` (all at once − ordered over
    exits 1..⌊K/2⌋, points) and ``final``, ``final_low``, ``final_high`` (the final exit);
    ``verdict`` (claim C's rule, :func:`verdicts`); ``seeds``; ``collapsed all-at-once`` and
    ``collapsed ordered`` (seeds whose network at that target has a layer ≥ 99 % sparse).
    """
    broken = collapsed_layers(results)
    rows = []
    for target in _targets(results):
        early, deep = _early_and_deep(_at(results, target), confidence)
        row = {"sparsity": target, "early": early[0], "early_low": early[1]}
        row |= {"early_high": early[2], "final": deep[0], "final_low": deep[1]}
        row |= {"final_high": deep[2], "verdict": _claim_c_verdict(early, deep)}
        row["seeds"] = int(exit_gaps(_at(results, target)).index.size)
        for strategy in STRATEGIES:
            hit = broken[(broken["strategy"] == strategy) & (broken["sparsity"] == target)]
            row[f"collapsed {strategy}"] = int(hit["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


FIRST = "budget grid ends where the first frontier stops rising"
"""The label of the robustness readings whose budget grid ends at the first frontier's top."""
ROBUSTNESS_CHOICES = (
    ("headline: linear grid, covered range, swept on test, targets ≤ 95 %, 95 % intervals", {}),
    (FIRST, {"extent": "first-top"}),
    ("budget grid ends where the last frontier stops rising", {"extent": "last-top"}),
    ("each seed's pair of runs on its own budget range", {"pairing": "pair"}),
    ("budget grid evenly spaced in log FLOPs", {"grid": "log"}),
    ("thresholds chosen on validation, reported on test", {"choose": "validation"}),
    ("collapsed networks excluded", {"exclude_collapsed": True}),
    ("with the stress target (98 %)", {"stress": True}),
    ("90 % intervals", {"confidence": 0.90}),
    ("B's margin 0.5 pt", {"margin": 0.5}),
    ("B's margin 2 pt", {"margin": 2.0}),
    (f"B as FLOPs at equal accuracy (alike within ±{FLOPS_MARGIN:g} %)", {"b_measure": "flops"}),
    (f"{FIRST}, each pair on its own range", {"extent": "first-top", "pairing": "pair"}),
    (f"{FIRST}, log FLOPs", {"extent": "first-top", "grid": "log"}),
    (f"{FIRST}, chosen on validation", {"extent": "first-top", "choose": "validation"}),
    (f"{FIRST}, B's margin 2 pt", {"extent": "first-top", "margin": 2.0}),
    ("collapsed networks excluded, log FLOPs", {"exclude_collapsed": True, "grid": "log"}),
)
"""The analysis choices :func:`robustness` tries: each one change from :data:`HEADLINE`, then
pairs of choices that interact (where the grid ends with how it is spaced, paired or chosen, and
with B's margin; collapsed networks with the grid's spacing). Each target on its own, with and
without collapsed networks, and protocol variants are added by :func:`robustness`."""


def _row(
    results: pd.DataFrame, points: int, label: str, kind: str, analysis: dict, reference: str
) -> dict:
    table = verdicts(results, points, **analysis).set_index("claim")
    row = {"choice": label, "kind": kind, "headline": kind == "headline", "reference": reference}
    for claim, r in table.iterrows():
        row[claim] = r["verdict"]
        numbers = f"{r['mean']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}]"
        row[f"{claim} numbers"] = r["detail"] if claim == "C" else numbers
        row[f"{claim} mean"] = r["mean"]
    return row


def _headline_targets(results: pd.DataFrame) -> list[float]:
    """The target sparsities the headline verdicts average over (≤ 95 %), rounded to 6 places."""
    return [round(t, 6) for t in _targets(results) if t <= HEADLINE_MAX_SPARSITY + 1e-9]


def _on_targets(results: pd.DataFrame, targets: list[float], seeds=None) -> pd.DataFrame:
    """The dense runs and the runs at ``targets`` (of ``seeds`` only, when given)."""
    at = results["sparsity"].round(6).isin(targets)
    rows = results[(results["strategy"] == "dense") | at]
    return rows if seeds is None else rows[rows["seed"].isin(seeds)]


def _seeds(results: pd.DataFrame) -> list[int]:
    return sorted(int(seed) for seed in results["seed"].unique())


def protocol_seeds(results: pd.DataFrame, other: pd.DataFrame) -> list[int]:
    """The seeds a protocol variant's run shares with the headline run (all the headline run's
    when they share none): both are compared on these, so that a variant run on 3 of 5 seeds is
    not read against intervals over seeds it never ran."""
    return sorted(set(_seeds(results)) & set(_seeds(other))) or _seeds(results)


def protocol_targets(results: pd.DataFrame, other: pd.DataFrame) -> list[float]:
    """The headline targets (≤ 95 %) a protocol variant's run shares with the headline run.

    A variant run at fewer targets (a longer schedule to 90 % only, say) is compared with the
    headline run at those targets only, so that a changed verdict comes from the protocol and
    not from averaging over other targets.

    Raises:
        ValueError: the two runs share no target sparsity ≤ 95 %.
    """
    common = sorted(set(_headline_targets(results)) & set(_headline_targets(other)))
    if not common:
        raise ValueError(
            f"the protocol variant's targets {_targets(other)} share none ≤ 95 % with the "
            f"headline run's {_targets(results)}: compare runs with a target in common"
        )
    return common


def compare_protocol(
    results: pd.DataFrame, other: pd.DataFrame, points: int = 50, **analysis
) -> pd.DataFrame:
    """Each claim's verdict under the headline protocol and under a variant, on shared targets
    and seeds, and how far the variant moves each claim's number.

    Both runs are read with the same analysis (:data:`HEADLINE`, changed by ``analysis``: the
    keyword arguments of :func:`verdicts`) at the targets (:func:`protocol_targets`) and on the
    seeds (:func:`protocol_seeds`) they share, so the two columns differ by the protocol alone.
    The shift pairs the runs by seed (same data split and initial weights): variant − headline
    of each claim's per-seed number (:func:`claim_values`; for C the early exits' gap), with its
    interval over the seeds. Where that interval spans 0, the paired seeds cannot tell whether the
    protocol moves the number, even where the two verdicts differ.

    Returns:
        One row per claim: ``claim``, ``targets`` and ``seeds`` (the shared ones, as text:
        "90%", "0, 1, 2"), ``headline protocol`` and ``variant`` (verdicts), ``headline mean``,
        ``variant mean`` (points; for C the early exits' gap), ``headline numbers``,
        ``variant numbers`` (``mean [low, high]``; for C the early exits' and the final exit's),
        ``shift``, ``shift low``, ``shift high`` (points; B as FLOPs, percent; NaN bounds
        from one shared seed) and ``shift numbers`` (``mean [low, high]``).

    Raises:
        ValueError: no shared target, or an analysis :func:`verdicts` rejects.
    """
    common, seeds = protocol_targets(results, other), protocol_seeds(results, other)
    settings = {**HEADLINE, **analysis}
    keys = ("margin", "grid", "choose", "b_measure", "extent", "pairing")
    rows, values = {}, {}
    for name, run in (("headline", results), ("variant", other)):
        run = _on_targets(run, common, seeds)
        rows[name] = _row(run, points, name, "", settings, "")
        run = select(
            run, stress=settings["stress"], exclude_collapsed=settings["exclude_collapsed"]
        )
        values[name] = claim_values(run, points, **{key: settings[key] for key in keys})
    shift = values["variant"] - values["headline"]  # paired by seed
    table = []
    for claim, column in (("A", "A"), ("B", "B"), ("C", "C early")):
        mean, low, high = interval(shift[column], settings["confidence"])
        table.append(
            {
                "claim": claim,
                "targets": _percents(common),
                "seeds": _text(seeds),
                "headline protocol": rows["headline"][claim],
                "variant": rows["variant"][claim],
                "headline mean": rows["headline"][f"{claim} mean"],
                "variant mean": rows["variant"][f"{claim} mean"],
                "headline numbers": rows["headline"][f"{claim} numbers"],
                "variant numbers": rows["variant"][f"{claim} numbers"],
                "shift": mean,
                "shift low": low,
                "shift high": high,
                "shift numbers": f"{mean:+.1f} "
                + (
                    f"[{low:+.1f}, {high:+.1f}]" if not np.isnan(low) else "(one seed: no interval)"
                ),
            }
        )
    return pd.DataFrame(table)


def _reference(results: pd.DataFrame, targets: list[float], seeds: list[int]) -> str:
    """The label of the headline-protocol row a protocol variant is read against."""
    at = _percents(targets)
    every_seed = seeds == _seeds(results)
    if targets == _headline_targets(results) and every_seed:
        return ROBUSTNESS_CHOICES[0][0]
    if len(targets) == 1 and every_seed:
        return f"only the {targets[0]:.0%} target"
    return f"the headline run at {at}" + ("" if every_seed else f", seeds {_text(seeds)}")


def _text(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds))


def _percents(targets: list[float]) -> str:
    return ", ".join(f"{t:.0%}" for t in targets)


def robustness(
    results: pd.DataFrame, points: int = 50, protocols: dict | None = None, **headline
) -> pd.DataFrame:
    """Each claim's verdict under every analysis choice the course makes, and other protocols.

    Rows, each recomputing :func:`verdicts`: the headline analysis (:data:`HEADLINE`, the first
    row); each choice and pair of choices of :data:`ROBUSTNESS_CHOICES`; each target sparsity on
    its own (and again with collapsed networks excluded, where a network collapsed); and, for
    each ``protocols`` entry, the headline analysis of another run's results (an ablation of the
    protocol, e.g. heads trained to convergence). A stress-target row is left out when the
    results have no target above :data:`HEADLINE_MAX_SPARSITY`. :func:`robustness_summary` says
    which rows change a verdict.

    A protocol row is read against the headline protocol at the same targets and on the same
    seeds, its ``reference`` row: the headline row when the variant ran at every headline
    target with every seed, else the headline run at the targets (:func:`protocol_targets`) and
    on the seeds (:func:`protocol_seeds`) they share (for one target with every seed, that
    target's own row).

    Args:
        results: the headline run's results table.
        points: budgets per grid.
        protocols: label → results table of a protocol variant (same analysis).
        headline: changes to :data:`HEADLINE` for every row, e.g. ``margin=2.0`` (a chapter's
            own ``TARGET_DROP``); the keyword arguments of :func:`verdicts`.

    Returns:
        One row per reading: ``choice`` (its label), ``kind`` (``"headline"``, ``"one
        change"``, ``"two changes"``, ``"one target"``, ``"subset"`` (the headline run at a
        protocol variant's targets and seeds) or ``"protocol"``), ``headline`` (True for the
        first row), ``reference`` (the ``choice`` of the row it is read against), then per
        claim X ``X``
        (the verdict), ``X numbers`` (``mean [low, high]``; for C the early exits' and the
        final exit's) and ``X mean`` (NaN where the reading leaves no data, e.g. no intact pair
        of networks).

    Raises:
        ValueError: a protocol variant shares no target ≤ 95 % with ``results``, or an
            analysis :func:`verdicts` rejects.
    """
    base = {**HEADLINE, **headline}
    stressed = (results["sparsity"] > HEADLINE_MAX_SPARSITY + 1e-9).any()
    first = ROBUSTNESS_CHOICES[0][0]
    rows = []
    for label, change in ROBUSTNESS_CHOICES:
        if change.get("stress") and not stressed:
            continue
        kind = "headline" if not change else "one change" if len(change) == 1 else "two changes"
        rows.append(_row(results, points, label, kind, {**base, **change}, first))
    broken = set(collapsed_layers(results)["sparsity"])
    for target in _targets(results):
        for excluded in (False, True) if target in broken else (False,):
            label = f"only the {target:.0%} target" + (", collapsed excluded" if excluded else "")
            change = {**base, "stress": True, "exclude_collapsed": excluded}
            rows.append(_row(_at(results, target), points, label, "one target", change, first))
    for label, other in (protocols or {}).items():
        common, seeds = protocol_targets(results, other), protocol_seeds(results, other)
        reference = _reference(results, common, seeds)
        if reference not in [row["choice"] for row in rows]:
            subset = _on_targets(results, common, seeds)
            rows.append(_row(subset, points, reference, "subset", base, first))
        at = []
        if common != _headline_targets(results):
            at.append(_percents(common))
        if seeds != _seeds(other):
            at.append(f"seeds {_text(seeds)}")
        name = f"protocol: {label}" + (f" (at {'; '.join(at)})" if at else "")
        variant = _on_targets(other, common, seeds)
        rows.append(_row(variant, points, name, "protocol", base, reference))
    return pd.DataFrame(rows)


def robustness_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per claim, whether its headline verdict is the same under every reading of
    :func:`robustness`, and if not, which readings change it and to what.

    Each reading is compared with its ``reference`` row: the headline row, except a protocol
    variant run at fewer targets or seeds, which is compared with the headline run at those
    targets and seeds (so a change it lists comes from the protocol). A reading that leaves the claim no data (no intact
    pair of networks at a target, say), or whose reference has none, cannot change a verdict; it
    is listed apart.

    Returns:
        One row per claim: ``claim``, ``headline`` (its headline verdict), ``steady`` (True when
        every reading with data agrees with its reference), ``changed`` (how many differ),
        ``changes`` (a list of ``(choice, verdict)`` of those readings, in table order),
        ``tested`` (readings with data) and ``no data`` (the choices that leave none).
    """
    headline = table[table["headline"]].iloc[0]
    by_choice = table.set_index("choice")
    rows = []
    for claim in ("A", "B", "C"):
        has_data = table[f"{claim} mean"].notna()
        has_data &= table["reference"].map(by_choice[f"{claim} mean"]).notna()
        tested = table[has_data]
        expected = tested["reference"].map(by_choice[claim])
        differ = tested[tested[claim] != expected]
        changes = list(zip(differ["choice"], differ[claim]))
        rows.append(
            {
                "claim": claim,
                "headline": headline[claim],
                "steady": not changes,
                "changed": len(changes),
                "changes": changes,
                "tested": len(tested),
                "no data": list(table.loc[~has_data, "choice"]),
            }
        )
    return pd.DataFrame(rows)

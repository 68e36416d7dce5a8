"""The paper's conclusions as claims with three outcomes, tested on regions fixed before looking
(the book's chapter 5).

Görmez & Koyuncu (2022) conclude that pruning the whole early-exit network at once is "a better
strategy in general" and that "at high accuracy rates, the two approaches have similar
performance"; the first author's poster adds that all at once is better at the early exits and
ordered at the deep ones (exit 7). The course's pre-registered analysis (:data:`HEADLINE`, fixed
before the full run was read) turns them into six claims, :data:`CLAIMS`, each decided on one
number per seed with a Student-t interval over seeds (:mod:`eelib.stats`):

- **A** — all at once leads *where the frontiers still rise*: the frontier gap (all at once −
  ordered, accuracy points) averaged over a budget grid that ends where the first frontier
  reaches its top accuracy. Past that point a frontier is flat, and a gap there only repeats the
  difference of the two networks' top accuracies.
- **B contrast** — the paper's "alike at high accuracy" read as the contrast it draws: on the
  budget grid over the range every curve covers, the *high-accuracy region* is the budgets where
  either frontier reaches the fine-tuned dense final exit − ``high_drop`` points; the rest is the
  *low region*. Per seed and target, the low region's mean gap minus the high region's; it holds
  when that is above 0 (the gap shrinks where accuracy is high). The two regions are disjoint.
- **B accuracy** — the high region's gap itself, tested for equivalence within ±``margin``
  points (two one-sided tests; the margin is the course's choice, the paper gives none).
- **B FLOPs** — the same, in the paper's own unit: the FLOPs all at once saves at equal accuracy
  over the accuracy levels ≥ the bar, equivalent within ±``flops_margin`` %.
- **C early** — all at once is better at the early exits (1 … ⌊K/2⌋, every sample forced out).
- **C deep** — ordered is better at the final exit K (the poster's exit 7).

Every verdict is also given at the Bonferroni-corrected confidence for testing the six claims
together (:func:`eelib.stats.corrected`), beside the uncorrected one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import arguments
from .frontiers import (
    CHOICES,
    EXTENTS,
    GRIDS,
    HEADLINE_MAX_SPARSITY,
    PAIRINGS,
    dense_reference,
    flops_saving_per_seed,
    frontier_gaps,
    on_targets,
    per_seed,
    select,
    targets,
)
from .results import RUN, STRATEGIES, collapsed_layers, early_exits, exit_gaps, num_exits
from .stats import check_confidence, corrected, decide, equivalence, interval, interval_table


@dataclass(frozen=True)
class Claim:
    """One claim: its short name, what it says, where it comes from, how it is decided
    (:func:`eelib.stats.decide`'s ``test``) and the unit of its number."""

    name: str
    statement: str
    source: str
    test: str
    unit: str


CLAIMS = (
    Claim(
        "A",
        "all at once leads where the frontiers still rise",
        "the paper: pruning all at once is a better strategy in general",
        "positive",
        "points",
    ),
    Claim(
        "B contrast",
        "the gap is smaller at high accuracy than below it",
        "the paper: at high accuracy the two approaches have similar performance",
        "positive",
        "points",
    ),
    Claim(
        "B accuracy",
        "alike at high accuracy, in accuracy",
        "the paper's 'similar at high accuracy', within the course's margin",
        "equivalence",
        "points",
    ),
    Claim(
        "B FLOPs",
        "alike at high accuracy, in FLOPs at equal accuracy",
        "the paper's 'similar at high accuracy', in the paper's unit (FLOPs)",
        "equivalence",
        "% FLOPs",
    ),
    Claim(
        "C early",
        "all at once is better at the early exits",
        "the poster: all at once is better at the early exits",
        "positive",
        "points",
    ),
    Claim(
        "C deep",
        "ordered is better at the final exit",
        "the poster: ordered is better at the deep exits (exit 7 of 7)",
        "negative",
        "points",
    ),
)
"""The six claims, in the order every table lists them."""
NAMES = tuple(claim.name for claim in CLAIMS)


@dataclass(frozen=True)
class Analysis:
    """Every choice an analysis of a results table makes; :data:`HEADLINE` is the one fixed before
    looking, and each reading of :mod:`eelib.robustness` is ``HEADLINE.replace(...)``.

    Attributes:
        points: budgets (and accuracy levels) per grid.
        grid: ``"linear"`` (budgets evenly spaced in FLOPs, the paper's axes) or ``"log"``.
        choose: ``"test"`` (curves swept on test, as the paper does) or ``"validation"``
            (thresholds chosen on the validation split, reported on test).
        rising: where claim A's grid ends (:func:`eelib.frontiers.budget_range`):
            ``"first-top"`` (the headline), ``"last-top"`` or ``"covered"``.
        pairing: ``"shared"`` (one grid per target for every seed) or ``"pair"``.
        below_bar: claim A reads only the budgets of its grid where neither frontier reaches
            the high-accuracy bar, so that A and B accuracy share no budget (the headline:
            False, every budget where the frontiers rise; :func:`overlap` says how much they
            share).
        exclude_collapsed: leave out every (target, seed) where a network has a layer ≥ 99 %
            sparse.
        stress: keep targets above 95 % (stress tests, outside the headline).
        targets: only these target sparsities (fractions), or None for all.
        seeds: only these seeds, or None for all.
        confidence: of every interval, a fraction (0.95).
        high_drop: the high-accuracy bar, in points below the dense final exit (claim B's region).
        margin: claim B accuracy's equivalence margin, in points.
        flops_margin: claim B FLOPs' equivalence margin, in percent of FLOPs.

    Raises:
        ValueError: a choice that is not one of its options, or a bad number.
    """

    points: int = 50
    grid: str = "linear"
    choose: str = "test"
    rising: str = "first-top"
    pairing: str = "shared"
    below_bar: bool = False
    exclude_collapsed: bool = False
    stress: bool = False
    targets: tuple[float, ...] | None = None
    seeds: tuple[int, ...] | None = None
    confidence: float = 0.95
    high_drop: float = 1.0
    margin: float = 1.0
    flops_margin: float = 10.0

    def __post_init__(self):
        arguments.integer(self.points, "points", 2)
        arguments.choice(self.grid, "grid", GRIDS)
        arguments.choice(self.choose, "choose", CHOICES)
        arguments.choice(self.rising, "rising", EXTENTS)
        arguments.choice(self.pairing, "pairing", PAIRINGS)
        check_confidence(self.confidence)
        arguments.number(self.high_drop, "high_drop (accuracy points)", above=True)
        arguments.number(self.margin, "margin (accuracy points)", above=True)
        arguments.number(self.flops_margin, "flops_margin (percent)", above=True)
        for name in ("targets", "seeds"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))

    def replace(self, **changes) -> Analysis:
        """A copy with ``changes``; a name that is not a field raises ValueError."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            fields = ", ".join(f.name for f in dataclasses.fields(self))
            raise ValueError(f"no analysis setting {unknown[0]!r}; the settings are {fields}")
        return dataclasses.replace(self, **changes)

    def rows(self, results: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``results`` this analysis reads (targets, seeds, stress, collapse),
        without the run's metadata (pandas copies ``attrs`` at every step, which costs more
        than the analysis)."""
        keep = [c for c in results.columns if c in _READ or c.endswith("_accuracy")]
        results = results[keep]  # the columns a claim reads; a narrow table is a quick one
        results.attrs = {}
        if self.targets is not None or self.seeds is not None:
            chosen = targets(results) if self.targets is None else list(self.targets)
            results = on_targets(results, chosen, self.seeds)
        stress = self.stress or self.targets is not None
        return select(results, stress=stress, exclude_collapsed=self.exclude_collapsed)


_READ = {*RUN, "threshold", "accuracy", "flops", "val_flops", "collapsed_layers"}

HEADLINE = Analysis()
"""The pre-registered headline analysis (the module's description; its source is chapter 5)."""


def _analysis(analysis: Analysis | None, changes: dict) -> Analysis:
    return (analysis or HEADLINE).replace(**changes)


def regions(results: pd.DataFrame, analysis: Analysis = HEADLINE) -> pd.DataFrame:
    """The covered budget grid of every pair of runs, each budget marked high or low accuracy.

    Columns: those of :func:`eelib.frontiers.frontier_gaps` (``sparsity``, ``seed``, ``budget``
    in FLOPs, both strategies' best accuracy as fractions, ``gap`` in points), ``bar`` (the
    seed's dense final-exit accuracy − ``high_drop`` points, a fraction) and ``high`` (True
    where either frontier reaches the bar: claim B's high-accuracy region).
    """
    return _marked(analysis.rows(results), analysis, "covered")


def _marked(rows: pd.DataFrame, analysis: Analysis, extent: str) -> pd.DataFrame:
    """The budget grid ``extent`` (:func:`eelib.frontiers.budget_range`) of every pair of runs,
    marked as in :func:`regions`; ``analysis.rising`` is claim A's (where frontiers still rise)."""
    gaps = frontier_gaps(
        rows, analysis.points, analysis.grid, analysis.choose, extent, analysis.pairing
    )
    bar = gaps["seed"].map(dense_reference(rows) - analysis.high_drop / 100)
    return gaps.assign(bar=bar, high=gaps[list(STRATEGIES)].max(axis=1) >= bar)


def overlap(results: pd.DataFrame, analysis: Analysis = HEADLINE) -> pd.Series:
    """The share (fraction) of claim A's budgets that lie in claim B's high-accuracy region,
    per target sparsity (index) — 0 where the two claims read disjoint budgets."""
    rising = _marked(analysis.rows(results), analysis, analysis.rising)
    return rising.groupby("sparsity")["high"].mean()


def region_edges(results: pd.DataFrame, analysis: Analysis = HEADLINE) -> pd.DataFrame:
    """Where the claims' regions lie on each target's budget grid, for a figure.

    Columns: ``sparsity``, ``rising_end`` (FLOPs where claim A's grid ends: the first frontier's
    top) and ``high_start`` (FLOPs where claim B's high-accuracy region starts, the mean over
    seeds of each seed's first budget there; NaN where no seed reaches the bar).
    """
    rows = analysis.rows(results)
    rising, marked = _marked(rows, analysis, analysis.rising), _marked(rows, analysis, "covered")
    start = marked[marked["high"]].groupby(["sparsity", "seed"])["budget"].min()
    edges = pd.DataFrame({"rising_end": rising.groupby("sparsity")["budget"].max()})
    edges["high_start"] = start.groupby("sparsity").mean()
    return edges.reset_index()


def claim_values(
    results: pd.DataFrame, analysis: Analysis | None = None, **changes
) -> pd.DataFrame:
    """The number per seed each claim is decided on (:data:`CLAIMS`; the module's description).

    Each is averaged over the target sparsities the analysis reads, per seed; gaps are all at
    once − ordered in accuracy points, B FLOPs a saving in percent of FLOPs. NaN where a seed has
    no data for a claim (no budget in the high region, say).

    Args:
        results: the results table (:mod:`eelib.results`).
        analysis: :data:`HEADLINE` by default; ``changes`` replace its settings.

    Returns:
        One row per seed (index ``seed``), one column per claim name.

    Raises:
        ValueError: an analysis setting :class:`Analysis` rejects.
    """
    analysis = _analysis(analysis, changes)
    rows = analysis.rows(results)
    a = _marked(rows, analysis, analysis.rising)
    if analysis.below_bar:
        a = a[~a["high"]]
    marked = _marked(rows, analysis, "covered")
    by = ["seed", "sparsity"]
    low = marked[~marked["high"]].groupby(by)["gap"].mean()
    high = marked[marked["high"]].groupby(by)["gap"].mean()
    contrast = (low - high).groupby("seed").mean()
    bar = dense_reference(rows) - analysis.high_drop / 100
    saving = flops_saving_per_seed(rows, analysis.points, analysis.choose, floor=bar)
    saving = saving.dropna(subset=["saving"])
    K = num_exits(rows)
    forced = exit_gaps(rows)
    table = pd.DataFrame(
        {
            "A": per_seed(a, "gap"),
            "B contrast": contrast,
            "B accuracy": high.groupby("seed").mean(),
            "B FLOPs": 100 * per_seed(saving, "saving"),
            "C early": forced[list(early_exits(K))].mean(axis=1).groupby("seed").mean(),
            "C deep": forced[K].groupby("seed").mean(),
        },
        index=pd.Index(sorted(rows["seed"].unique()), name="seed"),
    )
    return table[list(NAMES)]


def _margin(claim: Claim, analysis: Analysis) -> float:
    if claim.test != "equivalence":
        return 0.0
    return analysis.margin if claim.unit == "points" else analysis.flops_margin


def verdicts(results: pd.DataFrame, analysis: Analysis | None = None, **changes) -> pd.DataFrame:
    """A verdict on each claim of :data:`CLAIMS`, with its effect size and interval.

    Args:
        results: the results table.
        analysis: :data:`HEADLINE` by default; ``changes`` replace its settings, e.g.
            ``verdicts(results, confidence=0.8)``.

    Returns:
        One row per claim: ``claim``, ``statement``, ``source``, ``unit`` (``"points"`` or
        ``"% FLOPs"``), ``mean``, ``low``, ``high`` (the interval at ``confidence``),
        ``verdict`` (one of :data:`eelib.stats.VERDICTS`), ``corrected low`` and ``corrected
        high`` (the Bonferroni interval for the six claims together), ``corrected`` (the verdict
        on it), ``seeds`` (seeds with a number), ``margin`` (the equivalence margin in the
        claim's unit; 0 for the others) and ``p`` (the TOST p-value of an equivalence claim,
        else NaN).

    Raises:
        ValueError: an analysis setting :class:`Analysis` rejects.
    """
    analysis = _analysis(analysis, changes)
    return judge(claim_values(results, analysis), analysis)


def judge(values: pd.DataFrame, analysis: Analysis = HEADLINE) -> pd.DataFrame:
    """:func:`verdicts` from the per-seed numbers :func:`claim_values` gave (its columns), at
    ``analysis``' confidence and margins."""
    strict = corrected(analysis.confidence, len(CLAIMS))
    rows = []
    for claim in CLAIMS:
        column = values[claim.name]
        mean, low, high = interval(column, analysis.confidence)
        _, strict_low, strict_high = interval(column, strict)
        margin = _margin(claim, analysis)
        p = equivalence(column, margin, analysis.confidence) if margin else np.nan
        rows.append(
            {
                "claim": claim.name,
                "statement": claim.statement,
                "source": claim.source,
                "unit": claim.unit,
                "mean": mean,
                "low": low,
                "high": high,
                "verdict": decide(low, high, claim.test, margin),
                "corrected low": strict_low,
                "corrected high": strict_high,
                "corrected": decide(strict_low, strict_high, claim.test, margin),
                "seeds": int(column.notna().sum()),
                "margin": margin,
                "p": p,
            }
        )
    return pd.DataFrame(rows)


def verdicts_by_target(
    results: pd.DataFrame, analysis: Analysis | None = None, **changes
) -> pd.DataFrame:
    """:func:`verdicts` at each target sparsity on its own (stress targets included).

    Columns: ``sparsity`` and those of :func:`verdicts`.
    """
    analysis = _analysis(analysis, changes)
    tables = [
        verdicts(results, analysis.replace(targets=(target,))).assign(sparsity=target)
        for target in targets(results)
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["sparsity", *(c for c in table.columns if c != "sparsity")]]


def collapse_by_target(results: pd.DataFrame) -> pd.DataFrame:
    """How many seeds' networks have a collapsed layer (≥ 99 % sparse) at each target.

    Columns: ``sparsity``, ``seeds`` (seeds with both strategies), ``collapsed all-at-once``,
    ``collapsed ordered``.
    """
    broken = collapsed_layers(results)
    rows = []
    for target in targets(results):
        at = on_targets(results, [target])
        row = {"sparsity": target, "seeds": int(exit_gaps(at).index.size)}
        for strategy in STRATEGIES:
            hit = broken[(broken["strategy"] == strategy) & (broken["sparsity"].round(6) == target)]
            row[f"collapsed {strategy}"] = int(hit["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


def saving_summary(results: pd.DataFrame, analysis: Analysis | None = None, **changes) -> dict:
    """The FLOPs all at once saves at equal accuracy, summarised the way fixed beforehand (the
    paper: "up to 15 %").

    Only pairs of networks with no collapsed layer count. Per seed, the saving
    (:func:`eelib.frontiers.flops_saving_per_seed`) is averaged over the accuracy levels every
    run at a target reaches, then over the targets; the summary is the mean over seeds with its
    interval — a number fixed before looking, unlike the largest of many cells, reported beside
    it as what it is.

    Returns:
        ``mean``, ``low``, ``high`` (fractions: 0.15 = 15 % fewer FLOPs), ``seeds``,
        ``targets`` (the target sparsities it rests on: those with an intact pair), ``max``
        (the largest mean saving of any (target, accuracy level) cell), ``max_accuracy`` and
        ``max_sparsity`` (where), ``cells`` (how many cells the maximum is taken over); NaN
        numbers and 0 counts when no intact pair of networks is left.
    """
    analysis = _analysis(analysis, changes).replace(exclude_collapsed=True)
    savings = flops_saving_per_seed(analysis.rows(results), analysis.points, analysis.choose)
    savings = savings.dropna(subset=["saving"])
    mean, low, high = interval(per_seed(savings, "saving"), analysis.confidence)
    cells = interval_table(savings, ["sparsity", "accuracy"], "saving", analysis.confidence)
    cells = cells.dropna(subset=["mean"])
    best = cells.loc[cells["mean"].idxmax()] if len(cells) else None
    return {
        "mean": mean,
        "low": low,
        "high": high,
        "seeds": int(savings["seed"].nunique()),
        "targets": sorted(round(float(t), 6) for t in savings["sparsity"].unique()),
        "max": np.nan if best is None else float(best["mean"]),
        "max_accuracy": np.nan if best is None else float(best["accuracy"]),
        "max_sparsity": np.nan if best is None else float(best["sparsity"]),
        "cells": len(cells),
    }


def headline_targets(results: pd.DataFrame) -> list[float]:
    """The target sparsities the headline verdicts average over (≤ 95 %)."""
    return [t for t in targets(results) if t <= HEADLINE_MAX_SPARSITY + 1e-9]

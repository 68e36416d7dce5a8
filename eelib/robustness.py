"""The robustness cube: every claim under every analysis reading of every protocol's results
(the book's chapter 5 and its companion page on robustness).

A *reading* is the headline analysis with one choice changed (:data:`READINGS`, each a
``HEADLINE.replace(...)``; each target on its own is a reading too). A *protocol file* is the
results of the same study run another way (heads trained to convergence, longer training, a
longer schedule): it is read at the targets and on the seeds it shares with the headline run, and
each of its cells is set beside its *reference*, the headline run read the same way on those
targets and seeds, so that a verdict that differs comes from the protocol. :func:`cube` computes
every cell; :func:`cube_summary` counts, per claim, where it holds and which cells differ.
"""

from __future__ import annotations

import pandas as pd

from .claims import CLAIMS, HEADLINE, Analysis, claim_values, headline_targets, judge, verdicts
from .frontiers import HEADLINE_MAX_SPARSITY, on_targets, seeds, targets
from .stats import interval

READINGS = (
    ("headline", {}),
    ("A's grid over the whole covered range", {"rising": "covered"}),
    ("A's grid ends where the last frontier stops rising", {"rising": "last-top"}),
    ("A only below the high-accuracy bar (no budget shared with B)", {"below_bar": True}),
    ("each seed's pair of runs on its own budget range", {"pairing": "pair"}),
    ("budgets evenly spaced in log FLOPs", {"grid": "log"}),
    ("thresholds chosen on validation, reported on test", {"choose": "validation"}),
    ("collapsed networks excluded", {"exclude_collapsed": True}),
    ("with the stress targets (above 95 %)", {"stress": True}),
    ("90 % intervals", {"confidence": 0.90}),
    ("high accuracy: within 0.5 pt of the dense final exit", {"high_drop": 0.5}),
    ("high accuracy: within 2 pt of the dense final exit", {"high_drop": 2.0}),
    ("B accuracy's margin 0.5 pt", {"margin": 0.5}),
    ("B accuracy's margin 2 pt", {"margin": 2.0}),
    ("B FLOPs' margin 5 %", {"flops_margin": 5.0}),
    ("collapsed networks excluded, log FLOPs", {"exclude_collapsed": True, "grid": "log"}),
)
"""The analysis readings of the cube, the headline first: each changes one choice of
:data:`eelib.claims.HEADLINE` (the last, two that interact). :func:`readings` adds each target on
its own."""
ABLATION_SEEDS = 5
"""A protocol file with at least this many seeds that flips a claim keeps it out of agreement."""


def protocol_seeds(results: pd.DataFrame, other: pd.DataFrame) -> list[int]:
    """The seeds a protocol file shares with the headline run (all the headline run's when they
    share none): both are read on these, so a 3-seed variant is not set beside intervals over
    seeds it never ran."""
    return sorted(set(seeds(results)) & set(seeds(other))) or seeds(results)


def protocol_targets(results: pd.DataFrame, other: pd.DataFrame) -> list[float]:
    """The headline targets (≤ 95 %) a protocol file shares with the headline run.

    Raises:
        ValueError: the two share no target sparsity ≤ 95 %.
    """
    common = sorted(set(headline_targets(results)) & set(headline_targets(other)))
    if not common:
        raise ValueError(
            f"the protocol file's targets {headline_targets(other)} share none ≤ 95 % with the "
            f"headline run's {headline_targets(results)}: compare runs with a target in common"
        )
    return common


def _stress(results: pd.DataFrame) -> list[float]:
    """The stress targets (above 95 %) of a results table."""
    return [t for t in targets(results) if t > HEADLINE_MAX_SPARSITY + 1e-9]


def readings(results: pd.DataFrame, analysis: Analysis = HEADLINE) -> list[tuple[str, Analysis]]:
    """:data:`READINGS` as analyses (each a change of ``analysis``), then each target of
    ``results`` on its own (``"only the 50% target"``); the stress reading only where
    ``results`` has a target above 95 %."""
    stressed = bool(_stress(results))
    chosen = [
        (label, analysis.replace(**change))
        for label, change in READINGS
        if stressed or not change.get("stress")
    ]
    chosen += [
        (f"only the {t:.0%} target", analysis.replace(targets=(t,))) for t in targets(results)
    ]
    return chosen


def precision_variant(results: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """The headline run with its dense and all-at-once networks taken from ``other``, a protocol
    file whose all-at-once arm followed the same protocol in another training precision (the
    heads-converged ablation: float32, where the headline trained in bfloat16).

    Its verdicts set beside the headline's tell whether the precision alone moves a claim:
    ordered is the headline's own, all at once and the dense reference are ``other``'s, on the
    targets and seeds both share.

    Raises:
        ValueError: the two runs differ in more than the precision for all at once (another
            dataset, network, joint training, schedule or dense fine-tuning), or share their
            precision.
    """
    mine, theirs = (r.attrs["metadata"] for r in (results, other))
    keys = ("dataset", "architecture", "widths", "joint_epochs", "prune_rounds", "finetune_epochs")
    differ = [k for k in keys if mine["config"].get(k) != theirs["config"].get(k)]
    dense = "dense reference fine-tuning epochs"
    if mine.get("budgets", {}).get(dense) != theirs.get("budgets", {}).get(dense):
        differ.append(dense)
    if differ:
        raise ValueError(
            f"all at once was trained differently there ({', '.join(differ)}): "
            "only a run whose all-at-once arm followed the headline protocol isolates precision"
        )
    if mine["config"].get("precision") == theirs["config"].get("precision"):
        raise ValueError(
            f"both runs trained in {mine['config'].get('precision')}: nothing to check"
        )
    common, shared = protocol_targets(results, other), protocol_seeds(results, other)
    own = on_targets(results, common, shared)
    borrowed = on_targets(other, common, shared)
    table = pd.concat(
        [borrowed[borrowed["strategy"] != "ordered"], own[own["strategy"] == "ordered"]],
        ignore_index=True,
    )
    table.attrs["metadata"] = {**mine, "config": {**mine["config"], "precision": "mixed"}}
    return table


def files(results: pd.DataFrame, protocols: dict | None = None) -> dict:
    """The cube's protocol files: ``{"headline": results}``, each of ``protocols`` (label →
    results table), and for each protocol that allows it a precision check
    (:func:`precision_variant`), labelled ``"precision: all at once in float32 (from LABEL)"``."""
    found = {"headline": results}
    for label, other in (protocols or {}).items():
        found[label] = other
    for label, other in (protocols or {}).items():
        try:
            hybrid = precision_variant(results, other)
        except (ValueError, KeyError):
            continue
        precision = other.attrs["metadata"]["config"]["precision"]
        found[f"precision: all at once in {precision} (from {label})"] = hybrid
    return found


def _text(values, form: str) -> str:
    return ", ".join(format(v, form) for v in values)


def cube(
    results: pd.DataFrame,
    protocols: dict | None = None,
    analysis: Analysis = HEADLINE,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Every claim under every reading (:func:`readings`) of every protocol file (:func:`files`).

    Args:
        results: the headline run's results table.
        protocols: label → results table of a protocol variant.
        analysis: the headline analysis (:data:`eelib.claims.HEADLINE`, or a change of it such
            as a chapter's own margin); every reading changes it.
        only: the labels of the readings to compute (``["headline"]``: each file under the
            headline reading alone); None for all of :func:`readings`.

    Returns:
        One row per (file, reading, claim): ``file``, ``kind`` (``"headline"``, ``"protocol"``
        or ``"precision"``), ``reading``, ``claim``, ``unit``, ``mean``, ``low``, ``high``,
        ``verdict``, ``corrected`` (:func:`eelib.claims.verdicts`' columns), ``seeds`` (how
        many seeds have a number), ``seed list`` and ``targets`` (text: ``"0, 1, 2"``,
        ``"50%, 90%"``), ``reference`` (the verdict of the headline run under the same reading
        on the file's targets and seeds; for the headline file, the headline cell's verdict)
        and ``differs`` (the verdict is not the reference's, both having data). ``mean`` is NaN
        where a reading leaves a claim no data.

    Raises:
        ValueError: a protocol file that shares no target ≤ 95 % with ``results``.
    """
    cells = []
    everything = [(n, a) for n, a in readings(results, analysis) if only is None or n in only]
    memo = {}

    def verdicts(table, reading):  # readings that change only a margin share their numbers
        same = {"confidence": HEADLINE.confidence, "margin": HEADLINE.margin}
        same["flops_margin"] = HEADLINE.flops_margin
        if reading.targets == tuple(headline_targets(table)):
            same["targets"] = None
        if reading.seeds == tuple(seeds(table)):
            same["seeds"] = None
        key = (id(table), reading.replace(**same))
        if key not in memo:
            memo[key] = claim_values(table, reading)
        return judge(memo[key], reading)

    headline = verdicts(results, analysis).set_index("claim")
    for label, table in files(results, protocols).items():
        kind = "headline" if label == "headline" else "protocol"
        kind = "precision" if label.startswith("precision:") else kind
        for name, reading in everything:
            if label != "headline":
                reading = _restricted(results, table, reading)
            missing = reading.targets is not None and not set(reading.targets) & set(targets(table))
            mine = None if missing else verdicts(table, reading).set_index("claim")
            reference = headline
            if label != "headline" and mine is not None:
                reference = verdicts(results, reading).set_index("claim")
            for claim in CLAIMS:
                row = mine.loc[claim.name] if mine is not None else None
                ref = reference.loc[claim.name]
                has = row is not None and not pd.isna(row["mean"]) and not pd.isna(ref["mean"])
                cells.append(
                    {
                        "file": label,
                        "kind": kind,
                        "reading": name,
                        "claim": claim.name,
                        "unit": claim.unit,
                        **{
                            key: (row[key] if row is not None else default)
                            for key, default in _EMPTY.items()
                        },
                        "seed list": _text(reading.seeds or seeds(table), "d"),
                        "targets": _text(reading.targets or _read_targets(table, reading), ".0%"),
                        "reference": ref["verdict"],
                        "differs": bool(has and row["verdict"] != ref["verdict"]),
                    }
                )
    table = pd.DataFrame(cells)
    table["seeds"] = table["seeds"].astype(int)
    return table


_EMPTY = {
    "mean": float("nan"),
    "low": float("nan"),
    "high": float("nan"),
    "verdict": "undecided",
    "corrected": "undecided",
    "seeds": 0,
}


def _restricted(results: pd.DataFrame, other: pd.DataFrame, reading: Analysis) -> Analysis:
    """A reading of a protocol file on the targets and seeds it shares with the headline run."""
    shared = tuple(protocol_seeds(results, other))
    if reading.targets is not None:
        return reading.replace(seeds=shared)
    common = protocol_targets(results, other)
    if reading.stress:
        common += sorted(set(_stress(results)) & set(_stress(other)))
    return reading.replace(targets=tuple(common), seeds=shared)


def _read_targets(table: pd.DataFrame, reading: Analysis) -> list[float]:
    return headline_targets(table) + (_stress(table) if reading.stress else [])


def cube_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per claim, how the cells of :func:`cube` fall, and what keeps it from agreement.

    Returns:
        One row per claim: ``claim``, ``headline`` and ``corrected`` (the headline cell's
        verdicts), ``holds``, ``undecided``, ``does not hold`` (cells with data, by verdict),
        ``no data`` (cells without), ``differ`` (a list of ``(file, reading, verdict)`` of the
        cells whose verdict is not their reference's), ``flipped by`` (protocol files with at
        least :data:`ABLATION_SEEDS` seeds whose headline reading differs from its reference)
        and ``agreement`` (True when the headline and corrected verdicts hold and no such file
        flips it).
    """
    rows = []
    for claim in CLAIMS:
        cells = table[table["claim"] == claim.name]
        first = cells[(cells["file"] == "headline") & (cells["reading"] == "headline")].iloc[0]
        data = cells[cells["mean"].notna()]
        counts = data["verdict"].value_counts()
        differ = data[data["differs"]]
        flips = differ[
            (differ["kind"] == "protocol")
            & (differ["reading"] == "headline")
            & (differ["seeds"] >= ABLATION_SEEDS)
        ]
        rows.append(
            {
                "claim": claim.name,
                "headline": first["verdict"],
                "corrected": first["corrected"],
                "holds": int(counts.get("holds", 0)),
                "undecided": int(counts.get("undecided", 0)),
                "does not hold": int(counts.get("does not hold", 0)),
                "no data": int(len(cells) - len(data)),
                "differ": list(zip(differ["file"], differ["reading"], differ["verdict"])),
                "flipped by": list(flips["file"]),
                "agreement": bool(
                    first["verdict"] == "holds" and first["corrected"] == "holds" and flips.empty
                ),
            }
        )
    return pd.DataFrame(rows)


def compare_protocol(
    results: pd.DataFrame, other: pd.DataFrame, analysis: Analysis = HEADLINE
) -> pd.DataFrame:
    """Each claim under the headline protocol and under a variant, on the targets and seeds both
    share, and how far the variant moves each claim's number, paired by seed.

    The shift is variant − headline of each claim's per-seed number
    (:func:`eelib.claims.claim_values`), with its interval over the shared seeds; where it spans
    0, the paired seeds cannot tell whether the protocol moves the number.

    Returns:
        One row per claim: ``claim``, ``targets`` and ``seeds`` (text), ``headline protocol``
        and ``variant`` (verdicts), ``headline mean`` and ``variant mean`` (the claim's unit),
        ``shift``, ``shift low``, ``shift high`` (NaN bounds from one shared seed).

    Raises:
        ValueError: no shared target.
    """
    common, shared = protocol_targets(results, other), protocol_seeds(results, other)
    reading = analysis.replace(targets=tuple(common), seeds=tuple(shared))
    mine, theirs = verdicts(results, reading), verdicts(other, reading)
    shift = claim_values(other, reading) - claim_values(results, reading)  # paired by seed
    rows = []
    for claim, a, b in zip(CLAIMS, mine.itertuples(), theirs.itertuples()):
        mean, low, high = interval(shift[claim.name], analysis.confidence)
        rows.append(
            {
                "claim": claim.name,
                "targets": _text(common, ".0%"),
                "seeds": _text(shared, "d"),
                "headline protocol": a.verdict,
                "variant": b.verdict,
                "headline mean": a.mean,
                "variant mean": b.mean,
                "shift": mean,
                "shift low": low,
                "shift high": high,
            }
        )
    return pd.DataFrame(rows)

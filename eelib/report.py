"""The referee's report on a results file: claims, verdicts and the robustness cube, as Markdown
and as JSON (``python -m eelib report RESULTS.csv``; the book's chapter 5 and its companion page
call the same functions for their sentences).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from . import paper
from .claims import CLAIMS, HEADLINE, Analysis, collapse_by_target, saving_summary, verdicts
from .frontiers import part_sparsity_table, targets
from .results import exit_gaps, load_results, num_exits
from .robustness import ABLATION_SEEDS, compare_protocol, cube, cube_summary, protocol_targets

SAME_STUDY = ("dataset", "architecture", "widths")
"""Settings a protocol file must share with the headline run to be read beside it."""


def read_protocols(results: pd.DataFrame, paths: dict) -> tuple[dict, dict]:
    """Read protocol files beside ``results``: those that can be compared, and why the rest cannot.

    Args:
        results: the headline run's results table.
        paths: label → path (or URL) of a results file.

    Returns:
        ``(protocols, left_out)``: label → results table, and label → the reason in words (no
        file there, another dataset, network or widths, no shared target).
    """
    protocols, left_out = {}, {}
    mine = results.attrs.get("metadata", {}).get("config", {})
    for label, path in paths.items():
        try:
            other = load_results(path)
        except (OSError, ValueError) as error:
            left_out[label] = str(error)
            continue
        theirs = other.attrs.get("metadata", {}).get("config", {})
        differ = [key for key in SAME_STUDY if theirs.get(key) != mine.get(key)]
        if differ:
            left_out[label] = f"made with another {', '.join(differ)} than the headline run"
            continue
        try:
            protocol_targets(results, other)
        except ValueError as error:
            left_out[label] = str(error)
            continue
        protocols[label] = other
    return protocols, left_out


def _number(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _number(v) for k, v in row.items()} for row in frame.to_dict("records")]


def build(
    results: pd.DataFrame,
    protocols: dict | None = None,
    analysis: Analysis = HEADLINE,
    full: bool = True,
) -> dict:
    """The report as plain data (JSON-ready: NaN becomes None).

    Args:
        results: the headline run's results table.
        protocols: label → results table of a protocol variant (:func:`read_protocols`).
        analysis: the headline analysis.
        full: every reading of the cube (:data:`eelib.robustness.READINGS` and each target); False
            reads each file under the headline reading only (what chapter 5 needs, in seconds).

    Returns:
        ``claims`` (name, statement, source, unit, test), ``verdicts`` (the headline table of
        :func:`eelib.claims.verdicts`), ``cube`` (:func:`eelib.robustness.cube`'s rows),
        ``summary`` (:func:`eelib.robustness.cube_summary`), ``saving``
        (:func:`eelib.claims.saving_summary`), ``protocols`` (label → the rows of
        :func:`eelib.robustness.compare_protocol`), ``seeds`` and ``targets`` of the headline run.
    """
    protocols = protocols or {}
    table = cube(results, protocols, analysis, None if full else ["headline"])
    summary = cube_summary(table)
    summary["differ"] = summary["differ"].map(lambda cells: [list(c) for c in cells])
    return {
        "claims": [vars(claim) for claim in CLAIMS],
        "verdicts": _records(verdicts(results, analysis)),
        "cube": _records(table),
        "summary": summary.to_dict("records"),
        "saving": {k: _number(v) for k, v in saving_summary(results, analysis).items()},
        "protocols": {
            label: _records(compare_protocol(results, other, analysis))
            for label, other in protocols.items()
        },
        "seeds": sorted(int(s) for s in results["seed"].unique()),
        "targets": sorted(
            float(t) for t in results.loc[results["strategy"] != "dense", "sparsity"].unique()
        ),
    }


def interval_text(row: dict) -> str:
    """A claim's effect size and interval in its unit, e.g. ``+1.49 pt [+1.21, +1.78]``, from a
    row of :func:`build`'s ``verdicts`` ("no data", or "one seed: no interval", where so)."""
    if row["mean"] is None:
        return "no data"
    unit = " pt" if row["unit"] == "points" else " % FLOPs"
    if row["low"] is None:
        return f"{row['mean']:+.2f}{unit} (one seed: no interval)"
    return f"{row['mean']:+.2f}{unit} [{row['low']:+.2f}, {row['high']:+.2f}]"


def verdict_lines(report: dict) -> list[str]:
    """One Markdown line per claim: its verdict, effect size and interval, the corrected verdict.

    For example ``- **A** (all at once leads where the frontiers still rise): **holds**, +1.49
    pt [+1.21, +1.78]; corrected for 6 claims: holds``.
    """
    lines = []
    for row in report["verdicts"]:
        margin = f", margin ±{row['margin']:g}" if row["margin"] else ""
        lines.append(
            f"- **{row['claim']}** ({row['statement']}): **{row['verdict']}**, "
            f"{interval_text(row)}{margin}; corrected for {len(CLAIMS)} claims: "
            f"*{row['corrected']}*"
        )
    return lines


def cube_lines(report: dict) -> list[str]:
    """One Markdown line per claim: how its cells in the cube fall and what flips it."""
    files = {row["file"] for row in report["cube"]}
    readings = {row["reading"] for row in report["cube"]}
    lines = [f"{len(readings)} reading(s) × {len(files)} file(s):"]
    for row in report["summary"]:
        flips = (
            f"; flipped by a protocol with ≥ {ABLATION_SEEDS} seeds: {', '.join(row['flipped by'])}"
            if row["flipped by"]
            else ""
        )
        lines.append(
            f"- **{row['claim']}**: {row['holds']} hold, {row['undecided']} undecided, "
            f"{row['does not hold']} do not hold, {row['no data']} without data; "
            f"{len(row['differ'])} differ from their reference{flips}"
        )
    return lines


def agreement_lines(report: dict, paper: dict) -> list[str]:
    """Where this run agrees with the paper and where not, one line per claim.

    A claim agrees when its headline and corrected verdicts hold and no protocol file with at
    least :data:`eelib.robustness.ABLATION_SEEDS` seeds flips it (:func:`cube_summary`).

    Args:
        report: :func:`build`'s output.
        paper: claim name → what the paper (or poster) says, in words.
    """
    by_claim = {row["claim"]: row for row in report["verdicts"]}
    agree, differ = [], []
    for row in report["summary"]:
        claim, verdict = row["claim"], by_claim[row["claim"]]
        text = (
            f"- **{claim}** — the paper: {paper[claim]}. Here: **{row['headline']}**, "
            f"{interval_text(verdict)}"
        )
        if row["corrected"] != row["headline"]:
            text += f"; corrected for {len(CLAIMS)} claims: *{row['corrected']}*"
        if row["flipped by"]:
            text += f"; *{row['headline']}* is not kept by {', '.join(row['flipped by'])}"
        (agree if row["agreement"] else differ).append(text + ".")
    lines = ["**Where we agree.**", *(agree or ["- On none of the claims."])]
    if differ:
        lines += ["", "**Where we do not, or cannot tell.**", *differ]
    return lines


def cost_line(label: str, other: pd.DataFrame) -> str:
    """What a protocol file cost, in one line: its seeds, precision, its pieces' summed time (an
    upper bound: timed where other work may have shared the machine) and its wall time, with the
    pieces resumed from earlier invocations where it was made over several."""
    meta = other.attrs["metadata"]
    text = (
        f"{label}: seeds {', '.join(map(str, sorted(other['seed'].unique())))}, trained in "
        f"{meta['config']['precision']}; its pieces' times sum to "
        f"{meta['compute_time_s'] / 3600:.1f} h"
    )
    if meta.get("resumed_pieces"):
        return text + (
            f"; resumed: {meta['resumed_pieces']} pieces from earlier invocations, the last "
            f"took {meta['wall_time_s'] / 60:.0f} min wall"
        )
    return text + f"; {meta['wall_time_s'] / 60:.0f} min wall in one invocation"


def nearest_target(results: pd.DataFrame, sparsity: float = 0.9) -> float:
    """The run's target sparsity nearest ``sparsity`` (the one set beside the poster's figures)."""
    return min(targets(results), key=lambda t: abs(t - sparsity))


def schedule_line(results: pd.DataFrame) -> str:
    """The run's seeds, targets and pruning schedule in one sentence, beside the paper's."""
    meta = results.attrs["metadata"]
    config = meta["config"]
    per_leg, chosen = config["prune_rounds"], targets(results)
    rounds = [per_leg * (i + 1) for i in range(len(chosen))]
    heads = meta["budgets"].get("exit-head training epochs at each target (ordered)", "?")
    return (
        f"{results['seed'].nunique()} seed(s), targets "
        f"{', '.join(f'{t:.0%}' for t in chosen)}; {per_leg} round(s) of (global magnitude "
        f"pruning + {config['finetune_epochs']} epoch(s) of fine-tuning) from one target to the "
        f"next, so {rounds[-1]} round(s) to {chosen[-1]:.0%} (the paper: {paper.ROUNDS}); base "
        f"training {config['train_epochs']} epochs, joint training {config['joint_epochs']}, "
        f"*ordered*'s exit heads {heads} at each target."
    )


def size_lines(results: pd.DataFrame, report: dict, shown: float) -> list[str]:
    """The sizes beside the paper's, one Markdown line each: the exit gaps at ``shown`` (a target
    sparsity, fraction) against the poster's exits 1 and 7, the final exit's gap at each target,
    the FLOPs saving against "up to 15 %", and the parts' sparsity under the global pool.

    Raises:
        KeyError: ``shown`` is not a target of ``results``.
    """
    K = num_exits(results)
    gaps = exit_gaps(results).groupby("sparsity").mean()
    gaps.index = gaps.index.round(6)
    at = gaps.loc[round(shown, 6)]
    first, last = paper.exit_gap(1), paper.exit_gap(len(paper.EXITS["ordered"]))
    ratio = f", {first / at[1]:.1f} times ours" if at[1] > 0 else ""
    lines = [
        f"- *Exit 1* at {shown:.0%}: all at once − ordered {at[1]:+.1f} points here; the poster "
        f"{first:+.1f}{ratio}.",
        f"- *The final exit* (exit {K}) at {shown:.0%}: {at[K]:+.1f} points here; the poster's "
        f"exit 7 {last:+.1f} (ordered ahead). At each target: "
        + ", ".join(f"{t:.0%} {g:+.2f}" for t, g in gaps[K].items())
        + ".",
    ]
    collapse = collapse_by_target(results)
    broken = collapse[collapse["collapsed all-at-once"] > 0]
    if len(broken):
        lines.append(
            "- *Collapse*: seeds whose all-at-once network has a layer ≥ 99 % sparse: "
            + ", ".join(
                f"{r['collapsed all-at-once']} of {r['seeds']} at {r['sparsity']:.0%}"
                for r in broken.to_dict("records")
            )
            + "."
        )
    saving = report["saving"]
    if saving["mean"] is not None:
        rests = ", ".join(f"{t:.0%}" for t in saving["targets"])
        span = (
            f" [{100 * saving['low']:.1f}, {100 * saving['high']:.1f}]"
            if saving["low"] is not None
            else ""
        )
        lines.append(
            f"- *FLOPs saved at equal accuracy*: {100 * saving['mean']:.1f} %{span} on average, "
            f"resting on the targets {rests} (no collapsed layer), the largest single cell "
            f"{100 * saving['max']:.1f} %; the paper: up to about {paper.SAVING:.0f} %."
        )
    part = part_sparsity_table(results)
    part.index = part.index.set_levels(part.index.levels[1].round(6), level=1)
    mine = part.loc[("all-at-once", round(shown, 6))]
    heads = mine[[f"exit {k}" for k in range(1, K)]]
    fewest, most, final = paper.PARTS["all-at-once"]
    lines.append(
        f"- *Where the global pool puts the zeros* at {shown:.0%}: exit heads "
        f"{100 * heads.min():.0f}–{100 * heads.max():.0f} % sparse, the final classifier "
        f"{100 * mine['final']:.0f} %; the poster: heads {fewest}–{most} %, final ≈ {final} %."
    )
    return lines


def markdown(report: dict) -> str:
    """The whole report as Markdown: the verdicts, the cube's counts, each protocol's shifts."""
    seeds = ", ".join(map(str, report["seeds"]))
    targets = ", ".join(f"{t:.0%}" for t in report["targets"])
    saving = report["saving"]
    parts = [
        f"# Claims of Görmez & Koyuncu (2022) on this run (seeds {seeds}; targets {targets})",
        "",
        *verdict_lines(report),
        "",
    ]
    if saving["mean"] is not None:
        rests = ", ".join(f"{t:.0%}" for t in saving["targets"])
        parts += [
            f"FLOPs saving at equal accuracy (no collapsed layer; targets {rests}): "
            f"{100 * saving['mean']:.1f} %"
            + (
                f" [{100 * saving['low']:.1f}, {100 * saving['high']:.1f}]"
                if saving["low"] is not None
                else ""
            )
            + " (the paper: up to about 15 %).",
            "",
        ]
    parts += ["## The robustness cube", "", *cube_lines(report), ""]
    for label, rows in report["protocols"].items():
        parts.append(
            f"## Protocol: {label} (targets {rows[0]['targets']}, seeds {rows[0]['seeds']})"
        )
        parts.append("")
        parts += [
            f"- **{r['claim']}**: {r['headline protocol']} → {r['variant']}; shift "
            + (
                f"{r['shift']:+.2f} [{r['shift low']:+.2f}, {r['shift high']:+.2f}]"
                if r["shift low"] is not None
                else "no interval"
            )
            for r in rows
        ]
        parts.append("")
    return "\n".join(parts)


def write_json(report: dict, path) -> Path:
    """Write :func:`build`'s output to ``path`` as JSON (UTF-8, indented); the path."""
    path = Path(path)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

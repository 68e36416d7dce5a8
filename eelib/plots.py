"""Figures: the course's one shared style, and the accuracy–FLOPs trade-off curves of the strategies."""

from __future__ import annotations

import matplotlib as mpl
import pandas as pd

from .frontiers import pareto_frontier
from .results import STRATEGIES, exit_accuracy_column, exit_flops_column, num_exits

# One look for every figure of the course: sized for the book's text column (about 8 inches at
# 100 dpi), fonts readable there, light grids, no top/right spines.
RC = {
    "figure.figsize": (7.5, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
}
"""The course's matplotlib settings (``rcParams``), which :func:`use_style` applies."""


def use_style() -> None:
    """Apply the course's figure style (:data:`RC`) to matplotlib for the rest of the session.

    Every notebook calls it in its setup cell so that all figures share one look.
    """
    mpl.rcParams.update(RC)


def glue(name: str, obj) -> None:
    """Show ``obj`` (a figure or a table) here and store it under ``name`` for the book.

    With MyST-NB installed (the book build) the object is shown through MyST-NB's ``glue``, so the
    image another page pastes is exactly the one this page shows (and its file exists in the
    built book). Elsewhere (Colab, Binder) it is simply displayed. A matplotlib figure is closed
    afterwards: do not call ``plt.show()`` after this.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        from IPython.display import display

        display(obj)
    else:
        myst_glue(name, obj, display=True)
    if isinstance(obj, _pyplot().Figure):
        _pyplot().close(obj)


def _pyplot():
    """matplotlib.pyplot, imported when a figure is first drawn (``import eelib`` stays quick)."""
    import matplotlib.pyplot as plt

    return plt


STYLE = {
    "dense": {"color": "0.4", "linestyle": "--", "label": "dense (unpruned)"},
    "all-at-once": {"color": "tab:blue", "label": "all at once"},
    "ordered": {"color": "tab:orange", "label": "ordered"},
}
"""Line style and legend label of each strategy in the course's figures."""


def plot_tradeoff(results: pd.DataFrame, sparsities=None, frontier: bool = True, axes=None):
    """Accuracy (%) against mean MFLOPs per sample, one panel per target sparsity.

    Each panel shows the dense network and both strategies at that sparsity, one line per seed
    (the Pareto frontier of its curve when ``frontier``), and marks each network's final exit.

    Args:
        results: rows as :func:`eelib.run_experiment` returns them.
        sparsities: the sparsities to show (default: every pruned one in ``results``).
        frontier: draw Pareto frontiers instead of the raw curves.
        axes: matplotlib axes to draw into, one per sparsity (default: a new figure).

    Returns:
        The matplotlib Figure.
    """
    pruned = results[results["strategy"] != "dense"]
    sparsities = sorted(pruned["sparsity"].unique()) if sparsities is None else list(sparsities)
    if axes is None:
        fig, axes = _pyplot().subplots(
            1,
            len(sparsities),
            figsize=(min(2.8 * len(sparsities), 9), 3.6),
            sharey=True,
            squeeze=False,
        )
        axes = axes[0]
    K = num_exits(results)
    for ax, s in zip(axes, sparsities):
        shown = pd.concat(
            [results[results["strategy"] == "dense"], pruned[pruned["sparsity"] == s]]
        )
        for (strategy, seed), run in shown.groupby(["strategy", "seed"], sort=False):
            line = pareto_frontier(run) if frontier else run.sort_values("flops")
            style = dict(STYLE.get(strategy, {"label": strategy}))
            if seed != shown["seed"].iloc[0]:
                style["label"] = None
            ax.plot(line["flops"] / 1e6, 100 * line["accuracy"], marker=".", markersize=3, **style)
            ax.plot(
                run[exit_flops_column(K)].iloc[0] / 1e6,
                100 * run[exit_accuracy_column(K)].iloc[0],
                marker="*",
                markersize=10,
                color=style.get("color"),
                linestyle="none",
            )
        ax.set_title(f"sparsity {s:.0%}")
        ax.set_xlabel("mean MFLOPs per sample")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].legend(loc="lower right", fontsize="small")
    fig = axes[0].figure
    fig.suptitle("Accuracy–FLOPs trade-off as τ moves (★ = final exit alone)")
    return fig


def plot_bands(
    bands: pd.DataFrame, dense: pd.DataFrame | None = None, sparsities=None, xscale="linear"
):
    """Each strategy's mean Pareto frontier with its interval band over seeds, one panel per sparsity.

    The FLOPs axis is linear, as the paper's (``xscale="log"`` spreads the cheap end, where the
    early exits' operating points crowd).

    Args:
        bands: :func:`eelib.frontiers.frontier_bands` output (FLOPs, accuracies as fractions).
        dense: optional results rows of the dense network, drawn as each seed's frontier (grey).
        sparsities: the sparsities to show (default: all in ``bands``).

    Returns:
        The matplotlib Figure; accuracy in %, cost in mean MFLOPs per sample.
    """
    sparsities = sorted(bands["sparsity"].unique()) if sparsities is None else list(sparsities)
    fig, axes = _pyplot().subplots(
        1, len(sparsities), figsize=(min(2.6 * len(sparsities), 9), 3.6), sharey=True, squeeze=False
    )
    for ax, s in zip(axes[0], sparsities):
        if dense is not None:
            for i, (_, run) in enumerate(dense.groupby("seed")):
                front = pareto_frontier(run)
                style = dict(STYLE["dense"], label=STYLE["dense"]["label"] if i == 0 else None)
                ax.plot(front["flops"] / 1e6, 100 * front["accuracy"], linewidth=1, **style)
        for strategy, band in bands[bands["sparsity"] == s].groupby("strategy", sort=False):
            x = band["budget"] / 1e6
            ax.plot(x, 100 * band["mean"], **STYLE[strategy])
            ax.fill_between(
                x, 100 * band["low"], 100 * band["high"], color=STYLE[strategy]["color"], alpha=0.25
            )
        ax.set_title(f"sparsity {s:.0%}")
        ax.set_xscale(xscale)
    axes[0, 0].set_ylabel("test accuracy (%)")
    axes[0, 0].legend(loc="lower right", fontsize="small")
    scale = " (log scale)" if xscale == "log" else ""
    fig.supxlabel(f"mean MFLOPs per sample{scale}", fontsize="medium")
    fig.suptitle("Pareto frontiers: mean over seeds with 95 % interval bands")
    return fig


def plot_gap(gap: pd.DataFrame, xscale="linear"):
    """All at once − ordered (accuracy points) against the FLOPs budget, mean and 95 % band.

    The FLOPs axis is linear, as the paper's, or ``xscale="log"``.

    Args:
        gap: :func:`eelib.frontiers.gap_by_budget` output; one line per sparsity.

    Returns:
        The matplotlib Figure; above 0, all at once is better within that budget.
    """
    fig, ax = _pyplot().subplots()
    colours = mpl.colormaps["viridis"](
        [i / max(1, gap["sparsity"].nunique() - 1) for i in range(gap["sparsity"].nunique())]
    )
    for colour, (s, part) in zip(colours, gap.groupby("sparsity")):
        x = part["budget"] / 1e6
        ax.plot(x, part["mean"], color=colour, label=f"{s:.0%}")
        ax.fill_between(x, part["low"], part["high"], color=colour, alpha=0.2)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xscale(xscale)
    scale = ", log scale" if xscale == "log" else ""
    ax.set_xlabel(f"FLOPs budget (mean MFLOPs per sample{scale})")
    ax.set_ylabel("all at once − ordered (points)")
    ax.legend(title="sparsity", fontsize="small", ncol=2)
    ax.set_title("Best accuracy within a budget: strategy difference, 95 % interval over seeds")
    return fig


def plot_regions(gap: pd.DataFrame, edges: pd.DataFrame):
    """The gap by budget with the claims' regions marked, one panel per target sparsity.

    Args:
        gap: :func:`eelib.frontiers.gap_by_budget` output (points, FLOPs).
        edges: :func:`eelib.claims.region_edges` output: claim A's rising region (up to
            ``rising_end``, shaded blue) and claim B's high-accuracy region (from ``high_start``,
            shaded grey).

    Returns:
        The matplotlib Figure; gap in points, budgets in mean MFLOPs per sample.
    """
    sparsities = sorted(gap["sparsity"].unique())
    fig, axes = _pyplot().subplots(
        1, len(sparsities), figsize=(min(2.6 * len(sparsities), 9), 3.4), sharey=True, squeeze=False
    )
    edges = edges.set_index(edges["sparsity"].round(6))
    for ax, s in zip(axes[0], sparsities):
        part = gap[gap["sparsity"] == s]
        x = part["budget"] / 1e6
        ax.plot(x, part["mean"], color="black", linewidth=1.2)
        ax.fill_between(x, part["low"], part["high"], color="black", alpha=0.15)
        ax.axhline(0, color="black", linewidth=0.6)
        edge = edges.loc[round(s, 6)]
        ax.axvspan(x.min(), edge["rising_end"] / 1e6, color="tab:blue", alpha=0.12, label="A")
        if pd.notna(edge["high_start"]):
            ax.axvspan(edge["high_start"] / 1e6, x.max(), color="0.5", alpha=0.25, label="B: high")
        ax.set_title(f"sparsity {s:.0%}")
    axes[0, 0].set_ylabel("all at once − ordered (points)")
    axes[0, 0].legend(loc="upper right", fontsize="small")
    fig.supxlabel("FLOPs budget (mean MFLOPs per sample)", fontsize="medium")
    fig.suptitle("The gap by budget: A's rising region (blue), B's high-accuracy region (grey)")
    return fig


def _reaches(band: pd.DataFrame, level: float) -> float:
    """The first budget (FLOPs) at which a mean frontier reaches ``level``; NaN if never."""
    hit = band[band["mean"] >= level]
    return float(hit["budget"].iloc[0]) if len(hit) else float("nan")


def plot_flat_top(bands: pd.DataFrame, sparsity: float, bar: float):
    """Why a small accuracy gap can be a large FLOPs gap: both mean frontiers near their top.

    Near the top the frontiers are nearly flat, so the horizontal distance between them (FLOPs
    at equal accuracy) can be large where the vertical one (accuracy at equal FLOPs) is small.

    Args:
        bands: :func:`eelib.frontiers.frontier_bands` output.
        sparsity: the target sparsity to show (fraction).
        bar: the high-accuracy bar (fraction), drawn as a dotted line; the arrows are drawn
            at it, or 0.1 point under the lower of the two mean frontiers' tops where that one
            stays below the bar.

    Returns:
        The matplotlib Figure; accuracy in %, cost in mean MFLOPs per sample.
    """
    fig, ax = _pyplot().subplots(figsize=(7.5, 3.6))
    chosen = bands[bands["sparsity"].round(6) == round(sparsity, 6)]
    lines = {s: part.sort_values("budget") for s, part in chosen.groupby("strategy")}
    for strategy, band in lines.items():
        ax.plot(band["budget"] / 1e6, 100 * band["mean"], **STYLE[strategy])
    ax.axhline(100 * bar, color="0.3", linestyle=":", label="high-accuracy bar")
    # the arrows at the bar, or just under the lower top where a mean frontier stays below it
    level = min(bar, min(float(line["mean"].max()) for line in lines.values()) - 0.001)
    one, two = (_reaches(lines[s], level) for s in STRATEGIES)
    arrow = {"arrowstyle": "<->", "color": "tab:red"}
    ax.annotate("", (two / 1e6, 100 * level), (one / 1e6, 100 * level), arrowprops=arrow)
    ax.text(
        two / 1e6,
        100 * level - 0.1,
        f"  {100 * (1 - one / two):.0f} % fewer FLOPs at {100 * level:.1f} % accuracy",
        color="tab:red",
        va="top",
    )
    ordered = lines[STRATEGIES[1]]
    below = ordered[ordered["budget"] <= one]["mean"]
    if len(below):
        low = 100 * float(below.iloc[-1])
        arrow["color"] = "tab:purple"
        ax.annotate("", (one / 1e6, low), (one / 1e6, 100 * level), arrowprops=arrow)
        ax.text(
            one / 1e6,
            (low + 100 * level) / 2,
            f"  {100 * level - low:.1f} points at {one / 1e6:.2f} MFLOPs",
            color="tab:purple",
            va="center",
        )
    top = 100 * chosen["mean"].max()
    ax.set_ylim(100 * bar - 4, top + 0.8)
    ax.set_xlabel("mean MFLOPs per sample")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"Near the top, sparsity {sparsity:.0%}: a point up is many FLOPs across")
    return fig


def plot_exit_accuracies(exits: pd.DataFrame, sparsity: float, quoted: dict | None = None):
    """Accuracy of each exit (every sample forced out there) for both strategies at one sparsity.

    Args:
        exits: :func:`eelib.frontiers.exit_accuracy_table` output.
        sparsity: the target sparsity to show.
        quoted: optional ``{strategy: [accuracy % per exit]}`` figures quoted from the paper,
            drawn as hollow markers on a second x-axis scale (exit number).

    Returns:
        The matplotlib Figure; accuracy in %, error bars = 95 % interval over seeds.
    """
    fig, ax = _pyplot().subplots()
    chosen = exits[exits["sparsity"] == sparsity]
    for offset, (strategy, part) in zip((-0.1, 0.1), chosen.groupby("strategy", sort=False)):
        if strategy not in STRATEGIES:
            continue
        mean = 100 * part["mean"]
        error = [mean - 100 * part["low"], 100 * part["high"] - mean]
        ax.errorbar(
            part["exit"] + offset, mean, yerr=error, marker="o", capsize=3, **STYLE[strategy]
        )
    for strategy, values in (quoted or {}).items():
        ax.plot(
            range(1, len(values) + 1),
            values,
            marker="s",
            fillstyle="none",
            linestyle=":",
            color=STYLE[strategy]["color"],
            label=f"{STYLE[strategy]['label']} (paper, quoted)",
        )
    ax.set_xlabel("exit")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize="small")
    ax.set_title(f"Each exit alone, sparsity {sparsity:.0%}")
    return fig


VERDICT_COLOURS = {
    "holds": "#4c9a5b",
    "undecided": "#cfcfcf",
    "does not hold": "#c8553d",
    "no data": "#ffffff",
}
"""The colour of each verdict in :func:`plot_cube` (and of a cell without data)."""


def plot_cube(cube: pd.DataFrame):
    """The robustness cube as a grid of coloured cells: one panel per results file, a row per
    reading, a column per claim; a cell whose verdict differs from its reference is marked ✕.

    Args:
        cube: :func:`eelib.robustness.cube` output (or the report's ``cube`` records as a frame).

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    files = list(dict.fromkeys(cube["file"]))
    readings = list(dict.fromkeys(cube["reading"]))
    claims = list(dict.fromkeys(cube["claim"]))
    names = list(VERDICT_COLOURS)
    cells = cube.assign(verdict=cube["verdict"].where(cube["mean"].notna(), "no data"))
    fig, axes = _pyplot().subplots(
        1,
        len(files),
        figsize=(min(2.2 * len(files) + 3, 13), 0.28 * len(readings) + 2.2),
        sharey=True,
        squeeze=False,
    )
    for ax, file in zip(axes[0], files):
        part = cells[cells["file"] == file].set_index(["reading", "claim"])
        codes = [
            [
                names.index(part.loc[(r, c), "verdict"]) if (r, c) in part.index else 3
                for c in claims
            ]
            for r in readings
        ]
        ax.imshow(
            codes,
            cmap=ListedColormap(list(VERDICT_COLOURS.values())),
            vmin=0,
            vmax=3,
            aspect="auto",
        )
        for i, r in enumerate(readings):
            for j, c in enumerate(claims):
                if (r, c) in part.index and bool(part.loc[(r, c), "differs"]):
                    ax.text(j, i, "✕", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(claims)), claims, rotation=60, ha="right", fontsize="small")
        ax.set_title(file if len(file) < 28 else file[:26] + "…", fontsize="small")
        ax.grid(False)
        ax.set_xticks([j - 0.5 for j in range(1, len(claims))], minor=True)
        ax.set_yticks([i - 0.5 for i in range(1, len(readings))], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
    axes[0, 0].set_yticks(range(len(readings)), readings, fontsize="small")
    fig.legend(
        handles=[Patch(facecolor=v, edgecolor="0.6", label=k) for k, v in VERDICT_COLOURS.items()]
        + [Patch(color="white", label="✕ differs from its reference")],
        loc="outside lower center",
        ncol=5,
        fontsize="small",
        frameon=False,
    )
    fig.suptitle("The robustness cube: every reading × every results file")
    return fig

"""Schematics drawn from the code: the early-exit network and the two pruning strategies.

Two pictures the course returns to (book, chapters 0, 2 and 4): what an early-exit network is —
backbone stages, an exit head after each, the confidence rule that lets a sample leave — and what
each strategy of Görmez & Koyuncu (2022) trains and prunes, phase by phase. Both are drawn from a
real network or profile, so the FLOPs shares and the phases' lengths are the code's, not typed.
"""

from __future__ import annotations

import numpy as np

from .costs import compute_budget, exit_costs
from .models import EarlyExitNetwork
from .plots import _pyplot
from .profiles import Profile, build_model, validate

# one colour per part of the network, shared by both schematics
COLOURS = {"base": "#4c72b0", "exits": "#dd8452", "all": "#8172b3"}
PARTS = {"base": "base network", "exits": "exit heads", "all": "the whole network"}


def _box(ax, x, y, width, height, text, colour, alpha=0.25, **text_kw):
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch(
        (x, y), width, height, boxstyle="round,pad=0.02", fc=colour, ec=colour, alpha=alpha
    )
    ax.add_patch(patch)
    ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", **text_kw)


def _arrow(ax, start, end, colour="0.3", **kw):
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color=colour, lw=1.5, **kw))


def draw_early_exit_network(
    model: EarlyExitNetwork,
    input_shape: tuple[int, int, int],
    confidences=None,
    threshold: float | None = None,
):
    """The early-exit network as a row of backbone stages, each with its exit below it.

    Each exit is labelled with the share of the full network's FLOPs a sample has spent when it
    leaves there (:func:`eelib.exit_costs`: stages 1..k and heads 1..k). Given one sample's
    ``confidences`` (its max-softmax probability at each exit) and ``threshold`` τ, the figure
    marks where the confidence rule lets it leave: the first exit whose confidence is ≥ τ (the
    final exit takes every sample still left; book, chapter 2).

    Args:
        model: an :class:`eelib.EarlyExitNetwork` with K exits.
        input_shape: ``(C, H, W)`` of one image, for the FLOPs.
        confidences: None, or K numbers in [0, 1] (a tensor or a sequence).
        threshold: τ in [0, 1]; required with ``confidences``.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: ``confidences`` without ``threshold``, or not K numbers in [0, 1].
    """
    costs = exit_costs(model, input_shape).double().numpy()
    k_exits = len(costs)
    share = costs / costs[-1]
    leaves = None
    if confidences is not None:
        confidences = np.asarray(confidences, dtype=float).reshape(-1)
        if threshold is None or len(confidences) != k_exits:
            raise ValueError(
                f"confidences needs {k_exits} numbers (one per exit) and a threshold τ; got "
                f"{len(confidences)} numbers and threshold={threshold}"
            )
        if not ((0 <= confidences) & (confidences <= 1)).all() or not 0 <= threshold <= 1:
            raise ValueError("confidences and the threshold are probabilities in [0, 1]")
        passing = np.flatnonzero(confidences[:-1] >= threshold)
        leaves = int(passing[0]) if len(passing) else k_exits - 1
    fig, ax = _pyplot().subplots(figsize=(7.5, 3.2))
    ax.set_xlim(-0.9, k_exits + 0.1)
    ax.set_ylim(-1.75, 1.25)
    ax.axis("off")
    ax.text(-0.55, 0.75, "image", ha="center", va="center")
    for k in range(k_exits):
        final = k == k_exits - 1
        _box(ax, k + 0.1, 0.45, 0.7, 0.6, f"stage {k + 1}", COLOURS["base"])
        _arrow(ax, (k - 0.12 if k else -0.3, 0.75), (k + 0.08, 0.75))
        label = "final\nclassifier" if final else f"exit head {k + 1}"
        colour = COLOURS["base"] if final else COLOURS["exits"]
        _box(ax, k + 0.1, -0.55, 0.7, 0.5, label, colour, fontsize=9)
        _arrow(ax, (k + 0.45, 0.43), (k + 0.45, -0.03))
        text = f"{100 * share[k]:.0f} % of FLOPs"
        if confidences is not None:
            mark = "≥" if confidences[k] >= threshold else "<"
            text += f"\nconf. {confidences[k]:.2f} {mark} τ" if not final else "\ntakes the rest"
        weight = "bold" if k == leaves else "normal"
        ax.text(k + 0.45, -0.85, text, ha="center", va="top", fontsize=9, fontweight=weight)
        if k == leaves:
            _box(ax, k + 0.05, -1.7, 0.8, 2.8, "", "tab:green", alpha=0.12)
    title = "An early-exit network: a sample may leave at any exit"
    if leaves is not None:
        title = f"The confidence rule at τ = {threshold:g}: this sample leaves at exit {leaves + 1}"
    ax.set_title(title)
    return fig


def phases(profile: Profile, input_shape: tuple[int, int, int]) -> dict[str, list[tuple]]:
    """Each strategy's phases to its first target sparsity: ``(what, part trained, epochs)``.

    From the profile's schedule (book, chapter 4): all at once trains the whole network jointly
    for ``joint_epochs`` (where unset, the epochs that match the ordered strategy's training
    compute, :func:`eelib.costs.compute_budget`, on images of ``input_shape``), then runs
    ``prune_rounds`` rounds of (global pruning of one pool over every layer + ``finetune_epochs``
    of fine-tuning); ordered trains the base network for ``train_epochs``, prunes it in
    ``prune_rounds`` rounds, freezes it, trains the exit heads for ``head_epochs``
    (``train_epochs`` where unset) and prunes the heads' pool in as many rounds. A pruning step
    is drawn as a quarter of an epoch.
    """
    joint = profile.joint_epochs
    if joint is None:
        joint, _ = compute_budget(validate(profile), build_model(profile, seed=0), input_shape, 1)
    rounds, tune = profile.prune_rounds, profile.finetune_epochs
    once = [("train jointly", "all", joint)]
    once += [("prune", "all", 0.25), ("fine-tune", "all", tune)] * rounds
    ordered = [("train", "base", profile.train_epochs)]
    ordered += [("prune", "base", 0.25), ("fine-tune", "base", tune)] * rounds
    ordered += [("train", "exits", profile.head_epochs or profile.train_epochs)]
    ordered += [("prune", "exits", 0.25), ("fine-tune", "exits", tune)] * rounds
    return {"all at once": once, "ordered": ordered}


def draw_strategies(profile: Profile, input_shape: tuple[int, int, int]):
    """The two strategies as timelines of phases, one row each (:func:`phases`).

    A bar's length is its epochs, its colour what is trained (the whole network, the base
    network, or the exit heads on the frozen base); a hatched bar is a global magnitude pruning
    step of that part's pool. Returns the matplotlib figure.
    """
    from matplotlib.patches import Patch

    fig, ax = _pyplot().subplots(figsize=(7.5, 3.0))
    rows = phases(profile, input_shape)
    for y, (name, steps) in enumerate(reversed(rows.items())):
        start = 0.0
        for what, part, epochs in steps:
            pruning = what == "prune"
            style = {"alpha": 0.9, "hatch": "///"} if pruning else {"alpha": 0.45}
            ax.barh(y, epochs, left=start, height=0.5, color=COLOURS[part], ec="white", **style)
            if not pruning:
                label = what if epochs >= 2 else what.replace("-", "-\n")
                ax.text(start + epochs / 2, y, label, ha="center", va="center", fontsize=8)
            start += epochs
    ax.set_yticks(range(len(rows)), list(reversed(rows)))
    ax.set_xlabel("epochs (hatched: a global magnitude pruning step of that part's pool)")
    ax.set_title(f"What each strategy trains and prunes ({profile.name!r} profile, one target)")
    legend = [Patch(color=COLOURS[p], alpha=0.6, label=PARTS[p]) for p in PARTS]
    ax.legend(handles=legend, title="trained and pruned", loc="upper right", fontsize=9)
    ax.grid(False)
    return fig

"""The explorer of chapter 6: results in, figure and numbers out.

Plain functions do the work and are tested without a browser: :func:`select_run` picks one
network's trade-off curve, :func:`operating_point` reads the confidence rule at a threshold τ,
:func:`draw_explorer` draws both. :func:`explorer` wires them to ipywidgets for a live kernel, and
:func:`plotly_explorer` precomputes the same views for a page without a kernel (the static book),
as a Plotly figure with a τ slider and a strategy/sparsity menu.

``results`` are rows as :func:`eelib.run_experiment` returns them (one row per strategy, sparsity,
seed and threshold).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .early_exit import check_threshold
from .frontiers import pareto_frontier
from .results import RUN, num_exits
from .results import runs as _runs

LABELS = {"dense": "dense (unpruned)", "all-at-once": "all at once", "ordered": "ordered"}
"""The legend label of each strategy."""
COLOURS = {"dense": "#666666", "all-at-once": "#1f77b4", "ordered": "#ff7f0e"}
"""The colour of each strategy (matplotlib's tab blue and orange, as :data:`eelib.plots.STYLE`)."""


def runs(results: pd.DataFrame) -> pd.DataFrame:
    """The networks in ``results``: one row per (strategy, sparsity, seed), in the order they come
    (the first columns of :func:`eelib.results.runs`)."""
    return _runs(results)[RUN]


def select_run(results: pd.DataFrame, strategy: str, sparsity: float, seed: int) -> pd.DataFrame:
    """The trade-off curve of one network, sorted by threshold.

    ``"dense"`` has one network per seed whatever ``sparsity`` says. Raises ValueError naming the
    networks there are when no network matches.
    """
    rows = results[(results["strategy"] == strategy) & (results["seed"] == seed)]
    if strategy != "dense":
        rows = rows[np.isclose(rows["sparsity"], sparsity)]
    if rows.empty:
        have = ", ".join(
            f"{r.strategy} {r.sparsity:g} seed {r.seed}" for r in runs(results).itertuples()
        )
        raise ValueError(
            f"no results for {strategy} at sparsity {sparsity:g}, seed {seed}; there are: {have}"
        )
    return rows.sort_values("threshold").reset_index(drop=True)


def operating_point(curve: pd.DataFrame, threshold: float) -> dict:
    """The confidence rule at the grid threshold nearest to ``threshold``.

    Returns ``threshold`` (the grid value used), ``accuracy`` (fraction), ``mflops`` (mean MFLOPs
    per sample) and ``shares`` (fraction of samples leaving at each exit, shallow to deep).
    Raises ValueError for a threshold outside [0, 1].
    """
    threshold = check_threshold(threshold)
    row = curve.iloc[int((curve["threshold"] - threshold).abs().argmin())]
    K = num_exits(curve)
    return {
        "threshold": float(row["threshold"]),
        "accuracy": float(row["accuracy"]),
        "mflops": float(row["flops"]) / 1e6,
        "shares": [float(row[f"exit_{k}"]) for k in range(1, K + 1)],
    }


def readout(point: dict) -> str:
    """One line of text for an operating point."""
    return (
        f"τ = {point['threshold']:.2f}: accuracy {100 * point['accuracy']:.1f} %, "
        f"{point['mflops']:.3f} mean MFLOPs per image"
    )


def draw_explorer(
    results: pd.DataFrame, strategy: str, sparsity: float, seed: int, threshold: float, fig=None
):
    """The explorer's figure: the network's trade-off curve with the point at τ, and where images leave.

    Left: the Pareto frontier (line) and every threshold (dots) of the chosen network, the dense
    network's frontier for reference, and the operating point at τ. Right: the share of images
    leaving at each exit at τ. Draws into ``fig`` (cleared first) or a new figure.

    Returns:
        ``(figure, point)``, where ``point`` is :func:`operating_point`'s dict.
    """
    import matplotlib.pyplot as plt

    curve = select_run(results, strategy, sparsity, seed)
    point = operating_point(curve, threshold)
    if fig is None:
        fig = plt.figure(figsize=(8, 3.4))
    fig.clear()
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    if strategy != "dense":
        dense = pareto_frontier(select_run(results, "dense", 0.0, seed))
        left.plot(
            dense["flops"] / 1e6,
            100 * dense["accuracy"],
            "--",
            color=COLOURS["dense"],
            label=LABELS["dense"],
        )
    front = pareto_frontier(curve)
    left.plot(curve["flops"] / 1e6, 100 * curve["accuracy"], ".", color="0.75", markersize=3)
    left.plot(
        front["flops"] / 1e6,
        100 * front["accuracy"],
        color=COLOURS[strategy],
        label=_network_name(strategy, sparsity),
    )
    left.plot(
        point["mflops"],
        100 * point["accuracy"],
        "o",
        color="tab:red",
        markersize=9,
        label=f"τ = {point['threshold']:.2f}",
    )
    left.set_xlabel("mean MFLOPs per image")
    left.set_ylabel("test accuracy (%)")
    left.set_title("Accuracy–FLOPs trade-off")
    left.legend(loc="lower right", fontsize=8)
    exits = [f"exit {k}" for k in range(1, len(point["shares"]))] + ["final"]
    right.bar(exits, [100 * s for s in point["shares"]], color=COLOURS[strategy])
    right.set_ylim(0, 100)
    right.set_ylabel("images leaving here (%)")
    right.set_title("Where images leave")
    right.tick_params(axis="x", rotation=45)
    fig.suptitle(readout(point), fontsize=11)
    return fig, point


def explorer(results: pd.DataFrame):
    """A live ipywidgets explorer: τ slider, strategy, sparsity and seed menus, figure and readout.

    Returns the widget (an ``ipywidgets.VBox``); display it in a notebook. The figure is redrawn
    into an ``ipywidgets.Image`` (PNG) and the numbers into an ``ipywidgets.HTML`` whenever a control
    changes. ``.controls`` holds the four controls and ``.state`` the operating point drawn last,
    so code (and the tests) can drive it.
    """
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    networks = runs(results)
    pruned = sorted(networks.loc[networks["strategy"] != "dense", "sparsity"].unique())
    thresholds = np.sort(results["threshold"].unique())
    controls = {
        "threshold": widgets.SelectionSlider(
            options=[(f"{t:.2f}", float(t)) for t in thresholds],
            value=float(thresholds[len(thresholds) * 9 // 10]),
            description="τ",
            continuous_update=True,
        ),
        "strategy": widgets.Dropdown(
            options=[(LABELS[s], s) for s in networks["strategy"].unique()],
            value="all-at-once",
            description="strategy",
        ),
        "sparsity": widgets.Dropdown(
            options=[(f"{s:.0%}", float(s)) for s in pruned],
            value=float(pruned[-1]),
            description="sparsity",
        ),
        "seed": widgets.Dropdown(
            options=[int(s) for s in networks["seed"].unique()], description="seed"
        ),
    }
    image, text = widgets.Image(format="png"), widgets.HTML()
    with plt.ioff():
        fig = plt.figure(figsize=(8, 3.4))
    box = widgets.VBox(
        [
            widgets.HBox([controls["strategy"], controls["sparsity"], controls["seed"]]),
            controls["threshold"],
            text,
            image,
        ]
    )
    box.controls, box.state = controls, {}

    def redraw(_=None):
        values = (controls[k].value for k in ("strategy", "sparsity", "seed", "threshold"))
        _, box.state = draw_explorer(results, *values, fig=fig)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=90)
        image.value = png.getvalue()
        shares = ", ".join(f"{100 * s:.0f} %" for s in box.state["shares"])
        text.value = f"<b>{readout(box.state)}</b>; leaving at each exit: {shares}"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return box


def plotly_explorer(results: pd.DataFrame, seed: int | None = None, steps: int = 51):
    """The explorer for a page without a kernel: a Plotly figure with a τ slider and a network menu.

    Every (strategy, sparsity) network of ``seed`` (default: the first) gets its Pareto frontier and
    its operating point; the menu shows one network at a time (with the dense frontier for
    reference) and the slider moves the point and the bars of where images leave through ``steps``
    thresholds evenly spread over [0, 1] (each read at the nearest threshold of the results). All
    views are precomputed, so the figure works in static HTML.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    from plotly.subplots import make_subplots

    seed = int(runs(results)["seed"].iloc[0]) if seed is None else seed
    networks = runs(results)
    networks = networks[networks["seed"] == seed].reset_index(drop=True)
    curves = [select_run(results, n.strategy, n.sparsity, seed) for n in networks.itertuples()]
    taus = np.linspace(0, 1, steps)
    points = [[operating_point(c, t) for t in taus] for c in curves]  # [network][step]
    exits = [f"exit {k}" for k in range(1, num_exits(results))] + ["final"]
    dense_index = next(
        (i for i, n in enumerate(networks.itertuples()) if n.strategy == "dense"), None
    )

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.68, 0.32],
        subplot_titles=("Accuracy–FLOPs trade-off", "Where images leave"),
    )
    start = int(0.9 * (steps - 1))
    names = [_network_name(n.strategy, n.sparsity) for n in networks.itertuples()]
    for network, name, curve, along in zip(networks.itertuples(), names, curves, points):
        front = pareto_frontier(curve)
        _add_network(fig, name, COLOURS[network.strategy], front, along[start], exits)
    default = len(curves) - 1
    for j, shown in enumerate(_visible(default, len(curves), dense_index)):
        fig.data[j].visible = shown
    menu = _menu(names, dense_index)
    _layout(fig, menu, default, _slider_steps(points, taus, exits), start, seed)
    return fig


_PER_NETWORK = 3
"""Traces per network in :func:`plotly_explorer`: its frontier, its point at τ, its bars."""


def _network_name(strategy: str, sparsity: float) -> str:
    """A network's legend label: its strategy, and its sparsity unless it is dense."""
    return LABELS[strategy] + ("" if strategy == "dense" else f", {sparsity:.0%} sparse")


def _add_network(fig, name: str, colour: str, front: pd.DataFrame, point: dict, exits: list):
    """One network's traces: its Pareto frontier, its operating point and where images leave."""
    import plotly.graph_objects as go

    fig.add_trace(
        go.Scatter(
            x=front["flops"] / 1e6,
            y=100 * front["accuracy"],
            mode="lines+markers",
            marker={"size": 3},
            line={"color": colour},
            name=name,
            hovertemplate="%{x:.3f} MFLOPs, %{y:.1f} %<extra></extra>",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=[point["mflops"]],
            y=[100 * point["accuracy"]],
            mode="markers",
            marker={"size": 13, "color": "crimson"},
            name="τ",
            showlegend=False,
            hovertemplate="%{x:.3f} MFLOPs, %{y:.1f} %<extra>τ</extra>",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Bar(
            x=exits,
            y=[100 * s for s in point["shares"]],
            marker={"color": colour},
            showlegend=False,
            hovertemplate="%{y:.1f} %<extra></extra>",
        ),
        1,
        2,
    )


def _visible(i: int, count: int, dense_index: int | None) -> list[bool]:
    """Which of the traces of ``count`` networks show when network ``i`` is picked: its own, and
    the dense frontier for reference."""
    shown = [False] * (_PER_NETWORK * count)
    shown[_PER_NETWORK * i : _PER_NETWORK * (i + 1)] = [True] * _PER_NETWORK
    if dense_index is not None and dense_index != i:
        shown[_PER_NETWORK * dense_index] = True  # the dense frontier, for reference
    return shown


def _menu(names: list[str], dense_index: int | None) -> list[dict]:
    """The network menu's buttons, one per network, each showing its traces."""
    return [
        {
            "label": name,
            "method": "update",
            "args": [{"visible": _visible(i, len(names), dense_index)}],
        }
        for i, name in enumerate(names)
    ]


def _slider_steps(points: list[list[dict]], taus: np.ndarray, exits: list) -> list[dict]:
    """The τ slider's steps: each moves every network's point and bars to its value at τ."""
    count = len(points)
    point_traces = [_PER_NETWORK * i + 1 for i in range(count)]
    bar_traces = [_PER_NETWORK * i + 2 for i in range(count)]
    return [
        {
            "label": f"{t:.2f}",
            "method": "restyle",
            "args": [
                {
                    "x": [[points[i][s]["mflops"]] for i in range(count)] + [exits] * count,
                    "y": [[100 * points[i][s]["accuracy"]] for i in range(count)]
                    + [[100 * v for v in points[i][s]["shares"]] for i in range(count)],
                },
                point_traces + bar_traces,
            ],
        }
        for s, t in enumerate(taus)
    ]


def _layout(fig, menu: list[dict], default: int, steps: list[dict], start: int, seed: int):
    """The explorer's network menu, τ slider, size, titles and axes."""
    fig.update_layout(
        updatemenus=[
            {
                "buttons": menu,
                "active": default,
                "x": 0,
                "xanchor": "left",
                "y": 1.28,
                "yanchor": "top",
            }
        ],
        sliders=[
            {
                "steps": steps,
                "active": start,
                "currentvalue": {"prefix": "τ = "},
                "pad": {"t": 50},
            }
        ],
        height=470,
        margin={"t": 110, "l": 60, "r": 20, "b": 40},
        template="simple_white",
        legend={"x": 0.36, "y": 0.02, "xanchor": "left", "yanchor": "bottom"},
        title={"text": f"Seed {seed}: pick a network, move τ", "x": 0.5, "y": 0.98},
    )
    fig.update_xaxes(title_text="mean MFLOPs per image", row=1, col=1)
    fig.update_yaxes(title_text="test accuracy (%)", row=1, col=1)
    fig.update_yaxes(title_text="images leaving (%)", range=[0, 100], row=1, col=2)

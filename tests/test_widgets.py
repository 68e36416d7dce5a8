"""eelib.widgets: the explorer's logic without a browser, the live widget driven from code, the static figure."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from eelib import tradeoff_curve, widgets

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def results():
    """Results shaped like run_experiment's: dense + two strategies at two sparsities, one seed."""
    curves = []
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (300,), generator=g)
    for i, (strategy, target) in enumerate(
        [
            ("dense", 0.0),
            ("all-at-once", 0.5),
            ("ordered", 0.5),
            ("all-at-once", 0.8),
            ("ordered", 0.8),
        ]
    ):
        probs = (2 * torch.randn(3, 300, 10, generator=g)).softmax(dim=2)
        costs = torch.tensor([1e5, 2e5, 3e5]) * (1 - target)
        curve = tradeoff_curve(probs, labels, costs, np.linspace(0, 1, 21))
        curve.insert(0, "seed", 0)
        curve.insert(0, "sparsity", target)
        curve.insert(0, "strategy", strategy)
        for k in range(3):
            curve[f"exit_{k + 1}_accuracy"] = (probs[k].argmax(1) == labels).double().mean().item()
            curve[f"exit_{k + 1}_flops"] = costs[: k + 1].sum().item()
        curves.append(curve)
    return pd.concat(curves, ignore_index=True)


def test_select_run_and_its_errors(results):
    assert len(widgets.select_run(results, "ordered", 0.8, 0)) == 21
    assert len(widgets.select_run(results, "dense", 0.5, 0)) == 21, "dense has one network per seed"
    with pytest.raises(ValueError, match="there are: dense 0 seed 0"):
        widgets.select_run(results, "ordered", 0.9, 0)


def test_operating_point_reads_the_nearest_threshold(results):
    curve = widgets.select_run(results, "all-at-once", 0.5, 0)
    point = widgets.operating_point(curve, 0.52)
    row = curve[curve["threshold"] == 0.5].iloc[0]
    assert point["threshold"] == 0.5 and point["accuracy"] == row["accuracy"]
    assert point["mflops"] == pytest.approx(row["flops"] / 1e6)
    assert sum(point["shares"]) == pytest.approx(1.0) and len(point["shares"]) == 3
    assert widgets.operating_point(curve, 0.0)["shares"][0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        widgets.operating_point(curve, 1.5)


def test_draw_explorer_moves_the_point_with_tau(results):
    fig, low = widgets.draw_explorer(results, "ordered", 0.8, 0, 0.1)
    _, high = widgets.draw_explorer(results, "ordered", 0.8, 0, 0.95, fig=fig)
    assert high["mflops"] > low["mflops"]
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "mean MFLOPs per image"
    assert widgets.readout(high).startswith("τ = 0.95: accuracy")


def test_live_widget_redraws_when_its_controls_change(results):
    box = widgets.explorer(results)
    controls = box.controls
    assert set(controls) == {"threshold", "strategy", "sparsity", "seed"}
    before, picture = dict(box.state), box.children[-1].value
    controls["threshold"].value = 0.0
    assert box.state != before and box.state["shares"][0] == pytest.approx(1.0)
    controls["strategy"].value = "dense"
    assert box.state["mflops"] == pytest.approx(0.1), "τ = 0: everyone leaves at exit 1 (1e5 FLOPs)"
    assert box.children[-1].value != picture and box.children[-1].value[:4] == b"\x89PNG"
    assert "accuracy" in box.children[2].value


def test_plotly_explorer_precomputes_every_view(results):
    fig = widgets.plotly_explorer(results, steps=11)
    assert len(fig.data) == 3 * 5  # frontier, point and bars per network
    assert len(fig.layout.sliders[0].steps) == 11
    assert len(fig.layout.updatemenus[0].buttons) == 5
    first, last = fig.layout.sliders[0].steps[0], fig.layout.sliders[0].steps[-1]
    assert list(first.args[1]) == list(last.args[1]) == [1, 4, 7, 10, 13, 2, 5, 8, 11, 14]
    assert first.args[0]["x"][4][0] < last.args[0]["x"][4][0], "a higher τ costs more FLOPs"
    shown = fig.layout.updatemenus[0].buttons[2].args[0]["visible"]
    assert shown[6:9] == [True] * 3 and shown[0] and not any(shown[3:6])

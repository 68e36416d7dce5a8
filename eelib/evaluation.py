"""One network's rows of the results table: its trade-off curve swept on the test set (and on the
validation split), each part's sparsity and the layers that collapsed (:mod:`eelib.results`
defines the columns; :mod:`eelib.experiment` calls :func:`evaluate` for every network it records).
"""

from __future__ import annotations

import pandas as pd

from .costs import exit_costs
from .early_exit import exit_accuracy, predict_all_exits, tradeoff_curve
from .models import SCOPES
from .pruning import layer_sparsity, part_sparsity, sparsity
from .results import COLLAPSED, exit_accuracy_column, exit_flops_column, part_column


def evaluate(model, test_set, thresholds, device=None, val_set=None) -> pd.DataFrame:
    """One network's rows of the table: its trade-off curve and run-level columns.

    Args:
        model: an :class:`eelib.EarlyExitNetwork` (pruning masks attached, if pruned).
        test_set: the images the curve is swept on (the paper sweeps on test).
        thresholds: confidence thresholds in [0, 1], 1-D.
        device: where to run the network.
        val_set: the validation split; its curve gives ``val_accuracy`` and ``val_flops``.

    Returns:
        One row per threshold with the columns listed in :mod:`eelib.results`' description (all but
        ``strategy``, ``sparsity`` and ``seed``, which the runner adds).
    """
    probs, labels = predict_all_exits(model, test_set, device=device)
    costs = exit_costs(model, test_set[0][0].shape)
    curve = tradeoff_curve(probs, labels, costs, thresholds)
    if val_set is not None:
        val = tradeoff_curve(*predict_all_exits(model, val_set, device=device), costs, thresholds)
        curve["val_accuracy"], curve["val_flops"] = val["accuracy"], val["flops"]
    for scope in SCOPES:
        curve[part_column(scope)] = sparsity(model, scope)
    for part, value in part_sparsity(model).items():
        curve[part_column(part)] = value
    layers = layer_sparsity(model)
    curve["collapsed_layers"] = ";".join(layers.loc[layers["sparsity"] >= COLLAPSED, "layer"])
    for k, (acc, flops) in enumerate(zip(exit_accuracy(probs, labels).tolist(), costs.tolist()), 1):
        curve[exit_accuracy_column(k)] = acc
        curve[exit_flops_column(k)] = flops
    return curve

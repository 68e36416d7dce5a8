import numpy as np
import pandas as pd
import pytest

from eelib import best_accuracy_within, compare_strategies


def test_best_accuracy_within_a_budget():
    curve = pd.DataFrame({"flops": [1.0, 2.0, 3.0, 4.0], "accuracy": [0.5, 0.7, 0.6, 0.9]})
    got = best_accuracy_within(curve, [0.5, 1.0, 2.5, 3.9, 10.0])
    assert np.isnan(got[0])
    assert got[1:].tolist() == [0.5, 0.7, 0.7, 0.9]


def _run(strategy, flops, accuracy, exit_acc):
    frame = pd.DataFrame({"flops": flops, "accuracy": accuracy})
    frame["strategy"], frame["sparsity"], frame["seed"] = strategy, 0.9, 0
    frame["exit_1_accuracy"], frame["exit_2_accuracy"] = exit_acc
    return frame


def test_compare_strategies_on_known_curves():
    # all at once is 10 points better everywhere on the shared range [1, 3]
    one = _run("all-at-once", [1.0, 2.0, 3.0], [0.6, 0.7, 0.8], (0.6, 0.8))
    two = _run("ordered", [1.0, 2.0, 3.0, 4.0], [0.5, 0.6, 0.7, 0.75], (0.5, 0.85))
    table = compare_strategies(pd.concat([one, two]), points=5)
    row = table.iloc[0]
    assert (row["budget_low"], row["budget_high"]) == (1.0, 3.0)
    assert row["mean_gap"] == pytest.approx(10) and row["min_gap"] == pytest.approx(10)
    assert row["exit_1_gap"] == pytest.approx(10) and row["exit_2_gap"] == pytest.approx(-5)

import numpy as np
import pandas as pd
import pytest
import torch

from eelib import confidence_exit, exit_accuracy, pareto_frontier, predict_all_exits, tradeoff_curve


def _probs(rows):
    """(K, N, C) from nested lists."""
    return torch.tensor(rows, dtype=torch.float32)


def test_confidence_rule_on_hand_made_probabilities():
    probs = _probs(
        [
            [[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]],
            [[0.2, 0.8], [0.3, 0.7], [0.55, 0.45]],
            [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]],
        ]
    )
    assert confidence_exit(probs, 0.8).tolist() == [0, 2, 2]
    assert confidence_exit(probs, 0.7).tolist() == [0, 1, 2]
    assert confidence_exit(probs, 0.6).tolist() == [0, 0, 2], "≥: a confidence equal to τ leaves"
    assert confidence_exit(probs, 0.0).tolist() == [0, 0, 0]
    assert confidence_exit(probs, 1.0).tolist() == [2, 2, 2]
    assert confidence_exit(probs, 1.0).dtype == torch.int64


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), "0.5", None])
def test_threshold_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        confidence_exit(torch.full((2, 3, 4), 0.25), bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tradeoff_curve(
            torch.full((2, 3, 4), 0.25), torch.zeros(3, dtype=torch.int64), [1.0, 2.0], [0.5, bad]
        )


def _random_case(K=4, N=500, C=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    probs = torch.randn(K, N, C, generator=g).mul(2).softmax(dim=2)
    labels = torch.randint(0, C, (N,), generator=g)
    costs = torch.tensor([1.0, 2.5, 4.0, 10.0][:K])
    return probs, labels, costs


def test_curve_equals_the_rule_applied_threshold_by_threshold():
    probs, labels, costs = _random_case()
    confidences = probs.max(dim=2).values.flatten()[:50].double().tolist()  # ties with τ exactly
    thresholds = sorted(set(np.linspace(0, 1, 41).tolist() + confidences))
    curve = tradeoff_curve(probs, labels, costs, thresholds)
    predictions = probs.argmax(dim=2)
    for row in curve.itertuples():
        exits = confidence_exit(probs, row.threshold)
        chosen = predictions.gather(0, exits[None]).squeeze(0)
        assert row.accuracy == pytest.approx((chosen == labels).double().mean().item(), abs=1e-12)
        assert row.flops == pytest.approx(costs[exits].double().mean().item())
        fractions = torch.bincount(exits, minlength=4).double() / len(labels)
        assert [getattr(row, f"exit_{k}") for k in range(1, 5)] == pytest.approx(fractions.tolist())


def test_curve_ends():
    probs, labels, costs = _random_case(K=3)
    curve = tradeoff_curve(probs, labels, costs, [0.0, 1.0])
    acc = exit_accuracy(probs, labels)
    assert curve.loc[0, "exit_1"] == 1.0 and curve.loc[0, "flops"] == costs[0].item()
    assert curve.loc[0, "accuracy"] == pytest.approx(acc[0].item())
    assert curve.loc[1, "exit_3"] == 1.0 and curve.loc[1, "accuracy"] == pytest.approx(
        acc[2].item()
    )
    assert list(curve.columns) == ["threshold", "accuracy", "flops", "exit_1", "exit_2", "exit_3"]
    assert np.allclose(curve[["exit_1", "exit_2", "exit_3"]].sum(axis=1), 1.0)


def test_curve_shape_errors():
    probs, labels, costs = _random_case(K=3)
    with pytest.raises(ValueError, match="costs"):
        tradeoff_curve(probs, labels, costs[:2], [0.5])
    with pytest.raises(ValueError, match="K exits"):
        tradeoff_curve(probs[0], labels, costs, [0.5])


def test_pareto_frontier_keeps_only_non_dominated_points():
    curve = pd.DataFrame(
        {"flops": [1, 2, 2, 3, 4, 5, 5], "accuracy": [0.5, 0.7, 0.6, 0.65, 0.8, 0.8, 0.9]}
    )
    front = pareto_frontier(curve)
    assert list(zip(front["flops"], front["accuracy"])) == [(1, 0.5), (2, 0.7), (4, 0.8), (5, 0.9)]


def test_predict_all_exits(model, tiny_set):
    probs, labels = predict_all_exits(model, tiny_set, batch_size=10)
    assert probs.shape == (3, 64, 10) and labels.shape == (64,) and labels.dtype == torch.int64
    assert torch.allclose(probs.sum(dim=2), torch.ones(3, 64))
    assert model.training, "the model's mode is restored"
    loader = torch.utils.data.DataLoader(tiny_set, batch_size=7)
    again, _ = predict_all_exits(model, loader)
    assert torch.allclose(probs, again, atol=1e-6)

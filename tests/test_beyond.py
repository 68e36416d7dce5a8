"""Beyond the paper: other exit rules, measured latency, structured pruning with Torch-Pruning."""

import copy
import math

import numpy as np
import pytest
import torch

from eelib import (
    EarlyExitCNN,
    confidence_exit,
    entropy_exit,
    exit_costs,
    exit_latency,
    global_magnitude_prune,
    pareto_frontier,
    patience_exit,
    rule_curve,
    run_to_exit,
    structured_prune,
    tradeoff_curve,
)


def _probs(seed=0, K=4, N=400, C=10):
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(K, N, C, generator=g)).softmax(dim=2)


def entropy_exit_per_sample(probs, threshold):
    """The rule written plainly, one sample at a time."""
    K, N, C = probs.shape
    exits = []
    for n in range(N):
        for k in range(K):
            p = probs[k, n]
            entropy = -sum(float(q) * math.log(max(float(q), 1e-12)) for q in p) / math.log(C)
            if k == K - 1 or entropy <= threshold:
                exits.append(k)
                break
    return torch.tensor(exits)


def patience_exit_per_sample(probs, patience):
    K, N, _ = probs.shape
    exits = []
    for n in range(N):
        predictions = [int(probs[k, n].argmax()) for k in range(K)]
        for k in range(K):
            window = predictions[max(0, k - patience + 1) : k + 1]
            if k == K - 1 or (len(window) == patience and len(set(window)) == 1):
                exits.append(k)
                break
    return torch.tensor(exits)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.6, 0.8, 1.0])
def test_entropy_rule_matches_the_per_sample_reference(threshold):
    probs = _probs()
    assert torch.equal(entropy_exit(probs, threshold), entropy_exit_per_sample(probs, threshold))


@pytest.mark.parametrize("patience", [1, 2, 3, 4, 5])
def test_patience_rule_matches_the_per_sample_reference(patience):
    probs = _probs(1)
    assert torch.equal(patience_exit(probs, patience), patience_exit_per_sample(probs, patience))


def test_rule_extremes():
    probs = _probs(2)
    assert (entropy_exit(probs, 1.0) == 0).all(), "threshold 1: everyone leaves at exit 1"
    assert (patience_exit(probs, 1) == 0).all(), "patience 1: everyone leaves at exit 1"
    assert (patience_exit(probs, 5) == 3).all(), "patience above K: everyone runs to the end"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_patience_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="patience"):
        patience_exit(_probs(), bad)


def test_entropy_threshold_outside_unit_interval_is_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        entropy_exit(_probs(), 1.2)


def test_rule_curve_of_the_confidence_rule_equals_tradeoff_curve():
    probs, costs = _probs(3), torch.tensor([1.0, 2.0, 3.0, 4.0])
    labels = torch.randint(0, 10, (400,), generator=torch.Generator().manual_seed(3))
    thresholds = np.linspace(0, 1, 11)
    general = rule_curve(probs, labels, costs, confidence_exit, thresholds)
    fast = tradeoff_curve(probs, labels, costs, thresholds)
    assert list(general.columns) == list(fast.columns), "one curve format"
    assert np.allclose(general["threshold"], fast["threshold"])
    assert np.allclose(general["accuracy"], fast["accuracy"])
    assert np.allclose(general["flops"], fast["flops"])
    assert np.allclose(
        general[[f"exit_{k}" for k in range(1, 5)]], fast[[f"exit_{k}" for k in range(1, 5)]]
    )
    in_time = rule_curve(probs, labels, costs / 1e3, confidence_exit, thresholds, cost="seconds")
    assert np.allclose(in_time["seconds"], fast["flops"] / 1e3)
    assert pareto_frontier(in_time, cost="seconds").index.equals(pareto_frontier(fast).index)
    with pytest.raises(ValueError, match="costs"):
        rule_curve(probs, labels, costs[:3], confidence_exit, thresholds)


def test_run_to_exit_gives_the_first_exits_of_forward(model):
    x = torch.randn(3, 1, 28, 28)
    model.eval()
    full = model(x)
    for k in range(model.num_exits):
        partial = run_to_exit(model, x, k)
        assert len(partial) == k + 1 and all(torch.equal(a, b) for a, b in zip(partial, full))


def test_exit_latency_reports_every_exit(model):
    table = exit_latency(model, (1, 28, 28), min_run_time=0.01)
    assert list(table["exit"]) == [1, 2, 3]
    assert (table["median_ms"] > 0).all() and (table["iqr_ms"] >= 0).all()
    assert torch.is_grad_enabled(), "the measurement leaves autograd as it was"
    with pytest.raises(ValueError, match="batch_size"):
        exit_latency(model, (1, 28, 28), batch_size=0)


@pytest.mark.parametrize("scope", ["all", "base"])
def test_structured_pruning_makes_a_smaller_working_network(model, scope):
    before = exit_costs(model, (1, 28, 28))
    pruned = structured_prune(copy.deepcopy(model), 0.5, (1, 28, 28), scope=scope)
    channels = [stage[0].out_channels for stage in pruned.stages]
    assert sum(channels) == pytest.approx(0.5 * (8 + 16 + 32), abs=2)
    assert all(c >= 1 for c in channels), "no layer collapses"
    outputs = pruned(torch.zeros(2, 1, 28, 28))
    assert [tuple(z.shape) for z in outputs] == [(2, 10)] * 3, "classes are never pruned"
    after = exit_costs(pruned, (1, 28, 28))
    assert (after <= 0.55 * before).all() and after[-1] < 0.5 * before[-1]


def test_structured_pruning_refuses_bad_input(model):
    with pytest.raises(ValueError, match="channel_sparsity"):
        structured_prune(model, 1.0, (1, 28, 28))
    with pytest.raises(ValueError, match="scope"):
        structured_prune(model, 0.5, (1, 28, 28), scope="exits")
    global_magnitude_prune(model, 0.5)
    with pytest.raises(ValueError, match="remove_masks"):
        structured_prune(model, 0.5, (1, 28, 28))


def test_structured_pruning_at_zero_changes_nothing(model):
    state = copy.deepcopy(model.state_dict())
    structured_prune(model, 0.0, (1, 28, 28))
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert isinstance(model, EarlyExitCNN)

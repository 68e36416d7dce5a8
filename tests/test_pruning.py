import copy

import pytest
import torch

from eelib import (
    EarlyExitCNN,
    global_magnitude_prune,
    layer_sparsity,
    part_sparsity,
    prune_all_at_once,
    prune_base,
    prune_heads,
    prune_ordered,
    remove_masks,
    sparsity,
    sparsity_schedule,
    train,
)


def _weights(model, scope):
    return [getattr(m, n).detach().clone() for m, n in model.prunable(scope)]


def _count(model, scope):
    return sum(getattr(m, n).numel() for m, n in model.prunable(scope))


@pytest.mark.parametrize("scope", ["all", "base", "exits"])
@pytest.mark.parametrize("target", [0.0, 0.3, 0.77, 0.95])
def test_target_sparsity_is_reached_to_within_one_weight(model, scope, target):
    global_magnitude_prune(model, target, scope)
    assert abs(sparsity(model, scope) - target) <= 1 / _count(model, scope)


def test_iterative_pruning_rises_and_keeps_earlier_zeros(model):
    global_magnitude_prune(model, 0.5)
    zero_before = [w == 0 for w in _weights(model, "all")]
    global_magnitude_prune(model, 0.8)
    assert abs(sparsity(model) - 0.8) <= 1 / _count(model, "all")
    assert all((w[z] == 0).all() for w, z in zip(_weights(model, "all"), zero_before))


def test_pruning_removes_the_smallest_magnitudes_globally(model):
    before = torch.cat([w.flatten() for w in _weights(model, "all")]).abs()
    global_magnitude_prune(model, 0.6)
    after = torch.cat([w.flatten() for w in _weights(model, "all")])
    removed, kept = before[after == 0], before[after != 0]
    assert removed.max() <= kept.min()


@pytest.mark.parametrize("scope,other", [("base", "exits"), ("exits", "base")])
def test_weights_outside_the_scope_are_untouched(model, scope, other):
    outside = _weights(model, other)
    global_magnitude_prune(model, 0.9, scope)
    assert all(torch.equal(a, b) for a, b in zip(outside, _weights(model, other)))
    assert sparsity(model, other) == 0.0


@pytest.mark.parametrize("bad", [1.5, 1.0, -0.1, "0.5", float("nan"), True])
def test_bad_sparsity_is_refused(model, bad):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        global_magnitude_prune(model, bad)


def test_target_below_current_sparsity_is_refused(model):
    global_magnitude_prune(model, 0.7)
    with pytest.raises(ValueError, match="already pruned"):
        global_magnitude_prune(model, 0.5)


def test_schedule():
    steps = sparsity_schedule(0.9, 3)
    assert len(steps) == 3 and steps[-1] == pytest.approx(0.9)
    remaining = [1 - s for s in [0.0, *steps]]
    ratios = [b / a for a, b in zip(remaining, remaining[1:])]
    assert ratios == pytest.approx([ratios[0]] * 3), (
        "each step removes the same fraction of what is left"
    )
    with pytest.raises(ValueError):
        sparsity_schedule(0.9, 0)


def test_layer_sparsity_table_and_remove_masks(model):
    global_magnitude_prune(model, 0.8)
    table = layer_sparsity(model)
    assert list(table.columns) == ["layer", "part", "weights", "sparsity"]
    assert (table["weights"] * table["sparsity"]).sum() / table["weights"].sum() == pytest.approx(
        sparsity(model)
    )
    assert set(table["part"]) == {"stage 1", "stage 2", "stage 3", "exit 1", "exit 2", "final"}
    remove_masks(model)
    assert not any(k.endswith("_mask") for k in model.state_dict())
    assert abs(sparsity(model) - 0.8) <= 1 / _count(model, "all")


def test_strategies_reach_their_sparsities_and_keep_zeros_through_fine_tuning(model, tiny_set):
    kwargs = dict(rounds=2, finetune_epochs=1, progress=False, batch_size=32)
    one = prune_all_at_once(copy.deepcopy(model), tiny_set, 0.75, **kwargs)
    assert abs(sparsity(one) - 0.75) <= 1 / _count(one, "all")
    two = prune_ordered(copy.deepcopy(model), tiny_set, 0.75, head_epochs=1, **kwargs)
    for scope in ("base", "exits"):
        assert abs(sparsity(two, scope) - 0.75) <= 1 / _count(two, scope)
    with pytest.raises(ValueError):
        prune_ordered(copy.deepcopy(model), tiny_set, 2.0, **kwargs)


def test_part_sparsity_weights_each_layer_by_its_size(model):
    global_magnitude_prune(model, 0.6)
    parts = part_sparsity(model)
    assert list(parts.index) == [name for name, _ in model.parts("all")]
    layers = layer_sparsity(model)
    zeros = (layers["sparsity"] * layers["weights"]).sum()
    assert zeros / layers["weights"].sum() == pytest.approx(sparsity(model))
    for part, value in parts.items():
        rows = layers[layers["part"] == part]
        assert value == pytest.approx(
            (rows["sparsity"] * rows["weights"]).sum() / rows["weights"].sum()
        )


def test_global_pool_strips_heads_that_read_a_wide_grid():
    # A linear layer's initial weights scale with 1/sqrt(fan-in). The paper's head design (heads on a
    # 4×4 grid, final classifier on global pooling) puts the small weights in the heads; the course's
    # default (every classifier on a 2×2 grid) puts them in the final classifier. At initialisation
    # the global ranking already shows both patterns.
    torch.manual_seed(0)
    paper_like = EarlyExitCNN(widths=(16, 32, 64), head_pool=4, final_pool=1)
    default = EarlyExitCNN(widths=(16, 32, 64), head_pool=2)
    for model in (paper_like, default):
        global_magnitude_prune(model, 0.8)
    parts, flipped = part_sparsity(paper_like), part_sparsity(default)
    assert parts["final"] < 0.5 < 0.7 < min(parts["exit 1"], parts["exit 2"])
    assert flipped["final"] > max(flipped["exit 1"], flipped["exit 2"])


def test_sparsity_schedule_continues_a_trajectory_from_a_start():
    steps = sparsity_schedule(0.9, 2, start=0.5)
    assert steps[-1] == pytest.approx(0.9)
    assert (1 - steps[0]) / 0.5 == pytest.approx(0.1 / (1 - steps[0])), "same fraction each step"
    assert sparsity_schedule(0.5, 1, start=0.5) == pytest.approx([0.5])
    with pytest.raises(ValueError, match="below the start"):
        sparsity_schedule(0.5, 2, start=0.8)


def test_each_strategy_continues_a_trajectory_from_a_given_sparsity(model, tiny_set):
    """Two calls, 0 → 50 % then 50 % → 75 %, are the trajectory one call with the same rounds
    takes: the same masks and weights (the runner records every target this way)."""
    kwargs = dict(finetune_epochs=1, progress=False, batch_size=32)
    whole = prune_all_at_once(copy.deepcopy(model), tiny_set, 0.75, rounds=2, **kwargs)
    first = sparsity_schedule(0.75, 2)[0]
    halves = prune_all_at_once(copy.deepcopy(model), tiny_set, first, rounds=1, **kwargs)
    halves = prune_all_at_once(halves, tiny_set, 0.75, start=first, rounds=1, seed=1, **kwargs)
    for a, b in zip(whole.state_dict().values(), halves.state_dict().values()):
        assert torch.equal(a, b)
    base = prune_base(copy.deepcopy(model), tiny_set, 0.5, rounds=1, **kwargs)
    base = prune_base(base, tiny_set, 0.75, start=0.5, rounds=1, seed=1, **kwargs)
    assert abs(sparsity(base, "base") - 0.75) <= 1 / _count(base, "base")
    assert sparsity(base, "exits") == 0, "the base network's trajectory leaves the heads alone"
    before = [p.detach().clone() for _, part in base.parts("base") for p in part.parameters()]
    train(base, tiny_set, 1, scope="exits", progress=False, batch_size=32)
    heads = prune_heads(base, tiny_set, 0.5, rounds=1, **kwargs)
    heads = prune_heads(heads, tiny_set, 0.75, start=0.5, rounds=2, seed=1, **kwargs)
    assert abs(sparsity(heads, "exits") - 0.75) <= 1 / _count(heads, "exits")
    after = [p.detach() for _, part in heads.parts("base") for p in part.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after)), "the base stays frozen"
    with pytest.raises(ValueError, match="below the start"):
        prune_all_at_once(copy.deepcopy(model), tiny_set, 0.5, start=0.75, **kwargs)

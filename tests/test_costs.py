import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from eelib import EarlyExitCNN, exit_costs, global_magnitude_prune, layer_costs, training_flops


def _flop_counter_total(model, shape):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    return counter.get_total_flops()


@pytest.mark.parametrize("widths,shape", [((8, 16, 32), (1, 28, 28)), ((4, 8, 8, 16), (3, 32, 32))])
def test_dense_full_cost_equals_flop_counter(widths, shape):
    model = EarlyExitCNN(in_channels=shape[0], widths=widths)
    costs = exit_costs(model, shape)
    assert costs.shape == (len(widths),) and costs.dtype == torch.float64
    assert costs[-1].item() == _flop_counter_total(model, shape)
    assert (costs.diff() > 0).all()


def test_first_exit_cost_by_hand(model):
    # stage 1: 3×3 conv, 1 → 8 channels on 28×28 (padding keeps the size); head 1: pool 2×2, 8·4 → 10
    conv = 2 * 28 * 28 * 8 * (1 * 3 * 3)
    head = 2 * (8 * 2 * 2) * 10
    assert exit_costs(model, (1, 28, 28))[0].item() == conv + head


def test_costs_fall_with_sparsity_by_density(model):
    dense = layer_costs(model, (1, 28, 28))
    global_magnitude_prune(model, 0.8)
    pruned = layer_costs(model, (1, 28, 28))
    assert (pruned["flops"] == pruned["dense_flops"] * pruned["density"]).all()
    assert (pruned["dense_flops"] == dense["dense_flops"]).all()
    costs = exit_costs(model, (1, 28, 28))
    assert costs[-1].item() == pytest.approx(pruned["flops"].sum())
    assert costs[-1] < 0.5 * dense["flops"].sum()


def test_pruning_only_the_heads_leaves_the_backbone_cost(model):
    before = layer_costs(model, (1, 28, 28)).set_index("layer")
    global_magnitude_prune(model, 0.9, "exits")
    after = layer_costs(model, (1, 28, 28)).set_index("layer")
    stages = [name for name in before.index if name.startswith("stage")]
    assert (after.loc[stages, "flops"] == before.loc[stages, "flops"]).all()
    assert exit_costs(model, (1, 28, 28))[0] < before.loc[["stage 1/0", "exit 1/2"], "flops"].sum()


def test_unpruned_cost_is_exactly_dense_for_many_seeds():
    # About 0.7 % of fresh models draw one float32 weight of exactly 0.0; that must not count as pruning.
    dense = None
    for seed in range(300):
        torch.manual_seed(seed)
        model = EarlyExitCNN(widths=(16, 32, 64))
        costs = exit_costs(model, (1, 28, 28))
        dense = _flop_counter_total(model, (1, 28, 28)) if dense is None else dense
        assert costs[-1].item() == dense, f"seed {seed}"


def test_a_weight_that_is_zero_by_chance_is_not_pruning(model):
    with torch.no_grad():
        model.stages[0][0].weight[0, 0, 0, 0] = 0.0
    assert exit_costs(model, (1, 28, 28))[-1].item() == _flop_counter_total(model, (1, 28, 28))


def test_training_flops_follow_what_each_scope_trains(model):
    shape = (1, 28, 28)
    forward = exit_costs(model, shape)[-1].item()
    joint, base, heads = (training_flops(model, shape, s) for s in ("all", "base", "exits"))
    # Forward + backward (gradients of inputs and of weights) ≈ 3 × forward for joint training.
    assert 2.5 * forward < joint < 3.1 * forward
    assert base < joint, "the exit heads are not back-propagated"
    assert forward < heads < 1.1 * forward, (
        "frozen base: forward pass plus the heads' backward only"
    )
    before = [p.clone() for p in model.parameters()]
    training_flops(model, shape, "all")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), (
        "model left unchanged"
    )


def test_training_flops_refuses_an_unknown_scope(model):
    with pytest.raises(ValueError, match="scope"):
        training_flops(model, (1, 28, 28), "heads")


def test_compute_budget_matches_the_strategies_within_the_tolerance(model):
    """Joint epochs are chosen so all at once and ordered cost the same training compute within
    COMPUTE_TOLERANCE at every target; a set joint_epochs that misses it is refused."""
    import eelib.experiment
    from eelib.costs import COMPUTE_TOLERANCE, compute_budget
    from eelib.profiles import get_profile, validate

    settings = dict(train_epochs=1, head_epochs=2, prune_rounds=1, finetune_epochs=1)
    config = validate(get_profile("fast").replace(sparsities=(0.5, 0.8), **settings))
    joint_epochs, table = compute_budget(config, model, (1, 28, 28), 100)
    assert list(table["sparsity"]) == [0.5, 0.8]
    # epoch-equivalents of all at once: joint training, then one round of one epoch per target
    assert list(table["all-at-once_epochs"]) == pytest.approx([joint_epochs + 1, joint_epochs + 2])
    assert (table["ratio"] - 1).abs().max() <= COMPUTE_TOLERANCE
    with pytest.raises(ValueError, match="must agree within 10 %"):
        compute_budget(config.replace(joint_epochs=5 * joint_epochs), model, (1, 28, 28), 100)
    assert eelib.experiment.compute_budget is compute_budget  # still importable there

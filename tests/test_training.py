import copy

import pytest
import torch

from eelib import train


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_same_seed_same_weights(model, tiny_set):
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    train(a, tiny_set, 2, seed=5, batch_size=16, progress=False)
    train(b, tiny_set, 2, seed=5, batch_size=16, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_one_thread_gives_the_same_network_whatever_the_thread_pool(model, tiny_set):
    """threads=1 trains on one thread inside a pool of 2 and restores the pool: the same weights
    as a pool of 1 (chapter 8's given network and its grader's bars)."""
    pool = torch.get_num_threads()
    nets = []
    try:
        for size in (2, 1):
            torch.set_num_threads(size)
            nets.append(copy.deepcopy(model))
            train(nets[-1], tiny_set, 2, seed=5, batch_size=16, progress=False, threads=1)
            assert torch.get_num_threads() == size, "the pool is restored"
    finally:
        torch.set_num_threads(pool)
    a, b = (net.state_dict().values() for net in nets)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="threads must be an integer ≥ 1 or None"):
            train(copy.deepcopy(model), tiny_set, 1, progress=False, threads=bad)


def test_joint_training_lowers_the_loss(model, tiny_set):
    losses = train(model, tiny_set, 8, lr=1e-2, batch_size=16, progress=False)
    assert len(losses) == 8 and losses[-1] < losses[0]


def test_heads_only_training_freezes_the_base(model, tiny_set):
    base_before = {name: _state(part) for name, part in model.parts("base")}
    heads_before = _state(model.exit_heads)
    train(model, tiny_set, 1, scope="exits", batch_size=16, progress=False)
    for name, part in model.parts("base"):
        after = _state(part)
        assert all(torch.equal(base_before[name][k], after[k]) for k in after), (
            f"{name} changed (BatchNorm too)"
        )
    assert not all(torch.equal(heads_before[k], v) for k, v in _state(model.exit_heads).items())
    assert all(p.requires_grad for p in model.parameters()), "freezing is undone afterwards"


def test_base_training_leaves_the_exit_heads(model, tiny_set):
    heads_before = _state(model.exit_heads)
    train(model, tiny_set, 1, scope="base", batch_size=16, progress=False)
    assert all(torch.equal(heads_before[k], v) for k, v in _state(model.exit_heads).items())


def test_bad_arguments(model, tiny_set):
    with pytest.raises(ValueError, match="3 non-negative"):
        train(model, tiny_set, 1, exit_weights=[1, 1], progress=False)
    with pytest.raises(ValueError, match="scope='all'"):
        train(model, tiny_set, 1, scope="base", exit_weights=[0, 0, 1], progress=False)
    with pytest.raises(ValueError, match="unknown scope"):
        train(model, tiny_set, 1, scope="heads", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train(model, tiny_set, -1, progress=False)


def test_a_pruned_model_can_be_copied_after_training(model, tiny_set):
    from eelib import global_magnitude_prune

    global_magnitude_prune(model, 0.5)
    train(model, tiny_set, 1, progress=False)
    twin = copy.deepcopy(model)  # fails if a weight still belongs to the autograd graph
    for (a, _), (b, _) in zip(model.prunable(), twin.prunable()):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.weight_mask, b.weight_mask)


def test_heads_train_on_cached_features_exactly_as_on_the_whole_network(model, tiny_set):
    """The cache of the heads' inputs is exact: the same losses and weights, pruned heads too."""
    from eelib import global_magnitude_prune

    train(model, tiny_set, 1, scope="base", batch_size=16, progress=False)
    global_magnitude_prune(model, 0.5, "exits")
    cached, whole = copy.deepcopy(model), copy.deepcopy(model)
    kwargs = dict(scope="exits", seed=3, batch_size=16, progress=False)
    losses = train(cached, tiny_set, 3, **kwargs)
    assert train(whole, tiny_set, 3, cache_features=False, **kwargs) == losses
    for a, b in zip(cached.state_dict().values(), whole.state_dict().values()):
        assert torch.equal(a, b)


def test_bfloat16_training_is_deterministic_and_keeps_float32_weights(model, tiny_set):
    runs = [copy.deepcopy(model) for _ in range(3)]
    kwargs = dict(seed=1, batch_size=16, progress=False, lr=1e-2)
    losses = [
        train(m, tiny_set, 2, precision=p, **kwargs)
        for m, p in zip(runs, ("bfloat16",) * 2 + ("float32",))
    ]
    assert losses[0] == losses[1], "same seed, same numbers"
    assert losses[0] != losses[2], "bfloat16 is not float32"
    assert abs(losses[0][-1] - losses[2][-1]) < 0.1 * losses[2][-1]
    assert all(p.dtype == torch.float32 for p in runs[0].parameters())
    assert all(p.is_contiguous() for p in runs[0].parameters()), "channels-last undone"
    with pytest.raises(ValueError, match="precision"):
        train(model, tiny_set, 1, precision="float16", progress=False)


def test_early_stopping_keeps_the_best_epoch(model, tiny_set):
    with pytest.raises(ValueError, match="validation dataset"):
        train(model, tiny_set, 3, scope="exits", patience=2, progress=False)
    with pytest.raises(ValueError, match="patience"):
        train(model, tiny_set, 3, patience=-1, validation=tiny_set, progress=False)
    settings = dict(scope="exits", lr=0.05, batch_size=16, seed=3, progress=False)
    stopped = copy.deepcopy(model)
    losses = train(stopped, tiny_set, 40, validation=tiny_set, patience=2, **settings)
    assert 3 <= len(losses) < 40, "stops once the validation accuracy stops improving"
    # the heads kept are those of the best epoch, 2 epochs before it stopped: the same weights
    # as training exactly that many epochs
    best = copy.deepcopy(model)
    train(best, tiny_set, len(losses) - 2, **settings)
    assert all(
        torch.equal(p, q) for p, q in zip(stopped.state_dict().values(), best.state_dict().values())
    )


def test_learning_rate_schedules():
    from eelib.training import lr_factor

    assert [lr_factor("step", t) for t in (0, 0.49, 0.5, 0.74, 0.75, 0.99)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01, 0.01]
    ), "He et al.: ÷10 at 50 % and 75 % of training"
    assert [lr_factor("cosine", t) for t in (0, 0.5, 1)] == pytest.approx([1, 0.5, 0])
    assert lr_factor("constant", 0.9) == 1
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor("linear", 0.5)


def test_sgd_with_momentum_weight_decay_and_a_schedule(model, tiny_set, monkeypatch):
    """SGD steps the learning rate down as the schedule says, once per batch; same seed, same
    weights; a different schedule, different weights."""
    seen = []
    step = torch.optim.SGD.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        assert self.param_groups[0]["momentum"] == 0.9
        assert self.param_groups[0]["weight_decay"] == 1e-4
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", record)
    kwargs = dict(lr=0.1, batch_size=16, progress=False, optimizer="sgd", weight_decay=1e-4)
    runs = [copy.deepcopy(model) for _ in range(3)]
    losses = [
        train(m, tiny_set, 2, schedule=s, **kwargs)
        for m, s in zip(runs, ("step", "step", "cosine"))
    ]
    assert seen[:8] == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2), "8 steps of 16"
    assert losses[0] == losses[1] and losses[0] != losses[2]
    assert all(torch.equal(p, q) for p, q in zip(runs[0].parameters(), runs[1].parameters()))


def test_more_loader_workers_and_pinned_memory_give_the_same_numbers(model, tiny_set):
    """The GPU-ready loader path (worker processes, pinned memory where there is CUDA) changes
    the speed, not the batches: the same losses and weights as the default on a CPU."""
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    kwargs = dict(seed=4, batch_size=16, progress=False, lr=1e-2)
    losses = train(a, tiny_set, 2, **kwargs)
    assert train(b, tiny_set, 2, loader_workers=2, pin_memory=True, **kwargs) == losses
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_augmentation_only_on_the_training_batches_and_fixed_by_the_seed(
    model, tiny_set, monkeypatch
):
    import eelib.training
    from eelib.data import random_crop_flip

    seen = []

    def spy(images, fill, generator, padding=4):
        out = random_crop_flip(images, fill, generator, padding)
        assert out.shape == images.shape and out.dtype == images.dtype
        seen.append(len(images))
        return out

    monkeypatch.setattr(eelib.training, "random_crop_flip", spy)
    pixels = tiny_set.data.clone()
    validation = type(tiny_set)(
        tiny_set.data[:10], tiny_set.targets[:10], tiny_set.classes, tiny_set.mean, tiny_set.std
    )
    settings = dict(seed=2, batch_size=16, progress=False, lr=1e-2, augment="crop-flip")
    runs = [copy.deepcopy(model) for _ in range(4)]
    augmented = train(runs[0], tiny_set, 2, **settings)
    assert sum(seen) == 2 * len(tiny_set), "every training image once per epoch, nothing else"
    assert torch.equal(tiny_set.data, pixels), "the dataset itself is untouched"
    seen.clear()
    train(runs[1], tiny_set, 3, scope="exits", validation=validation, patience=5, **settings)
    assert sum(seen) == 3 * len(tiny_set), "the validation images are never augmented"
    assert train(runs[2], tiny_set, 2, **settings) == augmented, "same seed, same images"
    assert train(runs[3], tiny_set, 2, **{**settings, "augment": "none"}) != augmented


def test_bad_optimiser_loader_and_augmentation_arguments(model, tiny_set):
    from torch.utils.data import TensorDataset

    for bad, message in (
        (dict(optimizer="lamb"), "unknown optimizer"),
        (dict(schedule="linear"), "unknown schedule"),
        (dict(augment="mixup"), "unknown augmentation"),
        (dict(momentum=-1), "momentum"),
        (dict(weight_decay=-1e-4), "weight_decay"),
        (dict(loader_workers=-1), "loader_workers"),
    ):
        with pytest.raises(ValueError, match=message):
            train(model, tiny_set, 1, progress=False, **bad)
    plain = TensorDataset(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="needs an eelib ImageDataset"):
        train(model, plain, 1, augment="crop-flip", progress=False)

"""Cost accounting in FLOPs.

Convention (the book's chapter 1): FLOPs = 2 × multiply–accumulates of convolutions and linear layers,
as ``torch.utils.flop_counter.FlopCounterMode`` counts them (BatchNorm, ReLU and pooling are not
counted). A pruned layer's effective FLOPs are its dense FLOPs × its weight density (the fraction
of weights its pruning mask keeps): the work a sparse kernel that skips zeros would do. Reaching exit k costs
stages 1..k plus classifiers 1..k, because the earlier exit heads were evaluated too.

Training compute is counted the same way, forward and backward passes (:func:`training_flops`),
and matched between the two pruning strategies of a run (:func:`compute_budget`).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from .models import EarlyExitNetwork
from .profiles import Profile
from .results import STRATEGIES
from .training import train

COMPUTE_TOLERANCE = 0.10
"""A strategy's training compute may differ from the other's by at most this fraction
(:func:`compute_budget`)."""


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def dense_layer_flops(
    model: EarlyExitNetwork, input_shape: tuple[int, ...]
) -> dict[nn.Module, int]:
    """Dense FLOPs of every prunable layer for one sample, counted by ``FlopCounterMode``.

    Args:
        model: an early-exit network.
        input_shape: one sample's shape ``(C, H, W)``, without the batch dimension.

    Returns:
        ``{layer: FLOPs}`` for each Conv2d and Linear layer, as if all its weights were non-zero.
    """
    inputs: dict[nn.Module, torch.Tensor] = {}
    layers = [m for _, m in model.named_prunable("all")]
    hooks = [
        m.register_forward_hook(lambda mod, args, out: inputs.__setitem__(mod, args[0]))
        for m in layers
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=_device(model)))
            flops = {}
            for layer in layers:
                with FlopCounterMode(display=False) as counter:
                    layer(inputs[layer])
                flops[layer] = counter.get_total_flops()
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return flops


def density(layer: nn.Module) -> float:
    """Fraction (0–1) of ``layer.weight`` that its pruning mask keeps; 1.0 for a layer with no mask.

    Not 1 − :func:`eelib.sparsity`: sparsity counts zero weights (what the paper reports), density
    counts what the mask keeps (what a layer costs).

    The mask, not the weights, decides: a freshly initialised float32 weight can be exactly 0.0 by
    chance, and an unpruned layer must cost its dense FLOPs exactly. Count costs while the masks of
    ``torch.nn.utils.prune`` are attached, that is before :func:`eelib.remove_masks`.
    """
    mask = getattr(layer, "weight_mask", None)
    if mask is None:
        return 1.0
    return float(torch.count_nonzero(mask)) / mask.numel()


def layer_costs(model: EarlyExitNetwork, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """One row per prunable layer: ``layer``, ``part``, ``dense_flops``, ``density`` (see :func:`density`),
    ``flops`` (= dense × density).

    FLOPs are for one sample of shape ``input_shape`` ``(C, H, W)``.
    """
    dense = dense_layer_flops(model, input_shape)
    rows = [
        {
            "layer": name,
            "part": name.split("/")[0],
            "dense_flops": dense[m],
            "density": density(m),
            "flops": dense[m] * density(m),
        }
        for name, m in model.named_prunable("all")
    ]
    return pd.DataFrame(rows)


def exit_costs(model: EarlyExitNetwork, input_shape: tuple[int, ...]) -> torch.Tensor:
    """FLOPs for one sample to produce each exit's prediction, counting only the weights masks keep.

    Entry k (0-based) is the cost of stages 1..k+1 and classifiers 1..k+1. For a dense model the last
    entry equals ``FlopCounterMode``'s count for one full forward pass.

    Args:
        model: an early-exit network (pruned or not).
        input_shape: one sample's shape ``(C, H, W)``.

    Returns:
        float64 tensor ``(K,)`` of FLOPs (not MACs), non-decreasing.
    """
    dense = dense_layer_flops(model, input_shape)

    def part_flops(module: nn.Module) -> float:
        return sum(dense[m] * density(m) for m in module.modules() if m in dense)

    per_exit = [
        part_flops(stage) + part_flops(head) for stage, head in zip(model.stages, model.heads())
    ]
    return torch.tensor(per_exit, dtype=torch.float64).cumsum(0)


def training_flops(
    model: EarlyExitNetwork, input_shape: tuple[int, ...], scope: str = "all"
) -> float:
    """FLOPs of training ``scope`` on one sample: forward pass plus backward pass, dense.

    Counted by ``FlopCounterMode`` around one step of :func:`eelib.train` itself (on a copy of the
    model, with a batch of two blank samples, divided by two), so it follows exactly what the
    training code runs: every scope runs the whole forward pass; ``"exits"`` back-propagates
    through the exit heads only, because the base network is frozen (counted without
    :func:`eelib.train`'s cache of the heads' inputs, which saves time on later epochs but is
    not counted as saving compute). Pruned weights are counted
    as dense, as dense training kernels compute them. The optimiser's element-wise updates are
    not counted. Divide by ``training_flops(model, shape, "all")`` for epoch-equivalents: an epoch
    of joint training costs 1.

    Args:
        model: an early-exit network (left unchanged).
        input_shape: one sample's shape ``(C, H, W)``.
        scope: ``"all"``, ``"base"`` or ``"exits"``, as in :func:`eelib.train`.

    Returns:
        FLOPs (not MACs) per training sample.

    Raises:
        ValueError: an unknown scope.
    """
    # an epoch as it costs without the cache of the heads' inputs
    return _counted(model, input_shape, scope, 1, cache_features=False)


def _counted(model, input_shape, scope: str, epochs: int, cache_features: bool) -> float:
    """FLOPs per sample of ``eelib.train`` on a copy of ``model``, two blank samples, batch 2."""
    blank = TensorDataset(
        torch.zeros(2, *input_shape, device=_device(model)),
        torch.zeros(2, dtype=torch.int64, device=_device(model)),
    )
    with FlopCounterMode(display=False) as counter:
        train(
            copy.deepcopy(model),
            blank,
            epochs,
            scope=scope,
            batch_size=2,
            progress=False,
            cache_features=cache_features,
        )
    return counter.get_total_flops() / 2


def cached_heads_flops(
    model: EarlyExitNetwork, input_shape: tuple[int, ...]
) -> tuple[float, float]:
    """What training the exit heads on cached inputs really costs per sample, in FLOPs.

    :func:`eelib.train` with ``scope="exits"`` computes the heads' inputs once per call (a
    forward pass through the frozen base up to the last exit head), then trains the heads'
    linear layers on them each epoch. Both are counted by ``FlopCounterMode`` around
    :func:`eelib.train` itself, as in :func:`training_flops` (dense weights).

    Args:
        model: an early-exit network (left unchanged).
        input_shape: one sample's shape ``(C, H, W)``.

    Returns:
        ``(inputs_once, per_epoch)``: FLOPs per sample of computing the cached inputs, and of
        one epoch of the heads' forward and backward passes on them.
    """
    once = _counted(model, input_shape, "exits", 0, cache_features=True)
    return once, _counted(model, input_shape, "exits", 1, cache_features=True) - once


def compute_budget(
    config: Profile, model: EarlyExitNetwork, input_shape: tuple[int, ...], train_size: int
) -> tuple[int, pd.DataFrame]:
    """Training compute of each strategy up to each target, and the joint epochs that match them.

    Per training sample, ``training_flops`` counts one step of each scope (forward + backward,
    dense). Reaching the i-th target costs (with p = ``prune_rounds``, F = ``finetune_epochs``):

    - all at once: ``(joint_epochs + i·p·F) × FLOPs(all)`` — joint training, then i·p rounds;
    - ordered: ``(train_epochs + i·p·F) × FLOPs(base) + (head_epochs + i·p·F) × FLOPs(exits)``
      — the base network's training and i·p rounds, then the heads' training and as many rounds.

    A heads-only epoch is counted two ways. *Uncached*: a forward pass through the base network
    plus the heads' backward pass, what it costs without :func:`eelib.train`'s exact cache of the
    heads' inputs. *Cached*, its real cost: the heads' inputs once per training call (one for
    the heads' training, one per pruning round) plus the heads' own passes each epoch
    (:func:`eelib.costs.cached_heads_flops`). ``heads_compute`` says which one the matching uses
    (the headline: uncached); both are reported. With ``head_patience`` the heads' epochs are
    counted at their most, ``head_epochs``. The dense reference is fine-tuned for as many epochs
    as the whole all-at-once trajectory.

    Args:
        config: a validated profile; ``joint_epochs=None`` asks for the whole number of joint
            epochs that makes the worst ratio of the two strategies' compute closest to 1.
        model: the network (its FLOPs are counted on a copy).
        input_shape: one image's shape ``(C, H, W)``.
        train_size: training images per epoch.

    Returns:
        ``(joint_epochs, table)``; the table has one row per target: ``sparsity``,
        ``all-at-once`` and ``ordered`` (training FLOPs, not MACs, in total, heads-only epochs
        uncached) and ``ordered (cached)`` (at their real cost), the same in epoch-equivalents
        (``…_epochs``: one epoch of joint training = 1), ``ratio`` and ``ratio (cached)`` (all
        at once / ordered in each accounting).

    Raises:
        ValueError: the two differ by more than 10 % at some target in the accounting
            ``heads_compute`` names; the message gives the ratios and says which epochs to change.
    """
    per = {scope: training_flops(model, input_shape, scope) for scope in ("all", "base", "exits")}
    once, per_epoch = cached_heads_flops(model, input_shape)
    p, F = config.prune_rounds, config.finetune_epochs
    head_epochs = config.head_epochs or config.train_epochs
    rounds = np.arange(1, len(config.sparsities) + 1) * p
    tuning = rounds * F
    base = (config.train_epochs + tuning) * per["base"]
    uncached = base + (head_epochs + tuning) * per["exits"]
    cached = base + (1 + rounds) * once + (head_epochs + tuning) * per_epoch
    ordered = cached if config.heads_compute == "cached" else uncached

    def worst(joint_epochs: int) -> float:
        return float(np.max(np.abs((joint_epochs + tuning) * per["all"] / ordered - 1)))

    joint_epochs = config.joint_epochs or min(
        range(1, 2 * (config.train_epochs + head_epochs + tuning[-1]) + 1), key=worst
    )
    table = pd.DataFrame(
        {
            "sparsity": config.sparsities,
            "all-at-once": (joint_epochs + tuning) * per["all"] * train_size,
            "ordered": uncached * train_size,
            "ordered (cached)": cached * train_size,
        }
    )
    for strategy in (*STRATEGIES, "ordered (cached)"):
        table[f"{strategy}_epochs"] = table[strategy] / (per["all"] * train_size)
    table["ratio"] = table["all-at-once"] / table["ordered"]
    table["ratio (cached)"] = table["all-at-once"] / table["ordered (cached)"]
    if worst(joint_epochs) > COMPUTE_TOLERANCE:
        ratios = table["ratio (cached)" if config.heads_compute == "cached" else "ratio"]
        raise ValueError(
            f"with {joint_epochs} joint epochs, all at once costs "
            f"{', '.join(f'{r:.2f}' for r in ratios)} × the ordered strategy's training "
            f"compute at the targets; they must agree within {100 * COMPUTE_TOLERANCE:.0f} %. Leave "
            "joint_epochs unset to match it, or change train_epochs, head_epochs or prune_rounds."
        )
    return joint_epochs, table

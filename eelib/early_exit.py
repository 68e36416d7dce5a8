"""The confidence-threshold exit policy and the accuracy–FLOPs trade-off curve it traces.

Policy (Görmez & Koyuncu, 2022, §3; the max-softmax rule of BranchyNet-style early exiting): at
exit k < K a sample leaves when its maximum softmax probability is ≥ τ; the final exit takes every
sample still left. Sweeping τ over [0, 1] traces accuracy against the mean FLOPs per sample.
Two other rules, beyond the paper: the softmax entropy (:func:`entropy_exit`) and patience, the
agreement of consecutive exits (:func:`patience_exit`); :func:`rule_curve` sweeps any rule.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from . import arguments
from .frontiers import pareto_frontier  # noqa: F401 (its home is frontiers; importable here too)
from .memory_format import channels_last
from .models import EarlyExitNetwork


@torch.no_grad()
def predict_all_exits(
    model: EarlyExitNetwork,
    data: Dataset | DataLoader,
    batch_size: int = 512,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities of every exit for every sample, in one forward pass per batch.

    Args:
        model: an early-exit network (evaluated in eval mode; its mode is restored afterwards).
        data: a Dataset of ``(image, label)`` items or a DataLoader over one.
        batch_size: used when ``data`` is a Dataset.
        device: where to run (default: where the model is).

    Returns:
        ``probs`` float32 ``(K, N, C)`` on the CPU and ``labels`` int64 ``(N,)``.
    """
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size=batch_size)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    probs, labels = [], []
    try:
        with channels_last(model):  # faster CPU kernels, the same numbers up to rounding
            for images, y in loader:
                logits = model(images.to(device, memory_format=torch.channels_last))
                probs.append(torch.stack([z.softmax(dim=1) for z in logits]).cpu())
                labels.append(torch.as_tensor(y))
    finally:
        model.train(was_training)
    return torch.cat(probs, dim=1), torch.cat(labels)


def check_threshold(threshold) -> float:
    """``threshold`` as a float if it is a number in [0, 1], else ValueError saying so."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0 <= threshold <= 1
    ):
        raise ValueError(f"a confidence threshold is a probability in [0, 1], got {threshold!r}")
    return float(threshold)


def _check_probs(probs: torch.Tensor) -> None:
    if not isinstance(probs, torch.Tensor) or probs.ndim != 3:
        raise ValueError(
            "probs must be a tensor (K exits, N samples, C classes) of softmax probabilities, got "
            f"{getattr(probs, 'shape', type(probs))}"
        )


def _first_exit(leaves: torch.Tensor) -> torch.Tensor:
    """Index of the first True along dim 0 of ``(K, N)``; the last exit takes everyone left."""
    leaves = leaves.clone()
    leaves[-1] = True
    return leaves.int().argmax(dim=0)  # argmax returns the first maximum


def confidence_exit(probs: torch.Tensor, threshold: float) -> torch.Tensor:
    """The exit each sample takes under the max-softmax confidence rule.

    Args:
        probs: ``(K, N, C)`` softmax probabilities, shallow exit first.
        threshold: τ in [0, 1]; a sample leaves at the first exit k < K with max probability ≥ τ.

    Returns:
        int64 ``(N,)``, exit indices 0..K−1 (K−1 is the final classifier).

    Raises:
        ValueError: ``threshold`` outside [0, 1] or ``probs`` not 3-dimensional.
    """
    threshold = check_threshold(threshold)
    _check_probs(probs)
    return _first_exit(probs.max(dim=2).values >= threshold)


def entropy_exit(probs: torch.Tensor, threshold: float) -> torch.Tensor:
    """The exit each sample takes under the entropy rule (BranchyNet's, Teerapittayanon et al., 2016).

    A sample leaves at the first exit k < K whose softmax entropy, normalised by log C to [0, 1],
    is at most ``threshold``: low entropy means a confident, peaked prediction. ``threshold`` 1
    lets every sample leave at exit 1, 0 only exactly one-hot predictions.

    Args:
        probs: ``(K, N, C)`` softmax probabilities, shallow exit first.
        threshold: in [0, 1].

    Returns:
        int64 ``(N,)``, exit indices 0..K−1.

    Raises:
        ValueError: ``threshold`` outside [0, 1] or ``probs`` not 3-dimensional.
    """
    threshold = check_threshold(threshold)
    _check_probs(probs)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(dim=2) / math.log(probs.shape[2])
    return _first_exit(entropy <= threshold)


def patience_exit(probs: torch.Tensor, patience: int) -> torch.Tensor:
    """The exit each sample takes under the patience rule (PABEE, Zhou et al., 2020, "BERT Loses Patience").

    A sample leaves at the first exit k whose prediction (arg-max) is the same as at the
    ``patience − 1`` exits before it: the last ``patience`` exits agree. ``patience`` 1 leaves at
    exit 1; a patience larger than the number of exits sends everyone to the final exit.

    Args:
        probs: ``(K, N, C)`` softmax probabilities (or logits: only the arg-max is used).
        patience: a positive integer.

    Returns:
        int64 ``(N,)``, exit indices 0..K−1.

    Raises:
        ValueError: ``patience`` not a positive integer or ``probs`` not 3-dimensional.
    """
    arguments.integer(patience, "patience (how many consecutive exits must agree)")
    _check_probs(probs)
    predictions = probs.argmax(dim=2)  # (K, N)
    run = torch.ones_like(predictions)  # how many exits up to k agree with exit k
    for k in range(1, len(predictions)):
        run[k] = torch.where(predictions[k] == predictions[k - 1], run[k - 1] + 1, 1)
    return _first_exit(run >= patience)


def rule_curve(
    probs: torch.Tensor, labels: torch.Tensor, costs, rule, values, cost: str = "flops"
) -> pd.DataFrame:
    """Accuracy and mean cost of any exit rule for each of its parameter values.

    The same curve format as :func:`tradeoff_curve` (which is this function for
    :func:`confidence_exit`, vectorised), so :func:`eelib.frontiers.pareto_frontier` and the plots read both.

    Args:
        probs: ``(K, N, C)`` softmax probabilities.
        labels: int64 ``(N,)``.
        costs: ``(K,)`` cost of reaching each exit: FLOPs (:func:`eelib.exit_costs`) or measured
            seconds (:func:`eelib.exit_latency`).
        rule: ``rule(probs, value) → exits (N,)``, e.g. :func:`confidence_exit`,
            :func:`entropy_exit` or :func:`patience_exit`.
        values: the parameter values to sweep (thresholds, patiences).
        cost: the name of the cost column: ``"flops"`` (default) or the unit of ``costs``, e.g.
            ``"seconds"``.

    Returns:
        One row per value: ``threshold`` (the rule's parameter: τ, an entropy bound or a
        patience), ``accuracy`` (fraction), the cost column (mean per sample, in the unit of
        ``costs``) and ``exit_1`` … ``exit_K`` (fraction leaving at each exit).
    """
    _check_probs(probs)
    K, N, _ = probs.shape
    costs = torch.tensor(np.asarray(costs, dtype=np.float64))  # a copy, whatever came in
    if costs.shape != (K,) or labels.shape != (N,):
        raise ValueError(
            f"probs {tuple(probs.shape)} needs costs ({K},) and labels ({N},), "
            f"got {tuple(costs.shape)} and {tuple(labels.shape)}"
        )
    correct = probs.argmax(dim=2) == labels  # (K, N)
    rows = []
    for value in values:
        exits = rule(probs, value)
        shares = torch.bincount(exits, minlength=K).double() / N
        rows.append(
            {
                "threshold": value,
                "accuracy": correct[exits, torch.arange(N)].double().mean().item(),
                cost: (costs @ shares).item(),
                **{f"exit_{k + 1}": shares[k].item() for k in range(K)},
            }
        )
    return pd.DataFrame(rows)


def exit_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy (fraction) of each exit when every sample is forced out there: float64 ``(K,)``."""
    _check_probs(probs)
    return (probs.argmax(dim=2) == labels).double().mean(dim=1)


def _weighted_count_at_least(
    values: torch.Tensor, weights: torch.Tensor, thresholds: torch.Tensor
) -> torch.Tensor:
    """For each threshold τ, the sum of ``weights`` over samples with ``values`` ≥ τ: ``(T,)``."""
    order = values.argsort()
    tail_sums = torch.cat([weights[order].flip(0).cumsum(0).flip(0), weights.new_zeros(1)])
    first_at_least = torch.searchsorted(values[order].contiguous(), thresholds, side="left")
    return tail_sums[first_at_least]


def tradeoff_curve(probs: torch.Tensor, labels: torch.Tensor, costs, thresholds) -> pd.DataFrame:
    """Accuracy and mean FLOPs of the confidence rule for each threshold.

    A sample leaves at exit k exactly when the running maximum of its confidences first reaches τ,
    so counts for all thresholds come from sorting once and ``searchsorted`` (no loop over samples
    or thresholds); the result equals applying :func:`confidence_exit` threshold by threshold.

    Args:
        probs: ``(K, N, C)`` softmax probabilities.
        labels: int64 ``(N,)``.
        costs: ``(K,)`` FLOPs to reach each exit (see :func:`eelib.costs.exit_costs`).
        thresholds: 1-D sequence of τ values in [0, 1].

    Returns:
        One row per threshold: ``threshold``, ``accuracy`` (fraction), ``flops`` (mean per sample)
        and ``exit_1`` … ``exit_K``, the fraction of samples leaving at each exit.

    Raises:
        ValueError: a threshold outside [0, 1] or shapes that do not match.
    """
    _check_probs(probs)
    K, N, _ = probs.shape
    costs = torch.as_tensor(costs, dtype=torch.float64)
    given = np.asarray(thresholds.cpu() if isinstance(thresholds, torch.Tensor) else thresholds)
    if given.dtype.kind not in "fiu":
        raise ValueError(
            f"thresholds must be numbers, probabilities in [0, 1], got dtype {given.dtype}"
        )
    tau = torch.from_numpy(given.astype(np.float64)).flatten()
    if costs.shape != (K,) or labels.shape != (N,):
        raise ValueError(
            f"probs {tuple(probs.shape)} needs costs ({K},) and labels ({N},), "
            f"got {tuple(costs.shape)} and {tuple(labels.shape)}"
        )
    if tau.numel() == 0:
        raise ValueError("thresholds is empty; give at least one probability in [0, 1]")
    if bool(((tau < 0) | (tau > 1) | tau.isnan()).any()):
        raise ValueError(
            "thresholds must be probabilities in [0, 1], got values from "
            f"{tau.min().item()} to {tau.max().item()}"
        )
    confidence, prediction = probs.max(dim=2)  # (K, N)
    running_max = confidence.cummax(dim=0).values
    tau_cmp = tau.to(confidence.dtype)  # compare in the precision confidence_exit compares in
    correct = (prediction == labels).double()
    ones = torch.ones(N, dtype=torch.float64)

    def left_by(k: int, weights: torch.Tensor) -> torch.Tensor:
        """Σ weights over samples that have left at or before exit k, per threshold: running_max[k] ≥ τ."""
        if k < 0:
            return torch.zeros(len(tau), dtype=torch.float64)
        if k == K - 1:  # the final exit takes everyone
            return weights.sum().expand(len(tau))
        return _weighted_count_at_least(running_max[k], weights, tau_cmp)

    fractions = (
        torch.stack([left_by(k, ones) - left_by(k - 1, ones) for k in range(K)]) / N
    )  # (K, T)
    hits = torch.stack([left_by(k, correct[k]) - left_by(k - 1, correct[k]) for k in range(K)])
    curve = pd.DataFrame(
        {
            "threshold": tau.numpy(),
            "accuracy": (hits.sum(0) / N).numpy(),
            "flops": (costs @ fractions).numpy(),
        }
    )
    for k in range(K):
        curve[f"exit_{k + 1}"] = fractions[k].numpy()
    return curve

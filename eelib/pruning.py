"""Global unstructured magnitude (L1) pruning and the paper's two ways of pruning an early-exit network.

Masks come from ``torch.nn.utils.prune``: ``global_unstructured`` with ``L1Unstructured`` ranks all
weights of a scope in one pool and zeroes the smallest ``|w|``. The strategies follow Görmez &
Koyuncu (2022), "Pruning Early Exit Networks", §3, as the book's chapter 4 teaches them:

1. **all at once** — prune the jointly trained early-exit network (backbone, exit heads and final
   classifier in one pool), fine-tuning jointly;
2. **ordered** — prune the base network (backbone + final classifier) and fine-tune it, freeze it,
   train the early-exit heads on it, then prune the heads' pool and fine-tune the heads only.

Each strategy continues a pruning trajectory from a given sparsity, so the runner, the book and the
tests call the same functions whether they take one round or twenty.

Two measures, each where it belongs: **sparsity** (:func:`sparsity`, :func:`layer_sparsity`,
:func:`part_sparsity`) is the fraction of weights that are zero — what the paper reports and the
results record, true before and after :func:`remove_masks`; **density**
(:func:`eelib.costs.density`) is the fraction of weights a pruning mask keeps — what FLOPs count,
so that an unpruned weight that happens to be 0.0 is still paid for.
"""

from __future__ import annotations

import numbers

import pandas as pd
from torch.nn.utils import prune
from torch.utils.data import Dataset

from . import arguments
from .memory_format import refresh_masked_weights
from .models import EarlyExitNetwork
from .training import train


def _zeros_and_total(model: EarlyExitNetwork, scope: str) -> tuple[int, int]:
    weights = [getattr(m, name) for m, name in model.prunable(scope)]
    return sum(int((w == 0).sum()) for w in weights), sum(w.numel() for w in weights)


def sparsity(model: EarlyExitNetwork, scope: str = "all") -> float:
    """Fraction (0–1, not percent) of zero weights among the scope's prunable weights.

    Scopes: ``"all"``, ``"base"`` (backbone + final classifier), ``"exits"`` (early-exit heads).
    Only Conv2d and Linear weights count; biases and BatchNorm are never pruned.
    """
    zeros, total = _zeros_and_total(model, scope)
    return zeros / total


def _masked(model: EarlyExitNetwork, scope: str) -> int:
    """How many of the scope's weights a pruning mask already removes."""
    return sum(
        int((m.weight_mask == 0).sum())
        for m, _ in model.prunable(scope)
        if hasattr(m, "weight_mask")
    )


def check_sparsity(value, name: str = "sparsity") -> float:
    """``value`` as a float if it is a number in [0, 1), else ValueError saying so."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(
            f"{name} must be a fraction in [0, 1) (0.9 means 90 % of weights removed), got {value!r}"
        )
    return float(value)


def global_magnitude_prune(model: EarlyExitNetwork, sparsity: float, scope: str = "all") -> None:
    """Prune the scope's weights, in one global pool, to ``sparsity`` by smallest magnitude (L1).

    Uses ``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured``; masks stay attached
    (``weight_orig`` and ``weight_mask``), so fine-tuning keeps pruned weights at zero. Calling it
    again with a higher target prunes further among the surviving weights (iterative pruning).
    Weights outside the scope are untouched.

    Args:
        model: an early-exit network, changed in place.
        sparsity: target fraction of zero weights in the scope, in [0, 1). After the call the
            scope's sparsity is the target to within one weight.
        scope: ``"all"``, ``"base"`` or ``"exits"``.

    Raises:
        ValueError: ``sparsity`` outside [0, 1), below what the scope's masks already remove, or an
            unknown scope.
    """
    target_fraction = check_sparsity(sparsity)
    params = model.prunable(scope)
    _, total = _zeros_and_total(model, scope)
    target, already = round(target_fraction * total), _masked(model, scope)
    if target < already:
        raise ValueError(
            f"scope {scope!r} is already pruned to {already / total:.4f}; a target of "
            f"{target_fraction} would need weights back. Start from an unpruned copy instead."
        )
    if target > already:
        # The amount counts weights among those still unmasked (PruningContainer semantics).
        prune.global_unstructured(
            params, pruning_method=prune.L1Unstructured, amount=target - already
        )
        refresh_masked_weights(model)  # so the pruned network can be copied right away


def sparsity_schedule(sparsity: float, rounds: int, start: float = 0.0) -> list[float]:
    """Sparsity after each of ``rounds`` pruning rounds from ``start`` to ``sparsity`` (fractions).

    After round t (1..rounds) the sparsity is
    ``1 − (1 − start) · ((1 − sparsity) / (1 − start))^(t / rounds)`` — from 0 that is
    ``1 − (1 − sparsity)^(t / rounds)``: each round removes the same fraction of the weights that
    are left; the last value is ``sparsity``. A pruning trajectory through several targets chains
    schedules, each starting where the last ended (book, chapter 4).

    Raises:
        ValueError: ``sparsity`` or ``start`` outside [0, 1), ``sparsity`` below ``start``, or
            rounds < 1.
    """
    sparsity = check_sparsity(sparsity, "target sparsity")
    start = check_sparsity(start, "start sparsity")
    if sparsity < start:
        raise ValueError(
            f"target sparsity {sparsity} is below the start {start}; pruning only adds zeros"
        )
    arguments.integer(rounds, "rounds")
    kept = (1 - sparsity) / (1 - start)
    return [1 - (1 - start) * kept ** (t / rounds) for t in range(1, rounds + 1)]


def layer_sparsity(model: EarlyExitNetwork) -> pd.DataFrame:
    """One row per prunable layer: ``layer``, ``part`` (stage k / exit k / final), ``weights``, ``sparsity`` (0–1).

    A row with sparsity 1.0 is a layer that pruning emptied (layer collapse); an emptied exit head
    can only predict from its bias.
    """
    rows = []
    for name, m in model.named_prunable("all"):
        zeros = int((m.weight == 0).sum())
        rows.append(
            {
                "layer": name,
                "part": name.split("/")[0],
                "weights": m.weight.numel(),
                "sparsity": zeros / m.weight.numel(),
            }
        )
    return pd.DataFrame(rows)


def part_sparsity(model: EarlyExitNetwork) -> pd.Series:
    """Sparsity (0–1) of each part of the network: ``"stage k"``, ``"exit k"`` and ``"final"``.

    A part's sparsity is zero weights / prunable weights over its Conv2d and Linear layers, in
    network order (the per-part view the paper reports for its exit heads and final classifier).
    A part at 1.0 has been emptied by pruning.
    """
    layers = layer_sparsity(model)
    zeros = (layers["sparsity"] * layers["weights"]).groupby(layers["part"], sort=False).sum()
    return (zeros / layers.groupby("part", sort=False)["weights"].sum()).rename("sparsity")


def iterative_prune(
    model: EarlyExitNetwork,
    train_set: Dataset,
    sparsity: float,
    *,
    scope: str,
    start: float = 0.0,
    rounds: int = 1,
    finetune_epochs: int = 1,
    seed: int = 0,
    **train_kwargs,
) -> None:
    """``rounds`` of (global magnitude prune of ``scope`` → fine-tune ``scope``) up to ``sparsity``.

    The sparsity after round t follows :func:`sparsity_schedule` from ``start`` (the scope's
    sparsity now). Fine-tuning trains the same scope that is pruned (see
    :func:`eelib.training.train`), ``finetune_epochs`` epochs per round, with ``seed + t`` for
    round t. Extra keyword arguments go to ``train``. The three strategies below are this
    function on their scope.

    Raises:
        ValueError: as :func:`sparsity_schedule`, or an unknown scope.
    """
    for t, step_target in enumerate(sparsity_schedule(sparsity, rounds, start)):
        global_magnitude_prune(model, step_target, scope)
        train(
            model,
            train_set,
            finetune_epochs,
            scope=scope,
            seed=seed + t,
            desc=f"fine-tune {scope} at {step_target:.0%}",
            **train_kwargs,
        )


def prune_all_at_once(
    model: EarlyExitNetwork,
    train_set: Dataset,
    sparsity: float,
    *,
    start: float = 0.0,
    rounds: int = 1,
    finetune_epochs: int = 1,
    seed: int = 0,
    **train_kwargs,
) -> EarlyExitNetwork:
    """Strategy 1 (paper §3): prune the whole early-exit network in one pool, fine-tuning jointly.

    Continues a pruning trajectory: from ``start`` (the network's sparsity now, 0 for a freshly
    trained one) to ``sparsity`` in ``rounds`` rounds of (global magnitude prune of backbone, exit
    heads and final classifier together → ``finetune_epochs`` of joint fine-tuning), each round
    removing the same fraction of the weights left (:func:`sparsity_schedule`). Calling it again
    from where it stopped continues the same trajectory (book, chapter 4).

    Args:
        model: an early-exit network trained jointly (``train(model, ..., scope="all")``), changed
            in place and returned.
        train_set: data for fine-tuning.
        sparsity: target fraction (0–1) of zero weights over the whole network.
        start: the whole network's sparsity when the call begins.
        rounds: rounds of (prune + fine-tune) from ``start`` to ``sparsity``.
        finetune_epochs: epochs of joint fine-tuning after each round.
        seed: round t fine-tunes with ``seed + t`` (the data order).
        **train_kwargs: passed to :func:`eelib.train` (``lr``, ``batch_size``, ``device``…).

    Raises:
        ValueError: ``sparsity`` or ``start`` outside [0, 1), ``sparsity`` below ``start``, or
            rounds < 1.
    """
    iterative_prune(
        model,
        train_set,
        sparsity,
        scope="all",
        start=start,
        rounds=rounds,
        finetune_epochs=finetune_epochs,
        seed=seed,
        **train_kwargs,
    )
    return model


def prune_base(
    model: EarlyExitNetwork,
    train_set: Dataset,
    sparsity: float,
    *,
    start: float = 0.0,
    rounds: int = 1,
    finetune_epochs: int = 1,
    seed: int = 0,
    **train_kwargs,
) -> EarlyExitNetwork:
    """Strategy 2, first part (paper §3): prune the base network alone, fine-tuning it.

    The base network (backbone + final classifier) is one pool; it goes from ``start`` to
    ``sparsity`` in ``rounds`` rounds of (prune → ``finetune_epochs`` of fine-tuning on the final
    classifier's loss), continuing its trajectory like :func:`prune_all_at_once`. The exit heads
    are not touched. Arguments and errors as in :func:`prune_all_at_once`, for the base network.
    """
    iterative_prune(
        model,
        train_set,
        sparsity,
        scope="base",
        start=start,
        rounds=rounds,
        finetune_epochs=finetune_epochs,
        seed=seed,
        **train_kwargs,
    )
    return model


def prune_heads(
    model: EarlyExitNetwork,
    train_set: Dataset,
    sparsity: float,
    *,
    start: float = 0.0,
    rounds: int = 1,
    finetune_epochs: int = 1,
    seed: int = 0,
    **train_kwargs,
) -> EarlyExitNetwork:
    """Strategy 2, second part (paper §3): prune the trained exit heads, fine-tuning them alone.

    The exit heads (all of them, one pool) go from ``start`` to ``sparsity`` in ``rounds``
    rounds of (prune → ``finetune_epochs`` of fine-tuning the heads on the frozen base network),
    continuing their trajectory like :func:`prune_all_at_once`. Train the heads first
    (``eelib.train(model, ..., scope="exits")``). Arguments and errors as in
    :func:`prune_all_at_once`, for the exit heads.
    """
    iterative_prune(
        model,
        train_set,
        sparsity,
        scope="exits",
        start=start,
        rounds=rounds,
        finetune_epochs=finetune_epochs,
        seed=seed,
        **train_kwargs,
    )
    return model


def prune_ordered(
    model: EarlyExitNetwork,
    train_set: Dataset,
    sparsity: float,
    *,
    start: float = 0.0,
    rounds: int = 1,
    finetune_epochs: int = 1,
    head_epochs: int = 1,
    head_rounds: int | None = None,
    seed: int = 0,
    head_lr: float | None = None,
    **train_kwargs,
) -> EarlyExitNetwork:
    """Strategy 2 (paper §3): prune the base network first, then train and prune the exit heads.

    1. :func:`prune_base` from ``start`` to ``sparsity`` in ``rounds`` rounds (seeds ``seed`` …);
    2. train the exit heads on the frozen base for ``head_epochs`` (seed ``seed + rounds``, learning
       rate ``head_lr``, default the fine-tuning's);
    3. :func:`prune_heads` from 0 to ``sparsity`` in ``head_rounds`` rounds (default: as many as
       the base network took; seeds from ``seed + rounds + 1``).

    The runner (:func:`eelib.run_experiment`) takes the same steps, with the base network's
    trajectory going on from target to target and a copy of it getting its heads at each target.

    Args:
        model: an early-exit network whose base network is trained (``train(..., scope="base")``);
            changed in place and returned.
        head_epochs, head_rounds, head_lr: as above.
        Others: as in :func:`prune_all_at_once`.

    Raises:
        ValueError: as :func:`prune_all_at_once`.
    """
    check_sparsity(sparsity)
    schedule = {"finetune_epochs": finetune_epochs, **train_kwargs}
    prune_base(model, train_set, sparsity, start=start, rounds=rounds, seed=seed, **schedule)
    head_kwargs = {**train_kwargs, "lr": head_lr} if head_lr is not None else train_kwargs
    train(model, train_set, head_epochs, scope="exits", seed=seed + rounds, **head_kwargs)
    head_rounds = head_rounds or rounds
    return prune_heads(
        model, train_set, sparsity, rounds=head_rounds, seed=seed + rounds + 1, **schedule
    )


def remove_masks(model: EarlyExitNetwork) -> EarlyExitNetwork:
    """Make pruning permanent: fold every mask into its weight (``torch.nn.utils.prune.remove``).

    The zeros stay; the model's ``state_dict`` then has plain ``weight`` entries again. Cost
    accounting (:func:`eelib.exit_costs`) reads the masks, so count FLOPs before calling this.
    """
    for m, name in model.prunable("all"):
        if hasattr(m, name + "_mask"):
            prune.remove(m, name)
    return model

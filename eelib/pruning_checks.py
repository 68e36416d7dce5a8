"""Answer checks for the pruning exercises (chapters 3 and 4): a layer-wise mask, global masks over
a pool of layers, and the ordered strategy written from ``train`` and ``global_magnitude_prune``.

Each compares the answer with what ``torch.nn.utils.prune`` or :func:`eelib.prune_ordered` gives
on random inputs from a fixed seed and reports as every check does (:mod:`eelib.verdicts`);
:mod:`eelib.checks` offers them under its own name, as the exercises call them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn.utils import prune

from .data import ImageDataset
from .profiles import build_model, get_profile
from .pruning import part_sparsity, prune_ordered
from .training import train
from .verdicts import NOT_ANSWERED, Unanswered
from .verdicts import call as _call
from .verdicts import report as _report

MASK_CASES = (
    ((16, 8, 3, 3), 0.5),
    ((10, 64), 0.9),
    ((32, 16, 3, 3), 0.0),
    ((7, 5), 0.3),
    ((64, 32, 3, 3), 0.95),
)
"""(weight shape, sparsity) of each layer :func:`check_layerwise_mask` tries."""


def check_layerwise_mask(
    answer: Callable[[torch.Tensor, float], torch.Tensor] | None,
    *,
    cases: Sequence[tuple[tuple[int, ...], float]] = MASK_CASES,
    seed: int | None = None,
    strict: bool = False,
) -> bool:
    """Check a function ``answer(weight, sparsity) → mask`` of layer-wise magnitude pruning (chapter 3).

    The mask has ``weight``'s shape, 1 where a weight is kept and 0 where it is pruned; it must
    remove the ``round(sparsity × weight.numel())`` weights of smallest magnitude, as
    ``torch.nn.utils.prune.l1_unstructured`` does. Tried on random weights (no ties) of each
    ``(shape, sparsity)`` in ``cases`` (default: five layers, sparsities 0–0.95); ``seed`` draws
    other weights (None: the visible check's own; a hidden test passes its build's).

    Returns True when every mask matches; prints the verdict. With ``strict=True`` a wrong or
    missing answer raises :class:`~eelib.verdicts.AnswerError`.
    """
    name = "layer-wise magnitude mask" + ("" if cases == MASK_CASES else " (more layers)")
    g = torch.Generator().manual_seed(3 if seed is None else seed)
    try:
        for shape, s in cases:
            weight = torch.randn(*shape, generator=g)
            got = torch.as_tensor(_call(answer, weight.clone(), s))
            want = prune.L1Unstructured(amount=s).compute_mask(weight, torch.ones_like(weight))
            if got.shape != want.shape:
                problem = f"the mask has shape {tuple(got.shape)}, the weight {shape}"
                return _report(name, problem, "return a tensor shaped like the weight.", strict)
            if not torch.equal((got != 0).float(), want):
                problem = (
                    f"for a {shape} weight at sparsity {s} your mask keeps "
                    f"{int((got != 0).sum())} weights (should keep {int(want.sum())}) or keeps "
                    "the wrong ones"
                )
                hint = (
                    "sort |w|, find the k-th smallest with k = round(sparsity × numel) "
                    "(torch.kthvalue), keep the weights above it."
                )
                return _report(name, problem, hint, strict)
    except Unanswered:
        return _report(name, NOT_ANSWERED, "", strict)
    return _report(name, None, "", strict)


GLOBAL_CASES = (
    (((16, 8, 3, 3), (32, 16, 3, 3), (10, 32)), 0.8),
    (((8, 1, 3, 3), (10, 8)), 0.5),
    (((4, 4), (6,)), 0.0),
    (((16, 8, 3, 3), (10, 64), (5, 5)), 0.95),
)
"""(weight shapes of one pool, sparsity) of each pool :func:`check_global_mask` tries."""


def _pool_masks(weights: list[torch.Tensor], sparsity: float) -> list[torch.Tensor]:
    """The masks ``torch.nn.utils.prune.global_unstructured`` (L1) gives a pool of weights."""
    holders = []
    for weight in weights:
        holder = nn.Module()
        holder.weight = nn.Parameter(weight.clone())
        holders.append(holder)
    pool = [(holder, "weight") for holder in holders]
    prune.global_unstructured(pool, pruning_method=prune.L1Unstructured, amount=sparsity)
    return [holder.weight_mask for holder in holders]


def check_global_mask(
    answer: Callable[[list[torch.Tensor], float], list[torch.Tensor]] | None,
    *,
    cases: Sequence[tuple[tuple[tuple[int, ...], ...], float]] = GLOBAL_CASES,
    seed: int | None = None,
    strict: bool = False,
) -> bool:
    """Check ``answer(weights, sparsity) → masks`` of global magnitude pruning (chapter 3).

    ``weights`` is a list of weight tensors, one pool; the answer returns one mask per tensor, of
    its shape, 1 where a weight is kept and 0 where it is pruned, removing the
    ``round(sparsity × total)`` weights of smallest magnitude over the whole pool — one
    threshold for every layer, as ``torch.nn.utils.prune.global_unstructured`` with
    ``L1Unstructured`` does (and :func:`eelib.global_magnitude_prune`). Tried on random weights
    (no ties) scaled like a trained network's layers (by 1/√fan-in, so a ranking per layer gives
    other masks) for each ``(shapes, sparsity)`` in ``cases`` (default: four pools, sparsities
    0–0.95); ``seed`` draws other weights (None: the visible check's own; a hidden test passes
    its build's).

    Returns True when every mask matches; prints the verdict. With ``strict=True`` a wrong or
    missing answer raises :class:`~eelib.verdicts.AnswerError`.
    """
    name = "global magnitude masks" + ("" if cases == GLOBAL_CASES else " (more pools)")
    g = torch.Generator().manual_seed(5 if seed is None else seed)
    try:
        for shapes, s in cases:
            weights = [
                torch.randn(*shape, generator=g) * math.prod(shape[1:] or (1,)) ** -0.5
                for shape in shapes
            ]
            got = _call(answer, [w.clone() for w in weights], s)
            want = _pool_masks(weights, s)
            if not isinstance(got, (list, tuple)) or len(got) != len(want):
                problem = f"for a pool of {len(want)} layers you returned {type(got).__name__}"
                hint = "return a list with one mask per weight tensor, in the same order."
                return _report(name, problem, hint, strict)
            got = [torch.as_tensor(m) for m in got]
            if any(m.shape != w.shape for m, w in zip(got, want)):
                problem = "a mask's shape differs from its weight's"
                return _report(name, problem, "each mask is shaped like its weight.", strict)
            if not all(torch.equal((m != 0).float(), w) for m, w in zip(got, want)):
                kept = [round(float((m != 0).float().mean()), 3) for m in got]
                problem = (
                    f"at sparsity {s} over layers {list(shapes)} your masks keep the shares "
                    f"{kept} of each layer, global pruning "
                    f"{[round(float(w.mean()), 3) for w in want]}"
                )
                hint = (
                    "rank every layer's |w| together: concatenate them (torch.cat), find the "
                    "k-th smallest with k = round(sparsity × total) (torch.kthvalue), and keep "
                    "each layer's weights above that one threshold — not a threshold per layer."
                )
                return _report(name, problem, hint, strict)
    except Unanswered:
        return _report(name, NOT_ANSWERED, "", strict)
    return _report(name, None, "", strict)


ORDERED_CASES = ((0.6, 2), (0.8, 1))
"""(sparsity, rounds) of each run :func:`check_ordered_strategy` tries."""


def _tiny_study(seed: int):
    """A small early-exit CNN whose base network is trained, and its 64 random training images."""
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (64,), generator=g)
    images = ImageDataset(pixels, labels, [str(k) for k in range(10)], [0.5], [0.25], "random")
    model = build_model(get_profile("fast").replace(widths=(4, 8, 8)), seed=seed)
    train(model, images, 1, scope="base", seed=seed, **ORDERED_TRAINING)
    return model, images


ORDERED_TRAINING = {"batch_size": 32, "progress": False, "threads": 1}
"""The training settings :func:`check_ordered_strategy` passes on (``**train_kwargs``)."""


def check_ordered_strategy(
    answer: Callable | None, *, seed: int | None = None, strict: bool = False
) -> bool:
    """Check ``answer(model, train_set, sparsity, rounds, seed, **train_kwargs) → model``, the
    ordered strategy written with :func:`eelib.train` and :func:`eelib.global_magnitude_prune`
    (chapter 4), against :func:`eelib.prune_ordered` with one epoch per phase.

    On a small early-exit CNN whose base network is trained (64 random images, one thread, so
    both runs are bitwise repeatable), for each ``(sparsity, rounds)`` in :data:`ORDERED_CASES`:
    the answer must return the network with the same masks and weights as ``prune_ordered(model,
    train_set, sparsity, rounds=rounds, finetune_epochs=1, head_epochs=1, seed=seed,
    **train_kwargs)``: ``rounds`` rounds of (prune the pool ``"base"`` to the next sparsity of
    :func:`eelib.sparsity_schedule`, fine-tune ``"base"`` one epoch with seed ``seed + t``),
    train ``"exits"`` one epoch with seed ``seed + rounds``, then ``rounds`` rounds of (prune the
    pool ``"exits"``, fine-tune ``"exits"`` one epoch with seed ``seed + rounds + 1 + t``).
    ``seed`` draws another network and other images (None: the visible check's own).

    Returns True when every run matches; prints the verdict. With ``strict=True`` a wrong or
    missing answer raises :class:`~eelib.verdicts.AnswerError`.
    """
    name = "the ordered strategy"
    base, images = _tiny_study(7 if seed is None else seed)
    try:
        for i, (s, rounds) in enumerate(ORDERED_CASES):
            run_seed = 10 * i + 1
            want = prune_ordered(
                copy.deepcopy(base), images, s, rounds=rounds, finetune_epochs=1,
                head_epochs=1, seed=run_seed, **ORDERED_TRAINING,
            )  # fmt: skip
            got = _call(
                answer, copy.deepcopy(base), images, s, rounds, run_seed, **ORDERED_TRAINING
            )
            state = nn.Module.state_dict(got) if isinstance(got, nn.Module) else got
            reference = want.state_dict()
            if not isinstance(state, dict) or set(state) != set(reference):
                problem = "it did not return the pruned network with its masks attached"
                hint = "prune with eelib.global_magnitude_prune and return the model."
                return _report(name, problem, hint, strict)
            yours = copy.deepcopy(want)
            yours.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
            parts = (part_sparsity(yours).round(3), part_sparsity(want).round(3))
            where = f"at sparsity {s} in {rounds} round(s)"
            if not parts[0].equals(parts[1]):
                problem = (
                    f"{where} the parts' sparsities are {parts[0].to_dict()}, prune_ordered's "
                    f"{parts[1].to_dict()}"
                )
                hint = (
                    "prune the pool 'base' first (scope='base'), then train the heads on the "
                    "frozen base and prune the pool 'exits', each to the target."
                )
                return _report(name, problem, hint, strict)
            masks = [k for k in reference if k.endswith("_mask")]
            if not all(torch.equal(state[k].bool(), reference[k].bool()) for k in masks):
                problem = f"{where} the sparsities match but other weights are removed"
                hint = (
                    "one global ranking per pool (eelib.global_magnitude_prune(model, target, "
                    "scope)), at each sparsity of eelib.sparsity_schedule(sparsity, rounds), "
                    "fine-tuning after each round."
                )
                return _report(name, problem, hint, strict)
            close = all(
                torch.allclose(torch.as_tensor(state[k]).float(), v.float(), atol=1e-5)
                for k, v in reference.items()
            )
            if not close:
                problem = f"{where} the masks match but the trained weights differ"
                hint = (
                    "one epoch per phase, seeds seed + t (base rounds), seed + rounds (heads), "
                    "seed + rounds + 1 + t (head rounds), each fine-tuning the scope it pruned, "
                    "and **train_kwargs passed to every eelib.train call."
                )
                return _report(name, problem, hint, strict)
    except Unanswered:
        return _report(name, NOT_ANSWERED, "", strict)
    return _report(name, None, "", strict)

"""Answer checks for the course's exercises: call one on your answer, read right or wrong.

Each ``check_*`` function compares a student's function with the course's reference on random
inputs (a fixed seed, so a message is repeatable), prints one line that says "correct", "not
correct yet" with a hint, or "not answered yet", and returns True only for a correct answer. A
missing answer (``None``, a function that returns ``None`` or raises ``NotImplementedError``, as
the student version's stub does) never raises, so the cells after it still run.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import prune
from torch.utils.flop_counter import FlopCounterMode

from .early_exit import confidence_exit

NOT_ANSWERED = "not answered yet"


class _Unanswered(Exception):
    """The answer is missing: the stub is still in place."""


def _report(name: str, problem: str | None, hint: str) -> bool:
    if problem is None:
        print(f"✔ {name}: correct.")
        return True
    if problem == NOT_ANSWERED:
        print(f"… {name}: {NOT_ANSWERED} — replace the stub with your code and run the cell again.")
        return False
    print(f"✘ {name}: not correct yet — {problem}\n  Hint: {hint}")
    return False


def _call(answer: Callable | None, *args):
    """The answer's value for ``args``; ``_Unanswered`` where it is still a stub."""
    if answer is None:
        raise _Unanswered
    try:
        value = answer(*args)
    except NotImplementedError as stub:
        raise _Unanswered from stub
    if value is None:
        raise _Unanswered
    return value


def reference_conv2d_flops(conv: nn.Conv2d, input_shape: tuple[int, int, int]) -> int:
    """FLOPs (2 × MACs) of ``conv`` on one input of shape ``(C, H, W)``, counted by ``FlopCounterMode``."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        conv(torch.zeros(1, *input_shape))
    return counter.get_total_flops()


def _random_convs(count: int, seed: int):
    g = torch.Generator().manual_seed(seed)

    def pick(*choices):
        return choices[int(torch.randint(len(choices), (1,), generator=g))]

    for _ in range(count):
        c_in, c_out, k = pick(1, 3, 8, 16), pick(4, 16, 32), pick(1, 3, 5)
        stride, padding, size = pick(1, 2), pick(0, 1, 2), pick(8, 14, 28)
        yield (
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=pick(True, False)),
            (c_in, size, size),
        )


def check_conv2d_flops(answer: Callable[[nn.Conv2d, tuple[int, int, int]], int] | None) -> bool:
    """Check a function ``answer(conv, (C, H, W)) → FLOPs`` of one 2-D convolution (chapter 1).

    FLOPs here are 2 × multiply–accumulates, as ``torch.utils.flop_counter`` counts them (the bias
    adds no FLOPs in that count). Tried on 20 random convolutions (kernel 1–5, stride 1–2,
    padding 0–2, with and without bias). Prints the verdict; returns True when every one matches.
    """
    name = "FLOPs of a convolution"
    try:
        for conv, shape in _random_convs(20, seed=1):
            got, want = _call(answer, conv, shape), reference_conv2d_flops(conv, shape)
            if got != want:
                problem = (
                    f"for Conv2d({conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size[0]}, "
                    f"stride={conv.stride[0]}, padding={conv.padding[0]}) on {shape} you gave {got}, "
                    f"FlopCounterMode counts {want}"
                )
                return _report(
                    name,
                    problem,
                    "2 × (output height × output width × out_channels) × "
                    "(in_channels × k × k); output size = (H + 2·padding − k) // stride + 1.",
                )
    except _Unanswered:
        return _report(name, NOT_ANSWERED, "")
    return _report(name, None, "")


def _random_probs(seed: int, shape=(4, 500, 10)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (3 * torch.randn(*shape, generator=g)).softmax(dim=2)


def check_exit_rule(answer: Callable[[torch.Tensor, float], torch.Tensor] | None) -> bool:
    """Check a function ``answer(probs (K, N, C), τ) → exits (N,)`` of the confidence rule (chapter 2).

    Compared with :func:`eelib.confidence_exit` on random softmax probabilities for
    τ ∈ {0, 0.3, 0.5, 0.8, 0.95, 1}, including confidences exactly equal to τ (a sample leaves when
    its confidence is ≥ τ). Prints the verdict; returns True when every exit matches.
    """
    name = "the exit rule"
    probs = _random_probs(2)
    probs[0, :5] = torch.tensor([0.5] + [0.5 / 9] * 9)  # confidence exactly 0.5 at exit 1
    try:
        for tau in (0.0, 0.3, 0.5, 0.8, 0.95, 1.0):
            got = torch.as_tensor(_call(answer, probs.clone(), tau))
            want = confidence_exit(probs, tau)
            if got.shape != want.shape or not torch.equal(got.long(), want):
                wrong = (
                    "shape " + str(tuple(got.shape))
                    if got.shape != want.shape
                    else f"{int((got.long() != want).sum())} of {len(want)} exits differ"
                )
                return _report(
                    name,
                    f"at τ = {tau}: {wrong}",
                    "a sample leaves at the first exit whose max probability is ≥ τ; the last "
                    "exit takes every sample still left. Return 0-based exit indices, shape (N,).",
                )
    except _Unanswered:
        return _report(name, NOT_ANSWERED, "")
    return _report(name, None, "")


def reference_layerwise_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Mask (1 keep, 0 prune) removing the ``round(sparsity × numel)`` smallest |w| of one layer.

    This is ``torch.nn.utils.prune.L1Unstructured(amount=sparsity).compute_mask``.
    """
    return prune.L1Unstructured(amount=sparsity).compute_mask(weight, torch.ones_like(weight))


def check_layerwise_mask(answer: Callable[[torch.Tensor, float], torch.Tensor] | None) -> bool:
    """Check a function ``answer(weight, sparsity) → mask`` of layer-wise magnitude pruning (chapter 3).

    The mask has ``weight``'s shape, 1 where a weight is kept and 0 where it is pruned; it must
    remove the ``round(sparsity × weight.numel())`` weights of smallest magnitude, as
    ``torch.nn.utils.prune.l1_unstructured`` does. Tried on random weights (no ties) and
    sparsities 0–0.95. Prints the verdict; returns True when every mask matches.
    """
    name = "layer-wise magnitude mask"
    g = torch.Generator().manual_seed(3)
    try:
        for shape, s in (
            ((16, 8, 3, 3), 0.5),
            ((10, 64), 0.9),
            ((32, 16, 3, 3), 0.0),
            ((7, 5), 0.3),
            ((64, 32, 3, 3), 0.95),
        ):
            weight = torch.randn(*shape, generator=g)
            got = torch.as_tensor(_call(answer, weight.clone(), s))
            want = reference_layerwise_mask(weight, s)
            if got.shape != want.shape:
                return _report(
                    name,
                    f"the mask has shape {tuple(got.shape)}, the weight {shape}",
                    "return a tensor shaped like the weight.",
                )
            if not torch.equal((got != 0).float(), want):
                kept = int((got != 0).sum())
                return _report(
                    name,
                    f"for a {shape} weight at sparsity {s} your mask keeps {kept} weights "
                    f"(should keep {int(want.sum())}) or keeps the wrong ones",
                    "sort |w|, find the k-th smallest with k = round(sparsity × numel) "
                    "(torch.kthvalue), keep the weights above it.",
                )
    except _Unanswered:
        return _report(name, NOT_ANSWERED, "")
    return _report(name, None, "")


def check_prediction(name: str, guess: float | None, measured: float, tolerance: float) -> bool:
    """Compare a predict-then-run guess with what the notebook measured.

    Args:
        name: what was predicted, for the message.
        guess: the student's number (None: not answered yet).
        measured: the value the code computed.
        tolerance: how far off a guess may be and still count as close, in the same units.

    Prints the verdict; returns True when ``|guess − measured| ≤ tolerance``.
    """
    if guess is None:
        return _report(name, NOT_ANSWERED, "")
    if abs(guess - measured) <= tolerance:
        print(
            f"✔ {name}: you guessed {guess:.4g}, measured {measured:.4g} — close (within {tolerance:g})."
        )
        return True
    print(
        f"✘ {name}: you guessed {guess:.4g}, measured {measured:.4g}. What did the guess leave out?"
    )
    return False

"""Answer checks for the course's exercises: call one on your answer, read right or wrong.

Each ``check_*`` function compares a student's answer with the course's reference (random inputs
from a fixed seed, so a message is repeatable), prints one line that says "correct", "not correct
yet" with a hint, or "not answered yet", and returns True only for a correct answer. A missing
answer (``None``, a function that returns ``None`` or raises ``NotImplementedError``, as the
student version's stub does) never raises, so the cells after it still run.

With ``strict=True`` the same check is the body of a graded test cell (nbgrader, otter-grader):
a wrong or missing answer raises :class:`~eelib.verdicts.AnswerError` whose message is the same verdict and hint,
and a correct one prints its "correct" line. The book's teaching chapter lists which check grades
which exercise.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .costs import exit_costs
from .early_exit import predict_all_exits, tradeoff_curve

# the pruning exercises' checks (chapters 3 and 4) are offered here too, under the name every
# exercise calls them by: checks.check_layerwise_mask(...)
from .pruning_checks import GLOBAL_CASES as GLOBAL_CASES
from .pruning_checks import MASK_CASES as MASK_CASES
from .pruning_checks import check_global_mask as check_global_mask
from .pruning_checks import check_layerwise_mask as check_layerwise_mask
from .pruning_checks import check_ordered_strategy as check_ordered_strategy
from .verdicts import NOT_ANSWERED, AnswerError
from .verdicts import Unanswered as _Unanswered
from .verdicts import call as _call
from .verdicts import report as _report


class _SealedConv2d(nn.Conv2d):
    """A convolution given to an answer: its attributes are set, but it refuses to run."""

    def forward(self, x):
        raise RuntimeError(
            "this convolution cannot run: count its FLOPs from its attributes (in_channels, "
            "out_channels, kernel_size, stride, padding)"
        )


def _random_convs(count: int, seed: int, square: bool = True):
    g = torch.Generator().manual_seed(seed)

    def pick(*choices):
        return choices[int(torch.randint(len(choices), (1,), generator=g))]

    def pair(*choices):
        first = pick(*choices)
        return (first, first) if square else (first, pick(*choices))

    for _ in range(count):
        c_in, c_out = pick(1, 3, 8, 16), pick(4, 16, 32)
        k, stride, padding = pair(1, 3, 5), pair(1, 2), pair(0, 1, 2)
        size = pair(8, 14, 28)
        settings = dict(stride=stride, padding=padding, bias=pick(True, False))
        sealed = _SealedConv2d(c_in, c_out, k, device="meta", **settings)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            nn.Conv2d(c_in, c_out, k, **settings)(torch.zeros(1, c_in, *size))
        yield sealed, (c_in, *size), counter.get_total_flops()


def check_conv2d_flops(
    answer: Callable[[nn.Conv2d, tuple[int, int, int]], int] | None,
    *,
    square: bool = True,
    seed: int | None = None,
    strict: bool = False,
) -> bool:
    """Check a function ``answer(conv, (C, H, W)) → FLOPs`` of one 2-D convolution (chapter 1).

    FLOPs here are 2 × multiply–accumulates, as ``torch.utils.flop_counter`` counts them (the bias
    adds no FLOPs in that count). The answer counts them from the convolution's attributes: the
    convolutions it gets refuse to run (a count by running them is not the exercise). Tried on
    20 random convolutions (kernel 1–5, stride 1–2,
    padding 0–2, with and without bias): square kernels on square images, or with
    ``square=False`` different heights and widths everywhere (kernel, stride, padding, image).
    ``seed`` draws other convolutions (None: the visible check's own; a hidden test passes its
    build's, see the book's teaching page).

    Returns True when every one matches; prints the verdict. With ``strict=True`` a wrong or
    missing answer raises :class:`~eelib.verdicts.AnswerError`.
    """
    name = "FLOPs of a convolution" + ("" if square else " (rectangular)")
    try:
        seed = (1 if square else 4) if seed is None else seed
        for conv, shape, want in _random_convs(20, seed=seed, square=square):
            try:
                got = _call(answer, conv, shape)
            except RuntimeError as error:
                if "cannot run" not in str(error):
                    raise
                hint = "use conv.kernel_size, conv.stride, conv.padding and the channel counts."
                return _report(name, "your function runs the convolution", hint, strict)
            if got != want:
                problem = (
                    f"for Conv2d({conv.in_channels}, {conv.out_channels}, "
                    f"kernel_size={conv.kernel_size}, stride={conv.stride}, "
                    f"padding={conv.padding}) on {shape} you gave {got}, FlopCounterMode "
                    f"counts {want}"
                )
                hint = (
                    "2 × (output height × output width × out_channels) × "
                    "(in_channels × k_h × k_w); output height = (H + 2·padding_h − k_h) // "
                    "stride_h + 1, and the same for the width with the second entries."
                )
                return _report(name, problem, hint, strict)
    except _Unanswered:
        return _report(name, NOT_ANSWERED, "", strict)
    return _report(name, None, "", strict)


def _random_probs(seed: int, shape=(4, 500, 10)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (3 * torch.randn(*shape, generator=g)).softmax(dim=2)


TAUS = (0.0, 0.3, 0.5, 0.8, 0.95, 1.0)
"""The thresholds :func:`check_exit_rule` tries an answer on (alone and mixed across exits)."""


def check_exit_rule(
    answer: Callable[[torch.Tensor, list[float]], torch.Tensor] | None,
    *,
    shape: tuple[int, int, int] = (4, 500, 10),
    seed: int | None = None,
    strict: bool = False,
) -> bool:
    """Check ``answer(probs (K, N, C), thresholds) → exits (N,)``, the rule with one τ per exit.

    ``thresholds`` holds K − 1 numbers, τ_k for early exit k: a sample leaves at the first early
    exit whose max probability is ≥ its τ_k, and the final exit takes every sample left (chapter
    2, exercise 2.1; with every τ_k equal this is :func:`eelib.confidence_exit`). Tried on random
    softmax probabilities of ``shape`` ``(K, N, C)``, K ≥ 2 and N ≥ 5, with equal thresholds
    τ ∈ {0, 0.3, 0.5, 0.8, 0.95, 1} and with mixed ones, confidences exactly equal to a τ included;
    ``seed`` draws other probabilities (None: the visible check's own; a hidden test passes its
    build's).

    Returns True when every exit matches; prints the verdict. With ``strict=True`` a wrong or
    missing answer raises :class:`~eelib.verdicts.AnswerError`.
    """
    name = "the exit rule" + ("" if shape == (4, 500, 10) else f" on probs of shape {shape}")
    probs = _random_probs(2 if seed is None else seed, shape)
    probs[0, :5] = torch.full((shape[2],), 0.5 / (shape[2] - 1))
    probs[0, :5, 0] = 0.5  # confidence exactly 0.5 at exit 1
    early = shape[0] - 1
    trials = [[tau] * early for tau in TAUS]
    trials += [[TAUS[(i + j) % len(TAUS)] for j in range(early)] for i in range(len(TAUS))]
    try:
        for thresholds in trials:
            got = torch.as_tensor(_call(answer, probs.clone(), list(thresholds)))
            confident = probs.max(dim=2).values >= torch.tensor([*thresholds, 0.0])[:, None]
            want = confident.int().argmax(dim=0)  # the first exit that lets it leave
            if got.shape != want.shape or not torch.equal(got.long(), want):
                wrong = (
                    "shape " + str(tuple(got.shape))
                    if got.shape != want.shape
                    else f"{int((got.long() != want).sum())} of {len(want)} exits differ"
                )
                hint = (
                    "a sample leaves at the first early exit k whose max probability is ≥ "
                    "thresholds[k]; the last exit takes every sample still left. Return 0-based "
                    "exit indices, shape (N,)."
                )
                return _report(name, f"at thresholds {thresholds}: {wrong}", hint, strict)
    except _Unanswered:
        return _report(name, NOT_ANSWERED, "", strict)
    return _report(name, None, "", strict)


def _is_number(value) -> bool:
    """A real number: Python, NumPy or a one-element real tensor; not a bool."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and not value.is_complex()
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_prediction(
    name: str,
    guess: float | None,
    measured: float,
    tolerance: float,
    *,
    strict: bool = False,
) -> bool:
    """Compare a predict-then-run guess with what the notebook measured.

    Args:
        name: what was predicted, for the message.
        guess: the student's number (None: not answered yet).
        measured: the value the code computed.
        tolerance: how far off a guess may be and still count as close, in the same units.
        strict: raise :class:`~eelib.verdicts.AnswerError` for a missing or distant guess (a graded test cell).

    Prints the verdict; returns True when ``|guess − measured| ≤ tolerance``.
    """
    if guess is None:
        return _report(name, NOT_ANSWERED, "", strict)
    if not _is_number(guess):
        return _report(name, f"your guess is {guess!r}", "write a number.", strict)
    guess = float(guess)
    if abs(guess - measured) <= tolerance:
        print(
            f"✔ {name}: you guessed {guess:.4g}, measured {measured:.4g} — close (within {tolerance:g})."
        )
        return True
    if strict:
        raise AnswerError(
            f"{name}: you guessed {guess:.4g}, measured {measured:.4g} (more than {tolerance:g} "
            "apart). What did the guess leave out?"
        )
    print(
        f"✘ {name}: you guessed {guess:.4g}, measured {measured:.4g}. What did the guess leave out?"
    )
    return False


def check_number(
    name: str,
    value,
    low: float,
    high: float,
    *,
    hint: str,
    strict: bool = False,
) -> bool:
    """Check that an answer is a number in ``[low, high]``: answered, and in the asked units.

    The first, visible test of a predict or measure exercise: it catches a missing answer, a
    percent where a fraction is asked (or the reverse), FLOPs where MFLOPs are asked.

    Args:
        name: the answer, for the message.
        value: the student's answer (None: not answered yet).
        low, high: the range a right answer in the asked units falls in.
        hint: what the units are, e.g. ``"a fraction between 0 and 1, not a percentage"``.
        strict: raise :class:`~eelib.verdicts.AnswerError` instead of printing a ✘ or … line.

    Returns True for a number in the range; prints the verdict. A number in the range is only
    plausible, so the line says so ("plausible, not checked"), never "correct": a wrong number in
    the right units passes this check (the hidden test, or the cell that measures it, decides).
    """
    if value is None:
        return _report(name, NOT_ANSWERED, "", strict)
    if not _is_number(value):
        return _report(name, f"{name} is {value!r}, not a number", hint, strict)
    if not low <= float(value) <= high:
        return _report(name, f"{float(value):.4g} is outside [{low:g}, {high:g}]", hint, strict)
    print(f"✔ {name}: plausible, not checked ({float(value):.4g} is in [{low:g}, {high:g}]).")
    return True


def check_value(
    name: str,
    answer,
    expected,
    *,
    hint: str,
    tolerance: float = 0.0,
    strict: bool = False,
) -> bool:
    """Compare a measured answer with the value the notebook's own data give.

    Numbers match within ``tolerance`` (absolute, in the answer's units); data frames match cell by
    cell (index ignored, numbers to 1e-9); anything else must be equal (``==``).

    Args:
        name: the answer, for the message.
        answer: the student's answer (None: not answered yet).
        expected: the reference, computed from the same data.
        hint: what to look at again when they differ.
        tolerance: for numbers, how far the answer may be from ``expected``.
        strict: raise :class:`~eelib.verdicts.AnswerError` instead of printing a ✘ or … line.

    Returns True when they match; prints the verdict.
    """
    if answer is None:
        return _report(name, NOT_ANSWERED, "", strict)
    if _is_number(expected):
        same = _is_number(answer) and math.isclose(
            float(answer), float(expected), rel_tol=0.0, abs_tol=tolerance
        )
        shown = f"{float(answer):.6g}" if _is_number(answer) else repr(answer)
        problem = f"you have {shown}, the notebook's data give {float(expected):.6g}"
    elif isinstance(expected, pd.DataFrame):
        same = isinstance(answer, pd.DataFrame) and _frames_equal(answer, expected)
        problem = "your table differs from the one the notebook's data give"
    else:
        same = answer == expected
        problem = f"you have {answer!r}, the notebook's data give {expected!r}"
    return _report(name, None if same else problem, hint, strict)


def _frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False, atol=1e-9
        )
    except AssertionError:
        return False
    return True


def measure_operating_point(model: nn.Module, threshold: float, dataset) -> tuple[float, float]:
    """Mean cost and accuracy of an early-exit network under the confidence rule (the capstone).

    Every image of ``dataset`` leaves at the first exit whose max-softmax is ≥ ``threshold``; its
    cost is the FLOPs of the layers it ran, counting only the weights the pruning masks keep
    (:func:`eelib.exit_costs`: keep the masks attached).

    Args:
        model: an early-exit network (pruned or not).
        threshold: the confidence threshold τ in [0, 1].
        dataset: the images to measure on (the capstone grades on its validation split).

    Returns:
        ``(mflops, accuracy)``: mean MFLOPs (10⁶ FLOPs) per image and accuracy in percent.

    Raises:
        ValueError: ``threshold`` outside [0, 1].
    """
    probs, labels = predict_all_exits(model, dataset)
    costs = exit_costs(model, tuple(dataset[0][0].shape))
    row = tradeoff_curve(probs, labels, costs, [threshold]).iloc[0]
    return row["flops"] / 1e6, 100 * row["accuracy"]

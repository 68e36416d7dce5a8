"""The grader: every point of the course, decided in the grader's own process from plain data.

A graded version's hidden test cell (``make grading`` writes it from :data:`TESTS`) compares
nothing in the submission's kernel: it writes the answers out with :func:`eelib.exports.save`
(numbers, tables, a network's weights, a function's results on the checks' inputs). After the
notebook has run, the grader's process — nbgrader's ``GradeFromExports`` preprocessor
(``nbgrader_config.py``), or ``scripts/grade_otter.py`` for otter-grader — reads those files
with ``torch.load(weights_only=True)`` and calls :func:`grade`, which runs the test's check here:

- on the grader's own course code (the repository's ``eelib``, never the submission's);
- with the course's settings (profile, seed, sparsities) from the constants below, not from the
  submission's parameters cell;
- on a student's network only through its weights, copied into a network the grader builds;
- on a student's function only through what it returned (:func:`eelib.exports.replay`).

Nothing the submission defines is called or compared, and this file, the capstone's bars and
the committed results never enter a student's folder, a release, a feedback folder or an
autograder zip. Every check raises :class:`AnswerError` (one line: what is wrong, and a hint)
or returns None.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import eelib
from eelib import data, exports

ROOT = Path(__file__).resolve().parent.parent
PROFILE = os.environ.get("EELIB_PROFILE", "fast")
SEED = 0  # every chapter's default seed
SHAPE = (1, 28, 28)
RESULTS = ROOT / "results" / "full-fashion-mnist.csv"  # chapters 5 and 6: the committed results
REFERENCE = Path(
    os.environ.get("EELIB_GRADER_REFERENCE", ROOT / "_build" / "grading" / "grader_reference.json")
)  # the capstone's bars, written by make grading (capstone_bars)
TRAINED = 0.5  # a trained network's final-exit test accuracy is above this (chance: 0.1)


class AnswerError(AssertionError):
    """A hidden test's verdict on a wrong, missing or refused answer."""


def hidden_seed() -> int:
    """The seed of this build's hidden cases, which ``make grading`` draws afresh (or takes from
    ``HIDDEN_SEED=…``) and keeps in :data:`REFERENCE`, beside the capstone's bars.

    The hidden cells it wrote pass the same number to the checks' random inputs and write it
    out with the answers, so :func:`grade` refuses answers written by another build's hidden
    tests instead of scoring them 0 without a reason.

    Raises:
        RuntimeError: no reference file, or one an older build wrote (run ``make grading``).
    """
    reference = json.loads(REFERENCE.read_text()) if REFERENCE.is_file() else {}
    if "hidden_seed" not in reference:
        raise RuntimeError(f"{REFERENCE} holds no build's hidden seed: run make grading first")
    return int(reference["hidden_seed"])


def runs(template: tuple[dict, ...], seed: int | None = None) -> list[dict]:
    """The hidden runs ``template`` with ``"HIDDEN_SEED"`` replaced by ``seed`` (default: this
    build's, :func:`hidden_seed`)."""
    seed = hidden_seed() if seed is None else seed
    return [{k: seed if v == "HIDDEN_SEED" else v for k, v in run.items()} for run in template]


def _answered(name: str, value) -> None:
    if value is None:
        raise AnswerError(f"{name}: not answered yet.")


def _number(name: str, value, low: float, high: float, hint: str) -> float:
    """``value`` as a float in ``[low, high]`` (``check_number``), else AnswerError."""
    eelib.checks.check_number(name, value, low, high, hint=hint, strict=True)
    return float(value)


def _close(name: str, value, want: float, tolerance: float, hint: str) -> None:
    """``value`` within ``tolerance`` of what the grader computed (``check_value``)."""
    eelib.checks.check_value(name, value, want, hint=hint, tolerance=tolerance, strict=True)


def effective_weights(state: dict) -> dict[str, torch.Tensor]:
    """The tensors a network computes with: ``weight_orig × weight_mask`` where pruned.

    Args:
        state: a network's written ``state_dict`` (name → tensor).

    Raises:
        AnswerError: not a network's weights, or a ``weight_mask`` that prunes a non-zero weight
            (a mask registered without pruning: it would make the network look cheaper).
    """
    if not isinstance(state, dict) or not state:
        raise AnswerError("not a network (a torch.nn.Module): the hidden test wrote no weights.")
    if not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise AnswerError("not a network: its state holds something other than tensors.")
    weights = {}
    for name, tensor in state.items():
        if name.endswith("_mask"):
            continue
        if name.endswith("_orig"):
            base = name[: -len("_orig")]
            mask = state.get(base + "_mask")
            if mask is None or mask.shape != tensor.shape:
                raise AnswerError(f"{name} has no mask of its shape: not a pruned layer.")
            weights[base] = tensor * mask
        else:
            weights[name] = tensor
    for name, mask in state.items():
        if name.endswith("_mask"):
            weight = weights.get(name[: -len("_mask")])
            if weight is None or weight.shape != mask.shape or bool((weight[mask == 0] != 0).any()):
                raise AnswerError(
                    f"{name} does not match the weights: it marks as pruned weights that are not "
                    "zero. Prune with eelib or torch.nn.utils.prune; the cost is counted from the "
                    "actual weights."
                )
    return weights


def rebuilt(state: dict, profile, name: str):
    """A network built by the grader (``profile``) carrying the written weights ``state``.

    Zero weights are pruned again with masks, so :func:`eelib.exit_costs` counts them as removed.

    Raises:
        AnswerError: ``state`` is not the profile's network (other layers or shapes).
    """
    weights = effective_weights(state)
    network = eelib.build_model(profile, seed=SEED)
    try:
        network.load_state_dict(weights, strict=True)
    except RuntimeError:
        raise AnswerError(
            f"{name} is not the course's network for profile {profile.name!r}: its layers differ."
        ) from None
    for _, layer in network.named_prunable("all"):
        if bool((layer.weight == 0).any()):
            torch.nn.utils.prune.custom_from_mask(layer, "weight", layer.weight != 0)
    return network.eval()


def trained(state: dict, profile, name: str, test_set):
    """:func:`rebuilt`, and refused unless its final exit is well above chance on ``test_set``."""
    network = rebuilt(state, profile, name)
    probs, labels = eelib.predict_all_exits(network, test_set)
    if eelib.exit_accuracy(probs, labels)[-1].item() < TRAINED:
        raise AnswerError(f"{name} is not a trained network: run the chapter's cells in order.")
    return network, probs, labels


def _final_accuracy(network, test_set) -> float:
    probs, labels = eelib.predict_all_exits(network, test_set)
    return eelib.exit_accuracy(probs, labels)[-1].item()


@functools.cache
def _dataset(split: str):
    return eelib.load_dataset(eelib.get_profile(PROFILE).dataset, split)


# ---------------------------------------------------------------- chapter 1


def conv2d_flops(answer: dict) -> None:
    """Exercise 1.1: square and rectangular convolutions, none of which may be run."""
    for settings in runs(CONV_RUNS):
        eelib.checks.check_conv2d_flops(exports.replay(answer), **settings, strict=True)


def narrow_saving(saving) -> None:
    """Exercise 1.3: the share of FLOPs saved by halving the widths."""
    hint = "the share saved is 1 − the narrow network's FLOPs ÷ the original's (a fraction)"
    saving = _number("narrow_saving", saving, 0, 1, hint)
    profile = eelib.get_profile(PROFILE)
    half = profile.replace(widths=tuple(w // 2 for w in profile.widths))
    flops = [
        eelib.exit_costs(eelib.build_model(p, seed=SEED), SHAPE)[-1].item() for p in (profile, half)
    ]
    _close("narrow_saving", saving, 1 - flops[1] / flops[0], 1e-6, hint)


def narrow_accuracy_drop(drop, model, narrow) -> None:
    """Exercise 1.3: the accuracy drop, measured on the student's own two trained networks."""
    hint = "the original's test accuracy − the narrow network's, a fraction (0.01 = 1 point)"
    drop = _number("narrow_accuracy_drop", drop, -0.5, 0.5, hint)
    profile = eelib.get_profile(PROFILE)
    half = profile.replace(widths=tuple(w // 2 for w in profile.widths))
    test_set = _dataset("test")
    accuracies = []
    for name, network, p in (("model", model, profile), ("narrow", narrow, half)):
        rebuilt_network, probs, labels = trained(network, p, name, test_set)
        accuracies.append(eelib.exit_accuracy(probs, labels)[-1].item())
    _close("narrow_accuracy_drop", drop, accuracies[0] - accuracies[1], 1e-6, hint)


# ---------------------------------------------------------------- chapter 2


def exit_rule(answer: dict) -> None:
    """Exercise 2.1: per-exit thresholds on 3 exits, then on 2 and 7 exits and 3 classes."""
    for settings in runs(EXIT_RULE_RUNS):
        eelib.checks.check_exit_rule(exports.replay(answer), **settings, strict=True)


def _joint(model, profile):
    test_set = _dataset("test")
    return trained(model, profile, "model", test_set)


def tau_1pt(tau, saving, model) -> None:
    """Exercise 2.3: the cheapest τ within 1 point of the final exit, and its saving."""
    tau = _number("tau_1pt", tau, 0, 1, "a threshold in [0, 1]")
    saving = _number("saving_1pt", saving, 0, 1, "a fraction (0.25 is 25 %)")
    profile = eelib.get_profile(PROFILE)
    network, probs, labels = _joint(model, profile)
    costs = eelib.exit_costs(network, SHAPE)
    curve = eelib.tradeoff_curve(probs, labels, costs, np.linspace(0, 1, 101))
    final = eelib.exit_accuracy(probs, labels)[-1].item()
    cheapest = curve[curve["accuracy"] >= final - 0.01]["flops"].min()
    at_tau = curve.loc[(curve["threshold"] - tau).abs() < 1e-9, "flops"]
    hint = "of the τ within 1 point of the final exit, take the one with fewest FLOPs"
    if at_tau.empty or not math.isclose(at_tau.min(), cheapest, rel_tol=1e-9):
        raise AnswerError(f"tau_1pt: τ = {tau:g} is not the cheapest such τ. Hint: {hint}")
    hint = "saving = 1 − (mean FLOPs at τ) ÷ (the final exit's FLOPs)"
    _close("saving_1pt", saving, 1 - cheapest / costs[-1].item(), 1e-9, hint)


# ---------------------------------------------------------------- chapter 3

SWEEP_3 = (0.5, 0.7, 0.8, 0.9, 0.95)  # chapter 3's SWEEP


def layerwise_mask(answer: dict) -> None:
    """Exercise 3.1: five layers, then 1-D weights, sparsity 1 and odd rounding."""
    for settings in runs(MASK_RUNS):
        eelib.checks.check_layerwise_mask(exports.replay(answer), **settings, strict=True)


def global_mask(answer: dict) -> None:
    """Exercise 3.1 (b): four pools of scaled layers, then other pools and sparsities."""
    for settings in runs(GLOBAL_RUNS):
        eelib.checks.check_global_mask(exports.replay(answer), **settings, strict=True)


def _base(base, profile):
    test_set = _dataset("test")
    network, _, _ = trained(base, profile, "base", test_set)
    return network, test_set


def _one_shot(base_network, profile, train_set, test_set, epochs: int) -> float:
    network = copy.deepcopy(base_network)
    eelib.remove_masks(network)
    eelib.global_magnitude_prune(network, SWEEP_3[-1], scope="base")
    eelib.train(
        network,
        train_set,
        epochs,
        scope="base",
        lr=profile.finetune_lr,
        seed=SEED,
        batch_size=profile.batch_size,
        progress=False,
    )
    return _final_accuracy(network, test_set)


def budget(one_shot_long, base, epochs: int = len(SWEEP_3)) -> None:
    """Exercise 3.3: one-shot to the top sparsity, fine-tuned ``epochs`` epochs, from ``base``.

    With ``epochs`` = 1 it checks that the answer is *not* the 1-epoch network's accuracy.
    """
    hint = "a test accuracy as a fraction (0.85), not a percentage"
    answer = _number("one_shot_long", one_shot_long, 0.1, 1, hint)
    profile = eelib.get_profile(PROFILE)
    network, test_set = _base(base, profile)
    train_set = _dataset("train")
    want = _one_shot(network, profile, train_set, test_set, epochs)
    if epochs == 1:
        if abs(answer - want) < 1e-9:
            raise AnswerError(
                "one_shot_long: not correct yet. Hint: fine-tune for len(SWEEP) epochs, not 1."
            )
        return
    hint = "prune a copy of base to SWEEP[-1] at once, then fine-tune len(SWEEP) epochs"
    _close("one_shot_long", answer, want, 0.01, hint)


# ---------------------------------------------------------------- chapter 4


def collapse(collapsed, dense) -> None:
    """Exercise 4.2: the parts emptied by global pruning to 98 % and 99 % of the trained network."""
    _answered("collapsed", collapsed)
    if not isinstance(collapsed, dict) or set(collapsed) != {0.98, 0.99}:  # written as floats
        raise AnswerError("collapsed: a dict with the keys 0.98 and 0.99 (fractions).")
    profile = eelib.get_profile(PROFILE)
    network, _, _ = trained(dense, profile, "dense", _dataset("test"))
    eelib.remove_masks(network)
    want = {}
    for target in (0.98, 0.99):
        pruned = copy.deepcopy(network)
        eelib.global_magnitude_prune(pruned, target, scope="all")
        parts = eelib.part_sparsity(pruned)
        want[target] = list(parts.index[parts == 1.0])
    got = {k: list(v) for k, v in collapsed.items()}
    if got != want:
        raise AnswerError(
            f"collapsed: you have {got}, the grader finds {want}. Hint: one global pool over "
            "every prunable layer (scope='all'), no fine-tuning."
        )


def ordered(answer: dict) -> None:
    """Exercise 4.4: against eelib.prune_ordered on the check's network, then on another."""
    for settings in runs(ORDERED_RUNS):
        eelib.checks.check_ordered_strategy(exports.replay(answer), **settings, strict=True)


# ---------------------------------------------------------------- chapters 5 and 6


@functools.cache
def results():
    """The committed full-profile results, from the repository (never a student's copy)."""
    return eelib.load_results(RESULTS)


def verdict_80(answer) -> None:
    """Exercise 5.1: the verdicts of the six claims at 80 % confidence, the headline otherwise."""
    want = eelib.claims.verdicts(results(), confidence=0.8)
    hint = "claims.verdicts with confidence=0.8 (a fraction), nothing else changed"
    eelib.checks.check_value("verdict_80", _table(answer), want, hint=hint, strict=True)


def lead(lead_mflops, lead_points) -> None:
    """Exercise 5.2: the largest lead at the highest sparsity, its budget in MFLOPs."""
    mflops = _number("lead_mflops", lead_mflops, 0.01, 1000, "a budget in MFLOPs: FLOPs ÷ 1e6")
    points = _number("lead_points", lead_points, -100, 100, "a gap in accuracy points")
    gap = eelib.frontiers.gap_by_budget(eelib.claims.HEADLINE.rows(results()))  # chapter 5's gap
    top = gap[gap["sparsity"] == gap["sparsity"].max()]
    row = top.loc[top["mean"].idxmax()]
    hint = "take the highest sparsity's rows of gap and the budget with the largest mean"
    _close("lead_mflops", mflops, row["budget"] / 1e6, 1e-6, hint)
    _close("lead_points", points, row["mean"], 1e-6, hint)


def _top_runs():
    table = results()
    top = eelib.widgets.runs(table)["sparsity"].max()
    return {s: eelib.widgets.select_run(table, s, top, SEED) for s in ("all-at-once", "ordered")}


def biggest_gap(tau, gap) -> None:
    """Exercise 6.1: all at once − ordered, in points, where |gap| is largest (top sparsity)."""
    tau = _number("tau_biggest_gap", tau, 0, 1, "a threshold in [0, 1]")
    gap = _number("biggest_gap", gap, -100, 100, "a gap in accuracy points, not a fraction")
    runs = {s: c.set_index("threshold")["accuracy"] for s, c in _top_runs().items()}
    gaps = 100 * (runs["all-at-once"] - runs["ordered"])
    hint = "all at once − ordered, in points, at the τ where |gap| is largest"
    _close("tau_biggest_gap", tau, gaps.abs().idxmax(), 1e-9, hint)
    _close("biggest_gap", gap, gaps[gaps.abs().idxmax()], 1e-6, hint)


def equal_flops(gap) -> None:
    """Exercise 6.2: all at once's best accuracy within ordered's mean FLOPs at τ = 0.9."""
    gap = _number("gap_at_equal_flops", gap, -100, 100, "a gap in accuracy points")
    runs = _top_runs()
    point = eelib.widgets.operating_point(runs["ordered"], 0.9)
    best = eelib.best_accuracy_within(runs["all-at-once"], [1e6 * point["mflops"]])[0]
    hint = "the best all-at-once accuracy for at most ordered's mean FLOPs at τ = 0.9"
    _close("gap_at_equal_flops", gap, 100 * (best - point["accuracy"]), 1e-6, hint)


# ---------------------------------------------------------------- chapter 7

BATCH_7 = 256  # chapter 7's large batch


def threads(threads_more, speedup_1, speedup_batch, latency_more_1, latency_more_batch, latency):
    """Exercise 7.2: the ratios, from tables that eelib.exit_latency measured with threads_more."""
    threads_more = _number("threads_more", threads_more, 2, 1024, "two threads or more")
    one = _table(latency)
    one = one[one["variant"] == "dense"]
    hint = "the ratio is (time, 1 thread) ÷ (time, more threads), at the final exit"
    for name, answer, table, batch, one_ms in (
        ("thread_speedup_1", speedup_1, latency_more_1, 1, one["batch-1 ms"]),
        (
            "thread_speedup_batch",
            speedup_batch,
            latency_more_batch,
            BATCH_7,
            one[f"ms per image, batch {BATCH_7}"] * BATCH_7,
        ),
    ):
        answer = _number(name, answer, 1e-6, 1e6, hint)
        table = _table(table)
        attrs = table.attrs
        if attrs.get("threads") != threads_more or attrs.get("batch_size") != batch:
            raise AnswerError(
                f"{name}: its table was not measured by eelib.exit_latency with {threads_more:g} "
                f"threads at batch {batch}. Hint: measure it, do not type it."
            )
        _close(name, answer, one_ms.iloc[-1] / table["median_ms"].iloc[-1], 1e-6, hint)


# ---------------------------------------------------------------- chapter 8, the capstone

HELDOUT = Path(__file__).resolve().parent / "heldout-fashion-mnist.npz"


@functools.cache
def heldout():
    """The capstone's grading images: 2,000 Fashion-MNIST test images (200 per class) that eelib
    does not ship, so no student has them (``scripts/make_heldout.py``). A network fine-tuned on
    the notebook's ``val_set`` gains nothing here."""
    with np.load(HELDOUT) as npz:
        images, labels = torch.from_numpy(npz["images"]), torch.from_numpy(npz["labels"])
    mean, std = data.NORMALISATION["fashion-mnist"]
    return eelib.ImageDataset(images, labels, data.FASHION_MNIST_CLASSES, mean, std, "held out")


MIN_SPARSITY = 0.01  # an answer prunes at least 1 % of the weights: the untouched network earns 0


def capstone_bars(profile) -> dict:
    """The capstone's bars, as chapter 8 computes them from its given network (``make grading``).

    The given network is the profile's, trained jointly on one thread (the same weights as the
    graded notebook's on any core count of this CPU) on the training images left after the
    class-balanced validation split (seed 0). Cost bar: a sixth of its full cost, 2 significant
    digits (MFLOPs); accuracy bar: 1 point below its final exit's accuracy on the grader's
    held-out images (:func:`heldout`), rounded down to a half point (%).
    """
    train_set, _ = eelib.validation_split(_dataset("train"), profile.val_size, seed=SEED)
    given = eelib.build_model(profile, seed=SEED)
    eelib.train(
        given,
        train_set,
        profile.train_epochs,
        scope="all",
        lr=profile.lr,
        seed=SEED,
        batch_size=profile.batch_size,
        progress=False,
        threads=1,  # as chapter 8 trains it: the same network for any core count
    )
    probs, labels = eelib.predict_all_exits(given, heldout())
    accuracy = 100 * eelib.exit_accuracy(probs, labels)[-1].item()
    full = eelib.exit_costs(given, SHAPE)[-1].item() / 1e6
    return {
        "profile": profile.name,
        "seed": SEED,
        "max_mflops": float(f"{full / 6:.2g}"),
        "min_accuracy": math.floor(2 * (accuracy - 1.0)) / 2,
    }


def capstone_point(final_model: dict, final_threshold) -> tuple[float, float, dict]:
    """``(mflops, accuracy, bars)`` of an answer, measured on the grader's held-out images.

    Raises:
        AnswerError: not answered; τ not in [0, 1]; not the course's network; masks that do not
            match the weights; fewer than 1 % of the weights pruned (the given network untouched).
    """
    bars = json.loads(REFERENCE.read_text())
    profile = eelib.get_profile(PROFILE)
    if bars["profile"] != profile.name:
        raise RuntimeError(f"{REFERENCE} holds profile {bars['profile']!r}: rerun make grading")
    key = (exports.digest(sorted(final_model.items()) if isinstance(final_model, dict) else
           final_model), repr(final_threshold))  # fmt: skip
    if key not in _MEASURED:
        _MEASURED[key] = _capstone_point(final_model, final_threshold, profile)
    return (*_MEASURED[key], bars)


_MEASURED: dict = {}  # the capstone's tests share one measurement of the same answer


def _capstone_point(final_model, final_threshold, profile) -> tuple[float, float]:
    _answered("final_model", final_model)
    tau = _number("final_threshold", final_threshold, 0, 1, "τ is a probability, not a percent")
    network = rebuilt(final_model, profile, "final_model")
    layers = [m for _, m in network.named_prunable("all")]
    zeros = sum(int((m.weight == 0).sum()) for m in layers)
    if zeros < MIN_SPARSITY * sum(m.weight.numel() for m in layers):
        raise AnswerError(
            "capstone: final_model is not pruned (fewer than 1 % of its weights are zero): the "
            "given network untouched earns no points. Prune a copy of it."
        )
    return eelib.checks.measure_operating_point(network, tau, heldout())


def capstone(final_model, final_threshold, part: str, tier: float = 1.0) -> None:
    """One graded part of the capstone: "answered", "bars", "cost" or "accuracy" at ``tier``.

    A cost tier (``mflops ≤ tier × bar``) counts only with the accuracy within 3 points of its
    bar, an accuracy tier (``accuracy ≥ bar − tier``) only with the cost within 1.5 × its bar:
    no partial credit for a network that gives up one bar to meet the other.
    """
    mflops, accuracy, bars = capstone_point(final_model, final_threshold)
    cost_bar, accuracy_bar = bars["max_mflops"], bars["min_accuracy"]
    where = f"{mflops:.3f} MFLOPs per image at {accuracy:.2f} %"
    cheap = {"answered": math.inf, "bars": 1.0, "cost": tier, "accuracy": 1.5}[part]
    points_below = {"answered": math.inf, "bars": 0.0, "cost": 3.0, "accuracy": tier}[part]
    if mflops > cheap * cost_bar:
        raise AnswerError(
            f"capstone {part}: {where}, over {cheap:g} × the cost bar {cost_bar:g}. "
            "Hint: prune harder or lower τ."
        )
    if accuracy < accuracy_bar - points_below:
        raise AnswerError(
            f"capstone {part}: {where}, more than {points_below:g} points under the accuracy "
            f"bar {accuracy_bar:g} %. Hint: fine-tune more, prune less or raise τ."
        )
    print(f"✔ capstone {part}: {where} (bars: {cost_bar:g} MFLOPs, {accuracy_bar:g} %).")


# ---------------------------------------------------------------- the registry


def _table(value):
    """A written data frame (:func:`eelib.exports.frame`), else AnswerError."""
    try:
        return exports.frame(value)
    except TypeError:
        raise AnswerError(f"not the chapter's table: {type(value).__name__}") from None


# The hidden runs of the function exercises: the kernel records the answer's results on these,
# the grader replays them (each run is keyword arguments of the eelib.checks function). Their
# random inputs come from the build's hidden seed: HIDDEN_SEED stands for it (hidden_seed()).
CONV_RUNS = (
    {},
    {"square": False},
    {"seed": "HIDDEN_SEED"},
    {"square": False, "seed": "HIDDEN_SEED"},
)
EXIT_RULE_RUNS = tuple(
    {"shape": shape, "seed": "HIDDEN_SEED"} for shape in ((4, 500, 10), (2, 5, 10), (7, 300, 3))
)
MASK_CASES = [((10,), 0.57), ((100,), 0.135), ((3, 3), 1.0), ((5, 4, 3), 0.25)]
MASK_RUNS = ({}, {"seed": "HIDDEN_SEED"}, {"cases": MASK_CASES, "seed": "HIDDEN_SEED"})
GLOBAL_POOLS = [(((3, 3), (20,), (4, 2, 3)), 0.6), (((64, 32, 3, 3), (10, 128), (7,)), 0.9)]
ORDERED_RUNS = ({}, {"seed": "HIDDEN_SEED"})
GLOBAL_RUNS = ({}, {"seed": "HIDDEN_SEED"}, {"cases": GLOBAL_POOLS, "seed": "HIDDEN_SEED"})


@dataclass(frozen=True)
class Test:
    """One hidden test: what the kernel writes, and the check the grader runs on it.

    Attributes:
        check: a function of this file, called as ``check(**written, **settings)``.
        exports: keyword → the expression the hidden cell writes under it, evaluated in the
            submission's kernel (the notebook's names, ``checks`` and ``exports``).
        settings: the check's fixed keyword arguments.
    """

    check: Callable
    exports: dict[str, str]
    settings: dict = field(default_factory=dict)


def _record(answer: str, check: str, hidden_runs: tuple) -> str:
    """The expression a hidden cell writes: the answer's results on ``hidden_runs``, whose
    ``"HIDDEN_SEED"`` ``make grading`` replaces by its build's seed (a number in the cell)."""
    return f"exports.record({answer}, checks.{check}, {list(hidden_runs)!r})"


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


_CAPSTONE = {"final_model": "final_model", "final_threshold": "final_threshold"}
TESTS: dict[str, Test] = {
    # chapter 1
    "ex1_conv2d_flops_rectangular": Test(
        conv2d_flops, {"answer": _record("conv2d_flops", "check_conv2d_flops", CONV_RUNS)}
    ),
    "ex3_narrow_saving": Test(narrow_saving, {"saving": "narrow_saving"}),
    "ex3_narrow_drop": Test(
        narrow_accuracy_drop, {"drop": "narrow_accuracy_drop", **_same("model", "narrow")}
    ),
    # chapter 2
    "ex1_exit_rule_any_network": Test(
        exit_rule, {"answer": _record("exit_rule", "check_exit_rule", EXIT_RULE_RUNS)}
    ),
    "ex3_tau_1pt_cheapest": Test(
        tau_1pt, {"tau": "tau_1pt", "saving": "saving_1pt", "model": "model"}
    ),
    # chapter 3
    "ex1_layerwise_mask_more": Test(
        layerwise_mask, {"answer": _record("layerwise_mask", "check_layerwise_mask", MASK_RUNS)}
    ),
    "ex1b_global_mask_more": Test(
        global_mask, {"answer": _record("global_mask", "check_global_mask", GLOBAL_RUNS)}
    ),
    "ex3_budget_epochs": Test(budget, _same("one_shot_long", "base"), {"epochs": 1}),
    "ex3_budget_rerun": Test(budget, _same("one_shot_long", "base")),
    # chapter 4
    "ex2_collapse_global": Test(collapse, _same("collapsed", "dense")),
    "ex4_ordered_matches": Test(
        ordered, {"answer": _record("ordered_strategy", "check_ordered_strategy", ORDERED_RUNS)}
    ),
    # chapter 5
    "ex1_confidence_80": Test(verdict_80, {"answer": "verdict_80"}),
    "ex2_lead_largest": Test(lead, _same("lead_mflops", "lead_points")),
    # chapter 6
    "ex1_biggest_gap_recomputed": Test(
        biggest_gap, {"tau": "tau_biggest_gap", "gap": "biggest_gap"}
    ),
    "ex2_equal_flops_recomputed": Test(equal_flops, {"gap": "gap_at_equal_flops"}),
    # chapter 7
    "ex2_threads_direction": Test(
        threads,
        {
            "threads_more": "threads_more",
            "speedup_1": "thread_speedup_1",
            "speedup_batch": "thread_speedup_batch",
            **_same("latency_more_1", "latency_more_batch", "latency"),
        },
    ),
    # chapter 8
    "capstone_kind": Test(capstone, _CAPSTONE, {"part": "answered"}),
    "capstone_bars": Test(capstone, _CAPSTONE, {"part": "bars"}),
    **{
        f"capstone_{part}_tier_{i}": Test(capstone, _CAPSTONE, {"part": part, "tier": tier})
        for part, tiers in (("cost", (1.5, 1.2, 1.0)), ("accuracy", (3.0, 1.5, 0.0)))
        for i, tier in enumerate(tiers, start=1)
    },
}
"""grade_id → :class:`Test`: every hidden test of the course (their points sit in the course
notebooks' cell metadata, ``metadata.grading.hidden``)."""


def _decoded(value):
    """A written value as a check reads it: a refusal raises, a table stays written."""
    if isinstance(value, dict) and exports.REFUSED in value:
        raise AnswerError(f"the answer could not be graded: {value[exports.REFUSED]}.")
    return value


BUILD = "hidden_seed"
"""The name under which each hidden cell writes its build's hidden seed beside the answers."""


def grade(grade_id: str, folder: str | Path) -> str | None:
    """The verdict of one hidden test on what the submission's kernel wrote to ``folder``.

    Args:
        grade_id: a key of :data:`TESTS`.
        folder: the submission's exports folder (``EELIB_EXPORTS`` in its kernel).

    Returns:
        None where the test passes; else the one-line reason it scores 0.

    Raises:
        KeyError: ``grade_id`` is not a hidden test of the course.
    """
    test = TESTS[grade_id]
    try:
        written = exports.load(folder, grade_id)
    except Exception as error:  # a file that is not plain data
        return f"{grade_id}: its answers could not be read as plain data ({type(error).__name__})"
    built = (written or {}).pop(BUILD, None)
    if written is not None and built != (mine := hidden_seed()):
        return (
            f"{grade_id}: written by the hidden tests of another build (hidden seed {built}, this "
            f"grader's {mine}): grade with the nbgrader source or otter zip that the "
            "make grading beside this grader_reference.json wrote"
        )
    if written is None or set(written) != set(test.exports):
        return (
            f"{grade_id}: the hidden test wrote no answers (a name it reads is not defined, or "
            "the notebook stopped before it: run every cell in order)"
        )
    try:
        test.check(**{k: _decoded(v) for k, v in written.items()}, **test.settings)
    except (AnswerError, eelib.checks.AnswerError) as error:
        return str(error)
    except Exception as error:  # the answer's data broke the check: still a verdict, not a crash
        return f"{grade_id}: the grader could not use the answer ({type(error).__name__}: {error})"
    return None

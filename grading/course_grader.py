"""The hidden tests' checks, run from the grader's own copy: never handed to students.

Every hidden test cell of the course loads this file afresh (``runpy.run_path``) and calls one
function below, so nothing a submission rebinds in its own process (``eelib.checks``, a bar, a
measured value) reaches the verdict. Each function recomputes what it needs from the course:

- the data, the profile's networks and the reference values, with a **fresh copy of eelib**
  loaded under a private name from the ``eelib/`` folder beside this file (the grader's copy);
- the course's settings (profile, seed, sparsities) from the constants here, not from the
  submission's parameters cell;
- a student's network only through its weights: they are copied into a network the grader
  builds, so its accuracy and cost come from the grader's code and the actual weights.

``make grading`` puts this file (with ``eelib/``, the committed results and
``grader_reference.json``, the capstone's bars) beside every chapter in nbgrader's ``source/``
(not its ``release/``) and in otter's autograder zip (``autograder_files``). Both graders still
run the tests in the submission's own Python process: ``book/teaching.md`` says what that leaves
open and how a teacher spots it.

Every check raises :class:`AnswerError` (one line: what is wrong, and a hint) or returns None.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
PRIVATE = "_eelib_grader"  # the fresh copy's module name; never the submission's `eelib`
PROFILE = os.environ.get("EELIB_PROFILE", "fast")
SEED = 0  # every chapter's default seed
SHAPE = (1, 28, 28)
RESULTS = "full-fashion-mnist.csv"  # chapters 5 and 6: the committed full-profile results
TRAINED = 0.5  # a trained network's final-exit test accuracy is above this (chance: 0.1)


class AnswerError(AssertionError):
    """A hidden test's verdict on a wrong, missing or refused answer."""


# ---------------------------------------------------------------- the grader's own course code


def course():
    """A fresh copy of eelib from the grader's ``eelib/`` folder, as module ``_eelib_grader``.

    Any earlier copy is dropped from ``sys.modules`` first, so a submission cannot prepare one.

    Raises:
        FileNotFoundError: no ``eelib/`` beside this file (rerun ``make grading``).
    """
    folder = HERE / "eelib"
    if not (folder / "__init__.py").is_file():
        raise FileNotFoundError(f"the grader's copy of eelib is missing: {folder}")
    for name in [n for n in sys.modules if n == PRIVATE or n.startswith(PRIVATE + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        PRIVATE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PRIVATE] = module
    spec.loader.exec_module(module)
    return module


def _answered(name: str, value) -> None:
    if value is None:
        raise AnswerError(f"{name}: not answered yet.")


def _number(E, name: str, value, low: float, high: float, hint: str) -> float:
    """``value`` as a float in ``[low, high]`` (the fresh ``check_number``), else AnswerError."""
    E.checks.check_number(name, value, low, high, hint=hint, strict=True)
    return float(value)


def _close(E, name: str, value, want: float, tolerance: float, hint: str) -> None:
    """``value`` within ``tolerance`` of what the grader computed (the fresh ``check_value``)."""
    E.checks.check_value(name, value, want, hint=hint, tolerance=tolerance, strict=True)


def effective_weights(model) -> dict[str, torch.Tensor]:
    """The tensors a network computes with: ``weight_orig × weight_mask`` where pruned.

    Raises:
        AnswerError: not a torch module, or a ``weight_mask`` that prunes a non-zero weight
            (a mask registered without pruning: it would make the network look cheaper).
    """
    if not isinstance(model, torch.nn.Module):
        raise AnswerError(f"{type(model).__name__} is not a network (a torch.nn.Module).")
    state = torch.nn.Module.state_dict(model)  # the class's method, not an instance's override
    weights = {}
    for name, tensor in state.items():
        if name.endswith("_mask"):
            continue
        if name.endswith("_orig"):
            base = name[: -len("_orig")]
            weights[base] = (tensor * state[base + "_mask"]).detach()
        else:
            weights[name] = tensor.detach()
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


def rebuilt(E, model, profile, name: str):
    """A network built by the grader (``profile``) carrying ``model``'s actual weights.

    Zero weights are pruned again with masks, so :func:`eelib.exit_costs` counts them as removed.

    Raises:
        AnswerError: ``model`` is not the profile's network (other layers or shapes).
    """
    weights = effective_weights(model)
    network = E.build_model(profile, seed=SEED)
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


def trained(E, model, profile, name: str, test_set):
    """:func:`rebuilt`, and refused unless its final exit is well above chance on ``test_set``."""
    network = rebuilt(E, model, profile, name)
    probs, labels = E.predict_all_exits(network, test_set)
    if E.exit_accuracy(probs, labels)[-1].item() < TRAINED:
        raise AnswerError(f"{name} is not a trained network: run the chapter's cells in order.")
    return network, probs, labels


def _final_accuracy(E, network, test_set) -> float:
    probs, labels = E.predict_all_exits(network, test_set)
    return E.exit_accuracy(probs, labels)[-1].item()


# ---------------------------------------------------------------- chapter 1


def conv2d_flops(answer) -> None:
    """Exercise 1.1: square and rectangular convolutions, none of which may be run."""
    E = course()
    E.checks.check_conv2d_flops(answer, strict=True)
    E.checks.check_conv2d_flops(answer, square=False, strict=True)


def width_guess(guess) -> None:
    """Exercise 1.2: the FLOPs factor of doubled widths, within 0.3 of the grader's count."""
    E = course()
    guess = _number(E, "width_guess", guess, 1, 16, "a factor, e.g. 2.0")
    profile = E.get_profile(PROFILE)
    wide = profile.replace(widths=tuple(2 * w for w in profile.widths))
    flops = [E.exit_costs(E.build_model(p, seed=SEED), SHAPE)[-1].item() for p in (profile, wide)]
    E.checks.check_prediction("width_guess", guess, flops[1] / flops[0], 0.3, strict=True)


def narrow_saving(saving) -> None:
    """Exercise 1.3: the share of FLOPs saved by halving the widths."""
    E = course()
    hint = "the share saved is 1 − the narrow network's FLOPs ÷ the original's (a fraction)"
    saving = _number(E, "narrow_saving", saving, 0, 1, hint)
    profile = E.get_profile(PROFILE)
    half = profile.replace(widths=tuple(w // 2 for w in profile.widths))
    flops = [E.exit_costs(E.build_model(p, seed=SEED), SHAPE)[-1].item() for p in (profile, half)]
    _close(E, "narrow_saving", saving, 1 - flops[1] / flops[0], 1e-6, hint)


def narrow_accuracy_drop(drop, model, narrow) -> None:
    """Exercise 1.3: the accuracy drop, measured on the student's own two trained networks."""
    E = course()
    hint = "the original's test accuracy − the narrow network's, a fraction (0.01 = 1 point)"
    drop = _number(E, "narrow_accuracy_drop", drop, -0.5, 0.5, hint)
    profile = E.get_profile(PROFILE)
    half = profile.replace(widths=tuple(w // 2 for w in profile.widths))
    test_set = E.load_dataset(profile.dataset, "test")
    accuracies = []
    for name, network, p in (("model", model, profile), ("narrow", narrow, half)):
        rebuilt_network, probs, labels = trained(E, network, p, name, test_set)
        accuracies.append(E.exit_accuracy(probs, labels)[-1].item())
    _close(E, "narrow_accuracy_drop", drop, accuracies[0] - accuracies[1], 1e-6, hint)


# ---------------------------------------------------------------- chapter 2


def exit_rule(answer) -> None:
    """Exercise 2.1: per-exit thresholds on 3 exits, then on 2 and 7 exits and 3 classes."""
    E = course()
    for shape in ((4, 500, 10), (2, 5, 10), (7, 300, 3)):
        E.checks.check_exit_rule(answer, shape=shape, strict=True)


def _joint(E, model, profile):
    test_set = E.load_dataset(profile.dataset, "test")
    return trained(E, model, profile, "model", test_set)


def tau_zero(guess, model) -> None:
    """Exercise 2.2: accuracy at τ = 0 (exit 1's), measured on the student's trained network."""
    E = course()
    guess = _number(E, "tau_zero_guess", guess, 5, 100, "an accuracy in percent (85.0)")
    profile = E.get_profile(PROFILE)
    _, probs, labels = _joint(E, model, profile)
    measured = 100 * E.exit_accuracy(probs, labels)[0].item()
    E.checks.check_prediction("tau_zero_guess", guess, measured, 0.5, strict=True)


def tau_1pt(tau, saving, model) -> None:
    """Exercise 2.3: the cheapest τ within 1 point of the final exit, and its saving."""
    E = course()
    tau = _number(E, "tau_1pt", tau, 0, 1, "a threshold in [0, 1]")
    saving = _number(E, "saving_1pt", saving, 0, 1, "a fraction (0.25 is 25 %)")
    profile = E.get_profile(PROFILE)
    network, probs, labels = _joint(E, model, profile)
    costs = E.exit_costs(network, SHAPE)
    curve = E.tradeoff_curve(probs, labels, costs, np.linspace(0, 1, 101))
    final = E.exit_accuracy(probs, labels)[-1].item()
    cheapest = curve[curve["accuracy"] >= final - 0.01]["flops"].min()
    at_tau = curve.loc[(curve["threshold"] - tau).abs() < 1e-9, "flops"]
    hint = "of the τ within 1 point of the final exit, take the one with fewest FLOPs"
    if at_tau.empty or not math.isclose(at_tau.min(), cheapest, rel_tol=1e-9):
        raise AnswerError(f"tau_1pt: τ = {tau:g} is not the cheapest such τ. Hint: {hint}")
    hint = "saving = 1 − (mean FLOPs at τ) ÷ (the final exit's FLOPs)"
    _close(E, "saving_1pt", saving, 1 - cheapest / costs[-1].item(), 1e-9, hint)


# ---------------------------------------------------------------- chapter 3

SPARSITY_3, SWEEP_3 = 0.8, (0.5, 0.7, 0.8, 0.9, 0.95)  # chapter 3's parameters


def layerwise_mask(answer) -> None:
    """Exercise 3.1: five layers, then 1-D weights, sparsity 1 and odd rounding."""
    E = course()
    E.checks.check_layerwise_mask(answer, strict=True)
    cases = [((10,), 0.57), ((100,), 0.135), ((3, 3), 1.0), ((5, 4, 3), 0.25)]
    E.checks.check_layerwise_mask(answer, cases=cases, strict=True)


def _base(E, base, profile):
    test_set = E.load_dataset(profile.dataset, "test")
    network, _, _ = trained(E, base, profile, "base", test_set)
    return network, test_set


def final_sparsity(guess, base) -> None:
    """Exercise 3.2: the final classifier's sparsity under global pruning to 80 %."""
    E = course()
    hint = "a fraction between 0 and 1 (0.25 is 25 %), not a percentage"
    guess = _number(E, "final_guess", guess, 0, 1, hint)
    network, _ = _base(E, base, E.get_profile(PROFILE))
    E.remove_masks(network)
    layers = dict(network.named_prunable("base"))
    torch.nn.utils.prune.global_unstructured(
        [(m, "weight") for m in layers.values()],
        pruning_method=torch.nn.utils.prune.L1Unstructured,
        amount=SPARSITY_3,
    )
    final = [m for name, m in layers.items() if name.startswith("final")][-1]
    measured = (final.weight == 0).double().mean().item()
    E.checks.check_prediction("final_guess", guess, measured, 0.15, strict=True)


def _one_shot(E, base_network, profile, train_set, test_set, epochs: int) -> float:
    network = copy.deepcopy(base_network)
    E.remove_masks(network)
    E.global_magnitude_prune(network, SWEEP_3[-1], scope="base")
    E.train(
        network,
        train_set,
        epochs,
        scope="base",
        lr=profile.finetune_lr,
        seed=SEED,
        batch_size=profile.batch_size,
        progress=False,
    )
    return _final_accuracy(E, network, test_set)


def budget(one_shot_long, base, epochs: int = len(SWEEP_3)) -> None:
    """Exercise 3.3: one-shot to the top sparsity, fine-tuned ``epochs`` epochs, from ``base``.

    With ``epochs`` = 1 it checks that the answer is *not* the 1-epoch network's accuracy.
    """
    E = course()
    hint = "a test accuracy as a fraction (0.85), not a percentage"
    answer = _number(E, "one_shot_long", one_shot_long, 0.1, 1, hint)
    profile = E.get_profile(PROFILE)
    network, test_set = _base(E, base, profile)
    train_set = E.load_dataset(profile.dataset, "train")
    want = _one_shot(E, network, profile, train_set, test_set, epochs)
    if epochs == 1:
        if abs(answer - want) < 1e-9:
            raise AnswerError(
                "one_shot_long: not correct yet. Hint: fine-tune for len(SWEEP) epochs, not 1."
            )
        return
    hint = "prune a copy of base to SWEEP[-1] at once, then fine-tune len(SWEEP) epochs"
    _close(E, "one_shot_long", answer, want, 0.01, hint)


# ---------------------------------------------------------------- chapter 4


def heads_epoch(guess) -> None:
    """Exercise 4.1: a heads-only epoch in joint-epoch equivalents (the paper's head design)."""
    E = course()
    guess = _number(E, "heads_epoch_guess", guess, 0, 1, "a fraction of one joint epoch")
    profile = E.get_profile(PROFILE)
    chosen = E.build_model(profile.replace(head_pool=4, final_pool=1), seed=SEED)
    measured = E.training_flops(chosen, SHAPE, "exits") / E.training_flops(chosen, SHAPE)
    E.checks.check_prediction("heads_epoch_guess", guess, measured, 0.05, strict=True)


def collapse(collapsed, dense) -> None:
    """Exercise 4.2: the parts emptied by global pruning to 98 % and 99 % of the trained network."""
    E = course()
    _answered("collapsed", collapsed)
    if not isinstance(collapsed, dict) or set(collapsed) != {0.98, 0.99}:
        raise AnswerError("collapsed: a dict with the keys 0.98 and 0.99 (fractions).")
    profile = E.get_profile(PROFILE)
    network, _, _ = trained(E, dense, profile, "dense", E.load_dataset(profile.dataset, "test"))
    E.remove_masks(network)
    want = {}
    for target in (0.98, 0.99):
        pruned = copy.deepcopy(network)
        E.global_magnitude_prune(pruned, target, scope="all")
        parts = E.part_sparsity(pruned)
        want[target] = list(parts.index[parts == 1.0])
    got = {k: list(v) for k, v in collapsed.items()}
    if got != want:
        raise AnswerError(
            f"collapsed: you have {got}, the grader finds {want}. Hint: one global pool over "
            "every prunable layer (scope='all'), no fine-tuning."
        )


# ---------------------------------------------------------------- chapters 5 and 6


def results(E):
    """The committed full-profile results, from the grader's copy beside this file."""
    return E.load_results(HERE / "results" / RESULTS)


def verdict_80(answer) -> None:
    """Exercise 5.1: the verdicts of the six claims at 80 % confidence, the headline otherwise."""
    E = course()
    want = E.claims.verdicts(results(E), confidence=0.8)
    hint = "claims.verdicts with confidence=0.8 (a fraction), nothing else changed"
    E.checks.check_value("verdict_80", answer, want, hint=hint, strict=True)


def lead(lead_mflops, lead_points) -> None:
    """Exercise 5.2: the largest lead at the highest sparsity, its budget in MFLOPs."""
    E = course()
    mflops = _number(E, "lead_mflops", lead_mflops, 0.01, 1000, "a budget in MFLOPs: FLOPs ÷ 1e6")
    points = _number(E, "lead_points", lead_points, -100, 100, "a gap in accuracy points")
    gap = E.frontiers.gap_by_budget(E.claims.HEADLINE.rows(results(E)))  # chapter 5's gap
    top = gap[gap["sparsity"] == gap["sparsity"].max()]
    row = top.loc[top["mean"].idxmax()]
    hint = "take the highest sparsity's rows of gap and the budget with the largest mean"
    _close(E, "lead_mflops", mflops, row["budget"] / 1e6, 1e-6, hint)
    _close(E, "lead_points", points, row["mean"], 1e-6, hint)


def _top_runs(E):
    table = results(E)
    top = E.widgets.runs(table)["sparsity"].max()
    return {s: E.widgets.select_run(table, s, top, SEED) for s in ("all-at-once", "ordered")}


def biggest_gap(tau, gap) -> None:
    """Exercise 6.1: all at once − ordered, in points, where |gap| is largest (top sparsity)."""
    E = course()
    tau = _number(E, "tau_biggest_gap", tau, 0, 1, "a threshold in [0, 1]")
    gap = _number(E, "biggest_gap", gap, -100, 100, "a gap in accuracy points, not a fraction")
    runs = {s: c.set_index("threshold")["accuracy"] for s, c in _top_runs(E).items()}
    gaps = 100 * (runs["all-at-once"] - runs["ordered"])
    hint = "all at once − ordered, in points, at the τ where |gap| is largest"
    _close(E, "tau_biggest_gap", tau, gaps.abs().idxmax(), 1e-9, hint)
    _close(E, "biggest_gap", gap, gaps[gaps.abs().idxmax()], 1e-6, hint)


def equal_flops(gap) -> None:
    """Exercise 6.2: all at once's best accuracy within ordered's mean FLOPs at τ = 0.9."""
    E = course()
    gap = _number(E, "gap_at_equal_flops", gap, -100, 100, "a gap in accuracy points")
    runs = _top_runs(E)
    point = E.widgets.operating_point(runs["ordered"], 0.9)
    best = E.best_accuracy_within(runs["all-at-once"], [1e6 * point["mflops"]])[0]
    hint = "the best all-at-once accuracy for at most ordered's mean FLOPs at τ = 0.9"
    _close(E, "gap_at_equal_flops", gap, 100 * (best - point["accuracy"]), 1e-6, hint)


# ---------------------------------------------------------------- chapter 7

BATCH_7 = 256  # chapter 7's large batch


def speedup(guess, latency) -> None:
    """Exercise 7.1: batch-1 speed-up of 50 % channels at the final exit, from the student's table.

    Timings are not recomputed: a fresh timing on a busy grading machine can differ from the
    student's run by more than the tolerance. The ratio is taken from the chapter's ``latency``
    table (the student's own measurement), never from the ``speedup_measured`` variable. A
    guess counts within 0.5 of it, or nearer it than the counted FLOPs ratio is.
    """
    E = course()
    guess = _number(E, "speedup_guess", guess, 0.05, 50, "dense time ÷ structured time, e.g. 2.0")
    try:
        final = latency[latency["exit"] == latency["exit"].max()].set_index("variant")
        times, mflops = final["batch-1 ms"], final["MFLOPs"]
        measured = float(times["dense"] / times["structured 50 % channels"])
        counted = float(mflops["dense"] / mflops["structured 50 % channels"])
    except (AttributeError, KeyError, TypeError) as error:
        raise AnswerError(f"latency: not the chapter's timing table ({error}).") from None
    # close: within 0.5, or nearer the measured speed-up than the FLOPs ratio (the lesson), so
    # that a timing on a loaded machine does not fail a good guess, and the FLOPs ratio fails
    tolerance = max(0.5, abs(measured - counted) / 2)
    E.checks.check_prediction("speedup_guess", guess, measured, tolerance, strict=True)


def threads(threads_more, speedup_1, speedup_batch, latency_more_1, latency_more_batch, latency):
    """Exercise 7.2: the ratios, from tables that eelib.exit_latency measured with threads_more."""
    E = course()
    threads_more = _number(E, "threads_more", threads_more, 2, 1024, "two threads or more")
    one = latency[latency["variant"] == "dense"]
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
        answer = _number(E, name, answer, 1e-6, 1e6, hint)
        attrs = getattr(table, "attrs", {})
        if attrs.get("threads") != threads_more or attrs.get("batch_size") != batch:
            raise AnswerError(
                f"{name}: its table was not measured by eelib.exit_latency with {threads_more:g} "
                f"threads at batch {batch}. Hint: measure it, do not type it."
            )
        _close(E, name, answer, one_ms.iloc[-1] / table["median_ms"].iloc[-1], 1e-6, hint)


# ---------------------------------------------------------------- chapter 8, the capstone

REFERENCE = "grader_reference.json"
MIN_SPARSITY = 0.01  # an answer prunes at least 1 % of the weights: the untouched network earns 0


def capstone_bars(E, profile) -> dict:
    """The capstone's bars, as chapter 8 computes them from its given network (``make grading``).

    The given network is the profile's, trained jointly on one thread (the same weights as the
    graded notebook's on any core count of this CPU) on the training images left after the
    class-balanced validation split (seed 0). Cost bar: a sixth of its full cost, 2 significant
    digits (MFLOPs); accuracy bar: 1 point below its final exit's validation accuracy, rounded
    down to a half point (%).
    """
    train_set, val_set = E.validation_split(
        E.load_dataset(profile.dataset, "train"), profile.val_size, seed=SEED
    )
    given = E.build_model(profile, seed=SEED)
    E.train(
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
    probs, labels = E.predict_all_exits(given, val_set)
    accuracy = 100 * E.exit_accuracy(probs, labels)[-1].item()
    full = E.exit_costs(given, SHAPE)[-1].item() / 1e6
    return {
        "profile": profile.name,
        "seed": SEED,
        "max_mflops": float(f"{full / 6:.2g}"),
        "min_accuracy": math.floor(2 * (accuracy - 1.0)) / 2,
    }


def capstone_point(final_model, final_threshold) -> tuple[float, float, dict]:
    """``(mflops, accuracy, bars)`` of an answer, measured by the grader on its validation split.

    Raises:
        AnswerError: not answered; τ not in [0, 1]; not the course's network; masks that do not
            match the weights; fewer than 1 % of the weights pruned (the given network untouched).
    """
    E = course()
    bars = json.loads((HERE / REFERENCE).read_text())
    profile = E.get_profile(PROFILE)
    if bars["profile"] != profile.name:
        raise RuntimeError(f"{REFERENCE} holds profile {bars['profile']!r}: rerun make grading")
    _answered("final_model", final_model)
    tau = _number(E, "final_threshold", final_threshold, 0, 1, "τ is a probability, not a percent")
    network = rebuilt(E, final_model, profile, "final_model")
    layers = [m for _, m in network.named_prunable("all")]
    zeros = sum(int((m.weight == 0).sum()) for m in layers)
    if zeros < MIN_SPARSITY * sum(m.weight.numel() for m in layers):
        raise AnswerError(
            "capstone: final_model is not pruned (fewer than 1 % of its weights are zero): the "
            "given network untouched earns no points. Prune a copy of it."
        )
    _, val_set = E.validation_split(
        E.load_dataset(profile.dataset, "train"), profile.val_size, seed=SEED
    )
    mflops, accuracy = E.checks.measure_operating_point(network, tau, val_set)
    return mflops, accuracy, bars


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

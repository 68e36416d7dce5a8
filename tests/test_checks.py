"""eelib.checks: each check says correct for the reference, not correct for a wrong answer and
not answered for a missing one, without raising."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from eelib import checks, confidence_exit


def conv_flops_right(conv, shape):
    _, h, w = shape
    k, p, s = conv.kernel_size[0], conv.padding[0], conv.stride[0]
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 2 * conv.out_channels * h_out * w_out * conv.in_channels * k * k


def conv_flops_macs(conv, shape):  # a classic mistake: MACs, not FLOPs
    return conv_flops_right(conv, shape) // 2


def exit_rule_right(probs, thresholds):
    leaves = probs.max(dim=2).values[:-1] >= torch.tensor(thresholds)[:, None]
    return torch.cat([leaves, torch.ones_like(leaves[:1])]).int().argmax(dim=0)


def exit_rule_strict(probs, thresholds):  # a classic mistake: > instead of ≥
    leaves = probs.max(dim=2).values[:-1] > torch.tensor(thresholds)[:, None]
    return torch.cat([leaves, torch.ones_like(leaves[:1])]).int().argmax(dim=0)


def exit_rule_one_tau(probs, thresholds):  # the library's rule: one τ for every exit
    return confidence_exit(probs, thresholds[0])


def conv_flops_counted(conv, shape):  # runs the convolution instead of counting
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, *shape))
    return counter.get_total_flops()


def mask_right(weight, sparsity):
    k = round(sparsity * weight.numel())
    if k == 0:
        return torch.ones_like(weight)
    return (weight.abs() > weight.abs().flatten().kthvalue(k).values).float()


def mask_signed(weight, sparsity):  # a classic mistake: ranks w, not |w|
    k = round(sparsity * weight.numel())
    return (
        torch.ones_like(weight)
        if k == 0
        else (weight > weight.flatten().kthvalue(k).values).float()
    )


def stub(*args):
    raise NotImplementedError


def returns_none(*args):
    pass  # the student version's stub


CASES = [
    (checks.check_conv2d_flops, conv_flops_right, conv_flops_macs),
    (checks.check_exit_rule, exit_rule_right, exit_rule_strict),
    (checks.check_layerwise_mask, mask_right, mask_signed),
]


@pytest.mark.parametrize("check,right,wrong", CASES)
def test_right_answer_is_correct(check, right, wrong, capsys):
    assert check(right) is True
    assert "correct." in capsys.readouterr().out


@pytest.mark.parametrize("check,right,wrong", CASES)
def test_wrong_answer_gets_a_hint(check, right, wrong, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out
    assert "not correct yet" in out and "Hint:" in out


@pytest.mark.parametrize("check,right,wrong", CASES)
@pytest.mark.parametrize("missing", [None, stub, returns_none])
def test_missing_answer_is_not_answered_and_does_not_raise(check, right, wrong, missing, capsys):
    assert check(missing) is False
    assert "not answered yet" in capsys.readouterr().out


def test_an_answer_that_crashes_is_not_swallowed():
    def crashes(*args):
        raise ZeroDivisionError("bug in the answer")

    with pytest.raises(ZeroDivisionError):
        checks.check_exit_rule(crashes)


def test_wrong_shape_is_reported(capsys):
    assert checks.check_exit_rule(lambda probs, t: exit_rule_right(probs, t)[:10]) is False
    assert "shape" in capsys.readouterr().out


def test_no_reference_answer_ships_with_eelib():
    """The implement exercises' answers are not one call away: the references are the grader's."""
    assert not [name for name in dir(checks) if name.startswith("reference")]


@pytest.mark.parametrize(
    "check,shortcut",
    [
        (checks.check_conv2d_flops, conv_flops_counted),
        (checks.check_exit_rule, exit_rule_one_tau),
    ],
)
def test_a_library_shortcut_is_not_correct(check, shortcut, capsys):
    assert check(shortcut) is False
    assert "not correct yet" in capsys.readouterr().out


def test_prediction_check(capsys):
    assert checks.check_prediction("x", 3.0, 3.2, 0.5) is True
    assert checks.check_prediction("x", 1.0, 3.2, 0.5) is False
    assert checks.check_prediction("x", None, 3.2, 0.5) is False
    out = capsys.readouterr().out
    assert "close" in out and "not answered yet" in out


# The strict form: the body of a graded test cell (nbgrader, otter-grader).


@pytest.mark.parametrize("check,right,wrong", CASES)
def test_strict_form_raises_the_same_hint(check, right, wrong, capsys):
    assert check(right, strict=True) is True
    with pytest.raises(checks.AnswerError, match="not correct yet.*Hint:"):
        check(wrong, strict=True)
    with pytest.raises(checks.AnswerError, match="not answered yet"):
        check(returns_none, strict=True)
    assert "✘" not in capsys.readouterr().out  # the verdict is in the error, not printed


def conv_flops_square_only(conv, shape):  # reads the first entry of every pair
    _, h, _ = shape
    k, p, s = conv.kernel_size[0], conv.padding[0], conv.stride[0]
    h_out = (h + 2 * p - k) // s + 1
    return 2 * conv.out_channels * h_out * h_out * conv.in_channels * k * k


def exit_rule_three_exits(probs, thresholds):  # the chapter's network: index 2 is "last"
    leaves = probs.max(dim=2).values >= thresholds[0]
    leaves[2] = True
    return leaves.int().argmax(dim=0)


def mask_floor(weight, sparsity):  # int() where round() is asked
    k = int(sparsity * weight.numel())
    if k == 0:
        return torch.ones_like(weight)
    return (weight.abs() > weight.abs().flatten().kthvalue(k).values).float()


@pytest.mark.parametrize(
    "check,wrong",
    [
        (lambda a: checks.check_conv2d_flops(a, square=False), conv_flops_square_only),
        (lambda a: checks.check_exit_rule(a, shape=(7, 50, 3)), exit_rule_three_exits),
        (lambda a: checks.check_layerwise_mask(a, cases=[((10,), 0.57)]), mask_floor),
    ],
)
def test_the_harder_cases_catch_what_the_default_ones_pass(check, wrong):
    default = {conv_flops_square_only: checks.check_conv2d_flops}.get(wrong)
    if default is not None:
        assert default(wrong) is True  # square convolutions cannot tell
    assert check(wrong) is False


def test_number_check_catches_units_and_missing(capsys):
    hint = "a fraction between 0 and 1"
    assert checks.check_number("saving", 0.4, 0, 1, hint=hint) is True
    assert checks.check_number("saving", 40.0, 0, 1, hint=hint) is False
    assert checks.check_number("saving", "0.4", 0, 1, hint=hint) is False
    assert checks.check_number("saving", True, 0, 1, hint=hint) is False
    with pytest.raises(checks.AnswerError, match="outside"):
        checks.check_number("saving", -1, 0, 1, hint=hint, strict=True)
    with pytest.raises(checks.AnswerError, match="not answered"):
        checks.check_number("saving", None, 0, 1, hint=hint, strict=True)


def test_value_check_numbers_frames_and_lists():
    import pandas as pd

    assert checks.check_value("x", 1.0004, 1.0, hint="", tolerance=1e-3) is True
    assert checks.check_value("x", 1.1, 1.0, hint="", tolerance=1e-3) is False
    frame = pd.DataFrame({"claim": ["A", "B"], "verdict": ["holds", "undecided"]})
    assert checks.check_value("t", frame.copy(), frame, hint="") is True
    assert checks.check_value("t", frame.iloc[::-1], frame, hint="") is False
    assert checks.check_value("c", {0.9: ["a"]}, {0.9: ["a"]}, hint="") is True
    with pytest.raises(checks.AnswerError, match="give"):
        checks.check_value("c", {0.9: []}, {0.9: ["a"]}, hint="look", strict=True)


def test_prediction_strict_and_not_a_number():
    with pytest.raises(checks.AnswerError, match="apart"):
        checks.check_prediction("x", 1.0, 3.2, 0.5, strict=True)
    assert checks.check_prediction("x", "3", 3.2, 0.5) is False


def test_measure_operating_point_matches_the_curve(model, tiny_set):
    from eelib import exit_costs, predict_all_exits, tradeoff_curve

    mflops, accuracy = checks.measure_operating_point(model, 0.5, tiny_set)
    probs, labels = predict_all_exits(model, tiny_set)
    costs = exit_costs(model, tuple(tiny_set[0][0].shape))
    row = tradeoff_curve(probs, labels, costs, [0.5]).iloc[0]
    assert mflops == pytest.approx(row["flops"] / 1e6) and accuracy == 100 * row["accuracy"]
    assert costs[0] / 1e6 <= mflops <= costs[-1] / 1e6


def test_a_failing_check_shows_its_verdict_not_a_traceback_in_jupyter():
    """IPython shows ``_render_traceback_`` instead of the stack: the verdict, one line."""
    import re

    with pytest.raises(checks.AnswerError) as caught:
        checks.check_exit_rule(None, strict=True)
    lines = caught.value._render_traceback_()
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert plain == [f"AnswerError: {caught.value}"], "one line: the verdict"
    assert plain[0].startswith("AnswerError: the exit rule: not answered yet")
    assert not any("File" in line or "/" in line for line in plain), "no paths of the machine"


def test_a_number_in_range_is_plausible_not_correct(capsys):
    """check_number cannot know the answer: a wrong number in the right units is not "correct"."""
    assert checks.check_number("narrow_saving", 0.5, 0, 1, hint="a fraction")
    printed = capsys.readouterr().out
    assert "plausible, not checked" in printed and "correct" not in printed.replace("not ", "")

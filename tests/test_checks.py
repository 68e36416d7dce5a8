"""eelib.checks: each check says correct for the reference, not correct for a wrong answer and
not answered for a missing one, without raising."""

import pytest
import torch

from eelib import checks, confidence_exit


def conv_flops_right(conv, shape):
    _, h, w = shape
    k, p, s = conv.kernel_size[0], conv.padding[0], conv.stride[0]
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 2 * conv.out_channels * h_out * w_out * conv.in_channels * k * k


def conv_flops_macs(conv, shape):  # a classic mistake: MACs, not FLOPs
    return conv_flops_right(conv, shape) // 2


def exit_rule_strict(probs, tau):  # a classic mistake: > instead of ≥
    leaves = probs.max(dim=2).values > tau
    leaves[-1] = True
    return leaves.int().argmax(dim=0)


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
    (checks.check_exit_rule, confidence_exit, exit_rule_strict),
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
    assert checks.check_exit_rule(lambda probs, tau: confidence_exit(probs, tau)[:10]) is False
    assert "shape" in capsys.readouterr().out


def test_reference_conv_flops_is_the_formula():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    assert checks.reference_conv2d_flops(conv, (3, 10, 10)) == 2 * 8 * 10 * 10 * 3 * 9


def test_prediction_check(capsys):
    assert checks.check_prediction("x", 3.0, 3.2, 0.5) is True
    assert checks.check_prediction("x", 1.0, 3.2, 0.5) is False
    assert checks.check_prediction("x", None, 3.2, 0.5) is False
    out = capsys.readouterr().out
    assert "close" in out and "not answered yet" in out

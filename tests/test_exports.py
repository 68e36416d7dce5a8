"""eelib.exports: a hidden test's answers as plain data, and the grader's verdict on them
(grading/course_grader.py), with no object of the submission's ever compared."""

import json
import os
import pickle
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import eelib
from eelib import checks, exports

ROOT = Path(__file__).resolve().parents[1]


HIDDEN = 7  # the hidden seed of the build these tests grade against


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    """The grader, with a build's reference file holding the hidden seed :data:`HIDDEN`."""
    reference = tmp_path_factory.mktemp("build") / "grader_reference.json"
    reference.write_text(json.dumps({"hidden_seed": HIDDEN}))
    before = os.environ.get("EELIB_GRADER_REFERENCE")
    os.environ["EELIB_GRADER_REFERENCE"] = str(reference)
    try:
        return runpy.run_path(str(ROOT / "grading" / "course_grader.py"))
    finally:
        os.environ.pop("EELIB_GRADER_REFERENCE")
        if before is not None:
            os.environ["EELIB_GRADER_REFERENCE"] = before


class Anything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class Agrees(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.equal:
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def test_plain_values_are_written_as_they_are():
    value = {"a": 1, "b": [2.5, "x", None, (True,)], 0.98: np.float64(0.5)}
    assert exports.plain(value) == {"a": 1, "b": [2.5, "x", None, [True]], 0.98: 0.5}
    tensor = exports.plain(torch.arange(3.0))
    assert type(tensor) is torch.Tensor and tensor.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "value, reason",
    [
        (Anything(1.0), "Anything"),
        (torch.zeros(2).as_subclass(Agrees), "Agrees"),
        (float("nan"), "not a finite number"),
        (torch.tensor([1.0, float("inf")]), "not finite"),
        (object(), "object"),
    ],
)
def test_what_cannot_be_written_is_refused_with_its_reason(value, reason):
    written = exports.plain(value, "x")
    assert exports.REFUSED in written and reason in written[exports.REFUSED]


def test_a_network_is_written_as_its_class_state_dict():
    model = eelib.build_model("fast", seed=0)
    written = exports.plain(model)
    assert set(written) == set(torch.nn.Module.state_dict(model))
    assert all(type(t) is torch.Tensor for t in written.values())


def test_a_table_round_trips_with_its_attrs():
    table = pd.DataFrame({"exit": [1, 2], "ms": [0.5, float("nan")]}, index=[3, 4])
    table.attrs = {"threads": 2}
    back = exports.frame(exports.plain(table))
    pd.testing.assert_frame_equal(back, table)
    assert back.attrs == {"threads": 2}
    with pytest.raises(TypeError, match="not a table"):
        exports.frame([1, 2])


def test_a_recorded_function_replays_its_results_for_the_same_inputs():
    def rule(probs, thresholds):
        return eelib.confidence_exit(probs, thresholds[0])

    calls = exports.record(rule, checks.check_exit_rule, [{"shape": (4, 50, 10)}])
    assert calls and all(type(v) is torch.Tensor for v in calls.values())
    replay = exports.replay(calls)
    probs = checks._random_probs(2, (4, 50, 10))
    probs[0, :5] = torch.full((10,), 0.5 / 9)
    probs[0, :5, 0] = 0.5
    assert torch.equal(replay(probs.clone(), [0.5] * 3), rule(probs, [0.5] * 3))
    with pytest.raises(LookupError, match="did not record"):
        replay(torch.zeros(4, 2, 10), [0.1] * 3)


def test_a_replayed_function_raises_what_it_raised():
    def runs_it(conv, shape):
        return conv(torch.zeros(1, *shape))

    calls = exports.record(runs_it, checks.check_conv2d_flops)
    assert not checks.check_conv2d_flops(exports.replay(calls))  # "runs the convolution"


def test_save_and_load_read_only_plain_data(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "FOLDER", tmp_path)
    exports.save("ex_demo", guess=2.0, table=pd.DataFrame({"a": [1]}))
    assert exports.load(tmp_path, "ex_demo")["guess"] == 2.0
    assert exports.load(tmp_path, "missing") is None
    with pytest.raises(ValueError, match="letters, digits"):
        exports.save("../up", guess=1)

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    (tmp_path / "ex_evil.pt").write_bytes(pickle.dumps({"guess": Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        exports.load(tmp_path, "ex_evil")


def test_hand_over_always_raises():
    with pytest.raises(exports.HandedOver, match="the grader decides"):
        exports.hand_over("ex_demo")


def test_the_grader_decides_from_what_was_written(grader, tmp_path, monkeypatch):
    """Exercise 1.3's saving on written numbers: right, wrong, refused, missing."""
    monkeypatch.setattr(exports, "FOLDER", tmp_path)
    grade, test = grader["grade"], "ex3_narrow_saving"
    fast = eelib.get_profile("fast")
    half = fast.replace(widths=tuple(w // 2 for w in fast.widths))
    flops = [eelib.exit_costs(eelib.build_model(p, seed=0), (1, 28, 28))[-1] for p in (fast, half)]
    right = 1 - (flops[1] / flops[0]).item()
    exports.save(test, saving=right, hidden_seed=HIDDEN)
    assert grade(test, tmp_path) is None
    exports.save(test, saving=flops[1].item() / flops[0].item(), hidden_seed=HIDDEN)
    assert "not correct yet" in grade(test, tmp_path), "the share kept, not saved"
    exports.save(test, saving=Anything(right), hidden_seed=HIDDEN)
    assert "could not be graded" in grade(test, tmp_path)
    assert "wrote no answers" in grade(test, tmp_path / "none")


def test_answers_written_by_another_builds_hidden_tests_are_refused_with_why(
    grader, tmp_path, monkeypatch
):
    """A submission graded with one build's zip and another build's reference: one line."""
    monkeypatch.setattr(exports, "FOLDER", tmp_path)
    exports.save("ex3_narrow_saving", saving=0.7, hidden_seed=HIDDEN + 1)
    reason = grader["grade"]("ex3_narrow_saving", tmp_path)
    assert f"hidden seed {HIDDEN + 1}, this grader's {HIDDEN}" in reason


def test_the_grader_replays_a_function_and_refuses_a_subclass(grader, tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "FOLDER", tmp_path)
    runs = grader["runs"](grader["EXIT_RULE_RUNS"])
    assert {run["seed"] for run in runs} == {HIDDEN}, "the build's hidden seed"

    def right(probs, thresholds):
        taus = torch.tensor([*thresholds, 0.0])[:, None]
        return (probs.max(dim=2).values >= taus).int().argmax(dim=0)

    def fake(probs, thresholds):
        return torch.zeros(probs.shape[1], dtype=torch.long).as_subclass(Agrees)

    for answer, verdict in ((right, None), (fake, "Agrees")):
        answer_calls = exports.record(answer, checks.check_exit_rule, runs)
        exports.save("ex1_exit_rule_any_network", answer=answer_calls, hidden_seed=HIDDEN)
        reason = grader["grade"]("ex1_exit_rule_any_network", tmp_path)
        assert reason is verdict or verdict in reason


def test_the_registry_names_a_check_and_what_to_write_for_every_test(grader):
    for grade_id, test in grader["TESTS"].items():
        assert callable(test.check) and test.exports, grade_id
        for expression in test.exports.values():
            compile(expression, grade_id, "eval")


def test_the_sandbox_hides_the_repository_and_ends_every_process(tmp_path):
    sys.path.insert(0, str(ROOT / "grading"))
    import sandbox

    if sandbox.why_not():
        pytest.skip(f"no sandbox here: {sandbox.why_not()}")
    code = (
        "import os, subprocess, sys; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', 'eelib-probe'],"
        " start_new_session=True); "
        f"print(os.path.exists({str(ROOT / 'grading')!r}), os.environ['EELIB_EXPORTS'])"
    )
    done = subprocess.run(
        sandbox.command(tmp_path, [sys.executable, "-c", code]), capture_output=True, text=True
    )
    assert done.stdout.split() == ["False", str(tmp_path / sandbox.EXPORTS)], done.stderr
    left = subprocess.run(["pgrep", "-f", "eelib-probe"], capture_output=True, text=True)
    assert not left.stdout.strip()

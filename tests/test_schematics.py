"""eelib.schematics: the two pictures are drawn from the code's numbers, not typed."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import eelib  # noqa: E402
from eelib import schematics  # noqa: E402

SHAPE = (1, 28, 28)


@pytest.fixture(scope="module")
def model():
    return eelib.build_model(eelib.get_profile("fast"), seed=0)


def texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in [*ax.texts, ax.title])


def test_the_network_shows_each_exits_share_of_the_flops(model):
    costs = eelib.exit_costs(model, SHAPE)
    shown = texts(schematics.draw_early_exit_network(model, SHAPE))
    for k in range(model.num_exits):
        assert f"{100 * costs[k] / costs[-1]:.0f} % of FLOPs" in shown
    assert "final\nclassifier" in shown and "exit head 1" in shown


@pytest.mark.parametrize(
    "confidences, leaves", [([0.95, 0.5, 0.2], 1), ([0.3, 0.91, 0.99], 2), ([0.3, 0.5, 0.9], 3)]
)
def test_a_sample_leaves_at_the_first_exit_at_or_above_tau(model, confidences, leaves):
    fig = schematics.draw_early_exit_network(model, SHAPE, confidences, threshold=0.9)
    assert f"leaves at exit {leaves}" in fig.axes[0].get_title()
    assert "takes the rest" in texts(fig)


@pytest.mark.parametrize(
    "confidences, threshold, message",
    [([0.5, 0.5], 0.9, "needs 3 numbers"), ([0.5, 0.5, 0.5], None, "threshold"),
     ([0.5, 1.5, 0.5], 0.9, r"\[0, 1\]")],
)  # fmt: skip
def test_bad_confidences_get_one_line(model, confidences, threshold, message):
    with pytest.raises(ValueError, match=message):
        schematics.draw_early_exit_network(model, SHAPE, confidences, threshold)


def test_the_phases_follow_the_profiles_schedule():
    fast = eelib.get_profile("fast").replace(prune_rounds=2, joint_epochs=4)
    rows = schematics.phases(fast, SHAPE)
    assert rows["all at once"][0] == ("train jointly", "all", 4)
    assert [p for _, p, _ in rows["ordered"]].count("exits") == 1 + 2 * 2
    prunes = [part for what, part, _ in rows["ordered"] if what == "prune"]
    assert prunes == ["base", "base", "exits", "exits"], "the base's pool first, then the heads'"
    unset = schematics.phases(eelib.get_profile("fast"), SHAPE)["all at once"][0][2]
    joint, _ = eelib.costs.compute_budget(
        eelib.profiles.validate(eelib.get_profile("fast")),
        eelib.build_model(eelib.get_profile("fast"), seed=0), SHAPE, 1,
    )  # fmt: skip
    assert unset == joint, "unset joint epochs: the ones that match ordered's compute"
    assert "'fast' profile" in texts(schematics.draw_strategies(fast, SHAPE))

import pytest
import torch

from eelib import EarlyExitCNN, build_model
from eelib.data import IMAGE_CHANNELS
from eelib.profiles import get_profile


def test_forward_returns_one_logits_tensor_per_exit(model):
    logits = model(torch.zeros(5, 1, 28, 28))
    assert model.num_exits == 3 and len(logits) == 3
    assert all(z.shape == (5, 10) for z in logits)


def test_colour_input_and_more_stages():
    net = EarlyExitCNN(in_channels=3, num_classes=7, widths=(8, 8, 8, 8))
    logits = net(torch.zeros(2, 3, 32, 32))
    assert net.num_exits == 4 and [z.shape for z in logits] == [(2, 7)] * 4


def test_prunable_scopes_partition_the_weights(model):
    ids = {scope: {id(m) for m, _ in model.prunable(scope)} for scope in ("all", "base", "exits")}
    assert ids["base"] | ids["exits"] == ids["all"] and not ids["base"] & ids["exits"]
    assert len(ids["exits"]) == model.num_exits - 1
    assert id(model.final_classifier[-1]) in ids["base"]
    assert all(name == "weight" for _, name in model.prunable())


def test_bad_scope_and_bad_widths(model):
    with pytest.raises(ValueError, match="unknown scope"):
        model.prunable("heads")
    with pytest.raises(ValueError, match="at least 2 stages"):
        EarlyExitCNN(widths=(8,))


def test_same_seed_same_weights_and_global_rng_untouched():
    profile = get_profile("fast")
    state = torch.random.get_rng_state()
    a, b = build_model(profile, seed=3), build_model(profile, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = build_model(profile, seed=4)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_final_classifier_can_pool_differently_from_the_heads():
    model = EarlyExitCNN(widths=(8, 16, 32), head_pool=4, final_pool=1)
    assert [h[-1].in_features for h in model.exit_heads] == [8 * 16, 16 * 16]
    assert model.final_classifier[-1].in_features == 32
    assert model.config["final_pool"] == 1
    assert [tuple(z.shape) for z in model(torch.zeros(2, 1, 28, 28))] == [(2, 10)] * 3
    default = EarlyExitCNN(widths=(8, 16, 32), head_pool=3)
    assert default.final_classifier[-1].in_features == 32 * 9, "final_pool defaults to head_pool"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_pool_sides_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="final_pool"):
        EarlyExitCNN(final_pool=bad)
    with pytest.raises(ValueError, match="head_pool"):
        EarlyExitCNN(head_pool=bad)


def test_max_pooling_only_after_chosen_stages():
    from eelib import exit_costs

    net = EarlyExitCNN(
        1, 10, widths=(16, 16, 32, 32, 64, 64), head_pool=4, final_pool=1, pool_after=(2, 4, 6)
    )
    assert net.num_exits == 6 and net.config["pool_after"] == [2, 4, 6]
    x = torch.zeros(1, 1, 28, 28)
    sides = []
    for stage in net.stages:
        x = stage(x)
        sides.append(x.shape[-1])
    assert sides == [28, 14, 14, 7, 7, 3]
    assert exit_costs(net, (1, 28, 28))[-1] / 1e6 == pytest.approx(14.73, abs=0.01)
    with pytest.raises(ValueError, match="pool_after"):
        EarlyExitCNN(widths=(8, 8), pool_after=(3,))


def test_the_papers_resnet56_with_seven_exits():
    from eelib import EarlyExitResNet, exit_costs

    net = EarlyExitResNet(in_channels=1, num_classes=10)
    assert net.num_exits == 7
    assert sum(len(stage) for stage in net.stages) == 27 + 1, "27 blocks and the stem"
    assert [h[-1].in_features for h in net.exit_heads] == [16 * 16] * 2 + [32 * 16] * 2 + [
        64 * 16
    ] * 2
    assert net.final_classifier[-1].in_features == 64, "global average pooling"
    costs = exit_costs(net, (1, 28, 28))
    assert costs[-1] / 1e6 == pytest.approx(192.2, abs=0.1)
    fractions = (costs[:-1] / costs[-1]).tolist()
    assert fractions[0] == pytest.approx(0.15, abs=0.01) and fractions[-1] > 0.85
    logits = net(torch.zeros(2, 1, 28, 28))
    assert [tuple(z.shape) for z in logits] == [(2, 10)] * 7
    for bad in ((), (8, 4), (0, 4), (4, 27)):
        with pytest.raises(ValueError, match="exit_after"):
            EarlyExitResNet(exit_after=bad)


def test_a_resnet_whose_exits_all_sit_in_the_first_group_still_ends_in_its_last_group():
    from eelib import EarlyExitResNet

    net = EarlyExitResNet(in_channels=1, blocks_per_group=2, exit_after=(1, 2))
    assert net.final_classifier[-1].in_features == 64, "the last group's width"
    assert net.config["widths"] == [16, 32, 64], "the groups' widths, not the heads' inputs"
    logits = net(torch.zeros(2, 1, 28, 28))
    assert [tuple(z.shape) for z in logits] == [(2, 10)] * 3


@pytest.mark.parametrize("name", ["fast", "full", "paper"])
def test_build_model_builds_each_profiles_network(name):
    profile = get_profile(name)
    model = build_model(name)
    expected = (
        len(profile.exit_after) + 1 if profile.architecture == "resnet" else len(profile.widths)
    )
    assert model.num_exits == expected
    channels = IMAGE_CHANNELS[profile.dataset]  # the paper profile's CIFAR-10: 3 × 32 × 32
    side = 32 if channels == 3 else 28
    logits = model(torch.zeros(2, channels, side, side))
    assert [tuple(z.shape) for z in logits] == [(2, 10)] * model.num_exits
    colour = build_model(profile.replace(dataset="cifar10"))
    assert next(m for m in colour.modules() if isinstance(m, torch.nn.Conv2d)).in_channels == 3
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model(profile.replace(architecture="vgg"))

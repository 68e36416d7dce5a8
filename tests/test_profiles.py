"""Profiles: the settings added for the paper's recipe, their checks, and the runs they leave as
they were."""

import dataclasses
from pathlib import Path

import pytest
import torch

from eelib.checkpoints import config_hash
from eelib.profiles import (
    LATER_SETTINGS,
    PROFILES,
    Profile,
    build_model,
    get_profile,
    parse_setting,
    validate,
)

# config_hash of the fast and full profiles before the later settings existed (commit 1d3202e):
# their checkpoints, and so an interrupted run of theirs, stay valid.
HASHES_BEFORE = {"fast": "82c6ac0b84e8", "full": "baf696b92eea"}
RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.mark.parametrize("name", ["fast", "full"])
def test_the_fashion_mnist_profiles_keep_their_settings_and_their_hash(name):
    profile = get_profile(name)
    assert profile.optimizer == "adam" and profile.weight_decay == 0
    assert profile.lr_schedule == profile.finetune_schedule == "constant"
    assert profile.augment == "none" and profile.loader_workers == 0 and not profile.pin_memory
    assert not set(LATER_SETTINGS) & set(profile.to_dict()), "defaults left out"
    assert config_hash(profile, torch.device("cpu")) == HASHES_BEFORE[name]
    changed = profile.replace(optimizer="sgd")
    assert changed.to_dict()["optimizer"] == "sgd"
    assert config_hash(changed, torch.device("cpu")) != HASHES_BEFORE[name]


def test_the_paper_profile_is_the_papers_setting():
    paper = validate(get_profile("paper"))
    assert paper.dataset == "cifar10" and paper.architecture == "resnet"
    assert paper.blocks_per_group == 9 and len(paper.exit_after) == 6, "ResNet-56, 7 exits"
    assert (paper.optimizer, paper.momentum, paper.weight_decay) == ("sgd", 0.9, 1e-4)
    assert (paper.lr, paper.lr_schedule, paper.batch_size) == (0.1, "step", 128)
    assert paper.augment == "crop-flip" and paper.val_size == 5000
    assert (paper.head_optimizer, paper.head_lr, paper.head_epochs) == ("adam", 1e-3, 25)
    assert paper.prune_rounds * len(paper.sparsities) == 20, "the paper's 20 rounds"
    assert paper.finetune_schedule == "cosine" and paper.finetune_lr == 0.01
    for name in ("optimizer", "lr_schedule", "augment", "head_lr"):
        assert name in paper.to_dict()


def test_every_later_setting_is_a_profile_field_that_set_reaches():
    fields = {f.name for f in dataclasses.fields(Profile)}
    assert set(LATER_SETTINGS) <= fields
    assert parse_setting("optimizer=sgd") == ("optimizer", "sgd")
    assert parse_setting("momentum=0.8") == ("momentum", 0.8)
    assert parse_setting("weight_decay=5e-4") == ("weight_decay", 5e-4)
    assert parse_setting("lr-schedule=cosine") == ("lr_schedule", "cosine")
    assert parse_setting("finetune_schedule=step") == ("finetune_schedule", "step")
    assert parse_setting("head_optimizer=None") == ("head_optimizer", None)
    assert parse_setting("augment=crop-flip") == ("augment", "crop-flip")
    assert parse_setting("loader_workers=4") == ("loader_workers", 4)
    assert parse_setting("pin_memory=True") == ("pin_memory", True)


@pytest.mark.parametrize(
    "setting, message",
    [
        (dict(optimizer="lamb"), "unknown optimizer 'lamb'"),
        (dict(head_optimizer="rmsprop"), "unknown head_optimizer"),
        (dict(lr_schedule="linear"), "unknown lr_schedule"),
        (dict(finetune_schedule="warm"), "unknown finetune_schedule"),
        (dict(augment="mixup"), "unknown augment"),
        (dict(momentum=-0.1), "momentum must be a number ≥ 0"),
        (dict(weight_decay="1e-4x"), "weight_decay must be a number ≥ 0"),
        (dict(head_lr=0), "head_lr must be a number > 0"),
        (dict(loader_workers=-1), "loader_workers must be an integer ≥ 0"),
        (dict(pin_memory="yes"), "pin_memory must be True or False"),
        (dict(augment="crop-flip", heads_compute="cached"), "change every epoch"),
    ],
)
def test_the_later_settings_are_checked(setting, message):
    with pytest.raises(ValueError, match=message):
        validate(PROFILES["fast"].replace(**setting))


def test_a_network_setting_counts_in_the_hash_only_where_the_architecture_reads_it():
    cpu = torch.device("cpu")
    full, fast = get_profile("full"), get_profile("fast")
    assert config_hash(full.replace(pool_after=(1, 2)), cpu) == config_hash(full, cpu)
    assert config_hash(fast.replace(exit_after=(1, 2)), cpu) == config_hash(fast, cpu)
    assert config_hash(full.replace(final_pool=2), cpu) != config_hash(full, cpu)
    net = build_model(full.replace(final_pool=2), in_channels=1)
    assert net.final_classifier[-1].in_features == 64 * 2 * 2, "the ResNet reads final_pool"
    assert build_model(full, in_channels=1).final_classifier[-1].in_features == 64


def test_the_setup_page_describes_the_profiles_as_they_are():
    text = (Path(__file__).resolve().parents[1] / "book" / "setup.md").read_text()
    full = get_profile("full")
    words = {3: "three", 5: "five"}
    line = next(line for line in text.splitlines() if line.startswith("- `full`"))
    assert f"{words[len(full.seeds)]} seeds" in line
    shown = ", ".join(f"{round(100 * s)}" for s in full.sparsities[:-1])
    assert f"{shown} and {round(100 * full.sparsities[-1])} %" in text
    assert "_build/learner/notebooks/" in text, "learners open the copies without answers"


def test_the_old_name_prune_steps_still_works_with_a_deprecation_message():
    fast = get_profile("fast")
    with pytest.warns(DeprecationWarning, match="prune_steps is now called prune_rounds"):
        assert fast.replace(prune_steps=3).prune_rounds == 3
    with pytest.warns(DeprecationWarning, match="prune_rounds"):
        assert parse_setting("prune-steps=2") == ("prune_rounds", 2)
    assert config_hash(fast.replace(prune_rounds=1), torch.device("cpu")) == HASHES_BEFORE["fast"]


def test_a_results_file_written_under_the_old_name_loads_under_the_new():
    from eelib.results import load_results

    meta = load_results(RESULTS / "full-fashion-mnist.csv").attrs["metadata"]
    assert "prune_steps" in (RESULTS / "full-fashion-mnist.json").read_text()
    assert meta["config"]["prune_rounds"] == 1 and "prune_steps" not in meta["config"]

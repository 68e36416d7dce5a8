import json

import pytest

from eelib import get_profile, load_results, num_exits, run_experiment, save_results, summarise
from eelib.__main__ import main
from eelib.plots import plot_tradeoff

TINY = dict(
    train_epochs=1,
    prune_steps=1,
    finetune_epochs=1,
    thresholds=11,
    widths=(8, 16, 32),
    progress=False,
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "run.csv"
    return run_experiment("fast", sparsities=[0.8], seeds=[0], out=out, **TINY), out


def test_results_are_tidy_and_reach_their_sparsity(results):
    df, _ = results
    assert set(df["strategy"]) == {"dense", "all-at-once", "ordered"}
    assert len(df) == 3 * 11
    for strategy in ("all-at-once", "ordered"):
        run = df[df["strategy"] == strategy]
        assert run["sparsity_all"].iloc[0] == pytest.approx(0.8, abs=1e-3)
    ordered = df[df["strategy"] == "ordered"]
    assert ordered["sparsity_exits"].iloc[0] == pytest.approx(0.8, abs=1e-2)
    dense, pruned = df[df["strategy"] == "dense"], df[df["strategy"] == "all-at-once"]
    assert pruned["exit_3_flops"].iloc[0] < 0.5 * dense["exit_3_flops"].iloc[0]
    assert df["accuracy"].between(0, 1).all()
    assert num_exits(df) == 3


def test_results_are_saved_with_metadata_and_never_overwritten(results):
    df, out = results
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["seeds"] == [0] and meta["config"]["sparsities"] == [0.8]
    assert {"torch", "torchvision", "eelib"} <= set(meta["versions"]) and meta["wall_time_s"] > 0
    again = load_results(out)
    assert again.shape == df.shape and again.attrs["metadata"] == meta
    with pytest.raises(FileExistsError, match="overwrite"):
        run_experiment("fast", sparsities=[0.8], out=out, **TINY)
    with pytest.raises(ValueError, match=r"\.csv"):
        save_results(
            df, out.with_suffix(".json"), overwrite=True
        )  # would write the JSON over the CSV


def test_summary_and_plot(results):
    df, _ = results
    table = summarise(df)
    assert list(table.index.get_level_values("strategy")) == ["dense", "all-at-once", "ordered"]
    fig = plot_tradeoff(df)
    assert fig.axes[0].get_xlabel() == "mean MFLOPs per sample"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        run_experiment("huge")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        run_experiment("fast", sparsities=[1.5])
    with pytest.raises(ValueError, match="unknown profile setting"):
        run_experiment("fast", epochs=3)
    with pytest.raises(ValueError, match="unknown dataset"):
        run_experiment("fast", dataset="imagenet")
    assert get_profile("full").seeds == (0, 1, 2)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli.csv"
    args = [
        "reproduce",
        "--sparsities",
        "0.5",
        "--train-epochs",
        "1",
        "--prune-steps",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "all-at-once" in printed and "ordered" in printed and out.exists()
    assert main(args) == 2, "an existing result is not overwritten"
    assert "exists" in capsys.readouterr().err
    assert main(["reproduce", "--sparsities", "1.5", "--out", str(tmp_path / "x.csv")]) == 2

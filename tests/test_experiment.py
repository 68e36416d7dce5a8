import json
import warnings

import pandas as pd
import pytest
import torch

import eelib.__main__
import eelib.experiment
import eelib.provenance
from eelib import get_profile, load_results, num_exits, run_experiment, save_results, summarise
from eelib.__main__ import main
from eelib.plots import plot_tradeoff

TINY = dict(
    train_epochs=1,
    head_epochs=2,
    prune_rounds=1,
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
    assert df["val_accuracy"].between(0, 1).all() and (df["val_flops"] > 0).all()
    assert num_exits(df) == 3
    assert {"sparsity_stage_1", "sparsity_exit_2", "sparsity_final", "collapsed_layers"} <= set(
        df.columns
    )


def test_results_are_saved_with_metadata_and_never_overwritten(results):
    df, out = results
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["seeds"] == [0] and meta["config"]["sparsities"] == [0.8]
    assert {"torch", "torchvision", "eelib"} <= set(meta["versions"]) and meta["wall_time_s"] > 0
    assert meta["validation_images"] == 600 and meta["train_images"] == 5400
    compute = pd.DataFrame(meta["compute"]["per_target"])
    assert compute["ratio"].between(0.9, 1.1).all(), "equal compute within 10 %"
    assert meta["config"]["joint_epochs"] >= 1
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
    assert len(get_profile("full").seeds) >= 5


@pytest.mark.parametrize(
    "setting, message",
    [
        (dict(prune_rounds=0), "prune_rounds must be an integer"),
        (dict(train_epochs=1.5), "train_epochs must be an integer"),
        (dict(sparsities=[0.0, 0.5]), r"\(0, 1\)"),
        (dict(sparsities=[0.5, 0.5]), "distinct"),
        (dict(seeds=[1, 1]), "distinct integers"),
        (dict(thresholds=1), "thresholds"),
        (dict(lr=0), "lr must be a number > 0"),
        (dict(architecture="vgg"), "unknown architecture"),
        (dict(val_size=55), "multiple of the 10 classes"),
        (dict(joint_epochs=30), "within 10 %"),
        (dict(head_patience=-1), "head_patience must be an integer"),
        (dict(heads_compute="free"), "unknown heads_compute"),
    ],
)
def test_every_setting_is_checked_before_training(monkeypatch, setting, message):
    def no_training(*args, **kwargs):
        raise AssertionError("training started before the settings were checked")

    for name in ("train", "prune_all_at_once", "prune_base", "prune_heads"):
        monkeypatch.setattr(eelib.experiment, name, no_training)
    with pytest.raises(ValueError, match=message):
        run_experiment("fast", **{**TINY, **setting})


@pytest.mark.parametrize("device", ["tpu9", "cuda:99", "mps"])
def test_an_unknown_or_absent_device_is_refused_before_any_data_is_loaded(monkeypatch, device):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has an MPS device")

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the device was checked")

    monkeypatch.setattr(eelib.experiment, "load_dataset", no_data)
    with pytest.raises(ValueError, match=f"device '{device}'"):
        run_experiment("fast", device=device, **TINY)


def test_an_interrupted_run_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    """The same seed gives the same numbers (in float32: bfloat16's determinism is
    test_training's, and a CPU without bfloat16 instructions runs it 6-12x slower)."""
    settings = dict(sparsities=[0.5, 0.8], seeds=[0], **TINY)
    whole = run_experiment("fast", **settings)
    save = eelib.experiment.Checkpoints.save
    calls = []

    def save_then_stop(self, *args, **kwargs):
        save(self, *args, **kwargs)
        calls.append(args[1])
        if len(calls) == 4:
            raise KeyboardInterrupt  # as if Ctrl-C came after the fourth finished piece

    with monkeypatch.context() as patch:
        patch.setattr(eelib.experiment.Checkpoints, "save", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            run_experiment("fast", checkpoints=tmp_path, **settings)
    resumed = run_experiment("fast", checkpoints=tmp_path, **settings)
    assert resumed.attrs["metadata"]["resumed_pieces"] == 4
    pd.testing.assert_frame_equal(resumed, whole)
    again = run_experiment("fast", checkpoints=tmp_path, **settings)
    assert again.attrs["metadata"]["resumed_pieces"] == 9, "3 + 3 per target, all finished"
    piece = next(tmp_path.glob("*/seed0/all-at-once-at-0.8.pt"))
    piece.write_bytes(piece.read_bytes()[:1000])  # a truncated piece, as a full disk leaves it
    with pytest.warns(UserWarning, match="cannot be read.*recomputing"):
        mended = run_experiment("fast", checkpoints=tmp_path, **settings)
    assert mended.attrs["metadata"]["resumed_pieces"] == 8
    pd.testing.assert_frame_equal(mended, whole)
    changed = run_experiment("fast", checkpoints=tmp_path, **{**settings, "finetune_lr": 5e-4})
    assert changed.attrs["metadata"]["resumed_pieces"] == 0, "a changed config reuses nothing"
    assert len(list(tmp_path.iterdir())) == 2, "one folder per config hash"


@pytest.mark.parametrize("name, mflops", [("full", 29.06), ("paper", 192.2)])
def test_the_residual_profiles_run_on_a_cpu_with_a_tiny_budget(monkeypatch, name, mflops):
    """Smoke test of ``full`` (a ResNet-32 with a stride-2 stem, bfloat16) and ``paper``
    (ResNet-56; SGD, schedules, crop + flip, Adam for the heads): 7 exits each, their code path
    on 200 images, not their numbers. ``paper`` in float32: its bfloat16 path is ``full``'s,
    and CPUs without bfloat16 instructions (this one) run it at half float32's speed."""
    load = eelib.experiment.load_dataset

    def few(name, split, **kwargs):
        data = load("fashion-mnist-mini", split)
        keep = slice(0, 200 if split == "train" else 50)
        return type(data)(
            data.data[keep], data.targets[keep], data.classes, data.mean, data.std, data.name
        )

    monkeypatch.setattr(eelib.experiment, "load_dataset", few)
    eelib.experiment._data.cache_clear()
    results = run_experiment(
        name,
        sparsities=[0.5],
        seeds=[0],
        val_size=50,
        train_epochs=1,
        head_epochs=2,
        prune_rounds=1,
        finetune_epochs=1,
        thresholds=5,
        progress=False,
        device="cpu",
        precision="float32" if name == "paper" else None,
    )
    eelib.experiment._data.cache_clear()
    assert num_exits(results) == 7
    assert results["exit_7_flops"].max() / 1e6 == pytest.approx(mflops, abs=0.1)
    pruned = results[results["strategy"] != "dense"]
    assert pruned["sparsity_all"].round(3).eq(0.5).all()
    config = results.attrs["metadata"]["config"]
    assert config["precision"] == ("float32" if name == "paper" else get_profile(name).precision)
    if name == "paper":
        assert config["optimizer"] == "sgd" and config["augment"] == "crop-flip"


def _one_thread(**settings):
    """The run in this process with one thread, what each of two workers has on 2 cores."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        return run_experiment("fast", **settings)
    finally:
        torch.set_num_threads(threads)


CLUSTER = dict(sparsities=[0.8], seeds=[1], **TINY)  # 2 tasks: all at once, ordered


@pytest.fixture(scope="module")
def alone():
    return _one_thread(**CLUSTER)


def test_workers_share_the_pieces_out_and_give_the_numbers_one_thread_gives(tmp_path, alone):
    """--workers 2: a Dask LocalCluster of 2 processes, 1 thread each."""
    shared = run_experiment("fast", workers=2, checkpoints=tmp_path, **CLUSTER)
    meta = shared.attrs["metadata"]
    assert meta["workers"] == 2 and meta["worker_machines"][0]["torch_threads"] == 1
    assert set(shared["seed"]) == {1} and meta["resumed_pieces"] == 0
    pd.testing.assert_frame_equal(shared, alone)
    with pytest.raises(ValueError, match="workers"):
        run_experiment("fast", workers=0, **CLUSTER)


def _dies_once(task):
    """Kill this worker process the first time any worker gets a task, then do the task."""
    import os
    import signal
    from pathlib import Path

    try:
        os.close(os.open(Path(task[4]) / "killed-one-worker", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return eelib.experiment._work(task)
    os.kill(os.getpid(), signal.SIGKILL)


def _does_nothing(task):
    return {"resumed": 0, "machine": {}}


def _may_start_processes():
    import multiprocessing

    return not multiprocessing.current_process().daemon


def test_a_cluster_that_loses_a_worker_midway_still_finishes(tmp_path, alone, monkeypatch):
    """On a running Dask scheduler (a local cluster of 2 worker processes here, as a SLURM
    cluster's would be): a worker killed on its first task loses it; the scheduler gives it to
    a worker again and the run gives the one-process numbers. Its checks too: no shared folder,
    a GPU run with no GPU worker, pieces the workers left where this process cannot read them."""
    import sys

    import cloudpickle
    import dask
    from distributed import Client

    from eelib.cluster import local_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import it
    with local_cluster(2) as cluster:
        with Client(cluster) as client:  # DataLoader workers (loader_workers > 0) may start
            assert client.submit(_may_start_processes).result()
        address = cluster.scheduler_address
        on_cluster = dict(scheduler=address, device="cpu", **CLUSTER)
        (tmp_path / "pieces").mkdir()  # where the first task leaves its marker
        with monkeypatch.context() as patch:
            patch.setattr(eelib.experiment, "_work", _dies_once)
            done = run_experiment("fast", checkpoints=tmp_path / "pieces", **on_cluster)
        assert (tmp_path / "pieces" / "killed-one-worker").exists(), "a worker was lost"
        assert done.attrs["metadata"]["scheduler"] == address
        pd.testing.assert_frame_equal(done, alone)
        with pytest.raises(ValueError, match="needs checkpoints"):
            run_experiment("fast", **on_cluster)
        with pytest.raises(ValueError, match="offers the resource GPU"):
            run_experiment("fast", checkpoints=tmp_path / "gpu", **{**on_cluster, "device": "cuda"})
        with monkeypatch.context() as patch:
            patch.setattr(eelib.experiment, "_work", _does_nothing)
            with pytest.raises(ValueError, match="give checkpoints a folder that they and this"):
                run_experiment("fast", checkpoints=tmp_path / "elsewhere", **on_cluster)
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ValueError, match="cannot reach the Dask scheduler"),
    ):
        run_experiment(
            "fast", checkpoints=tmp_path, **{**on_cluster, "scheduler": "tcp://127.0.0.1:9"}
        )


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli.csv"
    args = [
        "reproduce",
        "--sparsities",
        "0.5",
        "--train-epochs",
        "1",
        "--head-epochs",
        "2",
        "--prune-rounds",
        "1",
        "--no-progress",
        "--checkpoints",
        str(tmp_path / "pieces"),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "all-at-once" in printed and "ordered" in printed and out.exists()
    assert "0 pieces resumed" in printed and any((tmp_path / "pieces").iterdir())
    assert main(args) == 2, "an existing result is not overwritten"
    assert "exists" in capsys.readouterr().err
    assert main(["reproduce", "--sparsities", "1.5", "--out", str(tmp_path / "x.csv")]) == 2
    with pytest.warns(DeprecationWarning, match="--prune-steps is now called --prune-rounds"):
        assert main(["reproduce", "--prune-steps", "0", "--out", str(tmp_path / "y.csv")]) == 2
    assert "prune_rounds must be an integer" in capsys.readouterr().err


def test_find_results_looks_upward(tmp_path, monkeypatch):
    from eelib import find_results

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "run.csv").write_text("strategy\n")
    (tmp_path / "notebooks" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "deeper")
    assert find_results("results/run.csv") == tmp_path / "results" / "run.csv"
    assert find_results("results/missing.csv") is None


def _cli(tmp_path, *extra):
    return ["reproduce", "--sparsities", "0.5", "--out", str(tmp_path / "x.csv"), *extra]


@pytest.mark.parametrize("device", ["tpu9", "cuda:99"])
def test_command_line_refuses_a_bad_device_in_one_line(tmp_path, capsys, device):
    assert main(_cli(tmp_path, "--device", device)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"device '{device}'" in err and "cpu" in err


def test_command_line_names_a_root_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder"
    args = _cli(tmp_path, "--dataset", "fashion-mnist", "--root", str(missing))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err


def test_ctrl_c_says_how_to_resume(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(eelib.__main__, "run_experiment", interrupted)
    assert main(_cli(tmp_path, "--checkpoints", str(tmp_path / "pieces"))) == 130
    err = capsys.readouterr().err
    assert "interrupted; run the same command again to resume" in err
    assert "Traceback" not in err


def test_ordered_heads_get_as_many_rounds_as_the_base_network_took(monkeypatch):
    """The paper's schedule: at the i-th target the base network has had i × prune_rounds rounds,
    and so have the exit heads of that target's ordered network."""
    calls = []
    real = eelib.experiment.prune_heads

    def record(model, train_set, sparsity, *, start, rounds, **kwargs):
        calls.append((sparsity, start, rounds))
        return real(model, train_set, sparsity, start=start, rounds=rounds, **kwargs)

    monkeypatch.setattr(eelib.experiment, "prune_heads", record)
    settings = {**TINY, "prune_rounds": 2, "head_epochs": 3}
    results = run_experiment("fast", sparsities=[0.5, 0.8], seeds=[0], **settings)
    assert calls == [(0.5, 0.0, 2), (0.8, 0.0, 4)], "fresh heads, pruned from 0 each time"
    compute = pd.DataFrame(results.attrs["metadata"]["compute"]["per_target"])
    assert compute["ratio"].between(0.9, 1.1).all()


def test_heads_trained_to_convergence_record_their_epochs_and_both_accountings():
    settings = {**TINY, "train_epochs": 3, "head_epochs": 6, "head_patience": 1}
    settings["heads_compute"] = "cached"
    results = run_experiment("fast", sparsities=[0.5], seeds=[0], **settings)
    epochs = eelib.results.runs(results).set_index("strategy")["head_epochs_trained"]
    assert 1 <= epochs["ordered"] <= 6 and epochs.drop("ordered").isna().all()
    meta = results.attrs["metadata"]
    assert "until the validation accuracy stops improving" in str(meta["budgets"])
    compute = pd.DataFrame(meta["compute"]["per_target"])
    # the real cost of heads-only epochs is below the uncached count, and it is what matched
    assert (compute["ordered (cached)"] < compute["ordered"]).all()
    assert compute["ratio (cached)"].between(0.9, 1.1).all()


def test_set_overrides_any_setting_with_one_line_errors(tmp_path, capsys):
    from eelib.profiles import parse_setting

    assert parse_setting("lr=1e-3") == ("lr", 1e-3)
    assert parse_setting("sparsities=0.5,0.9") == ("sparsities", (0.5, 0.9))
    assert parse_setting("precision=bfloat16") == ("precision", "bfloat16")
    assert parse_setting("head-patience=2") == ("head_patience", 2)
    for bad, message in (
        (["--set", "lr"], "NAME=VALUE"),
        (["--set", "speed=3"], "unknown setting 'speed'"),
        (["--set", "lr=-1"], "lr must be a number > 0"),
        (["--train-epochs", "2", "--set", "train_epochs=3"], "set twice"),
        (["--set", "optimizer=lamb"], "unknown optimizer 'lamb'"),
        (["--set", "lr_schedule=linear"], "unknown lr_schedule"),
        (["--set", "augment=mixup"], "unknown augment"),
        (["--set", "weight_decay=-1"], "weight_decay must be a number ≥ 0"),
        (["--set", "loader_workers=two"], "loader_workers must be an integer"),
    ):
        assert main(_cli(tmp_path, *bad)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_command_line_on_an_unreachable_scheduler_says_so_in_one_line(tmp_path, capsys):
    import dask

    args = _cli(tmp_path, "--scheduler", "tcp://127.0.0.1:9", "--set", "train_epochs=1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err


def test_help_lists_every_setting(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    printed = " ".join(capsys.readouterr().out.split())
    for name in ("optimizer", "momentum", "weight_decay", "lr_schedule", "finetune_schedule"):
        assert name in printed
    for name in ("augment", "loader_workers", "pin_memory", "head_lr", "--scheduler"):
        assert name in printed


def test_the_paper_profile_without_cifar10_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EELIB_DATA", raising=False)
    assert main(["reproduce", "--profile", "paper", "--out", str(tmp_path / "paper.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CIFAR-10 is not on disk" in err and "--download" in err


@pytest.mark.parametrize("has_bfloat16", [False, True])
def test_bfloat16_on_a_cpu_without_its_instructions_warns_before_any_data_loads(
    monkeypatch, tmp_path, has_bfloat16
):
    """``full`` trains in bfloat16; a CPU that emulates it (this AVX2 one) gets a one-line
    warning naming the fix, before the data is even looked for (here it is missing)."""
    monkeypatch.setattr(eelib.experiment, "cpu_has_bfloat16", lambda: has_bfloat16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError):
            run_experiment("full", dataset="cifar10", root=tmp_path, device="cpu", progress=False)
    said = [str(w.message) for w in caught if "bfloat16" in str(w.message)]
    assert len(said) == (0 if has_bfloat16 else 1)
    assert all("--set precision=float32" in text and "\n" not in text for text in said)


def test_cpu_has_bfloat16_says_what_torch_reports():
    from torch import cpu

    expected = cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported()
    assert eelib.training.cpu_has_bfloat16() == expected


def test_the_metadata_names_the_cpu_model(monkeypatch, tmp_path):
    """results' ``machine`` names the CPU (``/proc/cpuinfo``'s model name), not only ``x86_64``:
    run times, and whether bfloat16 is fast, depend on it."""
    machine = eelib.provenance.machine(torch.device("cpu"))
    assert machine["cpu"] == eelib.provenance.cpu_model() and machine["cpu"]
    assert eelib.experiment.cpu_model is eelib.provenance.cpu_model  # still importable there
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t: avx2\n")
    real = eelib.provenance.Path
    monkeypatch.setattr(
        eelib.provenance, "Path", lambda p: cpuinfo if p == "/proc/cpuinfo" else real(p)
    )
    assert eelib.provenance.cpu_model() == "AMD EPYC 9B14"

"""The study end to end: train, prune both ways, sweep the exit threshold, collect tidy results.

For each seed, one network is trained jointly (strategy 1's start, also reported unpruned as
``"dense"``) and one base network alone (strategy 2's start); each is then copied and pruned to
every target sparsity (Görmez & Koyuncu, 2022, §3–4; COURSE_DESIGN §3).
"""

from __future__ import annotations

import copy
import json
import os
import platform
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .costs import exit_costs
from .data import load_dataset
from .early_exit import exit_accuracy, predict_all_exits, tradeoff_curve
from .models import EarlyExitCNN, EarlyExitNetwork
from .profiles import Profile, get_profile
from .pruning import check_sparsity, prune_all_at_once, prune_ordered, sparsity
from .training import train

STRATEGIES = ("all-at-once", "ordered")


def build_model(profile: Profile, in_channels: int, num_classes: int, seed: int) -> EarlyExitCNN:
    """The profile's early-exit CNN with weights initialised from ``seed`` (the global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return EarlyExitCNN(
            in_channels, num_classes, profile.widths, profile.head_pool, profile.final_pool
        )


def evaluate(model: EarlyExitNetwork, test_set, thresholds, device=None) -> pd.DataFrame:
    """The model's trade-off curve on ``test_set`` with run-level columns added.

    Columns: those of :func:`eelib.tradeoff_curve`, then ``sparsity_all``, ``sparsity_base``,
    ``sparsity_exits`` (fractions), and per exit k ``exit_k_accuracy`` (every sample forced out at
    k) and ``exit_k_flops`` (FLOPs to reach exit k, non-zero weights only).
    """
    probs, labels = predict_all_exits(model, test_set, device=device)
    costs = exit_costs(model, test_set[0][0].shape)
    curve = tradeoff_curve(probs, labels, costs, thresholds)
    for scope in ("all", "base", "exits"):
        curve[f"sparsity_{scope}"] = sparsity(model, scope)
    for k, (acc, flops) in enumerate(
        zip(exit_accuracy(probs, labels).tolist(), costs.tolist()), start=1
    ):
        curve[f"exit_{k}_accuracy"] = acc
        curve[f"exit_{k}_flops"] = flops
    return curve


def _versions() -> dict[str, str]:
    names = ("eelib", "torch", "torchvision", "numpy", "pandas")
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _machine(device: torch.device) -> dict[str, str | int]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "",
    }


def run_experiment(
    profile: str | Profile = "fast",
    dataset: str | None = None,
    seeds=None,
    sparsities=None,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    root=None,
    download: bool = False,
    device: str | None = None,
    progress: bool = True,
    **settings,
) -> pd.DataFrame:
    """Run both pruning strategies over sparsities and seeds; return every trade-off curve.

    Args:
        profile: a profile name (see :mod:`eelib.profiles`) or a :class:`Profile`.
        dataset, seeds, sparsities: override the profile's.
        out: a ``.csv`` path to save the results to, with a ``.json`` beside it holding the
            metadata (config, seeds, budgets, package versions, machine, wall time in seconds).
        overwrite: allow replacing an existing ``out``.
        root, download: passed to :func:`eelib.load_dataset`.
        device: ``"cpu"``, ``"cuda"``… (default: CUDA when available).
        progress: show a progress bar over the runs.
        **settings: other profile settings to override (``train_epochs=1``…).

    Returns:
        A tidy DataFrame, one row per (strategy, sparsity, seed, threshold): columns ``strategy``
        (``"dense"``, ``"all-at-once"``, ``"ordered"``), ``sparsity`` (the target), ``seed`` and
        those of :func:`evaluate`. ``.attrs["metadata"]`` holds the metadata that ``out`` gets.

    Raises:
        ValueError: an unknown profile, dataset or setting, or a sparsity outside [0, 1).
        FileNotFoundError: the dataset is not on disk (see :func:`eelib.load_dataset`).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    base = profile if isinstance(profile, Profile) else get_profile(profile)
    config = base.replace(
        dataset=dataset,
        seeds=None if seeds is None else tuple(int(s) for s in seeds),
        sparsities=None if sparsities is None else tuple(check_sparsity(s) for s in sparsities),
        **settings,
    )
    out = (
        _check_out(out, overwrite) if out is not None else None
    )  # fail before hours of training, not after
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    train_set = load_dataset(config.dataset, "train", root=root, download=download)
    test_set = load_dataset(config.dataset, "test", root=root, download=download)
    thresholds = np.linspace(0.0, 1.0, config.thresholds)
    in_channels, num_classes = train_set.image_shape[0], len(train_set.classes)
    fit = {
        "batch_size": config.batch_size,
        "device": device,
        "progress": False,
    }  # one bar: over runs
    tune = {**fit, "lr": config.finetune_lr}

    start = time.perf_counter()
    curves = []
    tasks = tqdm(
        total=len(config.seeds) * (2 + 2 * len(config.sparsities)),
        desc="runs",
        disable=not progress,
    )

    def record(model, strategy, target, seed):
        curve = evaluate(model, test_set, thresholds, device)
        curve.insert(0, "seed", seed)
        curve.insert(0, "sparsity", target)
        curve.insert(0, "strategy", strategy)
        curves.append(curve)
        tasks.update()

    for seed in config.seeds:
        joint = build_model(config, in_channels, num_classes, seed).to(device)
        train(
            joint,
            train_set,
            config.train_epochs,
            scope="all",
            lr=config.lr,
            seed=seed,
            desc="train jointly",
            **fit,
        )
        record(joint, "dense", 0.0, seed)
        base_net = build_model(config, in_channels, num_classes, seed).to(device)
        train(
            base_net,
            train_set,
            config.train_epochs,
            scope="base",
            lr=config.lr,
            seed=seed,
            desc="train base network",
            **fit,
        )
        tasks.update()
        for target in config.sparsities:
            pruned = prune_all_at_once(
                copy.deepcopy(joint),
                train_set,
                target,
                config.prune_steps,
                config.finetune_epochs,
                seed=seed,
                **tune,
            )
            record(pruned, "all-at-once", target, seed)
            pruned = prune_ordered(
                copy.deepcopy(base_net),
                train_set,
                target,
                config.prune_steps,
                config.finetune_epochs,
                head_epochs=config.train_epochs,
                seed=seed,
                head_lr=config.lr,
                **tune,
            )
            record(pruned, "ordered", target, seed)
    tasks.close()

    results = pd.concat(curves, ignore_index=True)
    results.attrs["metadata"] = {
        "config": config.to_dict(),
        "budgets": {
            "joint or base training epochs": config.train_epochs,
            "exit-head training epochs (ordered)": config.train_epochs,
            "pruning rounds per pool": config.prune_steps,
            "fine-tuning epochs per round": config.finetune_epochs,
        },
        "seeds": list(config.seeds),
        "versions": _versions(),
        "machine": _machine(device),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if out is not None:
        save_results(results, out, overwrite=overwrite)
    return results


def _check_out(out: str | os.PathLike, overwrite: bool) -> Path:
    out = Path(out)
    if out.suffix != ".csv":
        raise ValueError(
            f"out must be a .csv path (a .json with the metadata goes beside it), got {out}"
        )
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"{out} exists; pass overwrite=True (--overwrite) or choose another path"
        )
    return out


def save_results(results: pd.DataFrame, out: str | os.PathLike, overwrite: bool = False) -> None:
    """Write ``results`` to the ``.csv`` path ``out`` and its ``.attrs["metadata"]`` to a ``.json`` beside it.

    Raises ValueError if ``out`` does not end in ``.csv``, FileExistsError if it exists and
    ``overwrite`` is False.
    """
    out = _check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    out.with_suffix(".json").write_text(
        json.dumps(results.attrs.get("metadata", {}), indent=2) + "\n"
    )


def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read results written by :func:`save_results`, metadata back in ``.attrs["metadata"]``."""
    path = Path(path)
    results = pd.read_csv(path)
    meta = path.with_suffix(".json")
    results.attrs["metadata"] = json.loads(meta.read_text()) if meta.exists() else {}
    return results


def num_exits(results: pd.DataFrame) -> int:
    """K, the number of exits of the networks in :func:`run_experiment` results (one ``exit_k_accuracy`` column each)."""
    return sum(1 for c in results.columns if c.startswith("exit_") and c.endswith("_accuracy"))


def summarise(results: pd.DataFrame, tolerance: float = 0.01) -> pd.DataFrame:
    """One row per (strategy, sparsity): means over seeds of the reached sparsity, the final exit's
    accuracy and FLOPs, the best accuracy on the curve, and the fewest mean FLOPs per sample of a
    threshold whose accuracy is within ``tolerance`` (a fraction) of that best.
    """
    K = num_exits(results)

    def per_run(run: pd.DataFrame) -> pd.Series:
        best = run["accuracy"].max()
        return pd.Series(
            {
                "sparsity reached": run["sparsity_all"].iloc[0],
                "final-exit accuracy": run[f"exit_{K}_accuracy"].iloc[0],
                "final-exit MFLOPs": run[f"exit_{K}_flops"].iloc[0] / 1e6,
                "best accuracy": best,
                f"MFLOPs within {tolerance * 100:g} pt of best": run.loc[
                    run["accuracy"] >= best - tolerance, "flops"
                ].min()
                / 1e6,
            }
        )

    runs = results.groupby(["strategy", "sparsity", "seed"], sort=False).apply(
        per_run, include_groups=False
    )
    return runs.groupby(["strategy", "sparsity"], sort=False).mean()

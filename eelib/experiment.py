"""The study end to end: train, prune both ways, sweep the exit threshold, collect the results.

For each seed, one network is trained jointly (strategy 1's start and, fine-tuned, the dense
reference) and one base network alone (strategy 2's start); each is pruned along one trajectory
through every target sparsity, recorded on the way (Görmez & Koyuncu, 2022, §3–4; the book's
chapter 5). Both strategies get matched training compute; finished pieces can be kept to resume.
"""

from __future__ import annotations

import copy
import os
import platform
import time
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .checkpoints import Checkpoints, config_hash
from .costs import training_flops
from .data import load_dataset, validation_split
from .models import EarlyExitNetwork
from .profiles import Profile, build_model, check_device, get_profile, validate
from .pruning import prune_all_at_once, prune_base, train_and_prune_heads
from .results import STRATEGIES, check_out, evaluate, save_results
from .training import train

# A strategy's training compute may differ from the other's by at most this fraction.
COMPUTE_TOLERANCE = 0.10


def _versions() -> dict[str, str]:
    names = ("eelib", "torch", "torchvision", "numpy", "pandas", "scipy")
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


def compute_budget(
    config: Profile, model: EarlyExitNetwork, input_shape: tuple[int, ...], train_size: int
) -> tuple[int, pd.DataFrame]:
    """Training compute of each strategy up to each target, and the joint epochs that match them.

    Per training sample, ``training_flops`` counts one step of each scope (forward + backward,
    dense). Reaching the i-th target costs (with p = ``prune_steps``, F = ``finetune_epochs``):

    - all at once: ``(joint_epochs + i·p·F) × FLOPs(all)`` — joint training, then i·p rounds;
    - ordered: ``(train_epochs + i·p·F) × FLOPs(base) + (head_epochs + p·F) × FLOPs(exits)`` —
      the base network's training and rounds, then the heads' training and p rounds.

    The dense reference is fine-tuned for as many epochs as the whole all-at-once trajectory.

    Args:
        config: a validated profile; ``joint_epochs=None`` asks for the whole number of joint
            epochs that makes the worst ratio of the two strategies' compute closest to 1.
        model: the network (its FLOPs are counted on a copy).
        input_shape: one image's shape ``(C, H, W)``.
        train_size: training images per epoch.

    Returns:
        ``(joint_epochs, table)``; the table has one row per target: ``sparsity``,
        ``all-at-once`` and ``ordered`` (training FLOPs, not MACs, in total), the same in
        epoch-equivalents (``…_epochs``: one epoch of joint training = 1) and ``ratio``
        (all at once / ordered).

    Raises:
        ValueError: the two differ by more than 10 % at some target; the message gives the
            ratios and says which epochs to change.
    """
    per = {scope: training_flops(model, input_shape, scope) for scope in ("all", "base", "exits")}
    p, F = config.prune_steps, config.finetune_epochs
    head_epochs = config.head_epochs or config.train_epochs
    steps = np.arange(1, len(config.sparsities) + 1) * p * F
    ordered = (config.train_epochs + steps) * per["base"] + (head_epochs + p * F) * per["exits"]

    def worst(joint_epochs: int) -> float:
        return float(np.max(np.abs((joint_epochs + steps) * per["all"] / ordered - 1)))

    joint_epochs = config.joint_epochs or min(
        range(1, 2 * (config.train_epochs + head_epochs + p * F) + 1), key=worst
    )
    table = pd.DataFrame(
        {
            "sparsity": config.sparsities,
            "all-at-once": (joint_epochs + steps) * per["all"] * train_size,
            "ordered": ordered * train_size,
        }
    )
    for strategy in STRATEGIES:
        table[f"{strategy}_epochs"] = table[strategy] / (per["all"] * train_size)
    table["ratio"] = table["all-at-once"] / table["ordered"]
    if worst(joint_epochs) > COMPUTE_TOLERANCE:
        raise ValueError(
            f"with {joint_epochs} joint epochs, all at once costs "
            f"{', '.join(f'{r:.2f}' for r in table['ratio'])} × the ordered strategy's training "
            f"compute at the targets; they must agree within {100 * COMPUTE_TOLERANCE:.0f} %. Leave "
            "joint_epochs unset to match it, or change train_epochs, head_epochs or prune_steps."
        )
    return joint_epochs, table


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
    checkpoints: str | os.PathLike | None = None,
    **settings,
) -> pd.DataFrame:
    """Run both pruning strategies along one pruning trajectory per seed; return every trade-off curve.

    Protocol (Görmez & Koyuncu, 2022, §3–4; the book's chapter 5), per seed, on the training
    images left after a class-balanced validation split of ``val_size`` images:

    - **dense**: the network trained jointly for ``joint_epochs``, then fine-tuned jointly for as
      many epochs as the whole pruning trajectory (the fine-tuned dense reference, sparsity 0);
    - **all at once** (:func:`eelib.prune_all_at_once`): the same jointly trained network, pruned
      in one global pool along one trajectory — ``prune_steps`` rounds of (prune +
      ``finetune_epochs`` of joint fine-tuning) from each target to the next — recorded at every
      target on the way;
    - **ordered**: the base network trained for ``train_epochs``, pruned along its own trajectory
      (:func:`eelib.prune_base`); at each target a copy gets its exit heads trained for
      ``head_epochs`` on the frozen base, then pruned to the target in ``prune_steps`` rounds
      (:func:`eelib.train_and_prune_heads`).

    ``joint_epochs`` is chosen so both strategies' training compute agrees within 10 % at every
    target (:func:`compute_budget`). Curves are swept on the test set; ``val_accuracy`` and
    ``val_flops`` give the same thresholds on the validation split to choose operating points on.

    Args:
        profile: a profile name (see :mod:`eelib.profiles`) or a :class:`Profile`.
        dataset, seeds, sparsities: override the profile's.
        out: a ``.csv`` path to save the results to, with a ``.json`` beside it holding the
            metadata (config, seeds, compute per strategy, package versions, machine, wall time in
            seconds).
        overwrite: allow replacing an existing ``out``.
        root, download: passed to :func:`eelib.load_dataset`.
        device: ``"cpu"``, ``"cuda"``… (default: CUDA when available).
        progress: show a progress bar over the pieces of the run.
        checkpoints: a folder to keep finished pieces in (under a hash of the config); running the
            same command again after an interruption continues from them and gives the same
            numbers. A changed config gets another hash and never reuses old pieces.
        **settings: other profile settings to override (``train_epochs=1``…).

    Returns:
        The results table (:mod:`eelib.results`), one row per (strategy, sparsity, seed,
        threshold); ``strategy`` is ``"dense"``, ``"all-at-once"`` or ``"ordered"``, ``sparsity``
        the target (0 for dense). ``.attrs["metadata"]`` holds the metadata.

    Raises:
        ValueError: any bad setting (see :func:`eelib.profiles.validate`), an unknown or absent
            device, or unmatched compute — all checked before training starts (the settings and
            the device before any data is loaded).
        FileNotFoundError: the dataset is not on disk (see :func:`eelib.load_dataset`).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    base = profile if isinstance(profile, Profile) else get_profile(profile)
    config = validate(
        base.replace(
            dataset=dataset,
            seeds=None if seeds is None else tuple(seeds),
            sparsities=None if sparsities is None else tuple(sparsities),
            **settings,
        )
    )
    out = check_out(out, overwrite) if out is not None else None
    device = check_device(device)
    train_set, val_set = validation_split(
        load_dataset(config.dataset, "train", root=root, download=download), config.val_size
    )
    test_set = load_dataset(config.dataset, "test", root=root, download=download)
    probe = build_model(config, 0, train_set.image_shape[0], len(train_set.classes))
    joint_epochs, compute = compute_budget(config, probe, train_set.image_shape, len(train_set))
    config = config.replace(
        joint_epochs=joint_epochs, head_epochs=config.head_epochs or config.train_epochs
    )
    key = config_hash(config, device)
    thresholds = np.linspace(0.0, 1.0, config.thresholds)
    pieces = _Pieces(
        Checkpoints(checkpoints, key),
        lambda model: evaluate(model, test_set, thresholds, device, val_set),
        total=len(config.seeds) * (3 + 3 * len(config.sparsities)),
        progress=progress,
    )
    fit = {"batch_size": config.batch_size, "device": device, "progress": False}
    tune = {**fit, "lr": config.finetune_lr}

    def network(seed: int) -> EarlyExitNetwork:
        return build_model(config, seed, train_set.image_shape[0], len(train_set.classes)).to(
            device
        )

    start = time.perf_counter()
    for seed in config.seeds:
        joint = pieces.run(
            seed,
            "joint",
            network(seed),
            lambda m: train(m, train_set, joint_epochs, "all", config.lr, seed=seed, **fit),
        )
        pieces.run(
            seed,
            "dense",
            copy.deepcopy(joint),
            lambda m: train(
                m, train_set, _rounds(config) * config.finetune_epochs, "all", seed=seed + 1, **tune
            ),
            record="dense",
        )
        all_at_once_trajectory(pieces, seed, joint, config, train_set, tune)
        base_net = pieces.run(
            seed,
            "base",
            network(seed),
            lambda m: train(m, train_set, config.train_epochs, "base", config.lr, seed=seed, **fit),
        )
        ordered_trajectory(pieces, seed, base_net, config, train_set, tune)
    pieces.close()

    results = pd.concat(pieces.rows, ignore_index=True)
    results.attrs["metadata"] = _metadata(config, compute, key, device, pieces, start) | {
        "train_images": len(train_set),
        "validation_images": len(val_set),
        "test_images": len(test_set),
    }
    if out is not None:
        save_results(results, out, overwrite=overwrite)
    return results


def all_at_once_trajectory(pieces, seed, model, config: Profile, train_set, tune: dict) -> None:
    """Strategy 1 for one seed: the jointly trained ``model`` pruned target after target.

    From each target to the next, :func:`eelib.prune_all_at_once` continues the trajectory in
    ``prune_steps`` rounds; the network is recorded at every target.
    """
    p, F, start = config.prune_steps, config.finetune_epochs, 0.0
    for i, target in enumerate(config.sparsities):
        pieces.run(
            seed,
            f"all-at-once@{target}",
            model,
            lambda m: prune_all_at_once(
                m, train_set, target, start, p, F, seed + 1 + i * p, **tune
            ),
            record="all-at-once",
            target=target,
        )
        start = target


def ordered_trajectory(pieces, seed, base_net, config: Profile, train_set, tune: dict) -> None:
    """Strategy 2 for one seed: the trained base network pruned target after target.

    From each target to the next, :func:`eelib.prune_base` continues the base network's
    trajectory in ``prune_steps`` rounds; at each target a copy gets its exit heads trained and
    pruned to the target (:func:`eelib.train_and_prune_heads`) and is recorded.
    """
    p, F, start = config.prune_steps, config.finetune_epochs, 0.0
    heads_seed = seed + _rounds(config) + 1
    for i, target in enumerate(config.sparsities):
        pieces.run(
            seed,
            f"base@{target}",
            base_net,
            lambda m: prune_base(m, train_set, target, start, p, F, seed + 1 + i * p, **tune),
        )
        pieces.run(
            seed,
            f"ordered@{target}",
            copy.deepcopy(base_net),
            lambda m: train_and_prune_heads(
                m, train_set, target, config.head_epochs, p, F, heads_seed, config.lr, **tune
            ),
            record="ordered",
            target=target,
        )
        start = target


def _rounds(config: Profile) -> int:
    """Pruning rounds along a whole trajectory (to the last target)."""
    return config.prune_steps * len(config.sparsities)


class _Pieces:
    """Does each piece of a run — or restores it from the checkpoints — and keeps its rows."""

    def __init__(self, store: Checkpoints, evaluate_model, total: int, progress: bool):
        self.store, self.evaluate = store, evaluate_model
        self.rows, self.seconds, self.resumed = [], 0.0, 0
        self.bar = tqdm(total=total, desc="pieces", disable=not progress)

    def run(self, seed: int, name: str, model, work, record: str | None = None, target=0.0):
        """Restore piece ``name`` into ``model``, or do ``work(model)`` and store it; return the
        model. A recorded piece (``record`` = its strategy) adds the model's rows at ``target``."""
        done = self.store.load(seed, name, model)
        if done is not None:
            took, rows = done
            self.resumed += 1
        else:
            began = time.perf_counter()
            work(model)
            rows = None
            if record is not None:
                rows = self.evaluate(model)
                rows.insert(0, "seed", seed)
                rows.insert(0, "sparsity", target)
                rows.insert(0, "strategy", record)
            took = time.perf_counter() - began
            self.store.save(seed, name, model, took, rows)
        self.seconds += took
        if rows is not None:
            self.rows.append(rows)
        self.bar.update()
        return model

    def close(self) -> None:
        self.bar.close()


def _metadata(config, compute, key, device, pieces: _Pieces, start: float) -> dict:
    p, F = config.prune_steps, config.finetune_epochs
    return {
        "config": config.to_dict(),
        "protocol": (
            "per seed: one pruning trajectory per strategy, recorded at every target; "
            f"{config.val_size} training images held out (class-balanced, seed 0) to choose "
            "operating points on; curves on the test set; the dense reference fine-tuned for as "
            "many epochs as the all-at-once trajectory"
        ),
        "budgets": {
            "joint training epochs (all at once, dense)": config.joint_epochs,
            "base network training epochs (ordered)": config.train_epochs,
            "exit-head training epochs at each target (ordered)": config.head_epochs,
            "pruning rounds from one target to the next": p,
            "exit-head pruning rounds (ordered)": p,
            "fine-tuning epochs per round": F,
            "dense reference fine-tuning epochs": _rounds(config) * F,
        },
        "compute": {
            "how": (
                "training FLOPs (forward + backward, dense, counted by "
                "torch.utils.flop_counter around one step of eelib.train per scope) × training "
                "images × epochs, up to each target; joint_epochs chosen to match within "
                f"{100 * COMPUTE_TOLERANCE:.0f} %"
            ),
            "per_target": compute.to_dict(orient="records"),
        },
        "seeds": list(config.seeds),
        "config_hash": key,
        "versions": _versions(),
        "machine": _machine(device),
        "compute_time_s": round(pieces.seconds, 1),
        "resumed_pieces": pieces.resumed,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

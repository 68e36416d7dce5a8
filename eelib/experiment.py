"""The study end to end: train, prune both ways, sweep the exit threshold, collect the results.

For each seed, one network is trained jointly (strategy 1's start and, fine-tuned, the dense
reference) and one base network alone (strategy 2's start); each is pruned along one trajectory
through every target sparsity, recorded on the way (Görmez & Koyuncu, 2022, §3–4; the book's
chapter 5). Both strategies get matched training compute; finished pieces can be kept to resume.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import multiprocessing
import os
import platform
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .checkpoints import Checkpoints, config_hash
from .cluster import run_tasks, worker_device
from .costs import cached_heads_flops, training_flops
from .data import ImageDataset, default_download_folder, load_dataset, validation_split
from .evaluation import evaluate
from .models import EarlyExitNetwork
from .profiles import Profile, build_model, check_device, get_profile, parse_device, validate
from .pruning import prune_all_at_once, prune_base, prune_heads
from .results import STRATEGIES, check_out, save_results
from .training import cpu_has_bfloat16, train

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


def _distinct(items: list) -> list:
    return [item for i, item in enumerate(items) if item not in items[:i]]


def cpu_model() -> str:
    """The CPU's model name (Linux's ``/proc/cpuinfo``), else the architecture (``x86_64``).

    Run times and the fast paths open to bfloat16 depend on it (an AVX2 AMD EPYC trains these
    networks about half as fast as an AVX-512 Xeon): results' metadata and benchmarks record it.
    """
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(
            line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")
        )
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _machine(device: torch.device) -> dict[str, str | int]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
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
    - ordered: ``(train_epochs + i·p·F) × FLOPs(base) + (head_epochs + i·p·F) × FLOPs(exits)``
      — the base network's training and i·p rounds, then the heads' training and as many rounds.

    A heads-only epoch is counted two ways. *Uncached*: a forward pass through the base network
    plus the heads' backward pass, what it costs without :func:`eelib.train`'s exact cache of the
    heads' inputs. *Cached*, its real cost: the heads' inputs once per training call (one for
    the heads' training, one per pruning round) plus the heads' own passes each epoch
    (:func:`eelib.costs.cached_heads_flops`). ``heads_compute`` says which one the matching uses
    (the headline: uncached); both are reported. With ``head_patience`` the heads' epochs are
    counted at their most, ``head_epochs``. The dense reference is fine-tuned for as many epochs
    as the whole all-at-once trajectory.

    Args:
        config: a validated profile; ``joint_epochs=None`` asks for the whole number of joint
            epochs that makes the worst ratio of the two strategies' compute closest to 1.
        model: the network (its FLOPs are counted on a copy).
        input_shape: one image's shape ``(C, H, W)``.
        train_size: training images per epoch.

    Returns:
        ``(joint_epochs, table)``; the table has one row per target: ``sparsity``,
        ``all-at-once`` and ``ordered`` (training FLOPs, not MACs, in total, heads-only epochs
        uncached) and ``ordered (cached)`` (at their real cost), the same in epoch-equivalents
        (``…_epochs``: one epoch of joint training = 1), ``ratio`` and ``ratio (cached)`` (all
        at once / ordered in each accounting).

    Raises:
        ValueError: the two differ by more than 10 % at some target in the accounting
            ``heads_compute`` names; the message gives the ratios and says which epochs to change.
    """
    per = {scope: training_flops(model, input_shape, scope) for scope in ("all", "base", "exits")}
    once, per_epoch = cached_heads_flops(model, input_shape)
    p, F = config.prune_steps, config.finetune_epochs
    head_epochs = config.head_epochs or config.train_epochs
    rounds = np.arange(1, len(config.sparsities) + 1) * p
    steps = rounds * F
    base = (config.train_epochs + steps) * per["base"]
    uncached = base + (head_epochs + steps) * per["exits"]
    cached = base + (1 + rounds) * once + (head_epochs + steps) * per_epoch
    ordered = cached if config.heads_compute == "cached" else uncached

    def worst(joint_epochs: int) -> float:
        return float(np.max(np.abs((joint_epochs + steps) * per["all"] / ordered - 1)))

    joint_epochs = config.joint_epochs or min(
        range(1, 2 * (config.train_epochs + head_epochs + steps[-1]) + 1), key=worst
    )
    table = pd.DataFrame(
        {
            "sparsity": config.sparsities,
            "all-at-once": (joint_epochs + steps) * per["all"] * train_size,
            "ordered": uncached * train_size,
            "ordered (cached)": cached * train_size,
        }
    )
    for strategy in (*STRATEGIES, "ordered (cached)"):
        table[f"{strategy}_epochs"] = table[strategy] / (per["all"] * train_size)
    table["ratio"] = table["all-at-once"] / table["ordered"]
    table["ratio (cached)"] = table["all-at-once"] / table["ordered (cached)"]
    if worst(joint_epochs) > COMPUTE_TOLERANCE:
        ratios = table["ratio (cached)" if config.heads_compute == "cached" else "ratio"]
        raise ValueError(
            f"with {joint_epochs} joint epochs, all at once costs "
            f"{', '.join(f'{r:.2f}' for r in ratios)} × the ordered strategy's training "
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
    workers: int = 1,
    scheduler: str | os.PathLike | None = None,
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
      ``head_epochs`` on the frozen base, then pruned to the target in as many rounds as the
      base network took to reach it (:func:`eelib.prune_heads`): the paper's rule, which it
      applies with 20 rounds for each (the number of rounds here is ``prune_steps`` per target).

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
        workers: worker processes of a Dask ``LocalCluster`` to share the (seed, strategy)
            tasks out to (:func:`eelib.cluster.run_tasks`), each with its share of the CPU
            threads (2 workers of 1 thread each do more on 2 cores than 1 of 2 threads), or one
            GPU each on CUDA (:func:`eelib.cluster.worker_device`); their pieces meet in
            ``checkpoints`` (a temporary folder if None), where this process then reads them.
            The numbers of a piece can differ in the last bits with the number of threads it
            ran on, so resume a run with the workers it started with.
        scheduler: a running Dask scheduler (address or scheduler file) whose workers do the
            tasks instead, one GPU each on CUDA (workers started with ``--resources GPU=1``).
            ``checkpoints`` must then be a folder every worker and this machine see (a shared
            file system), and so must the data (``root``). ``device`` is the workers' (default
            ``"cuda"``) and is checked on them; this process only reads the pieces back, on
            the CPU.
        **settings: other profile settings to override (``train_epochs=1``…).

    Returns:
        The results table (:mod:`eelib.results`), one row per (strategy, sparsity, seed,
        threshold); ``strategy`` is ``"dense"``, ``"all-at-once"`` or ``"ordered"``, ``sparsity``
        the target (0 for dense). ``.attrs["metadata"]`` holds the metadata.

    Raises:
        ValueError: any bad setting (see :func:`eelib.profiles.validate`), an unknown or absent
            device, or unmatched compute — all checked before training starts (the settings and
            the device before any data is loaded); a scheduler without ``checkpoints`` or that
            cannot be reached; pieces the workers wrote where this process cannot read them.
        FileNotFoundError: the dataset is not on disk (see :func:`eelib.load_dataset`).
        FileExistsError: ``out`` exists and ``overwrite`` is False.

    Warns:
        UserWarning: bfloat16 training on a CPU without bfloat16 instructions
            (:func:`eelib.training.cpu_has_bfloat16`), where float32 is several times faster.
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
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if scheduler is not None:
        # checked for its form here, for real on the workers
        device = str(parse_device(device or "cuda", "cuda, cuda:N or cpu"))
        here = torch.device("cpu")
        if checkpoints is None:
            raise ValueError(
                "a run on a Dask scheduler's workers needs checkpoints: a folder every worker "
                "and this machine see (a shared file system), where they leave their pieces"
            )
    else:
        device = here = check_device(device)
        if config.precision == "bfloat16" and device.type == "cpu" and not cpu_has_bfloat16():
            warnings.warn(
                "this CPU has no bfloat16 instructions (AVX512-BF16 or AMX), so bfloat16 training "
                "runs 6-12x slower than float32 here; set precision='float32' "
                "(--set precision=float32) unless the numbers must match a bfloat16 run",
                stacklevel=2,
            )
    shared = workers > 1 or scheduler is not None
    start = time.perf_counter()
    with _folder(checkpoints, shared) as folder:
        # here first: the settings' compute is matched and a download happens once
        study = _prepare(config, root, download, here, folder, progress, device, shared)
        remote = []
        if shared:
            if root is None and download:
                root = default_download_folder(None)  # where the download went
            remote = _in_workers(config, root, device, folder, workers, scheduler, progress)
        for seed in study.config.seeds:
            for run in STRATEGY_RUNS.values():
                run(study, seed)
        study.pieces.close()
    results = pd.concat(study.pieces.rows, ignore_index=True)
    results.attrs["metadata"] = _metadata(study, start, workers, scheduler, remote)
    if out is not None:
        save_results(results, out, overwrite=overwrite)
    return results


@dataclass
class _Study:
    """Everything one run's pieces share: settings, data, the checkpoint store."""

    config: Profile
    train_set: ImageDataset
    val_set: ImageDataset
    test_set: ImageDataset
    device: torch.device
    compute: pd.DataFrame
    key: str
    pieces: _Pieces

    @property
    def fit(self) -> dict:
        """Keyword arguments of every training call (:func:`eelib.train`; the learning rate
        aside): the profile's optimiser, augmentation, loader and ``lr_schedule``."""
        c = self.config
        return {
            **c.training(),
            "device": self.device,
            "progress": False,
            "schedule": c.lr_schedule,
        }

    @property
    def tune(self) -> dict:
        """Keyword arguments of every fine-tuning call: ``finetune_lr``, ``finetune_schedule``."""
        c = self.config
        return {**self.fit, "lr": c.finetune_lr, "schedule": c.finetune_schedule}

    @property
    def heads(self) -> dict:
        """Keyword arguments of the exit heads' training on the frozen base (strategy 2)."""
        c = self.config
        return {**self.fit, "lr": c.head_lr or c.lr, "optimizer": c.head_optimizer or c.optimizer}

    def network(self, seed: int) -> EarlyExitNetwork:
        shape, classes = self.train_set.image_shape, len(self.train_set.classes)
        return build_model(self.config, seed, shape[0], classes).to(self.device)


@functools.lru_cache(maxsize=2)
def _data(name: str, root, download: bool, val_size: int):
    train_set, val_set = validation_split(
        load_dataset(name, "train", root=root, download=download), val_size
    )
    return train_set, val_set, load_dataset(name, "test", root=root, download=download)


def _prepare(
    config: Profile,
    root,
    download,
    device,
    checkpoints,
    progress: bool,
    key_device=None,
    restore_only: bool = False,
) -> _Study:
    """Load the data, match the compute budgets, open the checkpoint store.

    ``key_device``: the device the pieces were made on, for their hash (default ``device``);
    ``restore_only``: every piece must be in the store (workers made them)."""
    train_set, val_set, test_set = _data(config.dataset, root, download, config.val_size)
    probe = build_model(config, 0, train_set.image_shape[0], len(train_set.classes))
    joint_epochs, compute = compute_budget(config, probe, train_set.image_shape, len(train_set))
    config = config.replace(
        joint_epochs=joint_epochs, head_epochs=config.head_epochs or config.train_epochs
    )
    key = config_hash(config, torch.device(key_device or device))
    thresholds = np.linspace(0.0, 1.0, config.thresholds)
    pieces = _Pieces(
        Checkpoints(checkpoints, key),
        lambda model: evaluate(model, test_set, thresholds, device, val_set),
        total=len(config.seeds) * (3 + 3 * len(config.sparsities)),
        progress=progress and not restore_only,
        restore_only=restore_only,
    )
    return _Study(config, train_set, val_set, test_set, device, compute, key, pieces)


def all_at_once(study: _Study, seed: int) -> None:
    """Strategy 1 for one seed: joint training, the fine-tuned dense reference, the trajectory.

    From each target to the next, :func:`eelib.prune_all_at_once` continues the jointly trained
    network's trajectory in ``prune_steps`` rounds; the network is recorded at every target.
    """
    c, train_set, pieces = study.config, study.train_set, study.pieces
    p, F, start = c.prune_steps, c.finetune_epochs, 0.0
    joint = pieces.run(
        seed,
        "joint",
        study.network(seed),
        lambda m: train(m, train_set, c.joint_epochs, "all", c.lr, seed=seed, **study.fit),
    )
    pieces.run(
        seed,
        "dense",
        copy.deepcopy(joint),
        lambda m: train(m, train_set, _rounds(c) * F, "all", seed=seed + 1, **study.tune),
        record="dense",
    )
    for i, target in enumerate(c.sparsities):
        pieces.run(
            seed,
            f"all-at-once@{target}",
            joint,
            lambda m: prune_all_at_once(
                m, train_set, target, start, p, F, seed + 1 + i * p, **study.tune
            ),
            record="all-at-once",
            target=target,
        )
        start = target


def ordered(study: _Study, seed: int) -> None:
    """Strategy 2 for one seed: the base network's training, then its trajectory.

    From each target to the next, :func:`eelib.prune_base` continues the base network's
    trajectory in ``prune_steps`` rounds; at each target a copy gets its exit heads trained on
    the frozen base (:func:`eelib.train`; ``head_epochs``, or until the validation accuracy
    stops improving with ``head_patience``, recorded as ``head_epochs_trained``) and pruned to the target (:func:`eelib.prune_heads`) in
    as many rounds as the base network took to get there (the paper: 20 rounds for each), and is
    recorded.
    """
    c, train_set, pieces = study.config, study.train_set, study.pieces
    p, F, start = c.prune_steps, c.finetune_epochs, 0.0
    heads_seed = seed + _rounds(c) + 1
    base_net = pieces.run(
        seed,
        "base",
        study.network(seed),
        lambda m: train(m, train_set, c.train_epochs, "base", c.lr, seed=seed, **study.fit),
    )
    for i, target in enumerate(c.sparsities):
        pieces.run(
            seed,
            f"base@{target}",
            base_net,
            lambda m: prune_base(m, train_set, target, start, p, F, seed + 1 + i * p, **study.tune),
        )

        def heads(m, target=target, rounds=(i + 1) * p):
            early = {"validation": study.val_set, "patience": c.head_patience}
            epochs = train(
                m, train_set, c.head_epochs, "exits", seed=heads_seed, **early, **study.heads
            )
            prune_heads(m, train_set, target, 0.0, rounds, F, heads_seed + 1, **study.tune)
            return {"head_epochs_trained": len(epochs)}

        pieces.run(seed, f"ordered@{target}", copy.deepcopy(base_net), heads, "ordered", target)
        start = target


STRATEGY_RUNS = {"all-at-once": all_at_once, "ordered": ordered}
"""One seed's work for each strategy; the two are independent, so workers can share them out."""


@contextlib.contextmanager
def _folder(checkpoints, shared: bool):
    """The checkpoint folder, absolute (workers may start elsewhere); a temporary one when
    workers must hand pieces back and none is set."""
    if checkpoints is not None or not shared:
        yield None if checkpoints is None else os.path.abspath(checkpoints)
        return
    with tempfile.TemporaryDirectory(prefix="eelib-pieces-") as folder:
        yield folder


def _in_workers(config: Profile, root, device, folder, workers: int, scheduler, progress) -> list:
    """Do every (seed, strategy) on Dask workers (:func:`eelib.cluster.run_tasks`): a local
    cluster of ``workers`` processes, each with its share of the threads, or the workers of
    ``scheduler``. Each stores its finished pieces in ``folder``; the caller then reads them
    all. Returns what each task reported (:func:`_work`)."""
    threads = None if scheduler is not None else max(1, torch.get_num_threads() // workers)
    root = None if root is None else os.path.abspath(root)
    tasks = [  # all at once trains longer (the dense reference too): its tasks go first
        (config, root, False, str(device), folder, threads, seed, name)
        for name in STRATEGY_RUNS
        for seed in config.seeds
    ]
    gpu = torch.device(device).type == "cuda"
    return run_tasks(_work, tasks, workers, scheduler, gpu=gpu, progress=progress)


def _work(task) -> dict:
    """One (seed, strategy) task on a worker: its pieces, done or restored, left in the folder.
    Returns how many it restored and the machine it ran on."""
    config, root, download, device, folder, threads, seed, name = task
    if config.loader_workers and multiprocessing.current_process().daemon:
        raise ValueError(
            f"loader_workers={config.loader_workers} needs Dask workers that may start "
            "processes: start them with DASK_DISTRIBUTED__WORKER__DAEMON=False in their "
            "environment, or --set loader_workers=0"
        )
    if threads:
        torch.set_num_threads(threads)
    device = check_device(worker_device(device))
    study = _prepare(config, root, download, device, folder, progress=False)
    STRATEGY_RUNS[name](study, seed)
    return {"resumed": study.pieces.resumed, "machine": _machine(device)}


def _rounds(config: Profile) -> int:
    """Pruning rounds along a whole trajectory (to the last target)."""
    return config.prune_steps * len(config.sparsities)


class _Pieces:
    """Does each piece of a run — or restores it from the checkpoints — and keeps its rows."""

    def __init__(
        self,
        store: Checkpoints,
        evaluate_model,
        total: int,
        progress: bool,
        restore_only: bool = False,
    ):
        self.store, self.evaluate, self.restore_only = store, evaluate_model, restore_only
        self.rows, self.seconds, self.resumed = [], 0.0, 0
        self.bar = tqdm(total=total, desc="pieces", disable=not progress)

    def run(self, seed: int, name: str, model, work, record: str | None = None, target=0.0):
        """Restore piece ``name`` into ``model``, or do ``work(model)`` and store it; return the
        model. A recorded piece (``record`` = its strategy) adds the model's rows at ``target``,
        with the run-level columns ``work`` may return as a dict."""
        done = self.store.load(seed, name, model)
        if done is not None:
            took, rows = done
            self.resumed += 1
        elif self.restore_only:
            raise ValueError(
                f"piece {name} of seed {seed} is not in {self.store.folder}, where the workers "
                "were to leave it: give checkpoints a folder that they and this machine share"
            )
        else:
            began = time.perf_counter()
            extra = work(model)  # a dict of run-level columns, or what train returned
            extra = extra if isinstance(extra, dict) else {}
            rows = None
            if record is not None:
                rows = self.evaluate(model).assign(**extra)
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


def _metadata(study: _Study, start: float, workers: int, scheduler, remote: list) -> dict:
    config, pieces, device = study.config, study.pieces, study.device
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
            "exit-head training epochs at each target (ordered)": (
                f"until the validation accuracy stops improving for {config.head_patience} "
                f"epochs, at most {config.head_epochs} (column head_epochs_trained)"
                if config.head_patience
                else config.head_epochs
            ),
            "heads-only epochs in the compute matching": config.heads_compute,
            "pruning rounds from one target to the next": p,
            "exit-head pruning rounds (ordered)": "as many as the base network took to reach "
            f"the target: {p} per target passed",
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
            "per_target": study.compute.to_dict(orient="records"),
        },
        "seeds": list(config.seeds),
        "config_hash": study.key,
        "versions": _versions(),
        "machine": _machine(device),
        "compute_time_s": round(pieces.seconds, 1),
        "resumed_pieces": sum(r["resumed"] for r in remote) if remote else pieces.resumed,
        "workers": workers,
        **({"scheduler": str(scheduler)} if scheduler is not None else {}),
        **({"worker_machines": _distinct([r["machine"] for r in remote])} if remote else {}),
        "train_images": len(study.train_set),
        "validation_images": len(study.val_set),
        "test_images": len(study.test_set),
        "wall_time_s": round(time.perf_counter() - start, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

"""The study end to end: train, prune both ways, sweep the exit threshold, collect the results.

For each seed, one network is trained jointly (strategy 1's start and, fine-tuned, the dense
reference) and one base network alone (strategy 2's start); each is pruned along one trajectory
through every target sparsity, recorded on the way (Görmez & Koyuncu, 2022, §3–4; the book's
chapter 5). Both strategies get matched training compute (:func:`eelib.costs.compute_budget`);
finished pieces can be kept to resume (:mod:`eelib.checkpoints`) and shared out to Dask workers
(:mod:`eelib.cluster`); the metadata says where the numbers come from (:mod:`eelib.provenance`).
"""

from __future__ import annotations

import copy
import functools
import multiprocessing
import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from . import arguments
from .checkpoints import Checkpoints, Pieces, config_hash
from .cluster import pieces_folder, run_strategies, worker_device
from .costs import compute_budget  # its home is costs; importable here too
from .data import ImageDataset, default_download_folder, load_dataset, validation_split
from .devices import check_device, parse_device
from .evaluation import evaluate
from .models import EarlyExitNetwork
from .profiles import Profile, build_model, get_profile, validate
from .provenance import cpu_model, machine, metadata  # noqa: F401 (cpu_model importable here)
from .pruning import prune_all_at_once, prune_base, prune_heads
from .results import check_out, save_results
from .training import cpu_has_bfloat16, train


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
      in one global pool along one trajectory — ``prune_rounds`` rounds of (prune +
      ``finetune_epochs`` of joint fine-tuning) from each target to the next — recorded at every
      target on the way;
    - **ordered**: the base network trained for ``train_epochs``, pruned along its own trajectory
      (:func:`eelib.prune_base`); at each target a copy gets its exit heads trained for
      ``head_epochs`` on the frozen base, then pruned to the target in as many rounds as the
      base network took to reach it (:func:`eelib.prune_heads`): the paper's rule, which it
      applies with 20 rounds for each (the number of rounds here is ``prune_rounds`` per target).

    ``joint_epochs`` is chosen so both strategies' training compute agrees within 10 % at every
    target (:func:`eelib.costs.compute_budget`). Curves are swept on the test set;
    ``val_accuracy`` and ``val_flops`` give the same thresholds on the validation split to choose
    operating points on.

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
    arguments.integer(workers, "workers")
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
                "is emulated and much slower than float32 here "
                "(benchmarks/training_throughput.csv); set precision='float32' "
                "(--set precision=float32) unless the numbers must match a bfloat16 run",
                stacklevel=2,
            )
    shared = workers > 1 or scheduler is not None
    start = time.perf_counter()
    with pieces_folder(checkpoints, shared) as folder:
        # here first: the settings' compute is matched and a download happens once
        study = _prepare(
            config,
            root=root,
            download=download,
            device=here,
            checkpoints=folder,
            progress=progress,
            key_device=device,
            restore_only=shared,
        )
        remote = []
        if shared:
            if root is None and download:
                root = default_download_folder(None)  # where the download went
            # all at once trains longer (the dense reference too): its tasks go first
            names = tuple(STRATEGY_RUNS)
            remote = run_strategies(
                _work, config, names, root, device, folder, workers, scheduler, progress
            )
        for seed in study.config.seeds:
            for run in STRATEGY_RUNS.values():
                run(study, seed)
        study.pieces.close()
    results = pd.concat(study.pieces.rows, ignore_index=True)
    sizes = len(study.train_set), len(study.val_set), len(study.test_set)
    results.attrs["metadata"] = metadata(
        study.config,
        compute=study.compute,
        key=study.key,
        device=study.device,
        images=sizes,
        seconds=study.pieces.seconds,
        resumed=study.pieces.resumed,
        start=start,
        workers=workers,
        scheduler=scheduler,
        remote=remote,
    )
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
    pieces: Pieces

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
    def head_training(self) -> dict:
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
    *,
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
    pieces = Pieces(
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
    network's trajectory in ``prune_rounds`` rounds; the network is recorded at every target.
    """
    c, train_set, pieces = study.config, study.train_set, study.pieces
    F, start = c.finetune_epochs, 0.0
    joint = pieces.run(
        seed,
        "joint",
        study.network(seed),
        lambda m: train(m, train_set, c.joint_epochs, scope="all", lr=c.lr, seed=seed, **study.fit),
    )
    pieces.run(
        seed,
        "dense",
        copy.deepcopy(joint),
        lambda m: train(m, train_set, _rounds(c) * F, scope="all", seed=seed + 1, **study.tune),
        record="dense",
    )
    for i, sparsity in enumerate(c.sparsities):
        pieces.run(
            seed,
            f"all-at-once@{sparsity}",
            joint,
            lambda m: prune_all_at_once(
                m, train_set, sparsity, **_leg(c, seed, start, i), **study.tune
            ),
            record="all-at-once",
            sparsity=sparsity,
        )
        start = sparsity


def ordered(study: _Study, seed: int) -> None:
    """Strategy 2 for one seed: the base network's training, then its trajectory.

    From each target to the next, :func:`eelib.prune_base` continues the base network's
    trajectory in ``prune_rounds`` rounds; at each target a copy gets its exit heads trained on
    the frozen base (:func:`eelib.train`; ``head_epochs``, or until the validation accuracy
    stops improving with ``head_patience``, recorded as ``head_epochs_trained``) and pruned to
    the target (:func:`eelib.prune_heads`) in as many rounds as the base network took to get
    there (the paper: 20 rounds for each), and is recorded.
    """
    c, train_set, pieces = study.config, study.train_set, study.pieces
    p, F, start = c.prune_rounds, c.finetune_epochs, 0.0
    heads_seed = seed + _rounds(c) + 1
    base_net = pieces.run(
        seed,
        "base",
        study.network(seed),
        lambda m: train(
            m, train_set, c.train_epochs, scope="base", lr=c.lr, seed=seed, **study.fit
        ),
    )
    for i, sparsity in enumerate(c.sparsities):
        pieces.run(
            seed,
            f"base@{sparsity}",
            base_net,
            lambda m: prune_base(m, train_set, sparsity, **_leg(c, seed, start, i), **study.tune),
        )

        def heads(m, sparsity=sparsity, rounds=(i + 1) * p):
            early = {"validation": study.val_set, "patience": c.head_patience}
            epochs = train(
                m,
                train_set,
                c.head_epochs,
                scope="exits",
                seed=heads_seed,
                **early,
                **study.head_training,
            )
            tune = {"finetune_epochs": F, "seed": heads_seed + 1, **study.tune}
            prune_heads(m, train_set, sparsity, start=0.0, rounds=rounds, **tune)
            return {"head_epochs_trained": len(epochs)}

        pieces.run(seed, f"ordered@{sparsity}", copy.deepcopy(base_net), heads, "ordered", sparsity)
        start = sparsity


STRATEGY_RUNS = {"all-at-once": all_at_once, "ordered": ordered}
"""One seed's work for each strategy; the two are independent, so workers can share them out."""


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
    study = _prepare(
        config, root=root, download=download, device=device, checkpoints=folder, progress=False
    )
    STRATEGY_RUNS[name](study, seed)
    return {"resumed": study.pieces.resumed, "machine": machine(device)}


def _rounds(config: Profile) -> int:
    """Pruning rounds along a whole trajectory (to the last target)."""
    return config.prune_rounds * len(config.sparsities)


def _leg(config: Profile, seed: int, start: float, i: int) -> dict:
    """Keyword arguments of a trajectory's pruning from ``start`` to its i-th target (from 0):
    ``prune_rounds`` rounds of ``finetune_epochs``, the first round's seed after the i·p before."""
    p, F = config.prune_rounds, config.finetune_epochs
    return {"start": start, "rounds": p, "finetune_epochs": F, "seed": seed + 1 + i * p}

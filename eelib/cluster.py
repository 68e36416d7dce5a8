"""Pieces of a run on Dask workers: worker processes on this machine, or a cluster's.

:func:`eelib.run_experiment` cuts a run into independent (seed, strategy) tasks; with
``workers > 1`` or a ``scheduler`` they go to Dask (``distributed``, :func:`run_strategies`), one
task at a time per worker, each worker storing its finished pieces in the checkpoint folder the
tasks share (:func:`pieces_folder`, :mod:`eelib.checkpoints`). Dask was chosen over Ray
(``results/README.md``, "The `paper` profile", gives the commands for several GPUs and a SLURM
cluster): its ``distributed`` package is pure Python (a few MB, no server binaries), runs the
same code on a ``LocalCluster`` of processes and on a cluster, gives a task a GPU through worker
resources (``--resources GPU=1``), starts on SLURM through ``dask-jobqueue`` or a scheduler file,
and does a lost worker's tasks again on another worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

GPU = "GPU"
"""The worker resource a GPU task asks for: start GPU workers with ``--resources GPU=1``."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "sharing a run among workers needs Dask: pip install 'dask[distributed]' "
            "(or run with --workers 1)"
        ) from None
    return distributed


def run_tasks(
    work: Callable,
    tasks: Sequence,
    workers: int = 2,
    scheduler: str | os.PathLike | None = None,
    gpu: bool = False,
    progress: bool = True,
) -> list:
    """``[work(task) for task in tasks]``, each call a Dask task on a worker of its own.

    Args:
        work: a function of one task, importable on the workers (a module-level function; it
            and the tasks are pickled).
        tasks: the tasks, in the order their results are returned.
        workers: with no ``scheduler``, the worker processes of a ``distributed.LocalCluster``
            started here and closed at the end, one thread each; with ``gpu`` each offers the
            resource ``GPU=1``.
        scheduler: a running Dask scheduler's address (``tcp://host:8786``) or the path of its
            scheduler file (``dask scheduler --scheduler-file``, what SLURM jobs share); its
            workers do the tasks and are left running.
        gpu: every task asks for the worker resource ``GPU=1``, so a worker started with
            ``--resources GPU=1`` runs one task at a time (:func:`worker_device` picks its GPU).
        progress: a progress bar over the tasks.

    Returns:
        The results of ``work``, in the order of ``tasks``.

    A worker lost midway (killed, out of memory, its node gone) takes its unfinished tasks with
    it; the scheduler gives them to another worker (``LocalCluster`` restarts the lost one), so
    the run finishes; a task that brings down workers more than Dask's
    ``distributed.scheduler.allowed-failures`` times (3) fails the run. A task restarted from
    the beginning finds the pieces it had finished in the checkpoint folder.

    Raises:
        ValueError: Dask is not installed; the scheduler cannot be reached; ``gpu`` and none of
            the scheduler's workers offers the resource GPU.
        Exception: the first error a task raised, as it was raised on the worker.
    """
    distributed = _distributed()
    with _client(distributed, workers, scheduler, gpu) as client:
        if gpu and scheduler is not None:
            _check_gpu_workers(client, scheduler)
        futures = client.map(work, list(tasks), pure=False, resources={GPU: 1} if gpu else None)
        done = distributed.as_completed(futures)
        for future in tqdm(done, total=len(futures), desc="seed × strategy", disable=not progress):
            future.result()  # the first error stops the run
        return [future.result() for future in futures]


@contextlib.contextmanager
def _client(distributed, workers: int, scheduler, gpu: bool):
    if scheduler is None:
        with local_cluster(workers, gpu) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    where = str(scheduler)
    as_file = where.endswith(".json") or Path(where).is_file()
    try:
        # waits for it up to Dask's distributed.comm.timeouts.connect (30 s)
        client = distributed.Client(scheduler_file=where) if as_file else distributed.Client(where)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"cannot reach the Dask scheduler at {where!r} ({reason[:120]}); start one with "
            "`dask scheduler` (or --scheduler-file FILE) and give its address or file"
        ) from None
    with client:
        yield client


@contextlib.contextmanager
def local_cluster(workers: int, gpu: bool = False):
    """A ``distributed.LocalCluster`` of ``workers`` processes, one thread each, for training.

    Two of Dask's defaults are changed while it runs: its worker processes are not daemonic, so
    a task may start ``DataLoader`` workers (``loader_workers`` > 0), and they start without
    Dask's ``MALLOC_TRIM_THRESHOLD_=65536``, which made training 1.5× slower in them (measured
    here: 15 s for a piece that takes 9 s in one process). Both settings are read whenever a
    worker (re)starts, so they hold until the cluster is closed. With ``gpu`` each worker offers
    the resource ``GPU=1``. No dashboard.

    Yields:
        The cluster; pass it to ``distributed.Client``, or its ``scheduler_address`` to
        :func:`run_tasks` as ``scheduler``.
    """
    distributed = _distributed()
    import dask

    environ = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
    environ = {k: v for k, v in environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    settings = {"distributed.worker.daemon": False, "distributed.nanny.pre-spawn-environ": environ}
    with dask.config.set(settings):
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            resources={GPU: 1} if gpu else None,
        )
        with cluster:
            yield cluster


def _check_gpu_workers(client, scheduler) -> None:
    """Refuse a GPU run on a scheduler whose workers (if any are up yet) offer no GPU."""
    workers = client.scheduler_info().get("workers", {})
    if workers and not any(w.get("resources", {}).get(GPU) for w in workers.values()):
        raise ValueError(
            f"none of the {len(workers)} workers of the Dask scheduler at {str(scheduler)!r} "
            "offers the resource GPU, so the tasks would wait for ever; start GPU workers with "
            "`dask worker ADDRESS --nworkers 1 --nthreads 1 --resources GPU=1` (one per GPU), "
            "or pass --device cpu"
        )


def worker_device(device: str) -> str:
    """The CUDA device a task should use on this Dask worker.

    ``"cuda"`` on a worker that sees several GPUs becomes ``"cuda:i"``, i the number that ends
    the worker's name modulo the GPUs it sees: ``LocalCluster(n_workers=G)`` names its workers
    0, …, G − 1, and dask-jobqueue's with several processes per job end in -0, -1, …, so G
    workers on a machine with G GPUs use one each. A worker that sees one GPU (SLURM's
    ``--gpus-per-task=1``, or ``CUDA_VISIBLE_DEVICES`` set for it) uses that one. Any other
    device, or a call outside a worker, is returned as it is.
    """
    if device != "cuda":
        return device
    import torch

    count = torch.cuda.device_count()
    if count <= 1:
        return device
    try:
        name = _distributed().get_worker().name
    except ValueError:  # not on a worker
        return device
    number = re.search(r"(\d+)$", str(name))
    return f"cuda:{int(number.group(1)) % count}" if number else device


@contextlib.contextmanager
def pieces_folder(checkpoints: str | os.PathLike | None, shared: bool):
    """The folder a run keeps its pieces in, absolute: workers may start in another folder.

    Args:
        checkpoints: the ``checkpoints`` folder given to :func:`eelib.run_experiment`, or None.
        shared: workers do the pieces and hand them back through the folder.

    Yields:
        ``checkpoints`` as an absolute path (a ``str``); with None, a temporary folder (removed
        on leaving) when ``shared``, else None: nothing is stored.
    """
    if checkpoints is not None or not shared:
        yield None if checkpoints is None else os.path.abspath(checkpoints)
        return
    with tempfile.TemporaryDirectory(prefix="eelib-pieces-") as folder:
        yield folder


def run_strategies(
    work: Callable,
    config,
    strategies: Sequence[str],
    root,
    device,
    folder: str,
    workers: int,
    scheduler: str | os.PathLike | None = None,
    progress: bool = True,
) -> list:
    """Do every (seed, strategy) of a run on Dask workers (:func:`run_tasks`).

    One task per strategy and seed, all of a strategy's seeds before the next strategy's (give
    the one that trains longest first): ``work`` gets the tuple ``(config, root, False, device,
    folder, threads, seed, strategy)`` — ``root`` absolute, ``False`` for ``download`` (the
    caller downloaded the data already), ``device`` as a ``str``, ``threads`` each worker's
    share of this process's torch threads on a local cluster of ``workers`` processes (None on
    a ``scheduler``'s workers, which keep theirs) — and leaves its finished pieces in
    ``folder``, where the caller then reads them all.

    Args:
        work: a module-level function of one task (see :func:`run_tasks`).
        config: the run's validated settings (a :class:`eelib.profiles.Profile`; its ``seeds``).
        strategies: the strategies' names.
        root: the dataset folder (:func:`eelib.load_dataset`), or None.
        device: the workers' device (``"cpu"``, ``"cuda"``…); a CUDA one asks for a worker
            resource GPU per task (:func:`worker_device` picks it).
        folder: the checkpoint folder every worker and the caller see
            (:func:`pieces_folder`).
        workers, scheduler, progress: as in :func:`run_tasks`.

    Returns:
        What ``work`` returned for each task, in the order above.

    Raises:
        ValueError: as :func:`run_tasks`.
        Exception: the first error a task raised.
    """
    import torch

    threads = None if scheduler is not None else max(1, torch.get_num_threads() // workers)
    root = None if root is None else os.path.abspath(root)
    tasks = [
        (config, root, False, str(device), folder, threads, seed, name)
        for name in strategies
        for seed in config.seeds
    ]
    gpu = torch.device(device).type == "cuda"
    return run_tasks(work, tasks, workers, scheduler, gpu=gpu, progress=progress)

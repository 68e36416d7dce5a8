"""Batch-1 CPU latency of each exit against its FLOPs, dense and pruned, for the `full` network.

Usage: ``python benchmarks/exit_latency.py [--sparsity 0.9] [--channels 0.5] [--out ...csv]``

How much of a FLOPs saving becomes time? The `full` profile's network (``--profile``) is measured with
``eelib.exit_latency`` (``torch.utils.benchmark``, one thread, batch 1) three ways: dense;
pruned all at once to ``--sparsity`` by global magnitude (unstructured: zeros in dense kernels);
and with ``--channels`` of the channels removed by ``eelib.structured_prune``.
Weights are those of a freshly initialised network: latency does not depend on their values,
only on the shapes, which pruning sets. Prints a table (FLOPs counted from the masks, median
milliseconds, and both as speed-ups over the dense final exit) and writes it as CSV.
"""

from __future__ import annotations

import argparse
import copy
import platform
from pathlib import Path

import pandas as pd
import torch

import eelib

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (1, 28, 28)


def measure(name: str, model, flops) -> pd.DataFrame:
    table = eelib.exit_latency(model, SHAPE, threads=1, min_run_time=1.0)
    table.insert(0, "network", name)
    table.insert(2, "mflops", [round(f / 1e6, 3) for f in flops.tolist()])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsity", type=float, default=0.9, help="unstructured, fraction")
    parser.add_argument("--channels", type=float, default=0.5, help="structured, fraction")
    parser.add_argument("--profile", default="full", help="whose network to measure")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "exit_latency.csv"))
    args = parser.parse_args()
    dense = eelib.build_model(args.profile, seed=0).eval()
    unstructured = copy.deepcopy(dense)
    eelib.global_magnitude_prune(unstructured, args.sparsity, "all")
    flops_unstructured = eelib.exit_costs(unstructured, SHAPE)  # counted from the masks
    eelib.remove_masks(unstructured)
    structured = eelib.structured_prune(copy.deepcopy(dense), args.channels, SHAPE)
    table = pd.concat(
        [
            measure("dense", dense, eelib.exit_costs(dense, SHAPE)),
            measure(f"unstructured {args.sparsity:.0%}", unstructured, flops_unstructured),
            measure(
                f"structured {args.channels:.0%} channels",
                structured,
                eelib.exit_costs(structured, SHAPE),
            ),
        ],
        ignore_index=True,
    )
    final = table[(table["network"] == "dense")].iloc[-1]
    table["flops_speedup"] = (final["mflops"] / table["mflops"]).round(2)
    table["time_speedup"] = (final["median_ms"] / table["median_ms"]).round(2)
    table["median_ms"] = table["median_ms"].round(3)
    table["iqr_ms"] = table["iqr_ms"].round(3)
    print(table.to_string(index=False))
    machine = f"# {platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}, 1 thread, batch 1"
    Path(args.out).write_text(machine + "\n" + table.to_csv(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Time of one threshold sweep: 1,001 confidence thresholds × 10,000 samples × K exits, one core.

Usage: ``python benchmarks/threshold_sweep.py [--out benchmarks/threshold_sweep.csv]``

``eelib.tradeoff_curve`` is what every trade-off curve, the explorer and the experiments call; a
sweep must stay well under a slider's redraw budget. Probabilities are random softmax outputs
(the sweep's cost does not depend on their values). Timed with ``torch.utils.benchmark`` on one
thread; prints a table (median and interquartile range, milliseconds) and writes it as CSV with the
machine in a comment line.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils import benchmark

from eelib import tradeoff_curve

ROOT = Path(__file__).resolve().parents[1]


def measure(exits: int, samples: int = 10_000, thresholds: int = 1_001) -> dict:
    generator = torch.Generator().manual_seed(0)
    probs = torch.randn(exits, samples, 10, generator=generator).softmax(-1)
    labels = torch.randint(0, 10, (samples,), generator=generator)
    costs = torch.linspace(1e6, 1e7, exits, dtype=torch.float64)
    taus = np.linspace(0.0, 1.0, thresholds)
    timer = benchmark.Timer(
        stmt="tradeoff_curve(probs, labels, costs, taus)",
        num_threads=1,
        globals={
            "tradeoff_curve": tradeoff_curve,
            "probs": probs,
            "labels": labels,
            "costs": costs,
            "taus": taus,
        },
    )
    measured = timer.blocked_autorange(min_run_time=2.0)
    return {
        "exits": exits,
        "samples": samples,
        "thresholds": thresholds,
        "median_ms": round(1e3 * measured.median, 2),
        "iqr_ms": round(1e3 * measured.iqr, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "threshold_sweep.csv"))
    args = parser.parse_args()
    table = pd.DataFrame([measure(k) for k in (3, 6, 7)])
    print(table.to_string(index=False))
    machine = f"# {platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}, 1 thread"
    Path(args.out).write_text(machine + "\n" + table.to_csv(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

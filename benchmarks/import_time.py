"""Time of ``import eelib`` in a fresh interpreter, beside ``import torch`` alone.

Usage: ``python benchmarks/import_time.py [--runs 7] [--out benchmarks/import_time.csv]``

Every notebook's first cell imports eelib; the target is at most 1.5 s on the course's 2-core
machine. eelib's submodules load on first use (``lazy_loader``), so ``import eelib.experiment``,
the runner with everything it needs (torch, pandas), is timed too. Each run starts a new Python process (nothing cached in memory but the OS's file cache;
one warm-up run first) and times the import inside it with ``time.perf_counter``. Prints the
median and the range over the runs, in seconds, and writes them as CSV with the machine in a
comment line.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def seconds(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def measure(module: str, runs: int) -> dict:
    seconds(module)  # warm the file cache
    times = [seconds(module) for _ in range(runs)]
    return {
        "import": module,
        "runs": runs,
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "import_time.csv"))
    args = parser.parse_args()
    table = pd.DataFrame([measure(m, args.runs) for m in ("torch", "eelib", "eelib.experiment")])
    print(table.to_string(index=False))
    machine = (
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"measured by benchmarks/import_time.py"
    )
    Path(args.out).write_text(machine + "\n" + table.to_csv(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

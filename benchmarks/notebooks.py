"""Wall time and peak memory of every course notebook, each executed on a fresh kernel.

Usage: ``python benchmarks/notebooks.py [--out benchmarks/notebooks.csv] [NOTEBOOK ...]``

Each notebook runs through ``jupyter nbconvert --execute`` in its own process tree; the peak
resident memory is the largest of that tree (the kernel, in practice), read from
``getrusage(RUSAGE_CHILDREN)`` in a fresh interpreter per notebook. Prints a table and writes it as
CSV with the machine in a comment line. Binder gives 2 GB: the table says how much of it is used.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from eelib.provenance import cpu_model

ROOT = Path(__file__).resolve().parents[1]
MEASURE = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                "--ExecutePreprocessor.timeout=900", "--output", sys.argv[2], sys.argv[1]],
               check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
"""


def measure(notebook: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", MEASURE, str(notebook), str(Path(tmp) / "out.ipynb")],
            capture_output=True,
            text=True,
            cwd=notebook.parent,
        )
        wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{notebook.name} failed:\n{run.stderr[-3000:]}")
    return {
        "notebook": notebook.stem,
        "wall time (s)": round(wall, 1),
        "peak memory (MB)": round(int(run.stdout.split()[-1]) / 1024),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "notebooks.csv")
    args = parser.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    rows = []
    for notebook in notebooks:
        rows.append(measure(notebook))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    machine = (
        f"{cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, profile {os.environ.get('EELIB_PROFILE', 'fast')}"
    )
    print(f"\n{machine}\n{table.to_string(index=False)}")
    with args.out.open("w") as f:
        f.write(f"# {machine}; measured {time.strftime('%Y-%m-%d')} by benchmarks/notebooks.py\n")
        table.to_csv(f, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

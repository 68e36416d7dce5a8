"""Training throughput: images per second of each training phase, per network and precision.

Usage: ``python benchmarks/training_throughput.py [--images 2560] [--out ...csv]``

Each phase is one epoch of :func:`eelib.train` (or one pass of :func:`eelib.predict_all_exits`)
over ``--images`` random 1×28×28 images, batch 128, on every core the machine gives PyTorch:
joint training (``scope="all"``), the base network alone (``"base"``), the exit heads on a frozen
base with their inputs cached (the default) and without the cache, and evaluation (always
float32). Networks: the ``fast`` profile's CNN, the ``full`` profile's residual network and the
``paper`` profile's ResNet-56. Precisions: float32 and bfloat16 autocast (float32 weights). The
heads' cache pays its one forward pass in the first epoch; later epochs cost only the heads'
linear layers, so the table gives its first epoch and the rate of the epochs after it. Prints a
table and writes it as CSV with the machine in a comment line.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from eelib import build_model, predict_all_exits, train
from eelib.data import FASHION_MNIST_CLASSES, ImageDataset

ROOT = Path(__file__).resolve().parents[1]


def images(count: int) -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    return ImageDataset(pixels, labels, FASHION_MNIST_CLASSES, (0.286,), (0.353,), "random")


def rate(work, count: int) -> float:
    began = time.perf_counter()
    work()
    return count / (time.perf_counter() - began)


def measure(profile: str, precision: str, data: ImageDataset) -> list[dict]:
    model = build_model(profile, seed=0)
    fit = dict(batch_size=128, progress=False, precision=precision)
    n = len(data)
    phases = {
        "joint (all)": lambda: train(model, data, 1, "all", **fit),
        "base network": lambda: train(model, data, 1, "base", **fit),
        "exit heads, cached inputs (first epoch)": lambda: train(model, data, 1, "exits", **fit),
        "exit heads, cached inputs (5 epochs)": lambda: train(model, data, 5, "exits", **fit),
        "exit heads, no cache": lambda: train(model, data, 1, "exits", cache_features=False, **fit),
        "evaluation (float32)": lambda: predict_all_exits(model, data),
    }
    train(model, data, 1, "all", **fit)  # warm-up
    rows = []
    for phase, work in phases.items():
        count = 5 * n if "5 epochs" in phase else n
        rows.append(
            {
                "network": profile,
                "precision": precision,
                "phase": phase,
                "images_per_s": round(rate(work, count)),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2560)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "training_throughput.csv"))
    args = parser.parse_args()
    data = images(args.images)
    rows = [
        row
        for profile in ("fast", "full", "paper")
        for precision in ("float32", "bfloat16")
        for row in measure(profile, precision, data)
    ]
    table = pd.DataFrame(rows).pivot_table(
        index=["network", "phase"], columns="precision", values="images_per_s", sort=False
    )
    table["bfloat16 ÷ float32"] = (table["bfloat16"] / table["float32"]).round(2)
    print(table.to_string())
    machine = (
        f"# {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}; images per second, "
        f"batch 128, 28×28"
    )
    Path(args.out).write_text(machine + "\n" + table.reset_index().to_csv(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

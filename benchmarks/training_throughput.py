"""Training throughput: images per second of each training phase, per network and precision.

Usage: ``python benchmarks/training_throughput.py [--images 2560] [--device cpu] [--only recipes]
[--out ...csv]``

Each phase is one epoch of :func:`eelib.train` (or one pass of :func:`eelib.predict_all_exits`)
over ``--images`` random 1×28×28 images, batch 128, on every core the machine gives PyTorch:
joint training (``scope="all"``), the base network alone (``"base"``), the exit heads on a frozen
base with their inputs cached (the default) and without the cache, and evaluation (always
float32). Networks: the ``fast`` profile's CNN, the ``full`` profile's residual network and the
``paper`` profile's ResNet-56. Precisions: float32 and bfloat16 autocast (float32 weights). The
heads' cache pays its one forward pass in the first epoch; later epochs cost only the heads'
linear layers, so the table gives its first epoch and the rate of the epochs after it.

The ``paper-cifar10`` rows time the ``paper`` profile's network on CIFAR-10-shaped images
(3×32×32), joint training, three ways: the loop as it trained before the paper's recipe
existed (Adam, constant rate, no augmentation, no loader workers: the settings ``fast`` and
``full`` still use, so "before"), the paper profile's recipe (SGD with momentum and weight
decay, the step schedule, crop + flip on the batches), and that recipe with 2 ``DataLoader``
workers and pinned memory (pinning only on CUDA). ``--only recipes`` times only these and keeps
the other rows of ``--out``. ``--device cuda`` times them on a GPU where there is one. Prints a
table and writes it as CSV with the machine (and its load, for a shared machine) in a comment
line.
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
from eelib.data import FASHION_MNIST_CLASSES, NORMALISATION, ImageDataset

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


def colour_images(count: int) -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (count, 32, 32, 3), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    mean, std = NORMALISATION["cifar10"]
    return ImageDataset(pixels, labels, [str(i) for i in range(10)], mean, std, "random")


RECIPES = {
    "joint, before: Adam, constant lr, no augmentation": {},
    "joint, paper recipe: SGD + step + crop-flip": dict(
        optimizer="sgd", weight_decay=1e-4, lr=0.1, schedule="step", augment="crop-flip"
    ),
    "joint, paper recipe + 2 loader workers, pinned": dict(
        optimizer="sgd",
        weight_decay=1e-4,
        lr=0.1,
        schedule="step",
        augment="crop-flip",
        loader_workers=2,
        pin_memory=True,
    ),
}


def measure_recipes(precision: str, data: ImageDataset, device: str, repeats: int) -> list[dict]:
    """Joint training of the paper profile's ResNet-56 (3 channels) under each of RECIPES: the
    best of ``repeats`` epochs each, the recipes taking turns (a shared machine's load then
    weighs on all of them alike)."""
    model = build_model("paper", seed=0, in_channels=3)
    fit = dict(batch_size=128, progress=False, precision=precision, device=device)
    train(model, data, 1, scope="all", **fit)  # warm-up
    best = dict.fromkeys(RECIPES, 0.0)
    for _ in range(repeats):
        for phase, recipe in RECIPES.items():
            work = lambda: train(model, data, 1, scope="all", **fit, **recipe)  # noqa: E731
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best[phase] = max(best[phase], rate(work, len(data)))
            print(precision, phase, round(best[phase], 1), flush=True)
    return [
        {
            "network": "paper-cifar10",
            "precision": precision,
            "phase": phase,
            "images_per_s": round(value, 1),
        }
        for phase, value in best.items()
    ]


def measure(profile: str, precision: str, data: ImageDataset) -> list[dict]:
    model = build_model(profile, seed=0)
    fit = dict(batch_size=128, progress=False, precision=precision)
    n = len(data)
    phases = {
        "joint (all)": lambda: train(model, data, 1, scope="all", **fit),
        "base network": lambda: train(model, data, 1, scope="base", **fit),
        "exit heads, cached inputs (first epoch)": lambda: train(
            model, data, 1, scope="exits", **fit
        ),
        "exit heads, cached inputs (5 epochs)": lambda: train(model, data, 5, scope="exits", **fit),
        "exit heads, no cache": lambda: train(
            model, data, 1, scope="exits", cache_features=False, **fit
        ),
        "evaluation (float32)": lambda: predict_all_exits(model, data),
    }
    train(model, data, 1, scope="all", **fit)  # warm-up
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
    parser.add_argument("--device", default="cpu", help="where the paper-cifar10 rows train")
    parser.add_argument(
        "--only", choices=["recipes"], help="time only the paper-cifar10 rows, keep the others"
    )
    parser.add_argument("--repeats", type=int, default=3, help="paper-cifar10: best of so many")
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"])
    args = parser.parse_args()
    data = images(args.images)
    rows = [
        row
        for profile in (() if args.only else ("fast", "full", "paper"))
        for precision in ("float32", "bfloat16")
        for row in measure(profile, precision, data)
    ]
    colour = colour_images(args.images)
    rows += [
        row
        for precision in args.precisions
        for row in measure_recipes(precision, colour, args.device, args.repeats)
    ]
    table = pd.DataFrame(rows).pivot_table(
        index=["network", "phase"], columns="precision", values="images_per_s", sort=False
    )
    if {"bfloat16", "float32"} <= set(table.columns):
        table["bfloat16 ÷ float32"] = (table["bfloat16"] / table["float32"]).round(2)
    table = table.reset_index()
    header = []
    if args.only and Path(args.out).exists():
        kept = pd.read_csv(args.out, comment="#")
        table = pd.concat([kept[kept["network"] != "paper-cifar10"], table], ignore_index=True)
        lines = Path(args.out).read_text().splitlines()
        header = [line for line in lines[:1] if line.startswith("#")]  # the other rows' machine
    print(table.to_string())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = (
        f"# {'paper-cifar10 rows: ' if header else ''}"
        f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}; images per second, "
        f"batch 128, 28×28 (paper-cifar10: 3×32×32 on {args.device}); load average "
        f"{load:.1f} when the last rows were timed"
    )
    Path(args.out).write_text("\n".join([*header, machine, table.to_csv(index=False)]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

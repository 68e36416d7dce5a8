"""Channels-last against contiguous memory order: images per second of a training step and of
an evaluation pass, per network, on the CPU (the reason for :func:`eelib.memory_format.channels_last`).

Usage: ``python benchmarks/channels_last.py [--threads 1] [--repeats 20] [--out ...csv]``

A training step is what :func:`eelib.train` does per batch of 128 (forward through every exit,
the summed cross-entropy, backward, an Adam step), in float32; an evaluation pass is a forward
pass without gradients, in eval mode. Each is timed on random 28×28 images, best of three rounds
of ``--repeats`` batches, with the network's weights and the images in one order or the other.
Prints a table and writes it as CSV with the machine in a comment line.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from eelib import build_model
from eelib.provenance import cpu_model

ROOT = Path(__file__).resolve().parents[1]

BATCH = 128


def per_second(work, repeats: int) -> float:
    """Images per second of ``work`` (one batch), best of three rounds after a warm-up."""
    work()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        best = min(best, (time.perf_counter() - start) / repeats)
    return BATCH / best


def measure(profile: str, memory_format: torch.memory_format, repeats: int) -> dict:
    torch.manual_seed(0)
    model = build_model(profile, seed=0).to(memory_format=memory_format)
    images = torch.randn(BATCH, 1, 28, 28).contiguous(memory_format=memory_format)
    labels = torch.randint(0, 10, (BATCH,))
    optimizer = torch.optim.Adam(model.parameters())

    def step():
        loss = sum(torch.nn.functional.cross_entropy(z, labels) for z in model(images))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def evaluate():
        model(images)

    model.train()
    training = per_second(step, repeats)
    model.eval()
    return {"training step": round(training), "evaluation": round(per_second(evaluate, repeats))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads")
    parser.add_argument("--repeats", type=int, default=20, help="batches per round")
    parser.add_argument(
        "--profiles", nargs="+", default=["fast", "full"], choices=["fast", "full"]
    )  # the Fashion-MNIST networks (1×28×28 images)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "channels_last.csv")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for profile in args.profiles:
        for name, memory_format in (
            ("contiguous", torch.contiguous_format),
            ("channels-last", torch.channels_last),
        ):
            rows.append(
                {"network": profile, "order": name, **measure(profile, memory_format, args.repeats)}
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    for column in ("training step", "evaluation"):
        speedup = table.groupby("network")[column].transform(lambda s: s / s.iloc[0])
        table[f"{column} ÷ contiguous"] = speedup.round(2)
    machine = (
        f"{cpu_model()} ({torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} cores, "
        f"{args.threads} torch thread(s), Python {platform.python_version()}, torch "
        f"{torch.__version__}; images per second, float32, batch {BATCH}, 28×28"
    )
    print(f"\n{machine}\n{table.to_string(index=False)}")
    with args.out.open("w") as f:
        f.write(
            f"# {machine}; measured {time.strftime('%Y-%m-%d')} by benchmarks/channels_last.py\n"
        )
        table.to_csv(f, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

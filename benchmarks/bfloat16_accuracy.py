"""Does bfloat16 training change the accuracy? The `full` network, float32 against bfloat16.

Usage: ``python benchmarks/bfloat16_accuracy.py [--seeds 0 1 2] [--epochs 2] [--images 25000]``

For each seed, the `full` profile's network is trained jointly for ``--epochs`` on the first
``--images`` training images of the full Fashion-MNIST (after the profile's validation split),
once in float32 and once with bfloat16 autocast (float32 weights), and every exit's test accuracy
is measured in float32. Prints the final exit's accuracy per seed and precision, the mean of each
precision and the seed-to-seed spread (max − min) of float32, and writes the table as CSV. The
same seed trained twice in bfloat16 gives the same numbers (``tests/test_training.py``).
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import pandas as pd
import torch

from eelib import build_model, exit_accuracy, get_profile, load_dataset, predict_all_exits, train
from eelib.data import validation_split

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=25_000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "bfloat16_accuracy.csv"))
    args = parser.parse_args()
    profile = get_profile("full")
    train_set, _ = validation_split(load_dataset(profile.dataset, "train"), profile.val_size)
    keep = slice(0, args.images)
    train_set = type(train_set)(
        train_set.data[keep],
        train_set.targets[keep],
        train_set.classes,
        train_set.mean,
        train_set.std,
        train_set.name,
    )
    test_set = load_dataset(profile.dataset, "test")
    rows = []
    for seed in args.seeds:
        for precision in ("float32", "bfloat16"):
            model = build_model(profile, seed)
            train(
                model,
                train_set,
                args.epochs,
                "all",
                profile.lr,
                profile.batch_size,
                seed=seed,
                progress=False,
                precision=precision,
            )
            accuracy = exit_accuracy(*predict_all_exits(model, test_set)).tolist()
            rows.append(
                {"seed": seed, "precision": precision, "final exit (%)": 100 * accuracy[-1]}
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).pivot(index="seed", columns="precision", values="final exit (%)")
    table = table[["float32", "bfloat16"]].round(2)
    print(table.to_string())
    spread = table["float32"].max() - table["float32"].min()
    difference = table["bfloat16"].mean() - table["float32"].mean()
    print(
        f"mean bfloat16 − float32: {difference:+.2f} points; float32 seed-to-seed spread "
        f"(max − min): {spread:.2f} points"
    )
    machine = (
        f"# {platform.machine()}, torch {torch.__version__}; full network, {args.epochs} epochs on "
        f"{args.images} images, final-exit test accuracy (%)"
    )
    Path(args.out).write_text(machine + "\n" + table.reset_index().to_csv(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

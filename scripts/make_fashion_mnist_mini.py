"""Build eelib/assets/fashion_mnist_mini.npz, the class-balanced Fashion-MNIST subset that ships with eelib.

It takes 600 training images per class from the official training file and 200 test images per class
from the official test file (Fashion-MNIST, Zalando SE, MIT licence), chosen at random with a fixed
seed, and stores them as uint8 with the indices it took. The result is the same on every machine;
the script prints its SHA-256, which eelib.data.MINI_SHA256 must equal.

    python scripts/make_fashion_mnist_mini.py [--root /usr/share/datasets/fashion-mnist]
"""

import argparse
from pathlib import Path

import numpy as np

from eelib.data import MINI_FILE, MINI_SHA256, load_dataset, mini_digest

PER_CLASS = {"train": 600, "test": 200}
SEED = 2022


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices with ``per_class`` samples of every label, drawn without replacement."""
    picks = [
        rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)
    ]
    return np.sort(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", default=None, help="folder with the official idx files (default: eelib's search)"
    )
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "eelib" / "assets" / MINI_FILE)
    )
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    arrays = {}
    for split, per_class in PER_CLASS.items():
        full = load_dataset("fashion-mnist", split, root=args.root)
        labels = full.targets.numpy()
        idx = balanced_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = full.data.numpy()[idx]
        arrays[f"{split}_labels"] = labels[idx].astype(np.uint8)
        arrays[f"{split}_indices"] = idx.astype(np.int32)
    np.savez_compressed(args.out, **arrays)
    digest = mini_digest(arrays)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))
    print(
        f"SHA-256 {digest}" + ("" if digest == MINI_SHA256 else "  (update eelib.data.MINI_SHA256)")
    )


if __name__ == "__main__":
    main()

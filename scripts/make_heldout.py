"""Build grading/heldout-fashion-mnist.npz, the capstone's grading images, which no student gets.

It takes 200 images per class from the official Fashion-MNIST test file (Zalando SE, MIT
licence) that are *not* in the subset shipped with eelib (``eelib/assets/fashion_mnist_mini.npz``,
whose ``test_indices`` it excludes), at random with a fixed seed, and stores them as uint8 with
their indices. The grader (``grading/course_grader.py``) measures a capstone answer and computes
the capstone's bars on these images; they live in ``grading/``, which no release, student
folder, feedback folder or autograder zip holds. (Under the ``full`` profile a student has the
whole dataset, these images included: there the held-out images are only unseen in training.)

    python scripts/make_heldout.py [--root /usr/share/datasets/fashion-mnist]
"""

import argparse
from importlib import resources
from pathlib import Path

import numpy as np

from eelib.data import MINI_FILE, load_dataset

PER_CLASS = 200
SEED = 31  # the grader's own draw
OUT = Path(__file__).resolve().parents[1] / "grading" / "heldout-fashion-mnist.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="folder with the official idx files")
    args = parser.parse_args()
    with resources.as_file(resources.files("eelib") / "assets" / MINI_FILE) as path:
        shipped = set(np.load(path)["test_indices"].tolist())
    full = load_dataset("fashion-mnist", "test", root=args.root)
    labels = full.targets.numpy()
    rng = np.random.default_rng(SEED)
    picks = []
    for c in np.unique(labels):
        free = [i for i in np.flatnonzero(labels == c) if i not in shipped]
        picks.append(rng.choice(free, PER_CLASS, replace=False))
    idx = np.sort(np.concatenate(picks))
    assert not set(idx.tolist()) & shipped
    np.savez_compressed(
        OUT, images=full.data.numpy()[idx], labels=labels[idx].astype(np.uint8), indices=idx
    )
    print(f"wrote {OUT}: {len(idx)} test images none of which eelib ships")


if __name__ == "__main__":
    main()

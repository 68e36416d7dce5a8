"""Run profiles: every setting of a reproduction run in one place.

``fast`` (default) runs every notebook in minutes on a laptop CPU; ``full`` is a 6-exit CNN on the
full Fashion-MNIST with three seeds, under an hour on 2 CPU cores; ``paper`` is the paper's
ResNet-56 with 7 exits, a GPU profile. ``full`` and ``paper`` run from the command line
(``python -m eelib reproduce``) and write to ``results/``.
A notebook picks one through its parameters cell or the ``EELIB_PROFILE`` environment variable.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

ARCHITECTURES = ("cnn", "resnet56")


@dataclass(frozen=True)
class Profile:
    """Settings of a run (COURSE_DESIGN §3–4). Budgets are in epochs over the training images
    that remain after the validation split.

    Attributes:
        name: the profile's name.
        dataset: a name :func:`eelib.load_dataset` knows.
        architecture: ``"cnn"`` (:class:`eelib.EarlyExitCNN`) or ``"resnet56"`` (the paper's
            ResNet-56 with 7 exits, :class:`eelib.EarlyExitResNet`).
        widths: channels of each CNN stage (K = len(widths) exits).
        head_pool: side of the pooled grid each exit head reads.
        final_pool: side of the pooled grid the final classifier reads (None: ``head_pool``).
        pool_after: CNN stages followed by 2×2 max pooling (None: every stage).
        train_epochs: epochs of training the base network (strategy 2's start).
        head_epochs: epochs of training the exit heads on each pruned base network (strategy 2);
            None: ``train_epochs``.
        joint_epochs: epochs of joint training (strategy 1's start and the dense reference); None:
            the whole number that matches strategy 1's training compute to strategy 2's (see
            :func:`eelib.experiment.compute_budget`).
        prune_steps: rounds of (prune + fine-tune) from one target sparsity to the next along
            the pruning trajectory; the exit heads of strategy 2 are pruned to their target in as
            many rounds.
        finetune_epochs: fine-tuning epochs after each round.
        sparsities: target sparsities (fractions in (0, 1), increasing) recorded along the way.
        seeds: one run per seed.
        val_size: training images held out, class-balanced, to choose operating points on.
        batch_size, lr, finetune_lr: Adam's batch size and learning rates (training, fine-tuning).
        thresholds: number of confidence thresholds, evenly spaced over [0, 1], in each curve.
    """

    name: str
    dataset: str
    architecture: str = "cnn"
    widths: tuple[int, ...] = (16, 32, 64)
    head_pool: int = 2
    final_pool: int | None = None
    pool_after: tuple[int, ...] | None = None
    train_epochs: int = 3
    head_epochs: int | None = None
    joint_epochs: int | None = None
    prune_steps: int = 1
    finetune_epochs: int = 1
    sparsities: tuple[float, ...] = (0.5, 0.8, 0.9)
    seeds: tuple[int, ...] = (0,)
    val_size: int = 600
    batch_size: int = 128
    lr: float = 3e-3
    finetune_lr: float = 1e-3
    thresholds: int = 101
    description: str = field(default="", compare=False)

    def replace(self, **changes) -> "Profile":
        """A copy with some settings changed; None values are ignored. Unknown names → ValueError."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"unknown profile setting(s) {sorted(unknown)}; known: "
                f"{[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PROFILES = {
    "fast": Profile(
        name="fast",
        dataset="fashion-mnist-mini",
        description="the mini Fashion-MNIST subset, one seed: each notebook in minutes on a laptop CPU",
    ),
    "full": Profile(
        name="full",
        dataset="fashion-mnist",
        widths=(16, 16, 32, 32, 64, 64),
        head_pool=4,
        final_pool=1,
        pool_after=(2, 4, 6),
        train_epochs=4,
        head_epochs=2,
        prune_steps=1,
        finetune_epochs=1,
        sparsities=(0.5, 0.75, 0.9, 0.95, 0.98),
        seeds=(0, 1, 2),
        val_size=5000,
        description=(
            "the full Fashion-MNIST, a 6-exit CNN with the paper's head design, three seeds: "
            "under an hour on 2 CPU cores"
        ),
    ),
    "paper": Profile(
        name="paper",
        dataset="fashion-mnist",
        architecture="resnet56",
        head_pool=4,
        final_pool=1,
        train_epochs=30,
        head_epochs=10,
        prune_steps=4,
        finetune_epochs=2,
        sparsities=(0.5, 0.75, 0.9, 0.95, 0.98),
        seeds=(0, 1, 2),
        val_size=5000,
        lr=1e-3,
        finetune_lr=3e-4,
        description=(
            "the paper's ResNet-56 with 7 exits, 20 rounds of (prune + fine-tune): a GPU profile "
            "(CIFAR-10 with --dataset cifar10 where it can be had)"
        ),
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$EELIB_PROFILE``, else ``"fast"``. Unknown name → ValueError."""
    name = name or os.environ.get("EELIB_PROFILE") or "fast"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]

"""Run profiles: every setting of a reproduction run in one place.

``fast`` (default) runs every notebook in minutes on a laptop CPU; ``full`` is the small CNN on the
full Fashion-MNIST with several seeds (run from the command line, results in ``results/``).
A notebook picks one through its parameters cell or the ``EELIB_PROFILE`` environment variable.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    """Settings of a run. Budgets are in epochs; both strategies get the same ones.

    Attributes:
        name: the profile's name.
        dataset: a name :func:`eelib.load_dataset` knows.
        widths: channels of each stage of :class:`eelib.EarlyExitCNN` (K = len(widths) exits).
        head_pool: side of the pooled grid each exit head reads.
        final_pool: side of the pooled grid the final classifier reads (None: ``head_pool``).
        train_epochs: epochs of the first training of each part: joint training (strategy 1), the
            base network (strategy 2) and the exit heads on the pruned base (strategy 2).
        prune_steps: pruning rounds per pruned pool (iterative schedule, COURSE_DESIGN §3).
        finetune_epochs: fine-tuning epochs after each pruning round.
        sparsities: target sparsities (fractions) to prune to.
        seeds: one run per seed.
        batch_size, lr, finetune_lr: Adam's batch size and learning rates.
        thresholds: number of confidence thresholds, evenly spaced over [0, 1], in each curve.
    """

    name: str
    dataset: str
    widths: tuple[int, ...] = (16, 32, 64)
    head_pool: int = 2
    final_pool: int | None = None
    train_epochs: int = 3
    prune_steps: int = 2
    finetune_epochs: int = 1
    sparsities: tuple[float, ...] = (0.5, 0.8, 0.9)
    seeds: tuple[int, ...] = (0,)
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
        train_epochs=8,
        prune_steps=4,
        finetune_epochs=1,
        sparsities=(0.0, 0.5, 0.75, 0.9, 0.95, 0.98),
        seeds=(0, 1, 2),
        description="the full Fashion-MNIST, three seeds: about an hour on a CPU, minutes on a GPU",
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$EELIB_PROFILE``, else ``"fast"``. Unknown name → ValueError."""
    name = name or os.environ.get("EELIB_PROFILE") or "fast"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]

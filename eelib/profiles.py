"""Run profiles: every setting of a reproduction run in one place, the network it builds, and
the checks on its settings.

``fast`` (default) runs every notebook in minutes on a laptop CPU; ``full`` is a residual network
shaped like the paper's (7 exits) on the full Fashion-MNIST with five seeds, under an hour on 2
CPU cores; ``paper`` is the paper's ResNet-56 with 7 exits, a GPU profile. ``full`` and ``paper`` run from the command line
(``python -m eelib reproduce``) and write to ``results/``.
A notebook picks one through its parameters cell or the ``EELIB_PROFILE`` environment variable,
and builds its networks with :func:`build_model` (the book's chapter 5 describes the profiles).
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass, field

import torch

from .data import DATASETS, IMAGE_CHANNELS
from .models import EarlyExitCNN, EarlyExitNetwork, EarlyExitResNet
from .pruning import check_sparsity
from .training import PRECISIONS

ARCHITECTURES = ("cnn", "resnet")
HEADS_COMPUTE = ("uncached", "cached")
FULL_FINETUNE_LR = 3e-4


@dataclass(frozen=True)
class Profile:
    """Settings of a run (the book's chapter 5 explains each). Budgets are in epochs over the training images
    that remain after the validation split.

    Attributes:
        name: the profile's name.
        dataset: a name :func:`eelib.load_dataset` knows.
        architecture: ``"cnn"`` (:class:`eelib.EarlyExitCNN`) or ``"resnet"`` (a CIFAR ResNet
            with internal classifiers, :class:`eelib.EarlyExitResNet`; the paper's ResNet-56 with
            the defaults below).
        widths: channels of each CNN stage (K = len(widths) exits), or of the ResNet's 3 groups.
        blocks_per_group, exit_after, stem_stride: the ResNet's n (depth 6n + 2), the blocks
            its internal classifiers read, and its first convolution's stride (2 quarters the
            FLOPs of every block).
        head_pool: side of the pooled grid each exit head reads.
        final_pool: side of the pooled grid the final classifier reads (None: ``head_pool``).
        pool_after: CNN stages followed by 2×2 max pooling (None: every stage).
        train_epochs: epochs of training the base network (strategy 2's start).
        head_epochs: epochs of training the exit heads on each pruned base network (strategy 2);
            None: ``train_epochs``. With ``head_patience``, the most it may train.
        head_patience: 0 trains the exit heads for exactly ``head_epochs``; n > 0 trains them
            until their mean validation accuracy has not improved for n epochs (heads trained to
            convergence; :func:`eelib.train`'s early stopping).
        heads_compute: how a heads-only epoch counts in the compute matching —
            ``"uncached"``, a forward pass through the frozen base per step (what it costs
            without the cache of the heads' inputs), or ``"cached"``, its real cost (the heads'
            inputs once per training call, then the heads' own passes). Both are reported
            (:func:`eelib.experiment.compute_budget`).
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
        precision: ``"float32"`` or ``"bfloat16"`` (autocast for training; see
            :func:`eelib.train`). Networks are always evaluated in float32.
    """

    name: str
    dataset: str
    architecture: str = "cnn"
    widths: tuple[int, ...] = (16, 32, 64)
    head_pool: int = 2
    final_pool: int | None = None
    pool_after: tuple[int, ...] | None = None
    blocks_per_group: int = 9
    exit_after: tuple[int, ...] = (4, 8, 12, 16, 20, 24)
    stem_stride: int = 1
    train_epochs: int = 3
    head_epochs: int | None = None
    head_patience: int = 0
    heads_compute: str = "uncached"
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
    precision: str = "float32"
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
        head_epochs=2,
        description="the mini Fashion-MNIST subset, one seed: each notebook in minutes on a laptop CPU",
    ),
    "full": Profile(
        name="full",
        dataset="fashion-mnist",
        architecture="resnet",
        widths=(16, 32, 64),
        blocks_per_group=5,
        exit_after=(2, 4, 7, 9, 12, 14),
        stem_stride=2,
        head_pool=4,
        final_pool=1,
        train_epochs=4,
        head_epochs=2,
        prune_steps=1,
        finetune_epochs=1,
        sparsities=(0.5, 0.75, 0.9, 0.95),
        seeds=(0, 1, 2, 3, 4),
        val_size=5000,
        finetune_lr=FULL_FINETUNE_LR,
        precision="bfloat16",
        description=(
            "the full Fashion-MNIST, a ResNet-32 shaped like the paper's ResNet-56 (7 exits, "
            "stride-2 stem), five seeds, bfloat16 training: under an hour on 2 CPU cores"
        ),
    ),
    "paper": Profile(
        name="paper",
        dataset="fashion-mnist",
        architecture="resnet",
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


def parse_setting(text: str) -> tuple[str, object]:
    """``"NAME=VALUE"`` (the command line's ``--set``) as ``(name, value)``.

    VALUE is read as a Python literal where it is one (``3``, ``1e-3``, ``0.5,0.9`` → a tuple,
    ``None``), else kept as text (``bfloat16``). The value is checked later by :func:`validate`.

    Raises:
        ValueError: no ``=``, or a NAME that is not a profile setting (the message lists them).
    """
    import ast

    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    names = [f.name for f in dataclasses.fields(Profile) if f.name not in ("name", "description")]
    if not sep:
        raise ValueError(f"--set takes NAME=VALUE (e.g. lr=0.1), got {text!r}")
    if name not in names:
        raise ValueError(f"unknown setting {name!r} in --set; known: {', '.join(names)}")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        parsed = value.strip()
    return name, tuple(parsed) if isinstance(parsed, list) else parsed


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$EELIB_PROFILE``, else ``"fast"``. Unknown name → ValueError."""
    name = name or os.environ.get("EELIB_PROFILE") or "fast"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


def build_model(
    profile: Profile | str | None = None,
    seed: int = 0,
    in_channels: int | None = None,
    num_classes: int = 10,
) -> EarlyExitNetwork:
    """The profile's early-exit network, its weights initialised from ``seed``.

    Every network of the course is built here — by the runner, the notebooks and the tests — so
    each notebook runs under each profile. ``architecture="cnn"`` gives an
    :class:`~eelib.EarlyExitCNN` with the profile's ``widths``, ``head_pool``, ``final_pool`` and
    ``pool_after``; ``"resnet"`` an :class:`~eelib.EarlyExitResNet` with its ``widths``,
    ``blocks_per_group``, ``exit_after``, ``head_pool`` and ``stem_stride`` (book, chapter 5).
    The global random state is left as it was.

    Args:
        profile: a :class:`Profile`, a profile's name, or None for :func:`get_profile`'s choice.
        seed: seeds the weight initialisation; the same seed gives the same weights.
        in_channels: image channels (default: the profile's dataset's, 1 for Fashion-MNIST, 3
            for CIFAR-10).
        num_classes: number of classes.

    Returns:
        The network on the CPU; its ``forward`` maps ``(N, C, H, W)`` images to K logits tensors
        ``(N, num_classes)``, shallow to deep.

    Raises:
        ValueError: an unknown profile or architecture, or widths and pool sides the network
            cannot have.
    """
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    if profile.architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {profile.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    if in_channels is None:
        in_channels = IMAGE_CHANNELS.get(profile.dataset, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if profile.architecture == "resnet":
            return EarlyExitResNet(
                in_channels,
                num_classes,
                profile.blocks_per_group,
                profile.exit_after,
                profile.head_pool,
                profile.widths,
                profile.stem_stride,
            )
        return EarlyExitCNN(
            in_channels,
            num_classes,
            profile.widths,
            profile.head_pool,
            profile.final_pool,
            profile.pool_after,
        )


def check_device(name: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``name``, or CUDA when available, else the CPU.

    Raises:
        ValueError: ``name`` is not a device PyTorch knows (``"tpu9"``), or names a CUDA or MPS
            device this machine does not have; the message says which devices there are.
    """
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"unknown device {str(name)!r}; choose one of {', '.join(available)}"
        ) from None
    usable = {
        "cpu": True,
        "cuda": torch.cuda.is_available()
        and (device.index is None or device.index < torch.cuda.device_count()),
        "mps": torch.backends.mps.is_available(),
    }
    if not usable.get(device.type, False):
        raise ValueError(
            f"device {str(name)!r} is not available on this machine; choose one of "
            f"{', '.join(available)}"
        )
    return device


def _positive_int(config: Profile, name: str, minimum: int = 1) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")


def validate(config: Profile) -> Profile:
    """Check every setting of a run before any data is loaded; return it with targets sorted.

    Raises:
        ValueError: saying which setting is wrong and what it must be — an unknown dataset,
            architecture or precision; epochs, rounds, thresholds, batch size or validation size that are not
            positive integers; learning rates that are not positive; no seeds or repeated seeds;
            no target sparsities, a repeated one, or one outside (0, 1) (0 is the dense reference,
            always recorded).
    """
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    if config.architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {config.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    for name in ("train_epochs", "prune_steps", "finetune_epochs", "batch_size", "val_size"):
        _positive_int(config, name)
    _positive_int(config, "thresholds", 2)
    _positive_int(config, "head_patience", 0)
    if config.heads_compute not in HEADS_COMPUTE:
        raise ValueError(
            f"unknown heads_compute {config.heads_compute!r}; choose one of "
            f"{', '.join(HEADS_COMPUTE)}"
        )
    if config.precision not in PRECISIONS:
        raise ValueError(
            f"unknown precision {config.precision!r}; choose one of {', '.join(PRECISIONS)}"
        )
    for name in ("head_epochs", "joint_epochs"):
        if getattr(config, name) is not None:
            _positive_int(config, name)
    for name in ("lr", "finetune_lr"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"{name} must be a positive learning rate, got {value!r}")
    seeds = tuple(config.seeds)
    if (
        not seeds
        or len(set(seeds)) != len(seeds)
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ValueError(f"seeds must be distinct integers, at least one; got {seeds!r}")
    targets = tuple(check_sparsity(s) for s in config.sparsities)
    if not targets or len(set(targets)) != len(targets) or min(targets) <= 0:
        raise ValueError(
            f"sparsities must be distinct fractions in (0, 1), at least one; got {targets!r} "
            "(the dense network, sparsity 0, is always recorded as the reference)"
        )
    return config.replace(sparsities=tuple(sorted(targets)), seeds=seeds)

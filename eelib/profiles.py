"""Run profiles: every setting of a reproduction run in one place, the network it builds, and
the checks on its settings.

``fast`` (default) runs every notebook in minutes on a laptop CPU; ``full`` is a residual network
shaped like the paper's (7 exits) on the full Fashion-MNIST with five seeds, under an hour on 2
CPU cores; ``paper`` is the paper's own setting, ResNet-56 with 7 exits on CIFAR-10 trained as
ResNet papers train it, a GPU profile. ``full`` and ``paper`` run from the command line
(``python -m eelib reproduce``) and write to ``results/``.
A notebook picks one through its parameters cell or the ``EELIB_PROFILE`` environment variable,
and builds its networks with :func:`build_model` (the book's chapter 5 describes the profiles).

The ``paper`` profile's numbers and where they come from:

- network, exits, data: ResNet-56 (3 groups of n = 9 basic blocks; He et al., 2016, §4.2) with
  6 internal classifiers (Kaya et al., 2019, Shallow-Deep Networks; Görmez & Koyuncu, 2022) on
  CIFAR-10; 5,000 training images held out for validation, as He et al.'s 45k/5k split.
- training (joint, base network): SGD with momentum 0.9, weight decay 1e-4, batch 128, learning
  rate 0.1 divided by 10 at 50 % and 75 % of the epochs (He et al., 2016, §4.2: 32k and 48k of
  64k iterations), pad-4 random crop and horizontal flip of the training images (ibid., after
  Lee et al., 2015); 100 epochs, the length of the Shallow-Deep Networks code's ResNet-56
  training (``epochs = 100``, the same SGD, momentum and weight decay; Kaya et al., 2019).
- the exit heads on the frozen base (strategy 2): Adam, learning rate 1e-3, 25 epochs, weight
  decay as above: Shallow-Deep Networks' "IC-only" training (Kaya et al., 2019, its code's
  ``ic_only`` settings; its schedule divides by 10 once, at epoch 15, where ``step`` divides at
  50 % and 75 %).
- pruning: 5 targets up to 98 %, 4 rounds each, 20 rounds of (prune + fine-tune) in all, 2
  epochs of fine-tuning per round (Görmez & Koyuncu, 2022, §4: 20 rounds; ``results/README.md``
  says why the headline stops at 95 %). Fine-tuning's learning rate, 0.01 (one tenth of
  training's, where its step schedule spends its middle) decayed to 0 by a cosine over each
  round (Loshchilov & Hutter, 2017), is this course's choice: the paper does not give one.
- bfloat16 autocast (float32 weights), the GPU's fast path (as ``full``'s on a CPU).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass, field

import torch

from . import arguments
from .data import AUGMENTATIONS, DATASETS, IMAGE_CHANNELS
from .models import EarlyExitCNN, EarlyExitNetwork, EarlyExitResNet
from .pruning import check_sparsity
from .results import RENAMED_SETTINGS
from .training import OPTIMIZERS, PRECISIONS, SCHEDULES

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
            (:func:`eelib.costs.compute_budget`).
        joint_epochs: epochs of joint training (strategy 1's start and the dense reference); None:
            the whole number that matches strategy 1's training compute to strategy 2's (see
            :func:`eelib.costs.compute_budget`).
        prune_rounds: rounds of (prune + fine-tune) from one target sparsity to the next along
            the pruning trajectory; the exit heads of strategy 2 are pruned to their target in as
            many rounds.
        finetune_epochs: fine-tuning epochs after each round.
        sparsities: target sparsities (fractions in (0, 1), increasing) recorded along the way.
        seeds: one run per seed.
        val_size: training images held out, class-balanced, to choose operating points on.
        batch_size, lr, finetune_lr: the batch size and the (starting) learning rates of
            training and of fine-tuning.
        thresholds: number of confidence thresholds, evenly spaced over [0, 1], in each curve.
        precision: ``"float32"`` or ``"bfloat16"`` (autocast for training; see
            :func:`eelib.train`). Networks are always evaluated in float32.
        optimizer: ``"adam"`` or ``"sgd"`` (with ``momentum``), for every phase but the exit
            heads' training when ``head_optimizer`` is set.
        momentum: SGD's momentum.
        weight_decay: L2 penalty of every phase (0: none).
        lr_schedule: learning rate over each training call — joint, base network, exit heads —
            ``"constant"``, ``"step"`` (÷10 at 50 % and 75 % of the call) or ``"cosine"``
            (:func:`eelib.training.lr_factor`).
        finetune_schedule: the same for each fine-tuning call (each round, the dense
            reference's fine-tuning), from ``finetune_lr``.
        head_optimizer, head_lr: optimiser and learning rate of the exit heads' training on the
            frozen base (strategy 2); None: ``optimizer`` and ``lr``.
        augment: ``"none"`` or ``"crop-flip"`` (pad 4, random crop, horizontal flip) on the
            training images of every phase (:func:`eelib.data.random_crop_flip`).
        loader_workers, pin_memory: ``DataLoader`` worker processes and pinned memory for
            training batches (speed only: the same numbers; pinning only on CUDA).

    The settings from ``optimizer`` on came later than the first results: :meth:`to_dict` leaves
    them out while they have their defaults, so the runs, checkpoints and metadata of the
    ``fast`` and ``full`` profiles stay what they were.
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
    prune_rounds: int = 1
    finetune_epochs: int = 1
    sparsities: tuple[float, ...] = (0.5, 0.8, 0.9)
    seeds: tuple[int, ...] = (0,)
    val_size: int = 600
    batch_size: int = 128
    lr: float = 3e-3
    finetune_lr: float = 1e-3
    thresholds: int = 101
    precision: str = "float32"
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    finetune_schedule: str = "constant"
    head_optimizer: str | None = None
    head_lr: float | None = None
    augment: str = "none"
    loader_workers: int = 0
    pin_memory: bool = False
    description: str = field(default="", compare=False)

    def replace(self, **changes) -> "Profile":
        """A copy with some settings changed; None values are ignored. Unknown names → ValueError."""
        changes = {current_name(k): v for k, v in changes.items()}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(
                f"unknown profile setting(s) {sorted(unknown)}; known: "
                f"{[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        """The settings as a dict, those of :data:`LATER_SETTINGS` only where they are not at
        their defaults (so the hash of a run's settings, :func:`eelib.checkpoints.config_hash`,
        and its metadata are those of the runs made before these settings existed)."""
        settings = dataclasses.asdict(self)
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {k: v for k, v in settings.items() if k not in LATER_SETTINGS or v != defaults[k]}

    def training(self) -> dict:
        """Keyword arguments of :func:`eelib.train` these settings give every phase (the
        learning rate, its schedule and the epochs aside)."""
        return {
            "batch_size": self.batch_size,
            "precision": self.precision,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "augment": self.augment,
            "loader_workers": self.loader_workers,
            "pin_memory": self.pin_memory,
        }


ARCHITECTURE_SETTINGS = {
    "cnn": ("widths", "head_pool", "final_pool", "pool_after"),
    "resnet": (
        "widths",
        "head_pool",
        "final_pool",
        "blocks_per_group",
        "exit_after",
        "stem_stride",
    ),
}
"""The settings each architecture's network reads (:func:`build_model`); the others do not change
it, and :func:`eelib.checkpoints.config_hash` leaves them out."""


LATER_SETTINGS = (
    "optimizer",
    "momentum",
    "weight_decay",
    "lr_schedule",
    "finetune_schedule",
    "head_optimizer",
    "head_lr",
    "augment",
    "loader_workers",
    "pin_memory",
)
"""Settings added after the first committed results (see :meth:`Profile.to_dict`)."""


def current_name(name: str) -> str:
    """A setting's name now; an old name (:data:`eelib.results.RENAMED_SETTINGS`) is mapped to
    its new one with a DeprecationWarning that names both."""
    if name not in RENAMED_SETTINGS:
        return name
    new = RENAMED_SETTINGS[name]
    warnings.warn(f"the setting {name} is now called {new}", DeprecationWarning, stacklevel=3)
    return new


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
        prune_rounds=1,
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
        dataset="cifar10",
        architecture="resnet",
        head_pool=4,
        final_pool=1,
        train_epochs=100,
        head_epochs=25,
        prune_rounds=4,
        finetune_epochs=2,
        sparsities=(0.5, 0.75, 0.9, 0.95, 0.98),
        seeds=(0, 1, 2),
        val_size=5000,
        batch_size=128,
        optimizer="sgd",
        momentum=0.9,
        weight_decay=1e-4,
        lr=0.1,
        lr_schedule="step",
        finetune_lr=0.01,
        finetune_schedule="cosine",
        head_optimizer="adam",
        head_lr=1e-3,
        augment="crop-flip",
        precision="bfloat16",
        description=(
            "the paper's setting: ResNet-56 with 7 exits on CIFAR-10 trained as ResNet papers "
            "do (SGD, momentum, weight decay, step schedule, crop + flip), 20 rounds of (prune + "
            "fine-tune); a GPU profile"
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
    name = current_name(name.strip().replace("-", "_"))
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
    ``blocks_per_group``, ``exit_after``, ``head_pool``, ``stem_stride`` and ``final_pool``
    (book, chapter 5); :data:`ARCHITECTURE_SETTINGS` lists them.
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
                **{name: getattr(profile, name) for name in ARCHITECTURE_SETTINGS["resnet"]},
            )
        return EarlyExitCNN(
            in_channels,
            num_classes,
            **{name: getattr(profile, name) for name in ARCHITECTURE_SETTINGS["cnn"]},
        )


def validate(config: Profile) -> Profile:
    """Check every setting of a run before any data is loaded; return it with targets sorted.

    Raises:
        ValueError: saying which setting is wrong and what it must be — an unknown dataset,
            architecture, precision, optimizer, schedule or augmentation; epochs, rounds,
            thresholds, batch size or validation size that are not positive integers; learning
            rates that are not positive; a negative momentum, weight decay or loader_workers;
            cached heads' inputs with augmentation; no seeds or repeated seeds;
            no target sparsities, a repeated one, or one outside (0, 1) (0 is the dense reference,
            always recorded).
    """
    choices = {
        "dataset": DATASETS,
        "architecture": ARCHITECTURES,
        "heads_compute": HEADS_COMPUTE,
        "precision": PRECISIONS,
        "optimizer": OPTIMIZERS,
        "lr_schedule": SCHEDULES,
        "finetune_schedule": SCHEDULES,
        "augment": AUGMENTATIONS,
    }
    for name, allowed in choices.items():
        arguments.choice(getattr(config, name), name, allowed)
    if config.head_optimizer is not None:
        arguments.choice(config.head_optimizer, "head_optimizer", OPTIMIZERS)
    for name in ("train_epochs", "prune_rounds", "finetune_epochs", "batch_size", "val_size"):
        arguments.integer(getattr(config, name), name)
    arguments.integer(config.thresholds, "thresholds", 2)
    arguments.integer(config.head_patience, "head_patience", 0)
    arguments.integer(config.loader_workers, "loader_workers", 0)
    for name in ("head_epochs", "joint_epochs"):
        arguments.integer(getattr(config, name), name, optional=True)
    for name in ("lr", "finetune_lr", "head_lr"):  # learning rates
        arguments.number(getattr(config, name), name, above=True, optional=name == "head_lr")
    for name in ("momentum", "weight_decay"):
        arguments.number(getattr(config, name), name)
    if not isinstance(config.pin_memory, bool):
        raise ValueError(f"pin_memory must be True or False, got {config.pin_memory!r}")
    if config.augment != "none" and config.heads_compute == "cached":
        raise ValueError(
            "heads_compute='cached' counts the exit heads' inputs computed once, but with "
            f"augment={config.augment!r} they change every epoch (no cache); use "
            "heads_compute=uncached or augment=none"
        )
    seeds = tuple(config.seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers, at least one; got {seeds!r}")
    for seed in seeds:
        arguments.integer(seed, "a seed", 0)
    targets = tuple(check_sparsity(s) for s in config.sparsities)
    if not targets or len(set(targets)) != len(targets) or min(targets) <= 0:
        raise ValueError(
            f"sparsities must be distinct fractions in (0, 1), at least one; got {targets!r} "
            "(the dense network, sparsity 0, is always recorded as the reference)"
        )
    return config.replace(sparsities=tuple(sorted(targets)), seeds=seeds)

"""One training loop for every phase: joint training, the base network alone, or the exit heads alone.

Joint training minimises Σ_k w_k · CE_k over the K exits, equal weights by default (the
Shallow-Deep Networks loss without its schedule; the book's chapter 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import trange

from . import arguments
from .data import AUGMENTATIONS, random_crop_flip
from .early_exit import exit_accuracy, predict_all_exits
from .memory_format import channels_last, refresh_masked_weights
from .models import EarlyExitNetwork


def _loss_weights(
    model: EarlyExitNetwork, scope: str, exit_weights: Sequence[float] | None
) -> torch.Tensor:
    K = model.num_exits
    if exit_weights is not None:
        if scope != "all":
            raise ValueError(
                f"exit_weights apply to joint training (scope='all'), not scope={scope!r}"
            )
        if len(exit_weights) != K or any(w < 0 for w in exit_weights):
            raise ValueError(
                f"exit_weights needs {K} non-negative numbers, one per exit, got {list(exit_weights)}"
            )
        return torch.as_tensor(exit_weights, dtype=torch.float32)
    weights = {"all": [1.0] * K, "base": [0.0] * (K - 1) + [1.0], "exits": [1.0] * (K - 1) + [0.0]}
    if scope not in weights:
        raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(weights)}")
    return torch.tensor(weights[scope])


PRECISIONS = ("float32", "bfloat16")


def cpu_has_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX), PyTorch's fast path for
    ``precision="bfloat16"`` on a CPU; without them bfloat16 autocast is emulated and much
    slower than float32 (how much, per CPU: ``benchmarks/training_throughput.csv``). True where
    PyTorch cannot tell."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    found = [getattr(torch.cpu, name, None) for name in checks]
    if None in found:
        return True
    return any(check() for check in found)


OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "step", "cosine")


def lr_factor(schedule: str, progress: float) -> float:
    """The learning rate's multiplier at ``progress`` ∈ [0, 1) of a training call's steps.

    ``"constant"``: 1. ``"step"``: 1, then 0.1 from half of the steps, 0.01 from three quarters
    (He et al., 2016, §4.2: "divide it by 10 at 32k and 48k iterations, and terminate training
    at 64k"). ``"cosine"``: ½ (1 + cos π·progress), from 1 down towards 0 (Loshchilov & Hutter,
    2017, SGDR, without restarts). Raises ValueError for another schedule.
    """
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        return 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def _optimizer(parameters, name: str, lr: float, momentum: float, weight_decay: float):
    """Adam (``torch.optim.Adam``, L2 ``weight_decay``) or SGD with (heavy-ball) momentum."""
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if weight_decay:
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(parameters, lr=lr)


def augmentation_generator(seed: int) -> torch.Generator:
    """The generator a training call's augmentation draws from: seeded from ``seed`` but apart
    from the shuffling's, so turning augmentation on leaves the order of the batches as it was."""
    state = np.random.SeedSequence((seed, 0xA06)).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def _check_options(optimizer, momentum, weight_decay, schedule, augment, loader_workers):
    arguments.choice(optimizer, "optimizer", OPTIMIZERS)
    lr_factor(schedule, 0.0)
    arguments.choice(augment, "augmentation", AUGMENTATIONS)
    arguments.number(momentum, "momentum")
    arguments.number(weight_decay, "weight_decay")
    arguments.integer(loader_workers, "loader_workers", 0)


def train(
    model: EarlyExitNetwork,
    dataset: Dataset,
    epochs: int,
    *,
    scope: str = "all",
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    exit_weights: Sequence[float] | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    desc: str | None = None,
    precision: str = "float32",
    cache_features: bool = True,
    validation: Dataset | None = None,
    patience: int = 0,
    optimizer: str = "adam",
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    augment: str = "none",
    loader_workers: int = 0,
    pin_memory: bool = False,
    threads: int | None = None,
) -> list[float]:
    """Train the part of ``model`` that ``scope`` names, in place (Adam at a constant learning
    rate by default; SGD, weight decay, a schedule and augmentation on request).

    Args:
        model: an early-exit network.
        dataset: items ``(image (C, H, W), label)``.
        epochs: passes over ``dataset``; 0 does nothing.
        scope: ``"all"`` — every parameter, loss Σ_k w_k · CE_k over all exits (joint training);
            ``"base"`` — backbone and final classifier, loss of the final classifier only;
            ``"exits"`` — the early-exit heads only, loss Σ over the early exits, with the base
            network frozen (no gradients, BatchNorm in eval mode). The features each head reads
            then do not change while the heads train, so they are computed once, before the first
            epoch, and the heads' linear layers train on them: the same steps on the same batches,
            without a forward pass through the base network per step (book, chapter 4).
        lr: the optimiser's (starting) learning rate.
        batch_size: samples per step.
        seed: seeds the shuffling (a ``torch.Generator``); same seed and model → same weights.
        exit_weights: the K loss weights w_k for ``scope="all"`` (default: all 1).
        device: where to train (default: where the model is).
        progress: show a ``tqdm`` progress bar over epochs.
        desc: the progress bar's label.
        precision: ``"float32"``, or ``"bfloat16"``: the forward and backward passes run under
            ``torch.autocast`` in bfloat16 (faster where the CPU has AVX512-BF16 or AMX, or on a
            GPU; much slower on a CPU without bfloat16 instructions, see :func:`cpu_has_bfloat16`), while the weights and
            the optimiser's state stay float32. Either way the images and weights are
            channels-last while the network trains (back to contiguous after).
        cache_features: for ``scope="exits"``, compute the heads' inputs once (the default; the
            same weights, faster); False runs the whole network at every step, the cost
            :func:`eelib.training_flops` counts per epoch.
        validation: with ``patience`` > 0, the images early stopping watches.
        patience: 0 trains exactly ``epochs``; n > 0 trains until the mean accuracy of the
            exits the loss covers on ``validation`` has not improved for n epochs (at most
            ``epochs``), then restores the trained parameters of the best epoch ("until the
            validation accuracy stops improving"; book, chapter 5).
        optimizer: ``"adam"`` (``torch.optim.Adam``) or ``"sgd"`` (``torch.optim.SGD`` with
            ``momentum``, the ResNet recipe: He et al., 2016).
        momentum: SGD's momentum (ignored by Adam).
        weight_decay: L2 penalty on every trained parameter (both optimisers; 0: none).
        schedule: the learning rate over the call's steps, ``"constant"``, ``"step"`` (÷10 at
            50 % and 75 %) or ``"cosine"`` (:func:`lr_factor`), stepped after every batch;
            with ``patience`` the schedule spans ``epochs``, the most it may train.
        augment: ``"none"`` or ``"crop-flip"`` (:func:`eelib.data.random_crop_flip` on every
            training batch, on the device, drawn from :func:`augmentation_generator`: the same
            seed gives the same images). Only the training batches are augmented, never
            ``validation``. The heads' inputs then change every epoch, so ``scope="exits"``
            runs the frozen base at every step (no cache). Needs an
            :class:`~eelib.data.ImageDataset` (its :meth:`~eelib.data.ImageDataset.black`).
        loader_workers: ``DataLoader`` worker processes preparing batches (0: in this
            process). The batches and their order are the same for any number.
        pin_memory: page-locked batches for faster, asynchronous copies to a CUDA device
            (ignored elsewhere). Batches always move with ``non_blocking=True``.
        threads: PyTorch's CPU threads during this call (None: as they are set; restored
            after). PyTorch splits a convolution's sums by thread, so the same seed gives
            slightly different weights on 1 and on 2 threads; ``threads=1`` gives the same
            network for any core count of one CPU, as the capstone's given network and its
            grader's bars need (chapter 8).

    Returns:
        The mean training loss of each epoch trained (fewer than ``epochs`` when early
        stopping ended it).

    Raises:
        ValueError: an unknown scope, precision, optimizer, schedule or augmentation, bad
            ``exit_weights``, a negative ``epochs``, ``momentum``, ``weight_decay`` or
            ``loader_workers``, an empty dataset, a negative ``patience`` or a ``patience``
            without ``validation``, augmentation of a dataset without ``black()``, ``threads``
            not a positive integer.
    """
    arguments.integer(epochs, "epochs", 0)
    if len(dataset) == 0:
        raise ValueError("the training dataset is empty")
    arguments.choice(precision, "precision", PRECISIONS)
    arguments.integer(patience, "patience", 0)
    if patience and validation is None:
        raise ValueError("early stopping (patience > 0) needs a validation dataset")
    arguments.integer(threads, "threads", optional=True)
    _check_options(optimizer, momentum, weight_decay, schedule, augment, loader_workers)
    fill = _augmentation_fill(dataset, augment)
    cache_features = cache_features and fill is None  # augmented inputs change every batch
    weights = _loss_weights(model, scope, exit_weights)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    weights = weights.to(device)
    frozen = (
        [p for _, part in model.parts("base") for p in part.parameters()]
        if scope == "exits"
        else []
    )
    trainable = [p for _, part in model.parts(scope) for p in part.parameters()]
    optim = _optimizer(trainable, optimizer, lr, momentum, weight_decay)
    generator = torch.Generator().manual_seed(seed)
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=precision == "bfloat16")
    was_training, grad_flags = model.training, [p.requires_grad for p in frozen]
    history, best, waited, kept = [], -1.0, 0, None
    pool = torch.get_num_threads()
    try:
        with channels_last(model):
            if threads is not None:
                torch.set_num_threads(threads)
            model.train()
            for p in frozen:
                p.requires_grad_(False)
            if scope == "exits":
                for _, part in model.parts("base"):
                    part.eval()
            if scope == "exits" and cache_features:
                forward, batches = _cached_heads(
                    model, dataset, batch_size, generator, device, autocast
                )
            else:
                loader = _loader(dataset, batch_size, generator, loader_workers, pin_memory, device)
                forward, batches = model, _images(loader, device, _augmenter(fill, seed))
            steps = max(1, epochs * _steps_per_epoch(len(dataset), batch_size))
            scheduler = _lr_scheduler(optim, schedule, steps)
            bar = trange(epochs, desc=desc or f"train {scope}", disable=not progress, leave=False)
            for _ in bar:
                history.append(_epoch(forward, batches(), weights, optim, scheduler, autocast))
                bar.set_postfix(loss=f"{history[-1]:.3f}")
                if patience:
                    score = _validation_accuracy(model, validation, weights, device, scope)
                    if score > best:
                        best, waited, kept = score, 0, [p.detach().clone() for p in trainable]
                    else:
                        waited += 1
                        if waited >= patience:
                            break
            if kept is not None:
                with torch.no_grad():
                    for p, value in zip(trainable, kept):
                        p.copy_(value)
    finally:
        if threads is not None:
            torch.set_num_threads(pool)
        for p, flag in zip(frozen, grad_flags):
            p.requires_grad_(flag)
        model.train(was_training)
        refresh_masked_weights(model)
    return history


def _epoch(forward, batches, weights, optim, scheduler, autocast) -> float:
    """One pass over ``batches`` minimising the weighted sum of the exits' cross-entropy losses
    (book, chapter 2); returns the mean loss per sample."""
    criterion = nn.CrossEntropyLoss()
    total, count = 0.0, 0
    for inputs, labels in batches:
        with autocast:
            logits = forward(inputs)
            loss = sum(w * criterion(z, labels) for w, z in zip(weights, logits) if w != 0)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def _augmentation_fill(dataset: Dataset, augment: str) -> torch.Tensor | None:
    """The per-channel black that pads the crops, or None without augmentation."""
    if augment == "none":
        return None
    if not hasattr(dataset, "black"):
        raise ValueError(
            f"augment={augment!r} needs an eelib ImageDataset (its black() pads the crops), "
            f"got {type(dataset).__name__}"
        )
    return dataset.black()


def _loader(dataset, batch_size, generator, workers, pin_memory, device) -> DataLoader:
    # Not persistent_workers: a new iterator each epoch draws its base seed from the generator,
    # as with no workers, so the shuffling is the same for any number of them.
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        generator=generator,
        num_workers=workers,
        pin_memory=pin_memory and device.type == "cuda",
    )


def _augmenter(fill: torch.Tensor | None, seed: int):
    """A function of an ``(N, C, H, W)`` batch giving its random crops and flips, or None."""
    if fill is None:
        return None
    draws = augmentation_generator(seed)
    return lambda images: random_crop_flip(images, fill, draws)


def _lr_scheduler(optim, schedule: str, steps: int):
    """The learning-rate schedule over ``steps`` optimiser steps, or None for a constant one."""
    if schedule == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(optim, lambda step: lr_factor(schedule, step / steps))


def _validation_accuracy(model, dataset, weights, device, scope: str) -> float:
    """Mean accuracy on ``dataset`` of the exits with a non-zero loss weight (early stopping's
    score); leaves the model in training mode, a frozen base in eval mode."""
    probs, labels = predict_all_exits(model, dataset, device=device)
    score = float(exit_accuracy(probs, labels)[weights.cpu() != 0].mean())
    model.train()
    if scope == "exits":
        for _, part in model.parts("base"):
            part.eval()
    return score


def _steps_per_epoch(size: int, batch_size: int) -> int:
    return -(-size // batch_size)  # a DataLoader keeps the last, smaller batch


def _images(loader: DataLoader, device: torch.device, augment=None):
    """One epoch of ``(images, labels)`` batches on ``device``, augmented there by ``augment``,
    channels-last."""

    def epoch():
        for images, labels in loader:
            images = images.to(device, non_blocking=True)
            if augment is not None:
                images = augment(images)
            yield images.to(memory_format=torch.channels_last), labels.to(device, non_blocking=True)

    return epoch


def _cached_heads(model, dataset, batch_size: int, generator, device, autocast):
    """``(forward, batches)`` that train the exit heads on features computed once.

    Each exit head is a parameter-free reduction (pooling, flattening) followed by one linear
    layer. With the base network frozen and in eval mode the reduced features are fixed, so they
    are computed here once for every image; a batch is then a set of indices, in the order a
    shuffling ``DataLoader`` with the same generator gives, and ``forward(indices)`` runs only the
    heads' linear layers (the final classifier's logits, weight 0 for this scope, are None).
    """
    heads = list(model.exit_heads)
    for head in heads:
        if not (isinstance(head, nn.Sequential) and isinstance(head[-1], nn.Linear)) or any(
            True for _ in head[:-1].parameters()
        ):
            raise ValueError(
                "training the exit heads alone needs heads of the form (parameter-free layers, "
                "then one nn.Linear), as eelib's networks have"
            )
    features, labels = [[] for _ in heads], []
    with torch.no_grad(), autocast:
        for images, y in DataLoader(dataset, batch_size=512):
            x = images.to(device, memory_format=torch.channels_last)
            for stage, head, store in zip(model.stages, heads, features):
                x = stage(x)
                store.append(head[:-1](x).float())
            labels.append(torch.as_tensor(y).to(device))
    features, labels = [torch.cat(f) for f in features], torch.cat(labels)
    order = DataLoader(range(len(labels)), batch_size=batch_size, shuffle=True, generator=generator)

    def forward(index):
        return [head[-1](f[index]) for head, f in zip(heads, features)] + [None]

    def epoch():
        for index in order:
            yield index, labels[index]

    return forward, epoch

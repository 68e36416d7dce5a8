"""Memory layout and masked weights: the low-level helpers that training, evaluation, pruning and
checkpoints all use, kept below them so none imports another for them.

:func:`channels_last` runs a block with a network's weights in channels-last order (faster CPU
kernels; ``benchmarks/channels_last.csv`` measures by how much); :func:`refresh_masked_weights`
recomputes the weights ``torch.nn.utils.prune`` derives from its masks.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def channels_last(model: nn.Module) -> Iterator[None]:
    """``model``'s weights in channels-last memory order inside the block, contiguous after.

    With channels-last images too, PyTorch's CPU backend (oneDNN) runs convolution, pooling and
    batch norm with faster kernels, the same arithmetic up to rounding (how much faster, per
    network and CPU: ``benchmarks/channels_last.csv``).
    :func:`eelib.train`, :func:`eelib.early_exit.predict_all_exits` and the heads' cached features
    use it; feed the model ``images.to(memory_format=torch.channels_last)`` (4-D) inside.
    """
    if model in _CHANNELS_LAST:  # nested (evaluation inside training): already converted
        yield
        return
    _CHANNELS_LAST.add(model)
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        _CHANNELS_LAST.discard(model)
        model.to(memory_format=torch.contiguous_format)
        refresh_masked_weights(model)


_CHANNELS_LAST: weakref.WeakSet = weakref.WeakSet()  # models inside a channels_last block


def refresh_masked_weights(model: nn.Module) -> None:
    """Recompute each pruned weight (``weight_orig × weight_mask``) outside autograd.

    ``torch.nn.utils.prune`` recomputes it before every forward pass; the one left from the last
    training step belongs to the autograd graph, and such a tensor blocks ``copy.deepcopy``.
    """
    with torch.no_grad():
        for module in model.modules():
            if hasattr(module, "weight_mask") and hasattr(module, "weight_orig"):
                module.weight = module.weight_orig * module.weight_mask

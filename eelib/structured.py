"""Structured (channel) pruning with Torch-Pruning: a physically smaller network, not a mask.

``torch_pruning`` (Fang et al., 2023, "DepGraph") follows the dependencies between layers — a
convolution's output channels, the BatchNorm after it, the next convolution's input channels and
the exit head's linear inputs behind the pooling — and removes whole channels from all of them,
so the network gets smaller and faster. Channels are ranked by the L1 norm of their weights
(magnitude importance). The classifiers' outputs (the classes) are never pruned.
"""

from __future__ import annotations

import torch

from .models import EarlyExitNetwork
from .pruning import check_sparsity

MAX_LAYER_RATIO = 0.9  # no layer loses more than 90 % of its channels: no layer collapse


def structured_prune(
    model: EarlyExitNetwork,
    channel_sparsity: float,
    input_shape: tuple[int, ...],
    scope: str = "all",
) -> EarlyExitNetwork:
    """Remove the fraction ``channel_sparsity`` of the backbone's channels, smallest L1 norm first.

    The channels of every convolution are ranked in one global pool by the L1 norm of their
    weights, with the weights of every layer that depends on a channel counted in (Torch-Pruning's
    ``MagnitudeImportance(p=1)``, ``global_pruning=True``); no layer loses more than 90 % of its
    channels. With ``scope="base"`` the exit heads'
    weights do not count towards the importance (the base network is pruned as if the heads were
    not there; the heads' inputs still shrink with the channels they read).

    Args:
        model: an early-exit network, changed in place (its layers are replaced by smaller ones)
            and returned. Pruning masks, if any, must be removed first.
        channel_sparsity: fraction of channels removed, in [0, 1).
        input_shape: one sample's shape ``(C, H, W)``, for tracing the layer dependencies.
        scope: ``"all"`` or ``"base"``: whose weights decide the ranking.

    Raises:
        ValueError: ``channel_sparsity`` outside [0, 1), an unknown scope, or a model with masks.
    """
    channel_sparsity = check_sparsity(channel_sparsity, "channel_sparsity")
    if scope not in ("all", "base"):
        raise ValueError(
            f"structured pruning ranks channels over scope 'all' or 'base', got {scope!r}"
        )
    if any(hasattr(m, "weight_mask") for m, _ in model.prunable("all")):
        raise ValueError(
            "the model carries unstructured pruning masks; call eelib.remove_masks first"
        )
    if channel_sparsity == 0:
        return model
    classifiers = [
        head[-1] if isinstance(head, torch.nn.Sequential) else head for head in model.heads()
    ]
    example = torch.zeros(1, *input_shape, device=next(model.parameters()).device)
    types = [torch.nn.Conv2d, torch.nn.BatchNorm2d] + ([torch.nn.Linear] if scope == "all" else [])
    import torch_pruning as tp  # here, not at the top: importing it takes half a second

    importance = tp.importance.MagnitudeImportance(p=1, target_types=types)
    pruner = tp.pruner.MagnitudePruner(
        model,
        example,
        importance=importance,
        pruning_ratio=channel_sparsity,
        global_pruning=True,
        max_pruning_ratio=MAX_LAYER_RATIO,
        ignored_layers=classifiers,
    )
    pruner.step()
    return model

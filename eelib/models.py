"""Early-exit networks: a backbone of K stages with a classifier after each stage.

Design (COURSE_DESIGN §3): after stage k < K an *exit head* (adaptive average pooling to a small
grid, then one linear layer) predicts the class; after stage K the *final classifier* of the same
form does. The **base network** is the backbone plus the final classifier; the **early-exit heads**
are the additional linear classifiers. This follows the internal classifiers of Shallow-Deep
Networks (Kaya et al., 2019) as used by Görmez & Koyuncu (2022).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

SCOPES = ("all", "base", "exits")
PRUNABLE_TYPES = (nn.Conv2d, nn.Linear)


def exit_head(channels: int, num_classes: int, pool: int) -> nn.Sequential:
    """A linear classifier on a stage's features: ``(N, channels, H, W)`` → logits ``(N, num_classes)``."""
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(pool), nn.Flatten(), nn.Linear(channels * pool * pool, num_classes)
    )


class EarlyExitNetwork(nn.Module):
    """A backbone of K stages, an exit head after each of the first K − 1 and a final classifier.

    Args:
        stages: K modules applied one after another.
        exit_heads: K − 1 modules, head k reads the output of stage k.
        final_classifier: reads the output of stage K.

    ``forward(x)`` with ``x`` of shape ``(N, C, H, W)`` returns a list of K logits tensors
    ``(N, num_classes)``, shallow to deep (the last is the final classifier's).
    """

    def __init__(
        self,
        stages: Sequence[nn.Module],
        exit_heads: Sequence[nn.Module],
        final_classifier: nn.Module,
    ):
        super().__init__()
        if len(exit_heads) != len(stages) - 1:
            raise ValueError(
                f"{len(stages)} stages need {len(stages) - 1} exit heads, got {len(exit_heads)}"
            )
        self.stages = nn.ModuleList(stages)
        self.exit_heads = nn.ModuleList(exit_heads)
        self.final_classifier = final_classifier

    @property
    def num_exits(self) -> int:
        """K, the number of exits including the final classifier."""
        return len(self.stages)

    def heads(self) -> list[nn.Module]:
        """The K classifiers, shallow to deep: the exit heads, then the final classifier."""
        return [*self.exit_heads, self.final_classifier]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        logits = []
        for stage, head in zip(self.stages, self.heads()):
            x = stage(x)
            logits.append(head(x))
        return logits

    def parts(self, scope: str = "all") -> list[tuple[str, nn.Module]]:
        """The named parts of a scope, in network order.

        Names are ``"stage k"``, ``"exit k"`` (an early-exit head) and ``"final"``, with k from 1.
        ``"all"`` is everything, ``"base"`` the stages and the final classifier, ``"exits"`` the
        early-exit heads. Raises ValueError for another scope.
        """
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
        parts = []
        for k, stage in enumerate(self.stages, start=1):
            if scope in ("all", "base"):
                parts.append((f"stage {k}", stage))
            if k < self.num_exits and scope in ("all", "exits"):
                parts.append((f"exit {k}", self.exit_heads[k - 1]))
        if scope in ("all", "base"):
            parts.append(("final", self.final_classifier))
        return parts

    def prunable(self, scope: str = "all") -> list[tuple[nn.Module, str]]:
        """``(module, "weight")`` for every Conv2d and Linear layer in the scope (biases and BatchNorm are not pruned).

        The list is the ``parameters`` argument of ``torch.nn.utils.prune.global_unstructured``.
        """
        return [(m, "weight") for _, m in self.named_prunable(scope)]

    def named_prunable(self, scope: str = "all") -> list[tuple[str, nn.Module]]:
        """``(name, layer)`` for every prunable layer in the scope; names look like ``"stage 2/0"``."""
        return [
            (f"{part}/{name}" if name else part, m)
            for part, module in self.parts(scope)
            for name, m in module.named_modules()
            if isinstance(m, PRUNABLE_TYPES)
        ]


class EarlyExitCNN(EarlyExitNetwork):
    """The course's small early-exit CNN.

    Stage k is ``Conv3×3(widths[k−1]) → BatchNorm → ReLU → MaxPool 2×2``. Each exit head is adaptive
    average pooling to ``head_pool × head_pool`` followed by one Linear layer; the final classifier is
    the same with ``final_pool``. The paper's design (Shallow-Deep-Network internal classifiers on a
    ResNet, Kaya et al., 2019) is ``head_pool=4, final_pool=1``: heads read a 4×4 grid, the final
    classifier globally pooled features.

    Args:
        in_channels: image channels (1 for Fashion-MNIST, 3 for CIFAR-10).
        num_classes: number of classes.
        widths: output channels of each stage; K = ``len(widths)`` exits.
        head_pool: side of the pooled grid each exit head reads.
        final_pool: side of the pooled grid the final classifier reads (default: ``head_pool``).

    Input ``(N, in_channels, H, W)``; output: K logits tensors ``(N, num_classes)``.

    Raises:
        ValueError: fewer than 2 widths, or a pool side that is not a positive integer.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64),
        head_pool: int = 2,
        final_pool: int | None = None,
    ):
        if len(widths) < 2:
            raise ValueError(
                f"an early-exit CNN needs at least 2 stages, got widths={tuple(widths)}"
            )
        final_pool = head_pool if final_pool is None else final_pool
        for name, value in (("head_pool", head_pool), ("final_pool", final_pool)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{name} is the side of a pooled grid, a positive integer; got {value!r}"
                )
        channels = [in_channels, *widths]
        stages = [
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )
            for c_in, c_out in zip(channels, channels[1:])
        ]
        heads = [exit_head(w, num_classes, head_pool) for w in widths[:-1]]
        super().__init__(stages, heads, exit_head(widths[-1], num_classes, final_pool))
        self.config = {
            "in_channels": in_channels,
            "num_classes": num_classes,
            "widths": list(widths),
            "head_pool": head_pool,
            "final_pool": final_pool,
        }

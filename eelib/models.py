"""Early-exit networks: a backbone of K stages with a classifier after each stage.

Design (the book's chapter 2): after stage k < K an *exit head* (adaptive average pooling to a small
grid, then one linear layer) predicts the class; after stage K the *final classifier* of the same
form does. The **base network** is the backbone plus the final classifier; the **early-exit heads**
are the additional linear classifiers. This follows the internal classifiers of Shallow-Deep
Networks (Kaya et al., 2019) as used by Görmez & Koyuncu (2022).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import arguments

SCOPES = ("all", "base", "exits")
"""The parts of a network a function can act on, in turn all of it, the base network (backbone
and final classifier) or the exit heads."""
PRUNABLE_TYPES = (nn.Conv2d, nn.Linear)
"""The layers whose weights are pruned and counted in sparsity (biases and BatchNorm are not)."""


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

    Stage k is ``Conv3×3(widths[k−1]) → BatchNorm → ReLU``, followed by ``MaxPool 2×2`` when k is in
    ``pool_after`` (default: every stage). Each exit head is adaptive
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
        pool_after: the stages (numbered from 1) followed by 2×2 max pooling (default: all).
            The ``full`` profile's 6-stage network pools after stages 2, 4 and 6, so that deep
            stages still see a 7×7 or 3×3 grid of a 28×28 image.

    Input ``(N, in_channels, H, W)``; output: K logits tensors ``(N, num_classes)``.

    Raises:
        ValueError: fewer than 2 widths, a pool side that is not a positive integer, or a
            ``pool_after`` stage that does not exist.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        *,
        widths: Sequence[int] = (16, 32, 64),
        head_pool: int = 2,
        final_pool: int | None = None,
        pool_after: Sequence[int] | None = None,
    ):
        if len(widths) < 2:
            raise ValueError(
                f"an early-exit CNN needs at least 2 stages, got widths={tuple(widths)}"
            )
        arguments.integer(head_pool, "head_pool (the side of a pooled grid)")
        final_pool = head_pool if final_pool is None else final_pool
        arguments.integer(final_pool, "final_pool (the side of a pooled grid)")
        pool_after = tuple(range(1, len(widths) + 1)) if pool_after is None else tuple(pool_after)
        if not set(pool_after) <= set(range(1, len(widths) + 1)):
            raise ValueError(
                f"pool_after names stages 1..{len(widths)} (numbered from 1), got {pool_after}"
            )
        channels = [in_channels, *widths]
        stages = [
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                *([nn.MaxPool2d(2)] if k in pool_after else []),
            )
            for k, (c_in, c_out) in enumerate(zip(channels, channels[1:]), start=1)
        ]
        heads = [exit_head(w, num_classes, head_pool) for w in widths[:-1]]
        super().__init__(stages, heads, exit_head(widths[-1], num_classes, final_pool))
        self.config = {
            "in_channels": in_channels,
            "num_classes": num_classes,
            "widths": list(widths),
            "head_pool": head_pool,
            "final_pool": final_pool,
            "pool_after": sorted(pool_after),
        }


class BasicBlock(nn.Module):
    """ResNet's basic block for CIFAR (He et al., 2016, §4.2): two Conv3×3–BatchNorm, a shortcut, ReLU.

    When the block changes width or stride, the shortcut is a 1×1 convolution with BatchNorm (option
    B of the ResNet paper). Input ``(N, c_in, H, W)`` → ``(N, c_out, H / stride, W / stride)``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class EarlyExitResNet(EarlyExitNetwork):
    """The paper's network: a CIFAR ResNet with Shallow-Deep-Network internal classifiers.

    ResNet-(6n + 2) (He et al., 2016, §4.2): a Conv3×3(16) stem, then 3 groups of n basic blocks of
    widths 16, 32, 64 (the second and third groups halve the grid). Internal classifiers read the
    output of the blocks in ``exit_after`` (numbered 1..3n); each pools to ``head_pool × head_pool``
    and applies one linear layer. The final classifier is ResNet's: global average pooling
    (``final_pool=1``), one linear layer. The default is Görmez & Koyuncu's (2022) network as the
    first author's poster gives it: ResNet-56 (n = 9, 27 blocks) with exits after blocks 4, 8, 12, 16, 20 and 24, the
    placement of Kaya et al. (2019), 7 exits in all.

    Args:
        in_channels, num_classes: as in :class:`EarlyExitCNN`.
        blocks_per_group: n; depth = 6n + 2.
        exit_after: blocks after which an internal classifier reads, increasing, each < 3n.
        head_pool: side of the grid each internal classifier pools to.
        widths: the three groups' widths.
        stem_stride: 1, or 2 to halve the grid in the stem (the ``full`` profile's 28×28 images).
        final_pool: side of the grid the final classifier pools to (default 1: ResNet's global
            average pooling).

    Input ``(N, in_channels, H, W)``; output: K = ``len(exit_after) + 1`` logits ``(N, num_classes)``.

    Raises:
        ValueError: ``exit_after`` not increasing, empty, or naming a block outside 1..3n − 1;
            not 3 widths; a stem stride other than 1 or 2; a pool side that is not a positive
            integer.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        *,
        blocks_per_group: int = 9,
        exit_after: Sequence[int] = (4, 8, 12, 16, 20, 24),
        head_pool: int = 4,
        widths: Sequence[int] = (16, 32, 64),
        stem_stride: int = 1,
        final_pool: int | None = None,
    ):
        arguments.integer(head_pool, "head_pool (the side of a pooled grid)")
        final_pool = 1 if final_pool is None else final_pool
        arguments.integer(final_pool, "final_pool (the side of a pooled grid)")
        n_blocks = 3 * blocks_per_group
        exit_after = tuple(exit_after)
        if (
            not exit_after
            or list(exit_after) != sorted(set(exit_after))
            or exit_after[0] < 1
            or exit_after[-1] >= n_blocks
        ):
            raise ValueError(
                f"exit_after must be increasing block numbers in 1..{n_blocks - 1}, got {exit_after}"
            )
        if len(widths) != 3 or stem_stride not in (1, 2):
            raise ValueError(
                f"a CIFAR ResNet has 3 groups of widths and a stem stride of 1 or 2, got "
                f"widths={tuple(widths)}, stem_stride={stem_stride!r}"
            )
        blocks, c_in = [], widths[0]
        for group, width in enumerate(widths):
            for b in range(blocks_per_group):
                stride = 2 if group > 0 and b == 0 else 1
                blocks.append(BasicBlock(c_in, width, stride))
                c_in = width
        stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stem_stride, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        bounds = [0, *exit_after, n_blocks]
        stages = [nn.Sequential(*blocks[a:b]) for a, b in zip(bounds, bounds[1:])]
        stages[0] = nn.Sequential(stem, *stages[0])
        read = [blocks[b - 1].conv2.out_channels for b in exit_after]  # each head's input width
        heads = [exit_head(w, num_classes, head_pool) for w in read]
        super().__init__(stages, heads, exit_head(widths[-1], num_classes, final_pool))
        self.config = {
            "in_channels": in_channels,
            "num_classes": num_classes,
            "blocks_per_group": blocks_per_group,
            "exit_after": list(exit_after),
            "head_pool": head_pool,
            "widths": list(widths),
            "stem_stride": stem_stride,
            "final_pool": final_pool,
        }

"""What the paper and its poster report, quoted: the figures a reproduction is set beside.

Görmez & Koyuncu (2022) and the first author's poster (SNN workshop 2022): ResNet-56 on CIFAR-10,
7 exits, one run, at an overall sparsity the poster does not state (its per-layer bars suggest
about 85–90 %). Every figure is read off the poster to about ±1 point (``COURSE_DESIGN.md`` §7 of
the course's design notes); compare patterns, not digits. The book's chapter 5 and
:func:`eelib.report.size_lines` read them from here.
"""

from __future__ import annotations

SAYS = {
    "A": "all at once is better in general (up to about 15 % fewer FLOPs at equal accuracy)",
    "B contrast": "at high accuracy the two are alike, where elsewhere all at once leads",
    "B accuracy": "at high accuracy the two are alike",
    "B FLOPs": "at high accuracy the two are alike",
    "C early": "all at once is better at the early exits",
    "C deep": "ordered is better at the deep exits (exit 7 of 7)",
}
"""Claim name (:data:`eelib.claims.NAMES`) → what the paper or poster says, in words."""

EXITS = {
    "all-at-once": (61.0, 66.4, 77.9, 80.9, 85.3, 86.5, 82.7),
    "ordered": (52.5, 60.0, 71.5, 74.5, 83.0, 85.5, 87.5),
}
"""Accuracy (%) of each exit after pruning, exits 1 → 7, every sample forced out there."""

PARTS = {"all-at-once": (60, 76, 13), "ordered": (72, 95, 13)}
"""Sparsity (%) of the exit heads (fewest, most) and of the final classifier, per strategy."""

SAVING = 15.0
"""The largest FLOPs saving of all at once at equal accuracy, in percent ("up to 15 %")."""

ROUNDS = 20
"""Rounds of (prune + fine-tune) to the final sparsity."""


def exit_gap(exit: int) -> float:
    """All at once − ordered at ``exit`` (1 … 7), in points, from :data:`EXITS`.

    Raises:
        ValueError: an exit outside 1 … 7.
    """
    if not 1 <= exit <= len(EXITS["ordered"]):
        raise ValueError(f"the paper's network has exits 1 to {len(EXITS['ordered'])}, got {exit}")
    return round(EXITS["all-at-once"][exit - 1] - EXITS["ordered"][exit - 1], 1)

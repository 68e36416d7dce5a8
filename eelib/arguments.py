"""Checks for arguments and settings: one clear line when a value has the wrong type or range.

Every entry point of ``eelib`` (``train``, the pruning functions, ``validate`` for a run's
settings, the exit rules…) checks its own inputs with these three functions, so a bad value gets
the same message wherever it is given. A ``bool`` is never taken for a number (Python counts
``True`` as 1). Plain Python, no torch: any module may import it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def integer(value, name: str, minimum: int = 1, *, optional: bool = False) -> int | None:
    """``value`` as an ``int`` if it is a whole number ≥ ``minimum`` (``None`` if ``optional``).

    Raises:
        ValueError: ``value`` is a ``bool``, not an integer, or below ``minimum``.
    """
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        also = " or None" if optional else ""
        raise ValueError(f"{name} must be an integer ≥ {minimum}{also}, got {value!r}")
    return int(value)


def number(
    value, name: str, minimum: float = 0.0, *, above: bool = False, optional: bool = False
) -> float | None:
    """``value`` as a ``float`` if it is a finite real ≥ ``minimum`` (> ``minimum`` if ``above``).

    Raises:
        ValueError: ``value`` is a ``bool``, not a real number, not finite, or out of range.
    """
    if optional and value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or (value <= minimum if above else value < minimum)
    ):
        bound = f"{'>' if above else '≥'} {minimum:g}"
        also = " or None" if optional else ""
        raise ValueError(f"{name} must be a number {bound}{also}, got {value!r}")
    return float(value)


def choice(value, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``.

    Raises:
        ValueError: ``value`` is not one of them (the message lists them).
    """
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return value

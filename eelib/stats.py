"""Statistics over seeds: intervals, equivalence tests, verdicts with three outcomes, and the
correction for testing several claims at once (the book's chapter 5).

Every number here is one value per seed (NaNs dropped); ``scipy.stats`` does the arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import arguments

VERDICTS = ("holds", "does not hold", "undecided")
"""The verdicts a claim can get (:func:`decide`)."""


def check_confidence(confidence: float) -> None:
    """Check a confidence level (a fraction in (0, 1), e.g. 0.95), as every interval here takes.

    Raises:
        ValueError: ``confidence`` is a ``bool`` or not strictly between 0 and 1.
    """
    if isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ValueError(f"confidence is a fraction in (0, 1), e.g. 0.95; got {confidence!r}")


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[~np.isnan(values)]


def interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of ``values`` (one number per seed), NaNs dropped.

    Uses ``scipy.stats.t.interval`` with the standard error of the mean, the usual interval for a
    handful of seeds. Returns ``(mean, low, high)``; with fewer than 2 values the bounds are NaN
    (no interval can be given from one seed) and with identical values they equal the mean.
    Raises ValueError for a ``confidence`` outside (0, 1) (0.95, not 95).
    """
    from scipy import stats  # here, not at the top: importing it takes a third of a second

    check_confidence(confidence)
    values = _finite(values)
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    sem = stats.sem(values)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def interval_table(
    frame: pd.DataFrame, by: list[str], column: str, confidence: float
) -> pd.DataFrame:
    """:func:`interval` of ``column`` per group of ``by``.

    Columns: ``by``, ``mean``, ``low``, ``high``, ``seeds`` (values that are not NaN).
    """
    rows = []
    for key, group in frame.groupby(by, sort=False):
        mean, low, high = interval(group[column], confidence)
        rows.append(
            dict(zip(by, key if isinstance(key, tuple) else (key,)))
            | {"mean": mean, "low": low, "high": high, "seeds": int(group[column].notna().sum())}
        )
    return pd.DataFrame(rows, columns=[*by, "mean", "low", "high", "seeds"])


def equivalence(values, margin: float, confidence: float = 0.95) -> float:
    """p-value of the two one-sided t-tests (TOST) that the mean of ``values`` lies in ±``margin``.

    The null hypotheses are mean ≤ −margin and mean ≥ +margin; the p-value is the larger of the
    two one-sided p-values (Schuirmann, 1987; ``scipy.stats.ttest_1samp``). TOST at level α
    shows equivalence exactly when the (1 − 2α) interval lies inside ±margin: the course's 95 %
    interval inside the margin is TOST at α = 2.5 % (the usual TOST at 5 % reads the 90 %
    interval). NaN with fewer than 2 values; 0 or 1 when all values are equal (inside or outside
    the margin). ``confidence`` is only checked, for symmetry with :func:`interval`.

    Args:
        values: one number per seed (NaNs dropped), in the margin's unit.
        margin: the equivalence margin, > 0 (the course's choice: the paper gives none).
        confidence: as in :func:`interval`.

    Raises:
        ValueError: a margin ≤ 0 or a confidence outside (0, 1).
    """
    from scipy import stats

    if not margin > 0:
        raise ValueError(f"margin must be positive (in the values' unit), got {margin!r}")
    check_confidence(confidence)
    values = _finite(values)
    if len(values) < 2:
        return np.nan
    if np.ptp(values) == 0:
        return 0.0 if abs(values[0]) < margin else 1.0
    above = stats.ttest_1samp(values, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(values, margin, alternative="less").pvalue
    return float(max(above, below))


def decide(low: float, high: float, test: str, margin: float = 0.0) -> str:
    """The verdict an interval ``[low, high]`` gives a claim, one of :data:`VERDICTS`.

    ``test="positive"``: holds if the interval lies above 0, does not hold if below 0;
    ``"negative"``: the reverse; ``"equivalence"``: holds if it lies inside ±``margin``
    (two one-sided tests, see :func:`equivalence`), does not hold if it lies wholly outside.
    Otherwise, and without an interval (NaN bounds: fewer than 2 seeds), undecided.

    Raises:
        ValueError: an unknown test, or an equivalence test without a positive margin.
    """
    if test not in ("positive", "negative", "equivalence"):
        raise ValueError(f"test is 'positive', 'negative' or 'equivalence', got {test!r}")
    if test == "equivalence" and not margin > 0:
        raise ValueError(f"an equivalence test needs a positive margin, got {margin!r}")
    if np.isnan(low) or np.isnan(high):
        return "undecided"
    if test == "positive":
        holds, fails = low > 0, high < 0
    elif test == "negative":
        holds, fails = high < 0, low > 0
    else:
        holds, fails = -margin < low and high < margin, low > margin or high < -margin
    return "holds" if holds else "does not hold" if fails else "undecided"


def corrected(confidence: float, tests: int) -> float:
    """The per-claim confidence that keeps the chance of any wrong verdict among ``tests`` claims
    at most 1 − ``confidence`` (Bonferroni): 1 − (1 − confidence) / tests.

    Raises:
        ValueError: a confidence outside (0, 1) or fewer than 1 test.
    """
    check_confidence(confidence)
    arguments.integer(tests, "tests (how many claims are tested)")
    return 1 - (1 - confidence) / tests

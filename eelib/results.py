"""The results table: what one run of the study records, and how it is saved, found and read.

One row per (strategy, sparsity, seed, threshold): the trade-off curve of one network (the columns
of :func:`eelib.tradeoff_curve`) with the run's own numbers repeated on each of its rows. This
module owns the table's format — its columns, strategies, exits and parts — so the analysis
(:mod:`eelib.frontiers`, :mod:`eelib.claims`, :mod:`eelib.plots`, :mod:`eelib.widgets`) reads
results through it and never through the runner (:mod:`eelib.experiment`). The book's chapter 5 reads the committed results.

Columns of a run (besides ``strategy``, ``sparsity`` — the target, 0 for the dense network — and
``seed``):

- ``threshold``, ``accuracy``, ``flops`` and ``exit_1`` … ``exit_K`` (share of samples leaving at
  each exit): the curve on the test set; ``val_accuracy`` and ``val_flops`` the same thresholds on
  the validation split;
- ``exit_k_accuracy`` (every sample forced out at exit k) and ``exit_k_flops`` (FLOPs to reach
  exit k, non-zero weights only);
- ``sparsity_all``, ``sparsity_base``, ``sparsity_exits`` and ``sparsity_<part>`` for each part
  (``stage_k``, ``exit_k``, ``final``): fractions of zero weights;
- ``collapsed_layers``: the layers pruned to at least :data:`COLLAPSED` sparsity, ``;``-joined.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pandas as pd

from .models import SCOPES

STRATEGIES = ("all-at-once", "ordered")
"""The paper's two strategies, in the order the course compares them (all at once − ordered)."""
RUN = ["strategy", "sparsity", "seed"]
"""The columns that name one network (one run) of the table."""
COLLAPSED = 0.99
"""A layer pruned to at least this sparsity counts as collapsed (book, chapter 3)."""

RENAMED_SETTINGS = {"prune_steps": "prune_rounds"}
"""Old names of profile settings and their names now: results files written under an old name
load under the new one (:func:`load_results`); :meth:`eelib.profiles.Profile.replace` and ``--set``
take the old one with a DeprecationWarning; :func:`eelib.checkpoints.config_hash` hashes under
the old one, so the checkpoints of earlier runs stay theirs."""


def exit_accuracy_column(k: int) -> str:
    """The column of exit k's accuracy with every sample forced out there (k from 1)."""
    return f"exit_{k}_accuracy"


def exit_flops_column(k: int) -> str:
    """The column of the FLOPs to reach exit k (k from 1)."""
    return f"exit_{k}_flops"


def part_column(part: str) -> str:
    """The column of a part's sparsity: ``"stage 2"`` → ``"sparsity_stage_2"``."""
    return "sparsity_" + part.replace(" ", "_")


def num_exits(results: pd.DataFrame) -> int:
    """K, the number of exits of the networks in ``results`` (one ``exit_k_accuracy`` column each)."""
    return sum(1 for c in results.columns if c.startswith("exit_") and c.endswith("_accuracy"))


def early_exits(K: int) -> range:
    """The exits that count as *early* for the paper's claim C: 1 … ⌊K/2⌋ (at least exit 1).

    The final exit K is the *deep* one (the paper: ordered is better at exit 7 of 7).
    """
    return range(1, max(1, K // 2) + 1)


def parts(results: pd.DataFrame) -> list[str]:
    """The network's parts in network order (``"stage 1"``, ``"exit 1"``, …, ``"final"``)."""
    prefix, scopes = "sparsity_", {part_column(s) for s in SCOPES}
    return [
        c.removeprefix(prefix).replace("_", " ")
        for c in results.columns
        if c.startswith(prefix) and c not in scopes
    ]


def runs(results: pd.DataFrame) -> pd.DataFrame:
    """One row per network (strategy, sparsity, seed) with its run-level columns, in table order."""
    return results.groupby(RUN, sort=False).first().reset_index()


def exit_gaps(results: pd.DataFrame) -> pd.DataFrame:
    """All at once − ordered accuracy at each exit, every sample forced out there, per seed.

    Returns:
        Index (``sparsity``, ``seed``) over the runs both strategies have; one column per exit k
        (1..K); accuracy differences in points (percent of the test set).
    """
    K = num_exits(results)
    columns = [exit_accuracy_column(k) for k in range(1, K + 1)]
    table = runs(results).set_index(RUN)[columns]
    one, two = (
        table[table.index.get_level_values("strategy") == s].droplevel(0) for s in STRATEGIES
    )
    gaps = 100 * (one - two).dropna()
    return gaps.rename(columns=dict(zip(columns, range(1, K + 1))))


def collapsed_layers(results: pd.DataFrame) -> pd.DataFrame:
    """The runs in which pruning left a layer at ≥ 99 % sparsity (layer collapse), one row per run.

    Columns: ``strategy``, ``sparsity``, ``seed``, ``layers`` (a list of layer names such as
    ``"stage 4/0"``).
    """
    table = runs(results)
    names = table["collapsed_layers"].fillna("").astype(str)
    table = table.assign(layers=names.map(lambda text: text.split(";") if text else []))
    return table.loc[names != "", [*RUN, "layers"]].reset_index(drop=True)


def check_out(out: str | os.PathLike, overwrite: bool) -> Path:
    """``out`` as a Path after checking it can be written.

    Raises:
        ValueError: ``out`` does not end in ``.csv`` (its ``.json`` would overwrite it).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    out = Path(out)
    if out.suffix != ".csv":
        raise ValueError(
            f"out must be a .csv path (a .json with the metadata goes beside it), got {out}"
        )
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"{out} exists; pass overwrite=True (--overwrite) or choose another path"
        )
    return out


def save_results(results: pd.DataFrame, out: str | os.PathLike, overwrite: bool = False) -> None:
    """Write ``results`` to the ``.csv`` path ``out`` and its ``.attrs["metadata"]`` to a ``.json`` beside it.

    Raises ValueError if ``out`` does not end in ``.csv``, FileExistsError if it exists and
    ``overwrite`` is False.
    """
    out = check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    out.with_suffix(".json").write_text(
        json.dumps(results.attrs.get("metadata", {}), indent=2) + "\n"
    )


def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read results written by :func:`save_results`, metadata back in ``.attrs["metadata"]``.

    ``path`` is a ``.csv`` file or an ``http(s)://`` address of one (the committed results of the
    course's repository, for a notebook on Colab without a clone); the ``.json`` beside it is read
    too; a setting it names by an old name (:data:`eelib.results.RENAMED_SETTINGS`) is read
    under its name now. Raises FileNotFoundError when a local file does not exist.
    """
    text = str(path)
    if text.startswith(("http://", "https://")):
        results = pd.read_csv(text)
        with urllib.request.urlopen(text[: -len(".csv")] + ".json") as response:
            results.attrs["metadata"] = _current_names(json.load(response))
        return results
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no results at {path}; make them with `python -m eelib reproduce` (see book/setup.md)"
        )
    results = pd.read_csv(path)
    meta = path.with_suffix(".json")
    results.attrs["metadata"] = _current_names(
        json.loads(meta.read_text()) if meta.exists() else {}
    )
    return results


def _current_names(metadata: dict) -> dict:
    """Metadata whose ``config`` names its settings as :class:`eelib.Profile` does now."""
    config = metadata.get("config", {})
    for old, new in RENAMED_SETTINGS.items():
        if old in config:
            config[new] = config.pop(old)
    return metadata


def find_results(relative: str | os.PathLike) -> Path | None:
    """The file ``relative`` (e.g. ``"results/full-fashion-mnist.csv"``) under the current folder or
    the nearest parent that has it, else None.

    A notebook runs from ``notebooks/``, a student copy from ``_build/student/``, a script from the
    repository root: each finds the repository's committed results this way.
    """
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / relative).is_file():
            return folder / relative
    return None


def locate(relative: str, repository: str | None = None) -> str:
    """Where to read a results file: :func:`find_results` here or in a parent folder; else, outside
    a clone of the course (Colab), the raw copy of ``relative`` in ``repository`` (a GitHub URL)
    when the path lies under ``results/``; else ``relative`` as given (its reader then says it is
    missing). A string (a path or a URL)."""
    found = find_results(relative)
    if found is not None:
        return str(found)
    in_clone = find_results("results/README.md") is not None
    if repository and not in_clone and str(relative).startswith("results/"):
        raw = repository.replace("github.com", "raw.githubusercontent.com")
        return f"{raw}/main/{relative}"
    return str(relative)


def summarise(results: pd.DataFrame, tolerance: float = 0.01) -> pd.DataFrame:
    """One row per (strategy, sparsity): means over seeds of the reached sparsity, the final exit's
    accuracy and FLOPs, the best accuracy on the curve, and the fewest mean FLOPs per sample of a
    threshold whose accuracy is within ``tolerance`` (a fraction) of that best.
    """
    K = num_exits(results)

    def per_run(run: pd.DataFrame) -> pd.Series:
        best = run["accuracy"].max()
        return pd.Series(
            {
                "sparsity reached": run["sparsity_all"].iloc[0],
                "final-exit accuracy": run[exit_accuracy_column(K)].iloc[0],
                "final-exit MFLOPs": run[exit_flops_column(K)].iloc[0] / 1e6,
                "best accuracy": best,
                f"MFLOPs within {tolerance * 100:g} pt of best": run.loc[
                    run["accuracy"] >= best - tolerance, "flops"
                ].min()
                / 1e6,
            }
        )

    table = results.groupby(RUN, sort=False).apply(per_run, include_groups=False)
    return table.groupby(["strategy", "sparsity"], sort=False).mean()

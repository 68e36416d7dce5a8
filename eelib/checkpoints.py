"""Finished pieces of a run kept on disk, so an interrupted run resumes with the same numbers.

A piece is a trained or pruned network (pruning masks included), the seconds it took and, for a
recorded network, its rows of the results table. Pieces live under a hash of every setting that
changes a run's numbers, so a changed setting never reuses an old piece (``book/setup.md``, "A long
run's protocol and options").
:class:`Pieces` does each piece of a run, or restores it, and keeps the recorded rows.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import pandas as pd
import torch
from torch.nn.utils import prune
from tqdm.auto import tqdm

from .memory_format import refresh_masked_weights
from .models import PRUNABLE_TYPES, EarlyExitNetwork
from .profiles import ARCHITECTURE_SETTINGS, Profile
from .results import RENAMED_SETTINGS


def config_hash(config: Profile, device: torch.device) -> str:
    """A short hash of everything that changes a run's numbers (seeds, name and description aside).

    A network setting that the architecture does not read (``pool_after`` for a ResNet,
    ``exit_after`` for the CNN…, see :data:`eelib.profiles.ARCHITECTURE_SETTINGS`) counts at its
    default, so setting it changes no hash: it changes no network. A renamed setting is hashed
    under its old name (:data:`eelib.results.RENAMED_SETTINGS`): a rename changes no hash.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    network = {name for names in ARCHITECTURE_SETTINGS.values() for name in names}
    unread = network - set(ARCHITECTURE_SETTINGS.get(config.architecture, network))
    settings = {
        k: defaults[k] if k in unread else v
        for k, v in config.to_dict().items()
        if k not in ("seeds", "name", "description")
    }
    old_names = {new: old for old, new in RENAMED_SETTINGS.items()}
    settings = {old_names.get(k, k): v for k, v in settings.items()}
    settings["device"] = device.type
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Checkpoints:
    """The finished pieces of one configuration's runs.

    Pieces live in ``folder/<key>/seed<seed>/``: ``<piece>.pt`` holds the network's state (pruning
    masks included) and the seconds it took, ``<piece>.csv`` its recorded rows. Files are written
    to a temporary name and renamed, so an interrupted write leaves no half piece. A piece that
    cannot be read (a truncated or corrupted file) is reported in one warning line and done again.
    With ``folder=None`` nothing is stored.
    """

    def __init__(self, folder: str | os.PathLike | None, key: str):
        self.folder = None if folder is None else Path(folder) / key

    def _path(self, seed: int, piece: str, suffix: str) -> Path:
        return self.folder / f"seed{seed}" / f"{piece.replace('@', '-at-')}{suffix}"

    def load(self, seed: int, piece: str, model: EarlyExitNetwork):
        """Load a finished piece into ``model``: ``(seconds, rows or None)``; None if there is none.

        ``model`` is changed only when the whole piece was read; an unreadable piece gives a
        warning and None, so it is recomputed.
        """
        path = self._path(seed, piece, ".pt") if self.folder is not None else None
        if path is None or not path.exists():
            return None
        table = self._path(seed, piece, ".csv")
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            loaded = copy.deepcopy(model)
            _load_state(loaded, saved["state"])
            rows = pd.read_csv(table, keep_default_na=False) if table.exists() else None
            seconds = float(saved["seconds"])
        except Exception as error:  # any unreadable piece is recomputed, whatever broke it
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            warnings.warn(
                f"checkpoint piece {path} cannot be read ({reason[:120]}); recomputing it",
                stacklevel=2,
            )
            return None
        _load_state(model, loaded.state_dict())
        return seconds, rows

    def save(self, seed: int, piece: str, model: EarlyExitNetwork, seconds: float, rows=None):
        """Store a finished piece (nothing when the folder is None)."""
        if self.folder is None:
            return
        self._path(seed, piece, "").parent.mkdir(parents=True, exist_ok=True)
        if rows is not None:
            _atomic(self._path(seed, piece, ".csv"), lambda f: rows.to_csv(f, index=False))
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        _atomic(
            self._path(seed, piece, ".pt"),
            lambda f: torch.save({"state": state, "seconds": seconds}, f),
        )


def _atomic(path: Path, write) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    write(partial)
    partial.replace(path)


def _load_state(model: EarlyExitNetwork, state: dict) -> None:
    """Load a state dict that may hold pruning masks: attach masks where the state has them first."""
    for name, module in model.named_modules():
        if isinstance(module, PRUNABLE_TYPES) and f"{name}.weight_mask" in state:
            if not hasattr(module, "weight_mask"):
                prune.identity(module, "weight")
    model.load_state_dict(state)
    refresh_masked_weights(model)  # weight = weight_orig × weight_mask of the loaded state


class Pieces:
    """Does each piece of a run — or restores it from the checkpoints — and keeps its rows.

    A piece is one training or pruning step of a seed's run (``"joint"``, ``"base@0.8"``…,
    :func:`eelib.run_experiment`); a recorded piece adds the finished network's rows of the
    results table.

    Args:
        store: where finished pieces are kept (:class:`Checkpoints`; its folder may be None).
        evaluate_model: the network → its rows of the results table (a ``pandas.DataFrame``,
            :func:`eelib.evaluation.evaluate` with the run's data and thresholds).
        total: pieces in the whole run, for the progress bar.
        progress: show a progress bar over the pieces.
        restore_only: every piece must be in ``store`` already (workers made them); a missing
            one raises ValueError instead of being done here.

    Attributes:
        rows: the recorded pieces' rows, in the order they were done or restored.
        seconds: compute time in seconds of every piece so far, as each measured it when done.
        resumed: pieces restored from ``store``.
    """

    def __init__(
        self,
        store: Checkpoints,
        evaluate_model,
        total: int,
        progress: bool,
        restore_only: bool = False,
    ):
        self.store, self.evaluate, self.restore_only = store, evaluate_model, restore_only
        self.rows, self.seconds, self.resumed = [], 0.0, 0
        self.bar = tqdm(total=total, desc="pieces", disable=not progress)

    def run(self, seed: int, name: str, model, work, record: str | None = None, sparsity=0.0):
        """Restore piece ``name`` into ``model``, or do ``work(model)`` and store it; return the
        model. A recorded piece (``record`` = its strategy) adds the model's rows at ``sparsity``,
        with the run-level columns ``work`` may return as a dict.

        Raises:
            ValueError: with ``restore_only``, the piece is not in the store.
        """
        done = self.store.load(seed, name, model)
        if done is not None:
            took, rows = done
            self.resumed += 1
        elif self.restore_only:
            raise ValueError(
                f"piece {name} of seed {seed} is not in {self.store.folder}, where the workers "
                "were to leave it: give checkpoints a folder that they and this machine share"
            )
        else:
            began = time.perf_counter()
            extra = work(model)  # a dict of run-level columns, or what train returned
            extra = extra if isinstance(extra, dict) else {}
            rows = None
            if record is not None:
                rows = self.evaluate(model).assign(**extra)
                rows.insert(0, "seed", seed)
                rows.insert(0, "sparsity", sparsity)
                rows.insert(0, "strategy", record)
            took = time.perf_counter() - began
            self.store.save(seed, name, model, took, rows)
        self.seconds += took
        if rows is not None:
            self.rows.append(rows)
        self.bar.update()
        return model

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()

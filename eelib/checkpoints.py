"""Finished pieces of a run kept on disk, so an interrupted run resumes with the same numbers.

A piece is a trained or pruned network (pruning masks included), the seconds it took and, for a
recorded network, its rows of the results table. Pieces live under a hash of every setting that
changes a run's numbers, so a changed setting never reuses an old piece (README, "Profiles").
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import warnings
from pathlib import Path

import pandas as pd
import torch
from torch.nn.utils import prune

from .memory_format import refresh_masked_weights
from .models import PRUNABLE_TYPES, EarlyExitNetwork
from .profiles import Profile


def config_hash(config: Profile, device: torch.device) -> str:
    """A short hash of everything that changes a run's numbers (seeds, name and description aside)."""
    settings = {
        k: v for k, v in config.to_dict().items() if k not in ("seeds", "name", "description")
    }
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

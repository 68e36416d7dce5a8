"""The study end to end: train, prune both ways, sweep the exit threshold, collect tidy results.

For each seed, one network is trained jointly (strategy 1's start and, fine-tuned, the dense
reference) and one base network alone (strategy 2's start); each is pruned along one trajectory
through every target sparsity, recorded on the way (Görmez & Koyuncu, 2022, §3–4; COURSE_DESIGN
§3). Both strategies get matched training compute; pieces can be checkpointed to resume.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import time
import urllib.request
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn.utils import prune
from tqdm.auto import tqdm

from .costs import exit_costs, training_flops
from .data import DATASETS, load_dataset, validation_split
from .early_exit import exit_accuracy, predict_all_exits, tradeoff_curve
from .models import PRUNABLE_TYPES, EarlyExitCNN, EarlyExitNetwork, EarlyExitResNet
from .profiles import ARCHITECTURES, Profile, get_profile
from .pruning import check_sparsity, iterative_prune, layer_sparsity, part_sparsity, sparsity
from .training import refresh_masked_weights, train

STRATEGIES = ("all-at-once", "ordered")
# A strategy's training compute may differ from the other's by at most this fraction (issue 9).
COMPUTE_TOLERANCE = 0.10


def build_model(
    profile: Profile, in_channels: int, num_classes: int, seed: int
) -> EarlyExitNetwork:
    """The profile's early-exit network with weights initialised from ``seed`` (the global RNG is left as it was).

    ``architecture="cnn"`` gives an :class:`~eelib.EarlyExitCNN`, ``"resnet56"`` the paper's
    :class:`~eelib.EarlyExitResNet`. Raises ValueError for an unknown architecture or bad widths
    and pool sides.
    """
    if profile.architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {profile.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if profile.architecture == "resnet56":
            return EarlyExitResNet(in_channels, num_classes, head_pool=profile.head_pool)
        return EarlyExitCNN(
            in_channels,
            num_classes,
            profile.widths,
            profile.head_pool,
            profile.final_pool,
            profile.pool_after,
        )


def evaluate(
    model: EarlyExitNetwork, test_set, thresholds, device=None, val_set=None
) -> pd.DataFrame:
    """The model's trade-off curve on ``test_set`` with run-level columns added.

    Columns: those of :func:`eelib.tradeoff_curve`; ``val_accuracy`` and ``val_flops`` (the same
    thresholds on ``val_set``, when given, to choose operating points on); ``sparsity_all``,
    ``sparsity_base``, ``sparsity_exits`` and one ``sparsity_<part>`` per part (``stage_k``,
    ``exit_k``, ``final``), all fractions; ``collapsed_layers`` (the layers pruned to ≥ 99 %
    sparsity, ``;``-separated, empty if none); per exit k ``exit_k_accuracy`` (every sample forced
    out at k) and ``exit_k_flops`` (FLOPs to reach exit k, non-zero weights only).
    """
    probs, labels = predict_all_exits(model, test_set, device=device)
    costs = exit_costs(model, test_set[0][0].shape)
    curve = tradeoff_curve(probs, labels, costs, thresholds)
    if val_set is not None:
        val = tradeoff_curve(*predict_all_exits(model, val_set, device=device), costs, thresholds)
        curve["val_accuracy"], curve["val_flops"] = val["accuracy"], val["flops"]
    for scope in ("all", "base", "exits"):
        curve[f"sparsity_{scope}"] = sparsity(model, scope)
    for part, value in part_sparsity(model).items():
        curve[f"sparsity_{part.replace(' ', '_')}"] = value
    layers = layer_sparsity(model)
    curve["collapsed_layers"] = ";".join(layers.loc[layers["sparsity"] >= 0.99, "layer"])
    for k, (acc, flops) in enumerate(
        zip(exit_accuracy(probs, labels).tolist(), costs.tolist()), start=1
    ):
        curve[f"exit_{k}_accuracy"] = acc
        curve[f"exit_{k}_flops"] = flops
    return curve


def _versions() -> dict[str, str]:
    names = ("eelib", "torch", "torchvision", "numpy", "pandas", "scipy")
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _machine(device: torch.device) -> dict[str, str | int]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "",
    }


def _positive_int(config: Profile, name: str, minimum: int = 1) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")


def validate(config: Profile) -> Profile:
    """Check every setting of a run before any training starts; return it with targets sorted.

    Raises:
        ValueError: saying which setting is wrong and what it must be — an unknown dataset or
            architecture; epochs, rounds, thresholds, batch size or validation size that are not
            positive integers; learning rates that are not positive; no seeds or repeated seeds;
            no target sparsities, a repeated one, or one outside (0, 1) (0 is the dense reference,
            always recorded).
    """
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    if config.architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {config.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    for name in ("train_epochs", "prune_steps", "finetune_epochs", "batch_size", "val_size"):
        _positive_int(config, name)
    _positive_int(config, "thresholds", 2)
    for name in ("head_epochs", "joint_epochs"):
        if getattr(config, name) is not None:
            _positive_int(config, name)
    for name in ("lr", "finetune_lr"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive learning rate, got {value!r}")
    seeds = tuple(config.seeds)
    if (
        not seeds
        or len(set(seeds)) != len(seeds)
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ValueError(f"seeds must be distinct integers, at least one; got {seeds!r}")
    targets = tuple(check_sparsity(s) for s in config.sparsities)
    if not targets or len(set(targets)) != len(targets) or min(targets) <= 0:
        raise ValueError(
            f"sparsities must be distinct fractions in (0, 1), at least one; got {targets!r} "
            "(the dense network, sparsity 0, is always recorded as the reference)"
        )
    return config.replace(sparsities=tuple(sorted(targets)), seeds=seeds)


def compute_budget(
    config: Profile, model: EarlyExitNetwork, input_shape: tuple[int, ...], train_size: int
) -> tuple[int, pd.DataFrame]:
    """Training compute of each strategy up to each target, and the joint epochs that match them.

    Per training sample, ``training_flops`` counts one step of each scope (forward + backward,
    dense). Reaching the i-th target costs (with p = ``prune_steps``, F = ``finetune_epochs``):

    - all at once: ``(joint_epochs + i·p·F) × FLOPs(all)`` — joint training, then i·p rounds;
    - ordered: ``(train_epochs + i·p·F) × FLOPs(base) + (head_epochs + p·F) × FLOPs(exits)`` —
      the base network's training and rounds, then the heads' training and p rounds.

    The dense reference is fine-tuned for as many epochs as the whole all-at-once trajectory.

    Args:
        config: a validated profile; ``joint_epochs=None`` asks for the whole number of joint
            epochs that makes the worst ratio of the two strategies' compute closest to 1.
        model: the network (its FLOPs are counted on a copy).
        input_shape: one image's shape ``(C, H, W)``.
        train_size: training images per epoch.

    Returns:
        ``(joint_epochs, table)``; the table has one row per target: ``sparsity``,
        ``all-at-once`` and ``ordered`` (training FLOPs, not MACs, in total), the same in
        epoch-equivalents (``…_epochs``: one epoch of joint training = 1) and ``ratio``
        (all at once / ordered).

    Raises:
        ValueError: the two differ by more than 10 % at some target; the message gives the
            ratios and says which epochs to change.
    """
    per = {scope: training_flops(model, input_shape, scope) for scope in ("all", "base", "exits")}
    p, F = config.prune_steps, config.finetune_epochs
    head_epochs = config.head_epochs or config.train_epochs
    steps = np.arange(1, len(config.sparsities) + 1) * p * F
    ordered = (config.train_epochs + steps) * per["base"] + (head_epochs + p * F) * per["exits"]

    def worst(joint_epochs: int) -> float:
        return float(np.max(np.abs((joint_epochs + steps) * per["all"] / ordered - 1)))

    joint_epochs = config.joint_epochs or min(
        range(1, 2 * (config.train_epochs + head_epochs + p * F) + 1), key=worst
    )
    table = pd.DataFrame(
        {
            "sparsity": config.sparsities,
            "all-at-once": (joint_epochs + steps) * per["all"] * train_size,
            "ordered": ordered * train_size,
        }
    )
    for strategy in STRATEGIES:
        table[f"{strategy}_epochs"] = table[strategy] / (per["all"] * train_size)
    table["ratio"] = table["all-at-once"] / table["ordered"]
    if worst(joint_epochs) > COMPUTE_TOLERANCE:
        raise ValueError(
            f"with {joint_epochs} joint epochs, all at once costs "
            f"{', '.join(f'{r:.2f}' for r in table['ratio'])} × the ordered strategy's training "
            f"compute at the targets; they must agree within {100 * COMPUTE_TOLERANCE:.0f} %. Leave "
            "joint_epochs unset to match it, or change train_epochs, head_epochs or prune_steps."
        )
    return joint_epochs, table


def config_hash(config: Profile, device: torch.device) -> str:
    """A short hash of everything that changes a run's numbers (seeds, name and description aside)."""
    settings = {
        k: v for k, v in config.to_dict().items() if k not in ("seeds", "name", "description")
    }
    settings["device"] = device.type
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Checkpoints:
    """Finished pieces of a run (a trained or pruned network, its curve), so a run can resume.

    Pieces live in ``folder/<config hash>/seed<seed>/``: ``<piece>.pt`` holds the network's state
    (pruning masks included) and seconds it took, ``<piece>.csv`` its recorded curve. Files are
    written to a temporary name and renamed, so an interrupted write leaves no half piece. With
    ``folder=None`` nothing is stored.
    """

    def __init__(self, folder: str | os.PathLike | None, key: str):
        self.folder = None if folder is None else Path(folder) / key

    def _path(self, seed: int, piece: str, suffix: str) -> Path:
        return self.folder / f"seed{seed}" / f"{piece.replace('@', '-at-')}{suffix}"

    def load(self, seed: int, piece: str, model: EarlyExitNetwork):
        """Load a finished piece into ``model``: ``(seconds, curve or None)``, or None if not finished."""
        if self.folder is None or not self._path(seed, piece, ".pt").exists():
            return None
        saved = torch.load(self._path(seed, piece, ".pt"), map_location="cpu", weights_only=True)
        _load_state(model, saved["state"])
        table = self._path(seed, piece, ".csv")
        return float(saved["seconds"]), pd.read_csv(
            table, keep_default_na=False
        ) if table.exists() else None

    def save(self, seed: int, piece: str, model: EarlyExitNetwork, seconds: float, curve=None):
        if self.folder is None:
            return
        self._path(seed, piece, "").parent.mkdir(parents=True, exist_ok=True)
        if curve is not None:
            _atomic(self._path(seed, piece, ".csv"), lambda f: curve.to_csv(f, index=False))
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


def run_experiment(
    profile: str | Profile = "fast",
    dataset: str | None = None,
    seeds=None,
    sparsities=None,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    root=None,
    download: bool = False,
    device: str | None = None,
    progress: bool = True,
    checkpoints: str | os.PathLike | None = None,
    **settings,
) -> pd.DataFrame:
    """Run both pruning strategies along one pruning trajectory per seed; return every trade-off curve.

    Protocol (Görmez & Koyuncu, 2022, §3–4; COURSE_DESIGN §3; issue 9), per seed, on the training
    images left after a class-balanced validation split of ``val_size`` images:

    - **dense**: the network trained jointly for ``joint_epochs``, then fine-tuned jointly for as
      many epochs as the whole pruning trajectory (the fine-tuned dense reference, sparsity 0);
    - **all at once**: the same jointly trained network, pruned in one global pool along one
      trajectory — ``prune_steps`` rounds of (prune + ``finetune_epochs`` of joint fine-tuning)
      from each target to the next — recorded at every target on the way;
    - **ordered**: the base network trained for ``train_epochs``, pruned along its own trajectory
      (fine-tuning the base); at each target a copy gets its exit heads trained for
      ``head_epochs`` on the frozen base, then pruned to the target in ``prune_steps`` rounds.

    ``joint_epochs`` is chosen so both strategies' training compute agrees within 10 % at every
    target (:func:`compute_budget`). Curves are swept on the test set; ``val_accuracy`` and
    ``val_flops`` give the same thresholds on the validation split to choose operating points on.

    Args:
        profile: a profile name (see :mod:`eelib.profiles`) or a :class:`Profile`.
        dataset, seeds, sparsities: override the profile's.
        out: a ``.csv`` path to save the results to, with a ``.json`` beside it holding the
            metadata (config, seeds, compute per strategy, package versions, machine, wall time in
            seconds).
        overwrite: allow replacing an existing ``out``.
        root, download: passed to :func:`eelib.load_dataset`.
        device: ``"cpu"``, ``"cuda"``… (default: CUDA when available).
        progress: show a progress bar over the pieces of the run.
        checkpoints: a folder to keep finished pieces in (under a hash of the config); running the
            same command again after an interruption continues from them and gives the same
            numbers. A changed config gets another hash and never reuses old pieces.
        **settings: other profile settings to override (``train_epochs=1``…).

    Returns:
        A tidy DataFrame, one row per (strategy, sparsity, seed, threshold): columns ``strategy``
        (``"dense"``, ``"all-at-once"``, ``"ordered"``), ``sparsity`` (the target; 0 for dense),
        ``seed`` and those of :func:`evaluate`. ``.attrs["metadata"]`` holds the metadata.

    Raises:
        ValueError: any bad setting (see :func:`validate`) or unmatched compute — all checked
            before training starts.
        FileNotFoundError: the dataset is not on disk (see :func:`eelib.load_dataset`).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    base = profile if isinstance(profile, Profile) else get_profile(profile)
    config = validate(
        base.replace(
            dataset=dataset,
            seeds=None if seeds is None else tuple(seeds),
            sparsities=None if sparsities is None else tuple(sparsities),
            **settings,
        )
    )
    out = _check_out(out, overwrite) if out is not None else None
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    train_set, val_set = validation_split(
        load_dataset(config.dataset, "train", root=root, download=download), config.val_size
    )
    test_set = load_dataset(config.dataset, "test", root=root, download=download)
    in_channels, num_classes = train_set.image_shape[0], len(train_set.classes)
    probe = build_model(config, in_channels, num_classes, 0)
    joint_epochs, compute = compute_budget(config, probe, train_set.image_shape, len(train_set))
    config = config.replace(
        joint_epochs=joint_epochs, head_epochs=config.head_epochs or config.train_epochs
    )
    key = config_hash(config, device)
    store = Checkpoints(checkpoints, key)
    thresholds = np.linspace(0.0, 1.0, config.thresholds)
    fit = {"batch_size": config.batch_size, "device": device, "progress": False}
    tune = {**fit, "lr": config.finetune_lr}
    p, F, targets = config.prune_steps, config.finetune_epochs, config.sparsities
    rounds = p * len(targets)

    start = time.perf_counter()
    curves, seconds, resumed = [], 0.0, 0
    tasks = tqdm(
        total=len(config.seeds) * (3 + 3 * len(targets)), desc="pieces", disable=not progress
    )

    def piece(seed, name, model, work, strategy=None, target=0.0):
        """Restore a finished piece, or do its work, record its curve and store it."""
        nonlocal seconds, resumed
        done = store.load(seed, name, model)
        if done is not None:
            took, curve = done
            resumed += 1
        else:
            began = time.perf_counter()
            work(model)
            curve = None
            if strategy is not None:
                curve = evaluate(model, test_set, thresholds, device, val_set)
                curve.insert(0, "seed", seed)
                curve.insert(0, "sparsity", target)
                curve.insert(0, "strategy", strategy)
            took = time.perf_counter() - began
            store.save(seed, name, model, took, curve)
        seconds += took
        if curve is not None:
            curves.append(curve)
        tasks.update()

    for seed in config.seeds:
        joint = build_model(config, in_channels, num_classes, seed).to(device)
        piece(
            seed,
            "joint",
            joint,
            lambda m: train(m, train_set, joint_epochs, "all", config.lr, seed=seed, **fit),
        )
        piece(
            seed,
            "dense",
            copy.deepcopy(joint),
            lambda m: train(m, train_set, rounds * F, "all", seed=seed + 1, **tune),
            "dense",
        )
        trajectory = joint
        for i, target in enumerate(targets):
            before = targets[i - 1] if i else 0.0
            piece(
                seed,
                f"all-at-once@{target}",
                trajectory,
                lambda m: iterative_prune(
                    m, train_set, target, p, F, "all", seed + 1 + i * p, start=before, **tune
                ),
                "all-at-once",
                target,
            )
        base_net = build_model(config, in_channels, num_classes, seed).to(device)
        piece(
            seed,
            "base",
            base_net,
            lambda m: train(m, train_set, config.train_epochs, "base", config.lr, seed=seed, **fit),
        )
        for i, target in enumerate(targets):
            before = targets[i - 1] if i else 0.0
            piece(
                seed,
                f"base@{target}",
                base_net,
                lambda m: iterative_prune(
                    m, train_set, target, p, F, "base", seed + 1 + i * p, start=before, **tune
                ),
            )

            def heads(m, target=target):
                train(
                    m,
                    train_set,
                    config.head_epochs,
                    "exits",
                    config.lr,
                    seed=seed + rounds + 1,
                    **fit,
                )
                iterative_prune(m, train_set, target, p, F, "exits", seed + rounds + 2, **tune)

            piece(seed, f"ordered@{target}", copy.deepcopy(base_net), heads, "ordered", target)
    tasks.close()

    results = pd.concat(curves, ignore_index=True)
    results.attrs["metadata"] = {
        "config": config.to_dict(),
        "protocol": (
            "per seed: one pruning trajectory per strategy, recorded at every target; "
            f"{config.val_size} training images held out (class-balanced, seed 0) to choose "
            "operating points on; curves on the test set; the dense reference fine-tuned for as "
            "many epochs as the all-at-once trajectory"
        ),
        "budgets": {
            "joint training epochs (all at once, dense)": joint_epochs,
            "base network training epochs (ordered)": config.train_epochs,
            "exit-head training epochs at each target (ordered)": config.head_epochs,
            "pruning rounds from one target to the next": p,
            "exit-head pruning rounds (ordered)": p,
            "fine-tuning epochs per round": F,
            "dense reference fine-tuning epochs": rounds * F,
        },
        "compute": {
            "how": (
                "training FLOPs (forward + backward, dense, counted by "
                "torch.utils.flop_counter around one step of eelib.train per scope) × training "
                "images × epochs, up to each target; joint_epochs chosen to match within "
                f"{100 * COMPUTE_TOLERANCE:.0f} %"
            ),
            "per_target": compute.to_dict(orient="records"),
        },
        "train_images": len(train_set),
        "validation_images": len(val_set),
        "test_images": len(test_set),
        "seeds": list(config.seeds),
        "config_hash": key,
        "versions": _versions(),
        "machine": _machine(device),
        "compute_time_s": round(seconds, 1),
        "resumed_pieces": resumed,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if out is not None:
        save_results(results, out, overwrite=overwrite)
    return results


def _check_out(out: str | os.PathLike, overwrite: bool) -> Path:
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
    out = _check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    out.with_suffix(".json").write_text(
        json.dumps(results.attrs.get("metadata", {}), indent=2) + "\n"
    )


def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read results written by :func:`save_results`, metadata back in ``.attrs["metadata"]``.

    ``path`` is a ``.csv`` file or an ``http(s)://`` address of one (the committed results of the
    course's repository, for a notebook on Colab without a clone); the ``.json`` beside it is read
    too. Raises FileNotFoundError when a local file does not exist.
    """
    text = str(path)
    if text.startswith(("http://", "https://")):
        results = pd.read_csv(text)
        with urllib.request.urlopen(text[: -len(".csv")] + ".json") as response:
            results.attrs["metadata"] = json.load(response)
        return results
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no results at {path}; make them with `python -m eelib reproduce` (see README)"
        )
    results = pd.read_csv(path)
    meta = path.with_suffix(".json")
    results.attrs["metadata"] = json.loads(meta.read_text()) if meta.exists() else {}
    return results


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


def num_exits(results: pd.DataFrame) -> int:
    """K, the number of exits of the networks in :func:`run_experiment` results (one ``exit_k_accuracy`` column each)."""
    return sum(1 for c in results.columns if c.startswith("exit_") and c.endswith("_accuracy"))


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
                "final-exit accuracy": run[f"exit_{K}_accuracy"].iloc[0],
                "final-exit MFLOPs": run[f"exit_{K}_flops"].iloc[0] / 1e6,
                "best accuracy": best,
                f"MFLOPs within {tolerance * 100:g} pt of best": run.loc[
                    run["accuracy"] >= best - tolerance, "flops"
                ].min()
                / 1e6,
            }
        )

    runs = results.groupby(["strategy", "sparsity", "seed"], sort=False).apply(
        per_run, include_groups=False
    )
    return runs.groupby(["strategy", "sparsity"], sort=False).mean()

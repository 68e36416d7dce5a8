"""eelib — helpers for the course "Pruning Early-Exit Networks" (Görmez & Koyuncu, 2022, arXiv:2207.03644).

One concept per module: ``data``, ``models``, ``training``, ``pruning`` (masks, schedules and the
paper's two strategies), ``costs`` (FLOPs), ``early_exit`` (exit rules and curves), ``profiles``
(settings and :func:`build_model`), ``experiment`` (the protocol), ``checkpoints`` (resuming a
run), ``results`` (the results table), ``metrics`` (comparing the strategies), ``plots``,
``checks`` (answer checks for the exercises), ``widgets`` (the explorer of chapter 6),
``latency`` (measured time per exit), ``structured`` (channel pruning with Torch-Pruning).
"""

from . import checks, metrics, plots, results, widgets
from .costs import dense_layer_flops, exit_costs, layer_costs, training_flops
from .data import DATASETS, ImageDataset, load_dataset, validation_split
from .early_exit import (
    confidence_exit,
    entropy_exit,
    exit_accuracy,
    pareto_frontier,
    patience_exit,
    predict_all_exits,
    rule_curve,
    tradeoff_curve,
)
from .experiment import run_experiment
from .latency import exit_latency, run_to_exit
from .metrics import best_accuracy_within, compare_strategies
from .models import EarlyExitCNN, EarlyExitNetwork, EarlyExitResNet
from .profiles import PROFILES, Profile, build_model, get_profile
from .pruning import (
    global_magnitude_prune,
    layer_sparsity,
    part_sparsity,
    prune_all_at_once,
    prune_base,
    prune_ordered,
    remove_masks,
    sparsity,
    sparsity_schedule,
    train_and_prune_heads,
)
from .results import STRATEGIES, find_results, load_results, num_exits, save_results, summarise
from .structured import structured_prune
from .training import train

__version__ = "0.1.0"

__all__ = [
    "checks",
    "metrics",
    "plots",
    "results",
    "widgets",
    "DATASETS",
    "EarlyExitCNN",
    "EarlyExitNetwork",
    "EarlyExitResNet",
    "ImageDataset",
    "PROFILES",
    "Profile",
    "STRATEGIES",
    "best_accuracy_within",
    "build_model",
    "compare_strategies",
    "confidence_exit",
    "entropy_exit",
    "exit_latency",
    "find_results",
    "dense_layer_flops",
    "exit_accuracy",
    "exit_costs",
    "get_profile",
    "global_magnitude_prune",
    "layer_costs",
    "layer_sparsity",
    "load_dataset",
    "load_results",
    "num_exits",
    "pareto_frontier",
    "patience_exit",
    "part_sparsity",
    "predict_all_exits",
    "prune_all_at_once",
    "prune_base",
    "prune_ordered",
    "remove_masks",
    "rule_curve",
    "run_experiment",
    "run_to_exit",
    "save_results",
    "sparsity",
    "sparsity_schedule",
    "structured_prune",
    "summarise",
    "tradeoff_curve",
    "train",
    "train_and_prune_heads",
    "training_flops",
    "validation_split",
]

"""eelib — helpers for the course "Pruning Early-Exit Networks" (Görmez & Koyuncu, 2022, arXiv:2207.03644).

One concept per module: ``data``, ``models``, ``arguments`` (checks of arguments and settings),
``memory_format`` (channels-last blocks and masked weights, below training and evaluation),
``training``, ``pruning`` (masks, schedules and the paper's two strategies), ``costs`` (FLOPs, and
both strategies' matched training compute), ``early_exit`` (exit rules and curves), ``profiles``
(settings and :func:`build_model`), ``devices`` (the device a run trains on), ``experiment``
(the protocol), ``cluster`` (its pieces on Dask
workers), ``checkpoints`` (resuming a run), ``provenance`` (the versions, machine and metadata of a
run), ``results`` (the results table), ``evaluation`` (one network's rows of it), ``frontiers``
(frontiers and gaps on a FLOPs grid), ``stats`` (intervals, equivalence tests, verdicts),
``claims`` (the paper's claims and their verdicts), ``robustness`` (the robustness cube),
``report`` (the referee's report, ``python -m eelib report``), ``paper`` (the paper's and poster's
figures, quoted), ``plots``, ``schematics`` (the early-exit network and the two strategies,
drawn), ``checks`` (answer checks for the exercises), ``pruning_checks`` (those of
chapters 3 and 4), ``verdicts`` (how a check reports), ``exports`` (a hidden
test's answers as plain data, for the grader), ``grading`` (the graded cells and their points),
``widgets`` (the explorer of chapter 6), ``latency`` (measured time per exit), ``structured``
(channel pruning with Torch-Pruning).
"""

import lazy_loader

# Submodules and their public names load on first use (scientific Python's SPEC 1, with
# lazy_loader): `import eelib` stays quick, and a notebook pays for torch, pandas or matplotlib
# when it first calls something that needs them.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=[
        "checks",
        "claims",
        "exports",
        "frontiers",
        "grading",
        "paper",
        "plots",
        "provenance",
        "report",
        "results",
        "robustness",
        "schematics",
        "stats",
        "widgets",
    ],
    submod_attrs={
        "costs": ["dense_layer_flops", "exit_costs", "layer_costs", "training_flops"],
        "data": ["DATASETS", "ImageDataset", "load_dataset", "validation_split"],
        "early_exit": [
            "confidence_exit",
            "entropy_exit",
            "exit_accuracy",
            "patience_exit",
            "predict_all_exits",
            "rule_curve",
            "tradeoff_curve",
        ],
        "experiment": ["run_experiment"],
        "latency": ["exit_latency", "run_to_exit"],
        "frontiers": ["best_accuracy_within", "compare_strategies", "pareto_frontier"],
        "models": ["EarlyExitCNN", "EarlyExitNetwork", "EarlyExitResNet"],
        "profiles": ["PROFILES", "Profile", "build_model", "get_profile"],
        "pruning": [
            "global_magnitude_prune",
            "layer_sparsity",
            "part_sparsity",
            "prune_all_at_once",
            "prune_base",
            "prune_heads",
            "prune_ordered",
            "remove_masks",
            "sparsity",
            "sparsity_schedule",
        ],
        "results": [
            "STRATEGIES",
            "find_results",
            "load_results",
            "num_exits",
            "save_results",
            "summarise",
        ],
        "structured": ["structured_prune"],
        "training": ["train"],
    },
)

__version__ = "0.1.0"

"""Command line: ``python -m eelib reproduce --profile fast --dataset fashion-mnist --out results/run.csv``
runs the study; ``python -m eelib report results/run.csv [--protocol LABEL=FILE ...] [--json OUT]``
prints the referee's report on its results (the claims, their verdicts and the robustness cube).

The paper's setting on one GPU: ``python -m eelib reproduce --profile paper --download``;
several GPUs or a cluster: ``--workers N`` or ``--scheduler ADDRESS`` (results/README.md).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from .data import DATASETS
from .devices import check_device
from .experiment import run_experiment
from .profiles import PROFILES, Profile, parse_setting
from .results import load_results, summarise
from .training import PRECISIONS


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


FLAGS = ("dataset", "seeds", "sparsities", "train_epochs", "prune_rounds", "finetune_epochs")
FLAGS += ("head_epochs", "precision")
"""Profile settings that have an option of their own (``--train-epochs``…) beside ``--set``."""


def _settings(args) -> dict:
    """The profile settings the command line overrides: its own options, then ``--set``'s.

    Raises ValueError for a bad ``--set`` or a setting given both ways.
    """
    flags = {name: getattr(args, name) for name in FLAGS if getattr(args, name) is not None}
    if args.prune_steps is not None:
        warnings.warn("--prune-steps is now called --prune-rounds", DeprecationWarning)
        flags.setdefault("prune_rounds", args.prune_steps)
    extra = dict(parse_setting(text) for text in args.set)
    twice = sorted(set(flags) & set(extra))
    if twice:
        option = twice[0].replace("_", "-")
        raise ValueError(f"{twice[0]} is set twice (--{option} and --set); give it once")
    return flags | extra


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "report":
        return _report(args)
    return _reproduce(args)


def _parser() -> argparse.ArgumentParser:
    """The command line's parser: ``reproduce`` and ``report``, each with its options."""
    parser = argparse.ArgumentParser(prog="python -m eelib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_reproduce(commands)
    _add_report(commands)
    return parser


def _add_reproduce(commands) -> None:
    """The ``reproduce`` subcommand and its options."""
    rep = commands.add_parser(
        "reproduce", help="train, prune both ways, sweep thresholds; save and summarise"
    )
    rep.add_argument("--profile", choices=sorted(PROFILES), default="fast")
    rep.add_argument("--dataset", choices=DATASETS, help="override the profile's dataset")
    rep.add_argument("--seeds", type=int, nargs="+", help="override the profile's seeds")
    rep.add_argument(
        "--sparsities", type=float, nargs="+", help="target sparsities, fractions in [0, 1)"
    )
    rep.add_argument("--train-epochs", type=int, help="override the profile's training epochs")
    rep.add_argument(
        "--prune-rounds", type=int, help="override the rounds of (prune + fine-tune) per target"
    )
    rep.add_argument("--prune-steps", type=int, help=argparse.SUPPRESS)  # its old name
    rep.add_argument(
        "--finetune-epochs", type=int, help="override the profile's fine-tuning epochs per round"
    )
    rep.add_argument("--head-epochs", type=int, help="override the exit heads' training epochs")
    rep.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="override the profile's training precision (bfloat16: autocast, float32 weights)",
    )
    rep.add_argument(
        "--checkpoints",
        default="results/checkpoints",
        help="folder for finished pieces, to resume an interrupted run (default: %(default)s; "
        "'' to keep none)",
    )
    rep.add_argument(
        "--out",
        help="CSV to write (default: results/<profile>-<dataset>.csv), JSON metadata beside it",
    )
    rep.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    rep.add_argument("--root", help="folder holding the dataset")
    rep.add_argument("--download", action="store_true", help="let torchvision download the dataset")
    rep.add_argument("--device", help="cpu, cuda, … (default: cuda when available)")
    rep.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Dask worker processes on this machine sharing the (seed, strategy) pieces, each "
        "with its share of the CPU threads, or one GPU each with --device cuda "
        "(default: %(default)s)",
    )
    rep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler (tcp://host:8786, or its scheduler file) whose workers do "
        "the pieces, one GPU each (workers started with --resources GPU=1); --checkpoints and "
        "--root must then be folders they share; --device defaults to cuda",
    )
    rep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override any profile setting, repeatable (e.g. --set head_patience=2 --set "
        "lr=1e-3); settings: "
        + ", ".join(f for f in Profile.__dataclass_fields__ if f not in ("name", "description")),
    )
    rep.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _add_report(commands) -> None:
    """The ``report`` subcommand and its options."""
    report = commands.add_parser(
        "report", help="the claims, their verdicts and the robustness cube of a results file"
    )
    report.add_argument("results", help="a CSV that `python -m eelib reproduce` wrote")
    report.add_argument(
        "--protocol",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="a protocol variant's results, read beside the headline run (repeatable)",
    )
    report.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    report.add_argument(
        "--headline-only",
        action="store_true",
        help="read each file under the headline analysis only (seconds, not a minute)",
    )


def _reproduce(args) -> int:
    """``python -m eelib reproduce``: run the study, save it and print its summary."""
    warnings.formatwarning = _one_line_warning  # e.g. an unreadable checkpoint piece, recomputed
    try:
        settings = _settings(args)
        dataset = settings.pop("dataset", PROFILES[args.profile].dataset)
        out = args.out or f"results/{args.profile}-{dataset}.csv"
        if args.scheduler is None:
            check_device(args.device)  # before any data is loaded (a cluster's: on its workers)
        results = run_experiment(
            args.profile,
            dataset=dataset,
            out=out,
            overwrite=args.overwrite,
            root=args.root,
            download=args.download,
            device=args.device,
            progress=not args.no_progress,
            workers=args.workers,
            scheduler=args.scheduler,
            checkpoints=args.checkpoints or None,
            **settings,
        )
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = (
            f"finished pieces are kept in {args.checkpoints}"
            if args.checkpoints
            else "nothing was kept (--checkpoints ''), so it starts afresh"
        )
        print(f"\ninterrupted; run the same command again to resume ({kept})", file=sys.stderr)
        return 130
    meta = results.attrs["metadata"]
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
        print(summarise(results))
    workers = meta.get("worker_machines", [])
    where = ", ".join(sorted({m.get("gpu") or m.get("device", "?") for m in workers}))
    print(
        f"\n{meta['config']['dataset']}, seeds {meta['seeds']}, {meta['wall_time_s']} s on "
        f"{where or meta['machine']['device']} ({meta['resumed_pieces']} pieces resumed from "
        f"{args.checkpoints or 'nowhere'}); wrote {out} and {out[:-4]}.json"
    )
    return 0


def _report(args) -> int:
    """``python -m eelib report``: print the Markdown report, write the JSON one if asked."""
    from . import report

    try:
        paths = dict(_labelled(text) for text in args.protocol)
        results = load_results(args.results)
        protocols, left_out = report.read_protocols(results, paths)
        if args.json and Path(args.json).resolve() == Path(args.results).resolve():
            raise ValueError("--json would overwrite the results file: give another path")
        built = report.build(results, protocols, full=not args.headline_only)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for label, why in left_out.items():
        print(f"warning: protocol {label!r} left out: {why}", file=sys.stderr)
    print(report.markdown(built))
    if args.json:
        report.write_json(built, args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _labelled(text: str) -> tuple[str, str]:
    """``LABEL=FILE`` → ``(LABEL, FILE)``; ValueError naming the form when it is not that."""
    label, sep, path = text.partition("=")
    if not sep or not label.strip() or not path.strip():
        raise ValueError(f"--protocol takes LABEL=FILE (e.g. longer=results/x.csv), got {text!r}")
    return label.strip(), path.strip()


if __name__ == "__main__":
    sys.exit(main())

"""The package as a whole: what importing it costs, and which module may depend on which."""

import ast
import subprocess
import sys
from pathlib import Path

import eelib

PACKAGE = Path(eelib.__file__).parent
HEAVY = ("torchvision", "torch_pruning", "scipy", "matplotlib.pyplot", "torch.utils.benchmark")


def test_import_eelib_is_silent_and_leaves_heavy_modules_for_later():
    """``import eelib`` writes nothing to stderr (no torch warning in a notebook's first cell) and
    imports no heavy module that only one function needs (benchmarks/import_time.py times it)."""
    code = f"import sys, eelib; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == ""
    assert done.stdout.strip() == "[]"


def _imports(module: str) -> set[str]:
    """The eelib modules ``module`` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module)
            else:
                found.update(alias.name for alias in node.names)
    return found


def _reaches(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for name in _imports(todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def test_no_analysis_module_depends_on_the_runner():
    for module in (
        "results",
        "frontiers",
        "stats",
        "claims",
        "robustness",
        "report",
        "paper",
        "plots",
        "widgets",
    ):
        assert "experiment" not in _reaches(module), module
        assert "checkpoints" not in _reaches(module), module


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))


def test_no_import_circle_inside_eelib():
    """No module reaches itself through the imports it makes, at the top or inside a function
    (an import hidden in a function to dodge a circle counts)."""
    circles = [module for module in MODULES if module in _reaches(module)]
    assert not circles, f"modules that import themselves through others: {circles}"


def test_the_analysis_of_a_results_table_never_reaches_the_training_loop():
    """Reading a results table (frontiers, statistics, claims, the report) needs pandas, not the
    code that trains, prunes or evaluates networks."""
    loop = {"training", "pruning", "early_exit", "evaluation", "experiment", "costs"}
    for module in ("results", "frontiers", "stats", "claims", "robustness", "report", "paper"):
        assert not _reaches(module) & loop, (module, _reaches(module) & loop)


def test_the_package_map_names_every_module():
    """``eelib``'s docstring is the map of the package: every module is on it, in ``name``."""
    missing = [m for m in MODULES if f"``{m}``" not in eelib.__doc__]
    assert not missing, f"add to eelib/__init__.py's map: {missing}"

"""A hidden test's only job in the submission's kernel: write the answers out as plain data.

Graded versions of the course (``make grading``) end each exercise with hidden test cells that
call :func:`save`. They compare nothing: the grader reads the files afterwards, in its own
process, and decides every point there (``grading/course_grader.py``; the teaching chapter).
Nothing the submission defines is ever called or compared by the grader:

- numbers, strings, ``None``, lists, tuples and dicts of them are written as they are (a tuple
  as a list); NumPy scalars become Python numbers;
- a tensor must be a plain ``torch.Tensor`` (a subclass is refused); a network is written as its
  ``state_dict`` (``torch.nn.Module.state_dict``, the class's method, not the answer's);
- a ``pandas.DataFrame`` is written as its columns, index, values and ``attrs``;
- a function cannot be written: :func:`record` runs a course check on it and writes what it
  returned for each input the check gave it, keyed by :func:`digest` of the input; the grader
  runs the same check on a replay of those outputs (:func:`replay`).

A value that cannot be written (a subclass, a non-finite number, an unknown type) is written as
a refusal with its reason, which the grader gives as the test's verdict. Files go to the folder
named by the environment variable ``EELIB_EXPORTS`` (the grading sandbox sets it when the kernel
starts, so an ``os.chdir`` in an answer does not move it), else ``./.eelib-exports``; the grader
reads them with ``torch.load(..., weights_only=True)``, which builds only tensors and plain
containers.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

FOLDER = Path(os.environ.get("EELIB_EXPORTS") or Path.cwd() / ".eelib-exports").resolve()
"""Where :func:`save` writes (fixed when eelib.exports is first imported)."""
REFUSED = "__refused__"
"""The key of a value that could not be written; its value says why."""
FRAME = "__frame__"
"""The key of a written ``pandas.DataFrame``."""
RAISED = "__raised__"
"""The key of a recorded call that raised; its value is ``[exception class name, message]``."""


def refusal(reason: str) -> dict:
    """The plain-data stand-in for a value that cannot be written."""
    return {REFUSED: reason}


def plain(value, name: str = "the answer"):
    """``value`` as plain data (see the module's docstring), or a refusal saying why not.

    Args:
        value: an answer: a number, string, tensor, network, data frame or container of them.
        name: what it is, for the refusal's message.

    Returns:
        Python numbers, strings, None, lists, dicts (keys: numbers or strings, others by their
        ``repr``), plain CPU tensors, or ``{"__refused__": reason}`` in place of any part that
        cannot be written.
    """
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind in (int, float) or isinstance(value, np.generic) and kind is not np.object_:
        number = value.item() if isinstance(value, np.generic) else value
        if isinstance(number, float) and not math.isfinite(number):
            return refusal(f"{name} is {number!r}, not a finite number")
        return number
    if kind is torch.Tensor:
        tensor = value.detach().cpu().clone()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return refusal(f"{name} holds values that are not finite (nan or inf)")
        return tensor
    if kind is np.ndarray:
        return plain(torch.from_numpy(np.array(value)), name)
    if isinstance(value, nn.Module):
        state = nn.Module.state_dict(value)
        return {str(k): plain(v, f"{name}'s {k}") for k, v in state.items()}
    if kind is pd.DataFrame:
        split = value.to_dict("split")
        return {
            FRAME: {
                "columns": [_cell(c) for c in split["columns"]],
                "index": [_cell(i) for i in split["index"]],
                "data": [[_cell(v) for v in row] for row in split["data"]],
                "attrs": plain(dict(value.attrs), f"{name}'s attrs"),
            }
        }
    if kind in (list, tuple):
        return [plain(v, name) for v in value]
    if kind is dict:
        return {_key(k): plain(v, name) for k, v in value.items()}
    return refusal(f"{name} is a {kind.__name__}, which the grader does not read")


def _key(key):
    """A dict key as written: a Python number or string kept, anything else by its repr."""
    if isinstance(key, np.generic):
        key = key.item()
    return key if type(key) in (bool, int, float, str) else repr(key)


def _cell(value):
    """One cell of a data frame: a Python number or string (nan kept: a table may hold gaps)."""
    if isinstance(value, np.generic):
        value = value.item()
    if type(value) in (bool, int, float, str) or value is None:
        return value
    return repr(value)


def frame(exported: dict) -> pd.DataFrame:
    """The data frame :func:`plain` wrote (grader side).

    Raises:
        TypeError: ``exported`` is not a written data frame.
    """
    if not isinstance(exported, dict) or FRAME not in exported:
        raise TypeError("not a table (a pandas DataFrame)")
    parts = exported[FRAME]
    table = pd.DataFrame(parts["data"], index=parts["index"], columns=parts["columns"])
    table.attrs.update(parts["attrs"] if isinstance(parts["attrs"], dict) else {})
    return table


def digest(value) -> str:
    """A fingerprint of a check's input, equal in the kernel and in the grader's process.

    Tensors by dtype, shape and bytes; modules by class name, settings and ``state_dict`` (a
    sealed convolution's tensors have no data); datasets by their ``data`` and ``targets``;
    numbers and containers by their ``repr``.
    """
    h = hashlib.sha256()

    def feed(v) -> None:
        if isinstance(v, torch.Tensor):
            h.update(f"T{v.dtype}{tuple(v.shape)}".encode())
            if v.device.type != "meta":
                h.update(v.detach().cpu().contiguous().numpy().tobytes())
        elif isinstance(v, nn.Module):
            h.update(f"M{type(v).__name__}({v.extra_repr()})".encode())
            for key, tensor in nn.Module.state_dict(v).items():
                h.update(key.encode())
                feed(tensor)
        elif isinstance(getattr(v, "data", None), torch.Tensor):  # a dataset: images and labels
            h.update(f"D{type(v).__name__}".encode())
            feed(v.data)
            feed(getattr(v, "targets", None))
        elif isinstance(v, (list, tuple)):
            h.update(b"[")
            for item in v:
                feed(item)
            h.update(b"]")
        else:
            h.update(repr(v).encode())

    feed(value)
    return h.hexdigest()[:24]


def record(answer: Callable | None, check: Callable, settings: Iterable[dict] = ({},)) -> dict:
    """Run a course check on ``answer`` and keep what ``answer`` returned for each input.

    The check runs quietly (its printed verdict is discarded: nothing here decides a grade).

    Args:
        answer: the student's function (None: not answered).
        check: an :mod:`eelib.checks` function that calls its first argument, e.g.
            ``checks.check_exit_rule``.
        settings: keyword arguments of each run of ``check`` (the hidden cases).

    Returns:
        ``{digest of the inputs: plain output}``; a call that raised is kept as
        ``{"__raised__": [class name, message]}``; ``{}`` for ``answer=None``.
    """
    if answer is None:
        return {}
    calls: dict = {}

    def recorder(*args, **kwargs):
        key = digest([*args, sorted(kwargs.items())] if kwargs else args)
        try:
            value = answer(*args, **kwargs)
        except Exception as error:  # kept, then raised again for the check to see
            calls[key] = {RAISED: [type(error).__name__, str(error)[:500]]}
            raise
        calls[key] = plain(value, "your function's result")
        return value

    for kwargs in settings:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            check(recorder, **kwargs)
    return calls


def replay(calls: dict) -> Callable:
    """A stand-in for the student's function that gives back what :func:`record` kept (grader side).

    It raises what the function raised (a ``RuntimeError``, ``NotImplementedError``, or for any
    other class a ``RuntimeError`` naming it), and a ``LookupError`` for an input the record does
    not hold.
    """

    def answer(*args, **kwargs):
        key = digest([*args, sorted(kwargs.items())] if kwargs else args)
        if key not in calls:
            raise LookupError(
                "the hidden test did not record your function's result for one of the grader's "
                "inputs (the notebook stopped before it, or the function changed its input)"
            )
        value = calls[key]
        if isinstance(value, dict) and RAISED in value:
            name, message = value[RAISED]
            kind = {"NotImplementedError": NotImplementedError}.get(name, RuntimeError)
            raise kind(message if kind is not RuntimeError or "cannot run" in message else
                       f"your function raised {name}: {message}")  # fmt: skip
        if isinstance(value, dict) and REFUSED in value:
            raise TypeError(value[REFUSED])
        return value.clone() if isinstance(value, torch.Tensor) else value

    return answer


def save(grade_id: str, **answers) -> Path:
    """Write one hidden test's answers to ``FOLDER/<grade_id>.pt`` as plain data.

    Args:
        grade_id: the test cell's nbgrader ``grade_id`` (letters, digits, ``_``).
        **answers: name → answer (see :func:`plain`); a :func:`record` result passes as it is.

    Returns:
        The file written.

    Raises:
        ValueError: ``grade_id`` is not a plain name.
    """
    if not grade_id.replace("_", "").isalnum():
        raise ValueError(f"grade_id {grade_id!r}: letters, digits and underscores only")
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"{grade_id}.pt"
    torch.save({name: plain(value, name) for name, value in answers.items()}, path)
    return path


class HandedOver(AssertionError):
    """Raised by a hidden test once it has written the answers: no verdict is given in the kernel."""


def hand_over(grade_id: str) -> None:
    """End a hidden test without a verdict of its own (it always raises :class:`HandedOver`).

    A grader that would take the kernel's word (``otter run`` alone, Gradescope) then scores the
    test 0, never full marks; nbgrader's ``GradeFromExports`` and ``scripts/grade_otter.py``
    replace it with the verdict they decide from the written answers.

    Raises:
        HandedOver: always.
    """
    raise HandedOver(
        f"{grade_id}: answers written to {FOLDER}; the grader decides this test in its own "
        "process (nbgrader's GradeFromExports, scripts/grade_otter.py)"
    )


def load(folder: str | Path, grade_id: str) -> dict | None:
    """One test's written answers (grader side), or None where the hidden test wrote none.

    Raises:
        pickle.UnpicklingError: the file holds something other than plain data (weights_only).
    """
    path = Path(folder) / f"{grade_id}.pt"
    if not path.is_file():
        return None
    data = torch.load(path, weights_only=True, map_location="cpu")
    return data if isinstance(data, dict) else None

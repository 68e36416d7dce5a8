"""How an answer check reports: one line that says correct, not correct yet (with a hint) or not
answered yet, or with ``strict=True`` an :class:`AnswerError` carrying the same line.

The checks of :mod:`eelib.checks` and :mod:`eelib.pruning_checks` share it, so every exercise of
the course speaks with one voice (book, the teaching page).
"""

from __future__ import annotations

from collections.abc import Callable

NOT_ANSWERED = "not answered yet"
"""What a check prints for an exercise whose answer is still the stub (``None``)."""
STUB_HINT = "replace the stub with your code and run the cell again."
"""The hint that follows :data:`NOT_ANSWERED`."""


class AnswerError(AssertionError):
    """A graded test's verdict on a wrong or missing answer: what is wrong and a hint.

    In Jupyter it shows as the verdict alone, one line (``AnswerError: …``, the last line of a
    traceback, which the book's highlighting reads; JupyterLab and the book's CSS wrap it), not
    as a traceback through the check's code (IPython's ``_render_traceback_``): a failing visible
    test reads as the friendly check does, in the learner's notebooks and the student edition.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mAnswerError\x1b[0m: {self}"]  # the error's name in red


class Unanswered(Exception):
    """The answer is missing: the stub is still in place."""


def report(name: str, problem: str | None, hint: str, strict: bool = False) -> bool:
    """Print the verdict; with ``strict``, raise :class:`AnswerError` instead of a ✘ or … line."""
    if problem is None:
        print(f"✔ {name}: correct.")
        return True
    if problem == NOT_ANSWERED:
        message = f"{name}: {NOT_ANSWERED} — {STUB_HINT}"
        if strict:
            raise AnswerError(message)
        print(f"… {message}")
        return False
    if strict:
        raise AnswerError(f"{name}: not correct yet — {problem}. Hint: {hint}")
    print(f"✘ {name}: not correct yet — {problem}\n  Hint: {hint}")
    return False


def call(answer: Callable | None, *args, **kwargs):
    """The answer's value for ``args``; :class:`Unanswered` where it is still a stub."""
    if answer is None:
        raise Unanswered
    try:
        value = answer(*args, **kwargs)
    except NotImplementedError as stub:
        raise Unanswered from stub
    if value is None:
        raise Unanswered
    return value

"""Each submission in a sandbox: Debian's bubblewrap (``bwrap``) around its kernel or its run.

What a submission's code sees inside (both graders):

- the system (``/usr``, ``/etc``), this Python and the course's virtual environment, read-only;
- its own folder, the only place it can write (its notebook, the released files, the
  ``.eelib-exports`` folder its hidden tests write to); a private ``/tmp``;
- nothing else of the grader's machine: not the repository (instructor notebooks, this folder,
  ``course_grader.py``), not nbgrader's ``source/``, gradebook or other students' folders, not
  otter's autograder zip outside the run;
- its own process namespace: every process it starts ends when its kernel (or run) ends, and
  the kernel ends with the grader (``--die-with-parent``).

It shares the machine's network (the kernel talks to the grader over local TCP); time limits
are the graders' own (nbgrader's per-cell timeout, ``grade_otter.py --timeout``), memory is
capped by ``ulimit -v`` (:data:`MEMORY_GB`).

Usage, as nbgrader's kernel (``make grading`` writes the ``eelib-sandbox`` kernelspec to
``_build/grading/jupyter/``)::

    python grading/sandbox.py kernel CONNECTION_FILE

and around each ``otter run`` (``scripts/grade_otter.py`` calls :func:`command`). Where
bubblewrap is missing or cannot start (no user namespaces, macOS), both run the
submission unsandboxed after one line on stderr saying what the teacher loses; set
``EELIB_SANDBOX=off`` to choose that knowingly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

KERNEL = "eelib-sandbox"
"""The kernelspec's name (``c.Execute.kernel_name`` in ``nbgrader_config.py``)."""
MEMORY_GB = 8
"""Virtual memory a sandbox may use, in GiB."""
EXPORTS = ".eelib-exports"
"""The folder, in the submission's folder, its hidden tests write to (``EELIB_EXPORTS``)."""
UNSAFE = (
    "warning: the grading sandbox (bubblewrap) cannot start here ({why}); the submission runs "
    "with the grader's own rights: it can read the grader's files and leave processes running"
)


def why_not() -> str | None:
    """Why the sandbox cannot start here, or None where it can."""
    if os.environ.get("EELIB_SANDBOX") == "off":
        return "EELIB_SANDBOX=off"
    if shutil.which("bwrap") is None:
        return "bwrap not installed: apt-get install bubblewrap"
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "true"], capture_output=True, text=True
    )
    if probe.returncode:
        return f"bwrap failed: {probe.stderr.strip()[:200]}"
    return None


def _system() -> list[str]:
    """Read-only binds of the system, this Python and its virtual environment; a private /tmp."""
    args = []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # before what may be in /tmp
    # the environment as named and as it resolves (a symlinked venv: scripts' shebangs name the
    # resolved one)
    for prefix in {Path(sys.base_prefix).resolve(), Path(sys.prefix), Path(sys.prefix).resolve()}:
        if not str(prefix).startswith(("/usr/", "/etc/")):
            args += ["--ro-bind", str(prefix), str(prefix)]
    return args


def command(folder: Path, argv: list[str], read_only: tuple[Path, ...] = ()) -> list[str]:
    """The bwrap command that runs ``argv`` in ``folder`` (writable), everything else hidden.

    Args:
        folder: the submission's folder (absolute).
        argv: the command to run inside.
        read_only: further files or folders to show read-only at their own paths.
    """
    exports = folder / EXPORTS
    args = ["bwrap", *_system()]
    for path in read_only:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(folder), str(folder), "--chdir", str(folder)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
    args += ["--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp"]
    args += ["--setenv", "EELIB_EXPORTS", str(exports)]
    # ipykernel would take its parent for dead (its parent pid is 1 in the new namespace);
    # --die-with-parent ends the kernel with the grader instead
    args += ["--unsetenv", "JPY_PARENT_PID"]
    limit = f'ulimit -v {MEMORY_GB * 1024 * 1024} && exec "$@"'
    return [*args, "--", "/bin/sh", "-c", limit, "sandbox", *argv]


def kernel(connection_file: str) -> None:
    """Start an IPython kernel for ``connection_file`` in the sandbox (replaces this process)."""
    folder = Path.cwd().resolve()  # nbgrader starts the kernel in the submission's folder
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    why = why_not()
    if why:
        print(UNSAFE.format(why=why), file=sys.stderr)
        os.environ["EELIB_EXPORTS"] = str(folder / EXPORTS)
        os.execv(argv[0], argv)
    os.execvp("bwrap", command(folder, argv, (Path(connection_file).resolve(),)))


def install_kernelspec(jupyter: Path) -> Path:
    """Write the ``eelib-sandbox`` kernelspec under ``jupyter`` (a ``JUPYTER_PATH`` entry).

    ``nbgrader_config.py`` puts ``_build/grading/jupyter`` on ``JUPYTER_PATH``, so the kernel
    belongs to this checkout's build, never to a shared environment. Returns its folder.
    """
    folder = jupyter / "kernels" / KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, str(Path(__file__).resolve()), "kernel", "{connection_file}"],
        "display_name": "Python 3 (graded, sandboxed)",
        "language": "python",
        # an interrupt as a message: a signal would reach bwrap, not the kernel inside
        "interrupt_mode": "message",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "kernel":
        kernel(argv[1])  # does not return
    print("usage: python grading/sandbox.py kernel CONNECTION_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""nbgrader's settings for this course: `make grading` runs nbgrader from the repository root.

Each chapter is one assignment: `make grading` writes notebooks/<chapter>.ipynb, with its hidden
tests, to _build/grading/nbgrader/source/<chapter>/ and runs `nbgrader generate_assignment`. The
graded copy carries otter-grader's markup too (raw cells tagged "otter", written by make
grading); the first preprocessor removes those cells, so nbgrader's student version never shows
them.

Autograding (grading/course_grader.py says why): a submission's duplicated or pasted cells are
repaired, it runs in the sandboxed kernel (grading/sandbox.py), its hidden tests only write its
answers out, and every hidden test's score is then decided here, in nbgrader's own process.
"""

import copy
import os
import re
import shutil
import sys
import uuid
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import TagRemovePreprocessor
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "grading"))
import sandbox  # noqa: E402 (the grading folder, beside this file)

c = get_config()  # noqa: F821 (traitlets provides get_config in config files)

c.CourseDirectory.root = str(ROOT / "_build" / "grading" / "nbgrader")
c.CourseDirectory.course_id = "pruning-early-exit-networks"
# nbgrader's exchange (release and collect between users of one server), which make grading
# creates; on a JupyterHub, point it at a folder every user can reach (nbgrader's docs).
c.Exchange.root = str(ROOT / "_build" / "grading" / "nbgrader" / "exchange")

# The student version keeps running top to bottom: an unanswered exercise leaves its answer at
# None (its graded test cells, tagged raises-exception, fail without stopping "Run all").
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\npass"}


class StudentTestCells(NbGraderPreprocessor):
    """otter's markup out of nbgrader's student version: each test cell loses its TEST CONFIG
    header, and a hidden test's cell, left empty once nbgrader removed the hidden test, says
    what it is. Autograde puts the instructor's cell back before it runs (nbgrader logs that
    the cell's checksum changed)."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "code" and "# BEGIN TEST CONFIG" in cell.source:
                kept = TEST_CONFIG.sub("", cell.source).strip()
                cell.source = kept or HIDDEN_NOTE
        return nb, resources


TEST_CONFIG = re.compile(r'""" # BEGIN TEST CONFIG\n.*?"""  # END TEST CONFIG\n*', re.S)
HIDDEN_NOTE = "# A hidden test: the grader adds it back, runs it and scores it when it grades."

# Remove otter-grader's boundary cells before anything else reads the notebook, and otter's test
# headers once nbgrader has removed the hidden tests.
defaults = GenerateAssignment.class_traits()["preprocessors"].default()
hidden = defaults.index(ClearHiddenTests) + 1
c.GenerateAssignment.preprocessors = [
    TagRemovePreprocessor,
    *defaults[:hidden],
    StudentTestCells,
    *defaults[hidden:],
]
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_cell_tags = ["otter"]

# The training cells take up to a minute on 2 CPU cores, the capstone about two: 10 minutes per
# cell leaves room for a slow grading machine. CPU-only PyTorch is enough (no GPU is used).
c.Execute.timeout = 600
# Every submission runs in bubblewrap's sandbox: make grading writes this kernelspec to
# _build/grading/jupyter/, which Jupyter finds first.
c.Execute.kernel_name = sandbox.KERNEL
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    [str(ROOT / "_build" / "grading" / "jupyter"), *filter(None, [os.environ.get("JUPYTER_PATH")])]
)


class RepairCells(NbGraderPreprocessor):
    """Honest edits that would cost a grade: a duplicated cell, a cell pasted from elsewhere.

    A cell duplicated in Jupyter keeps its cell id, which nbformat refuses: the copy gets a new
    id, and only the last cell of a grade_id keeps nbgrader's metadata (the second try is
    graded; nbgrader's own DeduplicateIds would leave the first an empty, invalid record). A
    cell pasted from another chapter carries a grade_id this assignment does not know: it stays
    as plain code. Both are logged.
    """

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            if cell.get("id") in seen:
                cell["id"] = uuid.uuid4().hex[:8]
            seen.add(cell.get("id"))
        known, last = _grade_ids(resources), {}
        for index, cell in enumerate(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and known is not None and grade_id not in known:
                self.log.warning("cell %r is not one of this assignment's: kept as code", grade_id)
                del cell.metadata["nbgrader"]
            elif grade_id:
                last[grade_id] = index
        for index, cell in enumerate(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and last[grade_id] != index:
                self.log.warning("cell %r appears more than once: the last is graded", grade_id)
                del cell.metadata["nbgrader"]
        return nb, resources


def _grade_ids(resources) -> set | None:
    """The grade_ids of the assignment's notebook in the gradebook (None where unknown)."""
    info = resources.get("nbgrader", {})
    try:
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            cells = [*notebook.grade_cells, *notebook.solution_cells, *notebook.source_cells]
            return {cell.name for cell in cells}
    except (KeyError, MissingEntry):
        return None


c.Autograde.sanitize_preprocessors = [
    RepairCells,
    *Autograde.class_traits()["sanitize_preprocessors"].default(),
]


class KeepGradesWhenTheKernelDies(Execute):
    """nbgrader's Execute, except that a kernel that dies costs only the cell it died in.

    nbgrader drops a submission whose kernel dies (``os._exit``, a crash, memory): "Removing
    failed assignment", no grade. Here the cell that killed it gets an error output saying so;
    the kernel is restarted, every code cell before that one is run again (their outputs kept
    as they were), and the notebook goes on from the next cell, so the later exercises are
    graded too. A kernel that dies a second time, or during the replay, ends the run: every
    later code cell gets an output saying it did not run, and scores 0.
    """

    def preprocess(self, nb, resources=None, km=None):
        self.died_in, self.restarted = None, False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self.died_in is not None:
            cell.outputs = [_error("NotRun", f"the kernel died in code cell {self.died_in}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            reason = "the kernel died in this cell (os._exit, a crash or out of memory)"
            cell.outputs.append(_error("DeadKernelError", reason))
            if self.restarted or not self.restart_and_replay(index):
                self.died_in = index
            return cell, resources

    def restart_and_replay(self, dead: int) -> bool:
        """A fresh kernel with every code cell before ``dead`` run again; False if it fails."""
        self.restarted = True
        self.log.warning(
            "the kernel died in cell %d: restarting it and replaying the cells before", dead
        )
        try:
            run_sync(self.km.restart_kernel)(now=True)
            self.wait_for_reply(self.kc.kernel_info())
            for index, earlier in enumerate(self.nb.cells[:dead]):
                if earlier.cell_type == "code":
                    self.execute_cell(copy.deepcopy(earlier), index, store_history=False)
        except Exception as error:  # the replay died too: the run ends here
            self.log.warning("the replay failed (%s): the later cells score 0", error)
            return False
        return True


def _error(name: str, value: str):
    return new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}"])


class ClearExports(NbGraderPreprocessor):
    """Remove any exports folder the submission brought: only its own run may write one."""

    def preprocess(self, nb, resources):
        folder = Path(resources["metadata"]["path"]) / sandbox.EXPORTS
        shutil.rmtree(folder, ignore_errors=True)
        return nb, resources


class GradeFromExports(NbGraderPreprocessor):
    """Every hidden test decided here, on what the submission's kernel wrote (course_grader).

    Each hidden test cell's outputs are replaced by the grader's verdict: a line saying it
    passed, or an error with the reason it scores 0. Whatever the cell printed or raised in the
    submission's kernel is dropped, so nothing in the kernel can pass or fail a test.
    """

    def preprocess(self, nb, resources):
        import course_grader

        folder = Path(resources["metadata"]["path"]) / sandbox.EXPORTS
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                grade_id = meta["grade_id"]
                if grade_id in course_grader.TESTS:
                    reason = course_grader.grade(grade_id, folder)
                    cell.outputs = [
                        _error("AnswerError", reason)
                        if reason
                        else new_output("stream", name="stdout", text=f"✔ {grade_id}: passed\n")
                    ]
        return nb, resources


c.Autograde.autograde_preprocessors = [
    ClearExports,
    KeepGradesWhenTheKernelDies,
    GradeFromExports,
    *Autograde.class_traits()["autograde_preprocessors"].default()[1:],
]

# Feedback for students: the hidden tests' code and otter's headers are removed (the verdicts
# stay).
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    StudentTestCells,
    *GenerateFeedback.class_traits()["preprocessors"].default(),
]

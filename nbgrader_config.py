"""nbgrader's settings for this course: `make grading` runs nbgrader from the repository root.

Each chapter is one assignment: `make grading` copies notebooks/<chapter>.ipynb to
_build/grading/nbgrader/source/<chapter>/ and runs `nbgrader generate_assignment`. The same
notebooks carry otter-grader's markup (raw cells tagged "otter"); the first preprocessor removes
those cells, so nbgrader's student version never shows them.
"""

from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import TagRemovePreprocessor
from nbformat.v4 import new_output
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.preprocessors import ClearHiddenTests, Execute

c = get_config()  # noqa: F821 (traitlets provides get_config in config files)

c.CourseDirectory.root = "_build/grading/nbgrader"
c.CourseDirectory.course_id = "pruning-early-exit-networks"

# The student version keeps running top to bottom: an unanswered exercise leaves its answer at
# None (its graded test cells, tagged raises-exception, fail without stopping "Run all").
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\npass"}

# Remove otter-grader's boundary cells before anything else reads the notebook.
c.GenerateAssignment.preprocessors = [
    TagRemovePreprocessor,
    *GenerateAssignment.class_traits()["preprocessors"].default(),
]
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_cell_tags = ["otter"]

# The training cells take up to a minute on 2 CPU cores, the capstone about two: 10 minutes per
# cell leaves room for a slow grading machine. CPU-only PyTorch is enough (no GPU is used).
c.Execute.timeout = 600


class KeepGradesWhenTheKernelDies(Execute):
    """nbgrader's Execute, except that a kernel that dies does not lose the submission's grade.

    nbgrader drops a submission whose kernel dies (``os._exit``, a crash, memory): "Removing
    failed assignment", no grade. Here the cell that killed it gets an error output saying so,
    every later code cell one saying it did not run, and the autograde goes on: the tests that
    ran before keep their points, the rest score 0, and the outputs say why.
    """

    def preprocess(self, nb, resources=None, km=None):
        self.died_in = None
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
            self.died_in = index
            reason = "the kernel died in this cell (os._exit, a crash or out of memory)"
            cell.outputs.append(_error("DeadKernelError", reason))
            return cell, resources


def _error(name: str, value: str):
    return new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}"])


c.Autograde.autograde_preprocessors = [
    KeepGradesWhenTheKernelDies,
    *Autograde.class_traits()["autograde_preprocessors"].default()[1:],
]

# Feedback for students: the hidden tests' code is removed (their verdicts stay).
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    *GenerateFeedback.class_traits()["preprocessors"].default(),
]

"""nbgrader's settings for this course: `make grading` runs nbgrader from the repository root.

Each chapter is one assignment: `make grading` copies notebooks/<chapter>.ipynb to
_build/grading/nbgrader/source/<chapter>/ and runs `nbgrader generate_assignment`. The same
notebooks carry otter-grader's markup (raw cells tagged "otter"); the first preprocessor removes
those cells, so nbgrader's student version never shows them.
"""

from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.converters import GenerateAssignment

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

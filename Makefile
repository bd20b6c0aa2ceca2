# The course's commands. `make lab` to learn, `make test` to check everything (fast mode).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.course-installed
# Per-cell time limit for the executed notebooks (seconds).
CELL_TIMEOUT ?= 600
# Extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# JupyterLab refuses to run as root (containers, Binder-like machines) unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test unit notebooks bench clean help

help:
	@echo "make lab    - create .venv if needed, install the course, open JupyterLab on notebooks/"
	@echo "make test   - same set-up, then unit tests and every notebook executed in fast mode (COURSE_FAST=1)"
	@echo "make bench  - run notebooks in full mode and write benchmarks/RESULTS.md (NB='01 05' to choose)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -e .
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

# Unit tests, then every notebook in notebooks/ executed top to bottom by nbval in fast mode.
test: install
	COURSE_FAST=1 MPLBACKEND=Agg $(PY) -m pytest -q tests/
	COURSE_FAST=1 MPLBACKEND=Agg $(PY) -m pytest -q --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) \
		--durations=15 notebooks/

unit: install
	COURSE_FAST=1 $(PY) -m pytest -q tests/

bench: install
	$(PY) benchmarks/run.py $(NB)

clean:
	rm -rf $(VENV) data/cache .results

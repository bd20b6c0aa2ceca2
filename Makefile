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

.PHONY: install lab test unit notebooks bench clean help stamp student slides site browser-test

help:
	@echo "make lab    - create .venv if needed, install the course, open JupyterLab on notebooks/"
	@echo "make test   - same set-up, then unit tests and every notebook executed in fast mode (COURSE_FAST=1)"
	@echo "make bench  - run notebooks in full mode, write benchmarks/RESULTS.md, keep the executed notebooks in build/bench/ (NB='01 05' to choose)"
	@echo "make slides - one reveal.js deck per notebook in build/slides/ (with figures after make site)"
	@echo "make student - student edition (worked solutions removed, checks kept) in build/student/"
	@echo "make site   - execute every notebook (FAST=1 for fast mode) into a static HTML site in build/site/"
	@echo "make browser-test - JupyterLab + headless Chromium: the widgets of notebooks 03 and 04 really work"

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
	$(PY) benchmarks/run.py --keep build/bench $(NB)

# Delivery (issue: Colab, Binder, slides, student edition, site, real-browser test)
stamp: install
	$(PY) -m utils.delivery stamp

student: install
	$(PY) -m utils.delivery student

slides: install
	$(PY) -m utils.delivery slides

site: install
	COURSE_DATA="$(COURSE_DATA)" $(PY) -m utils.delivery site $(if $(FAST),--fast,)

# Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it with apt when missing.
browser-test: install
	$(PY) -m pip install -q "playwright>=1.40"
	COURSE_FAST=1 $(PY) tests/browser/widgets_in_browser.py

clean:
	rm -rf $(VENV) data/cache build

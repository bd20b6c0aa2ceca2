# The course's commands. `make lab` to learn, `make test` to check everything (fast mode).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.course-installed
# Per-cell time limit for the executed notebooks (seconds).
CELL_TIMEOUT ?= 600
# make test executes the notebooks NB_JOBS at a time (pytest-xdist; one notebook stays on one worker, its cells in
# order), each kernel with NB_THREADS torch/BLAS threads: on 2 cores, two single-threaded kernels finish sooner than
# one two-threaded kernel after the other. NB_JOBS=0: one at a time, in this process.
NB_JOBS ?= 2
NB_THREADS ?= 1
# Extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# JupyterLab refuses to run as root (containers, Binder-like machines) unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# CPU=1 (make lab CPU=1, make test CPU=1): at the first install, torch and torchvision come from PyTorch's CPU-only
# wheel index, with requirements.txt's ranges, before everything else. On Linux that leaves out the CUDA libraries
# (the default install is about 6.3 GB, the CPU one about 1.7 GB: README, "Installing"). Default: PyPI's torch.
CPU ?=
CPU_ONLY := $(filter 1 yes true,$(CPU))
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_REQS := $(shell sed -E -n 's/[[:space:]]*\#.*//; s/[[:space:]]+//g; /^(torch|torchvision)[[:space:]]*([<>=!~;[]|$$)/p' requirements.txt)

# A working interpreter with pip in $(VENV): create it when missing; a venv left without pip (or with a broken
# interpreter) is repaired with ensurepip or made anew, with a message; if that fails, say what to install.
define ENSURE_VENV
if ! $(PY) -m pip --version >/dev/null 2>&1; then \
  if $(PY) -c "" >/dev/null 2>&1; then \
    echo "$(VENV) has no working pip: repairing it (python -m ensurepip)"; \
    $(PY) -m ensurepip --upgrade >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV); \
  else \
    if [ -e $(VENV) ]; then echo "$(VENV) has no working python: making it anew"; fi; \
    $(PYTHON) -m venv --clear $(VENV); \
  fi; \
  $(PY) -m pip --version >/dev/null 2>&1 || { \
    echo "error: could not make $(VENV) with pip in it ($(PYTHON) -m venv failed)."; \
    echo "  On Debian/Ubuntu: sudo apt install python3-venv ; then: rm -rf $(VENV) ; make"; \
    echo "  Or choose another Python: make PYTHON=python3.12"; exit 1; }; \
fi
endef

.PHONY: export install lab test test-student unit notebooks bench checkpoints clean help stamp student slides site browser-test

help:
	@echo "make lab    - create .venv if needed, install the course, open JupyterLab on your workspace my-work/"
	@echo "             (filled from the student edition once; never overwritten. LAB_DIR=notebooks: the solutions)"
	@echo "make test   - same set-up, then unit tests and every notebook executed in fast mode (COURSE_FAST=1)"
	@echo "             CPU=1: at the first install, CPU-only torch from PyTorch's wheel index (about 1.7 GB, not 6.3 GB, on Linux)"
	@echo "make bench  - run notebooks in full mode, write benchmarks/RESULTS.md, keep the executed notebooks in build/bench/ (NB='01 05' to choose)"
	@echo "             SCRATCH=1: full mode training every model in the notebook (COURSE_TRAIN_FROM_SCRATCH=1), no checkpoint"
	@echo "make times  - write every time a student reads (plan cells, README's time column) from benchmarks/results/ (NB='01 05' to choose)"
	@echo "make checkpoints - retrain the course's checkpoints (checkpoints/; hours on 2 cores) with benchmarks/train_checkpoints.py"
	@echo "make slides - one reveal.js deck per notebook in build/slides/, 1280x720, works offline (figures from make site)"
	@echo "make test-student - every notebook of the student edition (notebooks/student/) run with all answers left empty"
	@echo "make export - write utils/lessons/ from the notebooks' cells tagged export (the one source of each model)"
	@echo "make student - rebuild the student edition in notebooks/student/ (answer cells empty, checks kept)"
	@echo "             refuses to overwrite a notebook holding changes git does not have; FORCE=1 overrides"
	@echo "make site   - the course as a Jupyter Book: the student edition executed, in build/book/_build/html/"
	@echo "             FAST=1: fast mode, in build/book-fast/; cached: a rebuild re-runs only changed notebooks"
	@echo "make browser-test-site - the site and three decks in headless Chromium with the network blocked"
	@echo "make browser-test - JupyterLab + headless Chromium: the widgets of 03 and 04, and a student's pass over student 01 and 03"

$(STAMP): requirements.txt pyproject.toml
	@$(ENSURE_VENV)
	$(if $(CPU_ONLY),$(PY) -m pip install -q --index-url $(TORCH_CPU_INDEX) $(foreach r,$(TORCH_REQS),"$(r)"))
	$(PY) -m pip install -q -r requirements.txt -e .
	touch $(STAMP)

install: $(STAMP)
	$(if $(CPU_ONLY),@$(PY) -c "import sys; import torch; sys.exit(torch.version.cuda is None)" 2>/dev/null && echo "note: $(VENV) already holds a CUDA build of torch. CPU=1 acts at the first install only: rm -rf $(VENV) and run make lab CPU=1 again" || true)

# Only the interpreter and pip (install runs this first).
.PHONY: venv
venv:
	@$(ENSURE_VENV)

# JupyterLab opens the student's own workspace, my-work/ (git-ignored): filled from the student edition on the first
# run, never overwritten afterwards (a newer course version arrives beside the student's copy, with a message).
# Instructors presenting the edition with the solutions: make lab LAB_DIR=notebooks
LAB_DIR ?= my-work
lab: install
	$(PY) -m tools.workspace
	$(VENV)/bin/jupyter lab --notebook-dir=$(LAB_DIR) $(ROOT_FLAG) $(LAB_ARGS)

# Unit tests, then every notebook in notebooks/ (the instructor's edition, with the worked solutions) executed top to
# bottom by nbval in fast mode. COURSE_STRICT=1: there, an exercise check that rejects its worked solution fails.
test: install
	COURSE_FAST=1 MPLBACKEND=Agg $(PY) -m pytest -q -rs --ignore=tests/student tests/
	COURSE_FAST=1 COURSE_STRICT=1 MPLBACKEND=Agg OMP_NUM_THREADS=$(NB_THREADS) $(PY) -m pytest -q --nbval-lax \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -n $(NB_JOBS) --dist loadscope --durations=15 --ignore=notebooks/student notebooks/

# The student edition as a student who skips every exercise meets it: each notebook of notebooks/student/ run top to
# bottom in fast mode with every answer cell left empty; every check must say "no answer given yet" and the notebook
# must go on to its end (later cells use the reference answers). About as long as the notebooks of `make test`.
# EXECUTED=build/book-fast/_build/jupyter_execute/student: check the notebooks that `make site FAST=1` executed
# (the same student edition, every answer empty) instead of running them again (what CI does).
test-student: install
	COURSE_FAST=1 MPLBACKEND=Agg $(if $(EXECUTED),COURSE_STUDENT_EXECUTED="$(EXECUTED)") $(PY) -m pytest -q -rs --durations=9 tests/student/

unit: install
	COURSE_FAST=1 $(PY) -m pytest -q -rs --ignore=tests/student tests/

# The plan cells' run times, totals and last lines, and the README's time column, from benchmarks/results/ (run.py
# also does it after a run). A notebook whose plan does not match its headings is named, with what to fix.
.PHONY: times
times: install
	$(PY) benchmarks/times.py $(NB)

bench: install
	$(PY) benchmarks/run.py --keep build/bench $(if $(SCRATCH),--scratch) $(NB)

# The models that notebooks 05-08 load for their application sections, trained with each notebook's recipe and a
# longer budget; writes checkpoints/<name>.pt, its card <name>.json and checkpoints/MANIFEST.json (sha256, size).
checkpoints: install
	$(PY) benchmarks/train_checkpoints.py

# The lesson code other files reuse (models, samplers, losses) is written once, in the notebooks' cells tagged
# `export`; this writes utils/lessons/<topic>.py from them (a unit test fails while one is stale).
export: install
	$(PY) -m tools.export

# Delivery: Colab stamping, student edition, slides, site
stamp: install
	FORCE=$(FORCE) $(PY) -m tools.delivery stamp

student: install
	FORCE=$(FORCE) $(PY) -m tools.delivery student

# Decks from the site's executed notebooks (make site, else make site FAST=1); reveal.js and MathJax vendored.
slides: install
	$(PY) -m tools.slides

# Jupyter Book of the student edition, executed (cached: a rebuild re-runs only the notebooks whose code changed).
# FAST=1: fast mode, into build/book-fast/; STRICT=1: Sphinx warnings are errors (CI).
site: install
	COURSE_DATA="$(COURSE_DATA)" $(PY) -m tools.site $(if $(FAST),--fast,) $(if $(STRICT),--strict,)

# The site and three of its decks in headless Chromium, network blocked (after make site FAST=1).
.PHONY: browser-test-site
browser-test-site: install
	$(PY) -m pip install -q "playwright>=1.40"
	$(PY) tests/browser/site_in_browser.py

# Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it with apt when missing.
browser-test: install
	$(PY) -m pip install -q "playwright>=1.40"
	COURSE_FAST=1 $(PY) tests/browser/widgets_in_browser.py

# Colab as it is, here: a fresh venv like Colab's (newest numpy/torch/matplotlib, ipywidgets 7, no RDKit, ASE or the
# course), every set-up cell run as written with the Colab branch on (cloning this checkout's committed HEAD), 01 and
# 06 whole in fast mode. About 10 min, 6 GB in build/colab-venv (kept: the next run takes a few minutes less).
.PHONY: colab-check
colab-check: install
	COURSE_DATA="$(COURSE_DATA)" $(PY) tests/colab/colab_check.py

clean:
	rm -rf $(VENV) data/cache build

# Two commands do everything: `make lab` and `make test`. Both run `make setup` first,
# which is idempotent (a second run takes seconds).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup lab test site bench doctor clean lock

setup: $(VENV)/.installed
	$(BIN)/course setup

# The Python side: a venv with the course package (editable) and every Python dependency, at
# the exact versions of constraints.txt (the lock; `make lock` recompiles it from pyproject.toml).
$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (found " + sys.version.split()[0] + "): set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,capstones]'
	touch $@

# After changing dependencies in pyproject.toml: recompile constraints.txt (uv, every platform)
# and re-pin the Python capstones' and starters' requirements.txt from it.
lock: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python tools/lock.py

lab: setup
	$(BIN)/course lab

# Every notebook in sync with its .md (names the file and cell otherwise), lint (ruff, configured
# in pyproject.toml), then unit and integration tests — the browser suite (tests/browser: a real
# `course lab` driven in Chromium) among them, which runs when a Chromium is found and is
# skipped, loudly, when none is — then every notebook under nbval (exceptions fail a cell;
# outputs are compared only in cells marked NBVAL_CHECK_OUTPUT). Screenshots of failing browser
# tests: _build/browser-artifacts/.
test: setup
	$(BIN)/course sync --check
	$(BIN)/ruff check .
	@$(BIN)/python tests/browser/browser_lab.py
	$(BIN)/python -m pytest tests notebooks --nbval-lax --durations=15

# The course as a static HTML site, built with Jupyter Book 2 (myst.yml): _build/html/index.html
site: setup
	$(BIN)/course site

bench: setup
	$(BIN)/python benchmarks/magics.py
	$(BIN)/python benchmarks/check.py solutions/capstone/express
	$(BIN)/python benchmarks/capstones.py
	$(BIN)/python benchmarks/grade.py

doctor: $(VENV)/.installed
	$(BIN)/course doctor

clean:
	rm -rf $(VENV) .course _build course/projects/node/node_modules course/projects/java/classpath.txt

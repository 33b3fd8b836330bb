# m2x-micro: `make demo` runs the main job, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: setup test clean

setup: $(STAMP)

# The venv is rebuilt whenever the pinned requirements change.
$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf build .pytest_cache

# `make run` and `make test` work on a fresh machine: they create .venv, install the
# pinned set (constraints.txt) and the system packages the tests need, then run.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: install system-deps run demo test test-fast lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	scripts/ensure-system-deps

run: install
	$(PY) deployments/run_local.py

demo: install
	$(VENV)/bin/iop demo

test: install system-deps
	$(PY) -m pytest

# The pure unit tests (domain, rules, texts): under a minute, no servers.
test-fast: install
	$(PY) -m pytest tests/unit -q

lint: install
	$(VENV)/bin/ruff check iop_workflow flows deployments tests bench
	$(VENV)/bin/ruff format --check iop_workflow flows deployments tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/sweep_bench.py
	$(PY) bench/web_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

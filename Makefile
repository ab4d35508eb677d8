# neurocl: `make demo` trains bas3 and plots it; `make test` runs the tests.
# Both create the virtual environment (.venv, Python 3.11) on first use.
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: venv demo test test-integration test-lava test-slow test-all bas4 digits bench gallery clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,brian2,lava,dask]'
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python lava-nc==0.10.0
	$(PY) -m neurocl.engines.numpy.warmup
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/neurocl run circuits/bas3.toml --out results/bas3

bas4: $(STAMP)
	$(VENV)/bin/neurocl run circuits/bas4.toml --out results/bas4

digits: $(STAMP)
	$(VENV)/bin/neurocl run circuits/digits.toml --out results/digits

# the default suite (what CI runs first): everything but long runs and the Lava emulator
test: $(STAMP)
	$(PY) -m pytest -m "not slow and not lava and not integration" -q

# end-to-end runs: short learning runs, sweeps killed and resumed, Dask, the fault-injection table
test-integration: $(STAMP)
	$(PY) -m pytest -m "integration and not slow and not lava" -q

# Lava emulator tests (forked processes with time limits); CI runs them after `make test`
test-lava: $(STAMP)
	$(PY) -m pytest -m "lava and not slow" -q

bench: $(STAMP)
	$(PY) benchmarks/throughput.py

gallery: $(STAMP)
	for f in examples/*.py; do $(PY) $$f || exit 1; done

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

# everything: default, Lava and slow tests
test-all: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf results .pytest_cache

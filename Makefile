# neurocl: `make demo` trains bas3 and plots it; `make test` runs the tests.
# Both create the virtual environment (.venv, Python 3.11) on first use.
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: venv demo test test-integration test-lava test-slow test-all bas4 digits bench readme-numbers gallery docs docs-screenshots wheel clean

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

# throughput against plain numpy, Brian2 and Lava; numbers in benchmarks/throughput.json
bench: $(STAMP)
	$(PY) benchmarks/throughput.py

# the README's results table (runs demo, bas4 and digits into results/), API example and
# profile fallback cost; numbers in benchmarks/readme_numbers.json (about 15 CPU minutes)
readme-numbers: $(STAMP)
	$(PY) benchmarks/readme_numbers.py

gallery: $(STAMP)
	for f in examples/*.py; do $(PY) $$f || exit 1; done

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

# everything: default, Lava and slow tests
test-all: $(STAMP)
	$(PY) -m pytest -q

# the documentation site (build/docs/html/index.html): installs the docs extra, builds offline
# with warnings as errors; the gallery shows the examples' saved figures (nothing is rerun)
docs: $(STAMP)
	$(PY) -c "import sphinx, numpydoc, sphinx_gallery" 2>/dev/null || $(PY) -m pip install --quiet -e '.[docs]'
	rm -rf build/docs docs/gallery docs/_gallery_src docs/_generated
	$(PY) -m sphinx -W --keep-going -q -b html docs build/docs/html
	@echo "documentation: build/docs/html/index.html"

# screenshots of the built site in a headless browser (Debian: apt-get install chromium)
docs-screenshots: docs
	mkdir -p docs/_screenshots
	for p in index gallery/index gallery/lemma21_profiles api/scripting; do \
	  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1600 \
	    --screenshot=docs/_screenshots/$$(echo $$p | tr / _).png file://$(CURDIR)/build/docs/html/$$p.html || exit 1; done

# a wheel in build/dist/ (offline: no build isolation; build/ is git-ignored)
wheel: $(STAMP)
	rm -rf build/lib build/bdist*
	$(PY) -m pip wheel --no-deps --no-build-isolation --no-index -w build/dist .

clean:
	rm -rf results .pytest_cache

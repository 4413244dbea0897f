# Each target works alone on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CORE   := $(VENV)/.installed-core
DEV    := $(VENV)/.installed-dev
HYPOTHESIS_PROFILE ?= ci
OUT    ?= out

.PHONY: demo test lint verify paper bench parity mutation fuzz figures docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(CORE): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $(CORE)

$(DEV): $(CORE)
	$(PY) -m pip install --quiet -e '.[test,docs,lint]'
	touch $(DEV)

demo: $(CORE)
	$(VENV)/bin/steerid demo --out $(OUT)

verify: $(CORE)
	$(VENV)/bin/steerid verify

# the paper's seven experiments on the trained zoo, beside their certified counterparts
paper: $(CORE)
	$(VENV)/bin/steerid paper --out $(OUT)/paper

# lint and type gates, the test suite, every code block of the docs and README, the strict docs build
test: lint
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest -n 2 --markdown-docs tests docs README.md
	$(MAKE) docs

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

figures: $(CORE)
	$(VENV)/bin/steerid figures --out docs/figures

docs: $(DEV) figures
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	STEERID_SITE=site $(PY) -m pytest -q -p no:xdist tests/test_docs_offline.py

bench: $(CORE)
	$(PY) bench/checkpoint_scale.py --family all
	$(PY) bench/fisher.py
	$(PY) bench/sampler.py
	$(PY) bench/exact_cross_check.py

# sampled mutation testing of theory/ (a seeded sample; writes bench/results/mutation.md)
MUTATION_ARGS ?=
mutation: $(DEV)
	$(PY) -m pip install --quiet -e '.[test,mutation]'
	$(PY) bench/mutation.py $(MUTATION_ARGS)

# a longer fuzzing campaign of the CLI and the public theory functions (writes bench/results/fuzz.md)
FUZZ_SCALE ?= 10
fuzz: $(DEV)
	$(PY) bench/fuzz.py --scale $(FUZZ_SCALE)

# live comparison against transformers (torch is not needed by anything else; TORCH pins its build)
TORCH ?= torch
parity: $(DEV)
	$(PY) -m pip install --quiet '$(TORCH)' 'transformers>=4.45'
	STEERID_PARITY=1 $(PY) -m pytest -q -p no:xdist tests/live

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis site docs/figures

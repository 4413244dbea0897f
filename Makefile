# Each target works alone on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HYPOTHESIS_PROFILE ?= ci
OUT    ?= out

.PHONY: demo test verify bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/steerid demo --out $(OUT)

verify: $(STAMP)
	$(VENV)/bin/steerid verify

test: $(STAMP)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest -n 2 tests

bench: $(STAMP)
	$(PY) bench/fisher.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis

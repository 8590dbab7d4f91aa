# Two commands do all the set-up (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench clean

# The environment: created on first use, refreshed when pyproject.toml changes. The demo
# needs wikirec alone; the tests add the dev extra (pytest, selenium, gensim, ...).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/wikirec run books --out artifacts/demo
	@echo "browse it: $(BIN)/wikirec serve artifacts/demo/train   (then open http://127.0.0.1:8000/)"

test: $(DEV_STAMP)
	$(BIN)/ruff check wikirec tests benchmarks docs
	$(BIN)/python -m pytest -q

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_serve.py

clean:
	rm -rf $(VENV) artifacts/demo

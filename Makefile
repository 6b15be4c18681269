# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test test-fast lint format bench clean

# Re-install only when a requirements file changed (stamp files).
$(VENV)/.deps-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.deps-dev: $(VENV)/.deps-run requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.deps-run
	$(PY) -m streamlit run app.py --server.port $(PORT)

lint: $(VENV)/.deps-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	$(PY) -m pytest

# While developing: everything but the browser and fuzz tests (a few minutes instead of ~15).
test-fast: lint
	$(PY) -m pytest -m "not browser and not fuzz"

format: $(VENV)/.deps-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.deps-dev
	$(PY) benchmarks/bench_hessian.py
	$(PY) benchmarks/bench_pages.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

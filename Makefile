# The two commands of the README. Both install everything they need into ./.venv first.
#   make run   — install, migrate, load the Oakland demo data, serve on http://127.0.0.1:8000
#   make test  — install, then run the whole suite (DATABASE_URL selects the backend)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint bench fuzz clean

$(BIN)/partnermap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/partnermap

run: install
	$(BIN)/partnermap migrate
	$(BIN)/partnermap demo
	$(BIN)/partnermap serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

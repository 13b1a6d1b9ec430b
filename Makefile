# The two commands of the README: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types check-content eval clean

# `make test` runs the suite on SQLite, then on PostgreSQL (a throwaway cluster the tests start;
# skipped in one line when PostgreSQL is not installed: apt-get install postgresql).

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; the stamp files record what was installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/desa-imigrasi run

test: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy bot
	$(BIN)/pytest
	DESA_TEST_DATABASE=postgresql $(BIN)/pytest

check-content: $(VENV)/.installed
	$(BIN)/desa-imigrasi check-content

eval: $(VENV)/.installed
	$(BIN)/desa-imigrasi eval tests/data/dev_questions.yaml
	$(BIN)/desa-imigrasi eval ../shared/eval/sample_questions.yaml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

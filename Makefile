# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The tests and the type check cover the optional cluster code too.
CLUSTER_STAMP := $(VENV)/.cluster-stamp
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: install run index test lint bench clean

install: $(STAMP)

# torch is pinned and installed first: a plain `torch` requirement can pull a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

index: install
	$(BIN)/qa index seeds/

run: index
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

$(CLUSTER_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	touch $(CLUSTER_STAMP)

test: $(CLUSTER_STAMP)
	$(BIN)/python -m pytest -q -ra

lint: $(CLUSTER_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf .qa .pytest_cache

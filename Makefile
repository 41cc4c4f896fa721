# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The tests and the type check cover the optional cluster code too.
CLUSTER_STAMP := $(VENV)/.cluster-stamp
HOST   ?= 127.0.0.1
PORT   ?= 7860

# English questions' BM25 words (qa/translation.py): FreeDict's English-Arabic dictionary
# (GPL), taken from the system's Debian package archive into the environment, never
# shipped in this repository. Where apt cannot fetch it, English questions rank without
# it; the attempt is made once (remove $(DICTIONARY_STAMP) to try again).
DICTIONARY_DIR   := $(VENV)/share/dictd
DICTIONARY_STAMP := $(DICTIONARY_DIR)/.fetch-attempted

.PHONY: install run index test lint bench clean

install: $(STAMP) $(DICTIONARY_STAMP)

# Both files are copied under temporary names and renamed, the index last: a reader
# never finds an index without its data.
$(DICTIONARY_STAMP):
	@mkdir -p $(DICTIONARY_DIR)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	if [ -f /usr/share/dictd/freedict-eng-ara.index ]; then \
	    echo "FreeDict English-Arabic: using /usr/share/dictd"; \
	elif (cd "$$tmp" && apt-get download dict-freedict-eng-ara >/dev/null 2>&1) && dpkg-deb -x "$$tmp"/*.deb "$$tmp/x"; then \
	    for part in dict.dz index; do \
	        cp "$$tmp/x/usr/share/dictd/freedict-eng-ara.$$part" "$(DICTIONARY_DIR)/.freedict-eng-ara.$$part.tmp" && \
	        mv "$(DICTIONARY_DIR)/.freedict-eng-ara.$$part.tmp" "$(DICTIONARY_DIR)/freedict-eng-ara.$$part" || exit 1; \
	    done; \
	    echo "FreeDict English-Arabic: installed into $(DICTIONARY_DIR)"; \
	else \
	    echo "note: apt could not fetch dict-freedict-eng-ara; English questions get no BM25 words (README)"; \
	fi
	@touch $@

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

test: $(CLUSTER_STAMP) $(DICTIONARY_STAMP)
	$(BIN)/python -m pytest -q -ra

lint: $(CLUSTER_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf .qa .pytest_cache

# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The tests and the type check cover the optional cluster code too.
CLUSTER_STAMP := $(VENV)/.cluster-stamp
HOST   ?= 127.0.0.1
PORT   ?= 7860

# Questions' words in BM25 (qa/translation.py): FreeDict's English-Arabic dictionary and
# the French-, Spanish-, Portuguese- and Turkish-English ones that lead to it (GPL); and the
# German-English one, whose nouns the answer gate tells from names (qa/nouns.py). Taken
# from the system's Debian package archive into the environment, never shipped in this
# repository. Where apt cannot fetch one, its questions rank without it; each is tried
# once (remove its stamp, $(DICTIONARY_DIR)/.NAME-attempted, to try again).
DICTIONARY_DIR    := $(VENV)/share/dictd
DICTIONARIES      := eng-ara fra-eng spa-eng por-eng tur-eng deu-eng
DICTIONARY_STAMPS := $(DICTIONARIES:%=$(DICTIONARY_DIR)/.%-attempted)

.PHONY: install run index test lint bench clean

install: $(STAMP) $(DICTIONARY_STAMPS)

# Both files are copied under temporary names and renamed, the index last: a reader
# never finds an index without its data.
$(DICTIONARY_DIR)/.%-attempted:
	@mkdir -p $(DICTIONARY_DIR)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	if [ -f /usr/share/dictd/freedict-$*.index ]; then \
	    echo "FreeDict $*: using /usr/share/dictd"; \
	elif (cd "$$tmp" && apt-get download dict-freedict-$* >/dev/null 2>&1) && dpkg-deb -x "$$tmp"/*.deb "$$tmp/x"; then \
	    for part in dict.dz index; do \
	        cp "$$tmp/x/usr/share/dictd/freedict-$*.$$part" "$(DICTIONARY_DIR)/.freedict-$*.$$part.tmp" && \
	        mv "$(DICTIONARY_DIR)/.freedict-$*.$$part.tmp" "$(DICTIONARY_DIR)/freedict-$*.$$part" || exit 1; \
	    done; \
	    echo "FreeDict $*: installed into $(DICTIONARY_DIR)"; \
	else \
	    echo "note: apt could not fetch dict-freedict-$*; the product works without it, less what it gives (README)"; \
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

test: $(CLUSTER_STAMP) $(DICTIONARY_STAMPS)
	$(BIN)/python -m pytest -q -ra

# Retrieval and answers on the shipped articles, their questions and hard negatives.
bench: install
	$(BIN)/qa bench --corpus seeds/ --questions tests/data/seed_questions.jsonl \
	    --questions tests/data/unanswerable_questions.jsonl --answers

lint: $(CLUSTER_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf .qa .pytest_cache

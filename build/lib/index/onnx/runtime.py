"""What runs for every question and every batch of passages: an exported folder opened
with onnxruntime and the `tokenizers` package only.

The query path never imports torch, transformers or sentence-transformers (they cost
seconds to import). The folder (written by `index.onnx.cache`) holds the graph, its
weights in a file beside it that onnxruntime memory-maps (a session opens without
copying them), the tokenizer and a config; pooling (mean / cls / lasttoken / max) and L2
normalization run in numpy on the transformer's `last_hidden_state`, as
sentence-transformers does.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the exported folder changes, so older caches get rebuilt.
FORMAT_VERSION = 4
MODEL_FILE = "model.onnx"
#: The graph's weights, beside it: onnxruntime memory-maps this file instead of parsing
#: and copying the weights out of MODEL_FILE (see `index.onnx.export.save_mapped`).
WEIGHTS_FILE = "model.onnx.data"
#: The graph questions run through, with its weights, where the export has one: the
#: model's own 4-bit weights (index.onnx.blockwise) beside int8 passages.
QUESTION_FILE = "question.onnx"
QUESTION_WEIGHTS_FILE = "question.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "qa_onnx_config.json"
#: Most texts per onnxruntime call. One measured fastest (batches of 2 to 32 gave 2% to
#: 30% fewer passages/s per thread: activations fall out of cache) and makes an int8
#: vector independent of its batch (dynamic quantisation scales each call's input).
DEFAULT_BATCH_SIZE = 1
#: (start, end) character offsets in a text.
Span = tuple[int, int]
#: Most padded tokens per call: bigger batches fall out of cache and get slower.
MAX_BATCH_TOKENS = 512
#: onnxruntime graph rewrites we turn off: its SkipLayerNormalization kernel is slower
#: than the Add + LayerNormalization it replaces (see `index.onnx.export.fuse`); ~25%
#: of int8 time.
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def usable_cores() -> int:
    """CPUs this process may run on (affinity-aware, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxSentenceModel:
    """A folder written by `index.onnx.cache.export_onnx`, run with onnxruntime on the CPU.

    `encode` pads each batch only to its longest text (texts are sorted by token length
    first), pools like the sentence-transformers model did, and returns float32.

    One session, one thread per call: bulk input runs `threads` calls at once, one small
    batch each, which scales better than splitting every op (and copes with a busy
    machine); a question runs on one core, leaving the other to the second model
    (`qa.retriever`). Splitting a question's ops over two cores measured no faster
    without spinning threads, and spinning ones take the core the second model needs.
    """

    def __init__(self, folder: str | Path, threads: int | None = None, graph: str = MODEL_FILE) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.graph = graph
        config = json.loads((self.folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{self.folder} holds an ONNX export of another format version")
        self.config = config
        self.prompts: dict[str, str] = dict(config.get("prompts") or {})
        self.dimension = int(config["dimension"])
        self.max_seq_length = int(config["max_seq_length"])
        self.pooling = str(config["pooling"])
        self.normalize = bool(config["normalize"])
        self._pad_id = int(config["pad_token_id"])
        self._truncation_side = str(config.get("truncation_side", "right"))
        # One tokenizer, never reconfigured: truncation is done per encoding below, so
        # counting (no truncation) and encoding can run from several threads at once.
        tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        tokenizer.encode_special_tokens = bool(config.get("encode_special_tokens", False))
        self.tokenizer = tokenizer
        self._special = tokenizer.num_special_tokens_to_add(False)

        self.threads = threads or usable_cores()
        self.session = open_session(str(self.folder / graph))
        # What the graph takes, of input_ids, attention_mask and token_type_ids.
        self.input_names = [i.name for i in self.session.get_inputs()]

    def for_questions(self) -> "OnnxSentenceModel":
        """The model that embeds questions: the export's question graph if it has one
        (`QUESTION_FILE`), else this one. It shares this one's tokenizer (a second copy of
        XLM-R's vocabulary would hold about 300 MB more)."""
        if not self.config.get("question_graph"):
            return self
        other = copy.copy(self)
        other.graph = QUESTION_FILE
        other.session = open_session(str(self.folder / QUESTION_FILE))
        other.input_names = [i.name for i in other.session.get_inputs()]
        return other

    # -- tokens

    def count_tokens(self, text: str, add_special_tokens: bool = False) -> int:
        """Length in tokens, untruncated, as `hf_tokenizer(text, add_special_tokens=...)`."""
        return len(self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Model input ids: special tokens added, truncated to `max_seq_length`."""
        return [e.ids for e in self.encodings(texts)]

    def encodings(self, texts: Sequence[str]) -> list[Any]:
        """The tokenizer's Encodings of `texts`, as the model reads them.

        What `tokenizers` does with truncation enabled: cut the content so the special
        tokens still fit, then add them.
        """
        room = self.max_seq_length - self._special
        out = []
        for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False):
            if len(enc.ids) > room:
                enc.truncate(room, direction=self._truncation_side)
            out.append(self.tokenizer.post_process(enc))
        return out

    # -- vectors

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        normalize: bool = True,
        progress: bool = False,
    ) -> np.ndarray:
        """Embeddings of `texts` (prompts already included), shape (len(texts), dimension).

        Texts are sorted by token length and cut into batches of at most `batch_size`
        texts and `MAX_BATCH_TOKENS` padded tokens (smaller batches stay in cache).
        """
        return self.encode_with_spans(texts, None, batch_size, normalize, progress)[0]

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[Span]] | None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        normalize: bool = True,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)`, and for each text the vectors of its character `spans`
        (`span_vectors`), from the same forward pass; no span vectors if `spans` is None."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_out = [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans or ()]
        if not len(texts):
            return out, span_out
        encodings = self.encodings(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches: list[list[int]] = []
        start = 0
        while start < len(order):
            longest = len(encodings[order[start]].ids)
            size = max(1, min(batch_size, MAX_BATCH_TOKENS // max(longest, 1)))
            batches.append(order[start : start + size])
            start += size
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="Batches", unit="text")

        def run(rows: list[int]) -> None:
            hidden, mask = self._forward([encodings[i] for i in rows])
            out[rows] = pool(hidden, mask, self.pooling)
            if spans is not None:
                for row, i in enumerate(rows):
                    n = int(mask[row].sum())
                    span_out[i] = span_vectors(hidden[row, :n], encodings[i].offsets, spans[i])
            if bar is not None:
                bar.update(len(rows))

        try:
            if len(batches) == 1 or self.threads == 1:
                for rows in batches:
                    run(rows)
            else:
                from concurrent.futures import ThreadPoolExecutor

                workers = min(self.threads, len(batches))
                with ThreadPoolExecutor(workers, thread_name_prefix="onnx-embed") as executor:
                    for done in [executor.submit(run, rows) for rows in batches]:
                        done.result()
        finally:
            if bar is not None:
                bar.close()
        if normalize or self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, 1e-12)
        return out, span_out

    def _forward(self, encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The last hidden states of a right-padded batch, and its attention mask."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
            types[row, :n] = enc.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.session.run(None, {name: feed[name] for name in self.input_names})[0]
        return hidden, mask


def open_session(path: str) -> Any:
    """An onnxruntime session whose calls each run on the calling thread alone."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(DISABLED_OPTIMIZERS))


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """sentence-transformers' pooling of right-padded token embeddings."""
    if mode == "cls":
        return hidden[:, 0]
    if mode == "lasttoken":
        last = np.maximum(mask.sum(axis=1) - 1, 0)
        return hidden[np.arange(len(hidden)), last]
    weights = mask[..., None].astype(hidden.dtype)
    if mode == "max":
        return np.where(weights > 0, hidden, np.float32(-1e9)).max(axis=1)
    if mode == "mean":
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    raise ValueError(f"unsupported pooling {mode!r}")


def span_vectors(hidden: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[Span]) -> np.ndarray:
    """L2-normalised mean of one text's token states over each character span.

    `hidden` holds the text's unpadded token states, `offsets` each token's (start, end)
    in the text ((0, 0) for special tokens). A token belongs to the span its last
    character is in (a word's token carries the space before it). A span with no token
    (cut off by truncation) gets the mean of all of the text's tokens, what the text's
    own vector is made of.
    """
    ends = np.array([e for _, e in offsets], dtype=np.int64)
    real = np.array([e > s for s, e in offsets], dtype=bool)
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    for j, (start, end) in enumerate(spans):
        inside = real & (ends > start) & (ends <= end)
        out[j] = hidden[inside].mean(axis=0) if inside.any() else hidden.mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


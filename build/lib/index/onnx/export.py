"""A sentence-transformers model (Transformer -> Pooling [-> Normalize]) as an ONNX graph,
and the checks that graph must pass before it is used.

What the export does (the measurements behind each choice are in docs/benchmarks.md):

- the transformer is traced with the TorchScript exporter (`dynamo=False`, still
  available in torch 2.13; the dynamo exporter is the fallback) with eager attention,
  because that graph is the one onnxruntime's BERT optimiser fuses completely
  (EmbedLayerNormalization, Attention); we leave out its SkipLayerNormalization, whose
  CPU kernel is slower than the ops it replaces;
- the weights are saved beside the graph (`WEIGHTS_FILE`), where onnxruntime
  memory-maps them, so a session opens without copying them.

`check` compares an exported folder with the torch model: token ids equal to the
Hugging Face tokenizer's, and embeddings within `MIN_COSINE` of torch's on `CHECK_TEXTS`.
A model whose modules the runtime cannot reproduce raises `OnnxExportError`, which
carries the loaded torch model so the caller (`index.embedder`) can fall back to it.
The steps run in order, once per model, in `index.onnx.cache.export_onnx`.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.onnx.runtime import MODEL_FILE, WEIGHTS_FILE, OnnxSentenceModel

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Smallest cosine to torch's embedding an export must reach on the check texts.
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.98, "question-4bit": 0.9995}
POOLING_MODES = ("mean", "cls", "lasttoken", "max")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

#: Texts the export is checked on: both scripts, short, padded in one batch, and one
#: longer than any model's limit (so truncation is checked too).
CHECK_TEXTS = (
    "query: what did Lavrov discuss with Kuwait?",
    "query: ماذا ناقش لافروف مع الكويت؟",
    "passage: وزير الخارجية الروسي سيرغي لافروف يلتقي نظيره الكويتي في موسكو لبحث العلاقات الثنائية "
    "والأوضاع في منطقة الخليج، وأكد الجانبان أهمية الحوار.",
    "passage: The central bank kept interest rates unchanged on Thursday, citing inflation "
    "that remains above its target despite slowing growth.",
    "a",
    "",
    "<s>literal specials</s> and <pad>",
    "passage: " + "الاقتصاد المصري ينمو بسرعة في عام 2024 وفقا لتقرير البنك الدولي. " * 80,
)


class OnnxExportError(RuntimeError):
    """The model cannot be served by onnxruntime; `model` is the torch model if loaded."""

    def __init__(self, message: str, model: "SentenceTransformer | None" = None) -> None:
        super().__init__(message)
        self.model = model


def describe(model: "SentenceTransformer") -> dict[str, Any]:
    """What the runtime needs to reproduce `model`, or OnnxExportError if it cannot.

    Read from the loaded model (its modules.json, Pooling config.json and
    config_sentence_transformers.json, as sentence-transformers parsed them).
    """
    modules = list(model.children())
    kinds = [type(m).__name__ for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]):
        raise OnnxExportError(f"modules {kinds} (only Transformer, Pooling[, Normalize])", model)
    transformer, pooling = modules[0], modules[1]
    task = getattr(transformer, "transformer_task", "feature-extraction")
    modality = getattr(transformer, "modality_config", None) or {"text": {}}
    output = (modality.get("text") or {}).get("method_output_name", "last_hidden_state")
    if task != "feature-extraction" or set(modality) != {"text"} or output != "last_hidden_state":
        raise OnnxExportError(f"transformer task {task!r} / modalities {sorted(modality)}", model)
    tokenizer = transformer.tokenizer
    if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "padding_side", "right") != "right":
        raise OnnxExportError("needs a fast, right-padding tokenizer", model)
    pool_config = pooling.get_config_dict()
    mode = pool_config.get("pooling_mode", getattr(pooling, "pooling_mode", None))
    if isinstance(mode, (list, tuple)):
        mode = mode[0] if len(mode) == 1 else None
    if mode not in POOLING_MODES or not pool_config.get("include_prompt", True):
        raise OnnxExportError(f"pooling {pool_config} is not supported", model)
    hf = transformer.auto_model
    sample = tokenizer(["a", "a b"], padding=True)
    import inspect

    accepted = inspect.signature(hf.forward).parameters
    inputs = [n for n in _INPUTS if n in sample and n in accepted]
    if inputs[:2] != ["input_ids", "attention_mask"]:
        raise OnnxExportError(f"model inputs {inputs}", model)
    return {
        "pooling": mode,
        "normalize": kinds[2:] == ["Normalize"],
        "max_seq_length": int(model.max_seq_length),
        "prompts": {k: v for k, v in (model.prompts or {}).items() if isinstance(v, str)},
        "dimension": int(model.get_embedding_dimension()),
        "inputs": inputs,
        "pad_token_id": int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0),
        "truncation_side": getattr(tokenizer, "truncation_side", "right"),
        "encode_special_tokens": bool(getattr(tokenizer, "split_special_tokens", False)),
        "model_type": getattr(hf.config, "model_type", None),
    }


def export_graph(hf: Any, tokenizer: Any, inputs: list[str], path: Path) -> str:
    """Trace the transformer to `path` (inputs -> last_hidden_state, dynamic batch and
    sequence axes); returns which exporter produced it."""
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.hf(**dict(zip(inputs, args)), return_dict=True).last_hidden_state

    sample = tokenizer(["passage: a short text", "passage: a somewhat longer text to pad against"],
                       padding=True, return_tensors="pt")
    args = tuple(sample[name] for name in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*inputs, "last_hidden_state"]}
    original = getattr(hf.config, "_attn_implementation", None)
    with contextlib.suppress(Exception):
        hf.set_attn_implementation("eager")  # the attention pattern onnxruntime fuses
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wrapper = LastHidden().eval()
            try:
                torch.onnx.export(wrapper, args, str(path), input_names=inputs,
                                  output_names=["last_hidden_state"], dynamic_axes=axes,
                                  opset_version=17, do_constant_folding=True, dynamo=False)
                return "torchscript"
            except Exception as exc:  # the TorchScript exporter is deprecated since 2.9
                logger.info("TorchScript export failed (%s); trying dynamo", exc)
                torch.onnx.export(wrapper, args, str(path), input_names=inputs,
                                  output_names=["last_hidden_state"], dynamic_axes=axes,
                                  opset_version=18, dynamo=True, external_data=False)
                return "dynamo"
    finally:
        if original:
            with contextlib.suppress(Exception):
                hf.set_attn_implementation(original)


def fuse(src: Path, dst: Path, config: Any) -> dict[str, int]:
    """onnxruntime's transformer fusions; {} when nothing fused or it failed.

    Attention stays the Attention op: MultiHeadAttention without a padding mask (so its
    flash kernel runs, on unpadded batches) measured between 8% faster and 10% slower
    in repeated runs on this busy machine, not worth an export that cannot pad.
    """
    try:
        from onnxruntime.transformers import optimizer
        from onnxruntime.transformers.fusion_options import FusionOptions

        options = FusionOptions("bert")
        # Residual + LayerNorm stay two ops and GELU its own op: onnxruntime's fused CPU
        # SkipLayerNormalization is ~4.6x slower than Add + LayerNormalization (580 vs
        # 125 us on 212x384), and BiasGelu measured no faster than Add + Gelu.
        options.enable_skip_layer_norm = False
        options.enable_bias_skip_layer_norm = False
        options.enable_bias_gelu = False
        with warnings.catch_warnings(), quiet("onnxruntime.transformers"):
            warnings.simplefilter("ignore")
            fused = optimizer.optimize_model(
                str(src), model_type="bert",
                num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
                hidden_size=int(getattr(config, "hidden_size", 0) or 0),
                optimization_options=options, opt_level=0, use_gpu=False,
            )
            stats = {k: int(v) for k, v in fused.get_fused_operator_statistics().items() if v}
            if not stats:
                return {}
            fused.save_model_to_file(str(dst))
            return stats
    except Exception as exc:
        logger.info("graph fusion failed (%s); using the plain graph", exc)
        return {}


def save_mapped(graph: Path, out: Path) -> None:
    """Write `graph` into `out` as MODEL_FILE with its weights in WEIGHTS_FILE.

    Weights in a separate file are memory-mapped by onnxruntime, not parsed out of the
    protobuf and copied: a session starts in a fraction of the time, and the
    word-embedding table (384 MB in e5's fp32 export) stays in the page cache, read a
    row per token, instead of in the process (bench/model_load.py measures both layouts
    of the configured export).
    """
    import onnx

    save_with_weights_beside(onnx.load(str(graph)), out / MODEL_FILE, WEIGHTS_FILE)


def save_with_weights_beside(model: Any, path: Path, weights_name: str) -> None:
    """Save an ONNX model with its tensors in one file `weights_name` beside it (which
    also keeps a model over protobuf's 2 GB limit writable)."""
    import onnx

    (path.parent / weights_name).unlink(missing_ok=True)  # onnx appends to an existing file
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=weights_name, size_threshold=1024)


def check(folder: Path, model: Any, expected: np.ndarray, min_cosine: float,
          graph: str = MODEL_FILE) -> tuple[str | None, float]:
    """(problem or None, min cosine) of the folder's `graph`: tokens must equal the HF
    tokenizer's exactly."""
    runtime = OnnxSentenceModel(folder, graph=graph)
    tokenizer = model.tokenizer
    with quiet("transformers"):
        return _check_tokens_and_vectors(runtime, tokenizer, expected, min_cosine)


def _check_tokens_and_vectors(runtime: OnnxSentenceModel, tokenizer: Any, expected: np.ndarray,
                              min_cosine: float) -> tuple[str | None, float]:
    for text in CHECK_TEXTS:
        theirs = tokenizer(text, truncation=True, max_length=runtime.max_seq_length)["input_ids"]
        if runtime.token_ids([text])[0] != list(theirs):
            return f"token ids differ from the Hugging Face tokenizer on {text[:40]!r}", 0.0
        if runtime.count_tokens(text) != len(tokenizer(text, add_special_tokens=False)["input_ids"]):
            return f"token count differs on {text[:40]!r}", 0.0
    vectors = runtime.encode(list(CHECK_TEXTS), batch_size=4)
    cosine = float((vectors * expected).sum(axis=1).min())
    if not cosine >= min_cosine:
        return f"min cosine to torch {cosine:.4f} < {min_cosine}", cosine
    return None, cosine


@contextlib.contextmanager
def quiet(name: str) -> Iterator[None]:
    """Silence a library's INFO/WARNING chatter while it runs, and undo the handler a
    bare `logging.warning()` in it installs on the root logger (onnxruntime's
    `quantize_dynamic` has one), which would print every library's DEBUG lines after."""
    target = logging.getLogger(None if name == "root" else name)
    level, handlers = target.level, list(target.handlers)
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)
        target.handlers[:] = handlers

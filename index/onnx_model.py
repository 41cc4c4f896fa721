"""ONNX Runtime backend for sentence-transformers models: export once, embed without torch.

`ensure_onnx_model` exports a sentence-transformers model (Transformer -> Pooling
[-> Normalize]) to ONNX the first time it is asked for, optionally quantised to int8,
into a cache folder next to the materialised models. `OnnxSentenceModel` then loads that
folder with `onnxruntime` and the `tokenizers` package only: the query path never
imports torch, transformers or sentence-transformers (they cost seconds to import).

What the export does (the measurements behind each choice are in docs/benchmarks.md):

- the transformer is traced with the TorchScript exporter (`dynamo=False`, still
  available in torch 2.13; the dynamo exporter is the fallback) with eager attention,
  because that graph is the one onnxruntime's BERT optimiser fuses completely
  (EmbedLayerNormalization, Attention); we leave out its SkipLayerNormalization, whose
  CPU kernel is slower than the ops it replaces;
- int8: `quantize_dynamic` with per-channel int8 weights (per-tensor ones lose too
  much), in the recipe for this machine's CPU (`INT8_RECIPES`: signed weights with
  VNNI, unsigned ones without, where the signed kernels saturate). The few matmuls
  whose input has outliers (`_outlier_nodes`; for e5 the FFN output projections of
  layers 4, 0 and 5) are smoothed first (`_smooth`, SmoothQuant) rather than kept fp32;
- the weights are saved beside the graph (`WEIGHTS_FILE`), where onnxruntime
  memory-maps them, so a session opens without copying them;
- pooling (mean / cls / lasttoken / max) and L2 normalization run in numpy on the
  transformer's `last_hidden_state`, as sentence-transformers does.

Every export is checked against the torch model before it is used: token ids equal to
the Hugging Face tokenizer's, and embeddings within `MIN_COSINE` of torch's on a fixed
set of texts. An unfused graph is tried when the fused one fails the check; when both
fail, or the model has modules we cannot export, `OnnxExportError` is raised and the
caller (`index.embedder`) falls back to torch.

Cache folders are built once by `index.cache_folder.build_once` (marker last, atomic
rename, a lock so a second process waits for the first one's export).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.cache_folder import build_once, write_json
from index.cpu import CpuInfo, this_cpu

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Backends this module provides (the torch one lives in index.embedder).
ONNX_BACKENDS = ("onnx", "onnx-int8")
#: Bump when the exported folder changes, so older caches get rebuilt.
FORMAT_VERSION = 3
MODEL_FILE = "model.onnx"
#: The graph's weights, beside it: onnxruntime memory-maps this file instead of parsing
#: and copying the weights out of MODEL_FILE (see `_save_mapped`).
WEIGHTS_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "qa_onnx_config.json"
#: Written last inside a complete folder; a folder without it is not a model.
MARKER_FILE = "qa-onnx-source.json"
#: Most texts per onnxruntime call. One measured fastest (batches of 2 to 32 gave 2% to
#: 30% fewer passages/s per thread: activations fall out of cache) and makes an int8
#: vector independent of its batch (dynamic quantisation scales each call's input).
DEFAULT_BATCH_SIZE = 1
#: Most padded tokens per call: bigger batches fall out of cache and get slower.
MAX_BATCH_TOKENS = 512
#: onnxruntime graph rewrites we turn off: its SkipLayerNormalization kernel is slower
#: than the Add + LayerNormalization it replaces (see `_fuse`); ~25% of int8 time.
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)
#: Dynamic int8 quantisation settings (QuantType names), chosen by measurement.
QUANTIZATION: dict[str, Any] = {
    "per_channel": True,
    #: A matmul whose input's range (what one uint8 scale must span) exceeds this many
    #: times its RMS has outliers: they (the GELU outputs of e5's layers 4, 0 and 5)
    #: cost most of the int8 error, measured as dense MRR on XQuAD...
    "outlier_ratio": 100.0,
    #: ...so its input is divided per channel by s and its weight rows multiplied by s,
    #: s = max|x| ** alpha / max|w| ** (1 - alpha), before quantising (SmoothQuant;
    #: alpha 0.3 and 0.7 measured worse than 0.5). An outlier op that is not a plain
    #: MatMul stays fp32...
    "smoothing_alpha": 0.5,
    #: ...and never more than this share of the matmuls is treated either way.
    "outlier_max_share": 0.25,
}
#: What differs by CPU (index.cpu). With VNNI, u8 x s8 products are summed in 32 bits:
#: signed int8 weights are exact. Without it, onnxruntime sums u8 x s8 pairs in saturating
#: 16 bits; unsigned weights take its u8 x u8 kernels, which widen first and do not
#: saturate (7-bit signed weights, `reduce_range`, measured less exact: docs/benchmarks.md).
INT8_RECIPES: dict[str, dict[str, Any]] = {
    "vnni": {"reduce_range": False, "weight_type": "QInt8"},
    "no-vnni": {"reduce_range": False, "weight_type": "QUInt8"},
}


def int8_recipe(cpu: CpuInfo | None = None) -> str:
    """The INT8_RECIPES entry for `cpu` (this machine's by default)."""
    return "no-vnni" if (cpu or this_cpu()).int8_saturates else "vnni"


def quantization(recipe: str) -> dict[str, Any]:
    """The full quantisation settings of an int8 recipe, as recorded in the export."""
    return {**QUANTIZATION, **INT8_RECIPES[recipe], "recipe": recipe}


#: Smallest cosine to torch's embedding an export must reach on the check texts.
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.98}
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


def usable_cores() -> int:
    """CPUs this process may run on (affinity-aware, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- runtime


class OnnxSentenceModel:
    """A folder written by :func:`export_onnx`, run with onnxruntime on the CPU.

    `encode` pads each batch only to its longest text (texts are sorted by token length
    first), pools like the sentence-transformers model did, and returns float32.

    One session, one thread per call: bulk input runs `threads` calls at once, one small
    batch each, which scales better than splitting every op (and copes with a busy
    machine); a question runs on one core, leaving the other to the second model
    (`qa.retriever`). Splitting a question's ops over two cores measured no faster
    without spinning threads, and spinning ones take the core the second model needs.
    """

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
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
        self.session = _session(ort, str(self.folder / MODEL_FILE))
        self._inputs = [i.name for i in self.session.get_inputs()]

    # -- tokens

    def count_tokens(self, text: str, add_special_tokens: bool = False) -> int:
        """Length in tokens, untruncated, as `hf_tokenizer(text, add_special_tokens=...)`."""
        return len(self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Model input ids: special tokens added, truncated to `max_seq_length`."""
        return [e.ids for e in self._encodings(texts)]

    def _encodings(self, texts: Sequence[str]) -> list[Any]:
        # What `tokenizers` does with truncation enabled: cut the content so the
        # special tokens still fit, then add them.
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
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self._encodings(texts)
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
            out[rows] = self._embed_batch([encodings[i] for i in rows])
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
        return out

    def _embed_batch(self, encodings: list[Any]) -> np.ndarray:
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
        hidden = self.session.run(None, {name: feed[name] for name in self._inputs})[0]
        return pool(hidden, mask, self.pooling)


def _session(ort: Any, path: str) -> Any:
    """An onnxruntime session whose calls each run on the calling thread alone."""
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


# ---------------------------------------------------------------------------- export


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


def export_onnx(
    st_folder_or_name: str | Path,
    out_dir: str | Path,
    int8: str | None,
    model: "SentenceTransformer | None" = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Export a sentence-transformers model into `out_dir` (model.onnx, its weights file,
    tokenizer.json, the config JSON) and check it against torch; returns the config written.

    `int8` is the INT8_RECIPES entry to quantise with, None for fp32. `model` reuses an
    already loaded SentenceTransformer. Raises OnnxExportError
    (carrying the loaded torch model) when the result cannot be trusted.
    """
    step = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if model is None:
        from sentence_transformers import SentenceTransformer

        step("loading the torch model")
        model = SentenceTransformer(str(st_folder_or_name), device="cpu")
    spec = describe(model)
    backend = "onnx-int8" if int8 else "onnx"
    transformer = model[0]
    tokenizer = transformer.tokenizer

    backend_tokenizer = type(tokenizer.backend_tokenizer).from_str(tokenizer.backend_tokenizer.to_str())
    backend_tokenizer.no_truncation()
    backend_tokenizer.no_padding()
    backend_tokenizer.save(str(out / TOKENIZER_FILE))

    work = Path(tempfile.mkdtemp(prefix="export-", dir=out))
    try:
        step("exporting to ONNX")
        raw = work / "raw.onnx"
        exporter = _export_graph(transformer.auto_model, tokenizer, spec["inputs"], raw)
        candidates = []
        step("fusing the graph")
        fused = work / "fused.onnx"
        fusion = _fuse(raw, fused, transformer.auto_model.config)
        if fusion:
            candidates.append((fused, fusion))
        candidates.append((raw, {}))
        torch_vectors = model.encode(list(CHECK_TEXTS), batch_size=8, convert_to_numpy=True,
                                     normalize_embeddings=True)
        failures = []
        for graph, fused_ops in candidates:
            config = {
                "format_version": FORMAT_VERSION,
                "backend": backend,
                "source": str(st_folder_or_name),
                **spec,
                "exporter": exporter,
                "fused_ops": fused_ops,
                "quantization": None,
                "versions": _versions(),
            }
            _save_mapped(graph, out)
            write_json(out / CONFIG_FILE, config)
            if int8:
                step(f"quantising to int8 ({int8})")
                outliers = _outlier_nodes(graph, OnnxSentenceModel(out, threads=1), work / "probe.onnx")
                smooth = work / f"{graph.stem}.smooth.onnx"
                smoothed, keep = _smooth(graph, outliers, smooth)
                settings = quantization(int8)
                graph = _quantize(smooth, work / f"{graph.stem}.int8.onnx", keep, settings)
                config["quantization"] = {**settings, "smoothed_nodes": smoothed, "fp32_nodes": keep}
                _save_mapped(graph, out)
                write_json(out / CONFIG_FILE, config)
            step("checking against torch")
            problem, cosine = _check(out, model, torch_vectors, MIN_COSINE[backend])
            if problem is None:
                config["check_min_cosine"] = round(cosine, 6)
                write_json(out / CONFIG_FILE, config)
                return config
            failures.append(f"{'fused' if fused_ops else 'plain'} graph: {problem}")
        raise OnnxExportError("; ".join(failures), model)
    except OnnxExportError:
        raise
    except Exception as exc:
        raise OnnxExportError(f"{type(exc).__name__}: {exc}", model) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export_graph(hf: Any, tokenizer: Any, inputs: list[str], path: Path) -> str:
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


def _fuse(src: Path, dst: Path, config: Any) -> dict[str, int]:
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
        with warnings.catch_warnings(), _quiet("onnxruntime.transformers"):
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


def _outlier_nodes(graph: Path, runtime: "OnnxSentenceModel", probe: Path) -> dict[str, np.ndarray]:
    """Weight matmuls whose input has outliers (range / RMS over the check texts above
    `outlier_ratio`), worst first, each with its input's largest |value| per channel:
    dynamic int8 gives each input one scale, so these lose the most precision."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(graph))
    weights = {init.name for init in model.graph.initializer}
    users: dict[str, list[str]] = {}
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Attention", "Gemm") and len(node.input) > 1 and node.input[1] in weights:
            users.setdefault(node.input[0], []).append(node.name)
    known = {o.name for o in model.graph.output}
    for name in users:
        if name not in known:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    onnx.save(model, str(probe))
    del model
    session = ort.InferenceSession(str(probe), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    ratios: dict[str, list[float]] = {name: [] for name in users}
    peaks: dict[str, np.ndarray] = {}
    for enc in runtime._encodings([t for t in CHECK_TEXTS if len(t) > 20]):
        ids = np.asarray([enc.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        values = dict(zip(outputs, session.run(None, {i: feed[i] for i in runtime._inputs})))
        for name in users:
            x = values[name]
            rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
            spread = float(max(x.max(), 0.0) - min(x.min(), 0.0))
            ratios[name].append(spread / rms if rms > 0 else 0.0)
            peak = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    scored = sorted(((float(np.mean(r)), name) for name, r in ratios.items() if r), reverse=True)
    limit = int(sum(len(v) for v in users.values()) * QUANTIZATION["outlier_max_share"])
    found = [(node, peaks[name]) for ratio, name in scored if ratio >= QUANTIZATION["outlier_ratio"]
             for node in users[name]]
    return dict(found[:limit])


def _smooth(graph: Path, outliers: dict[str, np.ndarray], dst: Path) -> tuple[list[str], list[str]]:
    """Write `graph` to `dst` with each outlier MatMul smoothed; (smoothed, left as is).

    For input x (peak |x_j| per channel) and weight W (K x N): x' = x / s feeds the
    MatMul through a new Mul node, and W' = diag(s) W, so x' W' = x W exactly in fp32,
    while x' has no channel far larger than the others and W' absorbs the range.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    weights = {init.name: init for init in model.graph.initializer}
    uses = Counter(name for node in model.graph.node for name in node.input)
    alpha = QUANTIZATION["smoothing_alpha"]
    smoothed, kept = [], []
    for position, node in reversed(list(enumerate(model.graph.node))):
        if node.name not in outliers:
            continue
        peak = outliers[node.name]
        w = numpy_helper.to_array(weights[node.input[1]]) if node.input[1] in weights else None
        if (node.op_type != "MatMul" or w is None or w.ndim != 2 or w.shape[0] != peak.shape[0]
                or uses[node.input[1]] > 1):  # a shared weight would be scaled for all its users
            kept.append(node.name)
            continue
        w_peak = np.abs(w).max(axis=1)
        scale = (np.maximum(peak, 1e-5) ** alpha / np.maximum(w_peak, 1e-5) ** (1 - alpha)).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(w * scale[:, None], node.input[1]))
        inverse = numpy_helper.from_array((1 / scale).astype(np.float32), f"{node.name}/smooth_scale")
        model.graph.initializer.append(inverse)
        divided = f"{node.input[0]}/smoothed_for_{node.name}"
        model.graph.node.insert(position, onnx.helper.make_node(
            "Mul", [node.input[0], inverse.name], [divided], name=f"{node.name}/smooth"))
        node.input[0] = divided
        smoothed.append(node.name)
    _save_with_weights_beside(model, dst, f"{dst.name}.data")
    order = list(outliers)
    return sorted(smoothed, key=order.index), sorted(kept, key=order.index)


def _save_mapped(graph: Path, out: Path) -> None:
    """Write `graph` into `out` as MODEL_FILE with its weights in WEIGHTS_FILE.

    Weights in a separate file are memory-mapped by onnxruntime, not parsed out of the
    protobuf and copied: a session starts in a fraction of the time, and the
    word-embedding table (384 MB in e5's fp32 export) stays in the page cache, read a
    row per token, instead of in the process (bench/model_load.py measures both layouts
    of the configured export).
    """
    import onnx

    _save_with_weights_beside(onnx.load(str(graph)), out / MODEL_FILE, WEIGHTS_FILE)


def _save_with_weights_beside(model: Any, path: Path, weights_name: str) -> None:
    """Save an ONNX model with its tensors in one file `weights_name` beside it (which
    also keeps a model over protobuf's 2 GB limit writable)."""
    import onnx

    (path.parent / weights_name).unlink(missing_ok=True)  # onnx appends to an existing file
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=weights_name, size_threshold=1024)


def _quantize(src: Path, dst: Path, keep_fp32: list[str], settings: dict[str, Any]) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet("root"):
        quantize_dynamic(
            str(src), str(dst),
            per_channel=settings["per_channel"],
            reduce_range=settings["reduce_range"],
            weight_type=getattr(QuantType, settings["weight_type"]),
            nodes_to_exclude=list(keep_fp32),
            # Fused ops (Attention, ...) are in a domain shape inference cannot type.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
        )
    return dst


def _check(folder: Path, model: Any, expected: np.ndarray, min_cosine: float) -> tuple[str | None, float]:
    """(problem or None, min cosine): tokens must equal the HF tokenizer's exactly."""
    runtime = OnnxSentenceModel(folder)
    tokenizer = model.tokenizer
    with _quiet("transformers"):
        return _check_tokens_and_vectors(runtime, tokenizer, expected, min_cosine)


def _check_tokens_and_vectors(runtime: "OnnxSentenceModel", tokenizer: Any, expected: np.ndarray,
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
def _quiet(name: str):
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


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str]:
    out = {}
    for package in ("onnxruntime", "onnx", "torch", "sentence-transformers", "transformers", "tokenizers"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[package] = importlib.metadata.version(package)
    return out


# ----------------------------------------------------------------------------- cache


def export_folder(models_dir: Path, name: str, backend: str, recipe: str | None = None) -> Path:
    """The folder for (model name, backend, int8 recipe): readable slug plus a hash of
    the name. Each recipe has its own folder, so a models folder shared by machines of
    both CPU classes keeps both exports."""
    key = str(Path(name).expanduser().resolve()) if Path(name).expanduser().exists() else name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name or name).strip("._")[-60:] or "model"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return Path(models_dir) / "-".join([slug, digest, backend, *([recipe] if recipe else [])])


def source_stamp(name: str, source: str | Path, backend: str, recipe: str | None = None) -> dict[str, Any]:
    """What a cache folder was built from; any change means a new export.

    A local source folder is fingerprinted by its files' sizes and mtimes, so a
    re-materialised default model is re-exported. A hub name is taken as is.
    """
    files: list[list[object]] = []
    path = Path(source).expanduser()
    if path.is_dir():
        for item in sorted(path.rglob("*")):
            if item.is_file():
                st = item.stat()
                files.append([str(item.relative_to(path)), st.st_size, st.st_mtime_ns])
    return {
        "format_version": FORMAT_VERSION,
        "backend": backend,
        "name": name,
        "source": str(source),
        "files": files,
        "quantization": quantization(recipe) if recipe else None,
        "onnxruntime": _version("onnxruntime"),
    }


def ensure_onnx_model(
    name: str,
    source: str | Path,
    models_dir: Path,
    backend: str,
    load_model: Callable[[], "SentenceTransformer"] | None = None,
    progress: bool = True,
    recipe: str | None = None,
) -> Path:
    """The cache folder of `name` for `backend`, exporting it first if needed.

    `source` is what SentenceTransformer loads (a folder or hub name); `load_model`
    loads it (so the caller can reuse the torch model if the export fails). `recipe`
    (int8 only) defaults to the one for this machine's CPU (`int8_recipe`).
    """
    if backend not in ONNX_BACKENDS:
        raise ValueError(f"unknown ONNX backend {backend!r}")
    if backend == "onnx-int8":
        recipe = recipe or int8_recipe()
    elif recipe is not None:
        raise ValueError(f"{backend} takes no int8 recipe")
    final = export_folder(models_dir, name, backend, recipe)

    def export(tmp: Path) -> None:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            steps = 4 + bool(recipe)  # load, export, fuse, [quantise,] check
            bar = tqdm(total=steps, desc=f"Exporting {name} to ONNX ({backend}, once)",
                       bar_format="{desc}: {n_fmt}/{total_fmt} [{elapsed}]{postfix}")
        try:
            def step(message: str) -> None:
                if bar is not None:
                    bar.set_postfix_str(message, refresh=False)
                    bar.update(1)

            model = None
            if load_model is not None:
                step("loading the torch model")
                model = load_model()
            export_onnx(source, tmp, int8=recipe, model=model, progress=step)
        finally:
            if bar is not None:
                bar.close()

    return build_once(final, MARKER_FILE, source_stamp(name, source, backend, recipe), export, lock=True)

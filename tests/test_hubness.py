"""index/hubness.py: CSLS hubness against the shipped reference questions."""

from __future__ import annotations

import numpy as np
import pytest

from index.hubness import NEIGHBOURS, Hubness, reference_questions


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class CountingEmbed:
    """Stands in for a model: fixed random unit vectors, counting how often it is asked."""

    def __init__(self, dimension: int = 16) -> None:
        self.calls, self.dimension = 0, dimension

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        rng = np.random.default_rng(len(texts))
        return unit(rng.normal(size=(len(texts), self.dimension))).astype(np.float32)


def test_reference_questions_cover_many_languages_and_no_blank_lines():
    questions = reference_questions()
    assert len(questions) == len(set(questions)) == 720
    for first, last in (("\u0600", "\u06ff"), ("\u0400", "\u04ff"), ("\u4e00", "\u9fff"), ("\u0900", "\u097f")):
        assert sum(any(first <= ch <= last for ch in q) for q in questions) >= 60


def test_hubness_is_the_mean_of_the_nearest_reference_similarities(tmp_path):
    embed = CountingEmbed()
    hub = Hubness.for_model(embed, tmp_path, "model", "backend")
    passages = unit(np.random.default_rng(1).normal(size=(5, 16))).astype(np.float32)
    expected = np.sort(passages @ hub.reference.T, axis=1)[:, -NEIGHBOURS:].mean(axis=1)
    assert hub.of(passages) == pytest.approx(expected, abs=1e-6)
    # a vector near the reference's centre is near many questions: it is the hub
    centre = unit(hub.reference.mean(axis=0, keepdims=True)).astype(np.float32)
    assert hub.of(centre)[0] > hub.of(passages).max()


def test_reference_vectors_are_cached_per_model_and_reused(tmp_path):
    embed = CountingEmbed()
    first = Hubness.for_model(embed, tmp_path, "model", "onnx-int8").reference
    again = Hubness.for_model(embed, tmp_path, "model", "onnx-int8").reference
    assert embed.calls == 1 and np.array_equal(first, again)
    assert Hubness.for_model(embed, tmp_path, "model", "torch").reference is not None  # another backend: its own file
    assert embed.calls == 2 and len(list((tmp_path / "reference").glob("*.npy"))) == 2

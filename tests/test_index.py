"""The index folder written by a real ingest (FAISS, bm25s; the hash-based test embedder, as these
are tests of the folder, not of ranking): layout, manifest, report, stored chunks and vectors,
FAISS against a numpy brute-force reference."""

from __future__ import annotations

import hashlib
import json
from operator import attrgetter

import numpy as np
import pytest
from conftest import FORMAT_FILES, GIFT_RULES, SMALL_CORPUS

from ingest.chunking import chunk_document
from ingest.errors import IndexIncompatible, IndexMissing
from ingest.index import Generation, current_generation, open_current
from ingest.loaders import load_file
from ingest.manifest import Manifest
from ingest.pipeline import CHUNKER_VERSION, IngestOptions, run_ingest
from ingest.plan import scan
from ingest.terms import terms as bm25_terms
from ingest.writer import KEEP_GENERATIONS

# what a stored document / chunk must keep of the freshly loaded one
DOCUMENT_FIELDS = attrgetter("title", "version_date", "sha256", "kind")
CHUNK_FIELDS = attrgetter("text", "heading", "articles", "pages", "start", "end", "title")
SOURCES = sorted([*SMALL_CORPUS, GIFT_RULES, *(f"formats/{n}" for n in FORMAT_FILES)])


def test_layout_manifest_and_counts(small_index, hashed):
    gen = open_current(small_index.index)
    folder = small_index.index / gen.name
    assert gen.name == "gen-000001"
    assert (small_index.index / "CURRENT").read_text(encoding="utf-8").strip() == gen.name
    for name in ("manifest.json", "chunks.sqlite", "vectors.npy", "faiss.index", "report.json"):
        assert (folder / name).is_file(), name
    assert (folder / "bm25").is_dir()
    assert not (small_index.index / "lock").exists()
    assert not list(small_index.index.glob("tmp-*"))

    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert Manifest.from_json(m) == gen.manifest and gen.manifest.to_json() == m  # the record
    assert list(m) == [
        *("embedder", "chunking", "terms", "declared_groups", "documents", "format_version"),
        *("generation", "built_at", "counts", "files"),
    ]
    assert m["format_version"] == 1 and m["generation"] == gen.name and m["built_at"]
    assert m["embedder"] == {"name": hashed.name, "dim": 384}
    assert m["chunking"] == {"chunk_size": 800, "chunker_version": CHUNKER_VERSION}
    assert m["counts"] == {"documents": len(SOURCES), "chunks": len(gen.chunks)}
    assert sorted(m["documents"]) == SOURCES
    assert m["declared_groups"][GIFT_RULES] == ["finance"]
    by_doc: dict[str, list[str]] = {}
    for c in gen.chunks:
        by_doc.setdefault(c.source, []).append(c.id)
    for source, entry in m["documents"].items():
        data = (small_index.source / source).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["chunks"] == by_doc[source]
        assert gen.documents[entry["id"]].source == source
    assert 60 < len(gen.chunks) < 200
    assert small_index.embedded == len(gen.chunks)


def test_report_json(small_index, hashed):
    gen = open_current(small_index.index)
    report = small_index.report
    assert report.generation == gen.name
    assert sorted(report.ingested) == SOURCES and report.unchanged == () and report.skipped == ()
    assert report.chunks_embedded == report.chunks_total == len(gen.chunks)
    assert report.documents_total == len(SOURCES)
    assert report.full_rebuild and "no previous index" in report.rebuild_reason
    assert report.embedder == hashed.name and report.embed_seconds > 0
    on_disk = json.loads((small_index.index / "report.json").read_text(encoding="utf-8"))
    in_gen = json.loads((small_index.index / gen.name / "report.json").read_text(encoding="utf-8"))
    assert on_disk == in_gen == report.to_json()
    assert gen.report.to_json() == report.to_json()
    assert f"ingested {len(SOURCES)}, unchanged 0, skipped 0" in report.summary()


def test_stored_chunks_and_texts_match_a_fresh_load(small_index):
    gen = open_current(small_index.index)
    stored = {c.id: c for c in gen.chunks}
    for source in SOURCES:
        doc = load_file(small_index.source / source, small_index.source)
        assert gen.document_text(doc.id) == doc.text
        info = gen.documents[doc.id]
        assert DOCUMENT_FIELDS(info) == DOCUMENT_FIELDS(doc)
        assert info.pages == doc.pages
        for c in chunk_document(doc):
            s = stored[c.id]
            assert CHUNK_FIELDS(s) == CHUNK_FIELDS(c)
    pdf = next(c.doc_id for c in gen.chunks if c.source == "formats/sample.pdf")
    assert gen.documents[pdf].pages[-1][2] == 3


def test_vectors_are_the_embeddings_of_the_chunks(small_index, hashed):
    gen = open_current(small_index.index)
    vectors = np.asarray(gen.vectors())
    assert vectors.dtype == np.float32 and vectors.shape == (len(gen.chunks), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    rows = [0, 7, len(gen.chunks) // 2, len(gen.chunks) - 1]
    fresh = hashed.embed_documents([gen.chunks[r].embedding_text() for r in rows])
    np.testing.assert_allclose(vectors[rows], fresh, atol=2e-4)
    assert gen.faiss.ntotal == len(gen.chunks) and gen.faiss.d == 384


@pytest.mark.parametrize(
    "query",
    [
        "职工连续工作满12个月以上的，享受带薪年休假",
        "春节放假几天",
        "公共数据开放目录",
        "电子证照",
        "accept gifts in official activities",
    ],
)
def test_faiss_search_equals_numpy_brute_force(small_index, hashed, query):
    gen = open_current(small_index.index)
    vectors = np.load(small_index.index / gen.name / "vectors.npy")
    q = hashed.embed_query(query)
    k = 10
    scores, rows = gen.faiss.search(q.reshape(1, -1), k)
    reference = vectors @ q
    order = np.argsort(-reference, kind="stable")[:k]
    np.testing.assert_allclose(scores[0], reference[order], rtol=1e-5, atol=1e-5)
    gaps = np.diff(reference[order])
    if np.all(np.abs(gaps) > 1e-6):  # no ties: same rows in the same order
        assert rows[0].tolist() == order.tolist()
    else:
        assert set(rows[0].tolist()) == set(order.tolist())


def test_stored_vector_finds_its_own_chunk(small_index):
    gen = open_current(small_index.index)
    vectors = np.asarray(gen.vectors())
    for row in (0, 5, len(gen.chunks) - 1):
        scores, rows = gen.faiss.search(vectors[row : row + 1], 1)
        assert rows[0][0] == row or vectors[rows[0][0]] @ vectors[row] > 0.9999
        assert scores[0][0] == pytest.approx(1.0, abs=1e-4)


def test_bm25_terms_and_index(small_index):
    gen = open_current(small_index.index)
    terms = gen.terms()
    assert len(terms) == len(gen.chunks)
    for chunk, stored in zip(gen.chunks[:20], terms[:20], strict=True):
        assert stored == bm25_terms(chunk.search_text())
    query = [t for t in bm25_terms("紫藤花开标记") if t in gen.bm25.vocab_dict]
    assert query
    scores = gen.bm25.get_scores(query)
    best = gen.chunks[int(np.argmax(scores))]
    assert best.source == "formats/sample.md" and "紫藤花开标记" in best.text


def test_access_groups_in_chunks_and_documents(small_index):
    gen = open_current(small_index.index)
    for c in gen.chunks:
        if c.source.startswith("hr/"):
            assert c.groups == ("hr",)
        elif c.source == GIFT_RULES:
            assert c.groups == ("finance",)
        else:
            assert c.groups == ()
    groups = {d.source: d.groups for d in gen.documents.values()}
    assert groups["hr/企业职工带薪年休假实施办法(2008-07-17).md"] == ("hr",)
    assert groups[GIFT_RULES] == ("finance",) and groups["formats/sample.md"] == ()


def test_scan_lists_supported_files_and_ignores_access_toml(small_index):
    files, skipped = scan(small_index.source)
    assert sorted(p.relative_to(small_index.source).as_posix() for p in files) == SOURCES
    assert skipped == []


def test_missing_and_incompatible_index(small_copy, tmp_path):
    with pytest.raises(IndexMissing, match="policyqa ingest"):
        open_current(tmp_path / "nothing-here")
    gen = open_current(small_copy.index)
    manifest_path = small_copy.index / gen.name / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}), encoding="utf-8")
    with pytest.raises(IndexIncompatible, match="--full"):
        Generation(small_copy.index / gen.name)


def test_generations_are_pruned_to_the_newest_few(small_copy, counting):
    """Relabelling runs publish generations without embedding: only the newest few are kept."""
    access = small_copy.source / "access.toml"
    names = [current_generation(small_copy.index)]
    proxy = counting()
    for i in range(KEEP_GENERATIONS + 1):
        access.write_text(f'"hr/**" = ["hr", "team{i}"]\n', encoding="utf-8")
        report = run_ingest(
            small_copy.source, small_copy.index, IngestOptions(quiet=True), embedder=proxy
        )
        assert report.relabelled == ("hr/企业职工带薪年休假实施办法(2008-07-17).md",)
        names.append(report.generation)
    assert proxy.embedded == 0
    assert names == [f"gen-{n:06d}" for n in range(1, KEEP_GENERATIONS + 3)]
    kept = sorted(p.name for p in small_copy.index.glob("gen-*"))
    assert kept == names[-KEEP_GENERATIONS:]
    assert current_generation(small_copy.index) == names[-1]

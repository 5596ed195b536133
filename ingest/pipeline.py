"""One ingest run: scan, diff by sha256, load + chunk + embed what changed, publish atomically.

plan.py decides what changed; this module runs the stages (load, chunk, embed, write). Unchanged
documents keep their chunks, vectors and BM25 terms (read from the current
generation); FAISS and BM25 are rebuilt from those, never by re-embedding. A run on an unchanged
corpus publishes nothing and never loads the model.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import office
from .budget import Loader, LoadLimits
from .chunking import chunk_document
from .embedding import Embedder, embedder_name, load_embedder, release_memory
from .errors import LoadError
from .index import DocumentInfo, Generation
from .lock import ingest_lock
from .manifest import DocumentEntry, EmbedderInfo, Manifest
from .ocr import OcrRun, current_run, ocr_run
from .plan import Labeller, Previous, Sources, previous, sources
from .records import Chunk, Document, IngestReport, Skipped
from .tables import MAX_TABLE_ROWS
from .terms import fingerprint as terms_fingerprint
from .terms import terms as bm25_terms
from .writer import prune, write_generation, write_last_report

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# 2: styled （一）headings nest under their 一、 clause; 3: articles embedded without heading path
# 4: table rows are units of their own; documents carry their 文号 (officialdoc.py)
# 5: a PDF line that is all one parenthesis (the 文号 under a title) is not joined to the title
# 6: a title not marked up is the first line naming a kind of regulation (ingest/titles.py)
# 7: PDF lines are joined where the page's geometry shows the layout broke them (pdftext.py)
# 8: letter-spaced labels (第 三 条, 第 一 章) are read; headings lose the spaces inside them
# (a new version re-chunks every file; chunks whose embedded text is unchanged keep their vector)
CHUNKER_VERSION = 8


@dataclass(frozen=True)
class IngestOptions:
    model: str = "builtin"
    models_dir: Path = Path(".policyqa/models")
    chunk_size: int = 800
    max_bytes: int = 50 * 1024 * 1024
    max_table_rows: int = MAX_TABLE_ROWS  # data rows per table/sheet; the rest is reported
    full: bool = False
    quiet: bool = False
    batch_size: int = 4
    threads: int = 0
    limits: LoadLimits = LoadLimits()  # what one file may expand to, and its time and memory
    ocr_max_pages: int = 100  # pages recognised per scanned document; the rest left out
    ocr_max_seconds: float = 90.0  # OCR time per document (below LoadLimits.timeout_s)


@dataclass
class _Loaded:
    """What the load stage found: documents kept from the current generation (by source),
    documents read afresh, the files skipped, and what the report lists."""

    skipped: list[Skipped]
    kept: list[tuple[str, DocumentInfo]] = field(default_factory=list)
    fresh: list[Document] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Contents:
    """What the new generation holds: (document, text, groups) triples and the chunks with
    their vectors and BM25 terms, the reused ones first."""

    documents: list[tuple[Document | DocumentInfo, str, tuple[str, ...]]]
    chunks: list[Chunk]
    vectors: np.ndarray
    terms: list[list[str]]
    dim: int  # the embedder's, for an index without vectors
    embedded: int  # chunks embedded by this run
    embed_seconds: float


def _settings_fingerprint(options: IngestOptions) -> dict:
    return {"chunk_size": options.chunk_size, "chunker_version": CHUNKER_VERSION}


def _progress_bar(quiet: bool, total: int, callback: Progress | None):
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", disable=quiet, smoothing=0.1)
    done = [0]

    def update(n: int) -> None:
        bar.update(n)
        done[0] += n
        if callback:
            callback("embedding", done[0], total)

    return bar, update


def run_ingest(
    source_dir: Path,
    index_dir: Path,
    options: IngestOptions = IngestOptions(),
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index at ``index_dir`` up to date with ``source_dir``. Holds the ingest lock."""
    if not source_dir.is_dir():
        raise LoadError(f"源目录不存在：{source_dir} / source folder not found: {source_dir}")
    ocr = OcrRun(
        max_pages=options.ocr_max_pages,
        max_seconds=options.ocr_max_seconds,
        workers=options.threads,
        quiet=options.quiet,
        progress=progress,
    )
    # files are loaded in a worker process under options.limits, started for the first load
    with (
        ingest_lock(index_dir),
        ocr_run(ocr),
        Loader(replace(options.limits, max_table_rows=options.max_table_rows)) as loader,
    ):
        return _run(source_dir, index_dir, options, embedder, progress, loader)


def _run(
    source_dir: Path,
    index_dir: Path,
    options: IngestOptions,
    embedder: Embedder | None,
    progress: Progress | None,
    loader: Loader,
) -> IngestReport:
    started = time.perf_counter()
    name = embedder.name if embedder is not None else embedder_name(options.model)
    prev = previous(index_dir, name, full=options.full, chunking=_settings_fingerprint(options))
    found = sources(source_dir)
    loaded = _load(source_dir, found, prev, options, loader, progress)
    present = {p.relative_to(source_dir).as_posix() for p in found.files}
    loaded.removed = prev.removed(present, loaded.skipped)
    loaded.relabelled = prev.relabelled(loaded.kept, found.label)
    changed = loaded.fresh or loaded.removed or loaded.relabelled or prev.retokenise()
    if prev.usable() and not changed:
        report = _report(loaded, prev, started, name)
        write_last_report(index_dir, report)
        prune(index_dir)
        return report
    contents = _assemble(loaded, prev, found.label, embedder, name, options, progress)
    report = _report(loaded, prev, started, name, contents)
    manifest = _manifest(name, options, prev, loaded, contents)
    if progress:
        progress("publishing", 0, 1)
    gen = write_generation(
        index_dir,
        documents=contents.documents,
        chunks=contents.chunks,
        vectors=contents.vectors,
        terms=contents.terms,
        manifest=manifest,
        report=report,
    )
    return replace(report, generation=gen)


def _load(
    source_dir: Path,
    found: Sources,
    prev: Previous,
    options: IngestOptions,
    loader: Loader,
    progress: Progress | None,
) -> _Loaded:
    """Read every file that changed since the current generation (the others are kept); a
    file that cannot be read is skipped with its reason. Frees the loader's worker, the
    converted Office files and the OCR engines before embedding."""
    loaded = _Loaded(list(found.skipped))
    office.convert_ahead(  # one LibreOffice run, under the loader's per-file limits
        found.files,
        prev.known_digests(),
        progress,
        timeout_s=options.limits.timeout_s,
        max_bytes=options.max_bytes,
        memory_mb=options.limits.memory_mb,
    )
    for i, path in enumerate(found.files):
        rel = path.relative_to(source_dir).as_posix()
        if progress:
            progress("scanning", i, len(found.files))
        try:
            _load_one(path, rel, source_dir, prev, options, loader, loaded)
        except LoadError as exc:
            loaded.skipped.append(Skipped(rel, str(exc)))
        except OSError as exc:
            loaded.skipped.append(Skipped(rel, f"cannot read file ({exc.strerror}) / 无法读取"))
    loader.close()  # its worker is not needed while embedding
    office.forget()
    current_run().release()  # OCR engines are not needed for embedding
    return loaded


def _load_one(
    path: Path,
    rel: str,
    source_dir: Path,
    prev: Previous,
    options: IngestOptions,
    loader: Loader,
    loaded: _Loaded,
) -> None:
    """Keep source ``rel`` from the current generation when unchanged, else read it."""
    size = path.stat().st_size
    if size > options.max_bytes:
        raise LoadError(
            f"file too large ({size / 1048576:.0f} MB > "
            f"{options.max_bytes / 1048576:.0f} MB) / 文件过大"
        )
    info = prev.unchanged(path, rel)
    if info is not None:
        loaded.kept.append((rel, info))
        loaded.unchanged.append(rel)
        return
    doc = loader.load(path, source_dir, options.max_bytes)
    loaded.fresh.append(doc)
    loaded.ingested.append(rel)
    loaded.skipped.extend(Skipped(f"{rel} (partly)", note) for note in doc.notes)


def _assemble(
    loaded: _Loaded,
    prev: Previous,
    label: Labeller,
    embedder: Embedder | None,
    name: str,
    options: IngestOptions,
    progress: Progress | None,
) -> _Contents:
    """The reused documents' chunks, vectors and terms, then the fresh ones chunked and
    embedded (a fresh chunk whose embedded text the current generation already holds, from the
    same embedder, takes that vector)."""
    reuse = prev.usable()
    chunks, vectors, terms, docs = _reuse(prev, loaded.kept, label) if reuse else ([], [], [], [])
    if prev.retokenise():  # the tokeniser changed: new BM25 terms, same vectors
        terms = [bm25_terms(c.search_text()) for c in chunks]
    new_chunks, new_docs = _chunk_fresh(loaded.fresh, label, options.chunk_size)
    dim = _dim(embedder, prev.generation)
    embed_started = time.perf_counter()
    texts = [c.embedding_text() for c in new_chunks]
    known = prev.vectors_by_text(name, set(texts))
    missing = {
        text: chunk for chunk, text in zip(new_chunks, texts, strict=True) if text not in known
    }
    to_embed = list(missing.values())  # one chunk per distinct text
    if to_embed:
        embedded, dim = _embed(to_embed, embedder, options, progress)
        known.update(zip(missing, embedded, strict=True))
    new_vectors = (
        np.stack([known[text] for text in texts]).astype(np.float32)
        if texts
        else np.zeros((0, dim), np.float32)
    )
    new_terms = [bm25_terms(c.search_text()) for c in new_chunks]
    embed_seconds = time.perf_counter() - embed_started
    all_vectors = (
        np.vstack([v for v in (*vectors, new_vectors) if len(v)])
        if (vectors or len(new_vectors))
        else np.zeros((0, dim), np.float32)
    )
    del vectors, new_vectors
    return _Contents(
        docs + new_docs,
        chunks + new_chunks,
        all_vectors,
        terms + new_terms,
        dim,
        len(to_embed),
        embed_seconds,
    )


def _embed(
    chunks: list[Chunk],
    embedder: Embedder | None,
    options: IngestOptions,
    progress: Progress | None,
) -> tuple[np.ndarray, int]:
    """Vectors of ``chunks`` (and the model's dimension). A model loaded here is dropped before
    returning, so the index is written without ~1 GB of model weights still in memory."""
    own = embedder is None
    if own:
        embedder = load_embedder(
            options.model,
            options.models_dir,
            batch_size=options.batch_size,
            threads=options.threads,
            quiet=options.quiet,
        )
    bar, update = _progress_bar(options.quiet, len(chunks), progress)
    with bar:
        vectors = embedder.embed_documents([c.embedding_text() for c in chunks], update)
    dim = embedder.dim
    if own:
        del embedder
        gc.collect()
        release_memory()
    return vectors, dim


def _reuse(prev: Previous, kept: list[tuple[str, DocumentInfo]], label: Labeller):
    old = prev.generation
    keep_ids = {info.id: label(rel, prev.declared(info)) for rel, info in kept}
    rows = [i for i, c in enumerate(old.chunks) if c.doc_id in keep_ids]
    chunks = [replace(old.chunks[i], groups=keep_ids[old.chunks[i].doc_id]) for i in rows]
    vectors = [np.asarray(old.vectors()[rows])] if rows else []
    all_terms = old.terms()
    terms = [all_terms[i] for i in rows]
    docs = []
    for _, info in kept:
        text = old.document_text(info.id) or ""
        docs.append((info, text, keep_ids[info.id]))
    return chunks, vectors, terms, docs


def _chunk_fresh(fresh: list[Document], label: Labeller, size: int):
    chunks: list[Chunk] = []
    docs = []
    for doc in fresh:
        groups = label(doc.source, doc.groups)
        chunks.extend(replace(c, groups=groups) for c in chunk_document(doc, size))
        docs.append((doc, doc.text, groups))
    return chunks, docs


def _dim(embedder: Embedder | None, old: Generation | None) -> int:
    if embedder is not None:
        return embedder.dim
    return int(old.embedder["dim"]) if old is not None else 384


def _manifest(
    name: str, options: IngestOptions, prev: Previous, loaded: _Loaded, contents: _Contents
) -> Manifest:
    chunk_ids: dict[str, list[str]] = defaultdict(list)  # one pass, not documents x chunks
    for c in contents.chunks:
        chunk_ids[c.doc_id].append(c.id)
    vectors = contents.vectors
    reused = {rel: prev.declared(info) for rel, info in loaded.kept} if prev.usable() else {}
    return Manifest(
        embedder=EmbedderInfo(name, int(vectors.shape[1]) if vectors.size else contents.dim),
        chunking=_settings_fingerprint(options),
        terms=terms_fingerprint(),
        declared_groups={**reused, **{d.source: tuple(d.groups) for d in loaded.fresh}},
        documents={
            d.source: DocumentEntry(d.id, d.sha256, tuple(chunk_ids[d.id]))
            for d, _, _ in contents.documents
        },
    )


def _report(
    loaded: _Loaded,
    prev: Previous,
    started: float,
    name: str,
    contents: _Contents | None = None,
) -> IngestReport:
    """The run's report; without ``contents`` (nothing changed) the current generation's
    totals."""
    old = prev.generation if contents is None else None
    if old is not None:
        chunks_total, docs_total = len(old.chunks), len(old.documents)
    else:
        chunks_total, docs_total = len(contents.chunks), len(contents.documents)
    return IngestReport(
        ingested=tuple(loaded.ingested),
        unchanged=tuple(loaded.unchanged),
        skipped=tuple(loaded.skipped),
        removed=tuple(loaded.removed),
        relabelled=tuple(loaded.relabelled),
        chunks_embedded=contents.embedded if contents is not None else 0,
        chunks_total=chunks_total,
        documents_total=docs_total,
        full_rebuild=not prev.usable(),
        rebuild_reason=prev.reason,
        seconds=time.perf_counter() - started,
        embed_seconds=contents.embed_seconds if contents is not None else 0.0,
        generation=old.name if old is not None else "",
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        embedder=name,
        ocr=tuple(current_run().documents),
    )

"""One ingest run: scan, diff by sha256, load + chunk + embed what changed, publish atomically.

Unchanged documents keep their chunks, vectors and BM25 terms (read from the current
generation); FAISS and BM25 are rebuilt from those, never by re-embedding. A run on an unchanged
corpus publishes nothing and never loads the model.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import office
from .access import ACCESS_FILE, AccessRules
from .budget import Loader, LoadLimits
from .chunking import chunk_document
from .embedding import Embedder, embedder_name, load_embedder, release_memory
from .errors import IndexDamaged, IndexMissing, LoadError, PolicyQAError
from .index import Generation, open_current
from .loaders import SUPPORTED
from .lock import ingest_lock
from .manifest import DocumentEntry, EmbedderInfo, Manifest
from .ocr import OcrRun, current_run, ocr_run
from .records import Chunk, Document, IngestReport, Skipped
from .tables import MAX_TABLE_ROWS
from .terms import fingerprint as terms_fingerprint
from .terms import terms as bm25_terms
from .writer import prune, write_generation, write_last_report

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Labeller = Callable[..., tuple[str, ...]]  # (source, declared groups) -> the groups it gets
# 2: styled （一）headings nest under their 一、 clause; 3: articles embedded without heading path
# 4: table rows are units of their own; documents carry their 文号 (officialdoc.py)
CHUNKER_VERSION = 4


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
class _Previous:
    """What the current generation can lend to this run."""

    generation: Generation | None
    reason: str = ""  # why nothing can be reused (forces a full rebuild)

    def usable(self) -> bool:
        return self.generation is not None and not self.reason


def scan(source_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """Files to ingest (sorted) and files skipped before reading (with reasons)."""
    root = source_dir.resolve()
    files, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(source_dir, followlinks=False):
        here = Path(dirpath)
        visible = sorted(d for d in dirnames if not d.startswith("."))
        skipped += [
            Skipped((here / d).relative_to(source_dir).as_posix(), _LINKED_FOLDER)
            for d in visible
            if (here / d).is_symlink()
        ]
        dirnames[:] = [d for d in visible if not (here / d).is_symlink()]
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(source_dir).as_posix()
            if name.startswith((".", "~$")) or rel == ACCESS_FILE:
                continue
            reason = _link_problem(path, root) if path.is_symlink() else None
            if reason is None and not path.is_file():
                reason = "not a regular file (pipe, socket or device) / 不是普通文件，已忽略"
            if reason is None and path.suffix.lower() not in SUPPORTED:
                reason = f"unsupported file type {path.suffix or '(none)'} / 不支持的文件类型"
            if reason is not None:
                skipped.append(Skipped(rel, reason))
                continue
            files.append(path)
    return files, skipped


_LINKED_FOLDER = "symlinked folder not followed: link its files one by one / 不跟随链接的文件夹"
_LINK_CONFLICT = (
    "symlink labelled for other groups than its target (access.toml): not "
    "ingested / 链接与其目标的访问组不一致，已忽略"
)


def _link_problem(path: Path, root: Path) -> str | None:
    """Why a symlink in the source folder cannot be ingested, or None."""
    target = path.resolve()
    if not target.is_relative_to(root):
        return "symlink pointing outside the source folder / 指向源目录之外的链接，已忽略"
    if not target.exists():
        return "broken symlink (its target does not exist) / 链接目标不存在，已忽略"
    rel = target.relative_to(root)
    if rel.as_posix() == ACCESS_FILE or any(p.startswith((".", "~$")) for p in rel.parts):
        return "symlink to a file the ingest ignores / 链接指向被忽略的文件"
    return None


def symlink_targets(source_dir: Path, files: list[Path]) -> dict[str, str]:
    """Source path of each symlink among ``files`` -> the source path of the real file."""
    root = source_dir.resolve()
    return {
        p.relative_to(source_dir).as_posix(): p.resolve().relative_to(root).as_posix()
        for p in files
        if p.is_symlink()
    }


def _settings_fingerprint(options: IngestOptions) -> dict:
    return {"chunk_size": options.chunk_size, "chunker_version": CHUNKER_VERSION}


def _previous(index_dir: Path, options: IngestOptions, name: str) -> _Previous:
    """The current generation, when it can lend anything: whatever state it is in (damaged,
    incompatible, half-deleted), the run goes on as a full rebuild from the sources."""
    try:
        gen = open_current(index_dir)
        gen.check_readable()  # a damaged file forces a rebuild here, not a failure later
    except IndexMissing:
        return _Previous(None, "no previous index / 首次建立索引")
    except IndexDamaged as exc:
        return _Previous(
            None, f"previous index damaged: {exc.path} ({exc.detail}) / 旧索引损坏，全部重建"
        )
    except PolicyQAError as exc:
        return _Previous(None, f"previous index unreadable ({exc}) / 旧索引不可用")
    if options.full:
        return _Previous(gen, "--full requested / 指定了 --full")
    if gen.embedder.get("name") != name:
        return _Previous(
            gen, f"embedder changed from {gen.embedder.get('name')} to {name} / 向量模型已更换"
        )
    if gen.manifest.chunking != _settings_fingerprint(options):
        return _Previous(gen, "chunking settings changed / 切分设置已更改")
    return _Previous(gen)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    prev = _previous(index_dir, options, name)
    files, skipped = scan(source_dir)
    rules = AccessRules.load(source_dir)
    links = symlink_targets(source_dir, files)
    conflicting = {rel for rel, target in links.items() if rules.conflicts(rel, target)}
    skipped += [Skipped(rel, _LINK_CONFLICT) for rel in sorted(conflicting)]
    files = [p for p in files if p.relative_to(source_dir).as_posix() not in conflicting]

    def label(rel: str, declared: tuple[str, ...] = ()) -> tuple[str, ...]:
        return rules.groups_for(rel, declared, links.get(rel))

    old = prev.generation
    old_docs = {d.source: d for d in old.documents.values()} if old else {}
    reuse = prev.usable()

    kept: list[tuple[str, object]] = []  # (source, DocumentInfo) reused
    fresh: list[Document] = []
    unchanged, ingested = [], []
    known = {d.sha256 for d in old_docs.values()} if reuse else set()
    office.convert_ahead(  # one LibreOffice run, under the loader's per-file limits
        files,
        known,
        progress,
        timeout_s=options.limits.timeout_s,
        max_bytes=options.max_bytes,
        memory_mb=options.limits.memory_mb,
    )
    for i, path in enumerate(files):
        rel = path.relative_to(source_dir).as_posix()
        if progress:
            progress("scanning", i, len(files))
        try:
            size = path.stat().st_size
            if size > options.max_bytes:
                raise LoadError(
                    f"file too large ({size / 1048576:.0f} MB > "
                    f"{options.max_bytes / 1048576:.0f} MB) / 文件过大"
                )
            digest = _sha256(path)
            if reuse and rel in old_docs and old_docs[rel].sha256 == digest:
                kept.append((rel, old_docs[rel]))
                unchanged.append(rel)
                continue
            fresh.append(loader.load(path, source_dir, options.max_bytes))
            ingested.append(rel)
            skipped.extend(Skipped(f"{rel} (partly)", note) for note in fresh[-1].notes)
        except LoadError as exc:
            skipped.append(Skipped(rel, str(exc)))
        except OSError as exc:
            skipped.append(Skipped(rel, f"cannot read file ({exc.strerror}) / 无法读取"))
    loader.close()  # its worker is not needed while embedding
    office.forget()
    current_run().release()  # OCR engines are not needed for embedding
    present = {p.relative_to(source_dir).as_posix() for p in files}
    skipped_sources = {s.source for s in skipped}
    removed = sorted(s for s in old_docs if s not in present or s in skipped_sources)
    if not reuse:
        removed = sorted(s for s in old_docs if s not in present)

    retokenise = reuse and old.manifest.terms != terms_fingerprint()
    relabelled = [
        rel for rel, info in kept if label(rel, _declared(old, info)) != tuple(info.groups)
    ]
    if reuse and not fresh and not removed and not relabelled and not retokenise:
        report = _report(
            ingested, unchanged, skipped, removed, relabelled, 0, old, started, name, prev
        )
        write_last_report(index_dir, report)
        prune(index_dir)
        return report

    chunks, vectors, terms, docs = _reuse(old, kept, label) if reuse else ([], [], [], [])
    if retokenise:  # the tokeniser changed: new BM25 terms, same vectors
        terms = [bm25_terms(c.search_text()) for c in chunks]
    new_chunks, new_docs = _chunk_fresh(fresh, label, options.chunk_size)
    dim = _dim(embedder, old)
    embed_started = time.perf_counter()
    if new_chunks:
        new_vectors, dim = _embed(new_chunks, embedder, options, progress)
        new_terms = [bm25_terms(c.search_text()) for c in new_chunks]
    else:
        new_vectors, new_terms = np.zeros((0, dim), np.float32), []
    embed_seconds = time.perf_counter() - embed_started
    all_vectors = (
        np.vstack([v for v in (*vectors, new_vectors) if len(v)])
        if (vectors or len(new_vectors))
        else np.zeros((0, dim), np.float32)
    )
    del vectors, new_vectors
    all_chunks, all_terms, all_docs = chunks + new_chunks, terms + new_terms, docs + new_docs
    report = _report(
        ingested,
        unchanged,
        skipped,
        removed,
        relabelled,
        len(new_chunks),
        None,
        started,
        name,
        prev,
        len(all_chunks),
        len(all_docs),
        embed_seconds,
    )
    chunk_ids: dict[str, list[str]] = defaultdict(list)  # one pass, not documents x chunks
    for c in all_chunks:
        chunk_ids[c.doc_id].append(c.id)
    manifest = Manifest(
        embedder=EmbedderInfo(name, int(all_vectors.shape[1]) if all_vectors.size else dim),
        chunking=_settings_fingerprint(options),
        terms=terms_fingerprint(),
        declared_groups={
            **({rel: _declared(old, info) for rel, info in kept} if reuse else {}),
            **{d.source: tuple(d.groups) for d in fresh},
        },
        documents={
            d.source: DocumentEntry(d.id, d.sha256, tuple(chunk_ids[d.id])) for d, _, _ in all_docs
        },
    )
    if progress:
        progress("publishing", 0, 1)
    gen = write_generation(
        index_dir,
        documents=all_docs,
        chunks=all_chunks,
        vectors=all_vectors,
        terms=all_terms,
        manifest=manifest,
        report=report,
    )
    return replace(report, generation=gen)


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


def _declared(old: Generation | None, info) -> tuple[str, ...]:
    """Groups a reused document declared itself (front matter), kept in the manifest."""
    if old is None:
        return ()
    return old.manifest.declared_groups.get(info.source, ())


def _reuse(old: Generation, kept: list, label: Labeller):
    keep_ids = {info.id: label(rel, _declared(old, info)) for rel, info in kept}
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


def _report(
    ingested,
    unchanged,
    skipped,
    removed,
    relabelled,
    embedded,
    old,
    started,
    name,
    prev: _Previous,
    chunks_total=None,
    docs_total=None,
    embed_seconds=0.0,
) -> IngestReport:
    if old is not None:
        chunks_total, docs_total = len(old.chunks), len(old.documents)
    return IngestReport(
        ingested=tuple(ingested),
        unchanged=tuple(unchanged),
        skipped=tuple(skipped),
        removed=tuple(removed),
        relabelled=tuple(relabelled),
        chunks_embedded=embedded,
        chunks_total=chunks_total or 0,
        documents_total=docs_total or 0,
        full_rebuild=not prev.usable(),
        rebuild_reason=prev.reason,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        generation=old.name if old is not None else "",
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        embedder=name,
        ocr=tuple(current_run().documents),
    )

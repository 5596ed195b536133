"""Writing the index: a generation built under ``tmp-*``, renamed into place, then published.

A generation is written under ``tmp-*`` and renamed into place before CURRENT points at it, so a
reader never sees a half-written generation and a killed run leaves the previous one intact
(the folder's layout: index.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .index import FORMAT_VERSION, DocumentInfo, check_folder, current_generation
from .integrity import GENERATION_NAME, checksums, private_folder
from .lock import pid_alive
from .manifest import Manifest
from .records import Chunk, Document, IngestReport

KEEP_GENERATIONS = 3

_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, source TEXT, title TEXT, version_date TEXT,
    sha256 TEXT, kind TEXT, groups TEXT, pages TEXT, text TEXT, meta TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT UNIQUE, doc_id TEXT, source TEXT,
    title TEXT, heading TEXT, articles TEXT, pages TEXT, start INTEGER, "end" INTEGER,
    text TEXT, groups TEXT, version_date TEXT, terms TEXT);
"""


def _chunk_row(row: int, c: Chunk, terms: Sequence[str]) -> tuple:
    return (
        row,
        c.id,
        c.doc_id,
        c.source,
        c.title,
        c.heading,
        json.dumps(c.articles),
        json.dumps(c.pages),
        c.start,
        c.end,
        c.text,
        json.dumps(c.groups),
        c.version_date,
        json.dumps(list(terms), ensure_ascii=False),
    )


def _doc_row(d: Document | DocumentInfo, text: str, groups: Sequence[str]) -> tuple:
    return (
        d.id,
        d.source,
        d.title,
        d.version_date,
        d.sha256,
        d.kind,
        json.dumps(list(groups)),
        json.dumps([list(p) for p in d.pages]),
        text,
        json.dumps(d.meta.to_json(), ensure_ascii=False),
    )


def write_generation(
    index_dir: Path,
    *,
    documents: Sequence[tuple[Document | DocumentInfo, str, Sequence[str]]],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    terms: Sequence[Sequence[str]],
    manifest: Manifest,
    report: IngestReport,
) -> str:
    """Write a complete generation and make it CURRENT. Returns its name.

    ``documents`` holds (document, full text, groups) triples; ``chunks[i]`` has ``vectors[i]``
    and ``terms[i]``.
    """
    import bm25s
    import faiss

    check_folder(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    name = _next_generation_name(index_dir)
    tmp = index_dir / f"tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    private_folder(tmp)
    if _only_index_entries(index_dir):
        private_folder(index_dir)
    # created 0600 before SQLite opens it: it holds the full text of restricted documents
    os.close(os.open(tmp / "chunks.sqlite", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    db = sqlite3.connect(tmp / "chunks.sqlite")
    with db:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            (_doc_row(d, text, g) for d, text, g in documents),
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (_chunk_row(i, c, t) for i, (c, t) in enumerate(zip(chunks, terms, strict=True))),
        )
    db.close()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    np.save(tmp / "vectors.npy", vectors)
    flat = faiss.IndexFlatIP(manifest.embedder.dim)
    if len(vectors):
        flat.add(vectors)
    faiss.write_index(flat, str(tmp / "faiss.index"))
    del flat  # a second copy of the vectors
    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.index([list(t) or [""] for t in terms] or [[""]], show_progress=False)
    bm25.save(str(tmp / "bm25"), show_progress=False)
    report = IngestReport(**{**report.__dict__, "generation": name})
    manifest = replace(
        manifest,
        format_version=FORMAT_VERSION,
        generation=name,
        built_at=report.finished_at,
        counts={"documents": len(documents), "chunks": len(chunks)},
    )
    _write_json(tmp / "report.json", report.to_json())
    manifest = replace(manifest, files=checksums(tmp))  # `policyqa status --check` compares them
    _write_json(tmp / "manifest.json", manifest.to_json())
    _fsync_dir(tmp)
    os.replace(tmp, index_dir / name)
    _publish(index_dir, name)
    write_last_report(index_dir, report)
    prune(index_dir)
    return name


def write_last_report(index_dir: Path, report: IngestReport) -> None:
    _write_json(index_dir / "report.json", report.to_json())


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _publish(index_dir: Path, name: str) -> None:
    tmp = index_dir / f"CURRENT.tmp{os.getpid()}"
    tmp.write_text(name, encoding="utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _generations(index_dir: Path) -> list[str]:
    return sorted(
        p.name for p in index_dir.glob("gen-*") if GENERATION_NAME.fullmatch(p.name) and p.is_dir()
    )


_INDEX_ENTRY = re.compile(r"CURRENT|report\.json|lock|gen-\d+|tmp-.*|.*\.tmp\d+")


def _only_index_entries(index_dir: Path) -> bool:
    """True when the folder holds nothing but what an index writes (so making it private
    cannot lock anyone out of a folder that was never ours, such as /tmp)."""
    return all(_INDEX_ENTRY.fullmatch(p.name) for p in index_dir.iterdir())


def _next_generation_name(index_dir: Path) -> str:
    gens = _generations(index_dir)
    last = int(gens[-1].split("-")[1]) if gens else 0
    return f"gen-{last + 1:06d}"


def prune(index_dir: Path) -> None:
    """Remove leftovers of killed runs and all but the newest few generations."""
    current = current_generation(index_dir)
    for tmp in index_dir.glob("tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and pid_alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)
    for tmp in index_dir.glob("*.tmp*"):  # CURRENT.tmp<pid>, report.json.tmp<pid>
        pid = tmp.name.rsplit(".tmp", 1)[-1]
        if tmp.is_file() and pid.isdigit() and not pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
    for name in _generations(index_dir)[:-KEEP_GENERATIONS]:
        if name != current:
            shutil.rmtree(index_dir / name, ignore_errors=True)

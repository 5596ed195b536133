"""The index folder and reading it: the current generation, loaded whole.

    INDEX_DIR/
      CURRENT          name of the live generation (replaced atomically with os.replace)
      report.json      the latest run's report (also written for runs that changed nothing)
      lock             held by a running ingest; stale if its pid is gone
      gen-000123/
        manifest.json  format version, embedder, chunking settings, documents -> chunk ids,
                       file checksums (the Manifest record, manifest.py)
        chunks.sqlite  documents (with full text) and chunks (fields, groups, BM25 terms)
        vectors.npy    float32, row i = chunk i
        faiss.index    IndexFlatIP over the normalised vectors
        bm25/          bm25s index over the cached terms
        report.json    what the run that built it did

Generations are written and published by writer.py, under the lock of lock.py.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexIncompatible, IndexMissing, PolicyQAError
from .integrity import GENERATION_NAME, check_generation, damaged, reading, verify
from .manifest import Manifest
from .records import Chunk, IngestReport, OfficialMeta
from .terms import fingerprint as terms_fingerprint

FORMAT_VERSION = 1


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the index knows it (no text: fetch it with ``Generation.document_text``)."""

    id: str
    source: str
    title: str
    version_date: str | None
    sha256: str
    kind: str
    groups: tuple[str, ...]
    pages: tuple[tuple[int, int, int], ...]
    meta: OfficialMeta = OfficialMeta()  # 文号 etc.; empty in indexes built before it existed


# --- the folder -----------------------------------------------------------------------------------


def check_folder(index_dir: Path) -> None:
    """A clear message when the index path (or a folder above it) is a file."""
    for path in (index_dir, *index_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise PolicyQAError(
                    f"索引路径 {path} 是文件而不是文件夹 / index path {path} is a file, not a "
                    "folder: give --index a folder"
                )
            return


def current_generation(index_dir: Path) -> str | None:
    """The name of the live generation; None when CURRENT is missing or names no complete one."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    if not GENERATION_NAME.fullmatch(name):
        return None
    return name if (index_dir / name / "manifest.json").is_file() else None


# --- reading --------------------------------------------------------------------------------------


def _chunk_from_row(r: sqlite3.Row, doc_number: str = "") -> Chunk:
    return Chunk(
        id=r["id"],
        doc_id=r["doc_id"],
        source=r["source"],
        title=r["title"],
        heading=r["heading"],
        articles=tuple(json.loads(r["articles"])),
        pages=tuple(json.loads(r["pages"])),
        start=r["start"],
        end=r["end"],
        text=r["text"],
        groups=tuple(json.loads(r["groups"])),
        version_date=r["version_date"],
        doc_number=doc_number,
    )


def _read_documents(db: sqlite3.Connection) -> dict[str, DocumentInfo]:
    """The documents table; an index written before the ``meta`` column reads with empty meta."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
    meta = "meta" if "meta" in columns else "NULL AS meta"
    return {
        r["id"]: DocumentInfo(
            r["id"],
            r["source"],
            r["title"],
            r["version_date"],
            r["sha256"],
            r["kind"],
            tuple(json.loads(r["groups"])),
            tuple(tuple(p) for p in json.loads(r["pages"])),
            OfficialMeta.from_json(json.loads(r["meta"] or "{}")),
        )
        for r in db.execute(
            f"SELECT id, source, title, version_date, sha256, kind, groups, "
            f"pages, {meta} FROM documents"
        )
    }


class Generation:
    """One published generation, loaded into memory (chunks, FAISS, BM25).

    A file that cannot be read raises ``IndexDamaged`` naming it and the fix."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.manifest = self._read_manifest()
        with reading(folder / "report.json"):
            self.report = IngestReport.from_json(
                json.loads((folder / "report.json").read_text(encoding="utf-8"))
            )
        with reading(self._db_path):
            db = self._connect()
            try:
                self.documents: dict[str, DocumentInfo] = _read_documents(db)
                numbers = {d.id: d.meta.number for d in self.documents.values()}
                self.chunks: list[Chunk] = [
                    _chunk_from_row(r, numbers.get(r["doc_id"], ""))
                    for r in db.execute("SELECT * FROM chunks ORDER BY row")
                ]
            finally:
                db.close()
            if any(c.doc_id not in self.documents for c in self.chunks):
                raise ValueError("chunks of unknown documents")
        self._faiss = None
        self._bm25 = None

    def terms_current(self) -> bool:
        """Whether this release's tokeniser cut the stored BM25 terms (else ``ingest`` re-cuts
        them, embedding nothing)."""
        return self.manifest.terms == terms_fingerprint()

    def _read_manifest(self) -> Manifest:
        path = self.folder / "manifest.json"
        with reading(path):
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(
                f"索引格式版本 {manifest.get('format_version')} 不受支持，请用 --full 重建 / "
                f"index format {manifest.get('format_version')} unsupported: rebuild with --full"
            )
        with reading(path):
            return Manifest.from_json(manifest)

    @property
    def _db_path(self) -> Path:
        return self.folder / "chunks.sqlite"

    def _connect(self) -> sqlite3.Connection:
        if not self._db_path.is_file():
            raise FileNotFoundError(self._db_path)
        db = sqlite3.connect(f"file:{self._db_path}?mode=ro", uri=True, check_same_thread=False)
        db.row_factory = sqlite3.Row
        return db

    @property
    def embedder(self) -> dict:
        """The manifest's embedder entry as JSON: ``{"name", "dim"}``."""
        return self.manifest.embedder.to_json()

    @property
    def faiss(self):
        if self._faiss is None:
            import faiss

            path = self.folder / "faiss.index"
            with reading(path):
                if not path.is_file():
                    raise FileNotFoundError(path)
                index = faiss.read_index(str(path))
                if index.ntotal != len(self.chunks):
                    raise ValueError(f"{index.ntotal} vectors for {len(self.chunks)} chunks")
            self._faiss = index
        return self._faiss

    @property
    def bm25(self):
        if self._bm25 is None:
            import bm25s

            try:
                with reading(self.folder / "bm25"):
                    self._bm25 = bm25s.BM25.load(str(self.folder / "bm25"), show_progress=False)
            except PolicyQAError as exc:  # name the file, when the checksums can tell which
                bad = [
                    rel
                    for rel, _ in verify(self.folder, self.manifest.files)[0]
                    if rel.startswith("bm25/")
                ]
                if bad:
                    raise damaged(self.folder / bad[0], getattr(exc, "detail", "")) from exc
                raise
        return self._bm25

    def load_all(self) -> Generation:
        """Load FAISS and BM25 now and check the vectors (the app does it before switching to
        this generation)."""
        _ = self.faiss, self.bm25, self.vectors()
        return self

    def vectors(self) -> np.ndarray:
        path = self.folder / "vectors.npy"
        with reading(path):
            vectors = np.load(path, mmap_mode="r")
            if vectors.ndim != 2 or len(vectors) != len(self.chunks):
                raise ValueError(f"shape {vectors.shape} for {len(self.chunks)} chunks")
        return vectors

    def terms(self) -> list[list[str]]:
        with reading(self._db_path):
            db = self._connect()
            try:
                return [
                    json.loads(r[0]) for r in db.execute("SELECT terms FROM chunks ORDER BY row")
                ]
            finally:
                db.close()

    def document_text(self, doc_id: str) -> str | None:
        with reading(self._db_path):
            db = self._connect()
            try:
                row = db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
            finally:
                db.close()
        return row[0] if row else None

    def check_readable(self) -> None:
        """Before an ingest reuses this generation: its checksums (when the manifest has them,
        else a full read), without keeping FAISS and BM25 in memory."""
        if self.manifest.files:
            check_generation(self.folder, self.manifest.files)
        else:
            self.load_all()
            self._faiss = self._bm25 = None
        self.vectors()

    def check(self) -> int:
        """Compare every file with the checksums in the manifest, then read them all; raise
        ``IndexDamaged`` naming the first bad one. Returns the number of files checked."""
        checked = check_generation(self.folder, self.manifest.files)
        self.load_all()
        return checked


def open_current(index_dir: Path) -> Generation:
    check_folder(index_dir)
    pointer = index_dir / "CURRENT"
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError:
        raise IndexMissing(
            f"索引 {index_dir} 尚未建立，请先运行 policyqa ingest / no index at {index_dir}: "
            "run `policyqa ingest` first"
        ) from None
    except OSError as exc:
        raise damaged(pointer, exc.strerror or type(exc).__name__) from exc
    name = raw.decode("utf-8", "replace").strip()
    if not GENERATION_NAME.fullmatch(name):
        raise damaged(pointer, "does not name a generation")
    if not (index_dir / name).is_dir():
        raise damaged(index_dir / name, "the generation CURRENT names is missing")
    return Generation(index_dir / name)


def read_last_report(index_dir: Path) -> IngestReport | None:
    try:
        return IngestReport.from_json(json.loads((index_dir / "report.json").read_text("utf-8")))
    except (OSError, ValueError):
        return None

"""The index folder: write a generation, publish it atomically, read the current one.

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

A generation is written under ``tmp-*`` and renamed into place before CURRENT points at it, so a
reader never sees a half-written generation and a killed run leaves the previous one intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .errors import IndexBusy, IndexIncompatible, IndexMissing, PolicyQAError
from .integrity import (
    GENERATION_NAME,
    check_generation,
    checksums,
    damaged,
    private_folder,
    reading,
    verify,
)
from .manifest import Manifest
from .records import Chunk, Document, IngestReport, OfficialMeta

FORMAT_VERSION = 1
KEEP_GENERATIONS = 3

_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, source TEXT, title TEXT, version_date TEXT,
    sha256 TEXT, kind TEXT, groups TEXT, pages TEXT, text TEXT, meta TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT UNIQUE, doc_id TEXT, source TEXT,
    title TEXT, heading TEXT, articles TEXT, pages TEXT, start INTEGER, "end" INTEGER,
    text TEXT, groups TEXT, version_date TEXT, terms TEXT);
"""


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


# --- writing ---------------------------------------------------------------------------------


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


def _next_generation_name(index_dir: Path) -> str:
    gens = _generations(index_dir)
    last = int(gens[-1].split("-")[1]) if gens else 0
    return f"gen-{last + 1:06d}"


def prune(index_dir: Path) -> None:
    """Remove leftovers of killed runs and all but the newest few generations."""
    current = current_generation(index_dir)
    for tmp in index_dir.glob("tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and _pid_alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)
    for tmp in index_dir.glob("*.tmp*"):  # CURRENT.tmp<pid>, report.json.tmp<pid>
        pid = tmp.name.rsplit(".tmp", 1)[-1]
        if tmp.is_file() and pid.isdigit() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
    for name in _generations(index_dir)[:-KEEP_GENERATIONS]:
        if name != current:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def current_generation(index_dir: Path) -> str | None:
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    if not GENERATION_NAME.fullmatch(name):
        return None
    return name if (index_dir / name / "manifest.json").is_file() else None


# --- the lock ---------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (killed, not yet reaped) is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def ingest_lock(index_dir: Path):
    """Exclusive lock for one ingest run; a lock left by a dead process is cleared."""
    check_folder(index_dir)
    if not index_dir.exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        private_folder(index_dir)
    path = index_dir / "lock"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None and _pid_alive(holder):
                raise IndexBusy(
                    f"另一个导入任务正在运行（进程 {holder}），请稍后再试 / another ingest is "
                    f"running (pid {holder}); try again when it has finished"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({"pid": os.getpid(), "started": time.time()}))
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return
    raise IndexBusy("无法获取导入锁 / could not take the ingest lock")


def _started_after(pid: int, started: float) -> bool:
    """True when process ``pid`` began after ``started``: the pid was reused by a newer process."""
    try:
        import psutil

        return psutil.Process(pid).create_time() > started + 1.0
    except Exception:  # gone, or not inspectable: decide on the pid alone
        return False


def _lock_holder(path: Path) -> int | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, started = int(data["pid"]), float(data.get("started") or 0)
        if started and pid != os.getpid() and _started_after(pid, started):
            return None  # the lock's process is gone; its pid now belongs to another one
        return pid
    except (OSError, ValueError, KeyError, TypeError):
        # unreadable: a run killed while writing it, or one writing it right now
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return os.getpid() if age < 2 else None


def lock_holder(index_dir: Path) -> int | None:
    """The pid of a live ingest holding the lock, else None."""
    holder = _lock_holder(index_dir / "lock")
    return holder if holder is not None and holder != os.getpid() and _pid_alive(holder) else None


# --- reading ----------------------------------------------------------------------------------


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

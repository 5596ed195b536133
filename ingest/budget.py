"""Loading one file under a budget, so one file cannot stall or sink an ingest run.

- Bounds on what a document may expand to (``LoadLimits``): a zip container (.docx, .xlsx, ...)
  is inflated as a stream and refused past ``max_unpacked_mb`` actual bytes (the sizes its
  directory states are not trusted) or ``max_paragraphs`` paragraphs, before any parser builds
  a tree; any document yielding more than ``max_text_chars`` characters is refused.
- Loaders run in one worker process per run (a fresh ``python -c``, nothing inherited) (started on the first file that needs loading,
  so a run over an unchanged corpus starts none), under an address-space limit
  (``memory_mb``, RLIMIT_AS) and a per-file time limit (``timeout_s``). A worker that runs out
  of time or memory is killed; that file is skipped with a one-line reason and a fresh worker
  takes the next one. OCR in the worker follows the parent's OCR run (its page and time limits);
  its per-page progress and its records of what was recognised come back to that run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from . import office
from .errors import LoadError
from .loaders import load_file
from .ocr import OcrRun, current_run, ocr_run
from .records import Document
from .tables import MAX_TABLE_ROWS

_MB = 1024 * 1024
_PARAGRAPH = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s/>]")  # <w:p>, <w:p w:rsidR=..>, <a:p/>
_STARTUP_S = 120.0  # a worker's start (interpreter, imports) does not count against a file
_OVERLAP = 64  # bytes kept between stream blocks so a tag split across two is still seen


@dataclass(frozen=True)
class LoadLimits:
    max_unpacked_mb: float = 100.0  # all members of a zip container, inflated
    max_paragraphs: int = 100_000  # paragraph elements in the XML of a zip container
    max_text_chars: int = 5_000_000  # characters of text one document may yield
    timeout_s: float = 120.0  # per file
    memory_mb: int = 4096  # address space (not RSS) of the loader: OCR reserves ~1.5 GB
    isolate: bool = True  # False: load in this process, without the time and memory limits
    max_table_rows: int = MAX_TABLE_ROWS  # data rows indexed per table or sheet


def check_container(data: bytes, limits: LoadLimits, kind: str = "file") -> None:
    """Refuse a zip container that inflates past the limits (streamed: nothing is kept)."""
    if not data.startswith(b"PK\x03\x04"):
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # the format's own loader says why it cannot read it
    budget, paragraphs = int(limits.max_unpacked_mb * _MB), 0
    if sum(i.file_size for i in archive.infolist()) > budget:  # stated sizes: may understate
        raise _too_big(kind, limits)
    for info in archive.infolist():
        counting = info.filename.lower().endswith(".xml")
        tail = b""
        try:
            with archive.open(info) as member:
                while block := member.read(1 << 20):
                    budget -= len(block)
                    if budget < 0:
                        raise _too_big(kind, limits)
                    if counting:
                        window = tail + block
                        paragraphs += len(_PARAGRAPH.findall(window))
                        tail = window[-_OVERLAP:]
                        paragraphs -= len(_PARAGRAPH.findall(tail))  # counted again next block
                    if paragraphs > limits.max_paragraphs:
                        raise _too_many_paragraphs(kind, limits)
                paragraphs += len(_PARAGRAPH.findall(tail))
                if paragraphs > limits.max_paragraphs:
                    raise _too_many_paragraphs(kind, limits)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            return  # a damaged member: the loader reports it
        except RuntimeError:  # an encrypted member
            return


def _too_big(kind: str, limits: LoadLimits) -> LoadError:
    return LoadError(
        f"{kind} inflates past the {limits.max_unpacked_mb:g} MB unpacked limit "
        "(zip bomb?) / 解压后体积超限，已跳过"
    )


def _too_many_paragraphs(kind: str, limits: LoadLimits) -> LoadError:
    return LoadError(
        f"{kind} holds more than {limits.max_paragraphs} paragraphs (limit) / 段落数超限，已跳过"
    )


def load_bounded(path: Path, root: Path, max_bytes: int, limits: LoadLimits) -> Document:
    """``load_file`` with the expansion bounds (no time or memory limit: see ``Loader``)."""
    with contextlib.suppress(OSError), open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04" and path.stat().st_size <= max_bytes:
            f.seek(0)
            check_container(f.read(), limits, path.suffix.lower().lstrip(".") or "file")
    doc = load_file(path, root, max_bytes, limits.max_table_rows)
    if len(doc.text) > limits.max_text_chars:
        raise LoadError(
            f"document yields more than {limits.max_text_chars} characters of text "
            "(limit) / 文本长度超限，已跳过"
        )
    return doc


def _limit_memory(megabytes: int) -> None:
    import resource

    limit = int(megabytes) * _MB
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@dataclass(frozen=True)
class _Job:
    """One file for the worker, with the OCR limits of the parent's run (ingest/ocr.py)."""

    path: str
    root: str
    max_bytes: int
    ocr_max_pages: int
    ocr_max_seconds: float
    ocr_workers: int


def serve(fd: int) -> None:
    """The worker (``python -c``, so no caller's main module is ever re-run): receive the
    limits, then load the files it is sent, one at a time, sending back each result with the
    OCR records of the file. OCR progress goes to the parent page by page as
    ``("progress", stage, done, total)`` messages before the result."""
    conn = Connection(fd)
    limits = conn.recv()
    _limit_memory(limits.memory_mb)
    office.set_budget(limits.timeout_s)  # a conversion done here ends before the worker is killed
    run = OcrRun(progress=lambda stage, done, total: conn.send(("progress", stage, done, total)))
    conn.send("ready")  # started and imported: the time limit counts from here
    with ocr_run(run):
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            run.max_pages, run.max_seconds = job.ocr_max_pages, job.ocr_max_seconds
            run.workers, run.documents = job.ocr_workers, []
            kind, value = _load_job(job, limits)
            records = tuple(run.documents)
            if kind == "error" and _near_limit(limits.memory_mb):
                # parsers report running out of memory in their own words (lxml: "unknown error")
                conn.send(("exit", _out_of_memory(limits), records))
                return  # a fresh worker takes the next file
            try:
                conn.send((kind, value, records))
            except MemoryError:
                conn.send(("error", _out_of_memory(limits), records))


def _load_job(job: _Job, limits: LoadLimits) -> tuple[str, Document | str]:
    try:
        return "ok", load_bounded(Path(job.path), Path(job.root), job.max_bytes, limits)
    except LoadError as exc:
        return "error", str(exc)
    except MemoryError:
        return "error", _out_of_memory(limits)
    except Exception as exc:  # a loader bug or a parser's own error: skip the file, go on
        return "error", f"cannot read file ({type(exc).__name__}) / 无法读取"


def _near_limit(megabytes: int) -> bool:
    """True when this process's peak address space came within 10 % of its limit."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    m = re.search(r"^VmPeak:\s*(\d+) kB", status, re.M)
    return bool(m) and int(m.group(1)) * 1024 >= 0.9 * megabytes * _MB


def _out_of_memory(limits: LoadLimits) -> str:
    return (
        f"loading needs more than the {limits.memory_mb} MB memory limit / 超出读取内存上限，已跳过"
    )


class Loader:
    """Loads files in a worker process under ``limits``; use as a context manager."""

    def __init__(self, limits: LoadLimits = LoadLimits()) -> None:
        self.limits = limits
        self._process = None
        self._conn = None

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, path: Path, root: Path, max_bytes: int) -> Document:
        """The document, or ``LoadError`` with a one-line reason (time or memory limit too).

        OCR done in the worker reaches the active OCR run here (``current_run()``): its page
        progress while the file loads, its records once it is loaded."""
        if not self.limits.isolate:
            return load_bounded(path, root, max_bytes, self.limits)
        run = current_run()
        job = _Job(str(path), str(root), max_bytes, run.max_pages, run.max_seconds, run.workers)
        conn = self._worker()
        try:
            conn.send(job)
        except OSError:  # it stopped between two files: a fresh one
            self._stop()
            conn = self._worker()
            conn.send(job)
        try:
            kind, value, records = self._result(conn, run, path.relative_to(root).as_posix())
        finally:
            run.end_relay()
        run.documents.extend(records)
        if kind == "ok":
            return value
        if kind == "exit":  # the worker stops after this file
            self._stop()
        raise LoadError(value)

    def _result(self, conn: Connection, run: OcrRun, source: str) -> tuple:
        """The worker's answer for one file, relaying its progress messages; the per-file time
        limit counts from the job's start, whatever progress the worker reports."""
        deadline = time.monotonic() + self.limits.timeout_s
        while True:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                self._stop()
                raise LoadError(
                    f"loading took longer than the {self.limits.timeout_s:g} s time "
                    "limit / 读取超时，已跳过"
                )
            try:
                message = conn.recv()
            except (EOFError, OSError):
                code = self._process.poll() if self._process is not None else None
                self._stop()
                raise LoadError(
                    f"the loader process died (exit {code}); {_out_of_memory(self.limits)}"
                ) from None
            if message[0] != "progress":
                return message
            run.relay(source, message[2], message[3])

    def _worker(self) -> Connection:
        if self._process is None or self._process.poll() is not None:
            self._stop()
            parent, child = socket.socketpair()
            package_root = str(Path(__file__).resolve().parents[1])
            path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from ingest.budget import serve; serve(int(sys.argv[1]))",
                    str(child.fileno()),
                ],
                pass_fds=[child.fileno()],
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
            child.close()
            self._conn = Connection(parent.detach())
            if not self._started():
                self._stop()
                raise LoadError("the loader process did not start / 读取进程未能启动")
        return self._conn

    def _started(self) -> bool:
        try:
            self._conn.send(self.limits)
            return self._conn.poll(_STARTUP_S) and self._conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def _stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(2)
        self._stop()

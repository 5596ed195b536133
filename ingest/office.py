"""Word 97 ``.doc``, Kingsoft WPS ``.wps``, OpenDocument ``.odt`` and ``.rtf`` files: converted
to .docx by LibreOffice headless, then read with the .docx rules (heading styles, numbering,
tables).

The real type comes from the bytes, not the name: an OLE2 compound file (magic ``D0CF11E0``)
holding a ``WordDocument`` stream is Word 97 binary whatever its suffix (a ``.doc`` renamed
``.docx``, a ``.wps`` saved by WPS Office in Word format); a zip is a .docx even when named
``.doc``. A Word file whose FIB says it is encrypted is skipped before LibreOffice sees it.

One LibreOffice process converts all the legacy files of an ingest run (``convert_ahead``), with
a private profile folder, so a user's open LibreOffice and other runs are not disturbed. A file
that makes no progress within ``timeout_s`` has its process killed and is skipped with a reason;
the batch restarts after it; in an ingest run ``timeout_s`` and the memory limit are the loader's
per-file limits (``LoadLimits``). Results are kept by sha256 until ``forget()``, so ``load_legacy``
finds them, also in the loader worker process (ingest/budget.py: the folder is named by an
environment variable it inherits); a file loaded outside a run is converted on its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Literal

from .errors import LoadError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
LEGACY_SUFFIXES = (".doc", ".wps")
CONVERTED_ONLY = (".odt", ".rtf")  # read through LibreOffice whatever their bytes
WORD_SUFFIXES = (".doc", ".docx", ".wps", *CONVERTED_ONLY)
TIMEOUT_S = float(os.environ.get("POLICYQA_CONVERT_TIMEOUT", "60"))  # per file, no progress
STARTUP_S = 60.0  # extra allowance for the first file: LibreOffice starting, profile created
NOT_INSTALLED = (
    "LibreOffice is needed to read .doc/.wps/.odt/.rtf: install it (apt-get install "
    "libreoffice-writer-nogui) / 需要安装 LibreOffice 才能读取 .doc/.wps/.odt/.rtf"
)
ENCRYPTED = "password-protected Word file (password required) / 文档已加密，需要密码"
CORRUPT = "corrupt Word file (damaged OLE2 container) / 文档已损坏"
FAILED = (
    "LibreOffice could not convert it (corrupt or unsupported) / 无法转换该文档（损坏或不支持）"
)

Kind = Literal["word", "encrypted", "corrupt", "zip", "other"]
Result = bytes | LoadError  # converted .docx, or why not

UNREADABLE = ("encrypted", "corrupt")  # skipped without asking LibreOffice

# Conversions of the current run, as files ``<sha256>.docx`` / ``<sha256>.err`` (the reason) in
# a private temporary folder named by this variable: the loader worker process inherits it.
CONVERTED_ENV = "POLICYQA_CONVERTED_DIR"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def sniff(data: bytes) -> Kind:
    """What a Word-ish file really is, from its bytes."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if not data.startswith(OLE2_MAGIC):
        return "other"
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            if ole.exists("EncryptedPackage"):  # a password-protected .docx is an OLE2 file
                return "encrypted"
            if ole.exists("WordDocument"):
                fib = ole.openstream("WordDocument").read(12)
                flags = int.from_bytes(fib[10:12], "little") if len(fib) >= 12 else 0
                return "encrypted" if flags & 0x0100 else "word"  # FIB fEncrypted
    except (OSError, ValueError, IndexError):  # olefile's errors on a damaged compound file
        return "corrupt"
    return "other"  # e.g. an MS Works .wps: LibreOffice may read it


def is_docx(data: bytes) -> bool:
    """A zip holding word/document.xml (an .odt is a zip too, holding content.xml)."""
    if not data.startswith(ZIP_MAGIC):
        return False
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "word/document.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _input_suffix(data: bytes) -> str:
    """The suffix LibreOffice's type detection expects for these bytes."""
    if data.startswith(ZIP_MAGIC):
        return ".odt"
    return ".rtf" if data.lstrip()[:5] == b"{\\rtf" else ".doc"


def needs_conversion(suffix: str, data: bytes) -> bool:
    """True when a file with this suffix and these bytes must go through LibreOffice."""
    if suffix not in WORD_SUFFIXES:
        return False
    if suffix in CONVERTED_ONLY:
        return not is_docx(data)
    kind = sniff(data)
    return kind in ("word", "encrypted", "corrupt") or (
        kind == "other" and suffix in LEGACY_SUFFIXES
    )


def load_legacy(data: bytes) -> tuple[str, list, str | None, list]:
    """A .doc/.wps/.odt/.rtf (or a Word 97 file under another name) -> the .docx loader's
    output."""
    from .loaders import load_docx

    if is_docx(data):
        return load_docx(data)
    kind = sniff(data)
    if kind in ("encrypted", "corrupt"):
        raise LoadError(ENCRYPTED if kind == "encrypted" else CORRUPT)
    digest = hashlib.sha256(data).hexdigest()
    result = _converted(digest)
    if result is None:
        timeout_s, startup_s = _alone()
        result = convert_batch([data], timeout_s, startup_s=startup_s)[0]
    if isinstance(result, LoadError):
        raise result
    return load_docx(result)


_BUDGET_S: list[float] = []  # the time limit of the process converting (a loader worker's)


def set_budget(seconds: float) -> None:
    """This process is killed after ``seconds`` per file (ingest/budget.py): a file converted
    here on its own must finish, or LibreOffice be killed, well before that."""
    _BUDGET_S[:] = [seconds]


def _alone() -> tuple[float, float]:
    """(timeout_s, startup_s) for a file converted on its own."""
    if not _BUDGET_S:
        return TIMEOUT_S, STARTUP_S
    return min(TIMEOUT_S, 0.4 * _BUDGET_S[0]), min(STARTUP_S, 0.4 * _BUDGET_S[0])


def convert_ahead(
    paths: Iterable[Path],
    known: set[str] = frozenset(),
    progress: Callable[[str, int, int], None] | None = None,
    timeout_s: float = TIMEOUT_S,
    max_bytes: int = 50 * 1024 * 1024,
    memory_mb: int | None = None,
) -> int:
    """Convert every file of ``paths`` that needs LibreOffice, in one process, unless its sha256
    is in ``known`` (unchanged since the last run). Returns how many were converted.

    An ingest run passes the loader's per-file limits (``LoadLimits``): a file that takes longer
    than ``timeout_s`` has LibreOffice killed and is skipped with a one-line reason, and
    LibreOffice runs under the ``memory_mb`` address-space limit."""
    todo: dict[str, bytes] = {}
    for path in paths:
        if path.suffix.lower() not in WORD_SUFFIXES:
            continue
        try:
            if path.stat().st_size > max_bytes:
                continue  # the run skips it as too large
            data = path.read_bytes()
        except OSError:
            continue  # the run reports it when it reads the file
        digest = hashlib.sha256(data).hexdigest()
        if digest in known or digest in todo or _converted(digest) is not None:
            continue
        if needs_conversion(path.suffix.lower(), data) and sniff(data) not in UNREADABLE:
            todo[digest] = data
    if not todo:
        return 0
    startup_s = min(STARTUP_S, timeout_s)  # LibreOffice starting: once, as long as a file
    results = convert_batch(list(todo.values()), timeout_s, progress, startup_s, memory_mb)
    folder = os.environ.get(CONVERTED_ENV) or tempfile.mkdtemp(prefix="policyqa-converted-")
    os.environ[CONVERTED_ENV] = folder
    for digest, result in zip(todo, results, strict=True):
        if isinstance(result, LoadError):
            (Path(folder) / f"{digest}.err").write_text(str(result), encoding="utf-8")
        else:
            (Path(folder) / f"{digest}.docx").write_bytes(result)
    return len(todo)


def forget() -> None:
    """Drop the conversions kept for this run."""
    folder = os.environ.pop(CONVERTED_ENV, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _converted(digest: str) -> Result | None:
    folder = os.environ.get(CONVERTED_ENV)
    if not folder:
        return None
    done, failed = Path(folder) / f"{digest}.docx", Path(folder) / f"{digest}.err"
    if done.exists():
        return done.read_bytes()
    return LoadError(failed.read_text(encoding="utf-8")) if failed.exists() else None


def convert_batch(
    items: list[bytes],
    timeout_s: float = TIMEOUT_S,
    progress: Callable[[str, int, int], None] | None = None,
    startup_s: float = STARTUP_S,
    memory_mb: int | None = None,
) -> list[Result]:
    """Each of ``items`` (Word 97 / WPS / ODT / RTF bytes) as .docx bytes, or the reason it failed.
    A file making no progress for ``timeout_s`` (plus ``startup_s`` for the first) has
    LibreOffice killed; the batch goes on after it. ``memory_mb`` bounds LibreOffice's address
    space (``prlimit``, when installed)."""
    exe = soffice()
    if exe is None:
        return [LoadError(NOT_INSTALLED) for _ in items]
    results: list[Result | None] = [None] * len(items)
    with tempfile.TemporaryDirectory(prefix="policyqa-lo-") as tmp:
        base = Path(tmp)
        (base / "in").mkdir()
        inputs = [base / "in" / f"{i:05d}{_input_suffix(d)}" for i, d in enumerate(items)]
        for path, data in zip(inputs, items, strict=True):
            path.write_bytes(data)
        outputs = [base / "out" / f"{i:05d}.docx" for i in range(len(items))]
        todo, attempt = list(range(len(items))), 0
        while todo:
            attempt += 1
            report = partial(_report, progress, len(items) - len(todo), len(items))
            hung = _run(
                _limited(exe, memory_mb),
                base / f"profile{attempt}",
                [inputs[i] for i in todo],
                [outputs[i] for i in todo],
                timeout_s,
                startup_s,
                report,
            )
            for i in todo:
                if outputs[i].exists() and outputs[i].stat().st_size:
                    results[i] = outputs[i].read_bytes()
            if hung is None:
                break
            results[todo[hung]] = LoadError(
                f"conversion timed out after {timeout_s:g} s, LibreOffice killed / 转换超时"
            )
            todo = [i for i in todo[hung + 1 :] if results[i] is None]
    return [r if r is not None else LoadError(FAILED) for r in results]


def _limited(exe: str, memory_mb: int | None) -> list[str]:
    """The command prefix running ``exe`` under an address-space limit (util-linux prlimit)."""
    tool = shutil.which("prlimit") if memory_mb else None
    return [tool, f"--as={int(memory_mb) * 1024 * 1024}", "--", exe] if tool else [exe]


def _report(progress, offset: int, total: int, done: int) -> None:
    if progress is not None:
        progress("loading", offset + done, total)  # the UI's "reading" stage


def _run(
    exe: list[str],
    profile: Path,
    inputs: list[Path],
    outputs: list[Path],
    timeout_s: float,
    startup_s: float,
    report: Callable[[int], None],
) -> int | None:
    """One ``soffice --convert-to docx`` over ``inputs`` (converted in order). Returns the
    position of the file that made no progress within the timeout (process killed), or None."""
    command = [
        *exe,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--convert-to",
        "docx:MS Word 2007 XML",
        "--outdir",
        str(outputs[0].parent),
        *map(str, inputs),
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    done, deadline = 0, time.monotonic() + timeout_s + startup_s
    while proc.poll() is None:
        time.sleep(0.1)
        # past the last file written: LibreOffice converts in order, skipping those it cannot
        now = max((k + 1 for k in range(done, len(outputs)) if outputs[k].exists()), default=done)
        if now > done:
            done, deadline = now, time.monotonic() + timeout_s
            report(done)
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return done
    report(len(inputs))
    return None

"""The index's own health: reading a generation's files with one-line errors that name the
damaged file and the fix, checksums written into the manifest at publish time, and the check
(``policyqa status --check``) that compares them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from .errors import IndexDamaged, PolicyQAError

GENERATION_NAME = re.compile(r"gen-\d{6,}")
FIX = "请运行 policyqa ingest --full 重建 / rebuild it with `policyqa ingest --full`"


def damaged(path: Path | str, detail: str) -> IndexDamaged:
    return IndexDamaged(
        f"索引文件损坏 / damaged index file {path} ({detail}): {FIX}", str(path), detail
    )


def _detail(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0][:120] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@contextlib.contextmanager
def reading(path: Path):
    """Turn any failure to read or parse ``path`` into ``IndexDamaged`` naming it."""
    try:
        yield
    except PolicyQAError:
        raise
    except FileNotFoundError:
        raise damaged(path, "missing") from None
    except Exception as exc:  # sqlite3, json, numpy, faiss and bm25s each raise their own kinds
        raise damaged(path, _detail(exc)) from exc


def private_folder(folder: Path) -> None:
    """0700: the index holds the full text of restricted documents."""
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes, read in blocks (the one file hash of the package)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a generation being written, except the manifest itself."""
    return {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def verify(folder: Path, recorded: dict[str, str]) -> tuple[list[tuple[str, str]], int]:
    """(problems as (file, what is wrong), number of files checked) against the checksums the
    manifest recorded (``Manifest.files``)."""
    if not isinstance(recorded, dict) or not recorded:
        return [("manifest.json", "no checksums recorded (built by an older version)")], 0
    problems = []
    for rel, digest in sorted(recorded.items()):
        path = folder / rel
        if not path.is_file():
            problems.append((rel, "missing"))
        elif file_sha256(path) != digest:
            problems.append((rel, "checksum differs from the manifest"))
    return problems, len(recorded)


def check_generation(folder: Path, recorded: dict[str, str]) -> int:
    """Raise ``IndexDamaged`` naming the first bad file (and how many others); else the number
    of files whose checksum matched."""
    problems, checked = verify(folder, recorded)
    if problems:
        rel, what = problems[0]
        more = f"; {len(problems) - 1} more file(s) also bad" if len(problems) > 1 else ""
        raise damaged(folder / rel, what + more)
    return checked

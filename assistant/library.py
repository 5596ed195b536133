"""The source folder as a library of files: add (upload), replace, remove, and undo.

The one place that writes or deletes files in the source folder (the web app's admin console
and any script go through ``Assistant.library``). Rules:

- A new file goes to the root or to an existing subfolder the admin chooses; a name carrying a
  folder part (``人事/内部.md``) is refused, never silently flattened.
- Every file is read with the real loader before it is saved (empty or unreadable -> refused),
  and its access groups are worked out as the ingest will (``access.toml`` + front matter), so
  the admin sees who will be able to read it before saving.
- Replacing an existing document needs an explicit confirmation; the previous file, like a
  removed one, goes to ``SOURCE/.trash/<UTC stamp>/`` (the ingest skips dot folders) and can be
  restored. Files are staged in ``SOURCE/.staging/`` and moved into place with ``os.replace``,
  so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ingest.access import ACCESS_FILE, AccessRules
from ingest.errors import PolicyQAError
from ingest.loaders import SUPPORTED, load_file

TRASH = ".trash"
STAGING = ".staging"
MAX_NAME_BYTES = 200
_ENTRY = "entry.json"


class LibraryError(PolicyQAError):
    """A file operation on the source folder was refused (unknown entry, unsafe path...)."""


@dataclass(frozen=True)
class Upload:
    """A file handed in: where it lies now, and the name its sender gave it."""

    path: Path
    name: str


@dataclass(frozen=True)
class Planned:
    """What saving one upload would do. ``problem`` non-empty = it is refused."""

    name: str
    target: str = ""  # path relative to the source folder, forward slashes
    title: str = ""
    groups: tuple[str, ...] = ()
    replaces: bool = False
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class TrashEntry:
    id: str
    source: str
    reason: Literal["replaced", "removed"]
    at: str  # ISO time, UTC


@dataclass(frozen=True)
class AddResult:
    saved: tuple[Planned, ...]
    refused: tuple[Planned, ...]
    trashed: tuple[TrashEntry, ...] = ()


def check_name(name: str) -> str:
    """The upload's file name when acceptable, else LibraryError with the reason: no folder
    part, no '..', no hidden file, printable, a supported extension."""
    text = str(name).strip()
    if "/" in text or "\\" in text:
        raise LibraryError(
            "文件名不能包含文件夹，请在“目标文件夹”中选择 / the name has a folder part: "
            "choose the target folder instead"
        )
    if not text or text.startswith(".") or ".." in text or text.startswith("~$"):
        raise LibraryError("文件名不允许 / file name not allowed")
    if not text.isprintable() or len(text.encode("utf-8")) > MAX_NAME_BYTES:
        raise LibraryError("文件名不允许 / file name not allowed")
    if Path(text).suffix.lower() not in SUPPORTED:
        raise LibraryError(
            f"不支持的文件类型 {Path(text).suffix or '(无)'} / unsupported file type"
        )
    return text


class Library:
    def __init__(self, source_dir: Path, max_bytes: int = 50 * 1024 * 1024) -> None:
        self.source = Path(source_dir)
        self.max_bytes = int(max_bytes)

    # --- reading ---------------------------------------------------------------------------------

    def folders(self) -> list[str]:
        """Existing subfolders an upload may go to ("" = the root not included), sorted."""
        if not self.source.is_dir():
            return []
        found = []
        for dirpath, dirnames, _ in os.walk(self.source, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(self.source).as_posix()
            if rel != ".":
                found.append(rel)
        return found

    def plan(self, uploads: Sequence[Upload], folder: str = "") -> list[Planned]:
        """What ``add`` would do with these files (nothing is written)."""
        with self._staged(uploads, folder) as staged:
            return [p for p, _ in staged]

    def trash(self) -> list[TrashEntry]:
        """Replaced and removed files that can be restored, newest first."""
        root = self.source / TRASH
        entries = []
        for folder in sorted(root.iterdir(), reverse=True) if root.is_dir() else ():
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads((folder / _ENTRY).read_text(encoding="utf-8"))
                entries.append(
                    TrashEntry(folder.name, str(data["source"]), data["reason"], str(data["at"]))
                )
        return entries

    # --- changing --------------------------------------------------------------------------------

    def add(
        self, uploads: Sequence[Upload], folder: str = "", *, replace_existing: bool = False
    ) -> AddResult:
        """Save the acceptable uploads (an existing document only with ``replace_existing``;
        its previous file goes to the trash)."""
        saved, refused, trashed = [], [], []
        with self._staged(uploads, folder) as staged:
            for planned, path in staged:
                if planned.ok and planned.replaces and not replace_existing:
                    planned = replace(
                        planned,
                        problem=(
                            "已有同名文件；如需替换，请勾选“确认替换” / a document with this name "
                            "exists: confirm the replacement"
                        ),
                    )
                if not planned.ok or path is None:
                    refused.append(planned)
                    continue
                target = self.source / planned.target
                if planned.replaces:
                    trashed.append(self._to_trash(planned.target, "replaced"))
                os.replace(path, target)
                saved.append(planned)
        return AddResult(tuple(saved), tuple(refused), tuple(trashed))

    def remove(self, source: str) -> TrashEntry:
        """Move a document's file to the trash."""
        target = self._existing(source)
        if not target.is_file():
            raise LibraryError(f"文件不存在：{source} / no such file")
        return self._to_trash(source, "removed")

    def restore(self, entry_id: str) -> TrashEntry:
        """Put a trashed file back; a file now at its place goes to the trash first (so a
        restore can itself be undone)."""
        entry = next((e for e in self.trash() if e.id == str(entry_id)), None)
        if entry is None:
            raise LibraryError(f"回收站中没有这一项：{entry_id} / no such trash entry")
        stored = self.source / TRASH / entry.id / Path(entry.source).name
        target = self._inside(entry.source)
        if target.is_symlink() or target.is_dir():
            raise LibraryError(f"无法恢复到 {entry.source} / cannot restore over this path")
        if target.exists():
            self._to_trash(entry.source, "replaced")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stored, target)
        shutil.rmtree(self.source / TRASH / entry.id, ignore_errors=True)
        return entry

    # --- internals -------------------------------------------------------------------------------

    def _inside(self, rel: str) -> Path:
        """``SOURCE/rel`` after checking it stays inside the folder (no '..', no hidden part,
        no link on the way)."""
        parts = Path(rel).parts
        bad = any(p in (".", "..") or p.startswith(".") for p in parts)
        if not parts or Path(rel).is_absolute() or bad:
            raise LibraryError(f"路径不允许：{rel} / path not allowed")
        here = self.source
        for part in parts[:-1]:
            here = here / part
            if here.is_symlink():
                raise LibraryError(f"路径含有链接：{rel} / path goes through a link")
        path = self.source.joinpath(*parts)
        if not path.is_symlink() and not path.resolve().is_relative_to(self.source.resolve()):
            raise LibraryError(f"路径不允许：{rel} / path not allowed")
        return path

    def _existing(self, rel: str) -> Path:
        path = self._inside(rel)
        if path.is_symlink():
            raise LibraryError(
                f"这是一个链接，请在服务器上处理：{rel} / a link: handle it on the server"
            )
        return path

    def _to_trash(self, rel: str, reason: Literal["replaced", "removed"]) -> TrashEntry:
        now = datetime.now(UTC)
        entry_id = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)
        folder = self.source / TRASH / entry_id
        folder.mkdir(parents=True)
        for made in (self.source / TRASH, folder):
            os.chmod(made, 0o700)
        entry = TrashEntry(entry_id, rel, reason, now.isoformat(timespec="seconds"))
        record = {"source": rel, "reason": reason, "at": entry.at}
        (folder / _ENTRY).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(self._existing(rel), folder / Path(rel).name)
        return entry

    def _target(self, name: str, folder: str) -> str:
        check_name(name)
        folder = str(folder or "").strip().strip("/")
        if folder and folder not in self.folders():
            raise LibraryError(f"没有这个文件夹：{folder} / no such folder")
        rel = f"{folder}/{name}" if folder else name
        if rel == ACCESS_FILE:
            raise LibraryError("access.toml 只能在服务器上修改 / edit access.toml on the server")
        target = self._existing(rel)
        if target.is_dir():
            raise LibraryError(f"已有同名文件夹：{rel} / a folder has this name")
        return rel

    @contextlib.contextmanager
    def _staged(
        self, uploads: Sequence[Upload], folder: str
    ) -> Iterator[list[tuple[Planned, Path | None]]]:
        """Each upload copied to ``SOURCE/.staging/<run>/<target>`` and read with the loader;
        the staging folder is removed afterwards (whatever was not moved into place)."""
        rules = AccessRules.load(self.source) if self.source.is_dir() else AccessRules()
        run = self.source / STAGING / secrets.token_hex(8)
        staged: list[tuple[Planned, Path | None]] = []
        seen: set[str] = set()
        try:
            for upload in uploads:
                planned, path = self._stage_one(upload, folder, run, rules)
                if planned.ok and planned.target in seen:
                    planned, path = replace(planned, problem="重复的文件 / duplicate upload"), None
                seen.add(planned.target)
                staged.append((planned, path))
            yield staged
        finally:
            shutil.rmtree(run, ignore_errors=True)
            with contextlib.suppress(OSError):
                (self.source / STAGING).rmdir()

    def _stage_one(
        self, upload: Upload, folder: str, run: Path, rules: AccessRules
    ) -> tuple[Planned, Path | None]:
        name = str(upload.name)
        try:
            rel = self._target(name, folder)
            size = Path(upload.path).stat().st_size
        except (LibraryError, OSError) as exc:
            return Planned(name, problem=_reason(exc)), None
        if size > self.max_bytes:
            limit = self.max_bytes / 1048576
            return Planned(name, rel, problem=f"超过 {limit:g} MB / larger than {limit:g} MB"), None
        staged = run / rel
        staged.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.source / STAGING, 0o700)
        shutil.copyfile(upload.path, staged)
        try:
            doc = load_file(staged, run, self.max_bytes)
        except PolicyQAError as exc:
            return Planned(name, rel, problem=f"无法读取 / unreadable: {exc}"), None
        groups = rules.groups_for(rel, doc.groups)
        replaces = (self.source / rel).is_file()
        return Planned(name, rel, doc.title, groups, replaces), staged


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"无法读取上传的文件 / cannot read the upload ({exc.strerror})"
    return str(exc)

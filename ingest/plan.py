"""Planning one ingest run: which source files there are, what the current generation can lend,
and which files changed (by sha256) since it was built.

``sources()`` scans the source folder (symlinks checked, access labels applied); ``previous()``
opens the current generation whatever state it is in and says why nothing can be reused when
the run must rebuild everything; ``Previous`` then answers, file by file, whether a document is
unchanged, and at the end which were removed or relabelled. pipeline.py runs the stages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .access import ACCESS_FILE, AccessRules
from .errors import IndexDamaged, IndexMissing, PolicyQAError
from .index import DocumentInfo, Generation, open_current
from .integrity import file_sha256
from .loaders import SUPPORTED
from .records import Skipped

Labeller = Callable[..., tuple[str, ...]]  # (source, declared groups) -> the groups it gets

_LINKED_FOLDER = "symlinked folder not followed: link its files one by one / 不跟随链接的文件夹"
_LINK_CONFLICT = (
    "symlink labelled for other groups than its target (access.toml): not "
    "ingested / 链接与其目标的访问组不一致，已忽略"
)


# --- the source folder ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Sources:
    """The files a run ingests, those skipped before reading, and the groups each one gets."""

    files: list[Path]
    skipped: list[Skipped]
    label: Labeller


def sources(source_dir: Path) -> Sources:
    """Scan ``source_dir`` and label its files (access.toml); a symlink labelled for other
    groups than its target is skipped."""
    files, skipped = scan(source_dir)
    rules = AccessRules.load(source_dir)
    links = symlink_targets(source_dir, files)
    conflicting = {rel for rel, target in links.items() if rules.conflicts(rel, target)}
    skipped += [Skipped(rel, _LINK_CONFLICT) for rel in sorted(conflicting)]
    files = [p for p in files if p.relative_to(source_dir).as_posix() not in conflicting]

    def label(rel: str, declared: tuple[str, ...] = ()) -> tuple[str, ...]:
        return rules.groups_for(rel, declared, links.get(rel))

    return Sources(files, skipped, label)


# --- the current generation -------------------------------------------------------------------


@dataclass
class Previous:
    """What the current generation can lend to this run."""

    generation: Generation | None
    reason: str = ""  # why nothing can be reused (forces a full rebuild)
    full: bool = False  # --full: nothing is reused, not even vectors of unchanged texts
    documents: dict[str, DocumentInfo] = field(init=False)  # by source path

    def __post_init__(self) -> None:
        old = self.generation
        self.documents = {d.source: d for d in old.documents.values()} if old else {}

    def usable(self) -> bool:
        return self.generation is not None and not self.reason

    def vectors_by_text(self, embedder_name: str, texts: set[str]) -> dict[str, np.ndarray]:
        """The current generation's vectors of the chunks whose embedded text is one of
        ``texts``, when it was built by the same embedder: a new chunker version or a changed
        file re-embeds only the chunks whose text changed. Nothing after --full, or from a
        damaged generation or another embedder."""
        old = self.generation
        if old is None or self.full or old.embedder.get("name") != embedder_name:
            return {}
        rows = {}
        for i, chunk in enumerate(old.chunks):
            text = chunk.embedding_text()
            if text in texts:
                rows.setdefault(text, i)
        if not rows:
            return {}
        order = sorted(rows.values())
        vectors = np.asarray(old.vectors()[order])
        at = {row: k for k, row in enumerate(order)}
        return {text: vectors[at[row]] for text, row in rows.items()}

    def known_digests(self) -> set[str]:
        """The sha256 of every document this run may reuse."""
        return {d.sha256 for d in self.documents.values()} if self.usable() else set()

    def unchanged(self, path: Path, rel: str) -> DocumentInfo | None:
        """The indexed document of source ``rel`` when the file still has its sha256."""
        digest = file_sha256(path)
        info = self.documents.get(rel)
        if self.usable() and info is not None and info.sha256 == digest:
            return info
        return None

    def removed(self, present: set[str], skipped: Iterable[Skipped]) -> list[str]:
        """Indexed sources gone from the folder, or (when reusing) skipped by this run."""
        if not self.usable():
            return sorted(s for s in self.documents if s not in present)
        skipped_sources = {s.source for s in skipped}
        return sorted(s for s in self.documents if s not in present or s in skipped_sources)

    def declared(self, info: DocumentInfo) -> tuple[str, ...]:
        """Groups a reused document declared itself (front matter), kept in the manifest."""
        if self.generation is None:
            return ()
        return self.generation.manifest.declared_groups.get(info.source, ())

    def relabelled(self, kept: list[tuple[str, DocumentInfo]], label: Labeller) -> list[str]:
        """Sources among ``kept`` whose groups change (access.toml was edited)."""
        return [rel for rel, info in kept if label(rel, self.declared(info)) != tuple(info.groups)]

    def retokenise(self) -> bool:
        """True when the BM25 tokeniser changed since the generation was built."""
        return self.usable() and not self.generation.terms_current()


def previous(index_dir: Path, name: str, *, full: bool, chunking: dict) -> Previous:
    """The current generation, when it can lend anything: whatever state it is in (damaged,
    incompatible, half-deleted), the run goes on as a full rebuild from the sources. ``name``
    is the embedder of this run, ``chunking`` its chunking settings; ``full``: --full."""
    try:
        gen = open_current(index_dir)
        gen.check_readable()  # a damaged file forces a rebuild here, not a failure later
    except IndexMissing:
        return Previous(None, "no previous index / 首次建立索引")
    except IndexDamaged as exc:
        return Previous(
            None, f"previous index damaged: {exc.path} ({exc.detail}) / 旧索引损坏，全部重建"
        )
    except PolicyQAError as exc:
        return Previous(None, f"previous index unreadable ({exc}) / 旧索引不可用")
    if full:
        return Previous(gen, "--full requested / 指定了 --full", full=True)
    if gen.embedder.get("name") != name:
        return Previous(
            gen, f"embedder changed from {gen.embedder.get('name')} to {name} / 向量模型已更换"
        )
    if gen.manifest.chunking != chunking:
        return Previous(gen, "chunking settings changed / 切分设置已更改")
    return Previous(gen)

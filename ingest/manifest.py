"""A generation's ``manifest.json`` as a record: which embedder made the vectors, the chunking
and tokenisation it was built with (a change forces a rebuild), the groups documents declared
themselves, each document's chunks, and the checksums of the generation's files.

``Manifest.from_json`` reads what any version wrote (fields added later default to empty);
``to_json`` writes the same object back, keys in the order they always had.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmbedderInfo:
    name: str
    dim: int

    def to_json(self) -> dict:
        return {"name": self.name, "dim": self.dim}


@dataclass(frozen=True)
class DocumentEntry:
    """One document of the generation: its id, the sha256 of its file, its chunk ids in order."""

    id: str
    sha256: str
    chunks: tuple[str, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "sha256": self.sha256, "chunks": list(self.chunks)}


@dataclass(frozen=True)
class Manifest:
    embedder: EmbedderInfo
    chunking: dict  # {"chunk_size", "chunker_version"}: compared as a whole
    terms: str | None  # the tokenisation fingerprint (terms.fingerprint); None: older indexes
    declared_groups: dict[str, tuple[str, ...]]  # source -> groups from its front matter
    documents: dict[str, DocumentEntry]  # source -> entry
    # set by write_generation when the generation is written
    format_version: int | None = None
    generation: str = ""
    built_at: str = ""
    counts: dict = field(default_factory=dict)  # {"documents", "chunks"}
    files: dict[str, str] = field(default_factory=dict)  # file -> sha256 (not manifest.json)

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        """Raises KeyError/TypeError/ValueError on a manifest without a usable embedder entry."""
        documents = data.get("documents") or {}
        return cls(
            embedder=EmbedderInfo(str(data["embedder"]["name"]), int(data["embedder"]["dim"])),
            chunking=dict(data.get("chunking") or {}),
            terms=data.get("terms"),
            declared_groups={
                source: tuple(groups)
                for source, groups in (data.get("declared_groups") or {}).items()
            },
            documents={
                source: DocumentEntry(e["id"], e["sha256"], tuple(e["chunks"]))
                for source, e in documents.items()
            },
            format_version=data.get("format_version"),
            generation=data.get("generation", ""),
            built_at=data.get("built_at", ""),
            counts=dict(data.get("counts") or {}),
            files=dict(data.get("files") or {}),
        )

    def to_json(self) -> dict:
        out = {
            "embedder": self.embedder.to_json(),
            "chunking": self.chunking,
            "terms": self.terms,
            "declared_groups": {s: list(g) for s, g in self.declared_groups.items()},
            "documents": {s: e.to_json() for s, e in self.documents.items()},
        }
        if self.format_version is not None:
            out |= {
                "format_version": self.format_version,
                "generation": self.generation,
                "built_at": self.built_at,
                "counts": self.counts,
            }
        if self.files:
            out["files"] = self.files
        return out

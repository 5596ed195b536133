"""What ``Assistant.status()`` reports: the index (``IndexStatus``) and the models that searches
of it use (``ModelStatus``: the query adapter, the decision model). Frozen records; ``to_json``
gives the object ``policyqa status`` prints and the admin console renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingest.records import IngestReport


@dataclass(frozen=True)
class ModelStatus:
    """The query adapter or the decision model: its setting, whether it is in use, and what
    it is (``gate``/``threshold``, ``about``) or why not (``error``, ``message``)."""

    kind: Literal["query_adapter", "relevance", "decider"]
    setting: str
    in_use: bool
    gate: float | None = None  # the adapter's relevance gate (None: the retriever's own)
    threshold: float | None = None  # the decision model's threshold
    about: str = ""
    error: str | None = None  # the model could not be read (the plain path answers)
    message: str | None = None  # why no decision model applies to this index

    def to_json(self) -> dict:
        base = {"setting": self.setting, "in_use": self.in_use}
        if self.error is not None:
            return {**base, "error": self.error}
        if not self.in_use:
            return {**base, **({"message": self.message} if self.message else {})}
        if self.kind in ("query_adapter", "relevance"):
            return {**base, "gate": self.gate, "about": self.about}
        return {**base, "threshold": self.threshold, "about": self.about}


@dataclass(frozen=True)
class IndexStatus:
    """``ready`` False: no index yet (only ``index`` and ``ingest_running`` mean anything)."""

    index: str
    ready: bool
    ingest_running: bool
    generation: str | None = None
    documents: int = 0
    chunks: int = 0
    embedder: str | None = None
    query_adapter: ModelStatus | None = None
    relevance: ModelStatus | None = None  # the gate's own query encoder
    decider: ModelStatus | None = None
    built_at: str | None = None
    # the BM25 terms were cut by this release's tokeniser; False: by an older one (the index
    # still answers; the next ``ingest`` re-tokenises it, nothing re-embedded)
    terms_current: bool = True
    last_run: IngestReport | None = None
    llm: str | None = None  # the chat model's name, None without an LLM
    error: str | None = None  # why the current generation cannot be read (the loaded one answers)
    checked_files: int | None = None  # ``status --check``: the files verified

    def to_json(self) -> dict:
        if not self.ready:
            return {"index": self.index, "ready": False, "ingest_running": self.ingest_running}
        return {
            "index": self.index,
            "ready": True,
            "generation": self.generation,
            "documents": self.documents,
            "chunks": self.chunks,
            "embedder": self.embedder,
            "query_adapter": self.query_adapter.to_json() if self.query_adapter else None,
            "relevance": self.relevance.to_json() if self.relevance else None,
            "decider": self.decider.to_json() if self.decider else None,
            "built_at": self.built_at,
            "bm25_terms": "current" if self.terms_current else "outdated",
            "last_run": self.last_run.to_json() if self.last_run else None,
            "ingest_running": self.ingest_running,
            "llm": self.llm,
            **({"error": self.error} if self.error else {}),
            **(
                {"check": {"ok": True, "files": self.checked_files}}
                if self.checked_files is not None
                else {}
            ),
        }

"""The index generation answers come from, held for the ``Assistant`` (service.py).

One loaded generation at a time. A re-ingest (from the UI or from a CLI run in another process)
builds a new generation; ``LiveIndex.retriever()`` loads it completely and then swaps one
reference, so a question is always answered by one whole generation, old or new. A newer
generation that cannot be read is remembered, and the last good one keeps answering.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ingest.embedding import Embedder, load_embedder, model_for
from ingest.errors import PolicyQAError
from ingest.index import (
    Generation,
    check_folder,
    current_generation,
    open_current,
    read_last_report,
)

from .adapter import adapter_for
from .decide import decider_for
from .query_tuning import relevance_for
from .rerank import reranker_for
from .retrieval import RetrievalConfig, Retriever
from .settings import Settings
from .status import IndexStatus, ModelStatus

log = logging.getLogger(__name__)


class LiveIndex:
    """The loaded generation (as a ``Retriever``) and the embedder it was loaded with."""

    def __init__(
        self, settings: Settings, config: RetrievalConfig, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self.config = config
        self.embedder = embedder  # the last one loaded (a re-ingest reuses it)
        self._retriever: Retriever | None = None
        self._swap = threading.Lock()
        self._unreadable: dict[str | None, str] = {}  # generation -> why it could not be loaded

    @property
    def index_dir(self) -> Path:
        return self.settings.index_path

    def has_index(self) -> bool:
        return current_generation(self.index_dir) is not None

    def retriever(self) -> Retriever:
        """The current retriever, (re)loaded when a newer generation has been published."""
        current = current_generation(self.index_dir)
        r = self._retriever
        if r is not None and (current is None or r.gen.name == current):
            return r
        with self._swap:
            r = self._retriever
            if r is None or (current is not None and r.gen.name != current):
                if r is not None and current in self._unreadable:
                    return r  # a newer generation that cannot be read: keep the last good one
                try:
                    r = self._load()
                except PolicyQAError as exc:
                    if self._retriever is None:
                        raise
                    self._unreadable[current] = str(exc)
                    log.warning("keeping generation %s: %s", self._retriever.gen.name, exc)
                    return self._retriever
                self._retriever = r  # one reference swap: readers see old or new, whole
        return r

    def _load(self) -> Retriever:
        gen = open_current(self.index_dir).load_all()  # every file read before any model loads
        embedder = self._embedder_for(gen)
        adapter = adapter_for(self.settings.query_adapter, embedder.name, embedder.dim)
        reranker = reranker_for(self.settings.reranker, self.settings.models_path, embedder)
        decider, note = decider_for(self.settings.decider, embedder.name, adapter)
        if note:
            log.warning(note)
        relevance = relevance_for(self.settings.relevance_model, embedder.name, embedder.dim)
        return Retriever(gen, embedder, self.config, adapter, reranker, decider, relevance)

    def _embedder_for(self, gen: Generation) -> Embedder:
        name = gen.embedder["name"]
        if self.embedder is None or self.embedder.name != name:
            self.embedder = load_embedder(
                model_for(name),
                self.settings.models_path,
                threads=self.settings.threads,
                quiet=True,
            )
        return self.embedder

    def status(self, check: bool, ingest_running: Callable[[], bool]) -> IndexStatus:
        """What the index holds; ``check``: verify the current generation's files against the
        checksums in its manifest first (IndexDamaged names the first bad one)."""
        check_folder(self.index_dir)
        if not (self.index_dir / "CURRENT").exists():
            return IndexStatus(str(self.index_dir), False, ingest_running())
        if self._retriever is not None and not check:
            self.retriever()  # picks up a newer generation, or records why it cannot be read
        gen, error, checked = self._status_generation(check)
        last = read_last_report(self.index_dir) or gen.report
        return IndexStatus(
            index=str(self.index_dir),
            ready=True,
            ingest_running=ingest_running(),
            generation=gen.name,
            documents=len(gen.documents),
            chunks=len(gen.chunks),
            embedder=gen.embedder.get("name"),
            query_adapter=adapter_status(self.settings, gen),
            relevance=relevance_status(self.settings, gen),
            decider=decider_status(self.settings, gen),
            built_at=gen.manifest.built_at or None,
            terms_current=gen.terms_current(),
            last_run=last,
            llm=self.settings.llm_model if self.settings.llm_enabled else None,
            error=error or None,
            checked_files=checked,
        )

    def _status_generation(self, check: bool) -> tuple[Generation, str | None, int | None]:
        """The generation ``status`` describes, why the current one cannot be read (if so) and
        the number of files checked."""
        loaded, current = self._retriever, current_generation(self.index_dir)
        error = self._unreadable.get(current) if loaded is not None else None
        if loaded is not None and (loaded.gen.name == current or error) and not check:
            return loaded.gen, error, None  # status never loads the embedder: the loaded one...
        checked = None
        try:  # ... or a fresh read of every file
            gen = open_current(self.index_dir)
            if check:
                checked = gen.check()
            else:
                gen.load_all()
        except PolicyQAError as exc:
            if loaded is None or check:
                raise
            return loaded.gen, str(exc), None  # still answering from the loaded one
        return gen, error, checked


def adapter_status(settings: Settings, gen: Generation) -> ModelStatus:
    """Which query adapter searches of this index use (read from the manifest, no model)."""
    return _query_model_status("query_adapter", settings.query_adapter, adapter_for, gen)


def relevance_status(settings: Settings, gen: Generation) -> ModelStatus:
    """Which relevance model the gate of this index's searches uses (no model is loaded)."""
    return _query_model_status("relevance", settings.relevance_model, relevance_for, gen)


def _query_model_status(kind, setting: str, select, gen: Generation) -> ModelStatus:
    """The status of the query model ``select(setting, embedder name, dim)`` gives."""
    try:
        model = select(setting, gen.embedder.get("name", ""), int(gen.embedder.get("dim", 0)))
    except PolicyQAError as exc:
        return ModelStatus(kind, setting, False, error=str(exc))
    if model is None:
        return ModelStatus(kind, setting, False)
    return ModelStatus(kind, setting, True, gate=model.gate, about=model.about)


def decider_status(settings: Settings, gen: Generation) -> ModelStatus:
    """Which decision model answers use, or why none (the plain gate then applies)."""
    setting = settings.decider
    try:
        name, dim = gen.embedder.get("name", ""), int(gen.embedder.get("dim", 0))
        adapter = adapter_for(settings.query_adapter, name, dim)
        decider, note = decider_for(setting, name, adapter)
    except PolicyQAError as exc:
        return ModelStatus("decider", setting, False, error=str(exc))
    if decider is None:
        return ModelStatus("decider", setting, False, message=note or None)
    return ModelStatus("decider", setting, True, threshold=decider.threshold, about=decider.about)

"""An ``Assistant`` without a model or an index, for tests of the web layer (webui/ handlers,
the gate, the guard): answers are scripted, documents are given as records. Every use case
the web app reaches (``converse`` with its audit entry and follow-up rules, ``evidence``,
``rate``, ``usage``, ``ensure_index``, ``library``) is ``Assistant``'s own method, run over a
real ``AuditLog`` and a real ``Library`` when a settings object with folders is given.

    fake = FakeAssistant(answers=[Answer(...)], partials=("部分",))
    fake.audit = AuditLog(tmp_path / "audit.sqlite")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from assistant.records import Answer
from assistant.service import Assistant, Viewer
from assistant.status import IndexStatus
from ingest.access import can_read
from ingest.index import DocumentInfo
from ingest.records import Chunk, IngestReport


class FakeAssistant:
    # the use cases under test are the real Assistant's
    _audit = None
    _opening_audit = Assistant._opening_audit
    audit = Assistant.audit
    converse = Assistant.converse
    evidence = Assistant.evidence
    rate = Assistant.rate
    usage = Assistant.usage
    ensure_index = Assistant.ensure_index
    library = Assistant.library

    def __init__(
        self,
        answers: Sequence[Answer | Exception] = (),
        *,
        partials: Sequence[str] = (),
        settings=None,
        documents: Sequence[tuple[DocumentInfo, str]] = (),
        chunks: Sequence[Chunk] = (),
    ) -> None:
        self.answers = list(answers)
        self.partials = tuple(partials)
        self.settings = settings
        self.docs = {info.id: (info, text) for info, text in documents}
        self.chunks = {c.id: c for c in chunks}
        self.calls: list[tuple] = []  # (question, viewer, history, context) per question
        self.ingests = 0
        self.running = False

    def ask_stream(self, question, viewer, history, context_docs) -> Iterator[str | Answer]:
        self.calls.append((question, viewer, list(history), list(context_docs)))
        yield from self.partials
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        yield answer

    def chunk(self, chunk_id: str, viewer: Viewer = Viewer()) -> Chunk | None:
        found = self.chunks.get(chunk_id)
        return found if found is not None and can_read(found.groups, viewer.groups) else None

    def documents(self, viewer: Viewer = Viewer()) -> list[DocumentInfo]:
        infos = (info for info, _ in self.docs.values())
        return sorted(
            (d for d in infos if can_read(d.groups, viewer.groups)), key=lambda d: d.source
        )

    def document(self, doc_id: str, viewer: Viewer = Viewer()) -> tuple[DocumentInfo, str] | None:
        found = self.docs.get(doc_id)
        return found if found is not None and can_read(found[0].groups, viewer.groups) else None

    def has_index(self) -> bool:
        return bool(self.docs) or self.ingests > 0

    def ingest_running(self) -> bool:
        return self.running

    def reingest(self, progress=None, *, full: bool = False) -> IngestReport:
        self.ingests += 1
        if progress is not None:
            progress("embedding", 1, 1)
        return IngestReport(documents_total=len(self.docs), seconds=0.5)

    def status(self, check: bool = False) -> IndexStatus:
        return IndexStatus("", self.has_index(), self.running, documents=len(self.docs))

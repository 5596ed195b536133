"""What the UI and the CLI call: ``search()``, ``ask()``, ``ask_stream()``, ``converse()``
(asks within a conversation and records the audit entry), ``evidence()``, ``rate()``,
``status()``, ``reingest()``, ``ensure_index()``, ``document()``, ``library``.

``Assistant`` is the one orchestrator of these use cases; the loaded index generation it
answers from (swapped whole when a re-ingest publishes a new one) is held by live_index.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.access import can_read
from ingest.embedding import Embedder, embedder_name
from ingest.errors import IndexBusy, PolicyQAError
from ingest.index import DocumentInfo
from ingest.lock import lock_holder
from ingest.pipeline import Progress, run_ingest
from ingest.records import Chunk, IngestReport

from . import answer as answers
from . import conversation as conversing
from .conversation import Conversation, Evidence, Turn
from .library import Library
from .live_index import LiveIndex
from .records import Answer
from .retrieval import Retriever, SearchResult, looks_like_follow_up
from .settings import Settings
from .status import IndexStatus

if TYPE_CHECKING:
    from .audit import AuditLog

MAX_QUESTION = 2000  # characters kept from a question; the rest is dropped with a notice


@dataclass(frozen=True)
class Viewer:
    """Who is asking: None groups = unrestricted (admins, the CLI without --groups)."""

    name: str = "cli"
    groups: frozenset[str] | None = None

    @classmethod
    def admin(cls, name: str = "admin") -> Viewer:
        return cls(name, None)

    @classmethod
    def of(cls, user) -> Viewer:
        """A logged-in user: admins read everything, others unlabelled documents and their
        groups' documents."""
        return cls(user.name, None if user.role == "admin" else frozenset(user.groups))


def clean_question(question: str) -> tuple[str, str]:
    """Strip control characters, trim, cap the length. Returns (question, notice)."""
    text = "".join(ch for ch in str(question) if ch in "\n\t" or ch.isprintable())
    text = " ".join(text.split())
    if len(text) > MAX_QUESTION:
        return text[:MAX_QUESTION], f"问题过长，仅使用前 {MAX_QUESTION} 个字符。"
    return text, ""


class Assistant:
    def __init__(
        self, settings: Settings, *, embedder: Embedder | None = None, chat_model=None
    ) -> None:
        """``embedder`` and ``chat_model`` (an object with ``stream_answer(question, passages)``
        and ``condense(history, question)``, like ``llm.ChatModel``) may be handed in; otherwise
        they are built from ``settings`` when first needed."""
        self.settings = settings
        self._ingesting = threading.Lock()
        self._llm = chat_model
        self.config = settings.retrieval_config()
        self._index = LiveIndex(settings, self.config, embedder)

    # --- index lifecycle -------------------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return self.settings.index_path

    def retriever(self) -> Retriever:
        """The current retriever, (re)loaded when a newer generation has been published."""
        return self._index.retriever()

    def has_index(self) -> bool:
        return self._index.has_index()

    def reingest(
        self,
        progress: Progress | None = None,
        *,
        full: bool = False,
        quiet: bool = True,
        load: bool = True,
    ) -> IngestReport:
        """Run an ingest of the source folder; answers keep coming from the old generation
        until the new one is complete. A second concurrent run is refused (IndexBusy).
        ``quiet=False``: the console progress bars of ``policyqa ingest``; ``load=False``: the
        new generation is not loaded for answering (a one-shot command)."""
        if not self._ingesting.acquire(blocking=False):
            raise IndexBusy("已有导入任务在运行，请稍候 / an ingest is already running")
        try:
            s = self.settings
            options = s.ingest_options(full=full, quiet=quiet)
            emb = self._index.embedder
            if emb is not None and emb.name != embedder_name(s.model):
                emb = None  # the index is being rebuilt with another model
            report = run_ingest(
                s.source_dir, self.index_dir, options, embedder=emb, progress=progress
            )
            if load and self.has_index():
                self.retriever()  # load the new generation before returning
            return report
        finally:
            self._ingesting.release()

    def ingest_running(self) -> bool:
        return self._ingesting.locked() or lock_holder(self.index_dir) is not None

    # --- questions -------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int = 10,
        viewer: Viewer = Viewer(),
        context_docs: Sequence[str] = (),
    ) -> SearchResult:
        question, _ = clean_question(question)
        return self.retriever().search(question, k, viewer.groups, context_docs)

    def ask(
        self,
        question: str,
        viewer: Viewer = Viewer(),
        history: Sequence[tuple[str, str]] = (),
        context_docs: Sequence[str] = (),
    ) -> Answer:
        final = None
        for item in self.ask_stream(question, viewer, history, context_docs):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def ask_stream(
        self,
        question: str,
        viewer: Viewer = Viewer(),
        history: Sequence[tuple[str, str]] = (),
        context_docs: Sequence[str] = (),
    ) -> Iterator[str | Answer]:
        """Yield answer text as it grows (LLM mode), then the final, verified ``Answer``."""
        question, notice = clean_question(question)
        if not question:
            yield Answer("请输入问题。/ Please type a question.", (), True, True, "refusal")
            return
        standalone, llm_notice = self._standalone(question, history)
        result = self.retriever().search(standalone, 8, viewer.groups, context_docs)
        notice = " ".join(n for n in (notice, llm_notice) if n)
        if not result.relevant or not self.llm_enabled or llm_notice:
            yield answers.extractive(question, result, notice)
            return
        yield from self._llm_answer(question, result, notice)

    @property
    def llm_enabled(self) -> bool:
        """Answers are written by a chat model (handed in, or configured in the settings)."""
        return self._llm is not None or self.settings.llm_enabled

    def _chat(self):
        if self._llm is None:
            from .llm import ChatModel

            self._llm = ChatModel(self.settings)
        return self._llm

    def _standalone(self, question: str, history: Sequence[tuple[str, str]]) -> tuple[str, str]:
        """The question to retrieve with. A follow-up ("那事业单位呢？") is condensed by the LLM;
        without one, the previous question is prepended so its topic still retrieves."""
        if not history:
            return question, ""
        if not self.llm_enabled:
            if looks_like_follow_up(question):
                return f"{history[-1][0]} {question}", ""
            return question, ""
        from .llm import LLMError

        try:
            return self._chat().condense(history, question), ""
        except LLMError as exc:
            return question, _llm_notice(exc)

    def _llm_answer(
        self, question: str, result: SearchResult, notice: str
    ) -> Iterator[str | Answer]:
        """The LLM chooses among the top passages (in retrieval order) and may say that none
        answers; its answer is verified, and anything it cannot back falls back to the
        extractive answer."""
        from .llm import NOT_FOUND, LLMError

        given = list(result.hits[:5])  # retrieval order; the decision model's picks are among them
        text = ""
        try:
            for delta in self._chat().stream_answer(question, answers.passages(given)):
                text += delta
                yield text
        except LLMError as exc:
            yield answers.extractive(question, result, _llm_notice(exc))
            return
        cleaned, cited, verified = answers.verify(text, given)
        named = any(h.exact for h in given)  # an article the question names is always quoted
        if not cited and NOT_FOUND in text and not named:  # the model read them: none answers
            yield answers.refusal(question, replace(result, relevant=False, reason="score"), notice)
            return
        if not cited:
            why = "未给出有效引用" if verified else "含有所引条文无法支持的内容"
            fallback = answers.extractive(question, result, notice)
            yield Answer(
                fallback.text,
                fallback.citations,
                False,
                fallback.verified,
                "extractive",
                question,
                notice=f"大模型回答{why}，已改为原文摘录。",
            )
            return
        yield Answer(cleaned, cited, False, verified, "llm", question, notice=notice)

    # --- documents and status --------------------------------------------------------------------

    def document(self, doc_id: str, viewer: Viewer = Viewer()) -> tuple[DocumentInfo, str] | None:
        """A whole document for the source viewer, by id; None when unknown or not readable."""
        gen = self.retriever().gen
        info = gen.documents.get(str(doc_id))
        if info is None or not can_read(info.groups, viewer.groups):
            return None
        text = gen.document_text(info.id)
        return (info, text) if text is not None else None

    def chunk(self, chunk_id: str, viewer: Viewer = Viewer()) -> Chunk | None:
        """One indexed passage by id (the UI's sources panel and viewer); None when unknown
        or not readable by ``viewer``."""
        gen = self.retriever().gen
        found = next((c for c in gen.chunks if c.id == str(chunk_id)), None)
        if found is None or not can_read(found.groups, viewer.groups):
            return None
        return found

    def status(self, check: bool = False) -> IndexStatus:
        """What the index holds; ``check``: verify the current generation's files against the
        checksums in its manifest first (IndexDamaged names the first bad one)."""
        status = self._index.status(check, self.ingest_running)
        if status.llm is None and self._llm is not None:  # a chat model handed in
            status = replace(status, llm=getattr(self._llm, "name", type(self._llm).__name__))
        return status

    @property
    def library(self) -> Library:
        """The source folder's files: add, replace, remove, restore (the only writer)."""
        return Library(self.settings.source_dir, int(self.settings.max_file_mb * 1024 * 1024))

    def documents(self, viewer: Viewer = Viewer()) -> list[DocumentInfo]:
        gen = self.retriever().gen
        return sorted(
            (d for d in gen.documents.values() if can_read(d.groups, viewer.groups)),
            key=lambda d: d.source,
        )

    # --- conversations, the audit log, the first ingest (the web app's use cases) ----------------

    _audit: AuditLog | None = None
    _opening_audit = threading.Lock()

    @property
    def audit(self) -> AuditLog:
        """The audit log: ``data_dir/audit.sqlite`` unless another one was set."""
        if self._audit is None:
            from .audit import AuditLog

            with self._opening_audit:
                if self._audit is None:
                    self._audit = AuditLog(self.settings.data_dir / "audit.sqlite")
        return self._audit

    @audit.setter
    def audit(self, log: AuditLog) -> None:
        self._audit = log

    def converse(
        self,
        question: str,
        viewer: Viewer = Viewer(),
        conversation: Conversation = Conversation(),
        *,
        groups: Sequence[str] | None = None,
    ) -> Iterator[str | Turn]:
        """Ask within a conversation (its history and cited documents): the partial texts,
        then a ``Turn`` holding the answer, its audit entry id and the next conversation."""
        return conversing.converse(self, question, viewer, conversation, groups)

    def evidence(self, answer: Answer, viewer: Viewer = Viewer()) -> Evidence:
        """The cited passages and a refusal's suggested documents, as ``viewer`` may see them."""
        return conversing.evidence(self, answer, viewer)

    def rate(self, entry_id: str, viewer: Viewer, rating: int, comment: str = "") -> None:
        """Rate an answer (+1 / -1, comment up to 2,000 characters): one's own, or any answer
        for an unrestricted viewer (an admin)."""
        entry = self.audit.get(str(entry_id))
        if entry is None or (entry.user != viewer.name and viewer.groups is not None):
            raise PolicyQAError("没有这条问答记录 / unknown entry")
        self.audit.feedback(str(entry_id), viewer.name, int(rating), str(comment or "")[:2000])

    def usage(self, days: int = 30) -> dict:
        """The audit log's usage numbers (``AuditLog.usage``) plus ``never_cited``: the titles
        of indexed documents no answer in the period cited."""
        stats = self.audit.usage(int(days or 30))
        titles = (
            sorted({d.title for d in self.documents(Viewer.admin())}) if self.has_index() else []
        )
        return {**stats, "never_cited": [t for t in titles if t not in stats["cited_titles"]]}

    def ensure_index(self, progress: Progress | None = None) -> IngestReport | None:
        """Ingest the source folder when there is no index yet (the first start of the web app);
        None when one was already there."""
        return None if self.has_index() else self.reingest(progress=progress)


def _llm_notice(exc: Exception) -> str:
    return f"大模型暂不可用，以下为原文摘录。（{exc}）"


__all__ = ["Assistant", "Viewer", "PolicyQAError"]

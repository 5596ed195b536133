"""A conversation's state between questions and the rules for a follow-up, as records.

    Conversation   history (question, answer) pairs, the documents the last answer cited (a
                   follow-up searches them first) and the notices already shown
    Turn           one asked question: the final Answer, its audit entry id, whether its notice
                   is shown, and the conversation after it
    Evidence       what a sources panel shows next to an answer: the cited passages and, on a
                   refusal, the suggested documents with their ids
    Notice         the kind of an answer's notice, a typed code (the web app renders the text)

``Assistant.converse`` yields the partial texts, then a ``Turn``; the web app keeps
``Conversation.to_json()`` in its session state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ingest.errors import PolicyQAError
from ingest.records import Chunk

from .records import Answer

if TYPE_CHECKING:
    from .service import Viewer


class Notice(StrEnum):
    """What an answer's notice says, by kind; ``shown_once`` kinds appear once per conversation."""

    NONE = "none"
    LLM_UNAVAILABLE = "llm_unavailable"  # 大模型暂不可用，以下为原文摘录。（…）
    LLM_UNCITED = "llm_uncited"  # 大模型回答未给出有效引用，已改为原文摘录。
    QUESTION_TRIMMED = "question_trimmed"  # 问题过长，仅使用前 N 个字符。
    OTHER = "other"

    @classmethod
    def of(cls, answer: Answer) -> Notice:
        text = answer.notice or ""
        if not text:
            return cls.NONE
        if text.startswith("大模型暂不可用"):
            return cls.LLM_UNAVAILABLE
        if text.startswith("大模型"):
            return cls.LLM_UNCITED
        if text.startswith("问题过长"):
            return cls.QUESTION_TRIMMED
        return cls.OTHER


def notice_key(answer: Answer) -> str:
    """The key a notice is shown once under: every LLM notice shares one ("the LLM is not
    answering" is said once per conversation); any other notice is keyed by its text."""
    kind = Notice.of(answer)
    if kind in (Notice.LLM_UNAVAILABLE, Notice.LLM_UNCITED):
        return "llm"
    return answer.notice


@dataclass(frozen=True)
class Conversation:
    history: tuple[tuple[str, str], ...] = ()
    context: tuple[str, ...] = ()  # doc ids the last answer cited, searched first next time
    notices: tuple[str, ...] = ()  # notice keys already shown

    def shows_notice(self, answer: Answer) -> bool:
        """Whether ``answer``'s notice is new to this conversation."""
        return bool(answer.notice) and notice_key(answer) not in self.notices

    def after(self, question: str, answer: Answer) -> Conversation:
        """The conversation once ``answer`` has been given to ``question``."""
        shown = (notice_key(answer),) if self.shows_notice(answer) else ()
        cited = tuple(dict.fromkeys(c.doc_id for c in answer.citations if c.doc_id))
        return replace(
            self,
            history=(*self.history, (question, answer.text)),
            context=cited,
            notices=self.notices + shown,
        )

    def to_json(self) -> dict:
        return {
            "history": [list(pair) for pair in self.history],
            "context": list(self.context),
            "notices": list(self.notices),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> Conversation:
        data = data or {}
        return cls(
            tuple((str(q), str(a)) for q, a in data.get("history") or ()),
            tuple(str(d) for d in data.get("context") or ()),
            tuple(str(n) for n in data.get("notices") or ()),
        )


@dataclass(frozen=True)
class Turn:
    answer: Answer
    entry_id: str  # the audit log entry (rate it with Assistant.rate)
    show_notice: bool  # the answer's notice is new to the conversation
    conversation: Conversation  # the conversation after this turn


@dataclass(frozen=True)
class Evidence:
    passages: dict[str, Chunk | None] = field(default_factory=dict)  # chunk id -> passage
    suggestions: tuple[tuple[str, str], ...] = ()  # (title, doc id or "") on a refusal


# --- the use cases behind Assistant.converse / .evidence (any object with ask_stream, audit,
# chunk and documents: the Assistant, or a test's fake) --------------------------------------


def converse(
    asker: Any,
    question: str,
    viewer: Viewer,
    conversation: Conversation,
    groups: Sequence[str] | None = None,
) -> Iterator[str | Turn]:
    """Ask within ``conversation``: the partial texts, then the ``Turn``. The question and its
    answer are recorded in the audit log under ``viewer.name`` and ``groups`` (default: the
    viewer's groups), with the time taken."""
    started = time.monotonic()
    final: Answer | None = None
    for item in asker.ask_stream(question, viewer, conversation.history, conversation.context):
        if isinstance(item, Answer):
            final = item
        else:
            yield item
    if final is None:
        raise PolicyQAError("没有得到回答 / no answer was produced")
    latency = (time.monotonic() - started) * 1000.0
    members = tuple(viewer.groups or ()) if groups is None else tuple(groups)
    entry = asker.audit.record(viewer.name, question, final, latency, groups=members)
    yield Turn(final, entry, conversation.shows_notice(final), conversation.after(question, final))


def evidence(reader: Any, answer: Answer, viewer: Viewer) -> Evidence:
    """The passages ``answer`` cites (None where gone or not readable by ``viewer``) and, on a
    refusal, its suggested titles with the ids of the documents ``viewer`` may open."""
    passages = {c.chunk_id: reader.chunk(c.chunk_id, viewer) for c in answer.citations}
    if not answer.suggestions:
        return Evidence(passages)
    by_title = {d.title: d.id for d in reader.documents(viewer)}
    return Evidence(passages, tuple((t, by_title.get(t, "")) for t in answer.suggestions))

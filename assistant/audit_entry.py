"""The audit log's records: one answered question (``AuditEntry``), the documents it cited
(``CitedSource``) and the ratings given to it (``Rating``). Frozen dataclasses, built from the
database rows in one place; ``to_json`` gives the JSON lines of ``policyqa audit export``."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Literal

AnswerMode = Literal["extractive", "llm", "refusal"]


@dataclass(frozen=True)
class CitedSource:
    source: str
    title: str
    articles: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict) -> CitedSource:
        return cls(data.get("source", ""), data.get("title", ""), tuple(data.get("articles", ())))

    def to_json(self) -> dict:
        return {"source": self.source, "title": self.title, "articles": list(self.articles)}


@dataclass(frozen=True)
class Rating:
    """One rating as given (every one is kept; the latest per entry is the entry's rating)."""

    time: str
    user: str
    rating: int  # +1 | -1
    comment: str

    def to_json(self) -> dict:
        return {
            "time": self.time,
            "user": self.user,
            "rating": self.rating,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class AuditEntry:
    """One answered question with its latest rating (``rating`` None when unrated)."""

    id: str
    time: str  # ISO 8601, UTC, milliseconds
    user: str
    groups: tuple[str, ...]
    question: str
    mode: AnswerMode
    answer: str
    refused: bool
    verified: bool
    sources: tuple[CitedSource, ...]
    latency_ms: float
    rating: int | None = None
    comment: str = ""
    rated_by: str | None = None
    rated_at: str | None = None
    feedback: tuple[Rating, ...] | None = None  # the full history: only in exports

    @classmethod
    def from_row(cls, row: sqlite3.Row, feedback: tuple[Rating, ...] | None = None) -> AuditEntry:
        """An ``entries`` row joined with its latest ``feedback`` row (``_ENTRY_QUERY``)."""
        return cls(
            id=row["id"],
            time=row["time"],
            user=row["user"],
            groups=tuple(json.loads(row["groups"] or "[]")),
            question=row["question"],
            mode=row["mode"],
            answer=row["answer"],
            refused=bool(row["refused"]),
            verified=bool(row["verified"]),
            sources=tuple(CitedSource.from_json(s) for s in json.loads(row["sources"] or "[]")),
            latency_ms=row["latency_ms"],
            rating=row["rating"],
            comment=row["comment"] or "",
            rated_by=row["rated_by"],
            rated_at=row["rated_at"],
            feedback=feedback,
        )

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "time": self.time,
            "user": self.user,
            "groups": list(self.groups),
            "question": self.question,
            "mode": self.mode,
            "answer": self.answer,
            "refused": self.refused,
            "verified": self.verified,
            "sources": [s.to_json() for s in self.sources],
            "latency_ms": self.latency_ms,
            "rating": self.rating,
            "comment": self.comment,
            "rated_by": self.rated_by,
            "rated_at": self.rated_at,
        }
        if self.feedback is not None:
            out["feedback"] = [f.to_json() for f in self.feedback]
        return out

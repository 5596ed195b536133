"""Append-only log of questions and answers, with staff feedback: ``data_dir / "audit.sqlite"``.

Tables: ``entries`` (one row per answered question), ``cited`` (one row per document an entry
cited, for the dashboard) and ``feedback`` (every rating given; the latest per entry wins in
views). Triggers make ``entries``, ``cited`` and ``feedback`` refuse UPDATE and DELETE, and this
module offers no way to change or remove a row.

Thread-safe: one shared connection (WAL mode, busy timeout), used under a lock, so writes from
one process are serialised; ``export`` reads through a connection of its own. API keys are
never passed in (``record`` takes no settings), and text that looks like one (``sk-...``,
``Bearer ...``) is masked by ``redact`` before storing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest.errors import PolicyQAError

from .audit_entry import AuditEntry, CitedSource, Rating
from .records import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '[]',
    question TEXT NOT NULL,
    mode TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_time ON entries(time);
CREATE TABLE IF NOT EXISTS cited (
    entry_seq INTEGER NOT NULL REFERENCES entries(seq),
    time TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cited_time ON cited(time);
CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    entry_id TEXT NOT NULL REFERENCES entries(id),
    user TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_entry ON feedback(entry_id, seq);
"""
_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op} ON {table} BEGIN "
    "SELECT RAISE(ABORT, 'audit log is append-only'); END;"
)
_TABLES = ("entries", "cited", "feedback")

# The latest feedback row of each entry, joined onto entries as f.*
_ENTRY_QUERY = """
SELECT e.id, e.time, e.user, e.groups, e.question, e.mode, e.answer, e.refused, e.verified,
       e.sources, e.latency_ms, f.rating, f.comment, f.user AS rated_by, f.time AS rated_at
FROM entries e
LEFT JOIN (SELECT entry_id, MAX(seq) AS seq FROM feedback GROUP BY entry_id) lf
       ON lf.entry_id = e.id
LEFT JOIN feedback f ON f.seq = lf.seq
"""

_SECRETS = (
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}"), "sk-***"),
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=\-]{8,}", re.I), r"\1 ***"),
    (
        re.compile(
            r"\b((?:api[_-]?key|access[_-]?token|secret[_-]?key)[\"']?\s*[:=：]\s*[\"']?)"
            r"[A-Za-z0-9._~+/=\-]{8,}",
            re.I,
        ),
        r"\1***",
    ),
)


def redact(text: str) -> str:
    """Mask what looks like an API key: ``sk-...`` keys, ``Bearer`` tokens, ``api_key=...``."""
    text = str(text)
    for pattern, mask in _SECRETS:
        text = pattern.sub(mask, text)
    return text


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _since_key(since: str | date | datetime | None) -> str | None:
    """``YYYY-MM-DD`` (UTC day start) or an ISO datetime -> a string comparable with ``time``."""
    if since is None or since == "":
        return None
    try:
        if isinstance(since, datetime):
            moment = since
        elif isinstance(since, date):
            moment = datetime(since.year, since.month, since.day)
        elif len(str(since).strip()) == 10:
            day = date.fromisoformat(str(since).strip())
            moment = datetime(day.year, day.month, day.day)
        else:
            moment = datetime.fromisoformat(str(since).strip())
    except ValueError:
        raise PolicyQAError(
            f"日期格式应为 YYYY-MM-DD：{since!r} / date must look like YYYY-MM-DD"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _iso(moment)


def _sources(answer: Answer) -> list[CitedSource]:
    return [CitedSource(c.source, c.title, tuple(c.articles)) for c in answer.citations]


class AuditLog:
    """The question log. Safe to share between threads: one connection, used under a lock."""

    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None):
        """``clock`` (tests): returns the current time, an aware datetime; default UTC now."""
        self.path = Path(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # questions are sensitive: owner-only (WAL/SHM files follow)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._con: sqlite3.Connection | None = None
        with self._use() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            for table in _TABLES:
                for op in ("UPDATE", "DELETE"):
                    con.execute(_APPEND_ONLY.format(table=table, op=op))

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _open(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA busy_timeout=30000")
            # WAL + NORMAL: safe from corruption and from app crashes; a power cut may lose the
            # last few entries. FULL would cost an fsync on every question.
            con.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise PolicyQAError(
                f"无法打开审计日志 {self.path}：{exc} / cannot open the audit log"
            ) from exc
        return con

    @contextlib.contextmanager
    def _use(self) -> Iterator[sqlite3.Connection]:
        """The shared connection, held under the lock. It stays open between calls: closing the
        last connection checkpoints the WAL, which would cost tens of ms per question."""
        with self._lock:
            if self._con is None:
                self._con = self._open()
            yield self._con

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT) on the shared connection."""
        with self._use() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # --- writing ---

    def record(
        self,
        user: str,
        question: str,
        answer: Answer,
        latency_ms: float,
        groups: tuple[str, ...] = (),
    ) -> str:
        """Log one answered question; returns its entry id (uuid4 hex)."""
        entry_id = uuid.uuid4().hex
        when = _iso(self._clock())
        sources = _sources(answer)
        with self._write() as con:
            cur = con.execute(
                "INSERT INTO entries (id, time, user, groups, question, mode, answer, refused,"
                " verified, sources, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry_id,
                    when,
                    str(user),
                    json.dumps(sorted({str(g) for g in groups}), ensure_ascii=False),
                    redact(question),
                    str(answer.mode),
                    redact(answer.text),
                    int(bool(answer.refused)),
                    int(bool(answer.verified)),
                    json.dumps([s.to_json() for s in sources], ensure_ascii=False),
                    float(latency_ms),
                ),
            )
            seq = cur.lastrowid
            documents = {(s.source, s.title) for s in sources}
            con.executemany(
                "INSERT INTO cited (entry_seq, time, source, title) VALUES (?, ?, ?, ?)",
                [(seq, when, source, title) for source, title in sorted(documents)],
            )
        return entry_id

    def feedback(self, entry_id: str, user: str, rating: int, comment: str = "") -> None:
        """Rate an answer +1 / -1. Every rating is kept; the latest one per entry is shown."""
        if isinstance(rating, bool) or rating not in (1, -1):
            raise PolicyQAError(f"评分只能是 +1 或 -1，收到 {rating!r} / rating must be +1 or -1")
        with self._write() as con:
            if (
                con.execute("SELECT 1 FROM entries WHERE id = ?", (str(entry_id),)).fetchone()
                is None
            ):
                raise PolicyQAError(
                    f"没有这条问答记录：{entry_id} / unknown audit entry: {entry_id}"
                )
            con.execute(
                "INSERT INTO feedback (time, entry_id, user, rating, comment) VALUES (?, ?, ?, ?, ?)",
                (_iso(self._clock()), str(entry_id), str(user), int(rating), redact(comment or "")),
            )

    # --- reading ---

    def get(self, entry_id: str) -> AuditEntry | None:
        with self._use() as con:
            row = con.execute(_ENTRY_QUERY + " WHERE e.id = ?", (str(entry_id),)).fetchone()
        return AuditEntry.from_row(row) if row is not None else None

    def recent(
        self,
        limit: int = 200,
        only_negative: bool = False,
        only_refused: bool = False,
        user: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, each with its latest feedback (``rating`` None when unrated)."""
        where, args = [], []
        if only_negative:
            where.append("f.rating < 0")
        if only_refused:
            where.append("e.refused = 1")
        if user is not None:
            where.append("e.user = ?")
            args.append(str(user))
        sql = _ENTRY_QUERY + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY e.seq DESC LIMIT ?"
        args.append(max(0, int(limit)))
        with self._use() as con:
            return [AuditEntry.from_row(r) for r in con.execute(sql, args).fetchall()]

    def export(self, since: str | None = None) -> Iterator[AuditEntry]:
        """Every entry from ``since`` (``YYYY-MM-DD``, UTC) on, oldest first.

        Each has the latest ``rating``/``comment`` and the full ``feedback`` history
        (``to_json``: one line of ``policyqa audit export``).
        """
        key = _since_key(since)  # raises before the first next() would
        return self._export(key)

    def _export(self, key: str | None) -> Iterator[AuditEntry]:
        sql = _ENTRY_QUERY + (" WHERE e.time >= ?" if key else "") + " ORDER BY e.seq"
        con = self._open()  # its own connection: the caller may hold the iterator a long time
        try:
            con.execute("BEGIN")  # one snapshot for entries and their feedback
            rows = con.execute(sql, (key,) if key else ())
            while batch := rows.fetchmany(500):
                ids = [r["id"] for r in batch]
                history: dict[str, list[Rating]] = {i: [] for i in ids}
                marks = ",".join("?" * len(ids))
                for f in con.execute(
                    f"SELECT entry_id, time, user, rating, comment FROM feedback"
                    f" WHERE entry_id IN ({marks}) ORDER BY seq",
                    ids,
                ):
                    history[f["entry_id"]].append(
                        Rating(f["time"], f["user"], f["rating"], f["comment"])
                    )
                for r in batch:
                    yield AuditEntry.from_row(r, tuple(history[r["id"]]))
        finally:
            con.close()  # ends the read transaction

    def usage(self, days: int = 30, top: int = 20) -> dict:
        """Dashboard numbers for the last ``days`` UTC days (today included).

        ``per_day``: one item per day, oldest first, zero-filled: ``{day, questions, refused,
        negative, refusal_rate, negative_rate}`` (rates are fractions of that day's questions;
        ``negative`` counts entries whose latest rating is -1). ``top_documents``: up to ``top``
        ``{title, citations}``, most cited first, ``citations`` = answers that cited the document
        in the window. ``cited_titles``: every title ever cited (all time).
        """
        days = max(1, int(days))
        today = self._clock().astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        key = _since_key(first)
        with self._use() as con:
            counts = {
                r["day"]: r
                for r in con.execute(
                    "SELECT substr(e.time, 1, 10) AS day, COUNT(*) AS questions,"
                    " SUM(e.refused) AS refused,"
                    " SUM(CASE WHEN f.rating < 0 THEN 1 ELSE 0 END) AS negative"
                    " FROM entries e"
                    " LEFT JOIN (SELECT entry_id, MAX(seq) AS seq FROM feedback"
                    "            GROUP BY entry_id) lf ON lf.entry_id = e.id"
                    " LEFT JOIN feedback f ON f.seq = lf.seq"
                    " WHERE e.time >= ? GROUP BY day",
                    (key,),
                )
            }
            top_rows = con.execute(
                "SELECT title, COUNT(DISTINCT entry_seq) AS n FROM cited WHERE time >= ?"
                " GROUP BY title ORDER BY n DESC, title LIMIT ?",
                (key, max(0, int(top))),
            ).fetchall()
            cited = {r["title"] for r in con.execute("SELECT DISTINCT title FROM cited")}
        per_day = []
        for i in range(days):
            day = (first + timedelta(days=i)).isoformat()
            row = counts.get(day)
            n = row["questions"] if row else 0
            refused = (row["refused"] or 0) if row else 0
            negative = (row["negative"] or 0) if row else 0
            per_day.append(
                {
                    "day": day,
                    "questions": n,
                    "refused": refused,
                    "negative": negative,
                    "refusal_rate": refused / n if n else 0.0,
                    "negative_rate": negative / n if n else 0.0,
                }
            )
        return {
            "days": days,
            "questions": sum(d["questions"] for d in per_day),
            "per_day": per_day,
            "top_documents": [{"title": r["title"], "citations": r["n"]} for r in top_rows],
            "cited_titles": cited,
        }

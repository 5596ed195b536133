"""The audit log: append-only SQLite question log with feedback, redaction and usage numbers."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.audit import AuditLog, redact
from assistant.records import Answer, Citation
from ingest.errors import PolicyQAError


def _citation(n: int, title: str, source: str | None = None, articles=("第三条",)) -> Citation:
    return Citation(
        n=n,
        source=source or f"{title}.md",
        title=title,
        heading="第一章",
        articles=tuple(articles),
        pages=(),
        quote="职工连续工作1年以上的，享受带薪年休假。",
    )


def _answer(text="职工累计工作满1年不满10年的，年休假5天。[1]", titles=("职工带薪年休假条例",)):
    cites = tuple(_citation(i + 1, t) for i, t in enumerate(titles))
    return Answer(text=text, citations=cites, refused=False, verified=True, mode="extractive")


def _refusal(text="资料中没有找到相关规定。"):
    return Answer(text=text, citations=(), refused=True, verified=False, mode="refusal")


class Clock:
    """A settable UTC clock for the log."""

    def __init__(self, when: datetime):
        self.when = when

    def __call__(self) -> datetime:
        return self.when


@pytest.fixture
def log(tmp_path):
    return AuditLog(tmp_path / "data" / "audit.sqlite")


def test_record_and_recent(log):
    entry = log.record("张三", "年假有几天？", _answer(), 123.4, groups=("hr",))
    assert len(entry) == 32 and int(entry, 16) >= 0
    [row] = log.recent()
    assert row.id == entry
    assert row.user == "张三"
    assert row.question == "年假有几天？"
    assert row.answer.startswith("职工累计工作")
    assert row.mode == "extractive"
    assert row.refused is False and row.verified is True
    assert row.to_json()["sources"] == [
        {"source": "职工带薪年休假条例.md", "title": "职工带薪年休假条例", "articles": ["第三条"]}
    ]
    assert row.latency_ms == pytest.approx(123.4)
    assert row.groups == ("hr",) and row.to_json()["groups"] == ["hr"]
    assert row.rating is None and row.comment == ""
    parsed = datetime.fromisoformat(row.time)
    assert parsed.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - parsed) < timedelta(minutes=1)


def test_file_is_wal_and_owner_only(log):
    log.record("a", "q", _answer(), 1.0)
    with sqlite3.connect(log.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_recent_is_newest_first_with_limit_and_filters(log):
    ids = [log.record("alice", f"问题{i}", _answer(), 10.0) for i in range(3)]
    refused = log.record("bob", "食堂几点开门？", _refusal(), 5.0)
    assert [r.id for r in log.recent()] == [refused, *reversed(ids)]
    assert [r.id for r in log.recent(limit=2)] == [refused, ids[2]]
    assert [r.id for r in log.recent(only_refused=True)] == [refused]
    assert [r.id for r in log.recent(user="bob")] == [refused]
    assert [r.id for r in log.recent(user="alice", only_refused=True)] == []
    assert log.recent(only_negative=True) == []

    log.feedback(ids[0], "alice", -1, "引用的条款不对")
    log.feedback(ids[1], "alice", +1)
    negative = log.recent(only_negative=True)
    assert [r.id for r in negative] == [ids[0]]
    assert negative[0].rating == -1 and negative[0].comment == "引用的条款不对"


def test_latest_feedback_wins(log):
    entry = log.record("alice", "报销时限？", _answer(), 10.0)
    log.feedback(entry, "alice", -1, "不对")
    log.feedback(entry, "alice", +1, "再看一遍，其实是对的")
    [row] = log.recent()
    assert row.rating == 1 and row.comment == "再看一遍，其实是对的"
    assert log.recent(only_negative=True) == []
    log.feedback(entry, "bob", -1)
    [row] = log.recent(only_negative=True)
    assert row.rating == -1 and row.comment == "" and row.rated_by == "bob"


def test_feedback_errors(log):
    entry = log.record("alice", "q", _answer(), 1.0)
    with pytest.raises(PolicyQAError, match="unknown audit entry"):
        log.feedback("0" * 32, "alice", 1)
    for bad in (0, 2, -2, True):
        with pytest.raises(PolicyQAError, match="rating"):
            log.feedback(entry, "alice", bad)
    assert log.recent()[0].rating is None


def test_export_since_date_oldest_first_with_feedback(tmp_path):
    clock = Clock(datetime(2024, 5, 30, 23, 59, tzinfo=UTC))
    log = AuditLog(tmp_path / "audit.sqlite", clock=clock)
    old = log.record("a", "旧问题", _answer(), 1.0)
    clock.when = datetime(2024, 6, 1, 0, 0, 1, tzinfo=UTC)
    first = log.record("a", "六月问题一", _answer(), 1.0)
    clock.when = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    second = log.record("b", "六月问题二", _refusal(), 1.0)
    log.feedback(first, "a", -1, "太笼统")
    log.feedback(first, "a", 1, "好了")

    assert [e.id for e in log.export(None)] == [old, first, second]
    rows = list(log.export("2024-06-01"))
    assert [e.id for e in rows] == [first, second]
    assert rows[0].rating == 1 and rows[0].comment == "好了"
    assert [f.rating for f in rows[0].feedback] == [-1, 1]
    assert rows[1].feedback == () and rows[1].refused is True
    assert rows[1].to_json()["feedback"] == []
    exported = rows[0].to_json()  # the shape of `policyqa audit export` lines
    assert list(exported) == [
        *("id", "time", "user", "groups", "question", "mode", "answer", "refused", "verified"),
        *("sources", "latency_ms", "rating", "comment", "rated_by", "rated_at", "feedback"),
    ]
    assert set(exported["feedback"][0]) == {"time", "user", "rating", "comment"}
    assert exported["feedback"][0]["comment"] == "太笼统" and exported["rated_by"] == "a"
    assert [e.id for e in log.export("2024-06-02")] == [second]
    assert list(log.export("2024-07-01")) == []
    # every row is JSON-ready (policyqa audit export > file.jsonl)
    lines = [json.dumps(e.to_json(), ensure_ascii=False) for e in log.export(None)]
    assert json.loads(lines[1])["question"] == "六月问题一"
    with pytest.raises(PolicyQAError, match="YYYY-MM-DD"):
        log.export("June 1st")


def test_usage_per_day_rates_and_documents(tmp_path):
    today = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
    clock = Clock(today - timedelta(days=40))
    log = AuditLog(tmp_path / "audit.sqlite", clock=clock)
    log.record("a", "很久以前", _answer(titles=("旧制度",)), 1.0)  # outside the window

    clock.when = today - timedelta(days=1)
    a = log.record("a", "q1", _answer(titles=("年休假条例", "考勤制度")), 1.0)
    log.record("a", "q2", _answer(titles=("年休假条例",)), 1.0)
    log.record("a", "q3", _refusal(), 1.0)
    d = log.record("a", "q4", _refusal(), 1.0)
    log.feedback(a, "a", -1)
    log.feedback(d, "a", -1)
    log.feedback(d, "a", 1)  # latest wins: not negative

    clock.when = today
    e = log.record("b", "q5", _answer(titles=("年休假条例", "年休假条例")), 1.0)  # cited twice
    log.feedback(e, "b", -1)

    usage = log.usage(days=7)
    per_day = usage["per_day"]
    assert [p["day"] for p in per_day] == [f"2024-06-{n:02d}" for n in range(4, 11)]
    assert per_day[0] == {
        "day": "2024-06-04",
        "questions": 0,
        "refused": 0,
        "negative": 0,
        "refusal_rate": 0.0,
        "negative_rate": 0.0,
    }
    yesterday, now = per_day[-2], per_day[-1]
    assert yesterday["questions"] == 4
    assert yesterday["refusal_rate"] == pytest.approx(0.5)
    assert yesterday["negative_rate"] == pytest.approx(0.25)
    assert now["questions"] == 1 and now["refusal_rate"] == 0.0 and now["negative_rate"] == 1.0
    assert usage["questions"] == 5
    # answers citing each document in the window (one answer citing a title twice counts once)
    assert usage["top_documents"] == [
        {"title": "年休假条例", "citations": 3},
        {"title": "考勤制度", "citations": 1},
    ]
    assert usage["cited_titles"] == {"旧制度", "年休假条例", "考勤制度"}
    assert len(log.usage(days=60)["per_day"]) == 60
    assert {"title": "旧制度", "citations": 1} in log.usage(days=60)["top_documents"]


def test_usage_of_an_empty_log(log):
    usage = log.usage()
    assert len(usage["per_day"]) == 30
    assert usage["top_documents"] == [] and usage["cited_titles"] == set()


def test_redact_masks_api_keys():
    key = "sk-" + "A1b2C3d4E5f6G7h8J9k0"
    assert redact(f"我的 key 是 {key}，能用吗") == "我的 key 是 sk-***，能用吗"
    assert redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def") == (
        "Authorization: Bearer ***"
    )
    assert redact("api_key=abcdef1234567890") == "api_key=***"
    assert redact("sk-proj-abcdefghijklmnopqrstuv") == "sk-***"
    # ordinary text is left alone
    for text in ("task-abcdefghijklmnopqrstu", "sk-short", "年假有几天？", "Bearer of news"):
        assert redact(text) == text


def test_record_redacts_question_answer_and_comment(log):
    key = "sk-" + "Zz9" * 8
    entry = log.record("alice", f"用 {key} 调接口报错", _answer(f"请不要分享 {key}"), 1.0)
    log.feedback(entry, "alice", -1, f"key {key}")
    [row] = log.recent()
    assert key not in row.question and "sk-***" in row.question
    assert key not in row.answer
    assert key not in row.comment
    log_bytes = b"".join(p.read_bytes() for p in log.path.parent.glob("audit.sqlite*"))
    assert key.encode() not in log_bytes


def test_concurrent_record_from_threads_loses_nothing(log):
    errors: list[BaseException] = []
    other = AuditLog(log.path)  # a second connection, as another process would have

    def worker(n: int) -> None:
        target = log if n % 2 else other
        try:
            for i in range(25):
                target.record(f"user{n}", f"问题 {n}-{i}", _answer(), float(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = log.recent(limit=1000)
    assert len(rows) == 200 and len({r.id for r in rows}) == 200
    assert {r.question for r in rows} == {f"问题 {n}-{i}" for n in range(8) for i in range(25)}
    assert len(list(other.export(None))) == 200
    other.close()
    log.close()
    assert len(log.recent(limit=1000)) == 200  # reopens after close


def test_log_is_append_only(log):
    entry = log.record("alice", "q", _answer(), 1.0)
    log.feedback(entry, "alice", 1)
    public = {name for name in dir(log) if not name.startswith("_")}
    assert public == {"path", "record", "feedback", "get", "recent", "export", "usage", "close"}
    # even a direct connection cannot rewrite history
    with sqlite3.connect(log.path) as con:
        for sql in (
            "UPDATE entries SET answer = 'changed'",
            "DELETE FROM entries",
            "UPDATE feedback SET rating = -1",
            "DELETE FROM feedback",
            "DELETE FROM cited",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    assert log.get(entry).answer == _answer().text
    assert log.get(entry).rating == 1
    assert log.get("missing") is None

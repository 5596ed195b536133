"""assistant/limits.py and assistant/sessions.py: login back-off, per-user question limits and
session revocation, with a controlled clock."""

from __future__ import annotations

import pytest

from assistant.limits import BackoffPolicy, LoginBackoff, QuestionLimiter, QuestionPolicy
from assistant.sessions import SessionBook


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_backoff_is_free_then_exponential_per_name():
    clock = Clock()
    backoff = LoginBackoff(BackoffPolicy(free=5, base_s=2, max_s=60), clock=clock)
    for _ in range(4):
        backoff.failed("staff1", "10.0.0.9")
        assert backoff.retry_after("staff1", "10.0.0.9") == 0
    waits = []
    for _ in range(6):
        backoff.failed("staff1", "10.0.0.9")
        waits.append(backoff.retry_after("staff1", "10.0.0.9"))
    assert waits == [2, 4, 8, 16, 32, 60]  # doubling, capped
    assert backoff.retry_after("staff2", "10.0.0.8") == 0  # other names, other addresses
    clock.now += 61
    assert backoff.retry_after("staff1", "10.0.0.9") == 0
    backoff.succeeded("staff1")
    backoff.failed("staff1", "10.0.0.9")
    assert backoff.retry_after("staff1") == 0  # a success starts the name again


def test_login_backoff_per_address_covers_guessed_names():
    clock = Clock()
    backoff = LoginBackoff(BackoffPolicy(free=5), address_factor=4, clock=clock)
    for i in range(20):
        backoff.failed(f"guess{i}", "10.0.0.66")
    assert backoff.retry_after(None, "10.0.0.66") > 0  # 20 names, one address: locked
    assert backoff.retry_after("guess0", "10.0.0.1") == 0
    backoff.succeeded("someone", "10.0.0.66")  # a valid account does not clear the address
    assert backoff.retry_after(None, "10.0.0.66") > 0
    clock.now += BackoffPolicy().forget_s + 1
    assert backoff.retry_after(None, "10.0.0.66") == 0


def test_login_backoff_memory_is_bounded():
    backoff = LoginBackoff(max_keys=100)
    for i in range(1000):
        backoff.failed(f"n{i}", f"a{i}")
    assert len(backoff._records) <= 100


def test_question_limiter_in_flight_and_per_minute():
    clock = Clock()
    limiter = QuestionLimiter(QuestionPolicy(per_minute=5, in_flight=2), clock=clock)
    assert limiter.admit("a", in_flight=2).kind == "in_flight"
    admitted = [limiter.admit("a", in_flight=0) is None for _ in range(8)]
    assert admitted == [True] * 5 + [False] * 3
    refused = limiter.admit("a")
    assert refused.kind == "per_minute" and "每分钟最多 5 个" in refused.message()
    assert limiter.admit("b") is None  # other users are not affected
    clock.now += 60
    assert limiter.admit("a") is None


def test_question_limiter_zero_means_unlimited():
    limiter = QuestionLimiter(QuestionPolicy(per_minute=0, in_flight=0))
    assert all(limiter.admit("a", in_flight=99) is None for _ in range(500))


@pytest.fixture
def epochs():
    return {"staff1": 0, "staff2": 0}


def test_sessions_end_on_password_change_removal_and_lifetime(epochs):
    clock = Clock()
    book = SessionBook(3600, epochs.get, clock=clock)
    book.opened("t1", "staff1")
    book.opened("t2", "staff2")
    assert book.valid("t1", "staff1") and book.valid("t2", "staff2")
    assert not book.valid("t1", "staff2")  # a token belongs to its user
    assert not book.valid("unknown", "staff1")  # never issued here: not valid
    epochs["staff1"] += 1  # users passwd
    assert not book.valid("t1", "staff1")
    book.opened("t3", "staff1")
    assert book.valid("t3", "staff1")
    del epochs["staff2"]  # users remove
    assert not book.valid("t2", "staff2")
    clock.now += 3601
    assert not book.valid("t3", "staff1")


def test_user_store_counts_password_changes(tmp_path):
    from assistant.users import UserStore

    users = UserStore(tmp_path / "users.json")
    users.add("staff1", "staffpass1")
    assert users.session_epoch("staff1") == 0
    users.set_password("staff1", "staffpass2")
    assert users.session_epoch("staff1") == 1
    users.remove("staff1")
    assert users.session_epoch("staff1") is None

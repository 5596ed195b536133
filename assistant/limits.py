"""Fair use of one shared server: login back-off and per-user question limits.

    LoginBackoff      failures per user name and per address -> how long to refuse further tries
    QuestionLimiter   questions per user per minute and in flight -> admitted or a polite refusal

Both are plain, thread-safe bookkeeping with an injectable clock; the web app wires them to its
login route and to the question events (``webui/guard.py``, ``webui/gate.py``). Nothing here hashes a
password or talks HTTP.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Clock = Callable[[], float]


@dataclass(frozen=True)
class BackoffPolicy:
    """``free`` failures cost nothing; the next ones lock the key for ``base_s`` seconds, doubling
    with every further failure up to ``max_s``. A key with no failure for ``forget_s`` seconds
    starts again from zero."""

    free: int = 5
    base_s: float = 2.0
    max_s: float = 300.0
    forget_s: float = 900.0

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2 ** (failures - self.free))


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0


class LoginBackoff:
    """Exponential back-off after failed logins, kept per user name and per client address.

    The address policy is more lenient (``address_factor`` times the free failures): behind a
    reverse proxy every colleague shares one address. Keys are held in a bounded LRU so a flood
    of invented names cannot grow memory without limit.
    """

    def __init__(
        self,
        policy: BackoffPolicy = BackoffPolicy(),
        *,
        address_factor: int = 4,
        max_keys: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.policy = policy
        self.address_policy = BackoffPolicy(
            policy.free * address_factor, policy.base_s, policy.max_s, policy.forget_s
        )
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()

    def retry_after(self, name: str | None = None, address: str | None = None) -> float:
        """Seconds until a login for ``name`` from ``address`` may be tried again (0 = now)."""
        now = self._clock()
        with self._lock:
            waits = [
                self._wait(("name", name), self.policy, now) if name else 0.0,
                self._wait(("addr", address), self.address_policy, now) if address else 0.0,
            ]
        return max(waits)

    def failed(self, name: str | None, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, policy in (
                (("name", name), self.policy),
                (("addr", address), self.address_policy),
            ):
                if key[1]:
                    record = self._record(key, policy, now)
                    record.failures += 1
                    record.last = now

    def succeeded(self, name: str, address: str | None = None) -> None:
        """A correct password clears the name's count (not the address's: one valid account
        must not reset an address that is guessing other names)."""
        with self._lock:
            self._records.pop(("name", name), None)

    def _record(self, key: tuple[str, str], policy: BackoffPolicy, now: float) -> _Record:
        record = self._records.get(key)
        if record is None or now - record.last > policy.forget_s:
            record = _Record()
            self._records[key] = record
        self._records.move_to_end(key)
        while len(self._records) > self._max_keys:
            self._records.popitem(last=False)
        return record

    def _wait(self, key: tuple[str, str | None], policy: BackoffPolicy, now: float) -> float:
        record = self._records.get(key)  # type: ignore[arg-type]
        if record is None or now - record.last > policy.forget_s:
            return 0.0
        return max(0.0, record.last + policy.delay(record.failures) - now)


@dataclass(frozen=True)
class QuestionPolicy:
    """0 = no limit."""

    per_minute: int = 20
    in_flight: int = 3


class QuestionLimiter:
    """Admission of one user's questions: at most ``in_flight`` waiting or running at once and
    ``per_minute`` admitted in any 60-second window. The in-flight count is read from the
    caller (the web app counts the user's jobs in its queue), so a job that is dropped never
    leaks a slot; the per-minute window is recorded here, so a burst of simultaneous requests
    cannot all pass before the first one is queued."""

    WINDOW_S = 60.0

    def __init__(
        self, policy: QuestionPolicy = QuestionPolicy(), *, clock: Clock = time.monotonic
    ) -> None:
        self.policy = policy
        self._admitted: dict[str, deque[float]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def admit(self, user: str, in_flight: int = 0) -> Refusal | None:
        """None when the question may go ahead (and it is counted), else why not."""
        now = self._clock()
        p = self.policy
        with self._lock:
            if p.in_flight and in_flight >= p.in_flight:
                return Refusal("in_flight", p.in_flight, 0.0)
            times = self._admitted.setdefault(user, deque())
            while times and now - times[0] >= self.WINDOW_S:
                times.popleft()
            if p.per_minute and len(times) >= p.per_minute:
                return Refusal("per_minute", p.per_minute, self.WINDOW_S - (now - times[0]))
            times.append(now)
            return None


@dataclass(frozen=True)
class Refusal:
    """Why a question was not admitted: ``limit`` is the configured value, ``retry_s`` a hint."""

    kind: Literal["in_flight", "per_minute"]
    limit: int
    retry_s: float

    def message(self) -> str:
        if self.kind == "in_flight":
            return (
                f"您已有 {self.limit} 个问题正在处理，请等回答出来后再提问。"
                f" / You already have {self.limit} questions in progress; please wait for "
                "an answer before asking more."
            )
        wait = max(1, round(self.retry_s))
        return (
            f"提问过于频繁（每分钟最多 {self.limit} 个），请约 {wait} 秒后再试。"
            f" / Too many questions (at most {self.limit} a minute); please try again in "
            f"about {wait} s."
        )


def login_refusal(retry_s: float) -> str:
    wait = max(1, round(retry_s))
    return (
        f"登录失败次数过多，请 {wait} 秒后再试。 / Too many failed logins; try again in {wait} s."
    )

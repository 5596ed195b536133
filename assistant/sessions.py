"""Login sessions the web app has handed out: who, when, and under which password.

Gradio keeps ``token -> user name`` for ever (until logout or restart). ``SessionBook`` adds
what it lacks: a lifetime, and revocation when the user's password changes or the user is
removed (``policyqa users passwd`` / ``users remove``, from any process: the users file holds a
per-user session counter that every password change increases). The web app asks ``valid`` on
every request and drops the token from Gradio's table when the answer is no.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class Session:
    user: str
    epoch: int
    opened: float


class SessionBook:
    """``epoch_of(name)`` gives the user's current session counter, None when the user is
    gone; a session is valid while that counter is unchanged and it is younger than
    ``lifetime_s``. A token the book never saw is not valid (fail closed)."""

    def __init__(
        self, lifetime_s: float, epoch_of: Callable[[str], int | None], *, clock: Clock = time.time
    ) -> None:
        self.lifetime_s = float(lifetime_s)
        self._epoch_of = epoch_of
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def opened(self, token: str, user: str) -> None:
        epoch = self._epoch_of(user)
        now = self._clock()
        with self._lock:
            self._sessions = {t: s for t, s in self._sessions.items() if not self._expired(s, now)}
            if epoch is not None:
                self._sessions[token] = Session(user, epoch, now)

    def valid(self, token: str, user: str) -> bool:
        with self._lock:
            session = self._sessions.get(token)
        if session is None or session.user != user or self._expired(session, self._clock()):
            self.forget(token)
            return False
        if self._epoch_of(user) != session.epoch:
            self.forget(token)
            return False
        return True

    def forget(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def _expired(self, session: Session, now: float) -> bool:
        return self.lifetime_s > 0 and now - session.opened > self.lifetime_s

"""What stands in front of Gradio's own routes: login, sessions, uploads, API listing.

    login_options(settings, users) -> dict   (``auth`` and ``app_kwargs`` for Blocks.launch)

- ``/login`` (POST): refused from another site (Origin / Sec-Fetch-Site: login CSRF) and while
  the address is backing off; the password check (argon2, ~0.1 s of CPU) runs in a worker
  thread, one at a time, never on the event loop, after the user name's back-off; failures are
  counted per name and per address (``assistant.limits.LoginBackoff``). A refusal during
  back-off is HTTP 429 with ``Retry-After`` and a message.
- Session cookies get a ``Max-Age``; every request's token is checked against the
  ``SessionBook`` (lifetime, password changed, user removed) and dropped from Gradio's token
  table when no longer valid, so every route then sees a logged-out visitor.
- ``/gradio_api/upload`` (the only way a file reaches the server) is for admins only.
- ``?all_endpoints=...`` (which lists undocumented endpoints, e.g. ``admin_*``) is ignored for
  anyone but an admin, so the login page's ``window.gradio_api_info`` names no admin endpoint.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import math
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from assistant.limits import BackoffPolicy, LoginBackoff, login_refusal
from assistant.sessions import SessionBook

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.users import UserStore

log = logging.getLogger("policyqa.web")
_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("address", default=None)
_UPLOAD_PATHS = ("/gradio_api/upload", "/upload")


def login_options(settings: Settings, users: UserStore) -> dict[str, Any]:
    """``auth`` (an async check) and ``app_kwargs`` (the guard middleware) for launch."""
    from starlette.middleware import Middleware

    backoff = LoginBackoff(BackoffPolicy(free=max(1, int(settings.login_free_failures))))
    sessions = SessionBook(float(settings.session_hours) * 3600.0, users.session_epoch)
    middleware = Middleware(Guard, users=users, backoff=backoff, sessions=sessions)
    return {"auth": password_check(users, backoff), "app_kwargs": {"middleware": [middleware]}}


def password_check(users: UserStore, backoff: LoginBackoff):
    """Gradio awaits this for every /login. One check at a time: wait for the previous one,
    then the back-off (so a burst of guesses sees the failures before it), then argon2 in a
    worker thread -- a flood of guesses holds at most one core, never the event loop."""
    import anyio
    from fastapi import HTTPException

    state: dict[str, asyncio.Lock] = {}

    async def check(name: str, password: str) -> bool:
        address = _ADDRESS.get()
        async with state.setdefault("lock", asyncio.Lock()):
            wait = backoff.retry_after(name, address)
            if wait > 0:
                raise HTTPException(429, login_refusal(wait), {"Retry-After": str(math.ceil(wait))})
            user = await anyio.to_thread.run_sync(users.authenticate, name, password)
            if user is None:
                backoff.failed(name, address)
                log.info("login failed for %r from %s", name, address)
                return False
            backoff.succeeded(name, address)
            return True

    return check


class Guard:
    """Pure ASGI middleware (no body buffering except for its own refusals)."""

    def __init__(
        self, app, *, users: UserStore, backoff: LoginBackoff, sessions: SessionBook
    ) -> None:
        self.app, self.users, self.backoff, self.sessions = app, users, backoff, sessions

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("app")  # Gradio's App: holds the token table and cookie id
        token = _token(scope, getattr(server, "cookie_id", ""))
        user = self._session_user(server, token)
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if method == "POST" and path == "/login":
            await self._login(scope, receive, send, server)
            return
        if method == "POST" and path in _UPLOAD_PATHS and not self._is_admin(user):
            await _refuse(send, 403, "上传文件仅限管理员 / uploads are for admins only")
            return
        if b"all_endpoints" in scope.get("query_string", b"") and not self._is_admin(user):
            query = [
                (k, v)
                for k, v in parse_qsl(scope["query_string"].decode("latin-1"))
                if k != "all_endpoints"
            ]
            scope = {**scope, "query_string": urlencode(query).encode("latin-1")}
        await self.app(scope, receive, send)

    def _session_user(self, server, token: str | None) -> str | None:
        tokens = getattr(server, "tokens", None)
        user = tokens.get(token) if tokens is not None and token else None
        if user is None:
            return None
        if not self.sessions.valid(token, user):
            tokens.pop(token, None)
            log.info("session of %r ended (expired, password changed or user removed)", user)
            return None
        return user

    def _is_admin(self, user: str | None) -> bool:
        found = self.users.get(user) if user else None
        return found is not None and found.is_admin

    async def _login(self, scope, receive, send, server) -> None:
        if _cross_site(scope):
            log.warning("cross-site login refused from %s", _client(scope))
            await _refuse(send, 403, "跨站登录请求已拒绝 / cross-site login refused")
            return
        address = _client(scope)
        wait = self.backoff.retry_after(None, address)
        if wait > 0:
            await _refuse(send, 429, login_refusal(wait), wait)
            return
        max_age = str(int(self.sessions.lifetime_s)).encode() if self.sessions.lifetime_s else b""

        async def send_with_session(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = []
                for key, value in message.get("headers", []):
                    if key.lower() == b"set-cookie" and value.startswith(b"access-token"):
                        self._opened(server, value)
                        if max_age:
                            value = value + b"; Max-Age=" + max_age
                    headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        reset = _ADDRESS.set(address)
        try:
            await self.app(scope, receive, send_with_session)
        finally:
            _ADDRESS.reset(reset)

    def _opened(self, server, set_cookie: bytes) -> None:
        token = set_cookie.split(b";", 1)[0].split(b"=", 1)[-1].decode("latin-1")
        user = getattr(server, "tokens", {}).get(token)
        if user is not None:
            self.sessions.opened(token, user)


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _token(scope, cookie_id: str) -> str | None:
    raw = _headers(scope).get("cookie")
    if not raw or not cookie_id:
        return None
    try:
        cookies = SimpleCookie(raw)
    except CookieError:
        return None
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in cookies:
            return cookies[name].value
    return None


def _client(scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _cross_site(scope) -> bool:
    """A browser marks every cross-origin POST with Origin (and Sec-Fetch-Site); scripts such
    as gradio_client send neither, and are not a CSRF vector."""
    headers = _headers(scope)
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    hosts = {headers.get("host", "").lower(), headers.get("x-forwarded-host", "").lower()}
    return origin == "null" or urlsplit(origin).netloc.lower() not in hosts - {""}


async def _refuse(send, status: int, message: str, retry_after: float = 0.0) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after:
        headers.append((b"retry-after", str(math.ceil(retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

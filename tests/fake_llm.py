"""A scripted, OpenAI-compatible chat endpoint for tests (stdlib only).

    server = FakeLLMServer().start()
    server.script(reply="根据《…》第三条……[1]", chunks=5)   # next request: 5 streamed pieces
    server.script(status=500)                                # then: an HTTP 500
    server.script(delay=5.0)                                 # then: sleep 5 s before answering
    server.script(reply="abcdef", drop_after=2)              # then: 2 chunks, then hang up
    ...                                                      # queue empty: ``default_reply``
    server.requests[-1].messages                             # what the client sent
    server.close()

Endpoints: ``POST /v1/chat/completions`` (``stream: true`` → SSE ``chat.completion.chunk`` events
ending with ``data: [DONE]``, sent with chunked transfer encoding so that a hang-up is a visible
protocol error; otherwise one ``chat.completion`` JSON) and ``GET /v1/models``.
Every response carries ``Connection: close``; sleeps wait on an event that ``close()`` sets, so
shutdown never waits for a scripted delay.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 8 * 1024 * 1024
MAX_CHUNKS = 10_000


@dataclass
class Behaviour:
    """What the server does for one chat-completions request."""

    reply: str | None = None  # None: the server's default_reply
    chunks: int = 3  # streamed pieces (clamped to 1..len(reply))
    status: int | None = None  # answer with this HTTP error status instead
    error_message: str = "scripted failure"  # the error body's message for ``status``
    delay: float = 0.0  # seconds to sleep before sending anything
    chunk_delay: float = 0.0  # seconds between streamed pieces
    drop_after: int | None = None  # stream: close the connection after this many pieces
    error_event: str | None = None  # stream: send an in-band {"error": …} event after the pieces
    finish_reason: str = "stop"  # "length": the reply was cut by max_tokens


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict | None  # parsed JSON body (None for GET / unparsable)
    raw: bytes = b""

    @property
    def messages(self) -> list[dict]:
        return list((self.body or {}).get("messages") or [])

    def content(self, role: str) -> str:
        """All message contents of one role, joined (e.g. ``content("system")``)."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


def split_reply(reply: str, n: int) -> list[str]:
    """``reply`` cut into ``n`` nearly equal non-empty pieces (fewer if it is short)."""
    if not reply:
        return []
    n = max(1, min(n, len(reply), MAX_CHUNKS))
    size, extra = divmod(len(reply), n)
    pieces, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        pieces.append(reply[start:end])
        start = end
    return pieces


@dataclass
class FakeLLMServer:
    model: str = "fake-model"
    default_reply: str = "现有制度文件中未找到依据"
    host: str = "127.0.0.1"
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> FakeLLMServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer((self.host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-llm",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What goes into ``Settings.llm_base_url``."""
        return f"http://{self.host}:{self.port}/v1"

    # -- scripting --

    def script(self, **behaviour) -> Behaviour:
        """Queue the behaviour for the next chat-completions request (FIFO)."""
        b = Behaviour(**behaviour)
        with self._lock:
            self._queue.append(b)
        return b

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else Behaviour()

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is closing; True when it is."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer  # set on the per-server subclass
    protocol_version = "HTTP/1.1"  # chunked streams, so a hang-up mid-stream is detectable
    timeout = 10  # socket timeout: a stuck client cannot pin a handler thread forever

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    # -- plumbing --

    def _record(self, body: bytes) -> dict | None:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self.fake._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=parsed if isinstance(parsed, dict) else None,
                raw=body,
            )
        )
        return parsed if isinstance(parsed, dict) else None

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, payload: dict | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self._chunk(f"data: {text}\n\n".encode())

    # -- endpoints --

    def do_GET(self) -> None:
        self._record(b"")
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake"}
            self._json(200, {"object": "list", "data": [model]})
        else:
            self._json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        body = self.rfile.read(length) if length > 0 else b""
        request = self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        b = self.fake._next()
        try:
            self._respond(b, request or {})
        except OSError:  # the client gave up (timeout, hang-up): nothing left to tell it
            self.close_connection = True

    def _respond(self, b: Behaviour, request: dict) -> None:
        if self.fake._sleep(b.delay):
            self.close_connection = True
            return
        if b.status is not None:
            error = {"message": b.error_message, "type": "scripted", "code": b.status}
            self._json(b.status, {"error": error})
            return
        reply = self.fake.default_reply if b.reply is None else b.reply
        model = str(request.get("model") or self.fake.model)
        if request.get("stream"):
            self._stream(b, reply, model, request)
        else:
            self._complete(reply, model)

    def _complete(self, reply: str, model: str) -> None:
        self._json(
            200,
            {
                "id": "chatcmpl-" + uuid.uuid4().hex[:12],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def _stream(self, b: Behaviour, reply: str, model: str, request: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        ident = "chatcmpl-" + uuid.uuid4().hex[:12]
        created = int(time.time())

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        for i, piece in enumerate(split_reply(reply, b.chunks)):
            if b.drop_after is not None and i >= b.drop_after:
                return  # hang up: no terminating zero-length chunk → client sees a broken body
            if i and self.fake._sleep(b.chunk_delay):
                return
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            self._event(chunk(delta))
        if b.drop_after is not None:
            return
        if b.error_event is not None:
            self._event({"error": {"message": b.error_event, "type": "scripted"}})
        self._event(chunk({}, b.finish_reason))
        if (request.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            self._event({**chunk({}), "choices": [], "usage": usage})
        self._event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

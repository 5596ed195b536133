"""The only module that talks to a chat model (any OpenAI-compatible endpoint, via LangChain).

``ChatModel.stream_answer`` streams a cited answer grounded in numbered passages;
``ChatModel.condense`` rewrites a follow-up into a standalone question. Every failure —
timeout, refused connection, HTTP error, a connection dropped mid-stream, an empty reply —
surfaces as ``LLMError`` with a bilingual message that never contains the API key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import openai
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.records import Passage
from assistant.settings import Settings
from ingest.errors import PolicyQAError

NOT_FOUND = "现有制度文件中未找到依据"

HISTORY_TURNS = 3  # condense: only the last few turns matter
HISTORY_QUESTION_CHARS = 300
HISTORY_ANSWER_CHARS = 300
_DETAIL_CHARS = 200


class LLMError(PolicyQAError):
    """The chat model could not produce an answer. ``str()`` is the bilingual message.

    ``kind`` is one of ``"config" | "timeout" | "unreachable" | "dropped" | "status" |
    "empty" | "error"``; ``status`` is the HTTP status for ``kind == "status"``.
    """

    def __init__(self, message: str, *, kind: str = "error", status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


# --- prompts -----------------------------------------------------------------------------


@cache
def load_prompt(name: str) -> str:
    """The text of ``assistant/prompts/<name>.txt`` (package data)."""
    return resources.files("assistant").joinpath("prompts", f"{name}.txt").read_text("utf-8")


# Anything that looks like one of our fence tags (opening or closing, any case/spacing) inside
# untrusted text gets its "<" swapped for a full-width "＜", so it can no longer close the fence.
_FENCE_TAG = re.compile(r"<(\s*/?\s*)(passages?|question|conversation)\b", re.IGNORECASE)


def neutralise(text: str) -> str:
    """Defuse fence tags inside untrusted text (passage text, labels, questions, history)."""
    return _FENCE_TAG.sub(lambda m: "＜" + m.group(1) + m.group(2), text)


def _attr(text: str) -> str:
    text = neutralise(" ".join(text.split()))
    return text.replace('"', "＂").replace("<", "＜").replace(">", "＞")


def format_passages(passages: Sequence[Passage]) -> str:
    """Each passage as ``<passage n="1" source="《…》第三条">…</passage>``, text neutralised."""
    blocks = []
    for p in passages:
        body = neutralise(p.text.strip())
        blocks.append(f'<passage n="{int(p.n)}" source="{_attr(p.label)}">\n{body}\n</passage>')
    return "\n\n".join(blocks)


def answer_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    user = load_prompt("answer_user").format_map(
        {"passages": format_passages(passages), "question": neutralise(question.strip())}
    )
    return [SystemMessage(content=load_prompt("answer_system")), HumanMessage(content=user)]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def condense_messages(history: Sequence[tuple[str, str]], question: str) -> list[BaseMessage]:
    lines = []
    for user, assistant in list(history)[-HISTORY_TURNS:]:
        lines.append("职工：" + neutralise(_clip(user, HISTORY_QUESTION_CHARS)))
        lines.append("助手：" + neutralise(_clip(assistant, HISTORY_ANSWER_CHARS)))
    prompt = load_prompt("condense").format_map(
        {"history": "\n".join(lines), "question": neutralise(question.strip())}
    )
    return [HumanMessage(content=prompt)]


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(r"^(独立问题|改写后的问题|问题|standalone question|question)\s*[:：]\s*", re.I)
_QUOTES = "\"'“”‘’「」『』"


def _clean_condensed(text: str) -> str:
    text = _THINK.sub("", text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return _PREFIX.sub("", line).strip().strip(_QUOTES).strip()


class ThinkFilter:
    """Drops ``<think>…</think>`` blocks (reasoning models: DeepSeek-R1, Qwen3) from a stream
    of text deltas, also when a tag is split across deltas. An unclosed block hides the rest."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._pending = ""  # text that may be the start of a tag
        self._inside = False

    def feed(self, delta: str) -> str:
        text, out = self._pending + delta, []
        self._pending = ""
        while text:
            tag = self.CLOSE if self._inside else self.OPEN
            at = text.lower().find(tag)
            if at >= 0:
                if not self._inside:
                    out.append(text[:at])
                text, self._inside = text[at + len(tag) :], not self._inside
                continue
            keep = _partial_suffix(text.lower(), tag)
            if not self._inside:
                out.append(text[: len(text) - keep])
            self._pending = text[len(text) - keep :] if keep else ""
            break
        return "".join(out)

    def flush(self) -> str:
        rest, self._pending = ("" if self._inside else self._pending), ""
        return rest


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


TRUNCATED = "\n\n（回答达到长度上限，已截断。/ The reply hit the length limit and was cut off.）"


# --- error mapping -----------------------------------------------------------------------


def _transport_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(timeout classes, other transport-error classes) of whichever httpx flavours exist."""
    timeouts: list[type] = [TimeoutError]
    transport: list[type] = [ConnectionError]
    for name in ("httpx2", "httpx"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


_TIMEOUTS, _TRANSPORT = _transport_errors()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _safe_url(url: str) -> str:
    """The endpoint without any user:password@ part."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "?"


def _status_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else inner
        if msg:
            return str(msg)
    return ""


# --- the model ---------------------------------------------------------------------------


class ChatModel:
    """A LangChain ``ChatOpenAI`` bound to one OpenAI-compatible endpoint from ``Settings``."""

    def __init__(self, settings: Settings):
        if not settings.llm_enabled:
            raise LLMError(
                "未配置大模型服务（需要 llm_base_url 和 llm_model）/ "
                "LLM not configured (llm_base_url and llm_model are required)",
                kind="config",
            )
        self._timeout = float(settings.llm_timeout)
        self._url = _safe_url(settings.llm_base_url)
        key = settings.llm_api_key.get_secret_value()
        self._secrets = [s for s in (key,) if s and len(s) >= 4]
        try:
            from langchain_openai import ChatOpenAI

            self._model = ChatOpenAI(
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                api_key=key or "EMPTY",
                timeout=self._timeout,
                max_retries=0,
                temperature=settings.llm_temperature,
                streaming=True,
                use_responses_api=False,  # OpenAI-compatible servers speak chat completions
            )
        except Exception as exc:
            raise self._error(exc) from None

    def __repr__(self) -> str:
        return f"ChatModel(url={self._url!r}, model={self._model.model_name!r})"

    # -- public API --

    def stream_answer(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        """Yield answer text deltas as they arrive. Raises LLMError (timeout / connection error /
        HTTP 4xx/5xx / empty reply), including when it happens mid-stream."""
        messages = answer_messages(question, passages)
        started = False  # anything non-blank yielded yet
        finish = None
        think = ThinkFilter()
        stream = self._model.stream(messages)
        try:
            for chunk in stream:
                finish = (chunk.response_metadata or {}).get("finish_reason") or finish
                text = think.feed(str(chunk.text or ""))
                if not started:
                    text = text.lstrip()
                if not text:
                    continue
                started = True
                yield text
        except Exception as exc:
            raise self._error(exc, mid_stream=started) from None
        finally:
            stream.close()
        rest = think.flush() if started else think.flush().lstrip()
        if rest:
            started = True
            yield rest
        if not started:
            raise self._empty()
        if finish == "length":
            yield TRUNCATED

    def condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        """Rewrite a follow-up question into a standalone question using the conversation (list of
        (user, assistant) turns, last few only, answers truncated). Returns the question unchanged
        when history is empty. Raises LLMError."""
        if not history or not question.strip():
            return question
        try:
            reply = self._model.invoke(condense_messages(history, question), stream=False)
            text = _clean_condensed(str(reply.text or ""))
        except Exception as exc:
            raise self._error(exc) from None
        if not text:
            raise self._empty()
        return text

    # -- errors --

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return re.sub(r"(?i)bearer\s+\S+", "Bearer ***", text)

    def _empty(self) -> LLMError:
        return LLMError("大模型返回了空回答 / LLM returned an empty reply", kind="empty")

    def _error(self, exc: BaseException, *, mid_stream: bool = False) -> LLMError:
        """Map any client-side exception to an LLMError (never re-raise the raw one)."""
        chain = list(_chain(exc))
        if isinstance(exc, LLMError):
            return exc
        if any(isinstance(e, (openai.APITimeoutError, *_TIMEOUTS)) for e in chain):
            return LLMError(
                f"大模型服务响应超时（超过 {self._timeout:g} 秒）/ "
                f"LLM endpoint timed out (no response within {self._timeout:g} s)",
                kind="timeout",
            )
        status = next((e for e in chain if isinstance(e, openai.APIStatusError)), None)
        if status is not None:
            code = status.status_code
            detail = _clip(self._scrub(_status_detail(status)), _DETAIL_CHARS)
            hint_zh, hint_en = "", ""
            if code in (401, 403):
                hint_zh, hint_en = "，请检查 API 密钥", "; check the API key"
            elif code == 404:
                hint_zh, hint_en = "，请检查模型名称和地址", "; check the model name and URL"
            suffix = f"：{detail}" if detail else ""
            return LLMError(
                f"大模型服务返回错误 HTTP {code}{hint_zh}{suffix} / "
                f"LLM endpoint returned HTTP {code}{hint_en}",
                kind="status",
                status=code,
            )
        if any(isinstance(e, (openai.APIConnectionError, *_TRANSPORT)) for e in chain):
            if mid_stream:
                return LLMError(
                    "大模型服务连接中断，回答不完整 / LLM connection dropped mid-answer",
                    kind="dropped",
                )
            return LLMError(
                f"大模型服务不可用（连接失败：{self._url}）/ "
                f"LLM endpoint unreachable (connection failed: {self._url})",
                kind="unreachable",
            )
        if isinstance(exc, openai.APIError):  # e.g. an in-band {"error": …} event in the stream
            detail = _clip(self._scrub(str(getattr(exc, "message", "") or "")), _DETAIL_CHARS)
            suffix = f"：{detail}" if detail else ""
            return LLMError(
                f"大模型服务返回错误{suffix} / LLM endpoint returned an error", kind="error"
            )
        if isinstance(exc, ValueError) and "No generation chunks" in str(exc):
            return self._empty()
        return LLMError(
            f"调用大模型失败（{type(exc).__name__}）/ LLM call failed ({type(exc).__name__})",
            kind="error",
        )

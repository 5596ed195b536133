"""The named API endpoints for scripts (gradio_client): ``/ask`` (question -> JSON),
``/ask_stream`` (partial JSON objects, then the final one), ``/feedback`` (entry_id, rating,
comment) and the admin-only ``/admin_trash``. Each question is asked through
``Assistant.converse`` (which records the audit entry) and gated per user (``webui.gate``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import gradio as gr

from assistant.conversation import Conversation, Turn
from ingest.errors import PolicyQAError

from .context import AppContext, bind, refusal
from .gate import admit_api


def _turns(ctx: AppContext, question: str, request: gr.Request) -> Iterator[str | Turn]:
    who, viewer = ctx.viewer(request)
    return ctx.assistant.converse(str(question or ""), viewer, Conversation(), groups=who.groups)


def ask(ctx: AppContext, question: str, request: gr.Request) -> dict:
    """制度问答 / Ask: JSON {answer, refused, verified, mode, citations, suggestions, notice,
    entry_id}."""
    turn = next(item for item in _turns(ctx, question, request) if isinstance(item, Turn))
    return {**turn.answer.to_json(), "entry_id": turn.entry_id}


def ask_stream(ctx: AppContext, question: str, request: gr.Request) -> Iterator[dict]:
    """Streaming ask: {"partial": true, "answer": text so far}..., then the final JSON
    (as /ask) with "partial": false."""
    turns = _turns(ctx, question, request)
    yield {"partial": True, "answer": ""}
    for item in turns:
        if isinstance(item, Turn):
            yield {**item.answer.to_json(), "entry_id": item.entry_id, "partial": False}
        else:
            yield {"partial": True, "answer": item}


def feedback(
    ctx: AppContext, entry_id: str, rating: int, comment: str, request: gr.Request
) -> dict:
    """Rate an answer you asked for (+1 / -1) with an optional comment."""
    who, viewer = ctx.viewer(request)
    try:
        ctx.assistant.rate(str(entry_id), viewer, int(rating), str(comment or ""))
    except (PolicyQAError, ValueError) as exc:
        raise refusal(str(exc), who.name) from None
    return {"ok": True}


def trash_list(ctx: AppContext, request: gr.Request) -> list[dict]:
    """回收站 / Trash: replaced and removed files, newest first: [{id, source, reason, at}]."""
    ctx.admin(request)
    return [asdict(e) for e in ctx.assistant.library.trash()]


def add_endpoints(ctx: AppContext, demo: gr.Blocks, admin_kw: dict) -> None:
    """Register the endpoints; /ask and /ask_stream get the per-user question gate."""
    gr.api(bind(ask, ctx), api_name="ask")
    gr.api(bind(ask_stream, ctx), api_name="ask_stream")
    gr.api(bind(feedback, ctx), api_name="feedback", concurrency_limit=None)
    gr.api(bind(trash_list, ctx), api_name="admin_trash", **admin_kw)
    gate = bind(admit_api, ctx)
    for fn in demo.fns.values():  # gr.api takes no validator: the same gate, set after
        if fn.name in ("ask", "ask_stream"):
            fn.validator = gate

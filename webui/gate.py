"""Fair use: questions are admitted per user (``assistant.limits``) before they join the
shared queue. Validators of the question events: the chat's (a refusal is shown under the
question box, the conversation stays as it is) and the API's (a refusal is an error)."""

from __future__ import annotations

import gradio as gr

from .context import AppContext, log

QUESTION_EVENTS = ("respond", "ask", "ask_stream")  # the events a per-user limit applies to


def in_flight(ctx: AppContext, name: str) -> int:
    """The user's questions waiting or running in Gradio's queue (read, not counted by us, so a
    dropped job never leaks a slot)."""
    queue = getattr(ctx.blocks, "_queue", None)
    if queue is None:
        return 0
    waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
    running = [e for job in queue.active_jobs if job for e in job]
    return sum(
        1
        for e in waiting + running
        if e.username == name and getattr(e.fn, "name", "") in QUESTION_EVENTS
    )


def admitted(ctx: AppContext, request: gr.Request) -> str:
    """The refusal message when the user may not ask now, else "" (and the question counts)."""
    who = ctx.person(request)
    refused = ctx.limiter.admit(who.name, in_flight(ctx, who.name))
    if refused is None:
        return ""
    log.info("refused %s: %s", who.name, refused.message())
    return refused.message()


def admit_chat(ctx: AppContext, question: str, chat: list, conv: dict, request: gr.Request):
    """Validator of the chat's question events (runs when the request joins the queue)."""
    message = admitted(ctx, request) if (question or "").strip() else ""
    return [gr.validate(not message, message)] + [gr.validate(True, "")] * 2


def admit_api(ctx: AppContext, question: str, request: gr.Request) -> None:
    """Validator of /ask and /ask_stream."""
    message = admitted(ctx, request)
    if message:
        raise gr.Error(message, print_exception=False)

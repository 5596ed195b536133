"""The chat tab: questions, streamed cited answers, the sources panel, 👍/👎 with a comment.

The conversation (history, cited documents, notices shown; ``assistant.conversation``) lives
in the session's ``gr.State`` as JSON, with the audit entry id of each answer by its message
index and the last rating. Asking, recording and the follow-up rules are the assistant's
(``Assistant.converse``); here they become chat messages and panels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.conversation import Conversation, Turn
from ingest.errors import PolicyQAError

from .assets import SOURCES_JS
from .context import AppContext, bind
from .gate import admit_chat
from .render import answer_markdown, error_markdown, esc, md_text, render_sources
from .viewer import ViewerView


def new_conversation() -> dict:
    """A new session's state: the conversation, plus entry ids by message and the last rating."""
    return {**Conversation().to_json(), "entries": {}, "rated": None}


# --- handlers: module-level functions over the context, returning dicts keyed by output name ---


def respond(
    ctx: AppContext, question: str, chat: list, conv: dict, request: gr.Request
) -> Iterator[dict[str, Any]]:
    """Ask: the question and a "searching" placeholder at once, the answer as it grows, then
    the final answer with its sources."""
    question = (question or "").strip()
    if not question:
        yield {}
        return
    t = ctx.t
    who, viewer = ctx.viewer(request)
    conv = dict(conv or new_conversation())
    chat = list(chat or []) + [
        {"role": "user", "content": md_text(question)},
        {"role": "assistant", "content": esc(t["searching"])},
    ]
    waiting = f'<div class="pq-sources"><div class="pq-muted">{esc(t["searching"])}</div></div>'
    hidden = gr.update(visible=False)
    yield {
        "chat": list(chat),
        "question": "",
        "sources": waiting,
        "conv": conv,
        "feedback_row": hidden,
    }
    turns = ctx.assistant.converse(
        question, viewer, Conversation.from_json(conv), groups=who.groups
    )
    try:
        for item in turns:
            if isinstance(item, Turn):
                break
            chat[-1] = {"role": "assistant", "content": md_text(item)}
            yield {"chat": list(chat)}
    except PolicyQAError as exc:
        chat[-1] = {"role": "assistant", "content": error_markdown(str(exc), t)}
        yield {"chat": chat, "sources": render_sources(None, {}, [], t), "conv": conv}
        return
    yield answered(ctx, item, chat, conv, viewer)


def answered(ctx: AppContext, turn: Turn, chat: list, conv: dict, viewer) -> dict[str, Any]:
    """The outputs once a question is answered: the message, its sources, the new state."""
    chat[-1] = {
        "role": "assistant",
        "content": answer_markdown(turn.answer, ctx.t, turn.show_notice),
    }
    entries = {**conv.get("entries", {}), str(len(chat) - 1): turn.entry_id}
    conv = {**conv, **turn.conversation.to_json(), "entries": entries}
    found = ctx.assistant.evidence(turn.answer, viewer)
    panel = render_sources(turn.answer, found.passages, found.suggestions, ctx.t)
    return {"chat": chat, "sources": panel, "conv": conv}


def new_chat(ctx: AppContext) -> dict[str, Any]:
    return {
        "chat": [],
        "conv": new_conversation(),
        "sources": render_sources(None, {}, [], ctx.t),
        "question": "",
        "feedback_row": gr.update(visible=False),
        "viewer_box": gr.update(visible=False),
        "viewer": "",
    }


def pick_example(evt: gr.SelectData) -> str:
    value = evt.value
    return value.get("text", "") if isinstance(value, dict) else str(value or "")


def on_like(ctx: AppContext, conv: dict, evt: gr.LikeData, request: gr.Request) -> dict:
    """👍/👎 on an answer: recorded at once; the comment box opens."""
    _, viewer = ctx.viewer(request)
    index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    entry = (conv or {}).get("entries", {}).get(str(index))
    if entry is None or evt.liked not in (True, False):
        return {}
    rating = 1 if evt.liked else -1
    ctx.assistant.rate(entry, viewer, rating, "")
    gr.Info(ctx.t["fb_thanks"])
    return {"conv": {**conv, "rated": [entry, rating]}, "feedback_row": gr.update(visible=True)}


def on_comment(ctx: AppContext, comment: str, conv: dict, request: gr.Request) -> dict:
    """The comment on the last rating (recorded as a new rating with the comment)."""
    _, viewer = ctx.viewer(request)
    rated = (conv or {}).get("rated")
    if not rated:
        gr.Warning(ctx.t["fb_none"])
        return {}
    ctx.assistant.rate(rated[0], viewer, int(rated[1]), (comment or "").strip())
    gr.Info(ctx.t["fb_saved"])
    return {"comment": "", "feedback_row": gr.update(visible=False)}


# --- layout and events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatView:
    conv: gr.State
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    clear: gr.Button
    feedback_row: gr.Row
    comment: gr.Textbox
    comment_send: gr.Button
    sources: gr.HTML


def chat_tab(ctx: AppContext, conv: gr.State) -> ChatView:
    """The chat tab's row: the conversation, question box and feedback row; the sources."""
    t = ctx.t
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label=ctx.label("chat_label"),
                height=520,
                elem_id="pq-chat",
                placeholder=ctx.label("chat_placeholder"),
                examples=[{"text": q} for q in t["examples"].split("|")],
                feedback_options=("Like", "Dislike"),
                buttons=["copy"],
                latex_delimiters=[],
                sanitize_html=True,
            )
            question, send, clear = _question_row(ctx.label)
            with gr.Row(visible=False) as feedback_row:
                comment = gr.Textbox(
                    label=ctx.label("fb_label"),
                    placeholder=ctx.label("fb_placeholder"),
                    scale=8,
                    elem_id="pq-comment",
                )
                comment_send = gr.Button(ctx.label("fb_submit"), scale=1, min_width=80)
        with gr.Column(scale=2):
            sources = gr.HTML(
                render_sources(None, {}, [], t),
                js_on_load=SOURCES_JS,
                elem_id="pq-sources",
                max_height=700,
                container=True,
                padding=True,
            )
    return ChatView(
        conv, chatbot, question, send, clear, feedback_row, comment, comment_send, sources
    )


def _question_row(label) -> tuple[gr.Textbox, gr.Button, gr.Button]:
    with gr.Row():
        question = gr.Textbox(
            show_label=False,
            placeholder=label("question_placeholder"),
            scale=8,
            lines=1,
            max_lines=4,
            elem_id="pq-question",
            autofocus=True,
        )
        with gr.Column(scale=1, min_width=90):
            send = gr.Button(label("send"), variant="primary", elem_id="pq-send")
            clear = gr.Button(label("new_chat"), size="sm", elem_id="pq-new")
    return question, send, clear


def wire_chat(ctx: AppContext, view: ChatView, viewer: ViewerView) -> None:
    """The chat's events; all "private" (not callable from gradio_client)."""
    private = {"api_visibility": "private"}
    names = {
        "chat": view.chatbot,
        "question": view.question,
        "sources": view.sources,
        "conv": view.conv,
        "feedback_row": view.feedback_row,
        "comment": view.comment,
        "viewer_box": viewer.box,
        "viewer": viewer.html,
    }
    ask = bind(respond, ctx, names)
    ask_outputs = [names[k] for k in ("chat", "question", "sources", "conv", "feedback_row")]
    ask_inputs = [view.question, view.chatbot, view.conv]
    gate = {"validator": bind(admit_chat, ctx)}
    view.question.submit(ask, ask_inputs, ask_outputs, **gate, **private)
    view.send.click(ask, ask_inputs, ask_outputs, **gate, **private)
    view.chatbot.example_select(pick_example, None, view.question, **private).then(
        ask, ask_inputs, ask_outputs, **gate, **private
    )
    reset = bind(new_chat, ctx, names)
    reset_outputs = [names[k] for k in ("chat", "conv", "sources", "question", "feedback_row")]
    reset_outputs += [viewer.box, viewer.html]
    view.clear.click(reset, None, reset_outputs, **private)
    view.chatbot.clear(reset, None, reset_outputs, **private)  # the chat's own 🗑 button
    fast = {"concurrency_limit": None, **private}
    like_outputs = [view.conv, view.feedback_row]
    view.chatbot.like(bind(on_like, ctx, names), [view.conv], like_outputs, **fast)
    view.comment_send.click(
        bind(on_comment, ctx, names),
        [view.comment, view.conv],
        [view.comment, view.feedback_row],
        **fast,
    )

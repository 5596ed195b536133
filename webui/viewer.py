"""The source viewer: a document opened from the sources panel, scrolled to the cited passage.
The panel's buttons send only a document id and a passage id (``static/sources.js``); both are
resolved through the assistant with the caller's access rights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from .assets import VIEWER_JS
from .context import AppContext, bind
from .render import esc, render_document


def open_document(ctx: AppContext, evt: gr.EventData, request: gr.Request) -> dict[str, Any]:
    """The viewer shown with the clicked document (or a notice when it cannot be opened)."""
    _, viewer = ctx.viewer(request)
    doc_id = str(getattr(evt, "doc_id", "") or "")  # the event's public data (sources.js)
    chunk_id = str(getattr(evt, "chunk_id", "") or "")
    found = ctx.assistant.document(doc_id, viewer) if doc_id else None
    shown = gr.update(visible=True)
    if found is None:
        return {
            "box": shown,
            "html": f'<div class="pq-refusal">{esc(ctx.t["doc_unavailable"])}</div>',
        }
    info, text = found
    chunk = ctx.assistant.chunk(chunk_id, viewer) if chunk_id else None
    return {"box": shown, "html": render_document(info, text, chunk, ctx.t)}


def close_document(ctx: AppContext) -> dict[str, Any]:
    return {"box": gr.update(visible=False), "html": ""}


@dataclass(frozen=True)
class ViewerView:
    box: gr.Column
    html: gr.HTML
    close: gr.Button


def viewer_box(ctx: AppContext) -> ViewerView:
    with gr.Column(visible=False, elem_id="pq-viewer-box") as box:
        with gr.Row():
            gr.Markdown(f"### {ctx.t['viewer']}")
            close = gr.Button(ctx.label("close_viewer"), size="sm", scale=0, min_width=100)
        html = gr.HTML("", js_on_load=VIEWER_JS, elem_id="pq-viewer")
    return ViewerView(box, html, close)


def wire_viewer(ctx: AppContext, view: ViewerView, sources: gr.HTML) -> None:
    names = {"box": view.box, "html": view.html}
    outputs = [view.box, view.html]
    fast = {"concurrency_limit": None, "api_visibility": "private"}
    sources.click(bind(open_document, ctx, names), None, outputs, **fast)
    view.close.click(bind(close_document, ctx, names), None, outputs, api_visibility="private")

"""HTML and Markdown for the web app's panels: pure functions of records and a text catalogue
(``webui.i18n``). Every piece of outside text (documents, questions, titles, errors) goes
through ``esc`` or ``md_text`` before it reaches the page.

    render_sources(answer, passages, suggestions, t)   the sources panel (or a refusal notice)
    render_document(info, text, chunk, t)              the source viewer
    answer_markdown(answer, t, show_notice)            an answer as a chat message
    render_status(status, t)                           the admin console's corpus status
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ingest.statutes import SENTENCE

if TYPE_CHECKING:
    from assistant.records import Answer, Citation
    from ingest.index import DocumentInfo
    from ingest.records import Chunk

Texts = Mapping[str, str]
MAX_VIEW_CHARS = 200_000  # a text document larger than this is shown as a window around the hit


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$])")
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")


def md_text(text: str) -> str:
    """Plain text made safe for the Chatbot's Markdown: HTML-escaped, Markdown punctuation
    backslash-escaped (a quoted document cannot inject links, images or HTML), [n] markers kept
    as superscripts."""
    escaped = html.escape(str(text), quote=False)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return _MARKER.sub(r'<sup class="pq-ref">[\1]</sup>', escaped)


_BLANK_LINES = re.compile(r"\n\s*\n")


def _shown(text: str) -> str:
    """Escaped, blank lines folded (the panels use white-space: pre-wrap)."""
    return esc(_BLANK_LINES.sub("\n", text))


def marked(text: str, spans: Sequence[tuple[int, int]], mark_id: str | None = None) -> str:
    """``text`` escaped, with the (start, end) spans wrapped in <mark>; the first one gets
    ``mark_id`` as its id (the anchor the viewer scrolls to)."""
    out, pos, first = [], 0, True
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        out.append(_shown(text[pos:start]))
        attr = f' id="{mark_id}"' if first and mark_id else ""
        out.append(f'<mark class="pq-hit"{attr}>{_shown(text[start:end])}</mark>')
        pos, first = end, False
    out.append(_shown(text[pos:]))
    return "".join(out)


def quote_spans(passage: str, quote: str) -> list[tuple[int, int]]:
    """Where the quoted sentences sit in the passage (an extractive quote is a selection of the
    passage's sentences); nothing when the quote is the whole passage."""
    if not quote or quote.strip() == passage.strip():
        return []
    spans: list[tuple[int, int]] = []
    for sentence in (s.strip() for s in SENTENCE.findall(quote)):
        if len(sentence) < 2:
            continue
        at = passage.find(sentence)
        if at >= 0:
            spans.append((at, at + len(sentence)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _pages(pages: Sequence[int], t: Texts) -> str:
    if not pages:
        return ""
    shown = str(pages[0]) if len(pages) == 1 else f"{pages[0]}–{pages[-1]}"
    return t["page"].format(n=shown)


def citation_header(c: Citation, t: Texts) -> str:
    """《title》 · heading · 第X条 · 第N页 (escaped)."""
    parts = [f"《{c.title}》"]
    if c.doc_number:
        parts.append(c.doc_number)
    if c.heading:
        parts.append(c.heading)
    if c.articles and not all(a in c.heading for a in c.articles):
        parts.append("、".join(c.articles))
    if c.pages:
        parts.append(_pages(c.pages, t))
    return " · ".join(esc(p) for p in parts)


def open_button(doc_id: str, chunk_id: str, label: str) -> str:
    return (
        f'<button type="button" class="pq-open" data-doc="{esc(doc_id)}" '
        f'data-chunk="{esc(chunk_id)}">{esc(label)} ›</button>'
    )


def render_sources(
    answer: Answer | None,
    passages: dict[str, Chunk | None],
    suggestions: Sequence[tuple[str, str]],
    t: Texts,
) -> str:
    """The sources panel: one card per citation, or the refusal notice with suggestions.
    ``passages`` maps chunk ids to their chunk (None when gone); ``suggestions`` holds
    (title, doc_id) pairs for a refusal."""
    head = f'<div class="pq-sources"><div class="pq-sources-title">{esc(t["sources"])}</div>'
    if answer is None:
        return head + f'<div class="pq-muted">{esc(t["sources_empty"])}</div></div>'
    if answer.refused or not answer.citations:
        items = "".join(
            f"<li>《{esc(title)}》 {open_button(doc_id, '', t['open_doc'])}</li>"
            if doc_id
            else f"<li>《{esc(title)}》</li>"
            for title, doc_id in suggestions
        )
        more = f"<div>{esc(t['refusal_suggest'])}</div><ul>{items}</ul>" if items else ""
        return head + (
            f'<div class="pq-refusal"><div class="pq-refusal-title">ⓘ {esc(t["refusal_title"])}'
            f"</div>{more}</div></div>"
        )
    cards = []
    for c in answer.citations:
        chunk = passages.get(c.chunk_id)
        if chunk is not None:
            body = marked(chunk.text, quote_spans(chunk.text, c.quote))
        else:
            body = esc(c.quote)
        meta = [f"{t['file']}: {c.source}"]
        if chunk is not None and chunk.version_date:
            meta.append(f"{t['version']}: {chunk.version_date}")
        cards.append(
            f'<div class="pq-cite" id="pq-cite-{c.n}" data-label="{esc(c.label())}">'
            f'<div class="pq-cite-head"><span class="pq-n">[{c.n}]</span> {citation_header(c, t)}</div>'
            f'<div class="pq-meta">{esc(" · ".join(meta))}</div>'
            f'<blockquote class="pq-passage">{body}</blockquote>'
            f"{open_button(c.doc_id, c.chunk_id, t['open_doc'])}</div>"
        )
    return head + "".join(cards) + "</div>"


def render_document(info: DocumentInfo, text: str, chunk: Chunk | None, t: Texts) -> str:
    """The viewer: the document's text (PDF: the page(s) holding the passage, with page numbers),
    the passage marked with id="pq-hit" so the viewer scrolls to it."""
    meta = [f"{t['file']}: {info.source}"]
    if info.version_date:
        meta.append(f"{t['version']}: {info.version_date}")
    official = info.meta.to_json()  # 文号, 发文机关, 成文日期, 施行日期 when stated
    labels = (
        ("number", "doc_number"),
        ("issuer", "issuer"),
        ("written", "written"),
        ("effective", "effective"),
    )
    meta += [f"{t[label]}: {official[key]}" for key, label in labels if key in official]
    head = (
        f'<div class="pq-doc"><div class="pq-doc-title">《{esc(info.title)}》</div>'
        f'<div class="pq-meta">{esc(" · ".join(meta))}</div>'
    )
    hit = (chunk.start, chunk.end) if chunk is not None and chunk.doc_id == info.id else None
    if info.pages:
        spans = list(info.pages)
        shown = [p for p in spans if hit and p[0] < hit[1] and p[1] > hit[0]]
        if not shown:  # no passage to show: the whole document, page by page (bounded)
            budget = MAX_VIEW_CHARS
            for page in spans:
                if budget <= 0:
                    break
                shown.append(page)
                budget -= page[1] - page[0]
        numbers = "–".join(str(n) for n in dict.fromkeys((shown[0][2], shown[-1][2])))
        note = t["pages_of"].format(total=len(spans), pages=numbers)
        pages = []
        for start, end, number in shown:
            page_text = text[start:end]
            local = [(max(hit[0], start) - start, min(hit[1], end) - start)] if hit else []
            mark_id = "pq-hit" if not pages else None
            pages.append(
                f'<div class="pq-page"><div class="pq-page-no">{esc(t["page"].format(n=number))}'
                f'</div><div class="pq-doc-text">{marked(page_text, local, mark_id)}</div></div>'
            )
        return head + f'<div class="pq-muted">{esc(note)}</div>' + "".join(pages) + "</div>"
    begin, end, note = 0, len(text), ""
    if len(text) > MAX_VIEW_CHARS:
        centre = (hit[0] + hit[1]) // 2 if hit else 0
        begin = max(0, centre - MAX_VIEW_CHARS // 2)
        end = min(len(text), begin + MAX_VIEW_CHARS)
        note = f'<div class="pq-muted">{esc(t["window_note"])}</div>'
    window = text[begin:end]
    local = [(hit[0] - begin, hit[1] - begin)] if hit else []
    return head + note + f'<div class="pq-doc-text">{marked(window, local, "pq-hit")}</div></div>'


def answer_markdown(answer: Answer, t: Texts, show_notice: bool) -> str:
    """An answer as a chat message: text with [n] markers; refusals in a grey box."""
    if answer.refused:
        body = f'<div class="pq-refusal-msg">ⓘ {md_text(answer.text)}</div>'
    else:
        body = md_text(answer.text)
        if not answer.verified:
            body += f'\n\n<div class="pq-notice">⚠ {esc(t["unverified"])}</div>'
    if show_notice and answer.notice:
        body += f'\n\n<div class="pq-notice">ⓘ {esc(answer.notice)}</div>'
    return body


def error_markdown(message: str, t: Texts) -> str:
    return f'<div class="pq-refusal-msg">⚠ {md_text(t["error"].format(msg=message))}</div>'


def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(str(iso)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(iso)


def ingest_summary(run: dict, t: Texts) -> str:
    return t["summary"].format(
        ingested=len(run.get("ingested", ())),
        unchanged=len(run.get("unchanged", ())),
        skipped=len(run.get("skipped", ())),
        removed=len(run.get("removed", ())),
        embedded=run.get("chunks_embedded", 0),
        chunks=run.get("chunks_total", 0),
        docs=run.get("documents_total", 0),
        seconds=float(run.get("seconds", 0.0)),
    )


def _adapter_line(adapter: dict, t: Texts) -> str:
    if adapter.get("error"):
        return adapter["error"]
    if adapter.get("in_use"):
        return t["status_adapter_on"].format(gate=adapter.get("gate"))
    return t["status_adapter_off"]


def _ocr_line(run: dict) -> str:
    """Documents the last run read by OCR, with their page counts ("—" when none)."""
    done = [f"{o['source']} ({len(o.get('pages', ()))})" for o in run.get("ocr") or ()]
    return "; ".join(done) or "—"


def render_status(status: dict, t: Texts) -> str:
    if not status.get("ready"):
        running = f" ({esc(t['status_running'])})" if status.get("ingest_running") else ""
        return f'<div class="pq-status">{esc(t["status_none"])}{running}</div>'
    run = status.get("last_run") or {}
    rows = [
        (t["status_docs"], status.get("documents")),
        (t["status_chunks"], status.get("chunks")),
        (t["status_embedder"], status.get("embedder")),
        (t["status_adapter"], _adapter_line(status.get("query_adapter") or {}, t)),
        (t["status_relevance"], _adapter_line(status.get("relevance") or {}, t)),
        (t["status_built"], local_time(run.get("finished_at") or status.get("built_at"))),
        (t["status_terms"], t[f"status_terms_{status.get('bm25_terms', 'current')}"]),
        (t["status_summary"], ingest_summary(run, t)),
        (t["status_ocr"], _ocr_line(run)),
        (t["status_llm"], status.get("llm") or t["status_llm_off"]),
        (t["status_running"], t["yes"] if status.get("ingest_running") else t["no"]),
    ]
    table = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    skipped = run.get("skipped") or []
    if skipped:
        items = "".join(
            f"<tr><td>{esc(s.get('source', ''))}</td><td>{esc(s.get('reason', ''))}</td></tr>"
            for s in skipped
        )
        skip_html = (
            f'<table class="pq-table"><tr><th>{esc(t["file"])}</th>'
            f"<th>{esc(t['status_reason'])}</th></tr>{items}</table>"
        )
    else:
        skip_html = f'<div class="pq-muted">{esc(t["status_none_skipped"])}</div>'
    return (
        f'<div class="pq-status"><table class="pq-table">{table}</table>'
        f'<div class="pq-sources-title">{esc(t["status_skipped"])}</div>{skip_html}</div>'
    )

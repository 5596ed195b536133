"""The web app: staff chat with cited answers and a source viewer, plus an admin console.

    create_app(assistant, settings, users, audit) -> gr.Blocks   (no launch)
    launch_options(settings, users) -> dict                      (kwargs for Blocks.launch)
    serve(settings)                                              (what `policyqa serve` runs)

Thin on purpose: every answer, document and status comes from ``assistant.service.Assistant``;
this module only turns them into HTML and events. Identity comes from the login session
(``gr.Request.username``) and is looked up in the ``UserStore`` on every call, so a role or group
change takes effect at once; every admin handler checks the role itself (the hidden tab is only
cosmetic). All document and question text is HTML-escaped before it reaches the page.

Named API endpoints (gradio_client): ``/ask`` (question -> JSON), ``/ask_stream`` (question ->
partial JSON objects, then the final one), ``/feedback`` (entry_id, rating, comment), and the
admin-only ``/admin_status``, ``/admin_reingest``, ``/admin_preview``, ``/admin_upload``,
``/admin_remove``, ``/admin_trash``, ``/admin_restore``, ``/admin_recent``, ``/admin_usage``
(undocumented: callable, but not listed in the API page or the login page's API info). Files in
the source folder are written only through ``Assistant.library``; login, sessions and uploads are
guarded by ``webui/guard.py``; questions are admitted per user by ``assistant.limits``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home, ever
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import html
import logging
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from assistant.limits import QuestionLimiter, QuestionPolicy
from assistant.records import Answer, Citation
from assistant.service import Assistant, Viewer
from assistant.settings import Settings, load_settings
from assistant.users import User
from ingest.errors import IndexBusy, PolicyQAError
from ingest.loaders import SUPPORTED
from ingest.statutes import SENTENCE
from webui.documents import add_summary, discard_uploads, render_plan, uploads_of

if TYPE_CHECKING:
    from assistant.audit import AuditLog
    from assistant.users import UserStore
    from ingest.index import DocumentInfo
    from ingest.records import Chunk

ALLOWED_EXTENSIONS = SUPPORTED
QUESTION_EVENTS = ("respond", "ask", "ask_stream")  # the events a per-user limit applies to
CACHE_SWEEP = (3600, 3600)  # Gradio's temp files: swept hourly, removed when over an hour old
log = logging.getLogger("policyqa.web")
MAX_VIEW_CHARS = 200_000  # a text document larger than this is shown as a window around the hit
QUEUE_MAX = 64  # waiting questions beyond this get "queue full" instead of an endless spinner

# --- strings ----------------------------------------------------------------------------------

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "制度问答助手",
        "subtitle": "依据现行制度文件回答，并注明出处（条款、页码）。",
        "tab_chat": "制度问答",
        "tab_admin": "管理后台",
        "chat_label": "对话",
        "chat_placeholder": "请输入问题，例如“我工作满十年，年假有几天？”",
        "question_label": "问题",
        "question_placeholder": "请输入您的问题，按回车发送",
        "send": "发送",
        "new_chat": "新对话",
        "logout": "退出登录",
        "sources": "依据来源",
        "sources_empty": "提问后，这里会列出回答所依据的条款原文。",
        "searching": "正在检索制度文件……",
        "open_doc": "查看原文",
        "viewer": "原文查看",
        "close_viewer": "关闭原文",
        "doc_unavailable": "无法打开该文件（文件不存在或您无权查看）。",
        "page": "第 {n} 页",
        "pages_of": "共 {total} 页，以下为第 {pages} 页",
        "window_note": "文件较长，仅显示引用段落附近的内容。",
        "version": "版本日期",
        "doc_number": "文号",
        "issuer": "发文机关",
        "written": "成文日期",
        "effective": "施行日期",
        "file": "文件",
        "refusal_title": "现有制度文件中未找到依据",
        "refusal_suggest": "可以查阅以下可能相关的文件：",
        "unverified": "部分内容未能在原文中核实，已删除。",
        "error": "出错了：{msg}",
        "fb_label": "补充说明（可选）",
        "fb_placeholder": "哪里不对或缺少什么？提交后管理员可见。",
        "fb_submit": "提交意见",
        "fb_thanks": "感谢反馈！",
        "fb_saved": "意见已记录。",
        "fb_none": "请先对某条回答点 👍 或 👎。",
        "forbidden": "无权限：该操作仅限管理员。",
        "not_logged_in": "未登录或用户已被删除，请重新登录。",
        "who": "当前用户：{name}（{role}）",
        "role_admin": "管理员",
        "role_staff": "员工",
        "admin_status": "语料状态",
        "admin_docs": "文档管理",
        "admin_log": "问答记录",
        "admin_usage": "使用统计",
        "refresh": "刷新",
        "upload_label": "上传文件（.md .txt .docx .pdf .html .ofd，扫描图片 .png .jpg .tif）",
        "upload_btn": "上传并重新导入",
        "reingest_btn": "仅重新导入",
        "remove_label": "选择要删除的文件",
        "remove_confirm": "我确认从制度文件夹中删除该文件",
        "remove_btn": "删除并重新导入",
        "remove_need_confirm": "请先勾选确认框。",
        "remove_none": "请选择一个文件。",
        "removed": "已删除：{name}",
        "uploaded": "已保存：{names}",
        "rejected": "已拒绝：{items}",
        "no_files": "请先选择要上传的文件。",
        "folder_label": "保存到文件夹",
        "folder_root": "（根目录）",
        "replace_confirm": "确认替换同名文件（原文件移入回收站，可恢复）",
        "preview_none": "选择文件后，这里会显示保存位置和可见范围。",
        "preview_row": "{target}：《{title}》，可见范围：{groups}",
        "preview_all": "全体登录用户",
        "preview_replaces": "（将替换现有文件）",
        "preview_refused": "{name}：不能保存——{problem}",
        "trash_label": "回收站（被替换或删除的文件）",
        "trash_item": "{source}（{reason}，{at}）",
        "trash_replaced": "被替换",
        "trash_removed": "已删除",
        "restore_btn": "恢复并重新导入",
        "restored": "已恢复：{name}",
        "trash_none": "请选择回收站中的一项。",
        "busy": "已有导入任务在运行，请等待其完成后再试。",
        "ingest_done": "导入完成：{summary}",
        "ingest_failed": "导入失败：{msg}",
        "only_negative": "仅看差评 👎",
        "only_refused": "仅看拒答",
        "user_filter": "按用户筛选",
        "days": "统计天数",
        "plot_questions": "每日提问数",
        "plot_rates": "拒答率与差评率",
        "plot_top": "被引用最多的文件",
        "never_cited": "从未被引用的文件",
        "col_day": "日期",
        "col_questions": "提问数",
        "col_metric": "指标",
        "col_rate": "比例",
        "col_doc": "文件",
        "col_citations": "引用次数",
        "refusal_rate": "拒答率",
        "negative_rate": "差评率",
        "status_none": "尚未建立索引。",
        "status_docs": "文档数",
        "status_chunks": "片段数",
        "status_embedder": "向量模型",
        "status_adapter": "查询适配器",
        "status_adapter_on": "已启用（门槛 {gate}）",
        "status_adapter_off": "未启用",
        "status_built": "最近导入",
        "status_summary": "导入摘要",
        "status_running": "导入进行中",
        "status_llm": "大模型",
        "status_llm_off": "未配置（仅原文摘录）",
        "status_skipped": "跳过的文件",
        "status_reason": "原因",
        "status_none_skipped": "无",
        "summary": "新增/更新 {ingested} 个，未变 {unchanged} 个，跳过 {skipped} 个，移除 {removed} 个；"
        "嵌入 {embedded} 个片段，共 {chunks} 个片段 / {docs} 个文件，用时 {seconds:.1f} 秒",
        "log_cols": "时间|用户|问题|结果|引用|评价|意见|耗时(ms)",
        "answered": "已回答",
        "refused": "拒答",
        "yes": "是",
        "no": "否",
        "stage_scanning": "扫描文件",
        "stage_loading": "读取文件",
        "stage_chunking": "切分条款",
        "stage_ocr": "文字识别（OCR）",
        "status_ocr": "文字识别（OCR）",
        "stage_embedding": "生成向量",
        "stage_publishing": "发布索引",
        "auth_message": "请使用单位账号登录制度问答助手。连续输错 {n} 次密码后，需等待片刻再试（每次加倍）。",
        "no_users": "已启用登录，但还没有任何用户。请先创建管理员账号：\n"
        "    policyqa users add NAME --role admin\n"
        "（或使用 policyqa serve --no-auth 以单用户演示模式启动）",
        "first_ingest": "尚未建立索引，正在导入 {src} 中的制度文件（首次启动可能需要几分钟）……",
        "examples": "我工作满十年，年假有几天？|依申请公开政府信息，多久内答复？|出差住宿费标准是多少？|用印申请需要谁审批？",
    },
    "en": {
        "title": "Policy Q&A",
        "subtitle": "Answers from the current regulations, with their sources (article, page).",
        "tab_chat": "Ask",
        "tab_admin": "Admin",
        "chat_label": "Conversation",
        "chat_placeholder": "Ask a question, e.g. “How many days of annual leave after ten years?”",
        "question_label": "Question",
        "question_placeholder": "Type your question and press Enter",
        "send": "Send",
        "new_chat": "New conversation",
        "logout": "Log out",
        "sources": "Sources",
        "sources_empty": "After a question, the passages the answer relies on are listed here.",
        "searching": "Searching the regulations…",
        "open_doc": "Open document",
        "viewer": "Document",
        "close_viewer": "Close",
        "doc_unavailable": "This document cannot be opened (missing, or not readable by you).",
        "page": "Page {n}",
        "pages_of": "{total} pages; showing page {pages}",
        "window_note": "Long document: only the part around the cited passage is shown.",
        "version": "Version",
        "doc_number": "Doc. No.",
        "issuer": "Issued by",
        "written": "Dated",
        "effective": "In force from",
        "file": "File",
        "refusal_title": "No basis found in the current regulations",
        "refusal_suggest": "Documents that may be related:",
        "unverified": "Some statements could not be verified against the sources and were removed.",
        "error": "Error: {msg}",
        "fb_label": "Comment (optional)",
        "fb_placeholder": "What was wrong or missing? Admins will see it.",
        "fb_submit": "Send comment",
        "fb_thanks": "Thanks for the feedback!",
        "fb_saved": "Comment saved.",
        "fb_none": "Rate an answer with 👍 or 👎 first.",
        "forbidden": "Forbidden: admins only.",
        "not_logged_in": "Not logged in, or the user was removed: please log in again.",
        "who": "Signed in as {name} ({role})",
        "role_admin": "admin",
        "role_staff": "staff",
        "admin_status": "Corpus",
        "admin_docs": "Documents",
        "admin_log": "Questions",
        "admin_usage": "Usage",
        "refresh": "Refresh",
        "upload_label": "Upload files (.md .txt .docx .pdf .html .ofd, scans .png .jpg .tif)",
        "upload_btn": "Upload and re-ingest",
        "reingest_btn": "Re-ingest only",
        "remove_label": "Document to remove",
        "remove_confirm": "I confirm deleting this file from the source folder",
        "remove_btn": "Remove and re-ingest",
        "remove_need_confirm": "Tick the confirmation box first.",
        "remove_none": "Choose a document.",
        "removed": "Removed: {name}",
        "uploaded": "Saved: {names}",
        "rejected": "Rejected: {items}",
        "no_files": "Choose files to upload first.",
        "folder_label": "Save into folder",
        "folder_root": "(top folder)",
        "replace_confirm": "Replace documents with the same name (the old file goes to the trash)",
        "preview_none": "Choose files to see where they will be saved and who can read them.",
        "preview_row": "{target}: 《{title}》, readable by: {groups}",
        "preview_all": "every logged-in user",
        "preview_replaces": " (replaces the current file)",
        "preview_refused": "{name}: cannot be saved: {problem}",
        "trash_label": "Trash (replaced or removed files)",
        "trash_item": "{source} ({reason}, {at})",
        "trash_replaced": "replaced",
        "trash_removed": "removed",
        "restore_btn": "Restore and re-ingest",
        "restored": "Restored: {name}",
        "trash_none": "Choose an item from the trash.",
        "busy": "An ingest is already running; try again when it has finished.",
        "ingest_done": "Ingest finished: {summary}",
        "ingest_failed": "Ingest failed: {msg}",
        "only_negative": "Only thumbs-down 👎",
        "only_refused": "Only refusals",
        "user_filter": "User",
        "days": "Days",
        "plot_questions": "Questions per day",
        "plot_rates": "Refusal and thumbs-down rates",
        "plot_top": "Most cited documents",
        "never_cited": "Documents never cited",
        "col_day": "day",
        "col_questions": "questions",
        "col_metric": "metric",
        "col_rate": "rate",
        "col_doc": "document",
        "col_citations": "citations",
        "refusal_rate": "refusal rate",
        "negative_rate": "thumbs-down rate",
        "status_none": "No index yet.",
        "status_docs": "Documents",
        "status_chunks": "Chunks",
        "status_embedder": "Embedder",
        "status_adapter": "Query adapter",
        "status_adapter_on": "in use (gate {gate})",
        "status_adapter_off": "not in use",
        "status_built": "Last ingest",
        "status_summary": "Summary",
        "status_running": "Ingest running",
        "status_llm": "LLM",
        "status_llm_off": "not configured (extractive answers)",
        "status_skipped": "Skipped files",
        "status_reason": "Reason",
        "status_none_skipped": "none",
        "summary": "ingested {ingested}, unchanged {unchanged}, skipped {skipped}, removed {removed}; "
        "{embedded} chunks embedded, {chunks} chunks in {docs} documents ({seconds:.1f} s)",
        "log_cols": "time|user|question|result|sources|rating|comment|ms",
        "answered": "answered",
        "refused": "refused",
        "yes": "yes",
        "no": "no",
        "stage_scanning": "scanning",
        "stage_loading": "reading",
        "stage_chunking": "chunking",
        "stage_ocr": "OCR",
        "status_ocr": "OCR",
        "stage_embedding": "embedding",
        "stage_publishing": "publishing",
        "auth_message": "Log in with your office account. After {n} wrong passwords, wait a "
        "moment before trying again (the wait doubles each time).",
        "no_users": "Login is on but there are no users yet. Create an admin first:\n"
        "    policyqa users add NAME --role admin\n"
        "(or start a single-user demo with policyqa serve --no-auth)",
        "first_ingest": "No index yet: ingesting {src} (a few minutes on first start)…",
        "examples": "How many days of annual leave after ten years of work?|How long does an "
        "agency have to answer a request for government information?|What is the hotel "
        "allowance on business trips?|Who approves a request to use the official seal?",
    },
}


def strings(lang: str) -> dict[str, str]:
    return TEXT["en"] if lang == "en" else TEXT["zh"]


# --- HTML rendering (pure functions; every piece of outside text goes through esc) -----------


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


def _pages(pages: Sequence[int], t: dict[str, str]) -> str:
    if not pages:
        return ""
    shown = str(pages[0]) if len(pages) == 1 else f"{pages[0]}–{pages[-1]}"
    return t["page"].format(n=shown)


def citation_header(c: Citation, t: dict[str, str]) -> str:
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
    t: dict[str, str],
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


def render_document(info: DocumentInfo, text: str, chunk: Chunk | None, t: dict[str, str]) -> str:
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


def answer_markdown(answer: Answer, t: dict[str, str], show_notice: bool) -> str:
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


def error_markdown(message: str, t: dict[str, str]) -> str:
    return f'<div class="pq-refusal-msg">⚠ {md_text(t["error"].format(msg=message))}</div>'


def _local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(str(iso)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(iso)


def ingest_summary(run: dict, t: dict[str, str]) -> str:
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


def _adapter_line(adapter: dict, t: dict[str, str]) -> str:
    if adapter.get("error"):
        return adapter["error"]
    if adapter.get("in_use"):
        return t["status_adapter_on"].format(gate=adapter.get("gate"))
    return t["status_adapter_off"]


def _ocr_line(run: dict) -> str:
    """Documents the last run read by OCR, with their page counts ("—" when none)."""
    done = [f"{o['source']} ({len(o.get('pages', ()))})" for o in run.get("ocr") or ()]
    return "; ".join(done) or "—"


def render_status(status: dict, t: dict[str, str]) -> str:
    if not status.get("ready"):
        running = f" ({esc(t['status_running'])})" if status.get("ingest_running") else ""
        return f'<div class="pq-status">{esc(t["status_none"])}{running}</div>'
    run = status.get("last_run") or {}
    rows = [
        (t["status_docs"], status.get("documents")),
        (t["status_chunks"], status.get("chunks")),
        (t["status_embedder"], status.get("embedder")),
        (t["status_adapter"], _adapter_line(status.get("query_adapter") or {}, t)),
        (t["status_built"], _local_time(run.get("finished_at") or status.get("built_at"))),
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


def refusal(message: str, user: str | None = None) -> gr.Error:
    """An expected refusal (not logged in, forbidden, over a limit...): one log line, no
    traceback, the message shown to the user."""
    log.info("refused %s: %s", user or "-", message)
    return gr.Error(message, print_exception=False)


def new_conversation() -> dict:
    return {"history": [], "context": [], "entries": {}, "notices": [], "rated": None}


CSS = """
.pq-sources-title { font-weight: 600; margin: 4px 0 8px; }
.pq-muted { color: #6b7280; font-size: 0.9em; }
.pq-cite { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
  background: #fafafa; }
.pq-cite-head { font-weight: 600; }
.pq-n { color: #2563eb; }
.pq-meta { color: #6b7280; font-size: 0.85em; margin: 2px 0 6px; }
.pq-passage { margin: 6px 0; padding: 6px 10px; border-left: 3px solid #93c5fd; background: #fff;
  white-space: pre-wrap; line-height: 1.6; max-height: 240px; overflow: auto; }
mark.pq-hit { background: #fde68a; padding: 0 1px; }
.pq-open { border: 1px solid #2563eb; color: #2563eb; background: #fff; border-radius: 6px;
  padding: 2px 10px; cursor: pointer; font-size: 0.9em; }
.pq-open:hover { background: #eff6ff; }
.pq-refusal, .pq-refusal-msg { background: #f3f4f6; border: 1px solid #d1d5db; color: #374151;
  border-radius: 8px; padding: 10px 12px; }
.pq-refusal-title { font-weight: 600; margin-bottom: 6px; }
.pq-notice { color: #6b7280; font-size: 0.85em; margin-top: 6px; }
sup.pq-ref { color: #2563eb; font-weight: 600; }
.pq-doc-title { font-size: 1.1em; font-weight: 600; }
.pq-doc-text { white-space: pre-wrap; line-height: 1.7; max-height: 60vh; overflow: auto;
  border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 14px; background: #fff; }
.pq-page-no { font-weight: 600; color: #374151; margin: 8px 0 4px; }
.pq-table { border-collapse: collapse; margin-bottom: 10px; }
.pq-table th, .pq-table td { border: 1px solid #e5e7eb; padding: 4px 10px; text-align: left;
  vertical-align: top; }
.pq-table th { background: #f9fafb; white-space: nowrap; }
"""

# Delegated click handler: works for every re-render of the panel's HTML. Sends only the two
# ids; the server resolves them through Assistant.document() with the caller's access rights.
_SOURCES_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-doc]');
  if (!button) return;
  event.preventDefault();
  trigger('click', {doc_id: button.dataset.doc || '', chunk_id: button.dataset.chunk || ''});
});
"""
_VIEWER_JS = """
const go = () => {
  const hit = element.querySelector('#pq-hit');
  if (hit) setTimeout(() => hit.scrollIntoView({block: 'center'}), 50);
};
watch('value', go);
go();
"""


def create_app(
    assistant: Assistant, settings: Settings, users: UserStore | None, audit: AuditLog
) -> gr.Blocks:
    """Build the Blocks app (not launched). ``users`` None = no login: everyone is a local
    admin (single-user demo, ``policyqa serve --no-auth``)."""
    t = strings(settings.lang)
    examples = t["examples"].split("|")
    limiter = QuestionLimiter(
        QuestionPolicy(int(settings.questions_per_minute), int(settings.questions_in_flight))
    )

    # --- identity ---

    def person(request: gr.Request | None) -> User:
        if users is None:
            return User("local", "admin")
        name = getattr(request, "username", None) if request is not None else None
        user = users.get(name) if name else None
        if user is None:
            raise refusal(t["not_logged_in"], name)
        return user

    def admin(request: gr.Request | None) -> User:
        who = person(request)
        if not who.is_admin:
            raise refusal(t["forbidden"], who.name)
        return who

    # --- fair use: questions are admitted per user before they join the shared queue ---

    def in_flight(name: str) -> int:
        """The user's questions waiting or running in Gradio's queue (read, not counted by
        us, so a dropped job never leaks a slot)."""
        queue = getattr(demo, "_queue", None)
        if queue is None:
            return 0
        waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
        running = [e for job in queue.active_jobs if job for e in job]
        return sum(
            1
            for e in waiting + running
            if e.username == name and getattr(e.fn, "name", "") in QUESTION_EVENTS
        )

    def admitted(request: gr.Request) -> str:
        """The refusal message when the user may not ask now, else "" (and it is counted)."""
        who = person(request)
        refused = limiter.admit(who.name, in_flight(who.name))
        if refused is None:
            return ""
        log.info("refused %s: %s", who.name, refused.message())
        return refused.message()

    def admit_chat(question: str, chat: list, conv: dict, request: gr.Request) -> list:
        """Validator of the chat's question events (runs when the request joins the queue):
        a refusal is shown under the question box, the conversation stays as it is."""
        message = admitted(request) if (question or "").strip() else ""
        return [gr.validate(not message, message)] + [gr.validate(True, "")] * 2

    def admit_api(question: str, request: gr.Request) -> None:
        """Validator of /ask and /ask_stream: a refusal is an error with the message."""
        message = admitted(request)
        if message:
            raise gr.Error(message, print_exception=False)

    # --- asking ---

    def run_question(
        who: User, question: str, history: Sequence[tuple[str, str]], context: Sequence[str]
    ) -> Iterator[str | tuple[Answer, str]]:
        """Partial texts, then (final Answer, audit entry id)."""
        started = time.monotonic()
        final: Answer | None = None
        for item in assistant.ask_stream(question, Viewer.of(who), history, context):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None
        latency = (time.monotonic() - started) * 1000.0
        entry = audit.record(who.name, question, final, latency, groups=who.groups)
        yield final, entry

    def passages_for(answer: Answer, who: User) -> dict[str, Chunk | None]:
        return {c.chunk_id: assistant.chunk(c.chunk_id, Viewer.of(who)) for c in answer.citations}

    def suggestions_for(answer: Answer, who: User) -> list[tuple[str, str]]:
        if not answer.suggestions:
            return []
        by_title = {d.title: d.id for d in assistant.documents(Viewer.of(who))}
        return [(title, by_title.get(title, "")) for title in answer.suggestions]

    def sources_html(answer: Answer | None, who: User) -> str:
        if answer is None:
            return render_sources(None, {}, [], t)
        return render_sources(answer, passages_for(answer, who), suggestions_for(answer, who), t)

    def respond(question: str, chat: list, conv: dict, request: gr.Request):
        question = (question or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        who = person(request)
        conv = dict(conv or new_conversation())
        chat = list(chat or []) + [
            {"role": "user", "content": md_text(question)},
            {"role": "assistant", "content": esc(t["searching"])},
        ]
        waiting = f'<div class="pq-sources"><div class="pq-muted">{esc(t["searching"])}</div></div>'
        yield list(chat), "", waiting, conv, gr.update(visible=False)
        history = [tuple(pair) for pair in conv["history"]]
        try:
            for item in run_question(who, question, history, conv["context"]):
                if isinstance(item, str):
                    chat[-1] = {"role": "assistant", "content": md_text(item)}
                    yield list(chat), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    continue
                answer, entry = item
        except PolicyQAError as exc:
            chat[-1] = {"role": "assistant", "content": error_markdown(str(exc), t)}
            yield chat, gr.skip(), render_sources(None, {}, [], t), conv, gr.skip()
            return
        key = "llm" if answer.notice.startswith("大模型") else answer.notice
        show_notice = bool(answer.notice) and key not in conv["notices"]
        chat[-1] = {"role": "assistant", "content": answer_markdown(answer, t, show_notice)}
        conv["notices"] = conv["notices"] + ([key] if show_notice else [])
        conv["history"] = conv["history"] + [[question, answer.text]]
        conv["context"] = list(dict.fromkeys(c.doc_id for c in answer.citations if c.doc_id))
        conv["entries"] = {**conv["entries"], str(len(chat) - 1): entry}
        yield chat, gr.skip(), sources_html(answer, who), conv, gr.skip()

    def new_chat():
        return (
            [],
            new_conversation(),
            render_sources(None, {}, [], t),
            "",
            gr.update(visible=False),
            gr.update(visible=False),
            "",
        )

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    # --- feedback ---

    def on_like(conv: dict, evt: gr.LikeData, request: gr.Request):
        who = person(request)
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        entry = (conv or {}).get("entries", {}).get(str(index))
        if entry is None or evt.liked not in (True, False):
            return gr.skip(), gr.skip()
        rating = 1 if evt.liked else -1
        audit.feedback(entry, who.name, rating, "")
        gr.Info(t["fb_thanks"])
        conv = {**conv, "rated": [entry, rating]}
        return conv, gr.update(visible=True)

    def on_comment(comment: str, conv: dict, request: gr.Request):
        who = person(request)
        rated = (conv or {}).get("rated")
        if not rated:
            gr.Warning(t["fb_none"])
            return gr.skip(), gr.skip()
        audit.feedback(rated[0], who.name, int(rated[1]), (comment or "").strip()[:2000])
        gr.Info(t["fb_saved"])
        return "", gr.update(visible=False)

    # --- the source viewer ---

    def open_document(evt: gr.EventData, request: gr.Request):
        who = person(request)
        data = getattr(evt, "_data", None) or {}
        doc_id, chunk_id = str(data.get("doc_id") or ""), str(data.get("chunk_id") or "")
        found = assistant.document(doc_id, Viewer.of(who)) if doc_id else None
        if found is None:
            body = f'<div class="pq-refusal">{esc(t["doc_unavailable"])}</div>'
            return gr.update(visible=True), body
        info, text = found
        chunk = assistant.chunk(chunk_id, Viewer.of(who)) if chunk_id else None
        return gr.update(visible=True), render_document(info, text, chunk, t)

    # --- API endpoints ---

    def ask(question: str, request: gr.Request) -> dict:
        """制度问答 / Ask: JSON {answer, refused, verified, mode, citations, suggestions, notice,
        entry_id}."""
        who = person(request)
        for item in run_question(who, str(question or ""), (), ()):
            if isinstance(item, tuple):
                answer, entry = item
        return {**answer.to_json(), "entry_id": entry}

    def ask_stream(question: str, request: gr.Request) -> Iterator[dict]:
        """Streaming ask: {"partial": true, "answer": text so far}..., then the final JSON
        (as /ask) with "partial": false."""
        who = person(request)
        yield {"partial": True, "answer": ""}
        for item in run_question(who, str(question or ""), (), ()):
            if isinstance(item, str):
                yield {"partial": True, "answer": item}
            else:
                answer, entry = item
                yield {**answer.to_json(), "entry_id": entry, "partial": False}

    def feedback(entry_id: str, rating: int, comment: str, request: gr.Request) -> dict:
        """Rate an answer you asked for (+1 / -1) with an optional comment."""
        who = person(request)
        entry = audit.get(str(entry_id))
        if entry is None or (entry["user"] != who.name and not who.is_admin):
            raise refusal("没有这条问答记录 / unknown entry", who.name)
        try:
            audit.feedback(str(entry_id), who.name, int(rating), str(comment or "")[:2000])
        except PolicyQAError as exc:
            raise refusal(str(exc), who.name) from None
        return {"ok": True}

    # --- admin ---

    def status_html(request: gr.Request) -> str:
        admin(request)
        return render_status(assistant.status(), t)

    def _ingest(progress: gr.Progress) -> str:
        if assistant.ingest_running():
            return t["busy"]

        def report(stage: str, done: int, total: int) -> None:
            desc = t.get(f"stage_{stage}", stage)
            progress((done, total) if total else 0.0, desc=desc)

        try:
            result = assistant.reingest(progress=report)
        except IndexBusy:
            return t["busy"]
        except PolicyQAError as exc:
            return t["ingest_failed"].format(msg=str(exc))
        return t["ingest_done"].format(summary=ingest_summary(result.to_json(), t))

    def reingest(request: gr.Request, progress=gr.Progress()) -> str:
        admin(request)
        return _ingest(progress)

    def preview(files: list | None, folder: str, request: gr.Request) -> str:
        """Where each chosen file would go, its title and groups (nothing is saved)."""
        admin(request)
        items = uploads_of(files)
        return (
            render_plan(assistant.library.plan(items, folder or ""), t)
            if items
            else t["preview_none"]
        )

    def upload(
        files: list | None,
        folder: str,
        replace_ok: bool,
        request: gr.Request,
        progress=gr.Progress(),
    ) -> str:
        items = uploads_of(files)
        try:
            admin(request)
            if not items:
                return t["no_files"]
            if assistant.ingest_running():
                return t["busy"]
            result = assistant.library.add(items, folder or "", replace_existing=bool(replace_ok))
        finally:
            discard_uploads(items)
        lines = add_summary(result, t)
        if result.saved:
            lines.append(_ingest(progress))
        return "\n\n".join(esc(line) for line in lines)

    def remove(doc_id: str, confirmed: bool, request: gr.Request, progress=gr.Progress()) -> str:
        admin(request)
        if not doc_id:
            return t["remove_none"]
        if not confirmed:
            return t["remove_need_confirm"]
        if assistant.ingest_running():
            return t["busy"]
        info = next((d for d in assistant.documents(Viewer.admin()) if d.id == doc_id), None)
        if info is None:
            return t["remove_none"]
        try:
            assistant.library.remove(info.source)
        except PolicyQAError as exc:
            return esc(str(exc))
        return esc(t["removed"].format(name=info.source)) + "\n\n" + esc(_ingest(progress))

    def trash_list(request: gr.Request) -> list[dict]:
        """回收站 / Trash: replaced and removed files, newest first: [{id, source, reason, at}]."""
        admin(request)
        return [asdict(e) for e in assistant.library.trash()]

    def restore(entry_id: str, request: gr.Request, progress=gr.Progress()) -> str:
        admin(request)
        if not entry_id:
            return t["trash_none"]
        if assistant.ingest_running():
            return t["busy"]
        try:
            entry = assistant.library.restore(str(entry_id))
        except PolicyQAError as exc:
            return esc(str(exc))
        return esc(t["restored"].format(name=entry.source)) + "\n\n" + esc(_ingest(progress))

    def trash_choices() -> list[tuple[str, str]]:
        reasons = {"replaced": t["trash_replaced"], "removed": t["trash_removed"]}
        return [
            (
                t["trash_item"].format(
                    source=e.source, reason=reasons[e.reason], at=_local_time(e.at)
                ),
                e.id,
            )
            for e in assistant.library.trash()
        ]

    def folder_choices() -> list[tuple[str, str]]:
        return [(t["folder_root"], "")] + [(f, f) for f in assistant.library.folders()]

    def document_choices() -> list[tuple[str, str]]:
        if not assistant.has_index():
            return []
        return [(f"{d.source}（《{d.title}》）", d.id) for d in assistant.documents(Viewer.admin())]

    def recent(only_negative: bool, only_refused: bool, user: str, request: gr.Request):
        admin(request)
        rows = audit.recent(
            200, bool(only_negative), bool(only_refused), (user or "").strip() or None
        )
        columns = t["log_cols"].split("|")
        data = [
            [
                _local_time(r["time"]),
                r["user"],
                r["question"],
                t["refused"] if r["refused"] else t["answered"],
                "；".join(
                    f"《{s.get('title', '')}》{'、'.join(s.get('articles', []))}"
                    for s in r.get("sources", [])
                ),
                {1: "👍", -1: "👎"}.get(r.get("rating"), ""),
                r.get("comment") or "",
                round(float(r.get("latency_ms") or 0)),
            ]
            for r in rows
        ]
        return pd.DataFrame(data, columns=columns)

    def usage(days: int, request: gr.Request):
        admin(request)
        stats = audit.usage(int(days or 30))
        per_day = stats["per_day"]
        day, n, metric, rate = t["col_day"], t["col_questions"], t["col_metric"], t["col_rate"]
        questions = pd.DataFrame(
            {day: [d["day"][5:] for d in per_day], n: [d["questions"] for d in per_day]}
        )  # MM-DD labels: 30 full dates do not fit under the bars
        rates = pd.DataFrame(
            [
                {day: pd.Timestamp(d["day"]), metric: t["refusal_rate"], rate: d["refusal_rate"]}
                for d in per_day
            ]
            + [
                {day: pd.Timestamp(d["day"]), metric: t["negative_rate"], rate: d["negative_rate"]}
                for d in per_day
            ]
        )
        doc, cites = t["col_doc"], t["col_citations"]
        top = pd.DataFrame(
            {
                doc: [d["title"] for d in stats["top_documents"]],
                cites: [d["citations"] for d in stats["top_documents"]],
            }
        )
        titles = (
            sorted({d.title for d in assistant.documents(Viewer.admin())})
            if (assistant.has_index())
            else []
        )
        never = pd.DataFrame(
            {t["never_cited"]: [x for x in titles if x not in stats["cited_titles"]]}
        )
        return questions, rates, top, never

    def on_load(request: gr.Request):
        who = person(request)
        role = t["role_admin"] if who.is_admin else t["role_staff"]
        label = t["who"].format(name=who.name, role=role)
        if not who.is_admin:
            return (label, gr.update(visible=False)) + (gr.skip(),) * 9
        return (
            label,
            gr.update(visible=True),
            render_status(assistant.status(), t),
            gr.update(choices=document_choices(), value=None),
            recent(False, False, "", request),
            *usage(30, request),
            gr.update(choices=folder_choices(), value=""),
            gr.update(choices=trash_choices(), value=None),
        )

    def after_admin(request: gr.Request):
        admin(request)
        return (
            gr.update(choices=document_choices(), value=None),
            False,
            render_status(assistant.status(), t),
            None,
            False,
            gr.update(choices=folder_choices()),
            gr.update(choices=trash_choices(), value=None),
        )

    # --- layout ---

    with gr.Blocks(title=t["title"], analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        conv = gr.State(new_conversation())
        with gr.Row():
            gr.Markdown(f"## {t['title']}\n{t['subtitle']}")
            with gr.Column(scale=0, min_width=220):
                who_md = gr.Markdown("", elem_id="pq-who")
                if users is not None:
                    gr.Button(t["logout"], link="/logout", size="sm", elem_id="pq-logout")
        with gr.Tabs():
            with gr.Tab(t["tab_chat"], id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label=t["chat_label"],
                            height=520,
                            elem_id="pq-chat",
                            placeholder=t["chat_placeholder"],
                            examples=[{"text": q} for q in examples],
                            feedback_options=("Like", "Dislike"),
                            buttons=["copy"],
                            latex_delimiters=[],
                            sanitize_html=True,
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False,
                                placeholder=t["question_placeholder"],
                                scale=8,
                                lines=1,
                                max_lines=4,
                                elem_id="pq-question",
                                autofocus=True,
                            )
                            with gr.Column(scale=1, min_width=90):
                                send = gr.Button(t["send"], variant="primary", elem_id="pq-send")
                                clear = gr.Button(t["new_chat"], size="sm", elem_id="pq-new")
                        with gr.Row(visible=False) as feedback_row:
                            comment = gr.Textbox(
                                label=t["fb_label"],
                                placeholder=t["fb_placeholder"],
                                scale=8,
                                elem_id="pq-comment",
                            )
                            comment_send = gr.Button(t["fb_submit"], scale=1, min_width=80)
                    with gr.Column(scale=2):
                        sources = gr.HTML(
                            render_sources(None, {}, [], t),
                            js_on_load=_SOURCES_JS,
                            elem_id="pq-sources",
                            max_height=700,
                            container=True,
                            padding=True,
                        )
                with gr.Column(visible=False, elem_id="pq-viewer-box") as viewer_box:
                    with gr.Row():
                        gr.Markdown(f"### {t['viewer']}")
                        close_viewer = gr.Button(
                            t["close_viewer"], size="sm", scale=0, min_width=100
                        )
                    viewer = gr.HTML("", js_on_load=_VIEWER_JS, elem_id="pq-viewer")
            with gr.Tab(t["tab_admin"], id="admin", visible=False, elem_id="pq-admin") as admin_tab:
                with gr.Accordion(t["admin_status"], open=True):
                    status_box = gr.HTML("", elem_id="pq-status")
                    status_refresh = gr.Button(t["refresh"], size="sm", scale=0, min_width=80)
                with gr.Tabs():
                    with gr.Tab(t["admin_docs"]):
                        files = gr.File(
                            label=t["upload_label"],
                            file_count="multiple",
                            file_types=list(ALLOWED_EXTENSIONS),
                        )
                        with gr.Row():
                            folder_choice = gr.Dropdown(
                                label=t["folder_label"],
                                choices=[(t["folder_root"], "")],
                                value="",
                                scale=2,
                                allow_custom_value=True,  # library checks it
                            )
                            replace_box = gr.Checkbox(
                                label=t["replace_confirm"], value=False, scale=3
                            )
                        upload_preview = gr.Markdown(t["preview_none"], elem_id="pq-preview")
                        with gr.Row():
                            upload_btn = gr.Button(t["upload_btn"], variant="primary")
                            reingest_btn = gr.Button(t["reingest_btn"])
                        with gr.Row():
                            doc_choice = gr.Dropdown(
                                label=t["remove_label"],
                                choices=[],
                                scale=4,
                                allow_custom_value=True,
                            )  # mapped to an indexed id
                            confirm = gr.Checkbox(label=t["remove_confirm"], value=False, scale=2)
                            remove_btn = gr.Button(t["remove_btn"], variant="stop", scale=1)
                        with gr.Row():
                            trash_choice = gr.Dropdown(
                                label=t["trash_label"], choices=[], scale=4, allow_custom_value=True
                            )
                            restore_btn = gr.Button(t["restore_btn"], scale=1)
                        admin_result = gr.Markdown("", elem_id="pq-admin-result")
                    with gr.Tab(t["admin_log"]):
                        with gr.Row():
                            only_negative = gr.Checkbox(label=t["only_negative"], value=False)
                            only_refused = gr.Checkbox(label=t["only_refused"], value=False)
                            user_filter = gr.Textbox(label=t["user_filter"], scale=2)
                            log_refresh = gr.Button(t["refresh"], size="sm")
                        log_table = gr.Dataframe(interactive=False, wrap=True, elem_id="pq-log")
                    with gr.Tab(t["admin_usage"]):
                        days = gr.Dropdown(label=t["days"], choices=[7, 30, 90], value=30)
                        with gr.Row():
                            plot_questions = gr.BarPlot(
                                x=t["col_day"],
                                y=t["col_questions"],
                                title=t["plot_questions"],
                                x_label_angle=-45,
                                y_lim=[0, None],
                                elem_id="pq-plot-questions",
                            )
                            plot_rates = gr.LinePlot(
                                x=t["col_day"],
                                y=t["col_rate"],
                                color=t["col_metric"],
                                title=t["plot_rates"],
                                y_lim=[0, 1],
                            )
                        with gr.Row():
                            plot_top = gr.BarPlot(
                                x=t["col_doc"],
                                y=t["col_citations"],
                                title=t["plot_top"],
                                sort="-y",
                                x_label_angle=-30,
                                y_lim=[0, None],
                            )
                            never_table = gr.Dataframe(interactive=False, label=t["never_cited"])

        # --- events ---
        # UI-internal events are "private" (not callable from gradio_client); the admin events
        # keep public names so scripts can call them -- each one checks the role itself.
        private = {"api_visibility": "private"}
        chat_outputs = [chatbot, question, sources, conv, feedback_row]
        gate = {"validator": admit_chat}
        question.submit(respond, [question, chatbot, conv], chat_outputs, **gate, **private)
        send.click(respond, [question, chatbot, conv], chat_outputs, **gate, **private)
        chatbot.example_select(pick_example, None, question, **private).then(
            respond, [question, chatbot, conv], chat_outputs, **gate, **private
        )
        reset_outputs = [chatbot, conv, sources, question, feedback_row, viewer_box, viewer]
        clear.click(new_chat, None, reset_outputs, **private)
        chatbot.clear(new_chat, None, reset_outputs, **private)  # the chat's own 🗑 button
        chatbot.like(on_like, [conv], [conv, feedback_row], concurrency_limit=None, **private)
        comment_send.click(
            on_comment, [comment, conv], [comment, feedback_row], concurrency_limit=None, **private
        )
        sources.click(open_document, None, [viewer_box, viewer], concurrency_limit=None, **private)
        close_viewer.click(
            lambda: (gr.update(visible=False), ""), None, [viewer_box, viewer], **private
        )

        # Admin events: concurrency_limit=None so that a re-ingest never waits behind questions
        # in the queue (a second run is refused by the service's lock instead of queued).
        # They are "undocumented": callable by scripts, absent from the API page and the login
        # page's API info (webui/guard.py also keeps ?all_endpoints from non-admins).
        admin_kw = {"concurrency_limit": None, "api_visibility": "undocumented"}
        status_refresh.click(status_html, None, status_box, api_name="admin_status", **admin_kw)
        after_outputs = [
            doc_choice,
            confirm,
            status_box,
            files,
            replace_box,
            folder_choice,
            trash_choice,
        ]
        reingest_btn.click(
            reingest, None, admin_result, api_name="admin_reingest", **admin_kw
        ).then(after_admin, None, after_outputs, **private)
        files.change(
            preview, [files, folder_choice], upload_preview, api_name="admin_preview", **admin_kw
        )
        folder_choice.change(preview, [files, folder_choice], upload_preview, **private)
        upload_btn.click(
            upload,
            [files, folder_choice, replace_box],
            admin_result,
            api_name="admin_upload",
            **admin_kw,
        ).then(after_admin, None, after_outputs, **private)
        remove_btn.click(
            remove, [doc_choice, confirm], admin_result, api_name="admin_remove", **admin_kw
        ).then(after_admin, None, after_outputs, **private)
        restore_btn.click(
            restore, [trash_choice], admin_result, api_name="admin_restore", **admin_kw
        ).then(after_admin, None, after_outputs, **private)
        log_inputs = [only_negative, only_refused, user_filter]
        log_refresh.click(recent, log_inputs, log_table, api_name="admin_recent", **admin_kw)
        for box in (only_negative, only_refused):
            box.change(recent, log_inputs, log_table, **private, concurrency_limit=None)
        usage_outputs = [plot_questions, plot_rates, plot_top, never_table]
        days.change(usage, [days], usage_outputs, api_name="admin_usage", **admin_kw)

        demo.load(
            on_load,
            None,
            [
                who_md,
                admin_tab,
                status_box,
                doc_choice,
                log_table,
                *usage_outputs,
                folder_choice,
                trash_choice,
            ],
            show_progress="hidden",
            **private,
            concurrency_limit=None,
        )

        gr.api(ask, api_name="ask")
        gr.api(ask_stream, api_name="ask_stream")
        gr.api(feedback, api_name="feedback", concurrency_limit=None)
        gr.api(trash_list, api_name="admin_trash", **admin_kw)
        for fn in demo.fns.values():  # gr.api takes no validator: the same gate, set after
            if fn.name in ("ask", "ask_stream"):
                fn.validator = admit_api

    # Questions are CPU-bound (query embedding + FAISS + BM25 + reranking on the same 2 cores that
    # colleagues share); running more than `settings.concurrency` at once only makes every answer
    # slower, so further questions wait in the queue (and see their position) instead. max_size
    # bounds that queue so an overload gets a clear "queue full" rather than minutes of spinner.
    demo.queue(default_concurrency_limit=max(1, int(settings.concurrency)), max_size=QUEUE_MAX)
    return demo


def launch_options(settings: Settings, users: UserStore | None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (Gradio 6 takes css/theme there): login through
    the user store, no sharing, nothing fetched from the internet."""
    t = strings(settings.lang)
    options: dict[str, Any] = {
        "css": CSS,
        # system fonts only: the default theme would load Google Fonts
        "theme": gr.themes.Default(
            font=["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "system-ui", "sans-serif"],
            font_mono=["ui-monospace", "Consolas", "monospace"],
        ),
        "share": False,
        "ssr_mode": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "max_file_size": f"{settings.max_file_mb:g}mb",
        "show_error": False,  # unexpected errors stay in the server log; gr.Error texts still show
    }
    if users is not None:
        from webui.guard import login_options

        options.update(login_options(settings, users))  # async check, back-off, sessions
        options["auth_message"] = t["auth_message"].format(n=settings.login_free_failures)
    return options


def _console_progress(t: dict[str, str]):
    last = {"stage": None}

    def report(stage: str, done: int, total: int) -> None:
        if stage != last["stage"] or done == total:
            last["stage"] = stage
            print(f"  {t.get('stage_' + stage, stage)} {done}/{total}", file=sys.stderr, flush=True)

    return report


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (not the stream of the first call)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def serve(settings: Settings) -> None:
    """Build everything and run the app until interrupted (what `policyqa serve` calls)."""
    from assistant.audit import AuditLog
    from assistant.users import UserStore

    t = strings(settings.lang)
    if not log.handlers:  # refusals, failed logins, ended sessions: one line each on stderr
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    users = None
    if settings.auth:
        users = UserStore(settings.data_dir / "users.json")
        if users.empty:
            print(t["no_users"], file=sys.stderr)
            raise SystemExit(2)
    assistant = Assistant(settings)
    if not assistant.has_index():
        print(t["first_ingest"].format(src=settings.source_dir), file=sys.stderr, flush=True)
        report = assistant.reingest(progress=_console_progress(t))
        print(ingest_summary(report.to_json(), t), file=sys.stderr, flush=True)
    audit = AuditLog(settings.data_dir / "audit.sqlite")
    demo = create_app(assistant, settings, users, audit)
    demo.launch(
        server_name=settings.host, server_port=settings.port, **launch_options(settings, users)
    )


def main() -> None:
    try:
        serve(load_settings())
    except PolicyQAError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()

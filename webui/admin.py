"""The admin console: corpus status, upload / remove / restore documents and re-ingest, plus
the question log and usage tabs (``webui.insights``). Every handler checks the role itself.
Files in the source folder are written only through ``Assistant.library``; re-ingests run
through ``Assistant.reingest`` (a second one at a time is refused, not queued)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.service import Viewer
from ingest.errors import IndexBusy, PolicyQAError
from ingest.loaders import SUPPORTED

from .context import AppContext, bind
from .documents import add_summary, discard_uploads, render_plan, uploads_of
from .i18n import stage
from .insights import insights_tabs, recent, usage
from .render import esc, ingest_summary, local_time, render_status


def status_html(ctx: AppContext, request: gr.Request) -> str:
    ctx.admin(request)
    return render_status(ctx.assistant.status().to_json(), ctx.t)


def run_ingest_job(ctx: AppContext, progress: gr.Progress) -> str:
    """Re-ingest with a progress bar; the outcome as one line."""
    t = ctx.t
    if ctx.assistant.ingest_running():
        return t["busy"]

    def report(stage_name: str, done: int, total: int) -> None:
        progress((done, total) if total else 0.0, desc=stage(stage_name, t))

    try:
        result = ctx.assistant.reingest(progress=report)
    except IndexBusy:
        return t["busy"]
    except PolicyQAError as exc:
        return t["ingest_failed"].format(msg=str(exc))
    return t["ingest_done"].format(summary=ingest_summary(result.to_json(), t))


def reingest(ctx: AppContext, request: gr.Request, progress=gr.Progress()) -> str:
    ctx.admin(request)
    return run_ingest_job(ctx, progress)


def preview(ctx: AppContext, files: list | None, folder: str, request: gr.Request) -> str:
    """Where each chosen file would go, its title and groups (nothing is saved)."""
    ctx.admin(request)
    items = uploads_of(files)
    if not items:
        return ctx.t["preview_none"]
    return render_plan(ctx.assistant.library.plan(items, folder or ""), ctx.t)


def upload(
    ctx: AppContext,
    files: list | None,
    folder: str,
    replace_ok: bool,
    request: gr.Request,
    progress=gr.Progress(),
) -> str:
    """Save the uploads (checked by the library), then re-ingest; Gradio's temp copies go."""
    t = ctx.t
    items = uploads_of(files)
    try:
        ctx.admin(request)
        if not items:
            return t["no_files"]
        if ctx.assistant.ingest_running():
            return t["busy"]
        result = ctx.assistant.library.add(items, folder or "", replace_existing=bool(replace_ok))
    finally:
        discard_uploads(items)
    lines = add_summary(result, t)
    if result.saved:
        lines.append(run_ingest_job(ctx, progress))
    return "\n\n".join(esc(line) for line in lines)


def remove(
    ctx: AppContext, doc_id: str, confirmed: bool, request: gr.Request, progress=gr.Progress()
) -> str:
    """Remove an indexed document (by id, never by path) into the trash, then re-ingest."""
    ctx.admin(request)
    t = ctx.t
    if not doc_id:
        return t["remove_none"]
    if not confirmed:
        return t["remove_need_confirm"]
    if ctx.assistant.ingest_running():
        return t["busy"]
    info = next((d for d in ctx.assistant.documents(Viewer.admin()) if d.id == doc_id), None)
    if info is None:
        return t["remove_none"]
    try:
        ctx.assistant.library.remove(info.source)
    except PolicyQAError as exc:
        return esc(str(exc))
    return esc(t["removed"].format(name=info.source)) + "\n\n" + esc(run_ingest_job(ctx, progress))


def restore(ctx: AppContext, entry_id: str, request: gr.Request, progress=gr.Progress()) -> str:
    ctx.admin(request)
    t = ctx.t
    if not entry_id:
        return t["trash_none"]
    if ctx.assistant.ingest_running():
        return t["busy"]
    try:
        entry = ctx.assistant.library.restore(str(entry_id))
    except PolicyQAError as exc:
        return esc(str(exc))
    return (
        esc(t["restored"].format(name=entry.source)) + "\n\n" + esc(run_ingest_job(ctx, progress))
    )


# --- the choices offered in the forms -------------------------------------------------------------


def trash_choices(ctx: AppContext) -> list[tuple[str, str]]:
    t = ctx.t
    reasons = {"replaced": t["trash_replaced"], "removed": t["trash_removed"]}
    return [
        (
            t["trash_item"].format(source=e.source, reason=reasons[e.reason], at=local_time(e.at)),
            e.id,
        )
        for e in ctx.assistant.library.trash()
    ]


def folder_choices(ctx: AppContext) -> list[tuple[str, str]]:
    return [(ctx.t["folder_root"], "")] + [(f, f) for f in ctx.assistant.library.folders()]


def document_choices(ctx: AppContext) -> list[tuple[str, str]]:
    if not ctx.assistant.has_index():
        return []
    return [(f"{d.source}（《{d.title}》）", d.id) for d in ctx.assistant.documents(Viewer.admin())]


def after_change(ctx: AppContext, request: gr.Request) -> dict[str, Any]:
    """The forms reset and the status refreshed after an upload, removal or restore."""
    ctx.admin(request)
    return {
        "doc_choice": gr.update(choices=document_choices(ctx), value=None),
        "confirm": False,
        "status": render_status(ctx.assistant.status().to_json(), ctx.t),
        "files": None,
        "replace": False,
        "folder": gr.update(choices=folder_choices(ctx)),
        "trash": gr.update(choices=trash_choices(ctx), value=None),
    }


def load_page(ctx: AppContext, request: gr.Request) -> dict[str, Any]:
    """On page load: who is logged in; for an admin, the console filled in."""
    t = ctx.t
    who = ctx.person(request)
    role = t["role_admin"] if who.is_admin else t["role_staff"]
    shown = {"who": t["who"].format(name=who.name, role=role)}
    if not who.is_admin:
        return {**shown, "admin_tab": gr.update(visible=False)}
    return {
        **shown,
        "admin_tab": gr.update(visible=True),
        "status": render_status(ctx.assistant.status().to_json(), t),
        "doc_choice": gr.update(choices=document_choices(ctx), value=None),
        "log_table": recent(ctx, False, False, "", request),
        **dict(zip(USAGE_OUTPUTS, usage(ctx, 30, request), strict=True)),
        "folder": gr.update(choices=folder_choices(ctx), value=""),
        "trash": gr.update(choices=trash_choices(ctx), value=None),
    }


USAGE_OUTPUTS = ("plot_questions", "plot_rates", "plot_top", "never_table")


# --- layout and events ---------------------------------------------------------------------------


def admin_tab(ctx: AppContext) -> dict[str, Any]:
    """The admin tab (hidden until an admin loads the page); its components by name."""
    t = ctx.t
    parts: dict[str, Any] = {}
    with gr.Tab(ctx.label("tab_admin"), id="admin", visible=False, elem_id="pq-admin") as tab:
        parts["admin_tab"] = tab
        with gr.Accordion(ctx.label("admin_status"), open=True):
            parts["status"] = gr.HTML("", elem_id="pq-status")
            parts["status_refresh"] = gr.Button(
                ctx.label("refresh"), size="sm", scale=0, min_width=80
            )
        with gr.Tabs():
            with gr.Tab(ctx.label("admin_docs")):
                parts.update(_documents_form(t, ctx.label))
            log_parts = insights_tabs(ctx)
    parts.update(vars(log_parts))
    parts.update(zip(USAGE_OUTPUTS, log_parts.plots, strict=True))
    return parts


def _documents_form(t, label) -> dict[str, Any]:
    p: dict[str, Any] = {}
    p["files"] = gr.File(
        label=label("upload_label"), file_count="multiple", file_types=list(SUPPORTED)
    )
    with gr.Row():
        p["folder"] = gr.Dropdown(
            label=label("folder_label"),
            choices=[(t["folder_root"], "")],
            value="",
            scale=2,
            allow_custom_value=True,  # the library checks it
        )
        p["replace"] = gr.Checkbox(label=label("replace_confirm"), value=False, scale=3)
    p["preview"] = gr.Markdown(t["preview_none"], elem_id="pq-preview")
    with gr.Row():
        p["upload_btn"] = gr.Button(label("upload_btn"), variant="primary")
        p["reingest_btn"] = gr.Button(label("reingest_btn"))
    with gr.Row():
        p["doc_choice"] = gr.Dropdown(
            label=label("remove_label"), choices=[], scale=4, allow_custom_value=True
        )  # mapped to an indexed id
        p["confirm"] = gr.Checkbox(label=label("remove_confirm"), value=False, scale=2)
        p["remove_btn"] = gr.Button(label("remove_btn"), variant="stop", scale=1)
    with gr.Row():
        p["trash"] = gr.Dropdown(
            label=label("trash_label"), choices=[], scale=4, allow_custom_value=True
        )
        p["restore_btn"] = gr.Button(label("restore_btn"), scale=1)
    p["result"] = gr.Markdown("", elem_id="pq-admin-result")
    return p


# Admin events: concurrency_limit=None so that a re-ingest never waits behind questions in the
# queue (a second run is refused by the service's lock instead of queued). They are
# "undocumented": callable by scripts, absent from the API page and the login page's API info
# (webui/guard.py also keeps ?all_endpoints from non-admins).
ADMIN_KW = {"concurrency_limit": None, "api_visibility": "undocumented"}
PRIVATE = {"api_visibility": "private"}
AFTER = ("doc_choice", "confirm", "status", "files", "replace", "folder", "trash")


def wire_admin(ctx: AppContext, p: dict[str, Any]) -> None:
    p["status_refresh"].click(
        bind(status_html, ctx), None, p["status"], api_name="admin_status", **ADMIN_KW
    )
    after = bind(after_change, ctx, p)
    after_outputs = [p[name] for name in AFTER]
    changes = (
        (p["reingest_btn"], reingest, [], "admin_reingest"),
        (p["upload_btn"], upload, [p["files"], p["folder"], p["replace"]], "admin_upload"),
        (p["remove_btn"], remove, [p["doc_choice"], p["confirm"]], "admin_remove"),
        (p["restore_btn"], restore, [p["trash"]], "admin_restore"),
    )
    for button, fn, inputs, name in changes:
        button.click(bind(fn, ctx), inputs or None, p["result"], api_name=name, **ADMIN_KW).then(
            after, None, after_outputs, **PRIVATE
        )
    show_plan = bind(preview, ctx)
    plan_inputs = [p["files"], p["folder"]]
    p["files"].change(show_plan, plan_inputs, p["preview"], api_name="admin_preview", **ADMIN_KW)
    p["folder"].change(show_plan, plan_inputs, p["preview"], **PRIVATE)
    log = bind(recent, ctx)
    log_inputs = [p["only_negative"], p["only_refused"], p["user_filter"]]
    p["log_refresh"].click(log, log_inputs, p["log_table"], api_name="admin_recent", **ADMIN_KW)
    for box in (p["only_negative"], p["only_refused"]):
        box.change(log, log_inputs, p["log_table"], concurrency_limit=None, **PRIVATE)
    usage_outputs = [p[name] for name in USAGE_OUTPUTS]
    p["days"].change(
        bind(usage, ctx), [p["days"]], usage_outputs, api_name="admin_usage", **ADMIN_KW
    )

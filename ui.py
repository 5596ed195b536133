"""The web app's composition root: staff chat with cited answers and a source viewer, plus an
admin console, assembled from the ``webui`` package.

    create_app(assistant, settings, users, audit=None) -> gr.Blocks   (no launch)
    launch_options(settings, users) -> dict        (kwargs for Blocks.launch)
    serve(settings)                                (what `policyqa serve` runs)

Every use case goes through ``assistant.service.Assistant`` (asking and recording, documents,
status, ingest, the source folder); the tabs and their handlers live in ``webui/``: ``chat``,
``viewer``, ``admin`` and ``insights``, ``api`` (the named endpoints), ``gate`` (per-user
question limits), ``guard`` (login, sessions, uploads), ``render`` (HTML), ``i18n`` (the text
catalogues in ``webui/locales``), ``static/`` (CSS and page scripts).

Named API endpoints (gradio_client): ``/ask``, ``/ask_stream``, ``/feedback``, and the
admin-only ``/admin_status``, ``/admin_reingest``, ``/admin_preview``, ``/admin_upload``,
``/admin_remove``, ``/admin_trash``, ``/admin_restore``, ``/admin_recent``, ``/admin_usage``
(undocumented: callable, but not listed in the API page or the login page's API info).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home, ever
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging
import sys
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.limits import QuestionLimiter, QuestionPolicy
from assistant.service import Assistant
from assistant.settings import Settings, load_settings
from ingest.errors import PolicyQAError
from webui.admin import ADMIN_KW, PRIVATE, USAGE_OUTPUTS, admin_tab, load_page, wire_admin
from webui.api import add_endpoints
from webui.assets import CSS
from webui.chat import chat_tab, new_conversation, wire_chat
from webui.context import AppContext, bind, log
from webui.i18n import browser_texts, stage, strings
from webui.render import ingest_summary
from webui.viewer import viewer_box, wire_viewer

if TYPE_CHECKING:
    from assistant.audit import AuditLog
    from assistant.users import UserStore

CACHE_SWEEP = (3600, 3600)  # Gradio's temp files: swept hourly, removed when over an hour old
QUEUE_MAX = 64  # waiting questions beyond this get "queue full" instead of an endless spinner


def create_app(
    assistant: Assistant,
    settings: Settings,
    users: UserStore | None,
    audit: AuditLog | None = None,
) -> gr.Blocks:
    """Build the Blocks app (not launched). ``users`` None = no login: everyone is a local
    admin (single-user demo, ``policyqa serve --no-auth``). ``audit``: the log the assistant
    records into (default: its own, ``data_dir/audit.sqlite``)."""
    if audit is not None:
        assistant.audit = audit
    t = strings(settings.lang)
    limiter = QuestionLimiter(
        QuestionPolicy(int(settings.questions_per_minute), int(settings.questions_in_flight))
    )
    with gr.Blocks(title=t["title"], analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        ctx = AppContext(assistant, t, users, limiter, demo, browser_texts(settings.lang))
        conv = gr.State(new_conversation())
        with gr.Row():
            gr.Markdown(f"## {t['title']}\n{t['subtitle']}")
            with gr.Column(scale=0, min_width=220):
                who = gr.Markdown("", elem_id="pq-who")
                if users is not None:
                    gr.Button(ctx.label("logout"), link="/logout", size="sm", elem_id="pq-logout")
        with gr.Tabs():
            with gr.Tab(ctx.label("tab_chat"), id="chat"):
                chat = chat_tab(ctx, conv)
                viewer = viewer_box(ctx)
            admin = admin_tab(ctx)
        wire_chat(ctx, chat, viewer)
        wire_viewer(ctx, viewer, chat.sources)
        wire_admin(ctx, admin)
        names = {**admin, "who": who}
        load_outputs = ["who", "admin_tab", "status", "doc_choice", "log_table", *USAGE_OUTPUTS]
        demo.load(
            bind(load_page, ctx, names),
            None,
            [names[name] for name in (*load_outputs, "folder", "trash")],
            show_progress="hidden",
            concurrency_limit=None,
            **PRIVATE,
        )
        add_endpoints(ctx, demo, ADMIN_KW)

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
        "i18n": browser_texts(settings.lang).i18n,  # component texts, per browser language
    }
    if users is not None:
        from webui.guard import login_options

        options.update(login_options(settings, users))  # async check, back-off, sessions
        options["auth_message"] = t["auth_message"].format(n=settings.login_free_failures)
    return options


def _console_progress(t: dict[str, str]):
    last = {"stage": None}

    def report(name: str, done: int, total: int) -> None:
        if name != last["stage"] or done == total:
            last["stage"] = name
            print(f"  {stage(name, t)} {done}/{total}", file=sys.stderr, flush=True)

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
    report = assistant.ensure_index(progress=_console_progress(t))
    if report is not None:
        print(ingest_summary(report.to_json(), t), file=sys.stderr, flush=True)
    demo = create_app(assistant, settings, users)
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

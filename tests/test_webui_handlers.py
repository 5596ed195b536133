"""The web app's handlers (webui/) called directly, without a server or a model: a fake
``Assistant`` (tests/fake_assistant.py: scripted answers, the real use-case methods), a real
user store, audit log and source folder. The end-to-end path (Gradio, gradio_client, a browser)
is in test_ui_api.py, test_ui_browser.py and test_web_guard.py."""

from __future__ import annotations

import gradio as gr
import pytest
from fake_assistant import FakeAssistant

import ui
from assistant.conversation import Conversation, Notice
from assistant.records import Answer, Citation
from assistant.settings import Settings
from assistant.users import UserStore
from ingest.index import DocumentInfo
from ingest.records import Chunk
from webui import admin, api, chat, insights, viewer
from webui.context import AppContext, bind
from webui.i18n import strings

T = strings("zh")
LEAVE = "第三条 职工累计工作已满10年不满20年的，年休假10天。"
SECRET = "第一条 财务数据只对财务组开放。"


def _citation(doc_id: str = "leave", chunk_id: str = "leave-1") -> Citation:
    return Citation(
        1, "年休假.md", "职工带薪年休假条例", "", ("第三条",), (), LEAVE[4:], chunk_id, doc_id
    )


def _answer(text: str = "年休假10天。[1]", notice: str = "", doc_id: str = "leave") -> Answer:
    return Answer(text, (_citation(doc_id),), False, True, "extractive", notice=notice)


def _corpus():
    leave = DocumentInfo("leave", "年休假.md", "职工带薪年休假条例", None, "x", "md", (), ())
    secret = DocumentInfo("fin", "财务.md", "财务保密规定", None, "y", "md", ("finance",), ())
    chunks = (
        Chunk(
            "leave-1",
            "leave",
            "年休假.md",
            "职工带薪年休假条例",
            "",
            ("第三条",),
            (),
            0,
            len(LEAVE),
            LEAVE,
        ),
        Chunk(
            "fin-1",
            "fin",
            "财务.md",
            "财务保密规定",
            "",
            ("第一条",),
            (),
            0,
            len(SECRET),
            SECRET,
            groups=("finance",),
        ),
    )
    return [(leave, LEAVE), (secret, SECRET)], chunks


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    store = UserStore(tmp_path_factory.mktemp("users") / "users.json")
    store.add("admin1", "adminpass1", "admin")
    store.add("staff1", "staffpass1", "staff", groups=["hr"])
    return store


@pytest.fixture
def app(tmp_path, users):
    settings = Settings(source_dir=tmp_path / "src", data_dir=tmp_path / "data")
    (tmp_path / "src").mkdir()
    documents, chunks = _corpus()
    fake = FakeAssistant(partials=("部分",), settings=settings, documents=documents, chunks=chunks)
    return AppContext(fake, T, users, None)


def as_user(name: str | None) -> gr.Request:
    return gr.Request(username=name)


STAFF, ADMIN = as_user("staff1"), as_user("admin1")


# --- chat ---------------------------------------------------------------------------------------


def test_respond_streams_then_records_the_answer_with_its_sources(app):
    app.assistant.answers = [_answer(notice="大模型暂不可用，以下为原文摘录。（timeout）")]
    outs = list(chat.respond(app, "  年假有几天？ ", [], chat.new_conversation(), STAFF))
    first, partial, final = outs
    assert first["question"] == "" and T["searching"] in first["sources"]
    assert partial["chat"][-1]["content"] == "部分" and set(partial) == {"chat"}
    assert (
        "年休假10天" in final["chat"][-1]["content"]
        and "大模型暂不可用" in final["chat"][-1]["content"]
    )
    assert '<mark class="pq-hit">' in final["sources"] and 'data-doc="leave"' in final["sources"]
    entry = app.assistant.audit.get(final["conv"]["entries"]["1"])
    assert entry.user == "staff1" and entry.question == "年假有几天？"
    assert entry.groups == ("hr",)
    state = Conversation.from_json(final["conv"])
    assert state.history == (("年假有几天？", "年休假10天。[1]"),) and state.context == ("leave",)
    assert state.notices == ("llm",)


def test_the_llm_notice_is_shown_once_per_conversation(app):
    notices = [
        "大模型暂不可用，以下为原文摘录。（timeout）",
        "大模型回答未给出有效引用，已改为原文摘录。",
    ]
    app.assistant.answers = [_answer(notice=n) for n in notices]
    conv = chat.new_conversation()
    shown = []
    for question in ("年假有几天？", "那么节假日呢？"):
        final = list(chat.respond(app, question, [], conv, STAFF))[-1]
        conv = final["conv"]
        shown.append(any(n in final["chat"][-1]["content"] for n in notices))
    assert shown == [True, False]
    assert app.assistant.calls[1][2:] == ([("年假有几天？", "年休假10天。[1]")], ["leave"])


def test_an_empty_question_changes_nothing_and_an_error_keeps_the_conversation(app):
    assert list(chat.respond(app, "   ", [], chat.new_conversation(), STAFF)) == [{}]
    from ingest.errors import PolicyQAError

    app.assistant.answers = [PolicyQAError("索引损坏 / index damaged")]
    conv = chat.new_conversation()
    final = list(chat.respond(app, "年假？", [], conv, STAFF))[-1]
    assert "索引损坏" in final["chat"][-1]["content"] and final["conv"] == conv
    assert app.assistant.audit.recent(10) == []


def test_a_refusal_suggests_only_documents_the_user_may_open(app):
    refusal = Answer(
        "未找到依据。",
        (),
        True,
        True,
        "refusal",
        suggestions=("财务保密规定", "职工带薪年休假条例"),
    )
    app.assistant.answers = [refusal]
    final = list(chat.respond(app, "报销？", [], chat.new_conversation(), STAFF))[-1]
    assert 'data-doc="leave"' in final["sources"] and 'data-doc="fin"' not in final["sources"]
    assert "《财务保密规定》" in final["sources"]  # the title, without a way to open it


def test_likes_and_comments_go_to_the_audit_log(app):
    app.assistant.answers = [_answer()]
    conv = list(chat.respond(app, "年假有几天？", [], chat.new_conversation(), STAFF))[-1]["conv"]
    assert chat.on_comment(app, "没评分", conv, STAFF) == {}  # nothing rated yet
    liked = chat.on_like(
        app, conv, gr.LikeData(None, {"index": [1, 0], "value": "", "liked": False}), STAFF
    )
    entry = conv["entries"]["1"]
    assert liked["conv"]["rated"] == [entry, -1]
    done = chat.on_comment(app, "条款不对", liked["conv"], STAFF)
    assert done["comment"] == ""
    row = app.assistant.audit.get(entry)
    assert row.rating == -1 and row.comment == "条款不对"


def test_new_chat_resets_everything(app):
    out = chat.new_chat(app)
    assert out["chat"] == [] and out["conv"] == chat.new_conversation() and out["viewer"] == ""


# --- viewer -------------------------------------------------------------------------------------


def test_viewer_opens_a_readable_document_at_the_passage(app):
    click = gr.EventData(None, {"doc_id": "leave", "chunk_id": "leave-1"})
    out = viewer.open_document(app, click, STAFF)
    assert 'id="pq-hit"' in out["html"] and "《职工带薪年休假条例》" in out["html"]
    secret = viewer.open_document(app, gr.EventData(None, {"doc_id": "fin"}), STAFF)
    assert T["doc_unavailable"] in secret["html"] and SECRET not in secret["html"]
    assert SECRET in viewer.open_document(app, gr.EventData(None, {"doc_id": "fin"}), ADMIN)["html"]


# --- API ----------------------------------------------------------------------------------------


def test_api_ask_and_feedback_only_by_the_asker_or_an_admin(app):
    app.assistant.answers = [_answer(), _answer()]
    result = api.ask(app, "年假有几天？", STAFF)
    assert result["citations"][0]["articles"] == ["第三条"] and result["entry_id"]
    assert app.assistant.audit.get(result["entry_id"]).user == "staff1"
    other = api.ask(app, "年假？", ADMIN)["entry_id"]
    with pytest.raises(gr.Error, match="unknown entry"):
        api.feedback(app, other, 1, "", STAFF)
    with pytest.raises(gr.Error, match="rating"):
        api.feedback(app, result["entry_id"], 5, "", STAFF)
    assert api.feedback(app, result["entry_id"], -1, "x", ADMIN) == {"ok": True}
    assert app.assistant.audit.get(result["entry_id"]).rating == -1


def test_api_stream_yields_partials_then_the_final_json(app):
    app.assistant.answers = [_answer()]
    outs = list(api.ask_stream(app, "年假有几天？", STAFF))
    assert outs[0] == {"partial": True, "answer": ""} and outs[1] == {
        "partial": True,
        "answer": "部分",
    }
    assert outs[-1]["partial"] is False and outs[-1]["entry_id"]


def test_not_logged_in_and_removed_users_are_refused(app):
    with pytest.raises(gr.Error, match="未登录"):
        api.ask(app, "年假？", as_user(None))
    with pytest.raises(gr.Error, match="未登录"):
        api.ask(app, "年假？", as_user("ghost"))
    assert app.assistant.calls == []


# --- admin --------------------------------------------------------------------------------------


ADMIN_HANDLERS = (
    (admin.status_html, ()),
    (admin.reingest, ()),
    (admin.preview, ([], "")),
    (admin.remove, ("leave", True)),
    (admin.restore, ("x",)),
    (api.trash_list, ()),
    (insights.recent, (False, False, "")),
    (insights.usage, (30,)),
    (admin.after_change, ()),
)


@pytest.mark.parametrize(("handler", "args"), ADMIN_HANDLERS)
def test_every_admin_handler_refuses_staff(app, handler, args):
    with pytest.raises(gr.Error, match="无权限"):
        handler(app, *args, STAFF)


def test_upload_saves_through_the_library_then_reingests(app, tmp_path):
    good, bad = tmp_path / "会议室管理规定.md", tmp_path / "a..b.md"
    good.write_text("# 会议室管理规定\n\n第一条 提前预约。\n", encoding="utf-8")
    bad.write_text("第一条 无。", encoding="utf-8")
    steps = []
    out = admin.upload(
        app, [str(good), str(bad)], "", False, ADMIN, lambda *a, **k: steps.append(a)
    )
    assert "已保存：会议室管理规定.md" in out and "已拒绝：a..b.md" in out and "导入完成" in out
    assert (app.assistant.settings.source_dir / "会议室管理规定.md").is_file()
    assert app.assistant.ingests == 1 and steps
    app.assistant.running = True
    assert admin.upload(app, [str(good)], "", True, ADMIN, lambda *a, **k: None) == T["busy"]


def test_remove_takes_an_indexed_id_and_a_confirmation(app):
    assert admin.remove(app, "leave", False, ADMIN) == T["remove_need_confirm"]
    assert admin.remove(app, "../../etc/passwd", True, ADMIN) == T["remove_none"]
    assert app.assistant.ingests == 0


def test_page_load_shows_the_console_to_admins_only(app):
    staff = admin.load_page(app, STAFF)
    assert set(staff) == {"who", "admin_tab"} and "staff1" in staff["who"]
    full = admin.load_page(app, ADMIN)
    assert {"status", "doc_choice", "log_table", "never_table", "folder", "trash"} <= set(full)
    never = full["never_table"][T["never_cited"]].tolist()
    assert never == ["职工带薪年休假条例", "财务保密规定"]  # nothing asked yet


# --- wiring -------------------------------------------------------------------------------------


def test_bind_keeps_what_gradio_reads_and_keys_outputs_by_component(app):
    box, html = object(), object()
    bound = bind(viewer.close_document, app, {"box": box, "html": html})
    assert bound.__name__ == "close_document" and set(bound()) == {box, html}
    stream = bind(chat.respond, app)
    import inspect

    assert inspect.isgeneratorfunction(stream)
    assert list(inspect.signature(stream).parameters) == ["question", "chat", "conv", "request"]


def test_the_app_offers_the_same_endpoints(tmp_path):
    demo = ui.create_app(FakeAssistant(), Settings(auth=False, data_dir=tmp_path), None)
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    expected = {"ask", "ask_stream", "feedback", "admin_status", "admin_reingest", "admin_preview"}
    assert expected | {"admin_upload", "admin_remove", "admin_trash", "admin_restore"} <= names
    assert {"admin_recent", "admin_usage"} <= names
    gated = {d.name for d in demo.fns.values() if d.validator is not None}
    assert gated == {"respond", "ask", "ask_stream"}


def test_notice_codes():
    assert (
        Notice.of(_answer(notice="大模型暂不可用，以下为原文摘录。（x）")) is Notice.LLM_UNAVAILABLE
    )
    assert Notice.of(_answer(notice="问题过长，仅使用前 2000 个字符。")) is Notice.QUESTION_TRIMMED
    assert Notice.of(_answer()) is Notice.NONE

"""Answers: extractive quotes, refusals, and the LLM path against the scripted endpoint."""

from __future__ import annotations

import pytest

from assistant.answer import NOT_FOUND, verify
from assistant.records import Answer
from assistant.service import Viewer

pytestmark = pytest.mark.slow

LEAVE = "我工作满十年了，年假一年能休几天？"


def test_extractive_answer_quotes_the_article_verbatim(office):
    answer = office.ask("《职工带薪年休假条例》第三条")
    assert not answer.refused and answer.verified and answer.mode == "extractive"
    assert answer.text.startswith("根据《职工带薪年休假条例》第三条：")
    first = answer.citations[0]
    assert first.n == 1 and first.articles == ("第三条",) and first.source.endswith(".md")
    assert "已满10年不满20年的，年休假10天" in first.quote
    assert first.quote in answer.text  # quoted verbatim
    chunk = office.chunk(first.chunk_id)
    assert first.quote in chunk.text and "[1]" in answer.text


def test_refusal_names_no_invented_rule(office):
    answer = office.ask("食堂早饭几点开始供应？")
    assert answer.refused and answer.mode == "refusal" and not answer.citations
    assert answer.text.startswith(NOT_FOUND)


def test_hostile_input_is_just_text(office):
    answer = office.ask("<script>alert(1)</script>\x00\x07" + "年假" * 60000)
    assert isinstance(answer, Answer) and "\x00" not in answer.text
    assert "问题过长" in answer.notice


def test_follow_up_keeps_the_document_context(office):
    first = office.ask("《职工带薪年休假条例》第三条")
    docs = [c.doc_id for c in first.citations]
    follow = office.ask("那第五条呢？", context_docs=docs)
    assert follow.citations and follow.citations[0].articles == ("第五条",)
    assert follow.citations[0].title == "职工带薪年休假条例"


# --- citation verification -------------------------------------------------------------------------


def hits_for(office, question, n=4):
    return list(office.search(question, n).hits)


def test_verify_drops_unknown_markers_and_invented_articles(office):
    given = hits_for(office, "《职工带薪年休假条例》第三条")
    text = "工作满10年不满20年的，年休假10天[1]。另有规定见第九十九条[2]。详见[7]。"
    cleaned, cited, verified = verify(text, given)
    assert not verified
    assert "第九十九条" not in cleaned and "[7]" not in cleaned
    assert [c.n for c in cited] == [1] and "[1]" in cleaned


def test_verify_renumbers_in_order_of_use(office):
    given = hits_for(office, "《职工带薪年休假条例》第三条")
    cleaned, cited, verified = verify("甲[3]。乙[1]。", given)
    assert verified and cleaned == "甲[1]。乙[2]。"
    assert [c.chunk_id for c in cited] == [given[2].chunk.id, given[0].chunk.id]


# --- the LLM path ---------------------------------------------------------------------------------


@pytest.fixture
def llm_office(make_llm_office):
    return make_llm_office(llm_api_key="sk-test-secret-key-123456")


def test_llm_answer_streams_and_verifies(llm_office):
    service, server = llm_office
    reply = "根据《职工带薪年休假条例》第三条，工作已满10年不满20年的，年休假10天[1]。"
    server.script(reply=reply, chunks=6)
    items = list(service.ask_stream("《职工带薪年休假条例》第三条 满十年几天年假"))
    partial = [i for i in items if isinstance(i, str)]
    final = items[-1]
    assert len(partial) >= 3 and partial[-1] == reply
    assert isinstance(final, Answer) and final.mode == "llm" and final.verified
    assert final.citations[0].articles == ("第三条",)
    prompt = server.chat_requests[-1].content("user")
    assert '<passage n="1"' in prompt and "第三条" in prompt


def test_llm_marker_out_of_range_is_removed(llm_office):
    service, server = llm_office
    server.script(reply="年休假10天[1]，另见[7]。")
    answer = service.ask(LEAVE)
    assert answer.mode == "llm" and not answer.verified
    assert "[7]" not in answer.text and "[1]" in answer.text


def test_llm_invented_article_is_removed(llm_office):
    service, server = llm_office
    server.script(reply="年休假10天[1]。根据第九十九条，还可以再加5天[1]。")
    answer = service.ask(LEAVE)
    assert not answer.verified and "第九十九条" not in answer.text and "再加5天" not in answer.text


def test_llm_without_valid_citation_falls_back_to_extractive(llm_office):
    service, server = llm_office
    server.script(reply="年假有很多天，放心休。")
    answer = service.ask(LEAVE)
    assert answer.mode == "extractive" and answer.citations and "有效引用" in answer.notice


@pytest.mark.parametrize("behaviour", [{"status": 500}, {"delay": 5.0}])
def test_llm_failure_gives_extractive_answer_and_a_notice(llm_office, behaviour):
    service, server = llm_office
    server.script(**behaviour)
    answer = service.ask(LEAVE)
    assert answer.mode == "extractive" and answer.citations
    assert "大模型暂不可用" in answer.notice
    assert "sk-test-secret" not in answer.notice


def test_llm_condenses_follow_ups(llm_office):
    service, server = llm_office
    server.script(reply="事业单位工作人员的年休假天数是多少？")  # the condensed question
    # no figure in the reply: a figure passage [1] does not state falls back (test_decide.py)
    server.script(reply="事业单位工作人员的年休假由单位统筹安排[1]。")
    answer = service.ask(
        "那事业单位呢？", Viewer(), history=[("我工作满十年，年假几天？", "年休假10天[1]。")]
    )
    assert answer.mode == "llm"
    assert len(server.chat_requests) == 2
    assert "事业单位" in server.chat_requests[0].content("user")


def test_refusal_never_calls_the_llm(llm_office):
    service, server = llm_office
    answer = service.ask("食堂早饭几点开始供应？")
    assert answer.refused and not server.chat_requests


def test_follow_up_without_llm_carries_the_previous_question(office):
    history = [("我工作满十年，年假有几天？", "")]
    answer = office.ask("那事业单位呢？", history=history)
    assert not answer.refused
    assert any("年休假" in c.quote or "年休假" in c.title for c in answer.citations)


class _ScriptedChat:
    """A chat model handed to the Assistant (no endpoint): replies with one scripted text."""

    def __init__(self, reply: str) -> None:
        self.reply, self.asked = reply, []

    def stream_answer(self, question, passages):
        self.asked.append((question, [p.text for p in passages]))
        yield self.reply

    def condense(self, history, question):
        return question


def test_the_assistant_can_be_handed_its_chat_model(office_index, builtin, tmp_path):
    from conftest import make_settings

    from assistant.service import Assistant

    chat = _ScriptedChat("工作已满10年不满20年的，年休假10天[1]。")
    service = Assistant(make_settings(tmp_path, office_index), embedder=builtin, chat_model=chat)
    answer = service.ask("《职工带薪年休假条例》第三条 满十年几天年假")
    assert service.llm_enabled and answer.mode == "llm" and answer.verified
    assert chat.asked and "第三条" in answer.citations[0].articles
    assert service.status().llm == "_ScriptedChat"  # the admin panel names it

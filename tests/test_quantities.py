"""A question asking for a figure is refused when no retrieved passage states one."""

from __future__ import annotations

import pytest

from assistant.quantities import asked_quantities, states_quantity
from assistant.records import Hit
from ingest.records import Chunk


def hit(text: str, title: str = "职工带薪年休假条例", article: str = "第三条") -> Hit:
    chunk = Chunk("c", "d", "x.md", title, "", (article,), (), 0, len(text), text)
    return Hit(chunk, 1.0, 1, 1)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("我工作满十年了，年假一年能休几天？", ["duration"]),
        ("依申请公开要多长时间答复？", ["duration"]),
        ("出差住宿一晚最多能报多少钱？", ["money"]),
        ("三等功的一次性奖金是多少？", ["money"]),
        ("一年内最多能申请几次？", ["count"]),
        ("处级干部办公室面积标准是多少平方米？", ["measure"]),
        ("优秀等次的名额占多少比例？", ["measure"]),
        ("涉密文件能不能用微信发？", []),
        ("年假没休完单位要补偿吗？", []),
    ],
)
def test_which_quantity_a_question_asks_for(question, kinds):
    assert asked_quantities(question) == kinds


ANNUAL_LEAVE = "第三条 职工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，年休假10天；"


def test_a_passage_stating_the_figure_answers():
    assert states_quantity("我工作满十年了，年假一年能休几天？", [hit(ANNUAL_LEAVE)])
    # written in Chinese numerals
    text = "第五十三条 采购人应当在收到供应商的书面质疑后七个工作日内作出答复。"
    assert states_quantity("供应商提了质疑，采购人几天之内要答复？", [hit(text, "政府采购法")])


def test_a_passage_on_the_topic_without_the_figure_does_not():
    text = "第五十三条 对获得奖励的公务员，按照规定给予表彰，并对受奖励的个人给予一次性奖金或者其他待遇。"
    question = "公务员记三等功的话，一次性奖金具体是多少钱？"
    assert not states_quantity(question, [hit(text, "公务员法", "第五十三条")])
    # a figure of another kind, or about another topic, does not count either
    assert not states_quantity(question, [hit("第三条 期限为30日。", "公务员法")])
    assert not states_quantity("女职工产假有多少天？", [hit("第九条 保密期限为十年。", "保密法")])


def test_a_measure_is_answered_only_where_a_passage_states_one():
    question = "档案库房的温度要控制在多少度？"
    stated = "第十二条 档案库房温度应当控制在14℃至24℃，相对湿度45%至60%。"
    assert states_quantity(question, [hit(stated, "档案管理办法")])
    unstated = "第十二条 档案库房应当具备防火、防潮、防盗条件，温度和湿度应当符合要求。"
    assert not states_quantity(question, [hit(unstated, "档案管理办法")])


def test_questions_asking_for_no_figure_are_never_refused_for_it():
    assert states_quantity("涉密文件能不能用微信发？", [])


def test_retriever_refuses_a_figure_the_corpus_does_not_state(office):
    question = "公务员记三等功的话，一次性奖金具体是多少钱？"
    result = office.search(question)
    assert not result.relevant and result.reason == "quantity"
    assert result.hits  # the related articles are still offered
    answer = office.ask(question)
    assert answer.refused and "未找到所问数额" in answer.text and "第五十三条" in answer.text


@pytest.mark.parametrize(
    ("question", "title", "article"),
    [
        ("我工作满十年了，年假一年能休几天？", "职工带薪年休假条例", "第三条"),
        (
            "老百姓来申请公开政府信息，我们最晚多长时间要答复？",
            "中华人民共和国政府信息公开条例",
            "第三十三条",
        ),
        ("机密级文件一般要保密多少年？", "中华人民共和国保守国家秘密法", "第二十条"),
    ],
)
def test_figures_the_corpus_states_are_answered(office, question, title, article):
    result = office.search(question)
    assert result.relevant and result.reason == ""
    assert (title, (article,)) in [(h.chunk.title, h.chunk.articles) for h in result.hits[:3]]


def test_the_check_can_be_switched_off(office):
    from dataclasses import replace

    retriever = office.retriever()  # this test's own Assistant: changing it touches no other
    retriever.config = replace(retriever.config, quantity_check=False)
    assert retriever.search("公务员记三等功的话，一次性奖金具体是多少钱？").relevant


def test_figure_questions_of_the_blind_set_are_not_refused_for_it(office):
    """bench/data/office_blind.jsonl was written without seeing the system: every answerable
    question of it that asks for a figure passes, and the bonus amount no document states is
    refused for that reason."""
    from pathlib import Path

    from assistant.evaluation import read_queries

    queries = read_queries(Path(__file__).parents[1] / "bench" / "data" / "office_blind.jsonl")
    figure = [q for q in queries if q.gold and asked_quantities(q.question)]
    assert len(figure) >= 10
    assert all(office.search(q.question).relevant for q in figure)
    assert office.search("公务员记三等功的话，一次性奖金具体是多少钱？").reason == "quantity"

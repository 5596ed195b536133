"""Metadata of official documents (红头文件): 文号, 发文机关, 成文日期, 施行日期 (ingest/officialdoc.py),
stored per document in the index, shown in citations and the viewer, and searchable by 文号."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import CORPUS_DIR, corpus_file, make_settings

from ingest.index import open_current
from ingest.loaders import load_file
from ingest.officialdoc import find_numbers, number_before, recognise
from ingest.pipeline import IngestOptions, run_ingest
from ingest.records import OfficialMeta

NOTICE = "滨江市数据管理局关于印发《政务数据共享管理办法》的通知"


def _red_header_docx(path, number_line: str = "滨数管发〔2024〕3号") -> None:
    """A 红头文件 as python-docx writes it: 版头, 文号, title, 主送, body articles, 落款."""
    import docx

    document = docx.Document()
    for text in ("滨江市数据管理局文件", number_line, NOTICE, "局机关各处室、局属各单位："):
        document.add_paragraph(text)
    document.add_paragraph(
        "现将《政务数据共享管理办法》印发给你们，请认真遵照执行。"
        "本办法依据《国务院关于印发政务信息资源共享管理暂行办法的通知》"
        "（国发〔2016〕51号）制定。"
    )
    document.add_paragraph("政务数据共享管理办法")
    articles = [
        "第一条 为规范本局政务数据共享，制定本办法。",
        "第二条 本办法适用于局机关各处室和局属单位。",
        "第三条 有条件共享的数据，由数据提供处室在5个工作日内答复。",
        "第四条 本办法自2024年5月1日起施行。",
    ]
    for text in articles:
        document.add_paragraph(text)
    document.add_paragraph("滨江市数据管理局")
    document.add_paragraph("2024年4月8日")
    document.save(path)


# --- recognition -----------------------------------------------------------------------------------


def test_red_header_document(tmp_path):
    _red_header_docx(tmp_path / "通知.docx")
    doc = load_file(tmp_path / "通知.docx", tmp_path)
    assert doc.meta == OfficialMeta(
        number="滨数管发〔2024〕3号",
        issuer="滨江市数据管理局",
        written="2024-04-08",
        effective="2024-05-01",
    )


@pytest.mark.parametrize(
    "typed",
    [
        "国办发[2024]12号",
        "国办发［2024］12号",
        "国办发（2024）12号",
        "国办发(2024)12号",
        "国办发【2024】12号",
        "国办发〔2024〕第12号",
    ],
)
def test_number_variants_are_normalised(typed):
    meta = recognise(
        f"国务院办公厅文件\n{typed}\n国务院办公厅关于加强政务数据管理的通知\n各省：\n正文。"
    )
    assert meta.number == "国办发〔2024〕12号" and meta.issuer == "国务院办公厅"


def test_a_number_cited_in_the_body_is_not_the_documents_own():
    text = (
        "关于做好年度考核工作的通知\n各处室：\n根据《国务院办公厅关于…的通知》（国办发〔2023〕5号），"
        "现就有关事项通知如下。\n一、考核范围\n……"
    )
    assert recognise(text).number == ""


def test_chinese_numeral_dates_and_effective_on_issue():
    text = "某某局文件\n某发〔2008〕7号\n某某局关于值班的通知\n各处室：\n本通知自印发之日起施行。\n某某局\n二〇〇八年三月五日"
    meta = recognise(text)
    assert (meta.number, meta.issuer, meta.written, meta.effective) == (
        "某发〔2008〕7号",
        "某某局",
        "2008-03-05",
        "2008-03-05",
    )


def test_corpus_documents():
    manual = load_file(corpus_file("滨江市数据管理局公文与印章管理办法"), CORPUS_DIR).meta
    assert manual == OfficialMeta(
        "滨数管办〔2024〕12号", "滨江市数据管理局", "2024-02-26", "2024-03-01"
    )
    leave = load_file(corpus_file("职工带薪年休假条例"), CORPUS_DIR).meta
    assert leave == OfficialMeta("国务院令第514号", "国务院", "2007-12-07", "2008-01-01")
    seals = load_file(corpus_file("国务院关于国家行政机关和企业事业单位社会团体印章"), CORPUS_DIR)
    assert seals.meta.number == ""  # it cites 国发〔1993〕21号 in its first sentence


def test_numbers_in_questions():
    assert [n.text() for n in find_numbers("请问国办发[2024]12号和国务院令第514号")] == [
        "请问国办发〔2024〕12号",
        "和国务院令第514号",
    ]  # a question's words before a number stay in its prefix: designates() matches the end
    (asked,) = find_numbers("请问国办发[2024]12号")
    (stated,) = find_numbers("国办发〔2024〕12号")
    assert asked.designates(stated)
    for other in ("国发〔2024〕12号", "国办发〔2024〕13号", "国办发〔2023〕12号"):
        assert not asked.designates(find_numbers(other)[0]), other
    assert number_before("国办发〔2024〕12号文") == "国办发〔2024〕12号"
    assert number_before("滨数管发2024年3号") == "滨数管发〔2024〕3号"
    assert number_before("根据国办发〔2024〕12号的规定") == ""


# --- index, search, citations, viewer -------------------------------------------------------------


@pytest.fixture(scope="module")
def notice_index(tmp_path_factory, builtin):
    src = tmp_path_factory.mktemp("notice") / "src"
    src.mkdir()
    _red_header_docx(src / "政务数据共享管理办法.docx")
    for prefix in ("职工带薪年休假条例", "滨江市数据管理局公文与印章管理办法"):
        path = corpus_file(prefix)
        (src / path.name).write_bytes(path.read_bytes())
    index = src.parent / "index"
    run_ingest(src, index, IngestOptions(quiet=True), embedder=builtin)
    return index


def test_number_stored_and_read_back_from_the_index(notice_index):
    gen = open_current(notice_index)
    numbers = {d.source: d.meta.number for d in gen.documents.values()}
    assert numbers["政务数据共享管理办法.docx"] == "滨数管发〔2024〕3号"
    assert numbers["职工带薪年休假条例(2007-12-14).md"] == "国务院令第514号"
    assert all(c.doc_number == numbers[c.source] for c in gen.chunks)


def test_an_index_built_before_the_meta_column_still_reads(notice_index, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(notice_index, copy)
    gen_dir = copy / open_current(copy).name
    db = sqlite3.connect(gen_dir / "chunks.sqlite")
    db.execute("ALTER TABLE documents DROP COLUMN meta")
    db.commit()
    db.close()
    gen = open_current(copy)
    assert all(d.meta == OfficialMeta() for d in gen.documents.values())
    assert len(gen.chunks) == len(open_current(notice_index).chunks)


@pytest.mark.parametrize(
    "question",
    [
        "滨数管发〔2024〕3号第三条",
        "滨数管发[2024]3号第三条是什么",
        "请问滨数管发（2024）3号文第三条怎么规定的",
    ],
)
def test_number_and_article_finds_that_article(notice_index, builtin, tmp_path, question):
    from assistant.service import Assistant

    assistant = Assistant(make_settings(tmp_path, notice_index), embedder=builtin)
    result = assistant.search(question)
    first = result.hits[0]
    assert first.exact and first.chunk.articles == ("第三条",)
    assert first.chunk.source == "政务数据共享管理办法.docx"
    answer = assistant.ask(question)
    cite = answer.citations[0].to_json()
    assert cite["doc_number"] == "滨数管发〔2024〕3号" and cite["articles"] == ["第三条"]
    assert "5个工作日" in answer.text


def test_order_number_and_article(notice_index, builtin, tmp_path):
    from assistant.service import Assistant

    assistant = Assistant(make_settings(tmp_path, notice_index), embedder=builtin)
    first = assistant.search("国务院令第514号第三条").hits[0]
    assert first.exact and first.chunk.title == "职工带薪年休假条例"
    assert first.chunk.articles == ("第三条",)


def test_viewer_and_citation_show_the_metadata(notice_index):
    from assistant.records import Citation
    from webui.i18n import strings
    from webui.render import citation_header, render_document

    TEXT = {"zh": strings("zh")}

    gen = open_current(notice_index)
    info = next(d for d in gen.documents.values() if d.source == "政务数据共享管理办法.docx")
    html = render_document(info, gen.document_text(info.id), None, TEXT["zh"])
    for shown in (
        "文号: 滨数管发〔2024〕3号",
        "发文机关: 滨江市数据管理局",
        "成文日期: 2024-04-08",
        "施行日期: 2024-05-01",
    ):
        assert shown in html
    cite = Citation(
        1, info.source, info.title, "", ("第三条",), (), "q", doc_number="滨数管发〔2024〕3号"
    )
    assert "滨数管发〔2024〕3号" in citation_header(cite, TEXT["zh"])
    assert json.loads(json.dumps(cite.to_json(), ensure_ascii=False))["doc_number"]

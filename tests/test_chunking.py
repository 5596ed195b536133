"""Structure chunking on real regulations (corpus/ and ../shared/data) and the two manuals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CORPUS_DIR, FORMATS_DIR, SHARED_DATA, corpus_file

from ingest.chunking import article_number, chunk_document, cn_to_int, int_to_cn
from ingest.loaders import load_file
from ingest.records import Chunk, Document

# a line that opens an article: 第X条 / 第X条之一 followed by whitespace (the corpus style)
ARTICLE_LINE = re.compile(
    r"^(第[零〇一二三四五六七八九十百千两]+条(?:之[一二三四五六七八九十]+)?)\s", re.M
)
STARD = SHARED_DATA / "stard" / "corpus"
OFFICE = SHARED_DATA / "office-regulations"


def _chunks(path: Path, root: Path | None = None, size: int = 800) -> tuple[Document, list[Chunk]]:
    doc = load_file(path, root or path.parent)
    return doc, chunk_document(doc, size)


def _labels(chunks: list[Chunk]) -> list[str]:
    """Article labels in order, one per article (consecutive pieces of one article merged)."""
    out: list[str] = []
    for c in chunks:
        if c.articles and (not out or out[-1] != c.articles[0]):
            out.append(c.articles[0])
    return out


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data not available here)")
    return path


def _check_article_document(doc: Document, chunks: list[Chunk]) -> None:
    """Invariants of an article-mode document: a preamble, then exactly one chunk per article."""
    expected = ARTICLE_LINE.findall(doc.text)
    assert len(expected) >= 2
    assert _labels(chunks) == expected
    assert [c.articles for c in chunks if c.articles] == [(a,) for a in expected]  # 1 chunk each
    numbers = [article_number(a) for a in expected]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    preamble = chunks[0]
    assert preamble.articles == () and preamble.heading == ""
    assert preamble.text.startswith(doc.title)
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.doc_id == doc.id and c.title == doc.title and c.source == doc.source
        if c.articles:
            assert c.text.startswith(c.articles[0])
    ids = [c.id for c in chunks]
    assert len(set(ids)) == len(ids) and all(i.startswith(doc.id + "-") for i in ids)
    spans = [(c.start, c.end) for c in chunks]
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))


# --- real regulations: one chunk per article -------------------------------------------------

CORPUS_LAWS = sorted(
    p.name for p in CORPUS_DIR.glob("*.md") if not p.name.startswith("国务院关于国家行政机关")
)


@pytest.mark.parametrize("name", CORPUS_LAWS)
def test_corpus_regulation_one_chunk_per_article(name):
    doc, chunks = _chunks(CORPUS_DIR / name)
    _check_article_document(doc, chunks)
    numbers = [article_number(label)[0] for label in _labels(chunks)]
    assert numbers == list(range(1, len(numbers) + 1))  # no article lost or invented
    chaptered = "\n第一章" in doc.text
    for c in chunks[1:]:
        assert c.pages == () and c.version_date == doc.version_date
        if chaptered:
            assert re.match(r"第[一二三四五六七八九十]+章 \S", c.heading), c.heading


def test_office_regulations_one_chunk_per_article():
    folder = _need(OFFICE)
    files = sorted(
        p for p in folder.glob("*.md") if not p.name.startswith("国务院关于国家行政机关")
    )
    assert len(files) >= 40
    for path in files:
        doc, chunks = _chunks(path)
        _check_article_document(doc, chunks)


def test_civil_service_law_articles_headings_and_supplementary_provisions():
    doc, chunks = _chunks(corpus_file("公务员法"))
    labels = _labels(chunks)
    assert len(labels) == 113 and labels[-1] == "第一百一十三条"
    assert labels[102] == "第一百零三条"
    by_label = {c.articles[0]: c for c in chunks if c.articles}
    assert by_label["第一条"].heading == "第一章 总则"
    assert by_label["第一百零三条"].heading == "第十六章 职位聘任"
    assert by_label["第一百零三条"].text.startswith("第一百零三条 聘任合同应当具备合同期限")
    for label in ("第一百一十一条", "第一百一十二条", "第一百一十三条"):  # articles in 附则
        assert by_label[label].heading == "第十八章 附则"
    preamble = chunks[0]
    assert "2018年12月29日" in preamble.text and "第一条" not in preamble.text
    assert doc.version_date == "2018-12-29"


def test_cross_reference_mid_line_does_not_open_an_article():
    doc, chunks = _chunks(corpus_file("政府信息公开条例"))
    by_label = {c.articles[0]: c for c in chunks if c.articles}
    assert "依照本条例第十九条的规定" in by_label["第二十条"].text
    assert "依照本条例第二十条、第二十一条的规定" in by_label["第二十二条"].text
    assert by_label["第十九条"].text.count("\n第") == 0
    # the fixture: 第四条 refers to 第二条 in mid-line
    fixture = load_file(FORMATS_DIR / "sample.md", FORMATS_DIR)
    fixture_chunks = chunk_document(fixture)
    assert _labels(fixture_chunks) == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    (fourth,) = [c for c in fixture_chunks if c.articles == ("第四条",)]
    assert "依照本办法第二条" in fourth.text and fourth.heading == "第二章 开放管理"
    (third,) = [c for c in fixture_chunks if c.articles == ("第三条",)]
    assert "\n\n列入有条件开放目录" in third.text  # two paragraphs (款), one chunk


def test_line_starting_with_a_reference_does_not_open_an_article(tmp_path):
    path = tmp_path / "样例办法.md"
    path.write_text(
        "# 滨江市样例引用办法\n\n"
        "第一条 为了测试引用，制定本办法。\n\n"
        "第二条 申请人应当依照本办法第十条的规定提交材料。\n\n"
        "第十条规定的材料不齐全的，应当一次性告知。\n\n"  # starts with 第十条, no space after 条
        "第一百零三条规定的情形除外。\n\n"
        "第三条 本办法自发布之日起施行。\n",
        encoding="utf-8",
    )
    doc, chunks = _chunks(path)
    assert _labels(chunks) == ["第一条", "第二条", "第三条"]
    (second,) = [c for c in chunks if c.articles == ("第二条",)]
    assert second.text.endswith("第一百零三条规定的情形除外。")
    assert "\n\n第十条规定的材料不齐全的" in second.text


def test_numbers_must_increase_so_a_late_reference_line_is_not_an_article(tmp_path):
    path = tmp_path / "样例规定.txt"
    path.write_text(
        "滨江市样例顺序规定\n第一条 总则。\n第二条 适用范围。\n第三条 职责。\n"
        "第二条 所称单位，包括局属事业单位。\n第四条 施行日期。\n",  # a repeated 第二条 line
        encoding="utf-8",
    )
    doc, chunks = _chunks(path)
    assert doc.title == "滨江市样例顺序规定"
    assert _labels(chunks) == ["第一条", "第二条", "第三条", "第四条"]
    (third,) = [c for c in chunks if c.articles == ("第三条",)]
    assert third.text == "第三条 职责。\n第二条 所称单位，包括局属事业单位。"


def test_long_article_split_at_paragraph_boundaries_keeps_label():
    doc, chunks = _chunks(corpus_file("公务员法"), size=150)
    long_ones = [
        label for label in _labels(chunks) if sum(1 for c in chunks if c.articles == (label,)) > 1
    ]
    assert len(long_ones) >= 5
    for label in long_ones:
        pieces = [c for c in chunks if c.articles == (label,)]
        assert pieces[0].text.startswith(label)
        for piece in pieces:
            assert piece.text == doc.text[piece.start : piece.end]
            assert len(piece.text) <= 150
            assert piece.heading == pieces[0].heading
        for piece in pieces[1:]:  # each later piece starts a paragraph or a sentence
            assert doc.text[piece.start - 1] == "\n" or doc.text[piece.start - 1] in "。；！？"
        # together the pieces hold the whole article
        whole = doc.text[pieces[0].start : pieces[-1].end]
        assert "".join(whole.split()) == "".join("".join(p.text for p in pieces).split())


def test_real_article_longer_than_chunk_size():
    """第五条 of the 2020 IP criminal-case interpretation is ~820 characters in two paragraphs."""
    folder = _need(STARD / "司法解释")
    (path,) = folder.glob(
        "最高人民法院 最高人民检察院关于办理侵犯知识产权刑事案件具体应用法律若干问题的解释（三）(2020-09-12).md"
    )
    doc, chunks = _chunks(path)
    pieces = [c for c in chunks if c.articles == ("第五条",)]
    assert len(pieces) == 2
    start = doc.text.index("\n第五条 ") + 1
    end = doc.text.index("\n第六条 ")
    assert end - start > 800
    assert pieces[0].start == start and pieces[-1].end == doc.text.rindex("。", 0, end) + 1
    assert doc.text[pieces[1].start - 1] == "\n"  # split at the paragraph (款) boundary
    for piece in pieces:
        assert piece.text == doc.text[piece.start : piece.end] and len(piece.text) <= 800


# --- 第一千二百六十条, 编/分编 headings, 第X条之一 (STARD corpus) ------------------------------


def test_civil_code_parts_thousand_numbers_and_part_headings():
    folder = _need(STARD / "民法典")
    doc, chunks = _chunks(folder / "民法典附则.md")
    assert _labels(chunks) == ["第一千二百五十九条", "第一千二百六十条"]
    last = chunks[-1]
    assert last.articles == ("第一千二百六十条",) and last.heading == "附则"
    assert article_number("第一千二百六十条") == (1260, 0)
    assert all("##" not in c.text for c in chunks)  # the bare "##" line is markup

    doc, chunks = _chunks(folder / "民法典侵权责任编.md")
    _check_article_document(doc, chunks)
    numbers = [article_number(a)[0] for a in _labels(chunks)]
    assert numbers == list(range(1164, 1259))

    doc, chunks = _chunks(folder / "民法典合同编.md")
    _check_article_document(doc, chunks)
    by_label = {c.articles[0]: c for c in chunks if c.articles}
    assert by_label["第四百六十三条"].heading == "合同编 / 第一分编 通则 / 第一章 一般规定"
    # the source writes 准 合 同 letter-spaced: the heading path closes it up
    assert by_label["第九百八十八条"].heading.startswith("合同编 / 第三分编 准合同 / ")


def test_criminal_law_article_zhi_yi_and_book_headings():
    path = _need(STARD / "刑法" / "刑法.md")
    doc, chunks = _chunks(path)
    _check_article_document(doc, chunks)
    labels = _labels(chunks)
    i = labels.index("第一百二十条")
    assert labels[i : i + 8] == ["第一百二十条"] + [
        f"第一百二十条之{n}" for n in "一二三四五六"
    ] + ["第一百二十一条"]
    assert article_number("第一百二十条之六") == (120, 6)
    assert sum("之" in label for label in labels) > 40
    by_label = {c.articles[0]: c for c in chunks if c.articles}
    assert by_label["第一条"].heading == "第一编 总则 / 第一章 刑法的任务、基本原则和适用范围"
    assert by_label["第一百二十条之一"].heading == "第二编 分则 / 第二章 危害公共安全罪"
    assert doc.version_date == "2023-12-29"  # the last amendment in the long preamble


# --- clause documents and manuals ---------------------------------------------------------------


def test_seal_regulation_clauses_one_to_twenty_seven():
    doc, chunks = _chunks(corpus_file("国务院关于国家行政机关和企业事业单位社会团体印章管理的规定"))
    labels = _labels(chunks)
    assert labels == [int_to_cn(n) + "、" for n in range(1, 28)]
    assert labels[-1] == "二十七、"
    assert chunks[0].articles == () and "规定如下" in chunks[0].text
    by_label = {c.articles[0]: c for c in chunks if c.articles}
    # the unnumbered paragraph after 八、 belongs to clause 八、
    assert "国务院部门的内设机构和所属事业单位" in by_label["八、"].text
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        if c.articles:
            assert c.text.startswith(c.articles[0])


def test_docx_manual_heading_paths_and_clause_labels():
    doc, chunks = _chunks(corpus_file("滨江市数据管理局公文与印章管理办法"))
    assert doc.kind == "docx"
    assert chunks[0].articles == () and chunks[0].text.startswith(doc.title)
    body = [c for c in chunks[1:] if not c.heading.endswith("行）")]  # table rows: below
    assert _labels(body) == [int_to_cn(n) + "、" for n in range(1, 9)]
    for c in body:
        top, _, sub = c.heading.partition(" / ")
        assert re.fullmatch(r"[一二三四五六七八九十]+、\S+", top), c.heading
        assert re.fullmatch(r"（[一二三四五六七八九十]+）\S+", sub), c.heading
        assert c.articles == (top[: top.index("、") + 1],)
        assert c.text == doc.text[c.start : c.end]
    headings = [c.heading for c in body]
    assert "一、总则 / （一）目的和依据" in headings
    assert headings[-1] == "八、归档与监督 / （三）附则"
    table = [c for c in chunks if c.heading.endswith("行）")]  # 用印审批权限表: a chunk per row
    assert len(table) == 7 and all(c.articles == () for c in table)
    assert table[0].heading == (
        "五、用印申请流程 / （二）审批权限 / 用印审批权限表 · 局行政公章（以局名义对外正式发文）（第2行）"
    )
    assert table[4].text == (
        "用印审批权限表 · 财务专用章 · 审批人：计划财务处处长，"
        "登记要求：在计划财务处《财务用印登记簿》单独登记"
    )


def test_sample_docx_heading_paths():
    doc = load_file(FORMATS_DIR / "sample.docx", FORMATS_DIR)
    chunks = chunk_document(doc)
    assert [(c.articles, c.heading) for c in chunks[1:]] == [
        (("一、",), "一、总则 / （一）目的"),
        (("一、",), "一、总则 / （二）适用范围"),
        (("二、",), "二、共享程序 / （一）申请"),
        ((), "二、共享程序 / （一）申请 / 表1 · 无条件共享（第2行）"),
        ((), "二、共享程序 / （一）申请 / 表1 · 有条件共享（第3行）"),
        ((), "二、共享程序 / （一）申请 / 表1 · 不予共享（第4行）"),
        (("二、",), "二、共享程序 / （二）使用"),
        (("三、",), "三、附则"),
    ]


def test_pdf_manual_chunks_carry_pages():
    doc, chunks = _chunks(corpus_file("差旅与报销操作手册"))
    assert doc.kind == "pdf" and [p for _, _, p in doc.pages] == [1, 2, 3, 4, 5]
    assert all(c.pages for c in chunks)
    assert _labels(chunks) == [int_to_cn(n) + "、" for n in range(1, 11)]
    for c in chunks:
        expected = tuple(p for a, b, p in doc.pages if a < c.end and b > c.start)
        assert c.pages == expected
        assert c.text == doc.text[c.start : c.end]
    assert any(len(c.pages) == 2 for c in chunks)  # a section running over a page break
    firsts = [c.pages[0] for c in chunks]
    assert firsts == sorted(firsts) and firsts[0] == 1 and chunks[-1].pages[-1] == 5
    assert chunks[1].heading == "一、总则 / （一）适用范围"


def test_sample_pdf_article_across_pages():
    doc = load_file(FORMATS_DIR / "sample.pdf", FORMATS_DIR)
    chunks = chunk_document(doc)
    pages = {c.articles[0]: c.pages for c in chunks if c.articles}
    assert pages == {
        "第一条": (1,),
        "第二条": (1,),
        "第三条": (2,),
        "第四条": (2, 3),
        "第五条": (3,),
    }


# --- numerals -------------------------------------------------------------------------------------


def test_chinese_numerals_round_trip():
    for n in range(1, 1301):
        assert cn_to_int(int_to_cn(n)) == n, n
    assert [int_to_cn(n) for n in (10, 15, 20, 103, 110, 1000, 1001, 1260)] == [
        "十",
        "十五",
        "二十",
        "一百零三",
        "一百一十",
        "一千",
        "一千零一",
        "一千二百六十",
    ]
    assert cn_to_int("两") == 2 and cn_to_int("12") == 12
    assert article_number("第十条之一") == (10, 1) and article_number("二十七、") == (27, 0)
    with pytest.raises(ValueError):
        article_number("第十章")


def test_embedded_and_searched_text():
    """An article is embedded under its document title only (the 章 path hurt the e5 vector);
    BM25 keeps the heading path; a manual's clause keeps its headings in both."""
    _, law = _chunks(corpus_file("公务员法"))
    first = next(c for c in law if c.articles == ("第一条",))
    assert first.embedding_text() == f"{first.title}\n{first.text}"
    assert first.search_text() == f"{first.title} 第一章 总则\n{first.text}"
    _, manual = _chunks(corpus_file("滨江市数据管理局公文与印章管理办法"))
    clause = next(c for c in manual if c.heading == "一、总则 / （一）目的和依据")
    assert clause.embedding_text() == clause.search_text()
    assert clause.embedding_text().startswith(f"{clause.title} 一、总则 （一）目的和依据\n")

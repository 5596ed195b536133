"""Loaders on real files: every format fixture, the corpus, and generated bad inputs."""

from __future__ import annotations

import hashlib
import shutil
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CORPUS_DIR, FORMATS_DIR, SHARED_DATA, corpus_file

from ingest.errors import LoadError
from ingest.loaders import decode_text, document_id, load_file
from tests.data import make_bad

# file -> (marker phrase, title, version date); see tests/data/formats/README.md
FIXTURES = {
    "sample.md": ("紫藤花开标记", "滨江市公共数据开放样例办法", "2024-06-01"),
    "utf8.txt": ("银杏叶落标记", "滨江市政务短信发送管理样例规定", None),
    "utf8_bom.txt": ("梧桐细雨标记", "滨江市机关会议室预约样例规定", None),
    "gbk.txt": ("芦苇秋风标记", "滨江市政务服务窗口样例管理规定", None),
    "gb18030.txt": ("山茶初雪标记", "滨江市姓名生僻字登记样例规定", None),
    "sample.docx": ("海棠春晓标记", "滨江市政务数据共享样例规程", "2024-07-01"),
    "sample.pdf": ("松柏长青标记", "滨江市电子证照应用样例细则", "2024-09-01"),
    "sample.html": ("荷塘月色标记", "滨江市数据安全样例规定", "2024-09-01"),
}
ALL_MARKERS = [m for m, _, _ in FIXTURES.values()]


def _load(name: str):
    return load_file(FORMATS_DIR / name, FORMATS_DIR)


# --- every format ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_loads_with_marker_title_date_and_hash(name):
    marker, title, date = FIXTURES[name]
    doc = _load(name)
    assert marker in doc.text
    assert [m for m in ALL_MARKERS if m in doc.text] == [marker]  # no other fixture's marker
    assert doc.title == title
    assert doc.version_date == date
    assert doc.source == name
    assert doc.kind == Path(name).suffix.lstrip(".")
    assert doc.sha256 == hashlib.sha256((FORMATS_DIR / name).read_bytes()).hexdigest()
    assert doc.id == document_id(name)
    assert "\r" not in doc.text and "\ufeff" not in doc.text and "\ufffd" not in doc.text
    assert ("一、总则" if name.endswith(".docx") else "第一条") in doc.text


def test_id_is_stable_and_derived_from_the_relative_path(tmp_path):
    first, again = _load("sample.md"), _load("sample.md")
    assert first.id == again.id
    # same relative path under another root, different bytes: same id, different hash
    other = tmp_path / "sample.md"
    other.write_bytes((FORMATS_DIR / "sample.md").read_bytes() + "\n补充一句。\n".encode())
    changed = load_file(other, tmp_path)
    assert changed.id == first.id and changed.sha256 != first.sha256
    # same bytes, another path: another id
    (tmp_path / "sub").mkdir()
    moved = tmp_path / "sub" / "sample.md"
    shutil.copyfile(FORMATS_DIR / "sample.md", moved)
    elsewhere = load_file(moved, tmp_path)
    assert elsewhere.source == "sub/sample.md"
    assert elsewhere.id != first.id and elsewhere.sha256 == first.sha256


def test_version_date_from_file_name_wins_over_text(tmp_path):
    for name in ("滨江市样例办法(2023-05-04).md", "滨江市样例办法（2023-05-04）.md"):
        path = tmp_path / name
        shutil.copyfile(FORMATS_DIR / "sample.md", path)  # text states 2024-06-01
        doc = load_file(path, tmp_path)
        assert doc.version_date == "2023-05-04"
        assert doc.title == "滨江市公共数据开放样例办法"  # the heading, not the file name
    # a .txt whose first line is not a title falls back to the file name (without the date)
    path = tmp_path / "窗口规定(2022-1-9).txt"
    path.write_text(
        "第一条 本规定适用于窗口。\n第二条 本规定自发布之日起施行。\n", encoding="utf-8"
    )
    doc = load_file(path, tmp_path)
    assert (doc.title, doc.version_date) == ("窗口规定", "2022-01-09")


@pytest.mark.parametrize(
    "prefix, title, date",
    [
        ("公务员法", "中华人民共和国公务员法", "2018-12-29"),
        ("差旅与报销操作手册", "差旅与报销操作手册", "2024-01-02"),  # PDF: date in its text
        ("滨江市数据管理局公文与印章管理办法", "滨江市数据管理局公文与印章管理办法", "2024-02-26"),
    ],
)
def test_corpus_titles_and_dates(prefix, title, date):
    path = corpus_file(prefix)
    doc = load_file(path, CORPUS_DIR)
    assert (doc.title, doc.version_date) == (title, date)
    assert "INFO END" not in doc.text  # the HTML comment separating the preamble is dropped


def test_version_date_from_a_long_preamble():
    """刑法 lists 14 amendments (> 600 characters) before 第一编: the latest one is the version."""
    path = SHARED_DATA / "stard" / "corpus" / "刑法" / "刑法.md"
    if not path.is_file():
        pytest.skip("../shared/data/stard is absent")
    doc = load_file(path, path.parent)
    assert doc.title == "中华人民共和国刑法"
    assert doc.version_date == "2023-12-29"


def test_markdown_front_matter_groups(tmp_path):
    path = tmp_path / "财务制度.md"
    path.write_text(
        "---\ngroups: [finance, hr]\n---\n# 滨江市财务样例制度\n\n第一条 报销须经审批。\n",
        encoding="utf-8",
    )
    doc = load_file(path, tmp_path)
    assert doc.groups == ("finance", "hr")
    assert doc.text.startswith("滨江市财务样例制度") and "groups" not in doc.text


# --- encodings --------------------------------------------------------------------------------


def test_gbk_file_is_really_gbk_with_crlf():
    raw = (FORMATS_DIR / "gbk.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\r\n" in raw
    doc = _load("gbk.txt")
    assert "\r" not in doc.text
    assert doc.text.count("\n第") == 8  # 第一条..第八条, one per line
    assert doc.text == raw.decode("gbk").replace("\r\n", "\n").replace("\u3000", " ")


def test_gb18030_four_byte_characters():
    raw = (FORMATS_DIR / "gb18030.txt").read_bytes()
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    assert "𠮷".encode("gb18030") in raw
    doc = _load("gb18030.txt")
    assert "𠮷" in doc.text and "䶮" in doc.text


def test_utf8_bom_is_stripped():
    assert (FORMATS_DIR / "utf8_bom.txt").read_bytes().startswith(b"\xef\xbb\xbf")
    doc = _load("utf8_bom.txt")
    assert doc.text.startswith("滨江市机关会议室预约样例规定")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_decode_text_round_trip(encoding):
    text = "第一条 为了规范公文处理，制定本办法。\n第二条 本办法自发布之日起施行。\n"
    assert decode_text(text.encode(encoding)) == text


def test_decode_text_tolerates_a_few_bad_bytes_but_not_many():
    lines = ["第一条 查阅档案应当填写查阅登记表，经审核后在查阅室查阅。\n".encode("gbk")] * 8
    few = b"\xff".join(lines[:3]) + b"".join(lines[3:])  # 2 bad bytes in ~240 characters
    assert decode_text(few).count("\ufffd") == 2
    many = b"\xff\xff".join(lines)  # 14 bad bytes
    with pytest.raises(LoadError, match="encoding"):
        decode_text(many)


# --- structure: docx, PDF, HTML -------------------------------------------------------------


def test_docx_headings_and_table_rows_in_document_order():
    doc = _load("sample.docx")
    heading_texts = [(doc.text[a:b], level) for a, b, level in doc.headings]
    assert heading_texts[0] == ("滨江市政务数据共享样例规程", 1)  # style Title
    assert ("一、总则", 1) in heading_texts and ("（一）目的", 2) in heading_texts
    assert ("三、附则", 1) in heading_texts
    assert all(not t.startswith(("1.", "2.")) for t, _ in heading_texts)  # items are body text
    order = [
        "一、总则",
        "（一）目的",
        "（二）适用范围",
        "二、共享程序",
        "（一）申请",
        "2. 数据提供处室按照下表",
        "表1 · 无条件共享 · 审批人：无需审批，办理时限：即时获取",
        "表1 · 有条件共享 · 审批人：数据提供处室负责人，办理时限：5个工作日",
        "表1 · 不予共享 · 审批人：分管副局长，办理时限：3个工作日内书面说明理由",
        "（二）使用",
        "三、附则",
    ]
    positions = [doc.text.index(s) for s in order]
    assert positions == sorted(positions)
    # the table's data rows are units of their own (ingest/tables.py): one line each, every
    # cell under its column header; the header row is not a row of its own
    assert [(doc.text[a:b].split(" · ")[1], label) for a, b, _, label in doc.rows] == [
        ("无条件共享", "无条件共享（第2行）"),
        ("有条件共享", "有条件共享（第3行）"),
        ("不予共享", "不予共享（第4行）"),
    ]
    assert "共享类型 | 审批人" not in doc.text


def test_pdf_page_spans():
    doc = _load("sample.pdf")
    assert [p for _, _, p in doc.pages] == [1, 2, 3]
    spans = list(doc.pages)
    assert spans[0][0] == 0 and spans[-1][1] == len(doc.text)
    assert all(a < b for a, b, _ in spans)
    assert all(b1 < a2 for (_, b1, _), (a2, _, _) in zip(spans, spans[1:], strict=False))

    def page_of(phrase: str) -> int:
        at = doc.text.index(phrase)
        (page,) = [p for a, b, p in spans if a <= at < b]
        return page

    assert page_of("第一页独有短语") == 1
    assert page_of("第二页独有短语") == 2
    assert page_of("第三页独有短语") == 3
    assert page_of("松柏长青标记") == 1
    # 第四条 starts on page 2 and ends on page 3
    assert page_of("第四条") == 2 and page_of("3个工作日内更新") == 3
    assert "- 1 -" not in doc.text and "- 2 -" not in doc.text  # footers dropped


def test_html_main_content_without_noise():
    doc = _load("sample.html")
    for noise in (
        "脚本噪声不应出现",
        "样式噪声不应出现",
        "导航噪声不应出现",
        "页眉噪声不应出现",
        "页脚噪声不应出现",
        "侧栏噪声不应出现",
    ):
        assert noise not in doc.text, noise
    assert "门户网站" not in doc.title
    assert [doc.text[a:b] for a, b, _ in doc.headings] == [
        "滨江市数据安全样例规定",
        "第一章 总则",
        "第二章 安全管理",
    ]
    assert [level for _, _, level in doc.headings] == [1, 2, 2]
    # 第三条 has two <p> paragraphs: two lines
    third = doc.text[doc.text.index("第三条") : doc.text.index("第四条")]
    assert third.strip().count("\n") == 1


# --- bad inputs ---------------------------------------------------------------------------------

REASONS = {
    "empty": "empty file",
    "corrupt": "corrupt",
    "encrypted": "encrypted",
    "not_a_docx": "not a valid .docx",
    "zip_bomb": "zip bomb",
    "binary": "binary content",
    "unsupported": "unsupported file type",
}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    make_bad.make_bad_files(folder)
    return folder


@pytest.mark.parametrize("name", [n for n, kind in make_bad.EXPECTED.items() if kind in REASONS])
def test_bad_input_raises_load_error_with_reason(bad_dir, name):
    kind = make_bad.EXPECTED[name]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(LoadError) as info:
            load_file(bad_dir / name, bad_dir)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert REASONS[kind] in message
    assert "\n" not in message and " / " in message  # one line, English / Chinese
    assert elapsed < 3
    if kind == "zip_bomb":  # rejected from the zip directory, nothing inflated
        assert (bad_dir / name).stat().st_size < 1024 * 1024
        assert peak < 20 * 1024 * 1024
        assert elapsed < 0.5


def test_huge_sparse_file_rejected_by_size_without_reading(tmp_path):
    path = make_bad.make_huge_file(tmp_path / "超大文件.md", 200)
    started = time.perf_counter()
    with pytest.raises(LoadError, match="too large") as info:
        load_file(path, tmp_path)
    assert time.perf_counter() - started < 0.5
    assert "200 MB > 50 MB" in str(info.value)
    with pytest.raises(LoadError, match="too large"):  # the limit is a parameter
        load_file(path, tmp_path, max_bytes=100 * 1024 * 1024)


def test_gbk_with_a_few_invalid_bytes_loads_with_replacement_characters(bad_dir):
    doc = load_file(bad_dir / "gbk_bad.txt", bad_dir)
    assert make_bad.GBK_BAD_MARKER in doc.text
    assert doc.text.count("\ufffd") == 3
    assert doc.title == "滨江市档案查阅样例规定"
    assert doc.text.count("\n第") == 7


def test_space_and_chinese_in_file_name(bad_dir):
    doc = load_file(bad_dir / "名称 含空格.md", bad_dir)
    assert doc.source == "名称 含空格.md"
    assert doc.id == document_id("名称 含空格.md")
    assert make_bad.SPACE_NAME_MARKER in doc.text
    assert doc.title == "滨江市样例管理规定"


def test_a_pdf_title_is_not_joined_to_the_document_number_under_it():
    """PDF lines are unwrapped (a line not ending a sentence continues on the next), but the
    parenthesis under a title — its 文号 or adoption note — is a line of its own."""
    from ingest.loaders import clean_pdf_text
    from ingest.titles import title_from_first_line

    page = (
        "江屿县自然资源和规划局考勤与休假管理规定\n（江自然资办〔2023〕41 号）\n第一章 总则\n"
        "第一条 为加强本局干部职工队伍管理，严肃工作纪律，保障工作人员依法享有休息休假的\n"
        "权利，制定本规定。\n"
    )
    text = clean_pdf_text(page)
    assert title_from_first_line(text) == "江屿县自然资源和规划局考勤与休假管理规定"
    assert "（江自然资办〔2023〕41 号）\n" in text
    assert "休息休假的权利" in text  # a wrapped sentence is still joined


def test_a_pdf_line_wraps_only_where_the_next_line_s_first_word_would_not_have_fitted():
    """``wraps`` on measured lines (points): the gap at a line's end up to its font size's margin
    must be narrower than the next line's first word (plus half a character), and the next line
    must be set in the same size; a line alone in its size has no margin and never wraps."""
    from ingest.pdftext import LineBox, wraps

    body = LineBox(right=510.0, size=16.0, first_word=16.0, margin=520.0)
    assert wraps(body, LineBox(300.0, 16.0, 16.0, 520.0))  # gap 10 < 16 + 8
    assert not wraps(replace(body, right=480.0), LineBox(300.0, 16.0, 16.0, 520.0))  # 40 > 24
    assert wraps(replace(body, right=480.0), LineBox(300.0, 16.0, 40.0, 520.0))  # 'PDF、OFD'
    assert not wraps(body, LineBox(300.0, 22.0, 22.0, 520.0))  # the next line is a title
    assert not wraps(replace(body, margin=None), LineBox(300.0, 16.0, 16.0, 520.0))
    assert not wraps(body, None)  # the last line of the document

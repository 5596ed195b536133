"""Tables as citable units: spreadsheets, and tables inside docx, HTML and PDF (ingest/tables.py).

Every fixture is a real file generated here (openpyxl, python-docx, LibreOffice) or by
tests/data/make_tables.py; the retrieval test asks questions in everyday words over them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS_DIR, REPO, corpus_file

from ingest.chunking import chunk_document
from ingest.errors import LoadError
from ingest.loaders import load_file
from ingest.pipeline import IngestOptions, run_ingest

sys.path.insert(0, str(REPO / "tests" / "data"))
import make_tables  # noqa: E402

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")


def _rows(doc) -> list[tuple[str, str]]:
    """(row line, heading of its chunk) for every table row, checked against the chunks."""
    chunks = {c.start: c for c in chunk_document(doc)}
    out = []
    for start, end, table, label in doc.rows:
        chunk = chunks[start]
        assert chunk.text == doc.text[start:end] and chunk.articles == ()
        assert chunk.heading.split(" / ")[-1] == f"{table} · {label}"
        out.append((doc.text[start:end], chunk.heading))
    return out


def _standards_xlsx(path: Path, rows: int = 3) -> Path:
    """差旅住宿费标准 with a merged title, 序号, a two-level merged header, a section row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet["A1"] = "差旅住宿费标准"
    sheet.merge_cells("A1:D1")
    sheet["A2"], sheet["B2"], sheet["C2"] = "序号", "地区", "住宿费（元/人·天）"
    sheet["C3"], sheet["D3"] = "局级", "处级及以下"
    for cells in ("A2:A3", "B2:B3", "C2:D2"):
        sheet.merge_cells(cells)
    sheet.append(["一、直辖市"])
    sheet.merge_cells("A4:D4")
    sheet.append([1, "上海", 800, 500])
    sheet.append([2, "北京", 800, 500])
    sheet.append([])  # a blank row inside the table
    for n in range(3, rows + 1):
        sheet.append([n, f"城市{n}", 600, 400 + n])
    book.save(path)
    return path


# --- spreadsheets ----------------------------------------------------------------------------------


def test_xlsx_rows_carry_title_and_expanded_two_level_header(tmp_path):
    doc = load_file(_standards_xlsx(tmp_path / "标准.xlsx"), tmp_path)
    rows = _rows(doc)
    assert rows[0] == (
        "差旅住宿费标准 · 一、直辖市 · 上海 · 住宿费 局级：800元/人·天，住宿费 处级及以下：500元/人·天",
        "差旅住宿费标准 · 一、直辖市 · 上海（第5行）",  # the sheet's own row number
    )
    assert [heading for _, heading in rows] == [
        "差旅住宿费标准 · 一、直辖市 · 上海（第5行）",
        "差旅住宿费标准 · 一、直辖市 · 北京（第6行）",
        "差旅住宿费标准 · 一、直辖市 · 城市3（第8行）",
    ]
    assert "序号" not in doc.text and "\n1 " not in doc.text  # the serial column is no key
    assert doc.kind == "xlsx" and doc.title == "标准" and doc.notes == ()


@needs_soffice
def test_xls_made_by_libreoffice_reads_like_the_xlsx(tmp_path):
    src = _standards_xlsx(tmp_path / "标准.xlsx")
    profile = tmp_path / "profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xls",
            "--outdir",
            str(tmp_path / "out"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    xls = load_file(tmp_path / "out" / "标准.xls", tmp_path / "out")
    xlsx = load_file(src, tmp_path)
    assert xls.kind == "xls" and _rows(xls) == _rows(xlsx)


def test_csv_in_gbk(tmp_path):
    make_tables.equipment_csv(tmp_path / "设备.csv")
    assert (tmp_path / "设备.csv").read_bytes().decode("gbk").startswith("设备名称,")
    doc = load_file(tmp_path / "设备.csv", tmp_path)
    rows = _rows(doc)
    assert len(rows) == len(make_tables.EQUIPMENT) - 1
    assert rows[1] == (
        "设备 · 便携式计算机 · 配置数量上限：每处室2台，单价上限：7000元，最低使用年限：6年",
        "设备 · 便携式计算机（第3行）",
    )


def test_sample_corpus_spreadsheet(tmp_path):
    doc = load_file(corpus_file("滨江市数据管理局差旅费开支标准表"), CORPUS_DIR)
    rows = dict((heading.split(" · ")[-1], text) for text, heading in _rows(doc))
    assert len(rows) == 10  # 8 places on sheet 1, 2 ranks on sheet 2 (交通工具)
    assert "住宿费标准 处级及以下人员：550元/人·天" in rows["深圳（第7行）"]
    assert rows["处级及以下人员（第4行）"].startswith("出差交通工具乘坐等级 · 处级及以下人员 · ")
    # the figures are those of the travel manual (差旅与报销操作手册.pdf, 四、住宿标准)
    manual = load_file(corpus_file("差旅与报销操作手册"), CORPUS_DIR).text
    assert "每人每天450元；到北京、上海、广州、深圳出差的，为每人每天550元" in manual


# --- tables inside documents ----------------------------------------------------------------------


def test_docx_table_with_caption_and_merged_header(tmp_path):
    path = tmp_path / "值班.docx"
    make_tables.write_docx_table(
        path,
        make_tables.DUTY_CAPTION,
        make_tables.DUTY,
        merges=[((0, 0), (1, 0)), ((0, 1), (0, 3))],
    )
    doc = load_file(path, tmp_path)
    rows = _rows(doc)
    assert rows[0] == (
        "值班补助标准 · 局机关带班领导 · 补助标准 工作日夜间：150元/人·次，补助标准 休息日：200元/人·次，"
        "补助标准 法定节假日：400元/人·次",
        "值班补助标准 · 局机关带班领导（第3行）",
    )
    assert len(rows) == 3 and doc.text.endswith("以上标准自2024年1月1日起执行。")


def test_html_table_with_rowspan_colspan_inside_a_layout_table(tmp_path):
    make_tables.training_html(tmp_path / "培训.html")
    doc = load_file(tmp_path / "培训.html", tmp_path)
    rows = _rows(doc)
    assert [h for _, h in rows] == [
        f"培训费综合定额标准 · {n}类培训（第{i}行）" for i, n in ((3, "一"), (4, "二"), (5, "三"))
    ]
    assert "综合定额标准 师资费：180元/人·天" in rows[0][0]
    # the layout table around the page stays text: its paragraphs are still there, once
    assert doc.text.count("局机关举办的各类培训") == 1 and "师资费在综合定额标准外" in doc.text


@needs_soffice
def test_pdf_table_made_by_libreoffice(tmp_path):
    assert make_tables.duty_pdf(tmp_path / "值班补助标准.pdf")
    doc = load_file(tmp_path / "值班补助标准.pdf", tmp_path)
    rows = _rows(doc)
    assert [h for _, h in rows] == [
        "值班补助标准 · 局机关带班领导（第3行）",
        "值班补助标准 · 值班人员（第4行）",
        "值班补助标准 · 信息系统运维值守人员（第5行）",
    ]
    assert "补助标准 法定节假日：360元/人·次" in rows[2][0]
    assert doc.pages and doc.pages[-1][1] == len(doc.text)  # page spans rebuilt
    assert doc.text.endswith("\n以上标准自2024年1月1日起执行。")  # the text below the table
    assert "信息系统运维值守 120" not in doc.text  # the table's own text is not left behind


def test_a_layout_docx_table_stays_text(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "第一条 " + "为了规范管理，制定本办法。" * 30
    table.cell(0, 1).text = "签发人：张三"
    document.save(tmp_path / "layout.docx")
    doc = load_file(tmp_path / "layout.docx", tmp_path)
    assert doc.rows == () and "为了规范管理" in doc.text


# --- bad input ------------------------------------------------------------------------------------


def test_corrupt_and_empty_spreadsheets_are_skipped_with_a_reason(tmp_path):
    real = _standards_xlsx(tmp_path / "real.xlsx").read_bytes()
    (tmp_path / "truncated.xlsx").write_bytes(real[: len(real) // 2])
    (tmp_path / "garbage.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook" * 20)
    for name in ("truncated.xlsx", "garbage.xls"):
        with pytest.raises(LoadError, match="corrupt or unreadable spreadsheet"):
            load_file(tmp_path / name, tmp_path)
    from openpyxl import Workbook

    Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(LoadError, match="no table rows"):
        load_file(tmp_path / "empty.xlsx", tmp_path)
    (tmp_path / "header-only.csv").write_text("地区,住宿费\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no table rows"):
        load_file(tmp_path / "header-only.csv", tmp_path)


def test_a_huge_sheet_is_truncated_at_the_row_limit_and_reported(tmp_path, counting):
    src = tmp_path / "src"
    src.mkdir()
    _standards_xlsx(src / "大表.xlsx", rows=60)
    doc = load_file(src / "大表.xlsx", src, max_table_rows=20)
    assert len(doc.rows) == 20
    assert doc.notes and "max_table_rows" in doc.notes[0] and "\n" not in doc.notes[0]
    lines = "\n".join(f"{n},城市{n},{n}" for n in range(500))
    (src / "明细.csv").write_text("序号,地区,金额（元）\n" + lines, encoding="utf-8")
    report = run_ingest(
        src, tmp_path / "index", IngestOptions(quiet=True, max_table_rows=20), embedder=counting()
    )
    assert sorted(report.ingested) == ["大表.xlsx", "明细.csv"]
    partly = {s.source: s.reason for s in report.skipped}
    assert set(partly) == {"大表.xlsx (partly)", "明细.csv (partly)"}
    assert all("max_table_rows" in r for r in partly.values())
    assert report.chunks_total == 40  # 20 rows each; a table's title heads them, no chunk


# --- retrieval: a cell asked in everyday words is answered from its row ---------------------------


@pytest.fixture(scope="module")
def table_index(tmp_path_factory, builtin):
    work = tmp_path_factory.mktemp("tables")
    source = make_tables.build(work / "src", pdf=SOFFICE is not None)
    run_ingest(source, work / "index", IngestOptions(quiet=True), embedder=builtin)
    return work / "index"


def test_table_questions_are_answered_from_their_row(table_index, builtin):
    from assistant.adapter import adapter_for
    from assistant.answer import extractive
    from assistant.retrieval import RetrievalConfig, Retriever
    from ingest.index import open_current

    retriever = Retriever(
        open_current(table_index),
        builtin,
        RetrievalConfig(),
        adapter_for("auto", builtin.name, builtin.dim),
    )
    path = REPO / "bench" / "data" / "table_questions.jsonl"
    questions = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    if SOFFICE is None:
        questions = [q for q in questions if not q["gold_row"][0].endswith(".pdf")]
    cited = 0
    for q in questions:
        source, key = q["gold_row"]
        answer = extractive(q["question"], retriever.search(q["question"], k=10))
        rows = [c for c in answer.citations if c.source == source and f"· {key}（第" in c.heading]
        if rows and not answer.refused:
            cited += 1
            # the citation names table and row; the answer quotes the row
            assert rows[0].to_json()["heading"].endswith("行）")
            assert rows[0].quote in answer.text and key in rows[0].quote
    assert cited / len(questions) >= 0.8, cited


def test_xlsx_percentages_and_dates_read_as_shown(tmp_path):
    import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["项目", "报销比例", "限额（元）", "执行日期"])
    sheet.append(["门诊费用", 0.8, 1234.5, datetime.date(2024, 1, 1)])
    sheet["B2"].number_format = "0%"
    book.save(tmp_path / "比例.xlsx")
    doc = load_file(tmp_path / "比例.xlsx", tmp_path)
    assert doc.text == "比例 · 门诊费用 · 报销比例：80%，限额：1234.5元，执行日期：2024-01-01"


def test_html_tables_without_caption_are_numbered_in_order(tmp_path):
    table = "<table><tr><th>项目</th><th>标准</th></tr><tr><td>{0}</td><td>{1}元</td></tr></table>"
    html = "<html><body>" + table.format("早餐", 20) + table.format("午餐", 40) + "</body></html>"
    (tmp_path / "餐费.html").write_text(html, encoding="utf-8")
    doc = load_file(tmp_path / "餐费.html", tmp_path)
    assert [(t, label) for _, _, t, label in doc.rows] == [
        ("表1", "早餐（第2行）"),
        ("表2", "午餐（第2行）"),
    ]

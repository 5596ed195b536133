"""Generate the spreadsheet of travel standards of the fictional 滨江市数据管理局 in corpus/.

    python tests/data/make_standards.py            # writes it into corpus/
    python tests/data/make_standards.py OUT_DIR    # writes it somewhere else

The figures are those of ``差旅与报销操作手册.pdf`` (四、住宿标准, 五、伙食补助费和市内交通费,
三、交通工具标准) laid out as an office keeps them: a title row merged across the sheet, a
序号 column and a two-level header (住宿费标准（元/人·天） over 局级领导干部 / 处级及以下人员),
and a second sheet of travel classes. Output is deterministic (fixed timestamps).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME = "滨江市数据管理局差旅费开支标准表.xlsx"
FIXED_TIME = datetime(2024, 1, 2, 9, 0, 0)

TITLE = "滨江市数据管理局差旅费开支标准"
# 出差地区, 住宿费 局级, 住宿费 处级及以下, 伙食补助费, 市内交通费
STANDARDS = [
    ("北京", 700, 550, 100, 80),
    ("上海", 700, 550, 100, 80),
    ("广州", 700, 550, 100, 80),
    ("深圳", 700, 550, 100, 80),
    ("西藏", 600, 450, 120, 80),
    ("青海", 600, 450, 120, 80),
    ("新疆", 600, 450, 120, 80),
    ("其他地区", 600, 450, 100, 80),
]
CLASSES_TITLE = "出差交通工具乘坐等级"
CLASSES = [
    ("职级", "火车", "高铁和动车", "轮船", "飞机"),
    ("局级领导干部", "软席（软座、软卧）", "一等座", "二等舱", "经济舱"),
    ("处级及以下人员", "硬席（硬座、硬卧）", "二等座", "三等舱", "经济舱"),
]


def build(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "差旅费标准"
    sheet["A1"] = TITLE
    sheet.merge_cells("A1:F1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"], sheet["B2"] = "序号", "出差地区"
    sheet["C2"] = "住宿费标准（元/人·天）"
    sheet["E2"], sheet["F2"] = "伙食补助费（元/人·天）", "市内交通费（元/人·天）"
    sheet["C3"], sheet["D3"] = "局级领导干部", "处级及以下人员"
    for cells in ("A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:F3"):
        sheet.merge_cells(cells)
    for n, row in enumerate(STANDARDS, start=1):
        sheet.append([n, *row])
    for row in sheet.iter_rows(min_row=2, max_row=3):
        for cell in row:
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    classes = book.create_sheet("交通工具")
    classes["A1"] = CLASSES_TITLE
    classes.merge_cells("A1:E1")
    for row in CLASSES:
        classes.append(list(row))
    book.properties.creator = "滨江市数据管理局计划财务处"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_normalize_zip(buffer.getvalue()))


def _normalize_zip(data: bytes) -> bytes:
    """Fixed member timestamps, so regenerating gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-02T09:00:00Z", content
                )
            dst.writestr(member, content)
    return out.getvalue()


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else REPO / "corpus"
    out.mkdir(parents=True, exist_ok=True)
    build(out / NAME)
    print(f"wrote {out / NAME}")


if __name__ == "__main__":
    main(sys.argv)

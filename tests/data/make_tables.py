"""Generate a small corpus of standards tables of the fictional 滨江市数据管理局, one per format.

    python tests/data/make_tables.py OUT_DIR

* ``滨江市数据管理局差旅费开支标准表.xlsx``: the sample corpus spreadsheet (make_standards.py):
  title row, 序号 column, a two-level merged header.
* ``会议费开支标准.docx``: a caption paragraph and a table with a vertically merged header cell.
* ``培训费开支标准.html``: a ``<caption>``, ``rowspan``/``colspan`` headers, and a layout table
  around the page (not a data table).
* ``办公设备配置标准.csv``: GBK-encoded, one header row.
* ``值班补助标准.pdf``: a .docx table converted with LibreOffice (needs ``soffice``; skipped with
  ``pdf=False`` or when LibreOffice is missing).

Tests and ``bench/tables.py`` build their fixtures with it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_standards  # noqa: E402

MEETING_CAPTION = "附表 会议费综合定额标准（单位：元/人·天）"
MEETINGS = [
    ("一类会议", 500, 150, 110, 760),
    ("二类会议", 400, 150, 100, 650),
    ("三类、四类会议", 340, 130, 80, 550),
]
TRAINING = [
    ("一类培训", 500, 150, 80, 180, 910),
    ("二类培训", 400, 150, 70, 120, 740),
    ("三类培训", 340, 130, 60, 80, 610),
]
EQUIPMENT = [
    ("设备名称", "配置数量上限", "单价上限（元）", "最低使用年限（年）"),
    ("台式计算机", "每人1台", "5000", "6"),
    ("便携式计算机", "每处室2台", "7000", "6"),
    ("打印机", "每处室1台", "2500", "6"),
    ("复印机", "每楼层1台", "30000", "8"),
    ("投影仪", "每会议室1台", "8000", "6"),
    ("碎纸机", "每处室1台", "1500", "5"),
]
DUTY_CAPTION = "值班补助标准"
DUTY = [
    ("值班类别", "补助标准（元/人·次）", "", ""),
    ("", "工作日夜间", "休息日", "法定节假日"),
    ("局机关带班领导", "150", "200", "400"),
    ("值班人员", "100", "150", "300"),
    ("信息系统运维值守人员", "120", "180", "360"),
]


def write_docx_table(path: Path, caption: str, rows: list[tuple], merges=()) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph(caption)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for (r0, c0), (r1, c1) in merges:
        table.cell(r0, c0).merge(table.cell(r1, c1))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value != "":
                table.cell(i, j).text = str(value)
    document.add_paragraph("以上标准自2024年1月1日起执行。")
    document.save(path)


def meeting_docx(path: Path) -> None:
    header = [("会议类别", "住宿费", "伙食费", "其他费用", "合计")]
    write_docx_table(path, MEETING_CAPTION, header + MEETINGS)


def training_html(path: Path) -> None:
    body = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>"
        for name, *values in TRAINING
    )
    html = f"""<html><head><meta charset="utf-8"><title>培训费开支标准</title></head><body>
<table class="layout"><tr><td><h1>滨江市数据管理局培训费开支标准</h1>
<p>局机关举办的各类培训，按照下列综合定额标准控制培训费支出。</p>
<table border="1"><caption>培训费综合定额标准</caption>
<tr><th rowspan="2">培训类别</th><th colspan="5">综合定额标准（元/人·天）</th></tr>
<tr><th>住宿费</th><th>伙食费</th><th>场地、资料、交通费</th><th>师资费</th><th>合计</th></tr>
{body}</table>
<p>师资费在综合定额标准外单独核算的，按师资费标准执行。</p></td></tr></table>
</body></html>"""
    path.write_text(html, encoding="utf-8")


def equipment_csv(path: Path) -> None:
    lines = [",".join(row) for row in EQUIPMENT]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def duty_pdf(path: Path) -> bool:
    """The duty table as a .docx converted to PDF by LibreOffice; False when soffice is missing."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / (path.stem + ".docx")
        write_docx_table(source, DUTY_CAPTION, DUTY, merges=[((0, 0), (1, 0)), ((0, 1), (0, 3))])
        profile = Path(tmp) / "profile"
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.copyfile(Path(tmp) / (path.stem + ".pdf"), path)
    return True


def build(out: Path, pdf: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    make_standards.build(out / make_standards.NAME)
    meeting_docx(out / "会议费开支标准.docx")
    training_html(out / "培训费开支标准.html")
    equipment_csv(out / "办公设备配置标准.csv")
    if pdf:
        duty_pdf(out / "值班补助标准.pdf")
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))

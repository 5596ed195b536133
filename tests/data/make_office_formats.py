"""Make the files an office holds from a Markdown regulation: DOCX, PDF, HTML, GB18030 TXT, .doc,
.wps, .odt and .rtf — the way an office gets them (Word → PDF/.doc/.odt/.rtf through LibreOffice).

    python tests/data/make_office_formats.py OUT_DIR REG.md [REG.md ...]   # every format of each

The .docx is written with python-docx (headings in "Heading N" styles, body paragraphs, a running
header with the title and a footer "第 N 页" page field, as a Word regulation looks); LibreOffice
then prints it to PDF and saves it as Word 97 (.doc). A Kingsoft WPS ``.wps`` file is a Word 97
binary (OLE2) under another name, so ``.wps`` is the ``.doc`` renamed. Used by the format tests
(tests/test_office_formats.py) and the benchmarks (bench/pdf_extractors.py, bench/formats.py).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
FORMATS = ("docx", "pdf", "html", "txt", "doc", "wps", "odt", "rtf")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def blocks(markdown: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) per non-empty line of a Markdown regulation."""
    out = []
    for line in _COMMENT.sub("", markdown).split("\n"):
        line = line.strip()
        if not line or set(line) <= set("#"):
            continue
        m = _HEADING.match(line)
        out.append((len(m.group(1)), m.group(2)) if m else (0, line))
    return out


def title_of(items: list[tuple[int, str]]) -> str:
    return next((text for level, text in items if level == 1), items[0][1])


def _page_field(paragraph) -> None:
    """Append a PAGE field (the page number Word prints) to ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def write_docx(items: list[tuple[int, str]], path: Path) -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = title_of(items)
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _page_field(footer)
    footer.add_run(" 页")
    for level, text in items:
        if level:
            document.add_heading(text, level=min(level, 9))
        else:
            document.add_paragraph(text)
    document.save(path)
    return path


def write_html(items: list[tuple[int, str]], path: Path) -> Path:
    body = "\n".join(
        f"<h{level}>{html.escape(text)}</h{level}>" if level else f"<p>{html.escape(text)}</p>"
        for level, text in items
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title_of(items))}</title></head>\n<body>\n"
        f"<header>政府网站 首页 &gt; 法律法规</header>\n<main>\n{body}\n</main>\n"
        f"<footer>版权所有 网站标识码</footer>\n</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_site_page(items: list[tuple[int, str]], path: Path) -> Path:
    """The regulation as a government site serves it: laid out with <div>s, no <h1>, a
    breadcrumb not in <nav>, the site's name in <title>."""
    title = title_of(items)
    body = "\n".join(f"<p>{html.escape(text)}</p>" for level, text in items if level != 1)
    page = (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}_法律法规_政府网站</title></head>\n<body>\n"
        f'<div class="crumbs">首页 &gt; 政策 &gt; 法律法规</div>\n'
        f'<div class="article"><div class="title">{html.escape(title)}</div>\n'
        f'<div class="content">\n{body}\n</div></div>\n'
        f'<div class="bottom">主办：政府办公厅</div>\n</body></html>\n'
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_txt(items: list[tuple[int, str]], path: Path) -> Path:
    path.write_bytes(("\r\n".join(text for _, text in items) + "\r\n").encode("gb18030"))
    return path


def convert(inputs: list[Path], fmt: str, outdir: Path, timeout: float = 600) -> list[Path]:
    """LibreOffice ``--convert-to fmt`` of ``inputs`` in one process (private profile)."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                exe,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                *map(str, inputs),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    ext = fmt.split(":")[0]
    out = [outdir / f"{p.stem}.{ext}" for p in inputs]
    missing = [p.name for p in out if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}")
    return out


def make_formats(sources: list[Path], outdir: Path, formats=FORMATS) -> dict[str, list[Path]]:
    """Every format of every Markdown file in ``sources``: {format: [path per source]} under
    ``outdir/<format>/`` (file names kept: ``<title>(<date>).<format>``)."""
    made: dict[str, list[Path]] = {}
    docx_dir = outdir / "docx"
    docx_dir.mkdir(parents=True, exist_ok=True)
    parsed = [(src, blocks(src.read_text(encoding="utf-8"))) for src in sources]
    made["docx"] = [write_docx(items, docx_dir / f"{src.stem}.docx") for src, items in parsed]
    for fmt, writer in (("html", write_html), ("txt", write_txt)):
        if fmt in formats:
            (outdir / fmt).mkdir(exist_ok=True)
            made[fmt] = [writer(items, outdir / fmt / f"{src.stem}.{fmt}") for src, items in parsed]
    if "pdf" in formats:
        made["pdf"] = convert(made["docx"], "pdf", outdir / "pdf")
    if "doc" in formats or "wps" in formats:
        made["doc"] = convert(made["docx"], "doc:MS Word 97", outdir / "doc")
    if "wps" in formats:
        (outdir / "wps").mkdir(exist_ok=True)
        made["wps"] = []
        for doc in made["doc"]:
            made["wps"].append(outdir / "wps" / f"{doc.stem}.wps")
            shutil.copyfile(doc, made["wps"][-1])
    for fmt, filt in (("odt", "odt"), ("rtf", "rtf:Rich Text Format")):
        if fmt in formats:
            made[fmt] = convert(made["docx"], filt, outdir / fmt)
    return {fmt: paths for fmt, paths in made.items() if fmt in formats}


if __name__ == "__main__":
    result = make_formats([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
    for fmt, paths in result.items():
        print(fmt, len(paths))

"""One function per format: a file on disk -> ``Document`` (text, page spans, heading spans).

Every failure is a ``LoadError`` whose message is the one-line reason the run reports.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from . import ocr, ofd, office
from .access import split_front_matter
from .docx_numbering import Numbering
from .errors import LoadError
from .officialdoc import recognise as official_meta
from .pdftables import pdf_with_tables
from .pdftext import LineBox, metadata_title, page_lines, read_pages, running_bounds, wraps
from .records import Document
from .spreadsheets import SPREADSHEETS, TableText, load_spreadsheet
from .statutes import BLOCK_START, BODY_START, ITEM_START, UNIT_START
from .table_grids import docx_rows, html_rows
from .tables import MAX_TABLE_ROWS, locate_rows
from .titles import DATE_IN_NAME, choose_title, title_from_name, web_page_title

MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024  # a .docx inflating past this is treated as a zip bomb


_DATE_IN_TEXT = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_EMPTY_HEADING = re.compile(r"^#{1,6}\s*$")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_PAGE_FOOTER = re.compile(
    r"^\s*(?:第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|[-—–]\s*\d+\s*[-—–]|\d+\s*/\s*\d+|Page \d+( of \d+)?)\s*$",
    re.I,
)


def document_id(source: str) -> str:
    """Stable id of a document: derived from its relative path, unchanged when its text changes."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def date_from_name(path: Path) -> str | None:
    m = DATE_IN_NAME.search(path.stem)
    return _iso(*m.groups()) if m else None


def _iso(y: str, m: str, d: str) -> str | None:
    y_, m_, d_ = int(y), int(m), int(d)
    if not (1900 <= y_ <= 2200 and 1 <= m_ <= 12 and 1 <= d_ <= 31):
        return None
    return f"{y_:04d}-{m_:02d}-{d_:02d}"


def date_from_text(text: str) -> str | None:
    """The latest date stated in the preamble (promulgation / amendment notes).

    Looks at the first 600 characters, or the whole preamble (everything before the first
    第X条/章/节/编 line, up to 8000 characters) when it is longer: a much-amended law such as
    刑法 lists a dozen amendments before its first chapter.
    """
    body = BODY_START.search(text, 0, 8000)
    head = text[: max(600, body.start() if body else 0)]
    dates = [d for d in (_iso(*m.groups()) for m in _DATE_IN_TEXT.finditer(head)) if d]
    return max(dates) if dates else None


# --- text decoding -------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030/GBK, else what charset-normalizer finds.

    Refuses binary data. GBK text with a few invalid bytes is decoded with replacement characters
    rather than rejected, as long as they are rare.
    """
    if not data.strip():
        raise LoadError("empty file / 空文件")
    sample = data[:65536]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content, not text / 二进制内容，不是文本")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding not in ("utf_8", "gb18030", "gbk", "gb2312"):
        return str(best)
    text = data.decode("gb18030", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise LoadError("unknown text encoding / 无法识别的文本编码")
    return text


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- formats --------------------------------------------------------------------------------


def _markdown_headings(text: str) -> tuple[str, list[tuple[int, int, int]], str | None]:
    """Strip '#' marks from heading lines; return text, heading spans and the first heading."""
    lines, spans, first, pos = [], [], None, 0
    for line in text.split("\n"):
        if _MD_EMPTY_HEADING.match(line):
            line = ""  # a bare "##" (empty heading) is markup, not text
        m = _MD_HEADING.match(line)
        if m:
            line = m.group(2).strip()
            spans.append((pos, pos + len(line), len(m.group(1))))
            first = first or line
        lines.append(line)
        pos += len(line) + 1
    return "\n".join(lines), spans, first


def _clean_lines(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    text = re.sub(r"[\u200b-\u200d\ufeff\u2060]", "", text)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    return re.sub(r"[ \t]+\n", "\n", text)


def load_markdown(data: bytes) -> tuple[str, list, str | None, list]:
    text, _, _ = split_front_matter(decode_text(data).lstrip("\ufeff"))
    text = _clean_lines(_HTML_COMMENT.sub("", text))
    text, spans, first = _markdown_headings(text)
    return text, spans, first, []


def load_text(data: bytes) -> tuple[str, list, str | None, list]:
    return _clean_lines(decode_text(data)), [], None, []


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LoadError("not a valid .docx (not a zip archive) / 不是有效的 docx 文件") from exc
    if "word/document.xml" not in archive.namelist():
        raise LoadError("not a valid .docx (no word/document.xml) / 不是有效的 docx 文件")
    if sum(i.file_size for i in archive.infolist()) > MAX_DOCX_UNCOMPRESSED:
        raise LoadError("docx inflates to an implausible size (zip bomb?) / 解压后体积异常")
    return archive


def _docx_heading_level(paragraph) -> int:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if name == "Title":
        return 1
    m = re.match(r"(?:Heading|标题)\s*(\d)", name)
    return int(m.group(1)) if m else 0


def load_docx(data: bytes) -> tuple[str, list, str | None, list]:
    _check_zip(data)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on broken files
        raise LoadError(f"cannot read .docx ({type(exc).__name__}) / 无法读取 docx") from exc
    lines: list[str] = []
    spans: list[tuple[int, int, int]] = []
    first, pos, found, before = None, 0, [], ""
    numbering = Numbering(document)  # 第一条 / 第二章 typed as Word's automatic numbering
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            label = numbering.label(block)  # counted even on an empty paragraph, as Word does
            text = block.text.strip()
            text = (label + text).strip() if text else ""
            level = _docx_heading_level(block)
            rows = [text] if text else []
            before = text or before
        elif isinstance(block, Table):
            level = 0
            rows = []
            table_rows = docx_rows(block, before, len(found) + 1)
            if table_rows:  # a data table: one line per row (ingest/tables.py)
                found.append(table_rows)
                rows = [r.text for r in table_rows]
            for row in block.rows if not table_rows else ():
                cells: list[str] = []
                for cell in row.cells:
                    value = cell.text.strip().replace("\n", " ")
                    if not cells or cells[-1] != value:  # merged cells repeat their text
                        cells.append(value)
                if any(cells):
                    rows.append(" | ".join(cells))
        else:
            continue
        for row in rows:
            if level:
                spans.append((pos, pos + len(row), level))
                first = first or row
            lines.append(row)
            pos += len(row) + 1
    rows = tuple(r for table in found for r in table)
    return _clean_lines("\n".join(lines)), spans, first, [], TableText(rows)


_LINE_END = re.compile(r"[。；：！？!?:;」”）)]\s*$")
_SENTENCE_END = re.compile(r"[。！？!?][」”’）)]*\s*$")


def _unwrap(lines: list[str], wrapped: Sequence[bool] | None = None) -> str:
    """Join lines a PDF wrapped mid-paragraph, unless the next one starts a heading or an article.
    Without the page's geometry: a line of 20 characters or more not ending a clause (。；：…)
    continues on the next, unless that starts a numbered item. With it (``wrapped``, one flag per
    line: it reaches the right margin and the next line goes on in its font): a wrapped line not
    ending a sentence does — also onto a line that happens to start like an item (统 / 一、…),
    unless it ends a clause (：) — and a line ending short of the margin never (a centred title
    above the 主送机关 line)."""
    out: list[str] = []
    for n, line in enumerate(lines):
        if out and out[-1].strip() and line.strip() and _joins(out[-1], line, wrapped, n - 1):
            out[-1] += line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def _joins(line: str, after: str, wrapped: Sequence[bool] | None, n: int) -> bool:
    if wrapped is None:
        return not BLOCK_START.match(after) and _runs_on(line)
    if UNIT_START.match(after) or ITEM_START.match(after) and _LINE_END.search(line):
        return False
    return wrapped[n] and not _SENTENCE_END.search(line)


def _runs_on(line: str) -> bool:
    """Without geometry (OCR'd text): does ``line`` run on to the next line, within a page or
    past its end? It has 20 characters or more and does not end a clause."""
    return len(line) >= 20 and not _LINE_END.search(line)


def clean_pdf_text(raw: str) -> str:
    """One page's extracted text as load_pdf keeps it without geometry: no footer lines, wrapped
    lines joined."""
    lines = [ln for ln in _clean_lines(raw).split("\n") if not _PAGE_FOOTER.match(ln)]
    return _unwrap(lines).strip("\n")


def load_pdf(data: bytes) -> tuple[str, list, str | None, list]:
    kept = _pdf_lines(data)
    flags = _wrap_flags(kept)
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    pos, carry = 0, False
    for (number, lines, _), wrapped in zip(kept, flags, strict=True):
        text = _unwrap(lines, wrapped).strip("\n")
        if not text:
            continue
        if parts:  # a sentence the layout broke at the page's end goes on without a line break
            joined = carry and not _SENTENCE_END.search(parts[-1]) and not BLOCK_START.match(text)
            parts[-1] += "" if joined else "\n"
            pos += 0 if joined else 1
        spans.append((pos, pos + len(text), number))
        parts.append(text)
        pos += len(text)
        carry = bool(wrapped[-1]) if wrapped is not None else _runs_on(lines[-1])
    text = "".join(parts)
    if not text.strip():
        raise LoadError("PDF has no text, not even by OCR / PDF 中未识别到文字")
    return text, [], None, spans


PdfLines = tuple[int, list[str], list[LineBox | None] | None]  # page number, lines, their boxes


def _pdf_lines(data: bytes) -> list[PdfLines]:
    """Every page's lines, without running headers/footers and page-number lines, with their
    boxes where the page has a text layer (pages without one are read by OCR)."""
    pages = read_pages(data)
    texts = ocr.fill_blank_pages(data, [page.text for page in pages])
    out: list[PdfLines] = []
    for number, (raw, page, (top, bottom)) in enumerate(
        zip(texts, pages, running_bounds(texts), strict=True), start=1
    ):
        lines = _clean_lines("\n".join(page_lines(raw)[top:bottom])).split("\n")
        keep = [n for n, ln in enumerate(lines) if ln and not _PAGE_FOOTER.match(ln)]
        boxes = page.lines[top:bottom] if page.lines is not None else None
        out.append((number, [lines[n] for n in keep], [boxes[n] for n in keep] if boxes else None))
    return out


def _wrap_flags(pages: list[PdfLines]) -> list[list[bool] | None]:
    """For each line of each page: did the layout break it? The last line of a page is judged
    against the first line of the next one."""
    out: list[list[bool] | None] = []
    for i, (_, _, boxes) in enumerate(pages):
        if boxes is None:
            out.append(None)
            continue
        following = pages[i + 1][2] if i + 1 < len(pages) else None
        after = boxes[1:] + [following[0] if following else None]
        out.append([wraps(line, nxt) for line, nxt in zip(boxes, after, strict=True)])
    return out


_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "noscript", "form", "iframe")


def load_html(data: bytes) -> tuple[str, list, str | None, list]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "lxml")
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    page_title = soup.title.get_text(" ", strip=True) if soup.title else None
    root = soup.find("main") or soup.find("article") or soup.body or soup
    found, tables = [], 0
    for table in root.find_all("table"):  # data tables -> one line per row (ingest/tables.py)
        table_rows = html_rows(table, tables + 1)
        if table_rows:
            tables += 1
            found.extend(table_rows)
            table.replace_with(soup.new_string("\n" + "\n".join(r.text for r in table_rows) + "\n"))
    for level in range(1, 7):
        for h in root.find_all(f"h{level}"):
            h.insert(0, "\n" + "#" * level + " ")
            h.append("\n")
    for tag in root.find_all(["p", "div", "li", "tr", "br", "section", "table", "pre"]):
        tag.append("\n")
    raw = root.get_text("")
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in raw.split("\n")]
    text, spans, first = _markdown_headings("\n".join(ln for ln in lines if ln))
    text = _clean_lines(text)
    return text, spans, first or web_page_title(text, page_title), [], TableText(tuple(found))


LOADERS: dict[str, Callable[[bytes], tuple[str, list, str | None, list]]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".docx": load_docx,
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".doc": office.load_legacy,
    ".wps": office.load_legacy,
    ".odt": office.load_legacy,
    ".rtf": office.load_legacy,
    ".ofd": ofd.load_ofd,
    **dict.fromkeys(ocr.IMAGES, ocr.load_image),
}
SUPPORTED = (*LOADERS, *SPREADSHEETS)  # the one list of file types ingest reads


def load_file(
    path: Path, root: Path, max_bytes: int = 50 * 1024 * 1024, max_table_rows: int = MAX_TABLE_ROWS
) -> Document:
    """Read one file into a Document. Raises LoadError with a one-line reason."""
    source = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None and suffix not in SPREADSHEETS:
        raise LoadError(f"unsupported file type {suffix or '(none)'} / 不支持的文件类型")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(
            f"file too large ({size / 1048576:.0f} MB > {max_bytes / 1048576:.0f} MB) / 文件过大"
        )
    if size == 0:
        raise LoadError("empty file / 空文件")
    data = path.read_bytes()
    ocr.begin_document(source)
    if suffix in office.WORD_SUFFIXES:  # the real type from the bytes: a .doc renamed .docx …
        loader = office.load_legacy if office.needs_conversion(suffix, data) else load_docx
    if suffix in SPREADSHEETS:
        loaded = load_spreadsheet(data, suffix, title_from_name(path), max_table_rows)
    else:
        loaded = loader(data)
    text, headings, first_heading, pages, *extra = loaded
    tables = extra[0] if extra else TableText()
    if suffix == ".pdf":
        text, pages, tables = pdf_with_tables(data, text, pages)
    if first_heading is None:
        first_line_ok = loader in (load_text, load_pdf, ofd.load_ofd, ocr.load_image)
        declared = metadata_title(data) if suffix == ".pdf" else ""
        first_heading = choose_title(text, path, first_line_ok=first_line_ok, declared=declared)
    groups = (
        split_front_matter(decode_text(data).lstrip("\ufeff"))[1] if loader is load_markdown else ()
    )
    if not text.strip():
        raise LoadError("no text found / 未提取到文本")
    return Document(
        id=document_id(source),
        source=source,
        title=(first_heading or title_from_name(path)).strip()[:200],
        version_date=date_from_name(path) or date_from_text(text),
        sha256=_sha256(data),
        text=text,
        pages=tuple(pages),
        headings=tuple(headings),
        kind=suffix.lstrip("."),
        groups=groups,
        rows=locate_rows(text, tables.rows),
        notes=tables.notes,
        meta=official_meta(text, pages),
    )

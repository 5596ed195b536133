"""Ruled tables in PDF pages (pdfplumber) -> one line per data row, in place of their text.

Runs after the PDF loader, whatever extractor it uses: only pages that draw enough vector paths
(checked cheaply with pypdfium2) are opened with pdfplumber; on a page where tables are found,
the page's text is rebuilt from pdfplumber as the text above, between and below the tables, with
each table's rows (``tables.build_table``) where the table was. Page spans are recomputed. Any
failure leaves the loader's text as it was: tables are an improvement, never a reason to skip.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence

from .spreadsheets import TableText
from .tables import Grid, TableRow, build_table, caption_from, cell_text, looks_like_data

MIN_PATHS = 4  # a ruled table draws at least its four borders
MAX_TABLE_PAGES = 200  # pages examined per file (table detection costs ~0.1 s a page)

Page = tuple[int, int, int]
_CJK_WRAP = re.compile(r"(?<=[\u4e00-\u9fff，。、；：（）])\n(?=[\u4e00-\u9fff，。、；：（）])")


def _candidate_pages(data: bytes, numbers: set[int]) -> list[int]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    found = []
    pdf = pdfium.PdfDocument(data)
    try:
        for number in sorted(numbers)[:MAX_TABLE_PAGES]:
            page = pdf[number - 1]
            paths = sum(1 for _ in page.get_objects(filter=(raw.FPDF_PAGEOBJ_PATH,), max_depth=1))
            if paths >= MIN_PATHS:
                found.append(number)
    finally:
        pdf.close()
    return found


def _grid(cells: list[list[str | None]], title: str) -> Grid:
    """pdfplumber marks a spanned position None: merged from the left on the first row, from
    above below it."""
    width = max(len(r) for r in cells)
    rows = [list(r) + [""] * (width - len(r)) for r in cells]
    merges = []
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None and i == 0 and j > 0:
                merges.append((0, j - 1, 0, j))
            elif value is None and i > 0:
                merges.append((i - 1, j, i, j))
    texts = tuple(tuple(cell_text(_CJK_WRAP.sub("", v or "")) for v in r) for r in rows)
    return Grid(texts, tuple(_chain(merges)), title)


def _chain(merges: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Join pairwise merges ((0,1,0,2), (0,2,0,3)) into ranges ((0,1,0,3))."""
    out: list[list[int]] = []
    for r0, c0, r1, c1 in merges:
        for box in out:
            if box[0] <= r0 <= box[2] + 1 and box[1] <= c0 <= box[3] and (r0, c0) != (r1, c1):
                box[2], box[3] = max(box[2], r1), max(box[3], c1)
                break
        else:
            if (r0, c0) != (r1, c1):
                out.append([r0, c0, r1, c1])
    return [tuple(b) for b in out]


def _band(page, top: float, bottom: float) -> str:
    """Text of the characters whose middle lies between ``top`` and ``bottom`` (a glyph's box
    may reach a little into a table's border)."""

    def inside(obj) -> bool:
        return obj.get("object_type") != "char" or top <= (obj["top"] + obj["bottom"]) / 2 < bottom

    return page.filter(inside).extract_text() or ""


def _page_text(page, tables, clean: Callable[[str], str], number: int) -> tuple[str, list]:
    """The page's text with each table replaced by its row lines (top to bottom)."""
    parts, rows, top = [], [], 0.0
    for k, table in enumerate(sorted(tables, key=lambda t: t.bbox[1])):
        x0, y0, x1, y1 = table.bbox
        above = _band(page, top, y0)
        parts.append(clean(above))
        lines = [ln for ln in parts[-1].split("\n") if ln.strip()]
        found = build_table(
            _grid(table.extract(), caption_from(lines[-1]) if lines else ""),
            f"第{number}页表{k + 1}",
        )
        if found is not None:
            rows.extend(found.rows)
            parts.append("\n".join(r.text for r in found.rows))
        top = y1
    parts.append(clean(_band(page, top, page.height + 1)))
    return "\n".join(p.strip("\n") for p in parts if p.strip()), rows


def pdf_with_tables(data: bytes, text: str, pages: Sequence[Page]) -> tuple[str, list, TableText]:
    """(text, page spans, TableText) with the ruled tables of ``pages`` read as rows."""
    from .loaders import clean_pdf_text

    try:
        candidates = _candidate_pages(data, {p for _, _, p in pages})
        if not candidates:
            return text, list(pages), TableText()
        import pdfplumber

        replaced: dict[int, str] = {}
        rows: list[TableRow] = []
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number in candidates:
                page = pdf.pages[number - 1]
                tables = [t for t in page.find_tables() if _is_data(t)]
                if tables:
                    replaced[number], found = _page_text(page, tables, clean_pdf_text, number)
                    rows.extend(found)
    except Exception:  # a PDF pdfplumber cannot parse keeps the loader's text
        return text, list(pages), TableText()
    if not rows:
        return text, list(pages), TableText()
    parts, spans, pos = [], [], 0
    for start, end, number in pages:
        page_text = replaced.get(number, text[start:end])
        spans.append((pos, pos + len(page_text), number))
        parts.append(page_text)
        pos += len(page_text) + 1
    return "\n".join(parts), spans, TableText(tuple(rows))


def _is_data(table) -> bool:
    cells = [[cell_text(v) for v in row] for row in table.extract()]
    return looks_like_data(cells)

"""PDF text layer -> page texts, without running headers, footers and page numbers.

The extractor is pypdfium2 (PDFium, Chrome's PDF engine), chosen by measurement on regulations
printed to PDF by LibreOffice (bench/pdf_extractors.py, BENCHMARKS.md): it keeps the space
after an article label (``第五条 审计机关…``; pypdf loses it), keeps line order, and is the
fastest of pypdf / pdfplumber / pypdfium2.

Running lines: a line at the top or bottom of most pages, the same once digits are ignored
(the title printed as a header, ``第 3 页``, ``- 3 -``), is layout, not text, and is dropped
from every page it tops or ends.

Wrapped lines: the text layer says where each glyph stands, so a line the layout broke (it
reaches the right margin: the next line's first word would not have fitted) is told from one
that ends its paragraph short of the margin (a centred title, the 主送机关 line under it). The
loader joins only the former (``wraps``), also across a page break.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from .errors import LoadError

ZONE = 2  # lines at the top and at the bottom of a page that may be running lines
MOST = 0.6  # share of pages a line must top/end to count as running
_DIGITS = re.compile(r"[0-9０-９]+")
_SPACES = re.compile(r"\s+")
PAGE_NUMBER = re.compile(
    r"^\s*(?:第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|[-—–]\s*\d+\s*[-—–]|\d+\s*/\s*\d+"
    r"|\d{1,4}|Page \d+( of \d+)?)\s*$",
    re.I,
)


@dataclass(frozen=True)
class LineBox:
    """Where one line of a page's text layer ends, and in what font (PDF points)."""

    right: float
    size: float  # the font size (median character height)
    first_word: float  # width of the line's first word (a CJK character, or a Latin word)
    # where the page's other lines in this font size end (the 90th percentile: not a URL footer
    # or a wider table); None for a line alone in its size (a title, the 版头)
    margin: float | None = None


@dataclass(frozen=True)
class PdfPage:
    text: str
    # one per line of ``page_lines(text)`` (None: a line without glyph boxes); None when the
    # page has no text layer (OCR reads it)
    lines: tuple[LineBox | None, ...] | None = None


def read_pages(data: bytes) -> list[PdfPage]:
    """The text layer of every page (empty text for a page without one), with its line boxes."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise LoadError("encrypted PDF (password required) / PDF 已加密") from exc
        raise LoadError(f"corrupt or unreadable PDF ({exc}) / PDF 损坏") from exc
    try:
        pages = []
        for number in range(len(pdf)):
            try:
                page = pdf[number]
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                pages.append(PdfPage(text, _line_boxes(textpage, text) if text.strip() else None))
                textpage.close()
                page.close()
            except pdfium.PdfiumError as exc:
                raise LoadError(f"corrupt PDF page {number + 1} ({exc}) / PDF 损坏") from exc
        return pages
    finally:
        pdf.close()


def page_texts(data: bytes) -> list[str]:
    """The text layer of every page (empty string for a page without one)."""
    return [page.text for page in read_pages(data)]


_CLOSE = "，。、；：？！）》〉」』”’〕］】,.;:?!)\\]"
# what a line cannot be broken inside, at its start: a run of Latin letters, digits and marks
# (PDF、OFD / 17:00 / 《), then one ideograph with the closing marks that may not begin a line
_WORD = re.compile(rf"\s*[^\s\u3400-\u9fff]*[\u3400-\u9fff]?[{_CLOSE}]*")
_LINE = re.compile(r"[^\r\n]+")
SAME_SIZE = 0.15  # font sizes within this share of each other set the same text


def wraps(line: LineBox | None, after: LineBox | None) -> bool:
    """Did the layout break ``line`` (the sentence goes on in ``after``, the next line)? The next
    line is set in the same font, and the gap left at this one's end, up to the margin, is
    narrower than the next line's first word: it would not have fitted."""
    if line is None or after is None or line.margin is None or not _same_size(after, line):
        return False
    return line.margin - line.right <= after.first_word + 0.5 * line.size


def _line_boxes(textpage, text: str) -> tuple[LineBox | None, ...]:
    """A ``LineBox`` for each of ``page_lines(text)``, with the margin of its font size."""
    lines = [_measure(textpage, m) for m in _LINE.finditer(text) if m.group().strip()]
    out = []
    for i, line in enumerate(lines):
        ends = sorted(
            n.right for j, n in enumerate(lines) if j != i and n and line and _same_size(n, line)
        )
        margin = ends[min(len(ends) - 1, int(0.9 * len(ends)))] if ends else None
        out.append(replace(line, margin=margin) if line else None)
    return tuple(out)


def _same_size(a: LineBox, b: LineBox) -> bool:
    return abs(a.size - b.size) <= SAME_SIZE * b.size


def _measure(textpage, match: re.Match) -> LineBox | None:
    import pypdfium2.raw as pdfium_c

    boxes = []
    for offset, ch in enumerate(match.group(), start=match.start()):
        index = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, offset)
        if not ch.isspace() and index >= 0:
            boxes.append(textpage.get_charbox(index, loose=True))  # advance, not ink
    if not boxes:
        return None
    word = len(_WORD.match(match.group()).group().strip())
    first_word = boxes[min(max(word, 1), len(boxes)) - 1][2] - boxes[0][0]
    heights = sorted(b[3] - b[1] for b in boxes)
    return LineBox(max(b[2] for b in boxes), heights[len(heights) // 2], first_word)


def metadata_title(data: bytes) -> str:
    """The Title the producer wrote into the PDF ('' when none or unreadable): a browser writes
    the page's <title>, Word often its file name, LibreOffice usually nothing."""
    import pypdfium2 as pdfium

    try:
        return (pdfium.PdfDocument(data).get_metadata_dict().get("Title") or "").strip()
    except pdfium.PdfiumError:
        return ""


def _key(line: str) -> str:
    return _DIGITS.sub("#", _SPACES.sub("", line))


def page_lines(text: str) -> list[str]:
    """A page's lines as the loader reads them: stripped, the empty ones left out."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [ln.strip() for ln in lines if ln.strip()]


def running_bounds(pages: list[str]) -> list[tuple[int, int]]:
    """For each page, the range of its ``page_lines`` left once the running headers/footers and
    page-number lines are cut from its top and bottom."""
    split = [page_lines(p) for p in pages]
    with_text = [ls for ls in split if ls]
    counts: Counter[str] = Counter()
    for ls in with_text:
        counts.update({_key(ln) for ln in ls[:ZONE] + ls[-ZONE:]})
    need = max(2, MOST * len(with_text))
    running = {k for k, n in counts.items() if n >= need}
    out = []
    for ls in split:
        top, bottom = _strip_zone(ls, running), len(ls)
        bottom -= _strip_zone(ls[top:][::-1], running)
        out.append((top, bottom))
    return out


def _strip_zone(lines: list[str], running: set[str]) -> int:
    """How many of the first ``ZONE`` lines are layout (each running line once: a title that
    repeats the running header right below it stays)."""
    seen: set[str] = set()
    n = 0
    while n < min(ZONE, len(lines)):
        key = _key(lines[n])
        if not ((key in running and key not in seen) or PAGE_NUMBER.match(lines[n])):
            break
        seen.add(key)
        n += 1
    return n

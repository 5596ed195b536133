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
from .statutes import LEADING_LABEL

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
                pages.append(_read_page(textpage, text) if text.strip() else PdfPage(text))
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
LETTER_SPACED = 0.6  # a line is letter-spaced when spaces part this share of its glyph pairs
LETTER_MIN = 6  # a shorter line must be all Chinese, every glyph spaced (天 数 的 ；)
_CJK_ONLY = re.compile(rf"^[\s\d\u3400-\u9fff{_CLOSE}（《“‘〔【]+$")
WORD_GAP = 1.8  # in such a line, a gap this many times the usual one is a real space


def wraps(line: LineBox | None, after: LineBox | None) -> bool:
    """Did the layout break ``line`` (the sentence goes on in ``after``, the next line)? The next
    line is set in the same font, and the gap left at this one's end, up to the margin, is
    narrower than the next line's first word: it would not have fitted."""
    if line is None or after is None or line.margin is None or not _same_size(after, line):
        return False
    return line.margin - line.right <= after.first_word + 0.5 * line.size


def _read_page(textpage, text: str) -> PdfPage:
    """The page's text, letter-spaced lines closed up, with a ``LineBox`` for each of
    ``page_lines(text)`` and the margin of its font size."""
    glyphs = [(m, _glyphs(textpage, m)) for m in _LINE.finditer(text) if m.group().strip()]
    lines = [_measure(m, g) for m, g in glyphs]
    out = []
    for i, line in enumerate(lines):
        ends = sorted(
            n.right for j, n in enumerate(lines) if j != i and n and line and _same_size(n, line)
        )
        margin = ends[min(len(ends) - 1, int(0.9 * len(ends)))] if ends else None
        out.append(replace(line, margin=margin) if line else None)
    for m, g in reversed(glyphs):  # from the end, so the earlier offsets stay right
        text = text[: m.start()] + _close_up(m, g) + text[m.end() :]
    return PdfPage(text, tuple(out))


def _same_size(a: LineBox, b: LineBox) -> bool:
    return abs(a.size - b.size) <= SAME_SIZE * b.size


Glyph = tuple[int, tuple[float, float, float, float]]  # offset in the page text, advance box


def _glyphs(textpage, match: re.Match) -> list[Glyph]:
    import pypdfium2.raw as pdfium_c

    out = []
    for offset, ch in enumerate(match.group(), start=match.start()):
        index = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, offset)
        if not ch.isspace() and index >= 0:
            out.append((offset, textpage.get_charbox(index, loose=True)))  # advance, not ink
    return out


def _measure(match: re.Match, glyphs: list[Glyph]) -> LineBox | None:
    boxes = [box for _, box in glyphs]
    if not boxes:
        return None
    word = len(_WORD.match(match.group()).group().strip())
    first_word = boxes[min(max(word, 1), len(boxes)) - 1][2] - boxes[0][0]
    return LineBox(max(b[2] for b in boxes), _size(boxes), first_word)


def _size(boxes: list[tuple[float, float, float, float]]) -> float:
    heights = sorted(b[3] - b[1] for b in boxes)
    return heights[len(heights) // 2]


def _close_up(match: re.Match, glyphs: list[Glyph]) -> str:
    """A letter-spaced line (spread by justification or letter spacing: the text layer has a
    space after nearly every glyph) without the spaces the spreading made. A gap clearly wider
    than the line's letter spacing (after 第一条, between two words) stays one space; the
    letter spacing is read inside the label the line opens with (第 一 章), else it is the
    line's usual gap."""
    line, start = match.group(), match.start()
    pairs = list(zip(glyphs, glyphs[1:], strict=False))
    spaced = [(a, b) for a, b in pairs if _between(line, start, a, b).isspace()]
    if not pairs or len(spaced) < LETTER_SPACED * len(pairs):
        return line
    if len(pairs) < LETTER_MIN and (len(spaced) < len(pairs) or not _CJK_ONLY.match(line)):
        return line  # too few gaps to tell letters from words, unless all Chinese, all spread
    label = LEADING_LABEL.match(line)  # its inner gaps are the line's pure letter spacing
    inner = len(re.sub(r"\s", "", label.group())) - 1 if label else 0
    gaps = sorted(b[1][0] - a[1][2] for a, b in (pairs[:inner] if inner >= 2 else spaced))
    wide = WORD_GAP * max(gaps[len(gaps) // 2], 0.15 * _size([box for _, box in glyphs]))
    out = [line[: glyphs[0][0] - start]]
    for a, b in pairs:
        between = _between(line, start, a, b)
        out.append(line[a[0] - start])
        if not between.isspace():
            out.append(between)
        elif b[1][0] - a[1][2] > wide:
            out.append(" ")
    out.append(line[glyphs[-1][0] - start :])
    return "".join(out)


def _between(line: str, start: int, a: Glyph, b: Glyph) -> str:
    return line[a[0] - start + 1 : b[0] - start]


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

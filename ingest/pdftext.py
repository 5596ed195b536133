"""PDF text layer -> page texts, without running headers, footers and page numbers.

The extractor is pypdfium2 (PDFium, Chrome's PDF engine), chosen by measurement on regulations
printed to PDF by LibreOffice (bench/pdf_extractors.py, BENCHMARKS.md): it keeps the space
after an article label (``第五条 审计机关…``; pypdf loses it), keeps line order, and is the
fastest of pypdf / pdfplumber / pypdfium2.

Running lines: a line at the top or bottom of most pages, the same once digits are ignored
(the title printed as a header, ``第 3 页``, ``- 3 -``), is layout, not text, and is dropped
from every page it tops or ends.
"""

from __future__ import annotations

import re
from collections import Counter

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


def page_texts(data: bytes) -> list[str]:
    """The text layer of every page (empty string for a page without one)."""
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
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            except pdfium.PdfiumError as exc:
                raise LoadError(f"corrupt PDF page {number + 1} ({exc}) / PDF 损坏") from exc
        return pages
    finally:
        pdf.close()


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


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def drop_running_lines(pages: list[str]) -> list[str]:
    """``pages`` without their running headers/footers and page-number lines."""
    split = [[ln for ln in _lines(p) if ln] for p in pages]
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
        out.append("\n".join(ls[top:bottom]))
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

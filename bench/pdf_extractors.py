"""Which PDF text extractor keeps a regulation's structure: pypdf vs pdfplumber vs pypdfium2.

    PYTHONPATH=. .venv/bin/python bench/pdf_extractors.py [--n 10] [--work /tmp/pdfbench]

Ten office regulations (../shared/data/office-regulations, every 4th by name) are written as
.docx (running header = title, footer "第 N 页") and printed to PDF by LibreOffice, as an office
gets them. Each extractor's page texts go through the same ``load_pdf`` post-processing (running
lines dropped, wrapped lines joined) and the same chunker; compared with the Markdown file:

- labels: article labels (第X条) of the chunks found / in the Markdown (and spurious ones);
- order: Markdown body paragraphs found, in order, in the text (whitespace ignored);
- running: header/page-number lines left in the text (without / with running-line removal);
- s/page: text extraction time only.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "data")]

from make_office_formats import blocks, make_formats, title_of  # noqa: E402

from ingest import loaders, pdftext  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.loaders import load_file  # noqa: E402

REGULATIONS = REPO.parent / "shared" / "data" / "office-regulations"
_WS = re.compile(r"\s+")


def pypdf_pages(data: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def pdfplumber_pages(data: bytes) -> list[str]:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


EXTRACTORS = {
    "pypdf": pypdf_pages,
    "pdfplumber": pdfplumber_pages,
    "pypdfium2": pdftext.page_texts,
}


@contextmanager
def extractor(pages_fn, drop_running: bool = True):
    """``load_pdf`` with another page extractor (and optionally no running-line removal); the
    other extractors give no geometry, so their wrapped lines are joined by punctuation alone."""
    saved = loaders.read_pages, loaders.running_bounds
    if pages_fn is not pdftext.page_texts:
        loaders.read_pages = lambda data: [pdftext.PdfPage(t) for t in pages_fn(data)]
    if not drop_running:
        loaders.running_bounds = lambda pages: [(0, len(pdftext.page_lines(p))) for p in pages]
    try:
        yield
    finally:
        loaders.read_pages, loaders.running_bounds = saved


def labels(path: Path) -> list[str]:
    doc = load_file(path, path.parent)
    return [a for c in chunk_document(doc) for a in c.articles if a.endswith("条")]


def in_order(paragraphs: list[str], text: str) -> int:
    flat, pos, found = _WS.sub("", text), 0, 0
    for para in paragraphs:
        at = flat.find(para, pos)
        if at >= 0:
            found, pos = found + 1, at + len(para)
    return found


def running_left(text: str, title: str) -> int:
    """Lines that are a running header (the title) beyond its first occurrence, or a page number."""
    lines = [_WS.sub("", ln) for ln in text.split("\n")]
    key = _WS.sub("", title)
    return max(0, lines.count(key) - 1) + sum(bool(pdftext.PAGE_NUMBER.match(ln)) for ln in lines)


def measure(md: list[Path], pdfs: list[Path], name: str) -> dict:
    fn = EXTRACTORS[name]
    row = Counter()
    for src, pdf in zip(md, pdfs, strict=True):
        items = blocks(src.read_text(encoding="utf-8"))
        paragraphs = [_WS.sub("", t) for level, t in items if not level]
        want = Counter(labels(src))
        data = pdf.read_bytes()
        started = time.perf_counter()
        pages = fn(data)
        row["seconds"] += time.perf_counter() - started
        row["pages"] += len(pages)
        with extractor(fn):
            got = Counter(labels(pdf))
            text = load_file(pdf, pdf.parent).text
        with extractor(fn, drop_running=False):
            raw_text = load_file(pdf, pdf.parent).text
        row["labels_md"] += sum(want.values())
        row["labels_found"] += sum((want & got).values())
        row["labels_spurious"] += sum((got - want).values())
        row["paragraphs"] += len(paragraphs)
        row["in_order"] += in_order(paragraphs, text)
        row["running_raw"] += running_left(raw_text, title_of(items))
        row["running_left"] += running_left(text, title_of(items))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pdfbench"))
    args = ap.parse_args()
    md = sorted(REGULATIONS.glob("*.md"))[::4][: args.n]
    pdfs = [args.work / "pdf" / f"{p.stem}.pdf" for p in md]
    if not all(p.exists() for p in pdfs):
        pdfs = make_formats(md, args.work, formats=("pdf",))["pdf"]
    print(f"{len(md)} regulations, LibreOffice PDFs under {args.work}/pdf")
    print(
        "| extractor | labels found / Markdown | spurious | paragraphs in order "
        "| running lines left (raw → removed) | s/page |"
    )
    print("|---|---|---|---|---|---|")
    for name in EXTRACTORS:
        r = measure(md, pdfs, name)
        print(
            f"| {name} | {r['labels_found']}/{r['labels_md']} | {r['labels_spurious']} "
            f"| {r['in_order']}/{r['paragraphs']} | {r['running_raw']} → {r['running_left']} "
            f"| {r['seconds'] / r['pages']:.4f} ({r['pages']} pages) |"
        )


if __name__ == "__main__":
    main()

"""OCR of scanned regulation pages: a real regulation rendered by LibreOffice, rasterised by
pdftoppm, degraded like a scan and put back into an image-only PDF (tests/data/make_scans.py),
then read by the real RapidOCR models."""

from __future__ import annotations

import difflib
import math
import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import CORPUS_DIR, MINILM, corpus_file

from ingest.chunking import chunk_document
from ingest.errors import LoadError
from ingest.layout import Box, deskewed, page_text
from ingest.loaders import load_file
from ingest.ocr import OcrRun, ocr_run

sys.path.insert(0, str(Path(__file__).parent / "data"))
from conftest import needs_ocr  # noqa: E402
from make_ofd import SIZE, layout  # noqa: E402
from make_scans import page_images, regulation_paragraphs, regulation_pdf, scanned_regulation  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftoppm")),
    reason="needs LibreOffice (soffice) and poppler-utils (pdftoppm)",
)
LAW = "职工带薪年休假条例"  # two pages at 12 pt


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _plain(a), _plain(b), autojunk=False).ratio()


def _labels(doc) -> list[str]:
    return [a for c in chunk_document(doc, 800) for a in c.articles if a.endswith("条")]


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scan")
    return scanned_regulation(corpus_file(LAW), folder / f"{LAW}.pdf", dpi=150, noise=8, angle=0.7)


@pytest.fixture(scope="module")
def scanned(scan):
    """(Document, OcrRun, progress calls) of the scan read once."""
    calls = []
    run = OcrRun(progress=lambda *a: calls.append(a))
    with ocr_run(run):
        doc = load_file(scan, scan.parent)
    return doc, run, calls


def test_layout_rebuilds_lines_and_paragraphs_from_boxes_in_any_order():
    paragraphs = [t for _, t in regulation_paragraphs(corpus_file(LAW).read_text("utf-8"))]
    page = layout(paragraphs)[0]
    rng = random.Random(7)
    boxes = []
    for line in page:  # each line cut in two boxes, slightly skewed, in random order
        cut = rng.randint(1, max(1, len(line.text) - 1))
        for text, x in ((line.text[:cut], line.x), (line.text[cut:], line.x + cut * SIZE)):
            if text:
                dy = rng.uniform(-0.6, 0.6)
                top = line.baseline - SIZE + dy
                boxes.append(Box(x, top, x + len(text) * SIZE, top + SIZE * 1.2, text))
    rng.shuffle(boxes)
    rebuilt = page_text(boxes).split("\n")
    expected = [p for p in paragraphs if _plain(p) in _plain("".join(ln.text for ln in page))]
    assert [_plain(p) for p in rebuilt] == [_plain(p) for p in expected]


def test_without_indents_a_sentence_ending_at_the_margin_still_ends_its_article():
    """A page typed without first-line indents, each line reaching the right margin: 第二条 and
    （一） after a line that ends a sentence open their own paragraphs; a wrapped line does not."""
    lines = [
        "第一条为统一全国年节及纪念日的假期，制定本办法。",
        "第二条全体公民放假的节日：",
        "（一）元旦，放假1天（1月1日）；",
        "（二）春节，放假4天，正月初一至初三",
        "放假。",
        "第三条本办法自公布之日起施行。",
    ]
    boxes = [Box(100, 40 * i, 700, 40 * i + 30, text) for i, text in enumerate(lines)]
    assert page_text(boxes).split("\n") == [*lines[:3], lines[3] + lines[4], lines[5]]


def _tilted(texts: list[str], degrees: float) -> list[tuple]:
    """(quadrilateral, text) of lines 40 px apart, 30 px high, tilted by ``degrees``."""
    tilt = math.tan(math.radians(degrees))
    out = []
    for i, text in enumerate(texts):
        y, width = 100 + 40 * i, 30 * len(text)
        corners = [(100, y), (100 + width, y + width * tilt)]
        corners += [(100 + width, y + width * tilt + 30), (100, y + 30)]
        out.append((corners, text))
    return out


def test_a_skewed_page_s_boxes_are_straightened_before_lines_are_grouped():
    """Tilted by 3°: the quadrilaterals are turned back, so each line stays a line (a real
    scan at 2.5° is read in test_a_scan_fed_in_at_an_angle_keeps_every_article)."""
    texts = ["第一条短句。", "第二条另一句较长的条文内容写满整行。", "第三条再一句。"]
    straight = page_text(deskewed(_tilted(texts, 3)))
    assert straight.split("\n") == texts


@pytest.mark.slow
@needs_ocr
def test_a_scan_fed_in_at_an_angle_keeps_every_article(tmp_path):
    """2.5°: the boxes of one line grow by width × sin(angle) and would swallow the next line."""
    scan = scanned_regulation(corpus_file(LAW), tmp_path / "tilted.pdf", dpi=150, angle=2.5)
    md = load_file(corpus_file(LAW), CORPUS_DIR)
    assert _labels(load_file(scan, tmp_path)) == _labels(md)


@pytest.mark.slow
@needs_ocr
def test_scanned_pdf_reads_like_the_regulation_with_its_articles_and_pages(scanned, scan):
    doc, _, _ = scanned
    md = load_file(corpus_file(LAW), CORPUS_DIR)
    assert _similarity(doc.text, md.text) > 0.97
    assert _labels(doc) == _labels(md)  # every 第X条 opens its own article, none invented
    assert [p for *_, p in doc.pages] == list(range(1, len(page_images(scan, 20)) + 1))
    assert doc.title == "职工带薪年休假条例" and doc.kind == "pdf"


@pytest.mark.slow
@needs_ocr
def test_the_run_records_the_ocr_and_reports_progress_per_page(scanned, scan):
    doc, run, calls = scanned
    pages = tuple(p for *_, p in doc.pages)
    (record,) = run.documents
    assert record.source == scan.name and record.pages == pages and not record.note
    assert calls == [("ocr", i, len(pages)) for i in range(len(pages) + 1)]


@pytest.mark.slow
@needs_ocr
def test_page_and_time_limits_truncate_with_a_reason(scan):
    run = OcrRun(max_pages=1)
    with ocr_run(run):
        doc = load_file(scan, scan.parent)
    assert [p for *_, p in doc.pages] == [1]
    assert "first 1 of 2" in run.documents[0].note
    run = OcrRun(max_seconds=0)
    with ocr_run(run):
        doc = load_file(scan, scan.parent)
    assert [p for *_, p in doc.pages] == [1]  # one page is always read, then the clock stops it
    assert "stopped after" in run.documents[0].note


@pytest.mark.slow
@needs_ocr
def test_an_image_file_of_a_page_is_recognised(tmp_path):
    pdf = regulation_pdf(corpus_file(LAW), tmp_path)
    image = tmp_path / "第一页.png"
    page_images(pdf, 150, 1)[0].save(image)
    doc = load_file(image, tmp_path)
    assert doc.kind == "png" and doc.pages == ((0, len(doc.text), 1),)
    assert _labels(doc)[:2] == ["第一条", "第二条"]


@needs_ocr
def test_an_image_without_text_or_not_an_image_is_skipped_with_a_reason(tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (900, 1200), 255).save(blank)
    with pytest.raises(LoadError, match="no recognisable text"):
        load_file(blank, tmp_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(LoadError, match="not a readable image"):
        load_file(broken, tmp_path)


@pytest.mark.slow
@needs_ocr
def test_only_the_pages_without_text_of_a_mixed_pdf_are_ocred(tmp_path, scan):
    from pypdf import PdfReader, PdfWriter

    text_pdf = regulation_pdf(corpus_file(LAW), tmp_path)
    mixed = PdfWriter()
    mixed.add_page(PdfReader(text_pdf).pages[0])
    mixed.add_page(PdfReader(scan).pages[1])
    with open(tmp_path / "mixed.pdf", "wb") as f:
        mixed.write(f)
    run = OcrRun()
    with ocr_run(run):
        doc = load_file(tmp_path / "mixed.pdf", tmp_path)
        load_file(text_pdf, tmp_path)  # a text PDF: no OCR, no record
    assert [r.pages for r in run.documents] == [(2,)]
    assert [p for *_, p in doc.pages] == [1, 2]
    assert _labels(doc) == _labels(load_file(corpus_file(LAW), CORPUS_DIR))


@pytest.mark.slow
@needs_ocr
def test_ingest_in_the_loader_worker_relays_ocr_progress_per_page_and_records_it(
    tmp_path, scan, hashed
):
    """The default ingest loads every file in a worker process (ingest/budget.py): the OCR of a
    scan must still move the progress bar page by page and be listed in the report."""
    import json

    from ingest.pipeline import IngestOptions, run_ingest

    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(scan, src / scan.name)
    shutil.copyfile(corpus_file("全国年节及纪念日放假办法"), src / "放假办法.md")
    calls = []
    report = run_ingest(
        src,
        tmp_path / "index",
        IngestOptions(quiet=True),  # isolated loading (the default)
        embedder=hashed,
        progress=lambda *a: calls.append(a),
    )
    assert sorted(report.ingested) == sorted([scan.name, "放假办法.md"])
    (record,) = report.ocr
    assert record.source == scan.name and record.pages == (1, 2) and not record.note
    assert [c for c in calls if c[0] == "ocr"] == [("ocr", 0, 2), ("ocr", 1, 2), ("ocr", 2, 2)]
    assert calls.index(("ocr", 2, 2)) < calls.index(next(c for c in calls if c[0] == "embedding"))
    assert f"OCR {scan.name}: 2 pages" in report.summary()
    saved = json.loads((tmp_path / "index" / "report.json").read_text(encoding="utf-8"))
    assert [(o["source"], o["pages"]) for o in saved["ocr"]] == [(scan.name, [1, 2])]


@pytest.mark.slow
@needs_ocr
def test_cli_ingest_shows_ocr_pages_and_lists_the_scan_with_the_run_s_page_limit(
    tmp_path, scan, tmp_models_dir, monkeypatch
):
    """``policyqa ingest``: the page bar of the scan on stderr, the OCR line in the summary; the
    OCR page limit of the settings reaches the worker that reads the scan."""
    from click.testing import CliRunner

    from assistant.cli import main

    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(scan, src / scan.name)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    monkeypatch.setenv("POLICYQA_OCR_MAX_PAGES", "1")
    args = ["ingest", str(src), "--index", str(tmp_path / "index"), "--model", MINILM]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert re.search(rf"OCR {re.escape(scan.name[:24])}.*1/1", out.stderr)
    assert f"OCR {scan.name}: 1 pages" in out.output and "first 1 of 2" in out.output

"""OFD (GB/T 33190): files written from the spec by tests/data/make_ofd.py, read by
ingest/ofd.py; image-only pages through the real OCR; corrupt packages skipped with a reason."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import CORPUS_DIR, copy_files, corpus_file

from ingest.chunking import chunk_document
from ingest.errors import LoadError
from ingest.loaders import load_file
from ingest.ocr import OcrRun, ocr_run
from ingest.ofd import delta_x

sys.path.insert(0, str(Path(__file__).parent / "data"))
from conftest import needs_ocr  # noqa: E402
from make_ofd import regulation_ofd  # noqa: E402

LAW = "机关事务管理条例"  # 4 A4 pages


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _labels(doc) -> list[str]:
    return [a for c in chunk_document(doc, 800) for a in c.articles if a.endswith("条")]


def test_delta_x_expands_the_g_notation():
    assert delta_x("g 3 4.2 5") == [4.2, 4.2, 4.2, 5.0]
    assert delta_x("1 2.5") == [1.0, 2.5] and delta_x(None) == []


def test_text_ofd_follows_coordinates_not_file_order_and_keeps_pages(tmp_path):
    md = load_file(corpus_file(LAW), CORPUS_DIR)
    path = regulation_ofd(corpus_file(LAW), tmp_path / f"{LAW}.ofd", shuffle=True)
    doc = load_file(path, tmp_path)
    assert doc.kind == "ofd" and doc.title == "机关事务管理条例"
    assert _plain(doc.text) == _plain(md.text.replace("#", ""))
    assert [p for *_, p in doc.pages] == list(range(1, len(doc.pages) + 1)) and len(doc.pages) >= 3
    assert _labels(doc) == _labels(md)
    lines = doc.text.split("\n")
    assert lines.index("第一章 总则") < lines.index("第二章 经费管理")  # chapter lines kept whole


@pytest.mark.slow
@needs_ocr
def test_an_image_only_page_goes_to_ocr(tmp_path):
    path = regulation_ofd(corpus_file(LAW), tmp_path / "scan.ofd", pages=2, image_pages=(2,))
    text_only = load_file(
        regulation_ofd(corpus_file(LAW), tmp_path / "text.ofd", pages=2), tmp_path
    )
    run = OcrRun()
    with ocr_run(run):
        doc = load_file(path, tmp_path)
    assert [r.pages for r in run.documents] == [(2,)]
    start, end, _ = doc.pages[1]
    s, e, _ = text_only.pages[1]
    ocr, truth = _plain(doc.text[start:end]), _plain(text_only.text[s:e])
    import difflib

    assert difflib.SequenceMatcher(None, ocr, truth, autojunk=False).ratio() > 0.95
    assert doc.text[: doc.pages[0][1]] == text_only.text[: text_only.pages[0][1]]


def _corrupt(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    good = regulation_ofd(corpus_file("职工带薪年休假条例"), tmp_path / "good.ofd", pages=1)
    parts = {i.filename: zipfile.ZipFile(good).read(i) for i in zipfile.ZipFile(good).infolist()}

    def zipped(**changes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in {**parts, **changes}.items():
                if data is not None:
                    z.writestr(name, data)
        return buffer.getvalue()

    return {
        "not_zip.ofd": (b"%PDF-1.4 this is no zip", "not a zip archive"),
        "no_document.ofd": (zipped(**{"Doc_0/Document.xml": None}), "part missing"),
        "bad_xml.ofd": (
            zipped(**{"Doc_0/Pages/Page_0/Content.xml": b"<ofd:Page><oops"}),
            "not valid XML",
        ),
        "no_root.ofd": (zipped(**{"OFD.xml": None}), "OFD.xml"),
    }


def test_corrupt_ofd_files_fail_with_a_one_line_reason(tmp_path):
    for name, (data, reason) in _corrupt(tmp_path).items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(LoadError, match=reason) as info:
            load_file(tmp_path / name, tmp_path)
        assert "\n" not in str(info.value)


@pytest.mark.slow
@needs_ocr
def test_ingest_reads_scans_and_ofd_reports_ocr_and_skips_corrupt_ones(tmp_path, hashed):
    from ingest.pipeline import IngestOptions, run_ingest

    src = copy_files(tmp_path / "src", {"doc.md": corpus_file("全国年节及纪念日放假办法")})
    regulation_ofd(corpus_file(LAW), src / "机关事务.ofd", pages=2, image_pages=(2,))
    for name, (data, _) in _corrupt(tmp_path).items():
        (src / name).write_bytes(data)
    calls = []
    report = run_ingest(
        src,
        tmp_path / "index",
        IngestOptions(quiet=True),  # loaded in the worker process: OCR records come back
        embedder=hashed,
        progress=lambda *a: calls.append(a),
    )
    assert sorted(report.ingested) == ["doc.md", "机关事务.ofd"]
    assert sorted(s.source for s in report.skipped) == sorted(_corrupt(tmp_path))
    assert [(o.source, o.pages) for o in report.ocr] == [("机关事务.ofd", (2,))]
    assert ("ocr", 1, 1) in calls
    assert "OCR 机关事务.ofd: 1 pages" in report.summary()
    from ingest.index import Generation, current_generation

    gen = Generation(tmp_path / "index" / current_generation(tmp_path / "index"))
    ofd_chunks = [c for c in gen.chunks if c.source == "机关事务.ofd"]
    assert {p for c in ofd_chunks for p in c.pages} == {1, 2}
    assert any(a == "第一条" for c in ofd_chunks for a in c.articles)
    saved = (tmp_path / "index" / "report.json").read_text(encoding="utf-8")
    assert '"ocr"' in saved


def test_writer_variants_are_read_the_same(tmp_path):
    """Page locations as a BaseLoc child element and as absolute paths, as some writers do."""
    path = regulation_ofd(corpus_file(LAW), tmp_path / "a.ofd", pages=2)
    parts = {i.filename: zipfile.ZipFile(path).read(i) for i in zipfile.ZipFile(path).infolist()}
    document = parts["Doc_0/Document.xml"].decode()
    document = re.sub(
        r'<ofd:Page ID="(\d+)" BaseLoc="([^"]+)"/>',
        r'<ofd:Page ID="\1"><ofd:BaseLoc>/Doc_0/\2</ofd:BaseLoc></ofd:Page>',
        document,
    )
    assert "<ofd:BaseLoc>/Doc_0/Pages/Page_1/Content.xml" in document
    variant = tmp_path / "b.ofd"
    with zipfile.ZipFile(variant, "w") as z:
        for name, data in {**parts, "Doc_0/Document.xml": document.encode()}.items():
            z.writestr(name, data)
    assert load_file(variant, tmp_path).text == load_file(path, tmp_path).text

"""One real regulation in every format an office holds — made here from ../shared/data Markdown
with python-docx and LibreOffice (PDF, DOCX, HTML, GB18030 TXT, Word 97 .doc, WPS .wps) — loads
and chunks to the same article labels as the Markdown. Plus the .doc/.wps converter's contracts:
real type from the bytes, one LibreOffice process per ingest run, per-file timeout, encrypted and
corrupt files skipped with a one-line reason, a clear reason when LibreOffice is missing."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import pypdfium2
import pytest
from conftest import SHARED_DATA

from ingest import office
from ingest.chunking import chunk_document
from ingest.errors import LoadError
from ingest.loaders import load_file
from ingest.pipeline import IngestOptions, run_ingest
from tests.data.make_office_formats import (
    FORMATS,
    blocks,
    convert,
    make_formats,
    soffice,
    title_of,
    write_site_page,
)

REGULATIONS = SHARED_DATA / "office-regulations"
# a short regulation without chapters, and a longer law with chapters (审计法: 7 章, 60 条)
NAMES = ("职工带薪年休假条例(2007-12-14)", "审计法(2021-10-23)")
ENCRYPT = Path(__file__).parent / "data" / "make_encrypted_doc.py"

pytestmark = [
    pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not installed"),
    pytest.mark.skipif(not REGULATIONS.is_dir(), reason="../shared/data not present"),
]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, list[Path]]:
    sources = [REGULATIONS / f"{name}.md" for name in NAMES]
    files = make_formats(sources, tmp_path_factory.mktemp("formats"))
    return {"md": sources, **files}


def labels(path: Path) -> list[str]:
    """Article labels of the chunks, in order (an article split in pieces counted once)."""
    doc = load_file(path, path.parent)
    out: list[str] = []
    for chunk in chunk_document(doc):
        out.extend(a for a in chunk.articles if not out or out[-1] != a)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", range(len(NAMES)))
def test_every_format_gives_the_markdown_articles(made, fmt, which):
    want = labels(made["md"][which])
    assert len(want) >= 10 and want[0] == "第一条"
    assert labels(made[fmt][which]) == want
    assert title(made[fmt][which]) == title(made["md"][which])


def title(path: Path) -> str:
    return load_file(path, path.parent).title


@pytest.mark.parametrize("which", range(len(NAMES)))
def test_a_government_site_page_keeps_the_regulation_s_title(made, which, tmp_path):
    """No <h1>, the breadcrumb in a <div>, the site's name in <title>: the title is the
    regulation's, and the articles are all there."""
    items = blocks(made["md"][which].read_text(encoding="utf-8"))
    page = write_site_page(items, tmp_path / "page.html")
    assert title(page) == title(made["md"][which])
    assert labels(page) == labels(made["md"][which])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
@pytest.mark.parametrize("which", range(len(NAMES)))
def test_a_web_page_printed_to_pdf_keeps_the_regulation_s_title(made, which, tmp_path):
    """Chromium prints the site's breadcrumb (政府网站 首页 > 法律法规) above the title: the
    title is the line that names a kind of regulation, and the articles are all there."""
    pdf = tmp_path / "printed.pdf"
    subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu"]
        + [f"--print-to-pdf={pdf}", made["html"][which].as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert "首页" in load_file(pdf, tmp_path).text.split("\n")[0]
    assert title(pdf) == title(made["md"][which])
    assert labels(pdf) == labels(made["md"][which])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
@pytest.mark.parametrize("which", range(len(NAMES)))
def test_a_letter_spaced_justified_pdf_reads_as_plain_text(made, which, tmp_path):
    """A page set in a narrow, justified column with letter spacing, printed by Chromium: its
    text layer has a space after nearly every character (第 一 条 为 了 …). The loader closes
    them up — keeping the wider gap after each label — so the articles, the 章 headings and
    the text are the Markdown's."""
    items = blocks(made["md"][which].read_text(encoding="utf-8"))
    style = "p, h2, h3 { text-align: justify; text-align-last: justify; letter-spacing: 0.3em; }"
    body = "\n".join(
        f"<h{min(level, 3)}>{html.escape(t)}</h{min(level, 3)}>"
        if level
        else f"<p>{html.escape(t)}</p>"
        for level, t in items
    )
    page = tmp_path / "spaced.html"
    page.write_text(
        f'<html><head><meta charset="utf-8"><style>body {{ width: 16em; }} {style}</style></head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    pdf = tmp_path / "spaced.pdf"
    subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu"]
        + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    layer = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "第 一 条 为 了" in layer  # the layout did spread it
    doc = load_file(pdf, tmp_path)
    assert labels(pdf) == labels(made["md"][which])
    lines = doc.text.split("\n")
    articles = [t for level, t in items if not level and t.startswith("第")]
    assert [a for a in articles if a.replace("\u3000", " ") not in lines] == []
    headings = [c.heading for c in chunk_document(doc) if c.heading]
    assert headings == [
        c.heading for c in chunk_document(load_file(made["md"][which], REGULATIONS)) if c.heading
    ]


@pytest.mark.slow
def test_pdf_keeps_pages_and_drops_running_header_and_page_numbers(made):
    pdf = made["pdf"][1]
    doc = load_file(pdf, pdf.parent)
    pages = [n for _, _, n in doc.pages]
    assert pages == sorted(pages) and len(pages) >= 3
    lines = [ln.replace(" ", "") for ln in doc.text.split("\n")]
    assert lines.count("中华人民共和国审计法") == 1  # the title stays, the running header goes
    assert not [ln for ln in lines if ln.startswith("第") and ln.endswith("页")]
    chunks = chunk_document(doc)
    assert all(c.pages for c in chunks)
    assert max(p for c in chunks for p in c.pages) == pages[-1]


def _red_header_notice(items: list[tuple[int, str]], path: Path, title: str) -> Path:
    """A 红头 notice as an office prints it: 版头, 文号, a centred 22 pt title that wraps to two
    lines, the 主送机关 line, the notice, then the regulation as its 附件."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    for text, size in (("滨海市人民政府办公室文件", 28), ("滨政办发〔2024〕12号", 16), (title, 22)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).font.size = Pt(size)
    for text in (MAIN_RECIPIENTS, "现将该条例印发给你们，请认真贯彻执行。", "附件"):
        document.add_paragraph().add_run(text).font.size = Pt(16)
    for level, text in items:
        if level:
            document.add_heading(text, level=min(level, 9))
        else:
            document.add_paragraph().add_run(text).font.size = Pt(16)
    document.save(path)
    return path


MAIN_RECIPIENTS = "各区人民政府，市政府各部门，各直属机构："


@pytest.mark.slow
def test_a_notice_pdf_keeps_its_title_apart_from_the_line_under_it(made, tmp_path):
    """PDF lines are joined only where the layout broke them (the line reaches the right
    margin and the next line goes on in its font): the centred title's two lines make one title,
    the 主送机关 line under it — which ends no sentence either — stays its own line, and every
    article wrapped over several lines (also at a ； that reaches the margin, or where a page
    ends) is one line."""
    source = made["md"][0]
    items = blocks(source.read_text(encoding="utf-8"))
    title = f"滨海市人民政府办公室关于印发《{title_of(items)}》的通知"
    docx_file = _red_header_notice(items, tmp_path / "notice.docx", title)
    (pdf,) = convert([docx_file], "pdf", tmp_path / "pdf")
    doc = load_file(pdf, pdf.parent)
    assert doc.title == title
    lines = [ln.replace(" ", "") for ln in doc.text.split("\n")]
    assert MAIN_RECIPIENTS in lines and title in lines
    assert labels(pdf) == labels(source)
    articles = [text.replace(" ", "") for level, text in items if not level and text[0] == "第"]
    assert len(articles) >= 8 and [a for a in articles if a not in lines] == []


@pytest.mark.slow
def test_real_type_comes_from_the_bytes(made, tmp_path):
    """A .doc renamed .docx and a .docx renamed .doc both load with their articles."""
    want = labels(made["md"][0])
    shutil.copyfile(made["doc"][0], tmp_path / "改名的Word97文件.docx")
    shutil.copyfile(made["docx"][0], tmp_path / "其实是docx.doc")
    assert office.sniff((tmp_path / "改名的Word97文件.docx").read_bytes()) == "word"
    assert labels(tmp_path / "改名的Word97文件.docx") == want
    assert labels(tmp_path / "其实是docx.doc") == want


def _encrypted_doc(made, dest: Path) -> Path:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True)
    if probe.returncode:
        pytest.skip("system python3-uno not installed (needed to write an encrypted .doc)")
    subprocess.run(
        ["/usr/bin/python3", str(ENCRYPT), str(made["docx"][0]), str(dest), "secret"],
        check=True,
        timeout=180,
        capture_output=True,
    )
    return dest


@pytest.mark.slow
def test_encrypted_and_corrupt_word_files_get_one_line_reasons(made, tmp_path):
    enc = _encrypted_doc(made, tmp_path / "加密.doc")
    assert office.sniff(enc.read_bytes()) == "encrypted"
    with pytest.raises(LoadError, match="password") as err:
        load_file(enc, tmp_path)
    assert "\n" not in str(err.value)
    data = made["doc"][1].read_bytes()
    (tmp_path / "截断.doc").write_bytes(data[: len(data) * 4 // 10])
    with pytest.raises(LoadError, match="corrupt") as err:
        load_file(tmp_path / "截断.doc", tmp_path)
    assert "\n" not in str(err.value)


def test_without_libreoffice_the_reason_says_what_to_install(made, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on PATH
    with pytest.raises(LoadError, match="libreoffice-writer-nogui"):
        load_file(made["doc"][0], made["doc"][0].parent)


def _our_soffice() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "soffice" in p.name()]


def _stalling_soffice(tmp_path: Path, monkeypatch, log: Path) -> None:
    """An ``soffice`` first on PATH that logs the address-space limit (KB) it runs under, then
    stalls 30 s before LibreOffice starts: a hang on every machine, however fast it converts."""
    wrapper = tmp_path / "bin" / "soffice"
    wrapper.parent.mkdir()
    wrapper.write_text(
        f'#!/bin/sh\necho "$(ulimit -v)" >> {log}\nsleep 30\nexec {soffice()} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")


@pytest.mark.slow
def test_a_conversion_past_its_timeout_is_killed_and_skipped(made, tmp_path, monkeypatch):
    _stalling_soffice(tmp_path, monkeypatch, tmp_path / "soffice.log")
    items = [made["doc"][0].read_bytes(), made["doc"][1].read_bytes()]
    started = time.monotonic()
    results = office.convert_batch(items, timeout_s=0.5, startup_s=0)
    assert time.monotonic() - started < 25  # each killed at the limit, not after the stall
    assert all(isinstance(r, LoadError) and "timed out" in str(r) for r in results)
    assert not _our_soffice()


@pytest.mark.slow
def test_ingest_converts_all_legacy_files_in_one_libreoffice_process(
    made, tmp_path, hashed, monkeypatch
):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(made["doc"][0], src / "年休假.doc")
    shutil.copyfile(made["wps"][1], src / "审计法.wps")
    shutil.copyfile(made["doc"][1], src / "审计法副本改名.docx")
    shutil.copyfile(made["md"][0], src / "年休假.md")
    data = made["doc"][1].read_bytes()
    (src / "损坏.doc").write_bytes(data[: len(data) // 3])
    # every soffice start, in this process or in the loader worker, is logged by a wrapper on PATH
    log, wrapper = tmp_path / "soffice.log", tmp_path / "bin" / "soffice"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {soffice()} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")

    def runs() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    index = tmp_path / "index"
    report = run_ingest(src, index, IngestOptions(quiet=True), embedder=hashed)
    assert len(runs()) == 1 and "--convert-to" in runs()[0]
    assert set(report.ingested) == {"年休假.doc", "审计法.wps", "审计法副本改名.docx", "年休假.md"}
    (skip,) = report.skipped
    assert skip.source == "损坏.doc" and "corrupt" in skip.reason
    from ingest.index import open_current

    gen = open_current(index)
    by_source = {}
    for c in gen.chunks:
        by_source.setdefault(c.source, set()).update(c.articles)
    assert by_source["年休假.doc"] == by_source["年休假.md"]
    assert len({a for a in by_source["审计法.wps"] if a.endswith("条")}) == 60
    log.unlink()
    report = run_ingest(src, index, IngestOptions(quiet=True), embedder=hashed)
    assert runs() == [] and len(report.unchanged) == 4  # unchanged files are not converted again


@pytest.mark.slow
def test_ingest_converts_under_the_loader_s_time_and_memory_limits(
    made, tmp_path, hashed, monkeypatch
):
    """LibreOffice falls under the per-file limits of the loaders (LoadLimits): its address
    space is bounded by ``memory_mb`` and a file taking longer than ``timeout_s`` (here far less
    than LibreOffice needs to start) is killed and skipped with a one-line reason; the run goes
    on with the other files."""
    from ingest.budget import LoadLimits

    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(made["doc"][0], src / "年休假.doc")
    shutil.copyfile(made["md"][1], src / "审计法.md")
    log = tmp_path / "soffice.log"
    _stalling_soffice(tmp_path, monkeypatch, log)
    # in-process loading: only the conversion meets the 0.5 s limit, not the Markdown's loading
    limits = LoadLimits(timeout_s=0.5, memory_mb=3000, isolate=False)
    started = time.monotonic()
    report = run_ingest(
        src, tmp_path / "index", IngestOptions(quiet=True, limits=limits), embedder=hashed
    )
    assert report.ingested == ("审计法.md",)
    (skip,) = report.skipped
    assert skip.source == "年休假.doc" and "\n" not in skip.reason
    assert "timed out after 0.5 s, LibreOffice killed" in skip.reason
    assert log.read_text().split() == [str(3000 * 1024)]
    assert not _our_soffice()
    assert time.monotonic() - started < 25  # killed at the limit, not after the stall

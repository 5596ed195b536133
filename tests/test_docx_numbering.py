"""Word's automatic numbering: the labels it prints (第一条, 第二章, （一）, 1.1, 壹、, ①) are part of
the loaded text, as LibreOffice prints them; a real regulation numbered that way keeps every
article, also as a Word 97 .doc."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import pytest
from conftest import SHARED_DATA

from ingest.chunking import chunk_document
from ingest.docx_numbering import Numbering
from ingest.loaders import load_file
from tests.data.make_numbered_docx import (
    define,
    instance,
    lvl,
    numbered,
    numbered_regulation,
    sampler,
)
from tests.data.make_office_formats import soffice

REGULATIONS = SHARED_DATA / "office-regulations"
NAMES = ("审计法(2021-10-23)", "职工带薪年休假条例(2007-12-14)")
needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not installed")
needs_data = pytest.mark.skipif(not REGULATIONS.is_dir(), reason="../shared/data not present")


def _printed(path: Path, fmt: str = "txt:Text") -> Path:
    """LibreOffice's conversion of ``path`` (to text: the labels as it prints them)."""
    out = path.parent / "printed"
    subprocess.run(
        [soffice(), "--headless", f"-env:UserInstallation={(path.parent / 'lo').as_uri()}"]
        + ["--convert-to", fmt, "--outdir", str(out), str(path)],
        capture_output=True,
        timeout=180,
        check=True,
    )
    return out / f"{path.stem}.{fmt.split(':')[0]}"


def _lines(text: str) -> list[str]:
    """Non-empty lines without white space (LibreOffice indents, tabs and spaces differ)."""
    return [re.sub(r"\s", "", line) for line in text.split("\n") if line.strip()]


def _labels(path: Path) -> list[str]:
    out: list[str] = []
    for chunk in chunk_document(load_file(path, path.parent)):
        out.extend(a for a in chunk.articles if not out or out[-1] != a)
    return out


@needs_soffice
def test_every_numbering_rule_prints_as_libreoffice_prints_it(tmp_path):
    path = sampler(tmp_path / "sampler.docx")
    printed = _printed(path).read_text(encoding="utf-8-sig")
    # bullets are not labels: the loader leaves them out
    want = [line.lstrip("\u2022") for line in _lines(printed)]
    assert _lines(load_file(path, tmp_path).text) == want
    assert "壹拾壹、条目24" in want and "1.2条目27" in want and "第十二条按样式编号的条文11" in want


@needs_soffice
@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_a_regulation_numbered_by_word_keeps_its_articles(name, tmp_path):
    markdown = REGULATIONS / f"{name}.md"
    path = numbered_regulation(markdown, tmp_path / f"{name}.docx")
    assert "第一条" not in "".join(p.text for p in docx.Document(path).paragraphs)
    want = _labels(markdown)
    assert len(want) >= 10 and _labels(path) == want
    printed = _printed(path).read_text(encoding="utf-8-sig")
    assert _lines(load_file(path, tmp_path).text) == _lines(printed)
    legacy = _printed(path, "doc:MS Word 97")  # saved by LibreOffice as Word 97, read back
    assert _labels(legacy) == want


def test_articles_count_on_across_chapters_when_the_level_never_restarts(tmp_path):
    """One two-level list 第%1章 / 第%2条 with lvlRestart 0 on the articles (OOXML: 0 = never
    restart), as Word numbers it."""
    document = docx.Document()
    levels = [lvl(0, "chineseCounting", "第%1章"), lvl(1, "chineseCounting", "第%2条", 0)]
    define(document, 80, levels)
    instance(document, 80, 80)
    for ilvl in (0, 1, 1, 0, 1, 1, 1):
        numbered(document.add_paragraph("正文"), 80, ilvl)
    numbering = Numbering(document)
    labels = [numbering.label(p).strip("\u3000") for p in document.paragraphs]
    assert labels == ["第一章", "第一条", "第二条", "第二章", "第三条", "第四条", "第五条"]


def test_a_document_without_numbering_has_no_labels(tmp_path):
    document = docx.Document()
    document.add_paragraph("第一条 已写在正文里的条号")
    numbering = Numbering(document)
    assert [numbering.label(p) for p in document.paragraphs] == [""]

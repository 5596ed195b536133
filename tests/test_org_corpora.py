"""The two training organisations of bench/data/orgs (internal rules in md, docx, pdf, html and
GB18030 txt, written and converted with LibreOffice by helpers who never saw the loaders): every
article a question cites is found under its document's title after ingestion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.index import open_current
from ingest.pipeline import IngestOptions, run_ingest

ORGS = Path(__file__).resolve().parents[1] / "bench" / "data" / "orgs"


@pytest.mark.parametrize("org", ["jiangyu", "ningchuan"])
def test_every_cited_article_is_indexed_under_its_title(org, tmp_path, hashed):
    report = run_ingest(
        ORGS / org / "docs", tmp_path / "index", IngestOptions(quiet=True), embedder=hashed
    )
    assert len(report.ingested) == 8 and not report.skipped
    gen = open_current(tmp_path / "index")
    indexed = {(c.title, a) for c in gen.chunks for a in c.articles}
    lines = (ORGS / org / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    cited = {tuple(g) for line in lines for g in json.loads(line)["gold"]}
    assert len(cited) >= 40
    assert sorted(cited - indexed) == []
    titles = {c.title for c in gen.chunks}
    assert titles == {p.stem for p in (ORGS / org / "docs").iterdir()}

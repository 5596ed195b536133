"""One file cannot stall or sink an ingest run: what a document may expand to is bounded, and
each file is loaded in a worker process under a time and a memory limit. Generated files, the
real loaders, a real ingest (CLI in a subprocess for the issue's paragraph bomb)."""

from __future__ import annotations

import os
import time
import zipfile

import pytest
from conftest import corpus_file

from assistant.settings import load_settings
from ingest.budget import Loader, LoadLimits
from ingest.errors import LoadError
from ingest.pipeline import IngestOptions, run_ingest
from tests.data.make_bad import make_paragraphs_docx

SENTENCE = "职工在年休假期间享受与正常工作期间相同的工资收入"  # 24 characters


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """The issue's file: < 1 MB on disk, 190 MB of tiny paragraphs unpacked."""
    path = tmp_path_factory.mktemp("bomb") / "炸弹.docx"
    make_paragraphs_docx(path, 190 * 1024 * 1024 // 36)
    return path


def test_the_paragraph_bomb_is_skipped_quickly_and_the_run_goes_on(bomb, tmp_path, hashed):
    archive = zipfile.ZipFile(bomb)
    assert bomb.stat().st_size < 1024 * 1024
    assert 150 * 2**20 < sum(i.file_size for i in archive.infolist()) < 200 * 2**20
    src = tmp_path / "src"
    src.mkdir()
    os.link(bomb, src / "炸弹.docx")
    leave = corpus_file("职工带薪年休假条例")
    (src / leave.name).write_bytes(leave.read_bytes())
    for limits, words in (
        (LoadLimits(), "100 MB unpacked limit"),  # its stated size
        (LoadLimits(max_unpacked_mb=1000), "100000 paragraphs"),
    ):  # streamed
        started = time.perf_counter()
        with Loader(limits) as loader, pytest.raises(LoadError, match=words):
            loader.load(src / "炸弹.docx", src, 50 * 2**20)
        assert time.perf_counter() - started < 60  # the old code: > 300 s and 4.6 GB
    report = run_ingest(src, tmp_path / "index", IngestOptions(quiet=True), embedder=hashed)
    assert report.ingested == (leave.name,)
    (skipped,) = report.skipped
    assert skipped.source == "炸弹.docx" and "unpacked limit" in skipped.reason
    assert "skipped 炸弹.docx: docx inflates past" in report.summary()


def _docx(tmp_path, paragraphs: int, name: str = "长文.docx"):
    path = tmp_path / name
    make_paragraphs_docx(path, paragraphs, SENTENCE)
    return path


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (LoadLimits(max_paragraphs=1000), "more than 1000 paragraphs"),
        (LoadLimits(max_unpacked_mb=0.1), "inflates past the 0.1 MB unpacked limit"),
        (LoadLimits(max_text_chars=20_000), "more than 20000 characters"),
    ],
)
def test_each_expansion_bound_is_configurable(tmp_path, limits, words):
    path = _docx(tmp_path, 2000)  # ~150 KB of XML, 2000 paragraphs, 50 000 characters
    with Loader(LoadLimits()) as loader:
        assert len(loader.load(path, tmp_path, 10 * 2**20).text) > 40_000
    with Loader(limits) as loader, pytest.raises(LoadError, match=words):
        loader.load(path, tmp_path, 10 * 2**20)


def test_a_loader_past_its_time_limit_is_stopped_and_the_next_file_loads(tmp_path):
    slow = _docx(tmp_path, 100_000, "慢.docx")
    leave = tmp_path / "leave.md"
    leave.write_bytes(corpus_file("职工带薪年休假条例").read_bytes())
    limits = LoadLimits(timeout_s=1.0, max_paragraphs=10**7)
    with Loader(limits) as loader:
        assert loader.load(leave, tmp_path, 2**30).title == "职工带薪年休假条例"  # worker warm
        started = time.perf_counter()
        with pytest.raises(LoadError, match="1 s time limit"):
            loader.load(slow, tmp_path, 2**30)
        assert time.perf_counter() - started < 8
        assert loader.load(leave, tmp_path, 2**30).title == "职工带薪年休假条例"


def test_a_loader_past_its_memory_limit_is_stopped_and_the_run_goes_on(tmp_path, hashed):
    src = tmp_path / "src"
    src.mkdir()
    make_paragraphs_docx(src / "大.docx", 2_000_000)  # 72 MB of XML: its tree needs > 400 MB
    leave = corpus_file("职工带薪年休假条例")
    (src / leave.name).write_bytes(leave.read_bytes())
    limits = LoadLimits(
        memory_mb=400,
        max_paragraphs=10**7,
        max_unpacked_mb=1000,
        max_text_chars=10**9,
        timeout_s=300,
    )
    report = run_ingest(
        src, tmp_path / "index", IngestOptions(quiet=True, limits=limits), embedder=hashed
    )
    assert report.ingested == (leave.name,)
    (skipped,) = report.skipped
    assert skipped.source == "大.docx" and "400 MB memory limit" in skipped.reason


def test_the_limits_come_from_the_settings():
    env = {
        "POLICYQA_MAX_PARAGRAPHS": "500",
        "POLICYQA_LOADER_TIMEOUT": "7.5",
        "POLICYQA_MAX_UNPACKED_MB": "20",
        "POLICYQA_MAX_TEXT_CHARS": "9000",
        "POLICYQA_LOADER_MEMORY_MB": "1024",
    }
    assert load_settings(env=env).load_limits() == LoadLimits(
        max_unpacked_mb=20.0,
        max_paragraphs=500,
        max_text_chars=9000,
        timeout_s=7.5,
        memory_mb=1024,
    )

"""Access labels that must hold whatever shape the source folder takes: symlinks follow the real
file, front matter is read by a YAML parser and fails closed, and "superseded" is decided among
the versions the viewer may read. Real files, real ingest, real retrieval (minilm; the tests of
labels alone use the hash-based test embedder)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import corpus_file, make_settings

from assistant.retrieval import Retriever
from assistant.service import Assistant, Viewer
from ingest.access import split_front_matter
from ingest.errors import LoadError
from ingest.index import open_current
from ingest.loaders import load_file
from ingest.pipeline import IngestOptions, run_ingest

QUIET = IngestOptions(quiet=True)
SECRET = "青鸾小组"
INTERNAL = f"# 内部人事调配细则\n\n第一条 {SECRET}成员为张三、李四，负责干部轮岗。\n\n第二条 轮岗名单由人事处拟定。\n"
FIN = Viewer("fin", frozenset({"finance"}))
HR = Viewer("hr", frozenset({"hr"}))


def _chunks_with(index, phrase):
    return [c for c in open_current(index).chunks if phrase in c.text]


# --- 1. symlinks ---------------------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path):
    src = tmp_path / "src"
    (src / "人事").mkdir(parents=True)
    (src / "人事" / "内部.md").write_text(INTERNAL, encoding="utf-8")
    shutil.copy(corpus_file("职工带薪年休假条例"), src)
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    os.symlink("人事/内部.md", src / "公开副本.md")
    return src


def test_a_link_to_a_restricted_file_keeps_the_targets_groups(linked, tmp_path, minilm):
    report = run_ingest(linked, tmp_path / "index", QUIET, embedder=minilm)
    found = _chunks_with(tmp_path / "index", SECRET)
    assert found, report.summary()
    assert all(c.groups == ("hr",) for c in found), [(c.source, c.groups) for c in found]
    service = Assistant(
        make_settings(tmp_path, tmp_path / "index", source_dir=linked), embedder=minilm
    )
    for question in (f"{SECRET}成员有哪些？", "《内部人事调配细则》第一条"):
        result = service.search(question, 10, FIN)
        assert not any(SECRET in h.chunk.text for h in result.hits)
        assert SECRET not in json.dumps(service.ask(question, FIN).to_json(), ensure_ascii=False)
    assert any(SECRET in h.chunk.text for h in service.search(f"{SECRET}成员", 10, HR).hits)


def test_a_link_gets_the_stricter_labels_and_conflicts_are_skipped(linked, tmp_path, hashed):
    """The link's own labels count too: a link labelled for a subset of its target's groups
    gets that subset; a link labelled for other groups than its target is skipped."""
    os.symlink("人事/内部.md", linked / "仅限人事组长.md")
    os.symlink("人事/内部.md", linked / "财务副本.md")
    os.symlink("人事/不存在.md", linked / "断链.md")
    os.symlink("人事", linked / "人事链接")
    (linked / "access.toml").write_text(
        '"人事/**" = ["hr", "hr-leads"]\n"仅限人事组长.md" = ["hr-leads"]\n"财务副本.md" = ["finance"]\n',
        encoding="utf-8",
    )
    report = run_ingest(linked, tmp_path / "index", QUIET, embedder=hashed)
    reasons = {s.source: s.reason for s in report.skipped}
    assert "symlink" in reasons["财务副本.md"] and "财务副本.md" not in report.ingested
    assert "broken symlink" in reasons["断链.md"]
    assert "symlinked folder" in reasons["人事链接"]
    by_source = {c.source: c.groups for c in _chunks_with(tmp_path / "index", SECRET)}
    assert by_source == {
        "人事/内部.md": ("hr", "hr-leads"),
        "公开副本.md": ("hr", "hr-leads"),
        "仅限人事组长.md": ("hr-leads",),
    }


def test_relabelling_a_links_target_relabels_the_link(linked, tmp_path, hashed):
    run_ingest(linked, tmp_path / "index", QUIET, embedder=hashed)
    (linked / "access.toml").write_text('"人事/**" = ["hr-only"]\n', encoding="utf-8")
    report = run_ingest(linked, tmp_path / "index", QUIET, embedder=hashed)
    assert sorted(report.relabelled) == ["人事/内部.md", "公开副本.md"]
    assert {c.groups for c in _chunks_with(tmp_path / "index", SECRET)} == {("hr-only",)}


# --- 2. front matter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "groups"),
    [
        ("---\r\ngroups: [hr]\r\n---\r\n", ("hr",)),
        ("---\nGroups: [hr]\n---\n", ("hr",)),
        ("---\ngroups:\n  - hr\n  - finance\n---\n", ("finance", "hr")),
        ("---\nACCESS: hr, finance\ntitle: 内部\n---\n", ("finance", "hr")),
        ("---\ntitle: 公开\n---\n", ()),
        ("\ufeff---\ngroups: hr\n---\n", ("hr",)),
    ],
)
def test_front_matter_is_read_as_yaml(head, groups):
    body = corpus_file("职工带薪年休假条例").read_text(encoding="utf-8")
    text, found, _ = split_front_matter((head + body).lstrip("\ufeff"))
    assert found == groups
    assert text.replace("\r\n", "\n").startswith("# 职工带薪年休假条例")


@pytest.mark.parametrize(
    "head",
    [
        "---\ngroups: [hr\n---\n",  # unbalanced bracket
        "---\ngroups: {team: hr}\n---\n",  # a mapping is no group list
        "---\n- hr\n---\n",  # not a mapping
        "---\ngroups: [hr]\n",  # never closed
        "---\ngroups: [[hr]]\n---\n",  # nested list
    ],
)
def test_unreadable_front_matter_fails_closed(head, tmp_path, hashed):
    body = corpus_file("职工带薪年休假条例").read_text(encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    (src / "内部.md").write_text(
        head + body.replace("年休假5天", f"年休假5天（{SECRET}）"), encoding="utf-8"
    )
    with pytest.raises(LoadError, match="front matter"):
        load_file(src / "内部.md", src)
    shutil.copy(corpus_file("全国年节及纪念日放假办法"), src)
    report = run_ingest(src, tmp_path / "index", QUIET, embedder=hashed)
    assert [s.source for s in report.skipped] == ["内部.md"]
    assert "front matter" in report.skipped[0].reason
    assert not _chunks_with(tmp_path / "index", SECRET)


def test_crlf_front_matter_labels_the_indexed_chunks(tmp_path, hashed):
    src = tmp_path / "src"
    src.mkdir()
    body = INTERNAL.replace("\n", "\r\n")
    (src / "内部.md").write_bytes(("---\r\nGroups:\r\n  - hr\r\n---\r\n" + body).encode("utf-8"))
    run_ingest(src, tmp_path / "index", QUIET, embedder=hashed)
    found = _chunks_with(tmp_path / "index", SECRET)
    assert found and all(c.groups == ("hr",) for c in found)
    assert not any("groups" in c.text.lower() for c in open_current(tmp_path / "index").chunks)


# --- 3. versions -----------------------------------------------------------------------------------

OLD = "考勤管理办法(2020-01-01).md"
NEW = "人事/考勤管理办法(2025-01-01).md"


def _attendance(year: int, days: int) -> str:
    return (
        f"# 考勤管理办法\n\n{year}年1月1日 印发\n\n第一条 职工每月迟到累计{days}次以上的，"
        f"按旷工半天处理。\n\n第二条 考勤记录由各部门按月报送。\n"
    )


def _versions(src, with_new: bool):
    (src / "人事").mkdir(parents=True)
    (src / OLD).write_text(_attendance(2020, 3), encoding="utf-8")
    if with_new:
        (src / NEW).write_text(_attendance(2025, 5), encoding="utf-8")
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    shutil.copy(corpus_file("职工带薪年休假条例"), src)
    return src


@pytest.fixture(scope="module")
def versions(tmp_path_factory, minilm):
    base = tmp_path_factory.mktemp("versions")
    built = {}
    for name, with_new in (("both", True), ("public", False)):
        src = _versions(base / name / "src", with_new)
        run_ingest(src, base / name / "index", QUIET, embedder=minilm)
        built[name] = Retriever(open_current(base / name / "index"), minilm)
    return built


@pytest.mark.parametrize(
    "question", ["迟到累计几次按旷工处理？", "《考勤管理办法》第一条", "2025年的考勤管理办法第一条"]
)
def test_a_restricted_newer_version_does_not_hide_the_public_one(versions, question):
    both, public = versions["both"], versions["public"]
    seen = both.search(question, 5, FIN.groups)
    alone = public.search(question, 5, FIN.groups)
    assert any(h.chunk.source == OLD for h in seen.hits), question
    assert [h.chunk.id for h in seen.hits] == [h.chunk.id for h in alone.hits]
    assert (seen.relevant, seen.reason) == (alone.relevant, alone.reason)


def test_readers_of_both_versions_get_the_newest(versions):
    hits = versions["both"].search("《考勤管理办法》第一条", 5, HR.groups).hits
    assert hits[0].chunk.source == NEW
    assert not any(h.chunk.source == OLD for h in hits)
    old = versions["both"].search("2020年的《考勤管理办法》第一条", 5, HR.groups).hits
    assert old[0].chunk.source == OLD

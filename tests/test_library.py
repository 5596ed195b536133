"""assistant/library.py: uploads go where the admin says, with the groups shown beforehand;
replacements need confirmation and keep the previous file; removals and replacements can be
undone; nothing empty or unreadable replaces a document."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest

from assistant.library import STAGING, TRASH, Library, LibraryError, Upload, check_name
from ingest.plan import scan

RULES = "第一条 会议室须提前一天在OA系统预约。\n\n第二条 本规定自发布之日起施行。\n"


def _upload(tmp: Path, name: str, text: str | bytes) -> Upload:
    """A file as Gradio hands it over: in a folder of its own, sent under ``name``."""
    folder = tmp / "uploads" / secrets.token_hex(4)
    folder.mkdir(parents=True)
    path = folder / "upload.bin"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return Upload(path, name)


@pytest.fixture
def source(tmp_path) -> Path:
    src = tmp_path / "src"
    (src / "人事").mkdir(parents=True)
    (src / "access.toml").write_text('"人事/**" = ["hr"]\n', encoding="utf-8")
    (src / "职工带薪年休假条例.md").write_text("# 职工带薪年休假条例\n\n" + RULES, encoding="utf-8")
    return src


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("规定.md", True),
        ("手册.PDF", True),
        ("人事/内部.md", False),  # a folder part is refused, never flattened
        ("../../etc/规定.md", False),
        ("C:\\temp\\办法.docx", False),
        ("..md", False),
        (".hidden.md", False),
        ("evil.exe", False),
        ("noext", False),
        ("a\x00.md", False),
        ("", False),
    ],
)
def test_check_name(name, ok):
    if ok:
        assert check_name(name) == name
    else:
        with pytest.raises(LibraryError):
            check_name(name)


def test_upload_into_a_subfolder_gets_that_folders_groups(source, tmp_path):
    lib = Library(source)
    assert lib.folders() == ["人事"]
    up = _upload(tmp_path, "内部.md", "# 内部规定\n\n" + RULES)
    (planned,) = lib.plan([up], "人事")
    assert planned.ok and planned.target == "人事/内部.md"
    assert planned.groups == ("hr",) and planned.title == "内部规定"
    assert not (source / "人事" / "内部.md").exists()  # plan writes nothing
    result = lib.add([up], "人事")
    assert [p.target for p in result.saved] == ["人事/内部.md"]
    assert (source / "人事" / "内部.md").read_text(encoding="utf-8").startswith("# 内部规定")
    assert not (source / "内部.md").exists()
    assert not (source / STAGING).exists()


def test_front_matter_groups_are_shown_before_saving(source, tmp_path):
    up = _upload(tmp_path, "财务.md", "---\ngroups: [finance]\n---\n# 财务规定\n\n" + RULES)
    (planned,) = Library(source).plan([up])
    assert planned.target == "财务.md" and planned.groups == ("finance",)


def test_names_with_a_folder_part_and_unknown_folders_are_refused(source, tmp_path):
    lib = Library(source)
    result = lib.add([_upload(tmp_path, "人事/内部.md", RULES)])
    assert not result.saved and "folder" in result.refused[0].problem
    result = lib.add([_upload(tmp_path, "a.md", RULES)], "不存在")
    assert not result.saved and "no such folder" in result.refused[0].problem
    result = lib.add([_upload(tmp_path, "a.md", RULES)], "../..")
    assert not result.saved
    assert sorted(p.name for p in source.rglob("*.md")) == ["职工带薪年休假条例.md"]


def test_replacing_needs_confirmation_and_keeps_the_old_file(source, tmp_path):
    lib = Library(source)
    target = source / "职工带薪年休假条例.md"
    before = target.read_bytes()
    new = "# 职工带薪年休假条例\n\n第一条 修订后的条文。\n"
    result = lib.add([_upload(tmp_path, target.name, new)])
    assert not result.saved and "confirm" in result.refused[0].problem
    assert target.read_bytes() == before
    result = lib.add([_upload(tmp_path, target.name, new)], replace_existing=True)
    assert result.saved[0].replaces and target.read_text(encoding="utf-8") == new
    (entry,) = lib.trash()
    assert entry.source == target.name and entry.reason == "replaced"
    assert stat.S_IMODE(os.stat(source / TRASH).st_mode) == 0o700
    lib.restore(entry.id)
    assert target.read_bytes() == before
    (undo,) = lib.trash()  # the restore itself can be undone
    assert undo.reason == "replaced" and lib.restore(undo.id)
    assert target.read_text(encoding="utf-8") == new


def test_empty_or_unreadable_replacements_are_refused(source, tmp_path):
    lib = Library(source)
    target = source / "职工带薪年休假条例.md"
    before = target.read_bytes()
    for data in (b"", b"   \n\n", b"PK\x03\x04 not really a docx"):
        name = target.name if data != b"PK\x03\x04 not really a docx" else "坏文件.docx"
        result = lib.add([_upload(tmp_path, name, data)], replace_existing=True)
        assert not result.saved, data
    assert target.read_bytes() == before and lib.trash() == []
    assert not (source / "坏文件.docx").exists()


def test_removal_goes_to_the_trash_and_is_restored(source, tmp_path):
    lib = Library(source)
    entry = lib.remove("职工带薪年休假条例.md")
    assert not (source / "职工带薪年休假条例.md").exists()
    files, _ = scan(source)
    assert files == []  # the trash is never ingested
    assert lib.trash() == [entry] and entry.reason == "removed"
    lib.restore(entry.id)
    assert (source / "职工带薪年休假条例.md").is_file() and lib.trash() == []
    with pytest.raises(LibraryError):
        lib.restore(entry.id)
    with pytest.raises(LibraryError):
        lib.remove("../outside.md")


def test_too_large_and_duplicate_uploads_are_refused(source, tmp_path):
    lib = Library(source, max_bytes=100)
    result = lib.add([_upload(tmp_path, "大.md", "第一条 " + "很长" * 100)])
    assert not result.saved and "MB" in result.refused[0].problem
    lib = Library(source)
    result = lib.add([_upload(tmp_path, "新.md", RULES), _upload(tmp_path, "新.md", RULES)])
    assert len(result.saved) == 1 and "duplicate" in result.refused[0].problem


def test_a_symlink_target_is_never_written_through(source, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("# 外部\n\n" + RULES, encoding="utf-8")
    (source / "链接.md").symlink_to(outside)
    result = Library(source).add([_upload(tmp_path, "链接.md", RULES)], replace_existing=True)
    assert not result.saved
    assert outside.read_text(encoding="utf-8").startswith("# 外部")


def test_uploads_are_discarded_only_inside_gradios_folder(tmp_path, monkeypatch):
    from webui.documents import discard_uploads, render_plan

    gradio_tmp = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(gradio_tmp))
    inside = gradio_tmp / "abc123" / "规定.md"
    inside.parent.mkdir(parents=True)
    inside.write_text(RULES, encoding="utf-8")
    outside = tmp_path / "keep.md"
    outside.write_text(RULES, encoding="utf-8")
    discard_uploads([Upload(inside, "规定.md"), Upload(outside, "keep.md")])
    assert not inside.exists() and not inside.parent.exists() and gradio_tmp.is_dir()
    assert outside.is_file()
    t = {
        "preview_none": "-",
        "preview_row": "{target}《{title}》{groups}",
        "preview_all": "all",
        "preview_replaces": " R",
        "preview_refused": "{name}: {problem}",
    }
    from assistant.library import Planned

    shown = render_plan([Planned("a.md", "人事/a.md", "<b>甲</b>", ("hr",), True)], t)
    assert shown == "- 人事/a.md《&lt;b&gt;甲&lt;/b&gt;》hr R"


def test_docs_cli_adds_into_a_folder_removes_and_restores(source, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    def run(*args):
        return CliRunner().invoke(
            main, ["--data-dir", str(tmp_path / "data"), "docs", *args, "--source", str(source)]
        )

    new = tmp_path / "内部.md"
    new.write_text("# 内部规定\n\n" + RULES, encoding="utf-8")
    added = run("add", str(new), "--folder", "人事", "--no-ingest")
    assert (
        added.exit_code == 0
        and "saved 人事/内部.md" in added.output
        and "groups: hr" in added.output
    )
    again = run("add", str(new), "--folder", "人事", "--no-ingest")
    assert again.exit_code == 1  # exists: needs --replace
    assert run("remove", "人事/内部.md", "--no-ingest").exit_code != 0  # needs --yes
    assert run("remove", "人事/内部.md", "--yes", "--no-ingest").exit_code == 0
    assert not (source / "人事" / "内部.md").exists()
    (line,) = run("trash").output.splitlines()
    entry_id, reason, _, where = line.split("\t")
    assert reason == "removed" and where == "人事/内部.md"
    assert run("restore", entry_id, "--no-ingest").exit_code == 0
    assert (source / "人事" / "内部.md").is_file()

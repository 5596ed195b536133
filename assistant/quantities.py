"""Questions that ask for a number: does any retrieved passage state one?

"公务员记三等功，一次性奖金具体是多少钱？" retrieves 公务员法 第五十三条 (给予一次性奖金) with a high
score, yet no document states the amount. Quoting that article as the answer would look like
an answer while giving none. A question that asks for a duration, an amount or a count is only
answered when a sentence of the top passages states a quantity of that kind *and* shares a
content term with the question (年休假 + 10天, 答复 + 20个工作日); otherwise the retriever
refuses and says the documents state no such figure.

The rule is deliberately narrow (measured in BENCHMARKS.md): only explicit questions about a
quantity (几天 / 多久 / 多少钱 / 几次 …), and any content term in common is enough, so a
colloquial question whose statute words differ is not refused for that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.statutes import QUANTITY, SENTENCE
from ingest.terms import normalise, query_words, words

from .records import Hit

# what a question asks for
_ASKS = {
    "duration": re.compile(
        r"(?:几|多少)个?(?:天|日|工作日|月|年|周|小时|星期)|多久|多长时间|多长期限|期限是多少"
    ),
    "money": re.compile(
        r"多少钱|多少元|(?:金额|数额|补贴|津贴|奖金|工资|费用|罚款|罚金|赔偿金)"
        r"[^，。？?！!]{0,6}?(?:是|有|为|给|发|赔|罚)?多少|(?:奖|补|赔|罚|发|给|报)多少"
    ),
    "count": re.compile(r"(?:几|多少)(?:次|人|名|份|项|岁|周岁)"),
    # a measure, a share or a multiple (多少平方米 / 多少度 / 占多少比例 / 几倍 / 几级)
    "measure": re.compile(
        r"(?:几|多少)(?:度|平方米|平米|米|公里|千米|页|级|层)|多少\s*(?:dpi|DPI)"
        r"|(?:比例|百分比|比重|折扣|倍数)[^，。？?！!]{0,4}?(?:是|为|有)?多少|占多少|几倍|百分之几|几成"
    ),
}

# what a sentence must state to answer it
_STATES = {
    "duration": re.compile(QUANTITY + r"\s*个?(?:日|天|工作日|月|年|周|小时|星期)"),
    "money": re.compile(QUANTITY + r"\s*(?:元|万元|倍)|百分之|[%％]|比例"),
    "count": re.compile(QUANTITY + r"\s*(?:次|人|名|份|项|岁|周岁)"),
    "measure": re.compile(
        QUANTITY
        + r"\s*(?:度|℃|°C|平方米|平米|米|公里|千米|页|级|层|dpi|DPI|折|倍|成)|百分之|[%％]|比例"
    ),
}

# question words that say nothing about the topic
_GENERIC_WORDS = (
    "多少 几天 多久 时间 长时间 规定 单位 工作 什么 怎么 可以 能否 是否 需要 应该 具体 一般 "
    "标准 问题 情况 如何 一共 最多 最长 最晚"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())


def asked_quantities(question: str) -> list[str]:
    """The kinds of quantity a question asks for: "duration", "money", "count", "measure"
    (often none)."""
    return [kind for kind, pattern in _ASKS.items() if pattern.search(question)]


def topic_terms(question: str) -> set[str]:
    """Content terms of two or more characters; numbers count ("满10年" meets "已满10年")."""
    return {t for t in query_words(question) if len(t) >= 2 and t not in _GENERIC}


def states_quantity(question: str, hits: Sequence[Hit], depth: int = 5) -> bool:
    """True unless ``question`` asks for a quantity and no sentence of the first ``depth`` hits
    states one of that kind next to one of the question's topic terms."""
    kinds = asked_quantities(question)
    if not kinds:
        return True
    topic = topic_terms(question)
    for hit in hits[:depth]:
        for sentence in SENTENCE.findall(hit.chunk.text):
            if not any(_STATES[kind].search(sentence) for kind in kinds):
                continue
            if not topic or topic & set(words(sentence)) or any(t in sentence for t in topic):
                return True
    return False


def unsupported_figures(text: str, sources: Sequence[str]) -> list[str]:
    """Figures (durations, amounts, counts) stated in ``text`` that no source states: what an
    LLM answer must not add to the passages it cites ("5天" matches "五天")."""
    found = {
        normalise(m.group(0)).replace(" ", "") for p in _STATES.values() for m in p.finditer(text)
    }
    corpus = [normalise(s).replace(" ", "") for s in sources]
    return sorted(f for f in found if not any(f in s for s in corpus))

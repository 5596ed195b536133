"""Answers from retrieved articles: extractive answers, refusals, and citation verification.

Extractive (no LLM): a lead naming the source (根据《职工带薪年休假条例》第三条：) followed by the
most relevant sentences quoted verbatim, each block with an [n] marker mapping to a citation.

Verification (both modes): every [n] must refer to a passage that was given; every article an
answer states (第X条) must appear in a cited passage, and every figure it states (5天, 80元,
两次) must be stated by a cited passage (quantities.unsupported_figures). What fails is
removed and the answer is flagged as partly unverified; markers are renumbered 1..m in order of
first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.statutes import same_article, sentences, strip_article_label
from ingest.terms import words

from .citations import article_refs
from .quantities import unsupported_figures
from .records import Answer, Citation, Hit, Passage, place
from .retrieval import SearchResult

NOT_FOUND = "现有制度文件中未找到依据。"
NO_FIGURE = "现有制度文件中未找到所问数额、期限或次数的具体规定。"
MAX_CITED = 3
RUNNER_UP = 0.8  # a runner-up is quoted too when its fused score is within 20% of the best
_MARKER = re.compile(r"\[(\d{1,3})\]")


def passages(hits: Sequence[Hit], limit: int = 5) -> list[Passage]:
    return [Passage(i, _label(h), h.chunk.text) for i, h in enumerate(hits[:limit], start=1)]


def _label(hit: Hit) -> str:
    c = hit.chunk
    return f"《{c.title}》{place(c.articles, c.heading)}"


def citation(n: int, hit: Hit, quote: str) -> Citation:
    c = hit.chunk
    return Citation(
        n, c.source, c.title, c.heading, c.articles, c.pages, quote, c.id, c.doc_id, c.doc_number
    )


def refusal(question: str, result: SearchResult, notice: str = "") -> Answer:
    titles = list(dict.fromkeys(h.chunk.title for h in result.hits))[:3]
    if result.reason == "quantity":  # the topic is there, the figure asked for is not
        labels = list(dict.fromkeys(_label(h) for h in result.hits[:3]))
        text = NO_FIGURE + "相关条款：" + "、".join(labels) + "。"
        return Answer(text, (), True, True, "refusal", question, tuple(titles), notice)
    text = NOT_FOUND
    if titles:
        text += "可能相关的文件：" + "、".join(f"《{t}》" for t in titles) + "。"
    return Answer(text, (), True, True, "refusal", question, tuple(titles), notice)


# --- extractive ----------------------------------------------------------------------------------


def select_sentences(question: str, text: str, limit: int = 3, whole_below: int = 220) -> str:
    """The sentences of ``text`` that share most terms with the question, in their order.
    Short passages are quoted whole."""
    body = strip_article_label(text).strip()
    if len(body) <= whole_below:
        return body
    wanted = set(words(question))
    parts = sentences(body)
    scored = [(len(wanted & set(words(s))), -i, s) for i, s in enumerate(parts)]
    best = sorted(scored, reverse=True)[:limit]
    if not best or best[0][0] == 0:
        return "".join(parts[:2])
    keep = {s for score, _, s in best if score > 0}
    return "".join(s for s in parts if s in keep)


def _unit(hit: Hit) -> tuple:
    """What a citation stands for: an article (its pieces are one unit), else a heading, such
    as one table row (差旅住宿费标准 · 上海（第5行）): two rows of one table are two units."""
    c = hit.chunk
    return (c.doc_id, c.articles or (c.heading,))


def _chosen(result: SearchResult) -> list[Hit]:
    """The hits worth quoting: the best one and close runners-up from other articles."""
    hits = list(result.hits)
    if not hits:
        return []
    if result.quote:  # chosen by the decision model (decide.py)
        return list(result.quote)
    if hits[0].exact:
        return [h for h in hits if h.exact][:MAX_CITED]
    top = hits[0].score
    chosen, seen = [hits[0]], {_unit(hits[0])}
    for h in hits[1:6]:
        key = _unit(h)
        if key not in seen and h.score >= RUNNER_UP * top and len(chosen) < MAX_CITED:
            chosen.append(h)
            seen.add(key)
    return chosen


def extractive(question: str, result: SearchResult, notice: str = "") -> Answer:
    if not result.relevant or not result.hits:
        return refusal(question, result, notice)
    blocks, cites = [], []
    for n, hit in enumerate(_chosen(result), start=1):
        quote = select_sentences(question, hit.chunk.text)
        lead = "根据" if n == 1 else "另据"
        blocks.append(f"{lead}{_label(hit)}：“{quote}”[{n}]")
        cites.append(citation(n, hit, quote))
    return Answer(
        "\n\n".join(blocks), tuple(cites), False, True, "extractive", question, notice=notice
    )


# --- verification --------------------------------------------------------------------------------


def _article_ok(label: str, cited: Sequence[Citation], given: Sequence[Hit]) -> bool:
    for c in cited:
        if any(same_article(label, a) for a in c.articles):
            return True
        hit = next((h for h in given if h.chunk.id == c.chunk_id), None)
        if hit is not None and label in article_refs(hit.chunk.text):
            return True
    return False


def verify(text: str, given: Sequence[Hit]) -> tuple[str, tuple[Citation, ...], bool]:
    """Check an answer written against ``given`` (passage n = given[n-1]).

    Returns (cleaned text with markers renumbered 1..m, the citations used, verified?).
    """
    valid = {int(n) for n in _MARKER.findall(text) if 1 <= int(n) <= len(given)}
    verified = all(1 <= int(n) <= len(given) for n in _MARKER.findall(text))
    text = _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    cited = [citation(n, given[n - 1], given[n - 1].chunk.text) for n in sorted(valid)]
    kept = []
    sources = [c.quote for c in cited]
    for sentence in re.findall(r"[^。！？\n]*[。！？\n]?", text):
        labels = article_refs(sentence)
        if labels and not all(_article_ok(lb, cited, given) for lb in labels):
            verified = False
            continue  # drop a statement that names an article no cited passage holds
        if unsupported_figures(_MARKER.sub("", sentence), sources):
            verified = False
            continue  # drop a figure (days, yuan, times) that no cited passage states
        kept.append(sentence)
    text = re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip()
    renumber: dict[int, int] = {}
    for n in _MARKER.findall(text):
        renumber.setdefault(int(n), len(renumber) + 1)
    text = _MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
    used = tuple(
        citation(new, given[old - 1], given[old - 1].chunk.text) for old, new in renumber.items()
    )
    return text, used, verified

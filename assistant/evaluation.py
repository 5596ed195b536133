"""Retrieval evaluation on questions with gold articles (the STARD dev.jsonl format).

A hit matches a gold pair (title, 第X条) when its document title, normalised (no
中华人民共和国, no date suffix), equals the normalised gold title and the article is in its
``articles``. ``gold: []`` marks an unanswerable question, which should be refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import PolicyQAError
from ingest.statutes import same_article

from .citations import normalise_title
from .records import Answer, Hit
from .retrieval import SearchResult


@dataclass(frozen=True)
class Query:
    id: object
    question: str
    gold: tuple[tuple[str, str], ...] | None = None  # None: not labelled; (): unanswerable


@dataclass
class EvalReport:
    n_answerable: int = 0
    n_unanswerable: int = 0
    recall5: float = 0.0
    recall10: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0
    refusal_rate: float = 0.0  # on unanswerable questions
    false_refusal_rate: float = 0.0  # on answerable ones
    cited_gold_rate: float | None = None  # answers citing a gold article (with --answers)
    failures: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in self.__dict__.items()
            if k != "failures"
        }

    def lines(self) -> list[str]:
        return [
            f"answerable {self.n_answerable}, unanswerable {self.n_unanswerable}",
            f"Recall@5 {self.recall5:.3f}  Recall@10 {self.recall10:.3f}  Hit@5 {self.hit5:.3f}  "
            f"MRR@10 {self.mrr10:.3f}",
            f"refusal rate (unanswerable) {self.refusal_rate:.3f}  "
            f"false-refusal rate (answerable) {self.false_refusal_rate:.3f}",
        ] + (
            [f"answers citing a gold article {self.cited_gold_rate:.3f}"]
            if self.cited_gold_rate is not None
            else []
        )


def read_queries(path: Path) -> list[Query]:
    """JSONL lines {"id", "question", "gold"?}. Raises PolicyQAError naming the bad line."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyQAError(f"无法读取问题文件 {path}：{exc} / cannot read queries file") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            question = data["question"]
            if not isinstance(question, str):
                raise TypeError(f"question must be a string, not {json.dumps(question)}")
        except (ValueError, KeyError, TypeError) as exc:
            raise PolicyQAError(
                f"{path} 第 {n} 行不是有效的 JSON 问题 / line {n} is not a JSON question: {exc}"
            ) from exc
        gold = data.get("gold")
        gold_pairs = None if gold is None else tuple((str(t), str(a)) for t, a in gold)
        out.append(Query(data.get("id", n), question, gold_pairs))
    return out


def matches(hit: Hit, title: str, article: str) -> bool:
    return normalise_title(hit.chunk.title) == normalise_title(title) and any(
        same_article(article, a) for a in hit.chunk.articles
    )


def _first_match_rank(hits: Iterable[Hit], gold: set[tuple[str, str]], k: int) -> int | None:
    for rank, hit in enumerate(list(hits)[:k], start=1):
        if any(matches(hit, t, a) for t, a in gold):
            return rank
    return None


def _recall(hits: list[Hit], gold: set[tuple[str, str]], k: int) -> float:
    found = {g for g in gold for h in hits[:k] if matches(h, *g)}
    return len(found) / len(gold)


def evaluate(
    queries: list[Query],
    search: Callable[[str], SearchResult],
    k: int = 10,
    answer: Callable[[str], Answer] | None = None,
) -> EvalReport:
    """Retrieval metrics; with ``answer``, also how often the answer cites a gold article."""
    rep = EvalReport()
    cited = 0
    sums = {"r5": 0.0, "r10": 0.0, "h5": 0.0, "mrr": 0.0, "refused": 0, "false_refused": 0}
    for q in queries:
        if q.gold is None:
            continue
        result = search(q.question)
        hits = list(result.hits)
        if not q.gold:
            rep.n_unanswerable += 1
            sums["refused"] += not result.relevant
            if result.relevant:
                rep.failures.append(
                    {
                        "id": q.id,
                        "question": q.question,
                        "gold": [],
                        "problem": "not refused",
                        "top": _brief(hits[:3]),
                    }
                )
            continue
        rep.n_answerable += 1
        gold = set(q.gold)
        r5, r10 = _recall(hits, gold, 5), _recall(hits, gold, max(k, 10))
        rank = _first_match_rank(hits, gold, 10)
        sums["r5"] += r5
        sums["r10"] += r10
        sums["h5"] += rank is not None and rank <= 5
        sums["mrr"] += 1.0 / rank if rank else 0.0
        sums["false_refused"] += not result.relevant
        if answer is not None:
            got = answer(q.question)
            cited += any(
                normalise_title(c.title) == normalise_title(t) and same_article(a, ga)
                for c in got.citations
                for a in c.articles
                for t, ga in gold
            )
        if rank is None or rank > 5 or not result.relevant:
            rep.failures.append(
                {
                    "id": q.id,
                    "question": q.question,
                    "gold": [list(g) for g in gold],
                    "rank": rank,
                    "refused": not result.relevant,
                    "top": _brief(hits[:5]),
                }
            )
    if rep.n_answerable:
        n = rep.n_answerable
        rep.recall5, rep.recall10 = sums["r5"] / n, sums["r10"] / n
        rep.hit5, rep.mrr10 = sums["h5"] / n, sums["mrr"] / n
        rep.false_refusal_rate = sums["false_refused"] / n
        if answer is not None:
            rep.cited_gold_rate = cited / n
    if rep.n_unanswerable:
        rep.refusal_rate = sums["refused"] / rep.n_unanswerable
    return rep


def _brief(hits: list[Hit]) -> list[str]:
    return [f"{h.chunk.title} {'/'.join(h.chunk.articles)} ({h.score:.4f})" for h in hits]

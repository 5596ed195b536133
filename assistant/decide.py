"""Which retrieved passages to quote, and whether to refuse: one learned, calibrated decision.

For each of the first ``depth`` hits a logistic model estimates the probability that the hit is
an article answering the question, from features of the retrieval (fused score and its gaps,
dense cosine, dense and BM25 ranks and their agreement, a regulation the question names, the
question's topic terms found in the passage, a figure asked for but not stated: the detectors
of quantities.py) and, when the decision model was trained with a reranker, the hit's
``rerank_score``. Hits at or above the calibrated threshold are quoted (most probable first, at
most ``max_quoted``); when none reaches it, the question is refused.

The model is trained on the train question files only (``bench/train_decider.py``, k-fold
cross-validated) and its threshold is the operating point chosen there for at most 5% false
refusals. It is stored as plain numbers in JSON (coefficients, standardisation, threshold) with
the embedder, query adapter and reranker it was calibrated for; with others, ``decider_for``
says to calibrate one on the office's own questions and the retriever keeps its plain gate.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from ingest.errors import PolicyQAError

from .adapter import QueryModel
from .quantities import asked_quantities, states_quantity, topic_terms
from .retrieval import SearchResult

PACKAGED = "e5-small-decider.json"
FORMAT = 1
MISSING_RANK = 200  # rank given to a hit one retriever did not list

# features every decision model can use; RERANK ones need hits with a ``rerank_score``
BASE_FEATURES = (
    "fused",
    "fused_gap_top",
    "fused_gap_next",
    "top_gap",
    "cos",
    "cos_gap_top",
    "top_cos",
    "dense_rank",
    "bm25_rank",
    "bm25_missing",
    "worse_rank",
    "position",
    "mentioned",
    "any_mentioned",
    "asks_figure",
    "figure_missing",
    "cover",
    "title_cover",
    "same_doc_top",
    "doc_share",
    "question_len",
    "passage_len",
)
RERANK_FEATURES = ("rerank", "rerank_gap_top", "rerank_position")


def _log_rank(rank: int | None) -> float:
    return math.log1p(min(rank or MISSING_RANK, MISSING_RANK))


def _cover(topic: set[str], text: str) -> float:
    return sum(t in text for t in topic) / len(topic) if topic else 0.0


def hit_features(
    question: str, result: SearchResult, depth: int = 5, rerank: bool = False
) -> list[dict[str, float]]:
    """One feature dict per hit among the first ``depth``."""
    hits = list(result.hits[:depth])
    if not hits:
        return []
    topic = topic_terms(question)
    asks = bool(asked_quantities(question))
    top = hits[0]
    docs = [h.chunk.doc_id for h in hits]
    rerank_scores = [getattr(h, "rerank_score", None) for h in hits]
    rows = []
    for i, h in enumerate(hits):
        cos = h.dense_score if h.dense_score is not None else result.top_similarity
        nxt = hits[i + 1].score if i + 1 < len(hits) else h.score
        row = {
            "fused": h.score,
            "fused_gap_top": top.score - h.score,
            "fused_gap_next": h.score - nxt,
            "top_gap": top.score - (hits[1].score if len(hits) > 1 else top.score),
            "cos": cos,
            "cos_gap_top": result.top_similarity - cos,
            "top_cos": result.top_similarity,
            "dense_rank": _log_rank(h.dense_rank),
            "bm25_rank": _log_rank(h.bm25_rank),
            "bm25_missing": float(h.bm25_rank is None),
            "worse_rank": _log_rank(max(h.dense_rank or MISSING_RANK, h.bm25_rank or MISSING_RANK)),
            "position": math.log1p(i),
            "mentioned": float(h.chunk.doc_id in result.focus),
            "any_mentioned": float(bool(result.focus)),
            "asks_figure": float(asks),
            "figure_missing": float(asks and not states_quantity(question, [h], 1)),
            "cover": _cover(topic, h.chunk.text),
            "title_cover": _cover(topic, h.chunk.title),
            "same_doc_top": float(h.chunk.doc_id == top.chunk.doc_id),
            "doc_share": docs.count(h.chunk.doc_id) / len(docs),
            "question_len": math.log1p(len(question)),
            "passage_len": math.log1p(len(h.chunk.text)),
        }
        if rerank:
            score = rerank_scores[i]
            best = max((s for s in rerank_scores if s is not None), default=None)
            better = sum(s is not None and score is not None and s > score for s in rerank_scores)
            row["rerank"] = float(score) if score is not None else 0.0
            row["rerank_gap_top"] = float(best - score) if score is not None and best else 0.0
            row["rerank_position"] = math.log1p(better)
        rows.append(row)
    return rows


def adapter_id(adapter: QueryModel | None) -> str:
    """A short fingerprint of a query adapter's (or tuning's) weights ("" for none)."""
    return adapter.fingerprint() if adapter is not None else ""


QUESTION_EXTRA = ("best_hit", "figure_missing_all")  # question model: hit 1's features + these


@dataclass(frozen=True, eq=False)
class Linear:
    """A logistic model over named features, with the standardisation it was fitted with."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        x = np.array([[r[f] for f in self.features] for r in rows], dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-(((x - self.mean) / self.scale) @ self.coef + self.intercept)))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }


def question_row(
    question: str, rows: list[dict[str, float]], p_hits: np.ndarray, result: SearchResult
) -> dict[str, float]:
    """The question model's features: the first hit's, the best hit probability (as a logit)
    and whether a figure is asked that none of the hits states."""
    best = float(np.clip(p_hits.max(), 1e-6, 1 - 1e-6)) if len(p_hits) else 1e-6
    asks = bool(asked_quantities(question))
    return {
        **rows[0],
        "best_hit": math.log(best / (1 - best)),
        "figure_missing_all": float(asks and not states_quantity(question, result.hits)),
    }


@dataclass(frozen=True, eq=False)
class Decider:
    hit: Linear  # P(this hit is an article answering the question)
    question: Linear  # P(the documents answer the question)
    threshold: float  # refuse when P(answerable) is below it (the calibrated operating point)
    quote_threshold: float  # quote the most probable hit and others whose P(hit) reaches this
    embedders: tuple[str, ...]  # embedder names it was calibrated for
    adapter: str = ""  # adapter_id of the query adapter it was calibrated with ("" none)
    reranker: str = ""  # name of the reranker whose scores it reads ("" none)
    depth: int = 5
    max_quoted: int = 3
    about: str = ""
    cv: dict | None = None  # cross-validated figures at the operating point

    @property
    def uses_rerank(self) -> bool:
        return any(f in RERANK_FEATURES for f in (*self.hit.features, *self.question.features))

    def scores(self, question: str, result: SearchResult) -> tuple[float, np.ndarray]:
        """(P(answerable), P(hit answers) for each of the first ``depth`` hits)."""
        rows = hit_features(question, result, self.depth, self.uses_rerank)
        if not rows:
            return 0.0, np.zeros(0)
        p_hits = self.hit.probability(rows)
        p_question = self.question.probability([question_row(question, rows, p_hits, result)])
        return float(p_question[0]), p_hits

    def choose(self, p_question: float, p_hits: Sequence[float]) -> list[int]:
        """Positions of the hits to quote, most probable first (empty: refuse)."""
        if p_question < self.threshold or not len(p_hits):
            return []
        order = [int(i) for i in np.argsort(-np.asarray(p_hits), kind="stable")]
        return (
            order[:1]
            + [i for i in order[1:] if p_hits[i] >= self.quote_threshold][: self.max_quoted - 1]
        )

    def decide(self, question: str, result: SearchResult) -> SearchResult:
        p_question, p_hits = self.scores(question, result)
        chosen = self.choose(p_question, p_hits)
        if chosen:
            quote = tuple(result.hits[i] for i in chosen)
            return replace(result, relevant=True, reason="", quote=quote, gate_score=p_question)
        asks = asked_quantities(question)
        reason = "quantity" if asks and not states_quantity(question, result.hits) else "score"
        return replace(result, relevant=False, reason=reason, quote=(), gate_score=p_question)

    def fits(self, embedder_name: str, adapter: QueryModel | None, reranker: str = "") -> str:
        """ "" when calibrated for this embedder, adapter and reranker; else what differs."""
        if embedder_name not in self.embedders:
            return f"embedder {embedder_name}"
        if adapter_id(adapter) != self.adapter:
            return "query adapter " + (adapter.about[:60] if adapter is not None else "off")
        if reranker != self.reranker:
            return f"reranker {reranker or 'off'}"
        return ""

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "hit_model": self.hit.to_json(),
            "question_model": self.question.to_json(),
            "threshold": self.threshold,
            "quote_threshold": self.quote_threshold,
            "calibrated_for": {
                "embedders": list(self.embedders),
                "adapter": self.adapter,
                "reranker": self.reranker,
            },
            "depth": self.depth,
            "max_quoted": self.max_quoted,
            "about": self.about,
            "cv": self.cv or {},
        }

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=1)
        Path(path).write_text(text + "\n", encoding="utf-8")


def _linear(data: dict, allowed: set[str]) -> Linear:
    features = tuple(str(f) for f in data["features"])
    unknown = set(features) - allowed
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}")
    arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
    if not features or any(a.shape != (len(features),) for a in arrays):
        raise ValueError("mean/scale/coef must have one value per feature")
    if not all(np.isfinite(a).all() for a in arrays) or (arrays[1] <= 0).any():
        raise ValueError("non-finite values or a scale <= 0")
    return Linear(features, *arrays, float(data["intercept"]))


def read_decider(path: Path | str) -> Decider:
    """Load a decision-model file. Raises PolicyQAError naming what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        hit_names = set(BASE_FEATURES) | set(RERANK_FEATURES)
        hit = _linear(data["hit_model"], hit_names)
        question = _linear(data["question_model"], hit_names | set(QUESTION_EXTRA))
        threshold, quote = float(data["threshold"]), float(data["quote_threshold"])
        if not (0.0 < threshold < 1.0 and 0.0 < quote <= 1.0):
            raise ValueError(f"thresholds {threshold}, {quote} outside (0, 1)")
        calibrated = data["calibrated_for"]
        embedders = tuple(str(e) for e in calibrated["embedders"])
        if not embedders:
            raise ValueError("calibrated_for.embedders is empty")
        depth, max_quoted = int(data.get("depth", 5)), int(data.get("max_quoted", 3))
        if depth < 1 or max_quoted < 1:
            raise ValueError("depth and max_quoted must be >= 1")
        return Decider(
            hit,
            question,
            threshold,
            quote,
            embedders,
            str(calibrated.get("adapter", "")),
            str(calibrated.get("reranker", "")),
            depth,
            max_quoted,
            str(data.get("about", "")),
            dict(data.get("cv", {})),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyQAError(
            f"无法读取判定模型 {path}：{exc} / cannot read decision model file"
        ) from exc


@functools.cache
def packaged_decider() -> Decider:
    """The decision model shipped in the package (read once per process)."""
    with resources.as_file(resources.files("assistant") / "data" / PACKAGED) as path:
        return read_decider(path)


CALIBRATE = (
    "判定模型未针对当前{what}校准，已改用默认相关性阈值；请用 bench/train_decider.py "
    "在本单位带标注的问题上校准 / the decision model was not calibrated for this {what}: "
    "using the plain relevance gate; calibrate one on your own labelled questions "
    "with bench/train_decider.py"
)


def decider_for(
    spec: str, embedder_name: str, adapter: QueryModel | None, reranker: str = ""
) -> tuple[Decider | None, str]:
    """The decision model a setting asks for (``auto``: the packaged one; ``off``; a path) and,
    when none is used although one was asked for, a message saying to calibrate one."""
    spec = (spec or "auto").strip()
    if spec.lower() in ("off", "none", "false", "0"):
        return None, ""
    decider = (
        packaged_decider() if spec.lower() == "auto" else read_decider(Path(spec).expanduser())
    )
    why = decider.fits(embedder_name, adapter, reranker)
    if why:
        return None, CALIBRATE.format(what=why)
    return decider, ""

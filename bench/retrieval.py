"""Retrieval quality and latency on a gold-labelled question set (STARD dev by default).

    python bench/retrieval.py --index DIR [--queries ../shared/data/stard/dev.jsonl]
                              [--variants dense,bm25,hybrid] [--adapter auto|off|PATH]
                              [--reranker off|auto|maxsim|builtin|PATH] [--latency]

Prints Recall@5 / Recall@10 / Hit@5 / MRR@10 and refusal rates for each variant (dense-only and
BM25-only are the same retriever with the other weight set to 0), and, with --latency, retrieval
and extractive-answer latency p50/p95 after warm-up. Query vectors are computed once and shared
by all variants. With ``--reranker`` every variant (and the latency) is measured twice, without
and with that cross-encoder reordering its first hits (assistant/rerank.py), in one process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.adapter import adapter_for  # noqa: E402
from assistant.answer import extractive  # noqa: E402
from assistant.evaluation import evaluate, read_queries  # noqa: E402
from assistant.rerank import reranker_for  # noqa: E402
from assistant.retrieval import RetrievalConfig, Retriever  # noqa: E402
from ingest.embedding import load_embedder, model_for  # noqa: E402
from ingest.index import open_current  # noqa: E402

VARIANTS = {
    "dense": {"bm25_weight": 0.0, "doc_weight": 0.0, "mention_boost": 0.0},
    "bm25": {"dense_weight": 0.0, "doc_weight": 0.0, "mention_boost": 0.0},
    "rrf": {"fusion": "rrf", "doc_weight": 0.0, "mention_boost": 0.0},  # plain RRF, k = 60
    "rrf-hybrid": {"fusion": "rrf", "mention_boost": 0.02},  # the default until convex fusion
    "convex": {"fusion": "convex", "doc_weight": 0.0, "mention_boost": 0.0},
    "hybrid": {},  # the shipped default: convex + exact citations + named-regulation boost
    "dense-plain": {
        "bm25_weight": 0.0,
        "doc_weight": 0.0,
        "mention_boost": 0.0,
        "use_adapter": False,
    },  # dense without the query adapter
    "hybrid-plain": {"use_adapter": False},  # the default without the query adapter
}


class CachedEmbedder:
    """Wraps an embedder and memoises query vectors (variants share them)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.cache = inner, inner.name, inner.dim, {}

    def embed_query(self, text: str):
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]

    def embed_documents(self, texts, progress=None):
        return self.inner.embed_documents(texts, progress)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _value(key: str, text: str):
    """A --set value typed like the RetrievalConfig field it overrides."""
    kind = type(getattr(RetrievalConfig(), key))
    if kind is bool:
        return text.lower() in ("1", "true", "yes")
    return text if kind is str else int(text) if kind is int else float(text)


def latency(base: Retriever, embedder: CachedEmbedder, questions: list[str], chunks: int) -> dict:
    """Retrieval and extractive-answer wall times, and the answer's CPU time (all threads)."""
    for q in questions[:10]:
        base.search(q, 10)
    fresh = CachedEmbedder(embedder.inner)  # latency includes embedding the query
    base.embedder = fresh
    search_ms, answer_ms, cpu_ms = [], [], []
    for q in questions:
        t, cpu = time.perf_counter(), time.process_time()
        result = base.search(q, 8)
        search_ms.append((time.perf_counter() - t) * 1000)
        extractive(q, result)
        answer_ms.append((time.perf_counter() - t) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        fresh.cache.clear()
    base.embedder = embedder
    return {
        "chunks": chunks,
        "questions": len(questions),
        "retrieval_p50": round(statistics.median(search_ms), 1),
        "retrieval_p95": round(percentile(search_ms, 95), 1),
        "answer_p50": round(statistics.median(answer_ms), 1),
        "answer_p95": round(percentile(answer_ms, 95), 1),
        "answer_cpu_p50": round(statistics.median(cpu_ms), 1),
        "answer_cpu_p95": round(percentile(cpu_ms, 95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=ROOT.parent / "shared/data/stard/dev.jsonl")
    parser.add_argument("--variants", default="dense-plain,dense,bm25,hybrid-plain,hybrid")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--adapter", default="auto", help="query adapter: auto | off | PATH")
    parser.add_argument(
        "--reranker", default="off", help="reranker: off | auto | maxsim | builtin | PATH"
    )
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--latency-questions", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    gen = open_current(args.index)
    embedder = CachedEmbedder(load_embedder(model_for(gen.embedder["name"]), args.models_dir))
    overrides = {k: _value(k, v) for k, v in (s.split("=", 1) for s in args.set)}
    queries = read_queries(args.queries)
    adapter = adapter_for(args.adapter, embedder.name, embedder.dim)
    print(f"query adapter: {adapter.about if adapter else 'none'}")
    reranker = reranker_for(args.reranker, args.models_dir, embedder.inner)
    print(f"reranker: {reranker.spec if reranker else 'none'}")
    base = Retriever(gen, embedder, replace(RetrievalConfig(), **overrides), adapter, reranker)
    results = {}
    rerankers = {"": None} if reranker is None else {"": None, "+rerank": reranker}
    for name in args.variants.split(","):
        base.config = replace(RetrievalConfig(), **{**overrides, **VARIANTS[name]})
        for suffix, chosen in rerankers.items():
            base.reranker = chosen
            report = evaluate(queries, lambda q: base.search(q, 10), 10)
            results[name + suffix] = report.to_json()
            print(f"{name + suffix:12s} " + "  ".join(report.lines()[1:]), flush=True)
    if args.latency:
        base.config = replace(RetrievalConfig(), **overrides)
        questions = [q.question for q in queries][: args.latency_questions]
        for suffix, chosen in rerankers.items():
            base.reranker = chosen
            results["latency_ms" + suffix] = latency(base, embedder, questions, len(gen.chunks))
            print("latency" + suffix, json.dumps(results["latency_ms" + suffix]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()

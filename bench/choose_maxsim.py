"""Choose the MaxSim reranker's depth, weight and passage length (assistant/maxsim.py) on
training questions.

    python bench/choose_maxsim.py \\
        --set GOLD_IDX ../shared/data/stard/train.jsonl \\
        --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \\
        --set JIANGYU_IDX bench/data/orgs/jiangyu/questions.jsonl \\
        --set NINGCHUAN_IDX bench/data/orgs/ningchuan/questions.jsonl \\
        --vectors VECS --adapter-folds DIR [--tokens 128,192] [--depths 5,10] [--weights 0,4,8,16]

Every question is searched as ``bench/choose_fusion.py`` does (the query adapter's fold model
that never saw it; query vectors from ``bench/query_vectors.py``), its first max(--depths) hits scored once
per passage length with the shipped MaxSim code, and every (depth, weight) reordering scored
offline: top-1 gold rate and MRR@10 per set, and the combination with the best mean MRR@10 over
the sets (each set counts once, whatever its size). Nothing is trained, so there are no folds:
the three numbers are chosen on these sets. Never pass a test/dev file here.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from query_vectors import read_vectors  # noqa: E402
from train_decider import is_gold, search_set  # noqa: E402

from assistant.evaluation import read_queries  # noqa: E402
from assistant.maxsim import MaxSimReranker, MaxSimSpec, reorder  # noqa: E402
from assistant.rerank import reranker_for  # noqa: E402


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def candidates(args) -> list[tuple[str, str, list]]:
    """(set name, question, hits with their gold flag) of every answerable question."""
    vectors = read_vectors(args.vectors)
    out = []
    for index, path in args.set:
        queries = read_queries(Path(path))
        name = Path(path).parent.name
        results, *_ = search_set(
            Path(index), queries, vectors, "auto", args.cache, args.adapter_folds, name
        )
        for q, r in zip(queries, results, strict=True):
            if q.gold and r.hits:
                out.append((name, q.question, [(h, is_gold(h, q)) for h in r.hits]))
    return out


def figures(items, scores, depth: int, weight: float) -> dict[str, tuple[float, float]]:
    per_set: dict[str, list[tuple[float, float]]] = {}
    for (name, _, hits), s in zip(items, scores, strict=True):
        gold_of = {h.chunk.id: g for h, g in hits}
        ranked = (
            reorder([h for h, _ in hits], s[:depth], weight) if weight else [h for h, _ in hits]
        )
        flags = [gold_of[h.chunk.id] for h in ranked]
        rr = next((1.0 / (i + 1) for i, g in enumerate(flags) if g), 0.0)
        per_set.setdefault(name, []).append((float(flags[0]), rr))
    return {k: tuple(np.mean(v, axis=0).round(4).tolist()) for k, v in per_set.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", nargs=2, action="append", required=True, metavar=("INDEX", "Q"))
    parser.add_argument("--vectors", type=Path, required=True)
    parser.add_argument("--adapter-folds", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/choose-maxsim"))
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--tokens", default="128")
    parser.add_argument("--depths", default="5,10")
    parser.add_argument("--weights", default="0,2,4,8,16,32")
    args = parser.parse_args()
    items = candidates(args)
    base = reranker_for("maxsim", args.models_dir)
    best = None
    depths = [int(d) for d in args.depths.split(",")]
    for tokens in [int(t) for t in args.tokens.split(",")]:
        model = MaxSimReranker(base.model, replace(MaxSimSpec(), max_tokens=tokens))
        scores = [model.score(q, [h.chunk for h, _ in hits[: max(depths)]]) for _, q, hits in items]
        for depth, weight in itertools.product(depths, _floats(args.weights)):
            got = figures(items, scores, depth, weight)
            mean = float(np.mean([mrr for _, mrr in got.values()]))
            print(f"tokens {tokens} depth {depth} weight {weight}: {got} mean MRR@10 {mean:.4f}")
            if best is None or mean > best[0] + 1e-9:
                best = (mean, tokens, depth, weight)
    print(f"chosen: tokens {best[1]} depth {best[2]} weight {best[3]} (mean MRR@10 {best[0]:.4f})")


if __name__ == "__main__":
    main()

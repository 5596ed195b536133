"""Choose the hybrid fusion's dense share (``RetrievalConfig.alpha``) on training questions.

    python bench/choose_fusion.py \
        --set GOLD_IDX ../shared/data/stard/train.jsonl \
        --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \
        --vectors VECS --adapter-folds DIR [--alphas 0.5,0.6,0.7,0.8,0.9]

Every training question is searched with the packaged query adapter's fold model that never saw
it (``bench/train_adapter.py --folds-out DIR``), so its dense ranking is that of a new question;
query vectors come from ``bench/query_vectors.py``. With ``--adapter off`` the vectors are used
as they are (out-of-fold tuned query vectors: ``bench/train_query_lora.py --oof-vectors``). Prints Recall@5 / MRR@10 per set and alpha,
and the alpha with the best mean of (Recall@5 + MRR@10) / 2 over the sets. Never pass a test/dev
file here: report those with ``policyqa eval`` afterwards.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from query_vectors import KnownVectors, read_vectors  # noqa: E402
from train_decider import fold_adapters  # noqa: E402

from assistant.adapter import adapter_for  # noqa: E402
from assistant.evaluation import evaluate, read_queries  # noqa: E402
from assistant.retrieval import RetrievalConfig, Retriever  # noqa: E402
from ingest.index import open_current  # noqa: E402


def figures(
    index: Path, path: Path, vectors, folds: Path | None, alphas: list[float], adapter_spec: str
) -> dict:
    gen = open_current(index).load_all()
    name, dim = gen.embedder["name"], int(gen.embedder["dim"])
    adapter = adapter_for(adapter_spec, name, dim)
    queries = [q for q in read_queries(path) if q.gold]
    per_question = [adapter] * len(queries)
    if folds is not None and adapter is not None:
        per_question = fold_adapters(folds, path.parent.name, queries, adapter)
    adapter_of = {q.question: a for q, a in zip(queries, per_question, strict=True)}
    retriever = Retriever(gen, KnownVectors(name, dim, vectors), adapter=adapter)
    out = {}
    for alpha in alphas:
        retriever.config = replace(RetrievalConfig(), alpha=alpha)

        def search(question: str):
            retriever.adapter = adapter_of[question]
            return retriever.search(question.strip()[:2000], 10)

        out[alpha] = evaluate(queries, search, 10)
        print(f"{path.parent.name} alpha {alpha}: {out[alpha].lines()[1]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"))
    parser.add_argument("--vectors", type=Path, required=True)
    parser.add_argument("--adapter-folds", type=Path)
    parser.add_argument("--alphas", default="0.5,0.6,0.7,0.8,0.9")
    parser.add_argument(
        "--adapter",
        default="auto",
        help="off: the vectors are final (e.g. out-of-fold tuned query vectors from "
        "bench/train_query_lora.py --oof-vectors)",
    )
    args = parser.parse_args()
    vectors = read_vectors(args.vectors)
    alphas = [float(a) for a in args.alphas.split(",")]
    per_set = [
        figures(Path(i), Path(q), vectors, args.adapter_folds, alphas, args.adapter)
        for i, q in args.set
    ]
    score = {a: np.mean([(f[a].recall5 + f[a].mrr10) / 2 for f in per_set]) for a in alphas}
    for a in alphas:
        print(f"alpha {a}: mean (R@5 + MRR@10) / 2 = {score[a]:.4f}")
    print(f"chosen: alpha {max(alphas, key=score.__getitem__)}")


if __name__ == "__main__":
    main()

"""Choose hybrid-retrieval settings (``RetrievalConfig`` fields: the fusion's dense share
``alpha``, the BM25 bigram weights ``bigram_weight`` / ``across_weight`` …) on training questions.

    python bench/choose_fusion.py \
        --set GOLD_IDX ../shared/data/stard/train.jsonl \
        --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \
        --vectors VECS --adapter-folds DIR \
        [--grid alpha=0.5,0.6,0.7,0.8,0.9] [--grid bigram_weight=0,1 --grid across_weight=0,1] \
        [--answers] [--reranker maxsim]

Every training question is searched with the packaged query adapter's fold model that never saw
it (``bench/train_adapter.py --folds-out DIR``), so its dense ranking is that of a new question;
query vectors come from ``bench/query_vectors.py``. With ``--adapter off`` the vectors are used
as they are (out-of-fold tuned query vectors: ``bench/train_query_lora.py --oof-vectors``).
Every combination of the ``--grid`` values is scored (the other fields as shipped); prints
Recall@5 / MRR@10 per set and combination, and the combination with the best mean of
(Recall@5 + MRR@10) / 2 over the sets. ``--answers`` also scores the extractive answer (how
often it cites a gold article) and chooses by the mean cited rate (ties: the retrieval mean).
Never pass a test/dev file here: report those with ``policyqa eval`` afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from query_vectors import KnownVectors, read_vectors  # noqa: E402
from train_decider import fold_adapters  # noqa: E402

from assistant import answer as answers  # noqa: E402
from assistant.adapter import adapter_for  # noqa: E402
from assistant.evaluation import evaluate, read_queries  # noqa: E402
from assistant.rerank import reranker_for  # noqa: E402
from assistant.retrieval import RetrievalConfig, Retriever  # noqa: E402
from ingest.index import open_current  # noqa: E402

Choice = tuple[tuple[str, float], ...]


def figures(index: Path, path: Path, vectors, args, choices: list[Choice]) -> dict:
    gen = open_current(index).load_all()
    name, dim = gen.embedder["name"], int(gen.embedder["dim"])
    adapter = adapter_for(args.adapter, name, dim)
    queries = [q for q in read_queries(path) if q.gold]
    per_question = [adapter] * len(queries)
    if args.adapter_folds is not None and adapter is not None:
        per_question = fold_adapters(args.adapter_folds, path.parent.name, queries, adapter)
    adapter_of = {q.question: a for q, a in zip(queries, per_question, strict=True)}
    reranker = reranker_for(args.reranker, args.models_dir)
    retriever = Retriever(gen, KnownVectors(name, dim, vectors), adapter=adapter, reranker=reranker)
    out = {}
    for choice in choices:
        retriever.config = replace(RetrievalConfig(), **dict(choice))
        out[choice] = _score(retriever, adapter_of, queries, args.answers)
        lines = out[choice].lines()
        print(f"{path.parent.name} {_label(choice)}: {lines[1]}  {lines[3:]}", flush=True)
    return out


def _score(retriever: Retriever, adapter_of: dict, queries, with_answers: bool):
    """Each question searched once with its own adapter; its extractive answer, if asked."""
    found: dict[str, object] = {}

    def search(question: str):
        if question not in found:
            retriever.adapter = adapter_of[question]
            found[question] = retriever.search(question.strip()[:2000], 10)
        return found[question]

    def answer(question: str):
        return answers.extractive(question, search(question), "")

    return evaluate(queries, search, 10, answer if with_answers else None)


def _label(choice: Choice) -> str:
    return " ".join(f"{k}={v:g}" for k, v in choice)


def _grid(specs: list[str]) -> list[Choice]:
    known = {f.name for f in fields(RetrievalConfig)}
    axes = []
    for spec in specs:
        key, _, values = spec.partition("=")
        if key not in known or not values:
            raise SystemExit(
                f"--grid {spec}: expected FIELD=V1,V2 with FIELD one of {sorted(known)}"
            )
        axes.append([(key, float(v)) for v in values.split(",")])
    return [tuple(c) for c in itertools.product(*axes)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"))
    parser.add_argument("--vectors", type=Path, required=True)
    parser.add_argument("--adapter-folds", type=Path)
    parser.add_argument("--grid", action="append", metavar="FIELD=V1,V2,...")
    parser.add_argument("--alphas", help="shorthand for --grid alpha=...")
    parser.add_argument("--answers", action="store_true", help="choose by cited gold articles")
    parser.add_argument("--reranker", default="off", help="off | maxsim | builtin | PATH")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument(
        "--adapter",
        default="auto",
        help="off: the vectors are final (e.g. out-of-fold tuned query vectors from "
        "bench/train_query_lora.py --oof-vectors)",
    )
    args = parser.parse_args()
    specs = (args.grid or []) + ([f"alpha={args.alphas}"] if args.alphas else [])
    choices = _grid(specs or ["alpha=0.5,0.6,0.7,0.8,0.9"])
    vectors = read_vectors(args.vectors)
    per_set = [figures(Path(i), Path(q), vectors, args, choices) for i, q in args.set]
    retrieval = {c: np.mean([(f[c].recall5 + f[c].mrr10) / 2 for f in per_set]) for c in choices}
    cited = {c: np.mean([f[c].cited_gold_rate or 0.0 for f in per_set]) for c in choices}
    for c in choices:
        extra = f", mean cited {cited[c]:.4f}" if args.answers else ""
        print(f"{_label(c)}: mean (R@5 + MRR@10) / 2 = {retrieval[c]:.4f}{extra}")
    key = (lambda c: (cited[c], retrieval[c])) if args.answers else retrieval.__getitem__
    print(f"chosen: {_label(max(choices, key=key))}")


if __name__ == "__main__":
    main()

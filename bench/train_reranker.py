"""Train the cross-encoder reranker (assistant/rerank.py) and measure it by cross-validation.

    python bench/train_reranker.py --stard-index GOLD_IDX --office-index OFFICE_IDX \\
        [--cv 3] [--out assistant/data/e5-small-reranker.safetensors]

Data (train files only; STARD dev and office-dev test are never read here):
  ../shared/data/stard/train.jsonl (600 questions) over GOLD_IDX, the 140-law STARD subset
  (``python bench/ingest.py --gold-subset --index GOLD_IDX``), and the answerable questions of
  ../shared/data/office-dev/train.jsonl (268) over OFFICE_IDX, the 43 office regulations
  (``policyqa ingest ../shared/data/office-regulations --index OFFICE_IDX``); both indexes built
  with the built-in embedder.

Candidates are mined with the shipped hybrid retriever (default settings, packaged query
adapter). Each training group is one gold article against ``--negatives`` non-gold ones drawn
from the retriever's top ``--pool`` hits and from the gold article's neighbours in the same
regulation (two articles either side), scored with a softmax cross-entropy over the group.
Model: the first ``--layers`` layers of the built-in e5-small; only layers ``--train-from`` ..
``--layers``-1 and the score head are trained (AdamW, linear warm-up and decay).

With ``--cv K`` the questions (both sets together, shuffled with ``--seed``) are split into K
folds; each fold is reranked by a model trained on the other folds only, and every (depth,
weight) pair of ``--depths`` x ``--weights`` is scored on those held-out rankings. The best pair
by (Recall@5 + MRR@10) / 2 over the held-out questions is what ``--out`` stores with the model
trained on all questions. ``--holdout`` runs the first fold only and ``--out`` then writes that
fold's model, so the held-out figures are those of the shipped file (what the packaged one
used, for cost: ``--cv 3 --holdout``, defaults otherwise, seed 0; BENCHMARKS.md). Deterministic
for a given ``--seed`` on one machine.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import pickle
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from query_vectors import KnownVectors, read_vectors  # noqa: E402

from assistant.adapter import adapter_for  # noqa: E402
from assistant.citations import normalise_title  # noqa: E402
from assistant.evaluation import Query, evaluate, read_queries  # noqa: E402
from assistant.rerank import (  # noqa: E402
    CrossEncoder,
    RerankerSpec,
    _quantize,
    load_reranker,
    pair_text,
    reorder,
    save_reranker,
)
from assistant.retrieval import Retriever, SearchResult  # noqa: E402
from ingest.builtin_model import ensure_builtin_model  # noqa: E402
from ingest.embedding import load_embedder, model_for  # noqa: E402
from ingest.index import open_current  # noqa: E402
from ingest.records import Chunk  # noqa: E402

DATA = ROOT.parent / "shared/data"
TRAINING_ARGS = (
    "layers",
    "train_from",
    "max_length",
    "max_query_tokens",
    "pool",
    "negatives",
    "epochs",
    "batch",
    "lr",
    "head_lr",
    "seed",
    "cv",
    "holdout",
    "datasets",
)


@dataclass
class Item:
    """One training question with its hybrid ranking and its sampling pools."""

    query: Query
    dataset: str
    result: SearchResult  # the hybrid top ``pool`` hits
    positives: list[Chunk]
    hard: list[Chunk]  # non-gold hits of the hybrid ranking
    neighbours: list[Chunk]  # non-gold articles next to a gold one in the same regulation


def is_gold(chunk: Chunk, gold: set[tuple[str, str]]) -> bool:
    title = normalise_title(chunk.title)
    return any(title == normalise_title(t) and a in chunk.articles for t, a in gold)


def mine(
    index: Path,
    queries: list[Query],
    dataset: str,
    models_dir: Path,
    pool: int,
    vectors: dict | None = None,
) -> list[Item]:
    gen = open_current(index)
    embedder = load_embedder(model_for(gen.embedder["name"]), models_dir)
    if vectors:
        embedder = KnownVectors(embedder.name, embedder.dim, vectors, embedder)
    retriever = Retriever(gen, embedder, adapter=adapter_for("auto", embedder.name, embedder.dim))
    chunks = retriever.gen.chunks
    where: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(chunks):
        for label in c.articles:
            where.setdefault((normalise_title(c.title), label), []).append(i)
    items = []
    for q in queries:
        gold = set(q.gold or ())
        result = retriever.search(q.question.strip()[:2000], pool)
        rows = sorted({r for t, a in gold for r in where.get((normalise_title(t), a), [])})
        near = []
        for r in rows:
            doc = retriever.rows_of_doc[chunks[r].doc_id]
            at = doc.index(r)
            near += [doc[j] for j in range(max(0, at - 2), min(len(doc), at + 3))]
        near = [chunks[r] for r in dict.fromkeys(near) if not is_gold(chunks[r], gold)]
        hard = [h.chunk for h in result.hits if not is_gold(h.chunk, gold)]
        items.append(Item(q, dataset, result, [chunks[r] for r in rows], hard, near))
    return [it for it in items if it.positives]


def groups_for(items: list[Item], negatives: int, rng: random.Random):
    """(question, [positive, negatives...]) per item: neighbours first (up to half)."""
    out = []
    for it in items:
        near = rng.sample(it.neighbours, min(len(it.neighbours), negatives // 2))
        seen = {c.id for c in near}
        rest = [c for c in it.hard if c.id not in seen]
        chosen = near + rng.sample(rest, min(len(rest), negatives - len(near)))
        while len(chosen) < negatives:  # tiny regulations: repeat a negative
            chosen.append(chosen[-1] if chosen else rng.choice(it.positives))
        out.append((it.query.question, [rng.choice(it.positives), *chosen]))
    return out


def train(items: list[Item], base: Path, spec: RerankerSpec, args) -> CrossEncoder:
    import torch

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = CrossEncoder(base, spec)
    encoder, head = model.modules()
    for p in encoder.parameters():
        p.requires_grad = False
    body = [p for i in spec.trained_layers for p in encoder.encoder.layer[i].parameters()]
    for p in body:
        p.requires_grad = True
    opt = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    steps = args.epochs * math.ceil(len(items) / args.batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    encoder.train()
    head.train()
    started, step, running = time.perf_counter(), 0, []
    for _ in range(args.epochs):
        order = items[:]
        rng.shuffle(order)
        groups = groups_for(order, args.negatives, rng)
        for start in range(0, len(groups), args.batch):
            part = groups[start : start + args.batch]
            qs = [q for q, cs in part for _ in cs]
            ps = [pair_text(c) for _, cs in part for c in cs]
            logits = model.forward(model.encode(qs, ps)).view(len(part), -1)
            loss = torch.nn.functional.cross_entropy(
                logits, torch.zeros(len(part), dtype=torch.long)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running.append(float(loss))
            if step % 25 == 0 or step == steps:
                print(
                    f"  step {step}/{steps} loss {np.mean(running[-25:]):.3f} "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    encoder.eval()
    head.eval()
    return model


def score_items(model: CrossEncoder, items: list[Item], depth: int) -> list[np.ndarray]:
    """Reranker logits of each item's first ``depth`` hybrid hits (int8, as at run time)."""
    import torch

    scorer = copy.deepcopy(model)
    _quantize(scorer)
    out = []
    with torch.inference_mode():
        for it in items:
            hits = it.result.hits[:depth]
            batch = scorer.encode(
                [it.query.question] * len(hits), [pair_text(h.chunk) for h in hits]
            )
            out.append(scorer.forward(batch).float().numpy() if hits else np.zeros(0))
    return out


def report(items: list[Item], scores: list[np.ndarray] | None, depth: int, weight: float):
    """Retrieval figures over ``items`` for the hybrid order (scores None) or a reranked one."""
    by_q = {}
    for i, it in enumerate(items):
        hits = it.result.hits
        if scores is not None:
            hits = tuple(reorder(hits, scores[i][:depth], weight))
        by_q[it.query.question] = replace(it.result, hits=tuple(hits[:10]))
    return evaluate([it.query for it in items], by_q.__getitem__, 10)


def choose(items: list[Item], scores: list[np.ndarray], depths, weights):
    base = report(items, None, 0, 0.0)
    print(
        f"  hybrid (no reranking):   R@5 {base.recall5:.3f} MRR@10 {base.mrr10:.3f} -> "
        f"{(base.recall5 + base.mrr10) / 2:.4f}"
    )
    table = []
    for depth in depths:
        for weight in weights:
            rep = report(items, scores, depth, weight)
            table.append(((rep.recall5 + rep.mrr10) / 2, depth, weight, rep))
    for value, depth, weight, rep in table:
        print(
            f"  depth {depth:2d} weight {weight:5.2f}: R@5 {rep.recall5:.3f} "
            f"MRR@10 {rep.mrr10:.3f} -> {value:.4f}"
        )
    return max(table, key=lambda row: (row[0], -row[1], row[2]))


def print_split(title: str, items: list[Item], scores, depth: int, weight: float) -> None:
    for name in ("stard", "office"):
        part = [i for i, it in enumerate(items) if it.dataset == name]
        sub = [items[i] for i in part]
        if not sub:
            continue
        base = report(sub, None, depth, weight)
        line = f"{title} {name:6s} hybrid      {base.lines()[1]}"
        if scores is not None:
            rep = report(sub, [scores[i] for i in part], depth, weight)
            line += f"\n{title} {name:6s} reranked    {rep.lines()[1]}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stard-index", type=Path)
    parser.add_argument("--office-index", type=Path)
    parser.add_argument("--stard-queries", type=Path, default=DATA / "stard/train.jsonl")
    parser.add_argument("--office-queries", type=Path, default=DATA / "office-dev/train.jsonl")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--cv", type=int, default=0, help="folds for cross-validation (0: none)")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="hold out the first of the --cv folds only; --out then writes the "
        "model trained on the other folds (the one those figures are for)",
    )
    parser.add_argument("--out", type=Path, help="write a reranker trained on all questions")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--train-from", type=int, default=2, help="first trained layer")
    parser.add_argument("--max-length", type=int, default=112)
    parser.add_argument("--max-query-tokens", type=int, default=48)
    parser.add_argument("--pool", type=int, default=10, help="hybrid hits mined per question")
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2, help="questions per step")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--depths", default="5,8,10")
    parser.add_argument("--weights", default="0,1,2,4,8,16")
    parser.add_argument("--depth", type=int, help="store this depth (default: chosen by --cv)")
    parser.add_argument("--weight", type=float, help="store this weight (default: by --cv)")
    parser.add_argument("--limit", type=int, default=0, help="use the first N questions (smoke)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--datasets", default="stard,office", help="which train sets to use")
    parser.add_argument("--mined", type=Path, help="folder caching the mined candidates")
    parser.add_argument("--vectors", type=Path, help="query vectors from bench/query_vectors.py")
    parser.add_argument("--score-with", type=Path, help="only rerank the questions with this file")
    parser.add_argument("--scores", type=Path, help="write the held-out scores here (npz)")
    args = parser.parse_args()
    if args.out and not args.cv and (args.depth is None or args.weight is None):
        parser.error("--out needs --cv, or --depth and --weight")
    if args.holdout and not args.cv:
        parser.error("--holdout needs --cv K (it holds out 1/K of the questions)")
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    stard = [q for q in read_queries(args.stard_queries) if q.gold]
    office = [q for q in read_queries(args.office_queries) if q.gold]
    if args.limit:
        stard, office = stard[: args.limit], office[: args.limit // 2]
    vectors = read_vectors(args.vectors) if args.vectors else None
    items = []
    for name, index, queries in (
        ("stard", args.stard_index, stard),
        ("office", args.office_index, office),
    ):
        if name not in args.datasets.split(","):
            continue
        cache = args.mined / f"{name}.pkl" if args.mined else None
        if cache is not None and cache.is_file():  # the same questions mined by an earlier run
            items += pickle.loads(cache.read_bytes())
            continue
        mined = mine(index, queries, name, args.models_dir, args.pool, vectors)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(mined))
        items += mined
    print(
        f"mined {len(items)} questions with gold articles in {time.perf_counter() - started:.0f} s"
        f" ({sum(len(it.neighbours) > 0 for it in items)} with neighbours)",
        flush=True,
    )
    base = ensure_builtin_model(args.models_dir)
    spec = RerankerSpec(
        args.layers,
        tuple(range(args.train_from, args.layers)),
        args.max_length,
        args.max_query_tokens,
    )
    depths = [int(d) for d in args.depths.split(",") if int(d) <= args.pool]
    weights = [float(w) for w in args.weights.split(",")]
    depth, weight = args.depth, args.weight
    model, order = None, np.random.default_rng(args.seed).permutation(len(items))
    if args.score_with:  # a trained file on these (unseen) questions
        scorer = load_reranker(args.score_with, args.models_dir, quantize=False).model
        scores = score_items(scorer, items, max(depths))
        _, depth, weight, _ = choose(items, scores, depths, weights)
        print_split(f"{args.score_with.name}:", items, scores, depth, weight)
    if args.cv:
        folds = np.array_split(order, args.cv)[: 1 if args.holdout else args.cv]
        scored: dict[int, np.ndarray] = {}
        for n, fold in enumerate(folds, start=1):
            held = set(fold.tolist())
            t = time.perf_counter()
            model = train([it for i, it in enumerate(items) if i not in held], base, spec, args)
            part = [items[i] for i in fold]
            scored.update(zip(fold.tolist(), score_items(model, part, max(depths)), strict=True))
            print(f"fold {n}/{args.cv}: {time.perf_counter() - t:.0f} s", flush=True)
        held_items = [items[i] for i in sorted(scored)]
        scores = [scored[i] for i in sorted(scored)]
        print(f"held out: {len(held_items)} questions")
        _, best_depth, best_weight, _ = choose(held_items, scores, depths, weights)
        depth = best_depth if depth is None else depth
        weight = best_weight if weight is None else weight
        print(f"chosen on held-out questions: depth {depth}, weight {weight}")
        print_split("held-out", held_items, scores, depth, weight)
        if args.scores:
            keys = [f"{it.query.id}|{it.dataset}" for it in held_items]
            np.savez(args.scores, **dict(zip(keys, scores, strict=True)))
    if args.out:
        trained_on = items
        if args.holdout:  # the model trained without the held-out fold
            held = set(np.array_split(order, args.cv)[0].tolist())
            trained_on = [it for i, it in enumerate(items) if i not in held]
        else:
            model = train(items, base, spec, args)
        settings = {k: v for k, v in vars(args).items() if k in TRAINING_ARGS}
        sources = {
            "stard": f"stard/{args.stard_queries.name} over the STARD 140-law subset",
            "office": f"answerable office-dev/{args.office_queries.name} over the 43 "
            "office regulations",
        }
        used = "; ".join(sources[d] for d in dict.fromkeys(it.dataset for it in trained_on))
        about = f"trained on {len(trained_on)} questions ({used}); {json.dumps(settings)}"
        model.spec = replace(spec, depth=depth, weight=weight, about=about)
        save_reranker(model, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

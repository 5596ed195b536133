"""Fine-tune the query side of the built-in embedder (LoRA on its top layers) on training
questions, against the index's fixed chunk vectors; k-fold cross-validation on those questions.

    python bench/train_query_lora.py \
        --set GOLD_IDX ../shared/data/stard/train.jsonl \
        --set OFFICE_IDX ../shared/data/office-dev/train.jsonl \
        --cv 5 --layers 4 --rank 8 --epochs 4 [--oof-vectors OOF.npz] [--out FILE]

Documents keep the vectors they were indexed with (no re-embedding); only the query encoder's top
``--layers`` layers get low-rank deltas. Each question's softmax runs over its own candidates (top
``--candidates`` chunks of its corpus by plain cosine, plus its gold chunks), as in
bench/train_adapter.py. The layers below the tuned ones are frozen, so their output is computed
once per question.

With ``--cv K`` every question is ranked by a model trained on the other folds (same folds as
bench/train_adapter.py for the same --seed); ``--oof-vectors`` writes those out-of-fold query
vectors in bench/query_vectors.py's format, so bench/choose_fusion.py --no-adapter scores the
hybrid search of new questions. ``--out`` trains on all questions and writes the query-tuning file
(assistant/query_tuning.py), its relevance gate calibrated on the cross-validated scores: with
``--null-weight`` each model learns its own "no passage" cosine and the cosine scale drifts
between models, so the gate is calibrated as an offset above each fold model's null and stored
as the final model's null plus that offset.
Never pass a test/dev file here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from train_adapter import candidate_rows, dense_figures, load_sets, report  # noqa: E402

from assistant.adapter import calibrate_gate  # noqa: E402
from assistant.query_tuning import (  # noqa: E402
    QueryTuning,
    TrainingConfig,
    TunedQueryEncoder,
    train_tuning,
)


def fit(encoder, cached, rows, cands, vectors, positives, config) -> QueryTuning:
    """A tuning trained on the questions ``rows`` (indices into the cached bottom states)."""
    rows = list(rows)
    return train_tuning(
        encoder,
        [cached[i] for i in rows],
        vectors,
        cands[rows],
        [positives[i] for i in rows],
        config,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", nargs=2, action="append", metavar=("INDEX", "QUERIES"))
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--temperature", type=float, default=0.02)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--null-weight",
        type=float,
        default=0.0,
        help="train unanswerable questions (gold: []) to fall below a learned cosine (0: off)",
    )
    parser.add_argument("--null-init", type=float, default=0.85)
    parser.add_argument("--max-false-refusals", type=float, default=0.02)
    parser.add_argument("--oof-vectors", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = TrainingConfig(
        layers=args.layers,
        rank=args.rank,
        alpha=args.alpha,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        temperature=args.temperature,
        null_weight=args.null_weight,
        null_init=args.null_init,
        seed=args.seed,
    )
    sets, vectors, items, qvecs, positives, embedder = load_sets(args.set, args.models_dir, None)
    encoder = TunedQueryEncoder(embedder.inner.model)
    cands = candidate_rows(sets, items, qvecs, vectors, positives, args.candidates)
    texts = [q.question.strip()[:2000] for _, q in items]
    t = time.perf_counter()
    cached = encoder.bottom_states(texts, len(encoder.layers) - args.layers)
    print(f"{len(items)} questions; bottom states {time.perf_counter() - t:.0f} s", flush=True)
    every = np.arange(len(items))
    plain = dense_figures(sets, items, every, qvecs, vectors, positives, None)
    print("no tuning", json.dumps(report(sets, items, plain, positives)), flush=True)
    order = np.random.default_rng(args.seed).permutation(len(items))
    folds = np.array_split(order, args.cv)
    oof = np.zeros_like(qvecs)
    shift = np.zeros(len(items))  # each fold model's learned null: its cosines' own zero
    for n, fold in enumerate(folds, start=1):
        t = time.perf_counter()
        tuning = fit(
            encoder, cached, list(np.setdiff1d(order, fold)), cands, vectors, positives, config
        )
        oof[fold] = encoder.finish_numpy(tuning, [cached[i] for i in fold])
        shift[fold] = tuning.null or 0.0
        print(f"fold {n}/{len(folds)}: {time.perf_counter() - t:.0f} s", flush=True)
    tuned = {
        i: (*f[:2], f[2] - shift[i])
        for i, f in dense_figures(sets, items, every, oof, vectors, positives, None).items()
    }
    print("tuned (CV)", json.dumps(report(sets, items, tuned, positives)), flush=True)
    for name, figures in (("plain", plain), ("tuned", tuned)):
        answerable = [figures[i][2] for i in every if items[i][1].gold]
        unanswerable = [figures[i][2] for i in every if not items[i][1].gold]
        if unanswerable:
            for budget in (0.02, 0.05):
                gate, fr, refused = calibrate_gate(answerable, unanswerable, budget)
                print(f"{name} gate at {budget}: {gate} FR {fr:.3f} refused {refused:.3f}")
    if args.oof_vectors:
        np.savez(args.oof_vectors, questions=np.array(texts), vectors=oof.astype(np.float32))
    if args.out:
        answerable = [tuned[i][2] for i in every if items[i][1].gold]
        unanswerable = [tuned[i][2] for i in every if not items[i][1].gold]
        gate, fr, refused = calibrate_gate(answerable, unanswerable, args.max_false_refusals)
        print(f"gate {gate}: false refusals (CV) {fr:.3f}, refused (CV) {refused:.3f}")
        tuning = fit(encoder, cached, every, cands, vectors, positives, config)
        gate = round(gate + (tuning.null or 0.0), 4)  # the offset above the final model's null
        print(f"final model: null {tuning.null}, gate {gate}")
        tuning.save(args.out, gate=gate, embedder=embedder.name, about=vars(args))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

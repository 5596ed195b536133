"""Embed question files once and keep the vectors (npz keyed by question), so that training and
cross-validation scripts never embed a question twice (2-core machines).

    python bench/query_vectors.py --out /tmp/decide/qvecs.npz QUESTIONS.jsonl [...]

Appends to an existing file: questions already in it are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.evaluation import read_queries  # noqa: E402
from ingest.embedding import load_embedder  # noqa: E402


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return dict(zip(data["questions"].tolist(), data["vectors"], strict=True))


def write_vectors(path: Path, vectors: dict[str, np.ndarray]) -> None:
    np.savez(path, questions=np.array(list(vectors)), vectors=np.stack(list(vectors.values())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    args = parser.parse_args()
    vectors = read_vectors(args.out)
    embedder = load_embedder(args.model, args.models_dir, quiet=True)
    for path in args.files:
        todo = [q.question.strip()[:2000] for q in read_queries(path)]
        todo = [q for q in dict.fromkeys(todo) if q not in vectors]
        for n, question in enumerate(todo, start=1):
            vectors[question] = embedder.embed_query(question)
            if n % 50 == 0 or n == len(todo):
                write_vectors(args.out, vectors)
                print(f"{path.name}: {n}/{len(todo)}", flush=True)


if __name__ == "__main__":
    main()

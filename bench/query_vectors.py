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


class KnownVectors:
    """An embedder that answers questions from vectors computed beforehand, embedding the ones it
    lacks with ``inner`` (or stopping with a message when there is no model)."""

    def __init__(self, name: str, dim: int, vectors: dict[str, np.ndarray], inner=None) -> None:
        self.name, self.dim, self.vectors, self.inner = name, dim, vectors, inner

    def embed_query(self, text: str) -> np.ndarray:
        found = self.vectors.get(text)
        if found is not None:
            return found
        if self.inner is None:
            raise SystemExit(f"no cached vector for {text!r}: run bench/query_vectors.py first")
        return self.inner.embed_query(text)


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

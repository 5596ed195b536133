"""A hash-based embedder for tests that exercise plumbing (index generations, locking, CLI output
shape, library operations, crash safety), not retrieval quality.

It implements the ``ingest.embedding.Embedder`` protocol like the real models and is handed to
``run_ingest(..., embedder=)`` / ``Assistant(settings, embedder=)`` the same way. A text's vector
is its character 1- to 3-grams hashed (CRC-32, stable across processes) into ``dim`` signed
buckets, weighted by 1 + log(count), L2-normalised: deterministic, no model to load, milliseconds
per corpus, and texts that share wording still get similar vectors. Tests about what retrieval or
the answers find keep the real built-in model.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

NGRAMS = (1, 2, 3)


class HashEmbedder:
    """Character n-gram hashing into a fixed dimension (the ``Embedder`` protocol)."""

    def __init__(self, dim: int = 384, *, batch_size: int = 32) -> None:
        self.dim = dim
        self.name = f"test:hash-ngram-{dim}"
        self.batch_size = batch_size  # progress is reported per batch, as the real models do

    def _vector(self, text: str) -> np.ndarray:
        grams = Counter(text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1))
        vector = np.zeros(self.dim, dtype=np.float32)
        for gram, count in grams.items():
            h = zlib.crc32(gram.encode("utf-8"))
            sign = 1.0 if h & 0x80000000 else -1.0
            vector[h % self.dim] += sign * (1.0 + math.log(count))
        norm = float(np.linalg.norm(vector))
        if norm == 0:  # an empty text: still a unit vector, as a model would give
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            batch = range(begin, min(begin + self.batch_size, len(texts)))
            for i in batch:
                out[i] = self._vector(texts[i])
            if progress:
                progress(len(batch))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

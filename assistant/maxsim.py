"""Late-interaction reranker: MaxSim over the built-in e5 model's token embeddings.

Each of the question's tokens is matched with its most similar token of the passage (cosines
of the contextual token vectors of the built-in multilingual-e5-small, ``query: `` /
``passage: `` prompts as the model was trained with); the passage's score is the mean of those
best matches (ColBERT's MaxSim, read from a model that was never trained for it). The first
``depth`` hits are reordered by ``fused / best fused + weight x MaxSim``; explicitly cited
articles stay first. Where the pooled vector says "same topic" for several neighbouring
articles, the token matches tell which one says what was asked.

Nothing is trained: the model is the one the index was embedded with (its loaded copy is
reused), and ``depth``, ``weight`` and ``max_tokens`` were chosen on the train question files
(BENCHMARKS.md, fifteenth session). Cost: one forward pass of ``depth`` passages of at most
``max_tokens`` tokens per question (~0.35 s on 2 cores for 5 x 128).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ingest.records import Chunk

from .records import Hit

QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
SKIP_QUERY = 3  # <s>, "query", ":" : the prompt's tokens are not the question's


@dataclass(frozen=True)
class MaxSimSpec:
    depth: int = 5  # hits reordered
    weight: float = 8.0  # MaxSim's weight against the fusion score scaled to its best
    max_tokens: int = 128  # tokens of a passage read
    max_query_tokens: int = 128


class MaxSimReranker:
    """Reorders the first hits by MaxSim (see the module doc). Thread-safe (one lock)."""

    source = "maxsim"

    def __init__(self, model, spec: MaxSimSpec = MaxSimSpec()) -> None:
        self.model = model  # a sentence_transformers.SentenceTransformer (the built-in e5)
        self.spec = spec
        self._lock = threading.Lock()

    @property
    def depth(self) -> int:
        return self.spec.depth

    def _tokens(self, texts: list[str], limit: int):
        """Unit-length contextual token vectors and the mask of real tokens."""
        import torch

        transformer = self.model[0]
        batch = transformer.tokenizer(
            texts, truncation=True, max_length=limit, padding=True, return_tensors="pt"
        )
        out = transformer.auto_model(**batch).last_hidden_state
        return torch.nn.functional.normalize(out, dim=-1), batch["attention_mask"].bool()

    def score(self, question: str, chunks: Sequence[Chunk]) -> np.ndarray:
        """MaxSim of ``question`` against each chunk's embedded text."""
        import torch

        if not chunks:
            return np.zeros(0, np.float32)
        spec = self.spec
        with self._lock, torch.inference_mode():
            q, q_mask = self._tokens([QUERY_PROMPT + question], spec.max_query_tokens)
            q = q[0, SKIP_QUERY:][q_mask[0, SKIP_QUERY:]][:-1]  # the question's tokens, no </s>
            if not len(q):
                return np.zeros(len(chunks), np.float32)
            texts = [PASSAGE_PROMPT + c.embedding_text() for c in chunks]
            p, p_mask = self._tokens(texts, spec.max_tokens)
            p_mask[:, 0] = False  # <s>
            p_mask[torch.arange(len(texts)), p_mask.sum(dim=1)] = False  # </s>
            sims = torch.einsum("qd,npd->nqp", q, p).masked_fill(~p_mask[:, None, :], -2.0)
            return sims.max(dim=2).values.mean(dim=1).float().numpy()

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """The first ``depth`` hits reordered (explicitly cited ones first), the rest after."""
        head = list(hits[: self.depth])
        if len(head) < 2:
            return list(hits)
        scores = self.score(question, [h.chunk for h in head])
        return reorder(hits, scores, self.spec.weight)


def reorder(hits: Sequence[Hit], scores: Sequence[float], weight: float) -> list[Hit]:
    """``hits[:len(scores)]`` by fusion score / the best fusion score + ``weight`` x MaxSim,
    explicit citations first, each given its ``rerank_score`` (the MaxSim); the rest after."""
    n = len(scores)
    head = [replace(h, rerank_score=float(s)) for h, s in zip(hits[:n], scores, strict=True)]
    top = max((h.score for h in head if not h.exact), default=0.0)
    scale = 1.0 / top if top > 0 else 0.0
    key = [
        (not h.exact, -(h.score * scale + weight * h.rerank_score), i) for i, h in enumerate(head)
    ]
    return [head[i] for *_, i in sorted(key)] + list(hits[n:])

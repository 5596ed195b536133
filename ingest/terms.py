"""BM25 terms: jieba search-mode words, character bigrams, normalisation and stop words.

Used by ingestion (chunk terms, cached in the index) and by retrieval (query terms), so both
sides always tokenise the same way. A chunk's terms are its words plus every pair of adjacent
Chinese characters (marked ``§``). A question's pairs come in two kinds (``split_bigrams``):
inside one of its words they match where jieba cut the statute's text otherwise (a word it
kept whole in one and split in the other); across two words they say the words stand together
(会议|人员), which retrieval weighs on its own (``RetrievalConfig.across_weight``).
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from functools import lru_cache
from importlib import resources

from .statutes import ARTICLE_TERM, cn_to_int

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("ingest").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    words = (w for line in text.splitlines() if not line.startswith("#") for w in line.split())
    return frozenset(words)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    with resources.as_file(resources.files("ingest").joinpath("data/userdict.txt")) as path:
        jieba.load_userdict(str(path))
    return jieba


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    text = resources.files("ingest").joinpath("data/synonyms.txt").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and not line.startswith("#"):
            table[words[0]] = tuple(words[1:])
    return table


TERMS_CODE_VERSION = 3


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes whenever tokenisation would: code version, stop words, user dictionary."""
    import hashlib

    h = hashlib.sha256(str(TERMS_CODE_VERSION).encode())
    for name in ("stopwords.txt", "userdict.txt"):
        h.update(resources.files("ingest").joinpath(f"data/{name}").read_bytes())
    return h.hexdigest()[:16]


_CN_COUNT = re.compile(
    r"(?<![第零〇一二两三四五六七八九十百千])([一二两三四五六七八九十百千]+)(?=[年月日天周岁倍次元%％]|个月|个工作日|小时|周岁)"
)


def _arabic(m: re.Match) -> str:
    try:
        return str(cn_to_int(m.group(1)))
    except ValueError:
        return m.group(0)


def normalise(text: str) -> str:
    """NFKC, lower case, and counted Chinese numerals as digits (十年 -> 10年, 两个月 -> 2个月),
    so a colloquial question matches a statute written either way. Ordinals (第十条) stay."""
    return _CN_COUNT.sub(_arabic, unicodedata.normalize("NFKC", text).lower())


def words(text: str) -> list[str]:
    """Search-mode jieba words of ``text`` minus stop words, punctuation and 第X条 labels."""
    return _words(normalise(text))


def _words(normalised: str) -> list[str]:
    stop = stopwords()
    out = []
    for token in _jieba().cut_for_search(normalised):
        token = token.strip()
        if not token or token in stop or not _KEEP.search(token) or ARTICLE_TERM.match(token):
            continue
        out.append(sys.intern(token))  # one copy per distinct term across 60k chunks
    return out


BIGRAM_MARK = "§"
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def bigrams(text: str) -> list[str]:
    """Every pair of adjacent Chinese characters of ``text`` (normalised), marked ``§``."""
    return _bigrams(normalise(text))


def _bigrams(normalised: str) -> list[str]:
    return [
        sys.intern(BIGRAM_MARK + run[i : i + 2])
        for run in _HAN_RUN.findall(normalised)
        for i in range(len(run) - 1)
    ]


def split_bigrams(text: str) -> tuple[list[str], list[str]]:
    """``bigrams(text)`` in two lists: pairs inside one jieba word (休假 of 年休假), and pairs
    across a word boundary (作满 of 工作|满), which only say that two words stand together."""
    normalised = normalise(text)
    ends, pos = set(), 0
    for word in _jieba().cut(normalised):
        pos += len(word)
        ends.add(pos)
    inside, across = [], []
    for m in _HAN_RUN.finditer(normalised):
        for i in range(m.start(), m.end() - 1):
            pair = sys.intern(BIGRAM_MARK + normalised[i : i + 2])
            (across if i + 1 in ends else inside).append(pair)
    return inside, across


def terms(text: str) -> list[str]:
    """A chunk's BM25 terms: its words, then its character bigrams."""
    normalised = normalise(text)
    return _words(normalised) + _bigrams(normalised)


def query_words(text: str) -> list[str]:
    """``words`` plus the statutory words for colloquial ones (年假 -> 年休假)."""
    out = words(text)
    table = synonyms()
    extra = [w for t in out for w in table.get(t, ())]
    return out + [w for w in extra if w not in out]

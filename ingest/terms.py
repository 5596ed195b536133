"""BM25 terms: jieba search-mode segmentation, normalisation and stop words.

Used by ingestion (chunk terms, cached in the index) and by retrieval (query terms), so both
sides always tokenise the same way.
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


TERMS_CODE_VERSION = 2


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


def terms(text: str) -> list[str]:
    """Search-mode jieba terms of ``text`` minus stop words, punctuation and 第X条 labels."""
    stop = stopwords()
    out = []
    for token in _jieba().cut_for_search(normalise(text)):
        token = token.strip()
        if not token or token in stop or not _KEEP.search(token) or ARTICLE_TERM.match(token):
            continue
        out.append(sys.intern(token))  # one copy per distinct term across 60k chunks
    return out


def query_terms(text: str) -> list[str]:
    """``terms`` plus the statutory words for colloquial ones (年假 -> 年休假)."""
    out = terms(text)
    table = synonyms()
    extra = [w for t in out for w in table.get(t, ())]
    return out + [w for w in extra if w not in out]

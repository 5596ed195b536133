"""Recognising document titles and article references in text (questions and answers).

Pure functions over strings; retrieval uses them for exact-citation lookup, answer checking
uses them to verify that every article an answer states is really cited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.officialdoc import number_before
from ingest.statutes import ARTICLE_REF, REGULATION_KINDS, article_label

_BOOK = re.compile(r"《([^》]{2,80})》")
_KINDS = REGULATION_KINDS
_BARE_TITLE = re.compile(rf"[\u4e00-\u9fff、]{{2,40}}?(?:{_KINDS})")
_PREFIX = re.compile(r"中华人民共和国")
_DATE_SUFFIX = re.compile(r"[（(]\d{4}(?:-\d{1,2}-\d{1,2}|年[^）)]*)[)）]\s*$")
_YEAR = re.compile(r"(19\d{2}|20\d{2})\s*年")


def normalise_title(title: str) -> str:
    """Title as compared everywhere: no 中华人民共和国, no 《》, no date suffix, no spaces."""
    title = _DATE_SUFFIX.sub("", title.strip())
    title = _PREFIX.sub("", title)
    return re.sub(r"[\s《》〈〉<>]", "", title)


def article_refs(text: str) -> list[str]:
    """All article labels stated in ``text``, normalised (第33条 -> 第三十三条), in order."""
    out = []
    for m in ARTICLE_REF.finditer(text):
        try:
            out.append(article_label(m.group(1), m.group(2)))
        except ValueError:
            continue
    return out


def named_years(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text)]


def title_mentions(text: str) -> list[str]:
    """Raw document names a text mentions: 《…》 first, then runs of characters ending in
    法/条例/办法/… (to be resolved with ``resolve_title``, which tries their suffixes)."""
    names = [m.group(1) for m in _BOOK.finditer(text)]
    rest = ARTICLE_REF.sub(" ", _BOOK.sub(" ", text))
    names += [m.group(0) for m in _BARE_TITLE.finditer(rest)]
    return [n for n in names if len(normalise_title(n)) >= 2]


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def match_titles(name: str, titles: Iterable[str]) -> list[str]:
    """Normalised titles that ``name`` designates: exact, then containing it, then abbreviations
    (its characters in order, same kind of document). Most specific (shortest) first."""
    name = normalise_title(name)
    titles = list(dict.fromkeys(titles))
    if name in titles:
        return [name]
    contains = sorted((t for t in titles if name in t), key=len)
    if contains:
        return contains
    kind = re.search(rf"(?:{_KINDS})$", name)
    if len(name) < 3 or not kind:
        return []
    abbrev = [t for t in titles if t.endswith(kind.group(0)) and _subsequence(name, t)]
    return sorted(abbrev, key=len)


def resolve_title(raw: str, titles: Iterable[str]) -> list[str]:
    """Titles designated by ``raw``, trying its suffixes from the longest: '我想问年休假条例'
    -> '年休假条例' -> ['职工带薪年休假条例']."""
    raw = normalise_title(raw)
    titles = list(titles)
    for begin in range(0, max(1, len(raw) - 1)):
        found = match_titles(raw[begin:], titles)
        if found:
            return found
    return []


def explicit_citations(text: str) -> list[tuple[str, str]]:
    """(raw document name, article label) pairs written as 《X》第N条, X第N条 or 文号第N条
    (the name is then the normalised 文号, 国办发〔2024〕12号); the name is '' when the article
    stands alone ("第三条是什么意思")."""
    pairs = []
    for m in ARTICLE_REF.finditer(text):
        before = text[max(0, m.start() - 60) : m.start()].rstrip(" 　的中里")
        book = list(_BOOK.finditer(before))
        name = number_before(before)  # 国办发〔2024〕12号第三条: the document by its 文号
        if name:
            pass
        elif book and book[-1].end() == len(before):
            name = book[-1].group(1)
        else:
            bare = re.search(rf"[\u4e00-\u9fff、]{{2,40}}(?:{_KINDS})$", before)
            name = bare.group(0) if bare else ""
        try:
            pairs.append((name, article_label(m.group(1), m.group(2))))
        except ValueError:
            continue
    return pairs

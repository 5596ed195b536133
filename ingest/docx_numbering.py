"""The labels Word's automatic numbering prints in front of paragraphs (第一条, 第二章, （一）, 1.).

A regulation typed in Word often numbers its articles with a list whose level text is
``第%1条`` in Chinese counting: the label is not in the paragraph's text, so python-docx reads
``为了加强……`` where the page shows ``第一条　为了加强……``, and every article label is lost (a
.doc or .wps converted by LibreOffice keeps its numbering the same way). ``Numbering`` renders the
label of each numbered paragraph in document order, as Word and LibreOffice print it: counters per
list (``abstractNum``), a level restarting after a higher one unless ``lvlRestart`` says
otherwise, ``startOverride`` on a list instance, numbering inherited from the paragraph's style,
and the number formats a Chinese document uses. Bullets are not labels and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docx.oxml.ns import qn

from .statutes import int_to_cn

_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"))
_ROMAN += ((50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
_PLACEHOLDER = re.compile(r"%([1-9])")


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out += letters * count
    return out


def _letters(n: int) -> str:  # a, b, … z, aa, bb (Word repeats the letter)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _legal(n: int) -> str:
    digits = dict(zip("零一二三四五六七八九", _LEGAL, strict=True))
    units = {"十": "拾", "百": "佰", "千": "仟"}
    text = "".join(digits.get(ch) or units.get(ch, ch) for ch in int_to_cn(n))
    return "壹" + text if text.startswith("拾") else text  # 10 is 壹拾


FORMATS = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: "".join(chr(ord(d) + 0xFEE0) for d in str(n)),
    "chineseCounting": int_to_cn,
    "chineseCountingThousand": int_to_cn,
    "taiwaneseCounting": int_to_cn,
    "taiwaneseCountingThousand": int_to_cn,
    "ideographDigital": int_to_cn,
    "chineseLegalSimplified": _legal,
    "ideographLegalTraditional": _legal,
    "ideographTraditional": lambda n: _STEMS[(n - 1) % 10],
    "decimalEnclosedCircle": lambda n: _CIRCLED[n - 1] if n <= 20 else str(n),
    "decimalEnclosedCircleChinese": lambda n: _CIRCLED[n - 1] if n <= 20 else str(n),
    "decimalEnclosedParen": lambda n: f"({n})",
    "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}


@dataclass(frozen=True)
class Level:
    start: int
    fmt: str  # a numFmt value
    text: str  # the level text, e.g. "第%1条"
    restart: int | None  # lvlRestart: None = after any higher level, 0 = never
    suffix: str  # what follows the label: "tab", "space" or "nothing"


def _val(element, tag: str, default: str | None = None) -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val"), default) if child is not None else default


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _level(lvl) -> Level:
    restart = _val(lvl, "w:lvlRestart")
    return Level(
        start=_int(_val(lvl, "w:start"), 1),
        fmt=_val(lvl, "w:numFmt", "decimal") or "decimal",
        text=_val(lvl, "w:lvlText", "") or "",
        restart=_int(restart, 0) if restart is not None else None,
        suffix=_val(lvl, "w:suff", "tab") or "tab",
    )


def _levels(parent) -> dict[int, Level]:
    return {_int(lvl.get(qn("w:ilvl")), 0): _level(lvl) for lvl in parent.findall(qn("w:lvl"))}


class Numbering:
    """Renders the numbering label of each paragraph of one document, in document order."""

    def __init__(self, document) -> None:
        self._abstract: dict[str, dict[int, Level]] = {}
        self._nums: dict[str, tuple[str, dict[int, int], dict[int, Level]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        self._started: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return  # no numbering part: nothing is numbered
        for abstract in root.findall(qn("w:abstractNum")):
            self._abstract[abstract.get(qn("w:abstractNumId"))] = _levels(abstract)
        for num in root.findall(qn("w:num")):
            starts, levels = {}, {}
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = _int(override.get(qn("w:ilvl")), 0)
                if _val(override, "w:startOverride") is not None:
                    starts[ilvl] = _int(_val(override, "w:startOverride"), 1)
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    levels[ilvl] = _level(lvl)
            self._nums[num.get(qn("w:numId"))] = (_val(num, "w:abstractNumId"), starts, levels)

    def label(self, paragraph) -> str:
        """The label Word prints before ``paragraph`` with its separator ('第一条　'), or ''."""
        num_id, ilvl = _num_pr(paragraph)
        if not num_id or num_id == "0" or num_id not in self._nums:
            return ""
        abstract_id, starts, overrides = self._nums[num_id]
        levels = {**self._abstract.get(abstract_id, {}), **overrides}
        level = levels.get(ilvl)
        if level is None or level.fmt in ("bullet", "none") or not level.text:
            return ""
        counters = self._counters.setdefault(abstract_id, {})
        if num_id not in self._started:  # a list instance's start override applies once
            self._started.add(num_id)
            for at, start in starts.items():
                counters[at] = start - 1
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for higher in range(ilvl):  # a level skipped over counts as used once (LibreOffice)
            if higher not in counters and higher in levels:
                counters[higher] = levels[higher].start
        for deeper in [k for k in counters if k > ilvl]:
            restart = levels[deeper].restart if deeper in levels else None
            if restart is None or (restart and ilvl <= restart - 1):
                del counters[deeper]
        text = _PLACEHOLDER.sub(lambda m: self._format(m, counters, levels), level.text)
        return text + ("" if level.suffix == "nothing" else "\u3000")

    @staticmethod
    def _format(match: re.Match, counters: dict[int, int], levels: dict[int, Level]) -> str:
        at = int(match.group(1)) - 1
        level = levels.get(at)
        value = counters.get(at, level.start if level else 1)
        return FORMATS.get(level.fmt if level else "decimal", str)(value)


def _num_pr(paragraph) -> tuple[str | None, int]:
    """(numId, ilvl) of the paragraph's own numbering, else of its style's (inherited)."""
    ppr = paragraph._p.pPr
    num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
    style = paragraph.style if num_pr is None else None
    while num_pr is None and style is not None:
        spr = style.element.pPr
        num_pr = spr.find(qn("w:numPr")) if spr is not None else None
        style = style.base_style
    if num_pr is None:
        return None, 0
    return _val(num_pr, "w:numId"), _int(_val(num_pr, "w:ilvl"), 0)

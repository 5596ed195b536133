"""Metadata of Chinese official documents (红头文件): 文号, 发文机关, 成文日期, 施行日期.

Recognised from the first page (the 版头 and the lines under the title), with two look-ups
beyond it that the format puts elsewhere: the 落款 date standing alone near the end (成文日期),
and the 施行 sentence of the closing article (自2024年3月1日起施行).

A 文号 counts only where a document states its own: at the start of a line, after 文号：/
发文字号：, or in a short bracketed line under the title (（2024年2月26日…通过 滨数管办〔2024〕12号）);
a 文号 cited inside a sentence of the body is another document's. Numbers are normalised to
``国办发〔2024〕12号`` whichever brackets were typed ([2024], ［2024］, （2024）, 【2024】), and
order numbers to ``国务院令第514号``; ``find_numbers`` reads them in questions too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import OfficialMeta
from .statutes import BODY_START, CLAUSE, cn_to_int

FIRST_PAGE_CHARS = 1500
_OPEN, _CLOSE = "〔\\[［（(【〖﹝", "〕\\]］）)】〗﹞"
_CJK = "\u4e00-\u9fff"
_PREFIX = rf"(?:(?!号)[{_CJK}])"  # a prefix never runs back over an earlier number's 号
NUMBER_RE = re.compile(
    rf"({_PREFIX}{{1,16}}?)\s*[{_OPEN}]\s*((?:19|20)\d{{2}})\s*[{_CLOSE}]\s*第?\s*(\d{{1,5}})\s*号"
)
ORDER_RE = re.compile(rf"({_PREFIX}{{1,16}}?令)\s*[（(]?\s*第\s*(\d{{1,6}})\s*号")
_BARE_RE = re.compile(
    rf"({_PREFIX}{{1,16}}?[发函字办电])\s*((?:19|20)\d{{2}})\s*年?\s*第?(\d{{1,5}})\s*号"
)
_LABEL = re.compile(r"^\s*(?:发文字号|文号|字号)\s*[:：]\s*")
_DIGIT = "〇零一二三四五六七八九"
DATE_RE = re.compile(
    rf"(\d{{4}}|[{_DIGIT}]{{4}})\s*年\s*(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})\s*月\s*"
    rf"(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})\s*日"
)
_AGENCY = re.compile(
    r"(?:人民政府|办公厅|办公室|委员会|政府|总局|局|厅|部|委|院|署|中心|协会|银行|办)$"
)
_WRITTEN_VERB = re.compile(r"通过|印发|发布|公布|签发")
_EFFECTIVE_AT = re.compile(rf"自\s*({DATE_RE.pattern})\s*起\s*(?:施行|实施|执行|生效)")
_EFFECTIVE_ON_ISSUE = re.compile(r"自(?:印发|发布|公布|下发)之日起(?:施行|实施|执行|生效)")


@dataclass(frozen=True)
class DocNumber:
    prefix: str  # 国办发 (for an order number: 国务院令)
    year: int | None  # None for an order number
    serial: int

    def text(self) -> str:
        if self.year is None:
            return f"{self.prefix}第{self.serial}号"
        return f"{self.prefix}〔{self.year}〕{self.serial}号"

    def designates(self, stated: DocNumber) -> bool:
        """Does this number, read in a question, name the document numbered ``stated``? The
        question's prefix may carry words before it ('请问国办发')."""
        return (self.year, self.serial) == (stated.year, stated.serial) and bool(
            stated.prefix and self.prefix.endswith(stated.prefix)
        )


def _order_prefix(prefix: str) -> str:
    return prefix.replace("中华人民共和国", "")


def find_numbers(text: str, bare: bool = True) -> list[DocNumber]:
    """Every 文号 / order number written in ``text`` (any bracket variant), in order."""
    found: list[tuple[int, DocNumber]] = []
    for m in NUMBER_RE.finditer(text):
        found.append((m.start(), DocNumber(m.group(1), int(m.group(2)), int(m.group(3)))))
    for m in ORDER_RE.finditer(text):
        found.append((m.start(), DocNumber(_order_prefix(m.group(1)), None, int(m.group(2)))))
    if bare:
        taken = {pos for pos, _ in found}
        for m in _BARE_RE.finditer(text):
            if m.start() not in taken:
                found.append((m.start(), DocNumber(m.group(1), int(m.group(2)), int(m.group(3)))))
    return [n for _, n in sorted(found, key=lambda f: f[0])]


_TRAILER = re.compile(r"(?:号文件|号文)$")


def number_before(text: str) -> str:
    """The 文号 ``text`` ends with ('…国办发〔2024〕12号', '…国办发[2024]12号文'), normalised;
    "" when it ends otherwise. Used for '国办发〔2024〕12号第三条'."""
    text = _TRAILER.sub("号", text.rstrip(" 　的中里）)"))
    numbers = [(m.end(), m) for rx in (NUMBER_RE, ORDER_RE, _BARE_RE) for m in rx.finditer(text)]
    if not any(end == len(text) for end, _ in numbers):
        return ""
    found = find_numbers(text[-40:])
    return found[-1].text() if found else ""


def parse_number(text: str) -> DocNumber | None:
    numbers = find_numbers(text, bare=False)
    return numbers[0] if numbers else None


# --- dates ---------------------------------------------------------------------------------------


def _int(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 4 and all(ch in _DIGIT for ch in text):  # 二〇二四
        return int(
            "".join(str(_DIGIT.index(ch) - (1 if _DIGIT.index(ch) > 0 else 0)) for ch in text)
        )
    return cn_to_int(text)


def iso_date(match: re.Match) -> str:
    """A DATE_RE match as YYYY-MM-DD ("" when not a real date)."""
    try:
        y, m, d = (_int(g) for g in match.groups()[:3])
    except ValueError:
        return ""
    if 1900 <= y <= 2200 and 1 <= m <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return ""


def _first_date(text: str) -> str:
    for m in DATE_RE.finditer(text):
        date = iso_date(m)
        if date:
            return date
    return ""


# --- recognition ---------------------------------------------------------------------------------


def _preamble(text: str, pages) -> list[str]:
    """Lines of the first page before the body's first 第X条/章 or 一、 line."""
    end = pages[0][1] if pages else FIRST_PAGE_CHARS
    lines = []
    for line in text[: min(end, FIRST_PAGE_CHARS)].split("\n"):
        if BODY_START.match(line) or CLAUSE.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def _own_number(lines: list[str]) -> DocNumber | None:
    for line in lines:
        bare = _LABEL.sub("", line)
        m = NUMBER_RE.match(bare) or ORDER_RE.match(bare)
        bracketed = line[:1] in "（(" and line[-1:] in "）)"
        short = len(line) <= 80 and not re.search(r"[。，,；]", line)
        if m or (bracketed or short) and (NUMBER_RE.search(line) or ORDER_RE.search(line)):
            numbers = find_numbers(bare if m else line, bare=False)
            if numbers:
                return numbers[0]
    return None


def _labelled(lines: list[str], labels: str) -> str:
    pattern = re.compile(rf"(?:{labels})\s*[:：]\s*(\S[^\s：:]*)")
    for line in lines:
        m = pattern.search(line)
        if m:
            return m.group(1)
    return ""


def _issuer(lines: list[str], number: DocNumber | None) -> str:
    labelled = _labelled(lines, "发文机关|发布机关|制定机关")
    if labelled:
        return labelled
    for line in lines[:3]:  # the 版头: 国务院办公厅文件
        m = re.fullmatch(r"(.{2,40}?)\s*文\s*件", line)
        if m:
            return "、".join(m.group(1).split())
    if number is not None and number.year is None and len(number.prefix) > 1:
        return number.prefix[:-1]  # 国务院令 -> 国务院
    title = lines[0] if lines else ""
    m = re.match(r"([^《》、，,\s]{2,30}?)关于", title)
    if m and _AGENCY.search(m.group(1)):
        return m.group(1)
    if number is not None:  # a numbered document whose title starts with its issuer
        m = re.match(rf"[{_CJK}]{{3,20}}?(?:局|厅|委员会|办公室|人民政府|中心)", title)
        if m:
            return m.group(0)
    return ""


def _written(lines: list[str], text: str) -> str:
    labelled = _labelled(lines, "成文日期|印发日期|发布日期")
    m = DATE_RE.search(labelled) if labelled else None
    if m and iso_date(m):
        return iso_date(m)
    for line in lines[1:]:
        if _WRITTEN_VERB.search(line) and DATE_RE.search(line):
            return _first_date(line)
    tail = [ln.strip() for ln in text[-2000:].split("\n") if ln.strip()]
    for line in reversed(tail):  # the 落款 date, standing alone
        m = re.fullmatch(rf"[（(]?\s*({DATE_RE.pattern})\s*[)）]?", line)
        if m and iso_date(DATE_RE.search(line)):
            return iso_date(DATE_RE.search(line))
    return ""


def _effective(lines: list[str], text: str, written: str) -> str:
    labelled = _labelled(lines, "施行日期|实施日期|生效日期")
    m = DATE_RE.search(labelled) if labelled else None
    if m and iso_date(m):
        return iso_date(m)
    for line in lines:
        m = DATE_RE.search(line)
        if m and re.search(rf"{DATE_RE.pattern}\s*(?:起)?\s*(?:施行|实施)", line):
            return iso_date(m)
    m = _EFFECTIVE_AT.search(text)
    if m:
        return iso_date(DATE_RE.search(m.group(0)))
    if written and _EFFECTIVE_ON_ISSUE.search(text):
        return written
    return ""


def recognise(text: str, pages=()) -> OfficialMeta:
    """The 文号, 发文机关, 成文日期 and 施行日期 a document states ("" for each one it does not)."""
    lines = _preamble(text, pages)
    number = _own_number(lines)
    written = _written(lines, text)
    return OfficialMeta(
        number=number.text() if number else "",
        issuer=_issuer(lines, number),
        written=written,
        effective=_effective(lines, text, written),
    )

"""The shared vocabulary of Chinese regulations: numerals, structure and article patterns, labels.

Every module that reads or writes 第X条, 编/章/节, 一、/（一）/1. items, sentences or Chinese
numerals imports them from here (loaders, chunking, BM25 terms, citations, answers, the figure
check, the web app), so the rules are written once.

Article labels at the start of a line come in two strengths:

- *strong*: the label is followed by white space, a colon or the end of the line
  (``第五条　审计机关…``), as every Markdown/Word/HTML regulation writes it;
- *weak*: the label runs straight into the text (``第五条审计机关…``), as the text layer of a PDF
  printed by LibreOffice or Word gives it. A cross-reference wrapped onto the start of a line
  (``第十条规定的情形…``) looks the same, so a weak label is refused when the words after it read
  like a reference (规定 / 的 / 第二款 …), and the chunker only accepts it close to the expected
  next number.

A label may be letter-spaced (``第 三 条``, ``第 二 章``): justified lines in a PDF's text layer,
OCR output and documents typed with spaces for alignment write it so. The patterns accept white
space inside a label; the labels they return have none.
"""

from __future__ import annotations

import re

# --- numerals --------------------------------------------------------------------------------

NUMERALS = "零〇一二三四五六七八九十百千两"  # the characters of a Chinese ordinal (第一百零三条)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# financial (大写) numerals as amounts are written in official tables: 伍佰元, 壹仟贰佰元
FINANCIAL_NUMERALS = "零壹贰叁肆伍陆柒捌玖拾佰仟萬万"
# a stated quantity: Arabic (12, 1.5, 1,200), Chinese (十五, 两万, 半) or financial (伍佰)
QUANTITY = (
    r"(?:\d[\d,，]*(?:\.\d+)?|[零〇一二两三四五六七八九十百千万半]+|[" + FINANCIAL_NUMERALS + r"]+)"
)


def cn_to_int(text: str) -> int:
    """Chinese numeral (up to 千) or ASCII digits -> int. 一百零三 -> 103, 十五 -> 15."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + digit


def int_to_cn(n: int) -> str:
    """int -> Chinese numeral as written in article labels (103 -> 一百零三, 15 -> 十五)."""
    if n == 0:
        return "零"
    digits = "零一二三四五六七八九"
    parts, zero = [], False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, unit)
        if d:
            if zero:
                parts.append("零")
            parts.append(digits[d] + name)
            zero = False
        elif parts:
            zero = True
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


# --- articles --------------------------------------------------------------------------------

_SUB = "一二三四五六七八九十"  # 之一 … 之十
_GAP = r"[ \t\u3000]*"  # letter spacing inside a label: 第 三 条 (never a line break)
_NUMBER = rf"[{NUMERALS}\d](?:{_GAP}[{NUMERALS}\d])*"  # the ordinal of a label, maybe spaced
# the label a line opens with, 第X条/章/节/编, perhaps letter-spaced
LEADING_LABEL = re.compile(rf"^\s*第{_GAP}{_NUMBER}{_GAP}(?:分编|[编章节条])")
# 第X条 (第X条之一) at the start of a line, optionally in Markdown bold. Group 1: the label,
# 2: the number, 3: the 之 number, 4: the character after the label ("" = white space/colon/end).
ARTICLE_START = re.compile(
    rf"^\s*(?:\*\*)?(第{_GAP}({_NUMBER}){_GAP}条(?:之([{_SUB}]+))?)(?:\*\*)?(?:[\s:：]|$|(?=(\S)))"
)
# words that follow a label in a cross-reference, never the first words of an article's text
_REFERENCE_TAIL = re.compile(
    r"^(?:规定|的|[、，,和与及或至到]|第|款|项|所[规述列称]|中(?:的|规定|所)|以外|以及)"
)
# a reference anywhere in running text: 第三条, 第 3 条, 第十条之一
ARTICLE_REF = re.compile(rf"第\s*([{NUMERALS}]+|\d+)\s*条(?:之([{_SUB}]+))?")
ARTICLE_LABEL = re.compile(rf"第([{NUMERALS}\d]+)条(?:之([{_SUB}]+))?")
CLAUSE_LABEL = re.compile(r"([一二三四五六七八九十百]+)、")
ARTICLE_TERM = re.compile(rf"^第[{NUMERALS}\d]+[条款项章节编]$")  # a BM25 token that is a label


def article_start(line: str) -> tuple[str, tuple[int, int], bool] | None:
    """A line opening an article -> (label, (number, 之 number), strong). None when the line
    does not start with a label, or starts with a weak one that reads like a cross-reference."""
    m = ARTICLE_START.match(line)
    if not m:
        return None
    strong = m.group(4) is None
    if not strong and _REFERENCE_TAIL.match(line[m.end(1) :].lstrip("*")):
        return None
    try:
        number = (cn_to_int(_unspaced(m.group(2))), cn_to_int(m.group(3)) if m.group(3) else 0)
    except ValueError:
        return None
    return _unspaced(m.group(1)), number, strong


def _unspaced(label: str) -> str:
    return re.sub(r"\s", "", label)


def same_article(a: str, b: str) -> bool:
    """Two labels name the same article: 第3条 = 第三条 = 第 三 条 (a 一、 clause label only
    equals itself)."""
    return a == b or canonical_label(a) == canonical_label(b)


def canonical_label(label: str) -> str:
    """第3条 / 第 三 条 -> 第三条 (the form ``article_refs`` gives); other labels unchanged."""
    m = ARTICLE_LABEL.fullmatch(_unspaced(label))
    if not m:
        return label
    try:
        return article_label(m.group(1), m.group(2))
    except ValueError:
        return label


def article_number(label: str) -> tuple[int, int]:
    """第十条之一 -> (10, 1); 二十七、 -> (27, 0). Raises ValueError when not a label."""
    m = ARTICLE_LABEL.fullmatch(label)
    if m:
        return cn_to_int(m.group(1)), cn_to_int(m.group(2)) if m.group(2) else 0
    m = CLAUSE_LABEL.fullmatch(label)
    if m:
        return cn_to_int(m.group(1)), 0
    raise ValueError(label)


def article_label(number: str | int, sub: str | None = None) -> str:
    """'33', 33 or '三十三' (+ '一') -> '第三十三条' (+ '之一'), the form chunk labels use."""
    n = (
        number
        if isinstance(number, int)
        else int(number)
        if number.isdigit()
        else cn_to_int(number)
    )
    return f"第{int_to_cn(n)}条" + (f"之{sub}" if sub else "")


def strip_article_label(text: str) -> str:
    """The text of an article without its leading 第X条 label."""
    m = ARTICLE_START.match(text)
    return text[m.end(1) :].lstrip("*").lstrip() if m else text.lstrip()


# --- structure: 编/分编/章/节 headings, 一、 clauses, （一）/1. items ---------------------------

STRUCTURE = re.compile(rf"^\s*(第{_GAP}{_NUMBER}{_GAP}(编|分编|章|节))(?:\s+(.*))?$")
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def tidy_heading(text: str) -> str:
    """A heading as the outline shows it: one space after a 编/章/节 label, none inside a
    letter-spaced one or between two Chinese characters (第 一 章　总　则 -> 第一章 总则)."""
    text = re.sub(r"\s+", " ", text).strip()
    m = STRUCTURE.match(text)
    if m:
        return f"{_unspaced(m.group(1))} {_CJK_GAP.sub('', m.group(3) or '')}".strip()
    return _CJK_GAP.sub("", text)


STRUCTURE_LEVEL = {"编": 1.0, "分编": 1.5, "章": 2.0, "节": 3.0}
CLAUSE = re.compile(r"^\s*([一二三四五六七八九十百]+)、")
SUB_ITEM = re.compile(r"^\s*(?:[（(]([一二三四五六七八九十]+)[)）]|(\d{1,2})[.．、](?!\d))")
# the body of a regulation starts at its first 第X条/章/节/编
BODY_START = re.compile(rf"^[ \t\u3000]*第{_GAP}{_NUMBER}{_GAP}(?:条|章|节|编)", re.M)
# a line that opens a new unit (never joined to the line before when unwrapping PDF text),
# including a line that is all one parenthesis: the 题注 under a title, (…〔2023〕41号) or
# (2023年5月1日…通过)
# (UNIT_START: a label, 附件, a parenthesis line; ITEM_START: a numbered item, which a wrapped
# line can also start with by chance: 构建集中统 / 一、全面覆盖)
UNIT_START = re.compile(
    rf"^\s*(?:第{_GAP}{_NUMBER}{_GAP}[编章节条]|附件|附表|[（(][^（）()\n]{{2,80}}[)）]\s*$)"
)
ITEM_START = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十]+[)）]|\d{1,2}[.．、])"
)
BLOCK_START = re.compile(f"{UNIT_START.pattern}|{ITEM_START.pattern}")

# the kinds of regulation a title ends with (…条例, …管理办法, 关于…的通知): titles in documents,
# in questions and in answers
REGULATION_KINDS = (
    "法典|法|条例|办法|规定|细则|解释|决定|规则|准则|制度|手册|通知|意见|批复|守则|规范|章程"
)

# --- sentences -------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"[。；;！？!?]")
SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")  # a sentence or clause up to 。；！？


def sentences(text: str) -> list[str]:
    """The non-empty sentences/clauses of ``text``, stripped."""
    return [s.strip() for s in SENTENCE.findall(text) if s.strip()]

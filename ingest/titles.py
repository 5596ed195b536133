"""A document's title when its format marks none (plain text, PDF, OFD, scans, Word without
heading styles, a web page without a heading).

The first line is not always the title. A web page printed to PDF starts with the site's
breadcrumb (政府网站 首页 > 法律法规); a 红头文件 with its 版头 (××市人民政府办公室文件) and
文号; a company's rule with the company's name above the rule's; a State Council regulation with
国务院令 and its promulgation note. So the lines before the body (第一章 / 第一条 / 一、) are
read, and the first that names a kind of regulation (…办法, …条例, 关于…的通知, optionally
followed by （试行） or a dated parenthesis) is the title; a long title wrapped onto a second
line is joined. Where no line names a kind, the file's name is used when it does, and otherwise
the first line that reads like a title (short, no sentence punctuation). A web page's <title>
carries the site's name (审计法_法律法规_中国政府网): only its part naming a kind is taken.
"""

from __future__ import annotations

import re
from pathlib import Path

from .officialdoc import DATE_RE
from .statutes import BODY_START, CLAUSE, REGULATION_KINDS, SUB_ITEM

MAX_TITLE = 60  # a longer line is a sentence, not a title
HEAD_LINES = 12  # how far down the first page a title is looked for
_PUNCT = re.compile(r"[。；;！？!?，,：:]")
_TRAILER = r"(?:\s*[（(][^（()）]{1,40}[)）])*"  # （试行） （2019年修订） （2024-01-05）
NAMES_KIND = re.compile(rf"[\u4e00-\u9fff》〉]{{2}}(?:{REGULATION_KINDS}){_TRAILER}\s*$")
_NUMBERED = re.compile(r"[〔［\[]\s*(?:19|20)\d{2}|\d+\s*号|令$")
# a line above a title that is not its first half: an organisation (版头, company), a site path
_ORGANISATION = re.compile(
    r"(?:人民政府|办公厅|办公室|委员会|政府|总局|局|厅|部|委|院|署|中心|协会|银行|公司|集团|文件|"
    r"大学|学院|学校|医院|研究所|研究院|党委|党组|支部|工会)$|[>|｜/]|首页"
)
DATE_IN_NAME = re.compile(r"[（(](\d{4})-(\d{1,2})-(\d{1,2})[)）]\s*$")


def title_like(line: str) -> bool:
    """Short, no sentence punctuation, not the start of the body."""
    return 0 < len(line) <= MAX_TITLE and not _PUNCT.search(line) and not BODY_START.match(line)


def head_lines(text: str) -> list[str]:
    """The non-empty lines before the body starts (第X条/章, 一、, （一）, 1.; at most
    ``HEAD_LINES``)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if len(out) == HEAD_LINES or any(p.match(line) for p in (BODY_START, CLAUSE, SUB_ITEM)):
            break
        out.append(line)
    return out


def title_from_first_line(text: str) -> str | None:
    """The first non-empty line, when it reads like a title."""
    lines = head_lines(text)
    return lines[0] if lines and title_like(lines[0]) else None


def kind_title(text: str) -> str | None:
    """The first line before the body that names a kind of regulation, joined with the line
    above when the title was set in two lines (国家行政机关及其工作人员在国内公务活动中 /
    不得赠送和接受礼品的规定) and that line is not an organisation's name or a site path."""
    lines = head_lines(text)
    for i, line in enumerate(lines):
        if not title_like(line):
            continue
        if NAMES_KIND.search(line):
            return line
        if i + 1 < len(lines) and _first_half(line):
            joined = line + lines[i + 1]
            if title_like(joined) and NAMES_KIND.search(joined):
                return joined
    return None


def _first_half(line: str) -> bool:
    """Whether ``line`` may be the first half of a title: not an organisation, a site path, a
    parenthesis, an attachment's label (附件1), a date (落款) or a document number (文号,
    国务院令第N号)."""
    return not (
        _ORGANISATION.search(line)
        or line.startswith(("（", "(", "〔", "[", "【", "附件", "附表", "附录"))
        or DATE_RE.search(line)
        or _NUMBERED.search(line)
    )


# 审计法_法律法规_中国政府网, 信访条例--滨海市政府网, 政府网站 | 信访条例
_SITE_PARTS = re.compile(r"\s*(?:[_|｜]|\s[-–—]+\s|-{2,}|—{1,2}|–)\s*")


def kind_part(title: str | None) -> str | None:
    """The part of a page or file title that names a kind of regulation (sites and browsers
    append the site's name), or None."""
    parts = [p for p in _SITE_PARTS.split(title.strip()) if p] if title else []
    return next((p for p in parts if title_like(p) and NAMES_KIND.search(p)), None)


def web_page_title(text: str, page_title: str | None) -> str | None:
    """The title of a web page without a heading: the line before the body naming a kind of
    regulation, else the part of its <title> that names one (sites append their own name:
    ``中华人民共和国审计法_法律法规_中国政府网``), else the <title>'s first part."""
    found = kind_title(text) or kind_part(page_title)
    if found or not page_title:
        return found
    return next((p for p in _SITE_PARTS.split(page_title.strip()) if p), None)


def title_from_name(path: Path) -> str:
    return DATE_IN_NAME.sub("", path.stem).strip() or path.stem


def choose_title(text: str, path: Path, *, first_line_ok: bool, declared: str = "") -> str:
    """The title of a document without heading markup: a line naming a kind of regulation,
    else the part of the title the file declares (a PDF's metadata) or of its name that names
    one, else (where the format's first line usually is the title: text, PDF, OFD, scans) the
    first title-like line, else the file name."""
    name = title_from_name(path)
    found = kind_title(text) or kind_part(declared) or kind_part(name)
    if found:
        return found
    return (title_from_first_line(text) if first_line_ok else None) or name

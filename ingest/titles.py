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

from .statutes import BODY_START, CLAUSE, REGULATION_KINDS, SUB_ITEM

MAX_TITLE = 60  # a longer line is a sentence, not a title
HEAD_LINES = 12  # how far down the first page a title is looked for
_PUNCT = re.compile(r"[。；;！？!?，,：:]")
_TRAILER = r"(?:\s*[（(][^（()）]{1,40}[)）])*"  # （试行） （2019年修订） （2024-01-05）
NAMES_KIND = re.compile(rf"[\u4e00-\u9fff]{{2}}(?:{REGULATION_KINDS}){_TRAILER}\s*$")
_WRAPPED = re.compile(r"关于|[的和与及、]$")  # a title line that goes on below
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
    """The first line before the body that names a kind of regulation, joined with the next
    line when the title was wrapped (…社会团体印章管理的 / 规定)."""
    lines = head_lines(text)
    for i, line in enumerate(lines):
        if not title_like(line):
            continue
        if NAMES_KIND.search(line):
            return line
        if i + 1 < len(lines) and _WRAPPED.search(line) and not NAMES_KIND.search(line):
            joined = line + lines[i + 1]
            if title_like(joined) and NAMES_KIND.search(joined):
                return joined
    return None


_SITE_PARTS = re.compile(r"\s*(?:[_|｜–—]|\s-\s)\s*")  # 审计法_法律法规_中国政府网


def web_page_title(text: str, page_title: str | None) -> str | None:
    """The title of a web page without a heading: the line before the body naming a kind of
    regulation, else the part of its <title> that names one (sites append their own name:
    ``中华人民共和国审计法_法律法规_中国政府网``), else the <title>'s first part."""
    found = kind_title(text)
    if found or not page_title:
        return found
    parts = [p for p in _SITE_PARTS.split(page_title.strip()) if p]
    return next((p for p in parts if NAMES_KIND.search(p)), parts[0] if parts else None)


def title_from_name(path: Path) -> str:
    return DATE_IN_NAME.sub("", path.stem).strip() or path.stem


def choose_title(text: str, path: Path, *, first_line_ok: bool) -> str:
    """The title of a document without heading markup: a line naming a kind of regulation,
    else the file name when it names one, else (where the format's first line usually is the
    title: text, PDF, OFD, scans) the first title-like line, else the file name."""
    found = kind_title(text)
    if found:
        return found
    name = title_from_name(path)
    if NAMES_KIND.search(name):
        return name
    return (title_from_first_line(text) if first_line_ok else None) or name

"""Structure parsing: a ``Document`` -> ``Chunk`` records along the document's own structure.

Three modes, chosen per document:

- ``article``: regulations numbered 第X条 (第X条之一). One chunk per article; 编/分编/章/节
  headings form the heading path. An article longer than ``chunk_size`` is split at paragraph
  (款) boundaries and every piece keeps the article label.
- ``clause``: documents whose top-level units are numbered 一、二、…二十七、 (e.g. the State
  Council's seal rules, amendment decisions, procedure manuals). The clause label ``二十七、`` is
  the citation unit; short numbered lines (一、总则 / （一）申请 / 1. 登记) are headings.
- ``section``: anything else: split by headings, then by paragraphs within ``chunk_size``.

Text before the first unit (title, promulgation notes) is its own chunk. Only a numbered line
*at the start of a line* can open a unit, and article numbers must increase, so a cross-reference
such as "依照本法第十条" never starts a new article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Chunk, Document
from .statutes import (
    CLAUSE,
    SENTENCE_END,
    STRUCTURE,
    STRUCTURE_LEVEL,
    SUB_ITEM,
    article_number,  # noqa: F401  (re-exported: tests and callers import it from here)
    article_start,
    cn_to_int,
    int_to_cn,  # noqa: F401
    tidy_heading,
)
from .tables import row_heading

_WEAK_GAP = 3  # a label with no space after it must be at most this far past the last one


@dataclass
class _Line:
    start: int
    end: int
    text: str


@dataclass
class _Segment:
    heading: tuple[str, ...]
    label: str | None
    lines: list[_Line]
    preamble: bool = False


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def _is_heading_like(text: str, limit: int = 40) -> bool:
    return len(text) <= limit and not SENTENCE_END.search(text)


def _article_starts(lines: list[_Line], heading_at: set[int]) -> dict[int, str]:
    """Line index -> article label, keeping only increasing numbers (a restart at 1 is allowed).
    A weak label (no space after it, as PDF text layers give it) must also be close to the last
    one, so a cross-reference wrapped onto the start of a line cannot skip articles."""
    starts, last = {}, (0, 0)
    for i, line in enumerate(lines):
        found = None if line.start in heading_at else article_start(line.text)
        if not found:
            continue
        label, number, strong = found
        near = number[0] <= last[0] + _WEAK_GAP
        if (number > last and (strong or near)) or number == (1, 0):
            starts[i] = label
            last = number
    return starts


def _clause_starts(lines: list[_Line], heading_at: set[int]) -> dict[int, str]:
    starts, last = {}, 0
    for i, line in enumerate(lines):
        m = CLAUSE.match(line.text)
        if not m or line.start in heading_at and not _is_heading_like(line.text):
            continue
        try:
            number = cn_to_int(m.group(1))
        except ValueError:
            continue
        if number > last or number == 1:
            starts[i] = m.group(1) + "、"
            last = number
    return starts


class _Outline:
    """The current heading path: a stack of (level, text)."""

    def __init__(self) -> None:
        self.stack: list[tuple[float, str]] = []

    def push(self, level: float, text: str) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, tidy_heading(text)))

    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)


def _structure_level(text: str) -> float | None:
    m = STRUCTURE.match(text)
    if m and _is_heading_like(text, 60):
        return STRUCTURE_LEVEL[m.group(2)]
    return None


def _segments(doc: Document) -> list[_Segment]:
    lines = _lines(doc.text)
    heading_level = {start: level for start, _, level in doc.headings}
    rows = {start: (table, label) for start, _, table, label in doc.rows}  # table rows
    articles = _article_starts(lines, set(heading_level) | set(rows))
    mode = "article" if len(articles) >= 2 else "other"
    clauses = {} if mode == "article" else _clause_starts(lines, set(heading_level))
    if mode != "article" and len(clauses) >= 2:
        mode = "clause"
    outline, segments = _Outline(), [_Segment((), None, [], preamble=True)]
    title_seen = False

    def open_segment(label: str | None) -> _Segment:
        seg = _Segment(outline.path(), label, [])
        segments.append(seg)
        return seg

    current = segments[0]
    for i, line in enumerate(lines):
        if line.start in rows:  # a table row is a unit of its own, named by table and row
            segments.append(_Segment(row_heading(outline.path(), *rows[line.start]), None, [line]))
            current = open_segment(current.label)
            continue
        md_level = heading_level.get(line.start)
        if md_level is not None and not title_seen and line.text == doc.title:
            title_seen = True  # the document title is the preamble's first line, not a heading
            current.lines.append(line)
            continue
        struct = _structure_level(line.text)
        if struct is not None or (md_level and i not in articles and i not in clauses):
            level = struct if struct is not None else float(md_level)
            sub = SUB_ITEM.match(line.text) if struct is None and mode != "article" else None
            if sub:  # a styled （一）/1. heading nests under its 一、 clause (level 10)
                level = 11 if sub.group(1) else 12
            outline.push(level, line.text)
            current = open_segment(current.label if mode == "clause" and current.label else None)
            continue
        if i in articles:
            current = open_segment(articles[i])
        elif i in clauses:
            label = clauses[i]
            if _is_heading_like(line.text):
                outline.stack = [e for e in outline.stack if e[0] < 10]
                outline.push(10, line.text)
                current = open_segment(label)
                continue
            outline.stack = [e for e in outline.stack if e[0] < 10]
            current = open_segment(label)
        elif mode != "article" and SUB_ITEM.match(line.text) and _is_heading_like(line.text, 30):
            level = 11 if SUB_ITEM.match(line.text).group(1) else 12
            outline.push(level, line.text)
            current = open_segment(current.label)
            continue
        current.lines.append(line)
    return [s for s in segments if s.lines]


def _pieces(lines: list[_Line], size: int) -> list[list[_Line]]:
    """Greedy packing of lines (paragraphs / 款) into pieces of at most ``size`` characters."""
    out: list[list[_Line]] = []
    for line in lines:
        for part in _split_long_line(line, size):
            if out and (part.end - out[-1][0].start) <= size:
                out[-1].append(part)
            else:
                out.append([part])
    return out


def _split_long_line(line: _Line, size: int) -> list[_Line]:
    if len(line.text) <= size:
        return [line]
    parts, begin = [], 0
    for m in re.finditer(r"[。；！？]", line.text):
        if m.end() - begin >= size * 0.8:
            parts.append((begin, m.end()))
            begin = m.end()
    if begin < len(line.text):
        parts.append((begin, len(line.text)))
    out = []
    for a, b in parts:
        while b - a > size:  # a single sentence longer than size: hard cut
            out.append(_Line(line.start + a, line.start + a + size, line.text[a : a + size]))
            a += size
        out.append(_Line(line.start + a, line.start + b, line.text[a:b]))
    return out


def _pages_for(doc: Document, start: int, end: int) -> tuple[int, ...]:
    return tuple(p for a, b, p in doc.pages if a < end and b > start)


def chunk_document(doc: Document, chunk_size: int = 800) -> list[Chunk]:
    """Split a document into chunks along its structure (see the module docstring)."""
    chunks: list[Chunk] = []
    for seg in _segments(doc):
        for piece in _pieces(seg.lines, chunk_size):
            start, end = piece[0].start, piece[-1].end
            chunks.append(
                Chunk(
                    id=f"{doc.id}-{len(chunks):05d}",
                    doc_id=doc.id,
                    source=doc.source,
                    title=doc.title,
                    heading=" / ".join(seg.heading),
                    articles=(seg.label,) if seg.label else (),
                    pages=_pages_for(doc, start, end),
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                    version_date=doc.version_date,
                    doc_number=doc.meta.number,
                )
            )
    return chunks

"""Page layout: positioned text boxes rebuilt into lines and paragraphs, in reading order.

Used for OCR output (ocr.py) and for the text objects of OFD pages (ofd.py). Boxes are sorted by
y then x, boxes sharing a line merged, and lines joined into paragraphs (a break at a first-line
indent, a wider gap, or after a line that stops short of the right margin), so that 第X条 starts
a line as in the printed page.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .statutes import BLOCK_START

_CLAUSE_END = re.compile(r"[。；：！？;:!?]\s*$")


@dataclass(frozen=True)
class Box:
    """One recognised text box, axis-aligned, in image pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0


Quad = Sequence[Sequence[float]]  # four corners: top-left, top-right, bottom-right, bottom-left
MIN_SKEW = math.radians(0.1)  # below this a page is taken as straight


def deskewed(items: Iterable[tuple[Quad, str]]) -> list[Box]:
    """Axis-aligned boxes of recognised text quadrilaterals, the page's skew undone first.

    A scan fed in at an angle gives tilted quadrilaterals; their axis-aligned boxes grow by
    width × sin(angle), so at 1° two short lines' boxes overlap and would merge into one line
    (第一条…。第二条…). The skew is the median slope of the top edges of the wide boxes (the
    lines of text); every corner is rotated back by it before the boxes are taken."""
    items = [(quad, text) for quad, text in items if text.strip()]
    slopes = []
    for quad, _ in items:
        (x0, y0), (x1, y1) = quad[0][:2], quad[1][:2]
        if x1 - x0 > 3 * abs(quad[3][1] - y0):
            slopes.append(math.atan2(y1 - y0, x1 - x0))
    angle = statistics.median(slopes) if slopes else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)
    out = []
    for quad, text in items:
        points = [
            (x, y) if abs(angle) < MIN_SKEW else (x * cos - y * sin, x * sin + y * cos)
            for x, y, *_ in quad
        ]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        out.append(Box(min(xs), min(ys), max(xs), max(ys), text.strip()))
    return out


def group_lines(boxes: Iterable[Box]) -> list[list[Box]]:
    """Boxes grouped into text lines, top to bottom, each line left to right. A box joins a line
    when it overlaps the line vertically by more than half the smaller height (a slight skew
    keeps the boxes of one line overlapping; the next line does not)."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        for line in reversed(lines[-3:]):
            top, bottom = min(b.y0 for b in line), max(b.y1 for b in line)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap > 0.5 * min(box.height, bottom - top):
                line.append(box)
                break
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _join(left: str, right: str) -> str:
    """Chinese text joins without a space; two Latin words or numbers keep one."""
    if (
        left
        and right
        and left[-1].isascii()
        and right[0].isascii()
        and left[-1].isalnum()
        and right[0].isalnum()
    ):
        return f"{left} {right}"
    return left + right


@dataclass(frozen=True)
class _Line:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def _merge(line: list[Box]) -> _Line:
    """One line's boxes joined left to right; a gap of about half a character or more keeps a
    space (``第一章 总则``), adjacent boxes join directly."""
    text = ""
    for i, box in enumerate(line):
        gap = box.x0 - line[i - 1].x1 if i else 0.0
        text = f"{text} {box.text}" if i and gap > 0.4 * box.height else text + box.text
    return _Line(
        line[0].x0, min(b.y0 for b in line), max(b.x1 for b in line), max(b.y1 for b in line), text
    )


def page_text(boxes: Iterable[Box]) -> str:
    """The page's text: one line per paragraph (lines of one paragraph joined), in reading order.

    A new paragraph starts at a line indented by about a character or more from the body's left
    edge (first-line indent, centred headings), after a vertical gap clearly wider than the usual
    line pitch, after a line ending more than two characters short of the right edge, or where
    a sentence ends at the margin and the next line opens an article or item (第二条, （三）) —
    pages without first-line indents."""
    lines = [_merge(line) for line in group_lines(boxes)]
    if len(lines) < 3:
        return "\n".join(line.text for line in lines)
    char = statistics.median(line.y1 - line.y0 for line in lines)
    left = sorted(line.x0 for line in lines)[len(lines) // 5]  # body edge, robust to indents
    right = sorted(line.x1 for line in lines)[-max(1, len(lines) // 5)]
    pitches = [b.y0 - a.y0 for a, b in zip(lines, lines[1:], strict=False)]
    pitch = statistics.median(pitches) if pitches else char * 2
    paragraphs = [lines[0].text]
    for prev, line in zip(lines, lines[1:], strict=False):
        new = (
            line.x0 - left > 0.8 * char
            or line.y0 - prev.y0 > 1.4 * pitch
            or right - prev.x1 > 2 * char
            or (_CLAUSE_END.search(prev.text) is not None and BLOCK_START.match(line.text))
        )
        if new:
            paragraphs.append(line.text)
        else:
            paragraphs[-1] = _join(paragraphs[-1], line.text)
    return "\n".join(paragraphs)

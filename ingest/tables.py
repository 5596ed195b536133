"""Tables as citable units: a grid of cells (with merged ranges) -> one line per data row.

Each data row becomes one line of the document text that carries everything needed to read it
alone: the table's title, the row's key (its first column, plus a group column merged over
several rows) and every other cell under its column header, multi-level headers joined and a
unit stated in a header moved onto the number:

    差旅住宿费标准 · 上海 · 住宿费 局级领导干部：700元/人·天，住宿费 处级及以下人员：550元/人·天

The chunker makes each such line its own chunk, headed ``差旅住宿费标准 · 上海（第5行）`` so a
citation names the table and the row. Readers for the formats (spreadsheets, docx, HTML, PDF)
build a ``Grid``; everything after that is shared here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .statutes import SENTENCE_END

MAX_TABLE_ROWS = 5000  # data rows per table (sheet); the rest is dropped with a note
MAX_HEADER_ROWS = 4
MAX_CELL_CHARS = 300  # a "table" whose cells hold paragraphs is layout, not data
MAX_MEAN_CELL_CHARS = 60

Merge = tuple[int, int, int, int]  # (first row, first column, last row, last column), inclusive


@dataclass(frozen=True)
class Grid:
    """Cell texts (rectangular) and merged ranges, as a reader found them."""

    cells: tuple[tuple[str, ...], ...]
    merges: tuple[Merge, ...] = ()
    title: str = ""  # a caption or sheet name known from outside the grid
    first_row: int = 1  # the number, in the source, of row 0 (spreadsheet row numbers)


@dataclass(frozen=True)
class TableRow:
    """One data row rendered as a line: ``text`` is what the document holds, ``table`` and
    ``label`` (key and row number) name it in citations."""

    text: str
    table: str
    label: str


@dataclass(frozen=True)
class Table:
    title: str
    rows: tuple[TableRow, ...]
    note: str = ""  # why rows were dropped (row limit), "" when none


_UNIT = re.compile(r"\s*[（(]\s*(?:单位[:：]\s*)?([^（）()]{1,10})\s*[)）]\s*$")
_UNIT_WORDS = re.compile(
    r"元|天|日|人|次|%|％|小时|公里|千米|km|个|月|年|平方米|㎡|件|份|吨|升|台|辆"
)
_UNIT_NOTE = re.compile(r"^\s*[（(]?\s*单位[:：]\s*([^（）()\s]{1,10})\s*[)）]?\s*$")
_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)*(?:\.\d+)?$")
_SERIAL_HEADER = re.compile(r"^(?:序号|编号|No\.?|NO\.?|#)$")
_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff\u2060\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- cells ---------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell value as text: 700.0 -> '700', dates as ISO, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.10g}" if value == value else ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return _SPACE.sub(" ", _INVISIBLE.sub("", str(value))).replace(" / ", "/").strip()


def looks_like_data(cells: Sequence[Sequence[str]]) -> bool:
    """A grid worth reading as rows: 2+ rows, 2+ columns, short cells (not a layout table)."""
    filled = [c for row in cells for c in row if c]
    if len(cells) < 2 or max((len(r) for r in cells), default=0) < 2 or not filled:
        return False
    if max(len(c) for c in filled) > MAX_CELL_CHARS:
        return False
    return sum(len(c) for c in filled) / len(filled) <= MAX_MEAN_CELL_CHARS


def rectangular(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    width = max((len(r) for r in rows), default=0)
    return tuple(tuple(r) + ("",) * (width - len(r)) for r in rows)


def trim(grid: Grid) -> Grid:
    """Drop empty rows/columns at the edges (merged ranges shifted, row numbers kept)."""
    cells = grid.cells
    rows = [i for i, r in enumerate(cells) if any(r)]
    cols = [j for j in range(len(cells[0]) if cells else 0) if any(r[j] for r in cells)]
    if not rows or not cols:
        return Grid((), (), grid.title, grid.first_row)
    r0, r1, c0, c1 = rows[0], rows[-1], cols[0], cols[-1]
    body = tuple(tuple(r[c0 : c1 + 1]) for r in cells[r0 : r1 + 1])
    merges = tuple(
        (max(a, r0) - r0, max(b, c0) - c0, min(c, r1) - r0, min(d, c1) - c0)
        for a, b, c, d in grid.merges
        if a <= r1 and c >= r0 and b <= c1 and d >= c0
    )
    return Grid(body, merges, grid.title, grid.first_row + r0)


# --- from a grid to rows --------------------------------------------------------------------------


class _Filled:
    """The grid with every merged cell holding its range's value, and where each came from."""

    def __init__(self, grid: Grid) -> None:
        self.cells = [list(r) for r in grid.cells]
        self.origin = [[(i, j) for j in range(len(r))] for i, r in enumerate(grid.cells)]
        self.merges = grid.merges
        for r0, c0, r1, c1 in grid.merges:
            value = grid.cells[r0][c0]
            for i in range(r0, r1 + 1):
                for j in range(c0, c1 + 1):
                    self.cells[i][j] = value
                    self.origin[i][j] = (r0, c0)

    def vertical(self, i: int, j: int) -> bool:
        """Is cell (i, j) part of a range merged over several rows?"""
        return any(r0 <= i <= r1 and c0 <= j <= c1 and r1 > r0 for r0, c0, r1, c1 in self.merges)


def _distinct(row: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for v in row if v))


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text.replace(" ", "")))


def _header_rows(filled: _Filled, start: int) -> int:
    """Index one past the last header row, header starting at ``start``: a range merged down
    from the header extends it; a range merged across on its last row means sub-headers follow."""
    end, n = start, len(filled.cells)
    while True:
        new = end
        for r0, _, r1, _ in filled.merges:
            if start <= r0 <= new and r1 > new:
                new = r1
        across = any(r0 == new and c1 > c0 and r1 == r0 for r0, c0, r1, c1 in filled.merges)
        if across and new + 1 < n and not any(_is_number(v) for v in filled.cells[new + 1]):
            new += 1
        new = min(new, start + MAX_HEADER_ROWS - 1, n - 2)
        if new <= end:
            return end + 1
        end = new


def _column_names(filled: _Filled, header: range, unit: str) -> tuple[list[str], list[str]]:
    """Per column: the header levels joined ('住宿费 局级领导干部') and the unit a header states."""
    names, units = [], []
    for j in range(len(filled.cells[0])):
        parts, col_unit = [], unit
        for i in header:
            value = filled.cells[i][j]
            m = _UNIT.search(value)
            if m and _UNIT_WORDS.search(m.group(1)):
                col_unit, value = m.group(1).strip(), value[: m.start()].strip()
            if value and (not parts or parts[-1] != value):
                parts.append(value)
        names.append(" ".join(parts))
        units.append(col_unit)
    return names, units


def _value(text: str, unit: str) -> str:
    if unit and _is_number(text):
        return f"{text}{unit}"
    return text


def build_table(grid: Grid, fallback_title: str, max_rows: int = MAX_TABLE_ROWS) -> Table | None:
    """The table a grid holds (None when it holds no data row). Title rows (one value across the
    table) and a 单位：元 note above the header are recognised; see the module docstring."""
    grid = trim(grid)
    if len(grid.cells) < 2:
        return None
    filled = _Filled(grid)
    titles, unit, top = [], "", 0
    while top < len(filled.cells) - 2 and len(_distinct(filled.cells[top])) == 1:
        (value,) = _distinct(filled.cells[top])
        note = _UNIT_NOTE.match(value)
        if note:
            unit = note.group(1)
        else:
            titles.append(value)
        top += 1
    title = (titles[0] if titles else grid.title or fallback_title).replace(" / ", "/")
    stated = _UNIT.search(title)  # 会议费综合定额标准（单位：元/人·天）
    if stated and _UNIT_WORDS.search(stated.group(1)) and title[: stated.start()].strip():
        unit, title = unit or stated.group(1).strip(), title[: stated.start()].strip()
    body = _header_rows(filled, top)
    names, units = _column_names(filled, range(top, body), unit)
    header_values = [filled.cells[i] for i in range(top, body)]
    serial = {j for j, n in enumerate(names) if _SERIAL_HEADER.match(n)}
    rows, group, note = [], "", ""
    for i in range(body, len(filled.cells)):
        values = filled.cells[i]
        if not any(values) or values in header_values:  # blank, or the header repeated
            continue
        if len(rows) >= max_rows:
            note = (
                f"rows after the first {max_rows} not indexed (max_table_rows) "
                f"/ 超过{max_rows}行的部分未索引"
            )
            break
        distinct = _distinct(values)
        number = grid.first_row + i
        if len(distinct) == 1 and len(names) > 1:
            if len(distinct[0]) <= 20 and not re.search(r"[。；，：:]", distinct[0]):
                group = distinct[0]  # a section row (一、华北地区) heads the rows below it
                continue
            rows.append(TableRow(f"{title} · {distinct[0]}", title, f"第{number}行"))
            continue
        rows.append(_row(filled, i, names, units, serial, title, group, number))
    return Table(title, tuple(rows), note) if rows else None


def _key_columns(filled: _Filled, i: int, names: list[str], serial: set[int]) -> list[int]:
    cols = [j for j in range(len(names)) if j not in serial]
    if not cols:
        return []
    first = cols[0]
    keys = [first]
    if (
        filled.vertical(i, first)
        and len(cols) > 2
        and filled.cells[i][cols[1]]
        and not _is_number(filled.cells[i][cols[1]])
    ):
        keys.append(cols[1])  # a group (华北) merged over rows, then the row's own key (北京)
    if _is_number(filled.cells[i][first]) and len(cols) > 1:
        return []  # no text key: the row is named by its number only
    return keys


def _row(
    filled: _Filled,
    i: int,
    names: list[str],
    units: list[str],
    serial: set[int],
    title: str,
    group: str,
    number: int,
) -> TableRow:
    values = filled.cells[i]
    keys = _key_columns(filled, i, names, serial)
    key = list(dict.fromkeys(v for v in [group, *(values[j] for j in keys)] if v))
    cells: list[tuple[list[str], str]] = []  # (column names, value), merged columns together
    last_origin = None
    for j, value in enumerate(values):
        if j in keys or j in serial or not value:
            continue
        origin = filled.origin[i][j]
        if cells and origin == last_origin:
            cells[-1][0].append(names[j])
            continue
        cells.append(([names[j]], _value(value, units[j])))
        last_origin = origin
    parts = []
    for cols, value in cells:
        label = "、".join(n for n in dict.fromkeys(cols) if n)
        parts.append(f"{label}：{value}" if label else value)
    text = " · ".join([title, *key, "，".join(parts)] if parts else [title, *key])
    label = f"{' · '.join(key)}（第{number}行）" if key else f"第{number}行"
    return TableRow(_SPACE.sub(" ", text).strip(), title, label)


def row_heading(path: Sequence[str], table: str, label: str) -> tuple[str, ...]:
    """A row chunk's heading path: the headings around the table, then 'table · row label'."""
    return (*(p for p in path if p != table), f"{table} · {label}")


# --- placing rows in a document's text ----------------------------------------------------------


def locate_rows(text: str, rows: Sequence[TableRow]) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, table, label) of each row line, found in order in the final ``text``."""
    spans, pos = [], 0
    for row in rows:
        at = text.find(row.text, pos)
        if at < 0:
            continue
        spans.append((at, at + len(row.text), row.table, row.label))
        pos = at + len(row.text)
    return tuple(spans)


_CAPTION_IN_TEXT = re.compile(r"[（(《]([^（）()《》]{2,30}表)[)）》]")


def caption_from(text: str) -> str:
    """A table's title from the paragraph before it: '附表1 差旅住宿费标准', or a name in
    brackets ('见下表（用印审批权限表）。')."""
    text = text.strip()
    m = _CAPTION_IN_TEXT.search(text)
    if m:
        return m.group(1)
    if text and len(text) <= 40 and not SENTENCE_END.search(text[-1:]) and text[-1:] != "：":
        return text
    return ""

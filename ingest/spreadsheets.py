"""Spreadsheets (.xlsx/.xlsm/.xls/.ods through python-calamine, .csv/.tsv) -> table rows.

Every visible sheet is one table (title: a title row merged across the sheet, else the sheet's
name, else the file's). The document text is, per sheet, its title as a heading line followed by
one line per data row (``tables.build_table``). A sheet longer than the row limit keeps its first
rows and says so in a note; a corrupt or password-protected workbook is a ``LoadError``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .errors import LoadError
from .tables import MAX_TABLE_ROWS, Grid, Table, TableRow, build_table, cell_text, rectangular

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv")
MAX_COLUMNS = 200
_HEADER_SLACK = 20  # rows read beyond the limit for title and header rows
_GENERIC_SHEET = re.compile(r"^(?:sheet|工作表|表)\s*\d*$", re.I)


@dataclass(frozen=True)
class TableText:
    """What a table-bearing loader found besides the text: the row lines, and notes on rows
    it left out (row limit)."""

    rows: tuple[TableRow, ...] = ()
    notes: tuple[str, ...] = ()


def load_spreadsheet(data: bytes, suffix: str, name: str, max_rows: int = MAX_TABLE_ROWS):
    """(text, heading spans, first heading, pages, TableText), like the other loaders."""
    if suffix in (".csv", ".tsv"):
        grids, notes = _csv_grids(data, name, max_rows)
    else:
        grids, notes = _workbook_grids(data, max_rows)
    tables: list[Table] = []
    for grid in grids:
        table = build_table(grid, name, max_rows)
        if table is not None:
            tables.append(table)
            if table.note:
                notes.append(f"{table.title}: {table.note}")
    if not tables:
        raise LoadError("spreadsheet holds no table rows (empty sheets?) / 表格为空")
    lines, spans, pos = [], [], 0
    for table in tables:
        if table.title != name:  # a sheet's own title heads its rows (the file's name is known)
            spans.append((pos, pos + len(table.title), 1))
            lines.append(table.title)
            pos += len(table.title) + 1
        for line in (r.text for r in table.rows):
            lines.append(line)
            pos += len(line) + 1
    rows = tuple(r for t in tables for r in t.rows)
    return "\n".join(lines), spans, None, [], TableText(rows, tuple(notes))


def _percent_cells(data: bytes, sheet: str, nrows: int) -> set[tuple[int, int]]:
    """(row, column), 0-based, of the numeric cells an .xlsx formats as percentages: calamine
    gives 0.8 where the sheet shows 80%."""
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = book[sheet].iter_rows(max_row=nrows, max_col=MAX_COLUMNS)
            return {
                (c.row - 1, c.column - 1)
                for row in rows
                for c in row
                if isinstance(c.value, int | float) and "%" in str(c.number_format or "")
            }
        finally:
            book.close()
    except Exception:  # formats are a nicety: the values are read already
        return set()


def _percent(value: object) -> str:
    return f"{value * 100:.10g}%" if isinstance(value, int | float) else cell_text(value)


def _workbook_grids(data: bytes, max_rows: int) -> tuple[list[Grid], list[str]]:
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise LoadError("password-protected spreadsheet / 表格已加密") from exc
    except Exception as exc:  # CalamineError, ZipError, XmlError, ValueError on garbage
        raise LoadError(
            f"corrupt or unreadable spreadsheet ({type(exc).__name__}) / 表格文件损坏或无法读取"
        ) from exc
    grids, notes = [], []
    xlsx = data[:2] == b"PK"  # .xlsx/.xlsm (a zip): openpyxl can read the number formats
    for meta in book.sheets_metadata:
        if (
            meta.visible != calamine.SheetVisibleEnum.Visible
            or meta.typ != calamine.SheetTypeEnum.WorkSheet
        ):
            continue
        try:
            sheet = book.get_sheet_by_name(meta.name)
            first = sheet.start[0] if sheet.start else 0
            # one row past the limit: build_table then notes that rows were left out
            values = sheet.to_python(
                skip_empty_area=False, nrows=first + max_rows + _HEADER_SLACK + 1
            )
            merges = sheet.merged_cell_ranges or []
        except Exception as exc:
            notes.append(f"sheet {meta.name}: unreadable ({type(exc).__name__}), skipped")
            continue
        if sheet.width > MAX_COLUMNS:
            notes.append(f"sheet {meta.name}: {sheet.width} columns, first {MAX_COLUMNS} read")
        percent = _percent_cells(data, meta.name, len(values)) if xlsx else set()
        cells = rectangular(
            [
                [
                    _percent(v) if (i, j) in percent else cell_text(v)
                    for j, v in enumerate(row[:MAX_COLUMNS])
                ]
                for i, row in enumerate(values)
            ]
        )
        ranges = tuple(
            (a[0], a[1], b[0], b[1]) for a, b in merges if a[0] < len(cells) and a[1] < MAX_COLUMNS
        )
        ranges = tuple(
            (r0, c0, min(r1, len(cells) - 1), min(c1, MAX_COLUMNS - 1)) for r0, c0, r1, c1 in ranges
        )
        title = "" if _GENERIC_SHEET.match(meta.name.strip()) else meta.name.strip()
        grids.append(Grid(cells, ranges, title, first_row=1))
    return grids, notes


def _csv_grids(data: bytes, name: str, max_rows: int) -> tuple[list[Grid], list[str]]:
    from .loaders import decode_text

    text = decode_text(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel_tab if "\t" in sample and "," not in sample else csv.excel
    rows, limit = [], max_rows + _HEADER_SLACK  # build_table notes the rows left out
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            rows.append([cell_text(v) for v in row[:MAX_COLUMNS]])
            if len(rows) > limit:
                break
    except csv.Error as exc:
        raise LoadError(f"malformed CSV ({exc}) / CSV 格式错误") from exc
    return [Grid(rectangular(rows), (), "", first_row=1)], []

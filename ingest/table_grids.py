"""Grids (cell texts + merged ranges) from tables inside documents: .docx and HTML.

A table that does not look like data (``tables.looks_like_data``: paragraphs in cells, a single
row or column, nested tables) returns None and its loader keeps reading it as text.
"""

from __future__ import annotations

from .tables import Grid, Merge, TableRow, build_table, caption_from, cell_text, looks_like_data
from .tables import rectangular as _rectangular


def _merges_from_identity(owners: list[list[object]]) -> tuple[Merge, ...]:
    """Merged ranges from a grid of cell objects: positions holding the same object."""
    boxes: dict[int, list[int]] = {}  # id(owner) -> box; ``owners`` keeps every id alive
    for i, row in enumerate(owners):
        for j, owner in enumerate(row):
            box = boxes.setdefault(id(owner), [i, j, i, j])
            box[2], box[3] = max(box[2], i), max(box[3], j)
    return tuple(tuple(b) for b in boxes.values() if b[2] > b[0] or b[3] > b[1])


def docx_rows(table, before: str, number: int) -> list[TableRow] | None:
    """Row lines of a python-docx table (None: not a data table). ``before`` is the paragraph
    preceding it (a caption such as '附表1 差旅住宿费标准'), ``number`` its place in the file."""
    try:
        owners = [[cell._tc for cell in row.cells] for row in table.rows]
        texts = [[cell_text(cell.text) for cell in row.cells] for row in table.rows]
    except Exception:  # malformed spans (python-docx raises on some gridSpan/vMerge mixes)
        return None
    if any(len(r) != len(owners[0]) for r in owners) or not looks_like_data(texts):
        return None
    grid = Grid(_rectangular(texts), _merges_from_identity(owners), caption_from(before))
    found = build_table(grid, f"表{number}")
    return list(found.rows) if found else None


def html_rows(table, number: int) -> list[TableRow] | None:
    """Row lines of a BeautifulSoup <table> (None: not a data table or a layout table)."""
    if table.find("table") is not None:
        return None
    caption = table.find("caption")
    title = cell_text(caption.get_text(" ")) if caption else ""
    if not title:
        previous = table.find_previous(["h1", "h2", "h3", "h4", "h5", "h6", "p"])
        title = caption_from(previous.get_text(" ")) if previous is not None else ""
    cells: dict[tuple[int, int], str] = {}
    merges: list[Merge] = []
    for i, tr in enumerate(table.find_all("tr")):
        j = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            while (i, j) in cells:
                j += 1
            rows, cols = _span(td.get("rowspan")), _span(td.get("colspan"))
            for di in range(rows):
                for dj in range(cols):
                    cells[(i + di, j + dj)] = cell_text(td.get_text(" ")) if not (di or dj) else ""
            if rows > 1 or cols > 1:
                merges.append((i, j, i + rows - 1, j + cols - 1))
            j += cols
    if not cells:
        return None
    height = max(i for i, _ in cells) + 1
    width = max(j for _, j in cells) + 1
    texts = [[cells.get((i, j), "") for j in range(width)] for i in range(height)]
    if not looks_like_data(texts):
        return None
    found = build_table(Grid(_rectangular(texts), tuple(merges), title), f"表{number}")
    return list(found.rows) if found else None


def _span(value) -> int:
    try:
        return max(1, min(int(str(value)), 100))
    except (TypeError, ValueError):
        return 1

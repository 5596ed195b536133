"""Word documents whose labels come from Word's automatic numbering, not from their text.

    PYTHONPATH=. python tests/data/make_numbered_docx.py OUT.docx [REG.md]

``numbered_regulation``: a real regulation (../shared/data Markdown) written with python-docx,
its 第X章 typed as one list (``第%1章`` in Chinese counting) and its 第X条 as another, counted
on across chapters, with the （一） items as the articles' second level, the way a drafter's Word
template numbers them; the labels are removed from the paragraphs' text. ``sampler``: one
paragraph per case of the numbering rules (formats, restarts, start overrides, a list continued
by a second instance, numbering from a paragraph style, multi-level text, bullets). LibreOffice
prints both to text, which is what the loader's labels are compared with.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from tests.data.make_office_formats import blocks

W = nsdecls("w")
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零]+条\s*")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十百零]+章\s*")
_ITEM = re.compile(r"^（[一二三四五六七八九十]+）\s*")


def lvl(ilvl: int, fmt: str, text: str, restart: int | None = None, suff: str = "space") -> str:
    extra = f'<w:lvlRestart w:val="{restart}"/>' if restart is not None else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>{extra}'
        f'<w:lvlText w:val="{text}"/><w:suff w:val="{suff}"/></w:lvl>'
    )


def define(document, abstract_id: int, levels: list[str]) -> None:
    root = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {W} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{"".join(levels)}</w:abstractNum>'
    )
    first_num = root.find(abstract.tag.replace("abstractNum", "num"))
    if first_num is not None:
        first_num.addprevious(abstract)  # every abstractNum before the first num (schema order)
    else:
        root.append(abstract)


def instance(document, num_id: int, abstract_id: int, start_at: dict[int, int] | None = None):
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{i}"><w:startOverride w:val="{v}"/></w:lvlOverride>'
        for i, v in (start_at or {}).items()
    )
    document.part.numbering_part.element.append(
        parse_xml(
            f'<w:num {W} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>'
            f"{overrides}</w:num>"
        )
    )


def numbered(paragraph, num_id: int, ilvl: int):
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )
    return paragraph


def numbered_regulation(markdown: Path, out: Path) -> Path:
    document = docx.Document()
    define(document, 89, [lvl(0, "chineseCounting", "第%1章")])
    define(document, 90, [lvl(0, "chineseCounting", "第%1条"), lvl(1, "chineseCounting", "（%2）")])
    instance(document, 89, 89)
    instance(document, 90, 90)
    for level, text in blocks(markdown.read_text(encoding="utf-8")):
        if level == 1:
            document.add_paragraph(text).alignment = 1
        elif _CHAPTER.match(text):
            numbered(document.add_paragraph(_CHAPTER.sub("", text)), 89, 0)
        elif _ARTICLE.match(text):
            numbered(document.add_paragraph(_ARTICLE.sub("", text)), 90, 0)
        elif _ITEM.match(text):
            numbered(document.add_paragraph(_ITEM.sub("", text)), 90, 1)
        else:
            document.add_paragraph(text)
    document.save(out)
    return out


def sampler(out: Path) -> Path:
    document = docx.Document()
    define(
        document,
        91,
        [lvl(0, "decimal", "%1."), lvl(1, "lowerLetter", "%2)"), lvl(2, "lowerRoman", "(%3)")],
    )
    define(
        document,
        92,
        [
            lvl(0, "chineseLegalSimplified", "%1、", suff="tab"),
            lvl(1, "ideographTraditional", "%2."),
            lvl(2, "decimalEnclosedCircle", "%3", suff="nothing"),
        ],
    )
    define(document, 93, [lvl(0, "decimal", "%1"), lvl(1, "decimal", "%1.%2")])
    define(document, 94, [lvl(0, "upperRoman", "%1."), lvl(1, "upperLetter", "%2.")])
    define(document, 95, [lvl(0, "chineseCounting", "第%1条")])
    define(document, 96, [lvl(0, "bullet", "\u2022")])
    define(document, 98, [lvl(0, "decimal", "%1."), lvl(1, "decimal", "%1.%2")])
    for num_id in (91, 92, 93, 94, 95, 96, 98):
        instance(document, num_id, num_id)
    instance(document, 97, 91, {0: 5})  # a new instance of list 91 starting at 5
    style = document.styles.add_style("条文", 1)  # a paragraph style numbered by list 95
    style.element.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {W}><w:ilvl w:val="0"/><w:numId w:val="95"/></w:numPr>')
    )
    cases = [(91, 0), (91, 1), (91, 1), (91, 2), (91, 2), (91, 1), (91, 2), (91, 0), (91, 1)]
    cases += [(92, 0), (92, 1), (92, 2), (92, 2), (92, 0), (92, 2), (92, 1)] + [(92, 0)] * 9
    cases += [(93, 0), (93, 1), (93, 1), (93, 0), (93, 1), (94, 0), (94, 1), (94, 0), (94, 0)]
    cases += [(96, 0), (96, 0), (97, 0), (97, 1), (97, 0), (98, 1), (98, 1), (98, 0), (98, 1)]
    for i, (num_id, ilvl) in enumerate(cases):
        numbered(document.add_paragraph(f"条目{i}"), num_id, ilvl)
    for i in range(12):
        document.add_paragraph(f"按样式编号的条文{i}", style="条文")
    document.add_paragraph("没有编号的段落")
    document.save(out)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1])
    if len(sys.argv) > 2:
        numbered_regulation(Path(sys.argv[2]), target)
    else:
        sampler(target)

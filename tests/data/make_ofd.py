"""Write minimal, valid OFD files (GB/T 33190-2016) from text and page images.

    python tests/data/make_ofd.py REGULATION.md OUT.ofd [--pages 3] [--image-page 2]

The package follows the spec's layout: ``OFD.xml`` (DocBody: DocInfo, DocRoot) ->
``Doc_0/Document.xml`` (CommonData: MaxUnitID, PageArea, PublicRes, DocumentRes; Pages) ->
``Doc_0/Pages/Page_N/Content.xml`` (Layer of TextObjects with TextCode X/Y/DeltaX, or one
ImageObject for a scanned page), fonts in ``PublicRes.xml``, images in ``DocumentRes.xml`` and
``Doc_0/Res/``. Text is laid out like a printed regulation: A4, 16 mm margins, a first-line indent
of two characters, lines wrapped at the right margin. ``shuffle`` writes a page's TextObjects in
random order and cuts each line into two objects, to check that readers follow the coordinates
rather than the file order.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://www.ofdspec.org/2016"
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 16.0
SIZE = 4.2  # font size in mm (about 12 pt)
LEADING = 7.0  # baseline to baseline, mm
PER_LINE = int((PAGE_W - 2 * MARGIN) // SIZE)
LINES_PER_PAGE = int((PAGE_H - 2 * MARGIN) // LEADING)
FIXED = (2024, 3, 1, 9, 0, 0)


@dataclass(frozen=True)
class Line:
    x: float  # mm from the page's left edge
    baseline: float  # mm from the page's top edge
    text: str


def layout(paragraphs: list[str]) -> list[list[Line]]:
    """Paragraphs -> pages of positioned lines (indent two characters, wrap at the margin)."""
    pages: list[list[Line]] = [[]]
    for para in paragraphs:
        rest, first = para, True
        while rest:
            indent = 2 if first else 0
            take = PER_LINE - indent
            chunk, rest, first = rest[:take], rest[take:], False
            if len(pages[-1]) >= LINES_PER_PAGE:
                pages.append([])
            y = MARGIN + LEADING * (len(pages[-1]) + 1)
            pages[-1].append(Line(MARGIN + indent * SIZE, y, chunk))
    return pages


def _text_object(oid: int, line: Line, start: int = 0) -> str:
    x0 = line.x + start * SIZE
    width = len(line.text) * SIZE
    deltas = f"g {len(line.text) - 1} {SIZE}" if len(line.text) > 1 else ""
    delta = f' DeltaX="{deltas}"' if deltas else ""
    return (
        f'<ofd:TextObject ID="{oid}" Boundary="{x0:.2f} {line.baseline - SIZE:.2f} '
        f'{width + SIZE:.2f} {SIZE * 1.5:.2f}" Font="2" Size="{SIZE}">'
        f'<ofd:FillColor Value="0 0 0"/>'
        f'<ofd:TextCode X="0" Y="{SIZE:.2f}"{delta}>{escape(line.text)}</ofd:TextCode>'
        f"</ofd:TextObject>"
    )


def text_content(lines: list[Line], first_id: int, shuffle: bool = False, seed: int = 0) -> str:
    objects, oid = [], first_id
    for line in lines:
        if shuffle and len(line.text) > 4:
            cut = len(line.text) // 2
            parts = [
                (Line(line.x, line.baseline, line.text[:cut]), 0),
                (Line(line.x, line.baseline, line.text[cut:]), cut),
            ]
        else:
            parts = [(line, 0)]
        for part, start in parts:
            objects.append(_text_object(oid, part, start))
            oid += 1
    if shuffle:
        random.Random(seed).shuffle(objects)
    return _page("".join(objects), first_id + 10_000)


def image_content(resource_id: int, oid: int) -> str:
    w, h = PAGE_W, PAGE_H
    return _page(
        f'<ofd:ImageObject ID="{oid}" Boundary="0 0 {w} {h}" CTM="{w} 0 0 {h} 0 0" '
        f'ResourceID="{resource_id}"/>',
        oid + 1,
    )


def _page(objects: str, layer_id: int) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="{NS}">'
        f"<ofd:Area><ofd:PhysicalBox>0 0 {PAGE_W} {PAGE_H}</ofd:PhysicalBox></ofd:Area>"
        f'<ofd:Content><ofd:Layer ID="{layer_id}">{objects}</ofd:Layer></ofd:Content></ofd:Page>'
    )


def write_ofd(out: Path, pages: list, *, title: str = "", shuffle: bool = False) -> Path:
    """``pages``: each a list of ``Line`` (a text page) or a PIL image (a scanned page)."""
    files: dict[str, bytes] = {}
    page_refs, media, next_id = [], [], 100
    for i, page in enumerate(pages):
        loc = f"Pages/Page_{i}/Content.xml"
        if isinstance(page, list):
            xml = text_content(page, next_id, shuffle, seed=i)
            next_id += 20_000
        else:
            buffer = io.BytesIO()
            page.convert("L").save(buffer, "PNG")
            files[f"Doc_0/Res/image_{i}.png"] = buffer.getvalue()
            media.append(
                f'<ofd:MultiMedia ID="{next_id}" Type="Image" Format="PNG">'
                f"<ofd:MediaFile>image_{i}.png</ofd:MediaFile></ofd:MultiMedia>"
            )
            xml = image_content(next_id, next_id + 1)
            next_id += 10
        files[f"Doc_0/{loc}"] = xml.encode("utf-8")
        page_refs.append(f'<ofd:Page ID="{i + 1}" BaseLoc="{loc}"/>')
    files["OFD.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="{NS}" Version="1.1" '
        f'DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>policyqa-test</ofd:DocID>'
        f"<ofd:Title>{escape(title)}</ofd:Title><ofd:CreationDate>2024-03-01</ofd:CreationDate>"
        f"</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    ).encode()
    files["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{next_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W} "
        f"{PAGE_H}</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        f"<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>"
        f"<ofd:Pages>{''.join(page_refs)}</ofd:Pages></ofd:Document>"
    ).encode()
    files["Doc_0/PublicRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">'
        f'<ofd:Fonts><ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
    ).encode()
    files["Doc_0/DocumentRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">'
        f"<ofd:MultiMedias>{''.join(media)}</ofd:MultiMedias></ofd:Res>"
    ).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, FIXED), data, zipfile.ZIP_DEFLATED)
    return out


def regulation_ofd(
    md_path: Path,
    out: Path,
    *,
    pages: int | None = None,
    image_pages: tuple[int, ...] = (),
    dpi: int = 150,
    shuffle: bool = False,
) -> Path:
    """A regulation from Markdown as OFD; pages numbered in ``image_pages`` (1-based) are
    rendered to images (a scan inside the OFD) instead of carrying text."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_scans import regulation_paragraphs

    paragraphs = [t for _, t in regulation_paragraphs(md_path.read_text(encoding="utf-8"))]
    laid = layout(paragraphs)[:pages]
    out_pages = [render(p, dpi) if i + 1 in image_pages else p for i, p in enumerate(laid)]
    return write_ofd(out, out_pages, title=paragraphs[0] if paragraphs else "", shuffle=shuffle)


def render(lines: list[Line], dpi: int = 150):
    """A text page drawn as an image (Noto CJK), as a scanner would have captured it."""
    from PIL import Image, ImageDraw, ImageFont

    px = dpi / 25.4
    image = Image.new("L", (round(PAGE_W * px), round(PAGE_H * px)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(_cjk_font(), round(SIZE * px))
    for line in lines:
        draw.text((line.x * px, line.baseline * px), line.text, font=font, fill=0, anchor="ls")
    return image


def _cjk_font() -> str:
    for path in (
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ):
        if Path(path).exists():
            return path
    raise FileNotFoundError("no CJK font (apt-get install fonts-noto-cjk)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("markdown", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int)
    parser.add_argument("--image-page", type=int, action="append", default=[])
    parser.add_argument("--shuffle", action="store_true")
    a = parser.parse_args()
    regulation_ofd(
        a.markdown, a.out, pages=a.pages, image_pages=tuple(a.image_page), shuffle=a.shuffle
    )
    print(f"{a.out}: {a.out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()

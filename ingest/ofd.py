"""OFD (GB/T 33190-2016, the national fixed-layout format): a zip of XML -> text with pages.

No maintained library fits (BENCHMARKS.md): ``easyofd`` writes the upload into the working
directory, unpacks it to disk and pulls in PyMuPDF; ``ofdparser`` has not been released since
2023. So this reads the container with ``zipfile`` and the XML with lxml, following the spec:

    OFD.xml  DocBody/DocRoot ──▶ Document.xml  Pages/Page@BaseLoc ──▶ Content.xml
                                                CommonData/TemplatePage, PublicRes, DocumentRes

Text is every TextObject/TextCode of a page (and of its templates), placed by the object's
Boundary, CTM and the code's X/Y/DeltaX, and put in reading order by the same line and paragraph
rebuilding as OCR boxes (``ingest.layout.page_text``). A page with images but no text is drawn
from its image resources and recognised by OCR. Nothing is extracted to disk.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

from .errors import LoadError
from .layout import Box, page_text
from .ocr import ocr_pages

NS = "http://www.ofdspec.org/2016"
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # an OFD inflating past this is treated as a zip bomb
OCR_DPI = 200
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")


def _floats(value: str | None) -> list[float]:
    return [float(v) for v in _NUMBER.findall(value or "")]


def delta_x(value: str | None) -> list[float]:
    """DeltaX as a list of advances: ``"g 3 4.2 5"`` (repeat 4.2 three times) -> [4.2]*3 + [5]."""
    out: list[float] = []
    tokens = (value or "").split()
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            out.extend([float(tokens[i + 2])] * int(float(tokens[i + 1])))
            i += 3
        else:
            out.append(float(tokens[i]))
            i += 1
    return out


class _Package:
    """The zip and its XML parts, looked up by path inside the package."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise LoadError("not a valid OFD (not a zip archive) / 不是有效的 OFD 文件") from exc
        if sum(i.file_size for i in self.zip.infolist()) > MAX_UNCOMPRESSED:
            raise LoadError("OFD inflates to an implausible size (zip bomb?) / 解压后体积异常")
        self.names = {n.lstrip("/"): n for n in self.zip.namelist()}
        self.lower = {n.lower(): n for n in self.names}

    def read(self, path: str) -> bytes:
        key = path if path in self.names else self.lower.get(path.lower())
        if key is None:
            raise LoadError(f"OFD part missing: {path} / OFD 文件缺少 {path}")
        return self.zip.read(self.names[key])

    def xml(self, path: str):
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            return etree.fromstring(self.read(path), parser)
        except etree.XMLSyntaxError as exc:
            raise LoadError(f"OFD part {path} is not valid XML ({exc.msg}) / OFD 文件损坏") from exc


def _resolve(base_file: str, loc: str) -> str:
    """A path inside the package: ``loc`` relative to the folder of ``base_file`` unless it
    starts with '/'."""
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_file), loc))


def _base_loc(element) -> str:
    """A part's location: the BaseLoc attribute (the spec), or a BaseLoc child (some writers)."""
    return element.get("BaseLoc") or _child_text(element, "{*}BaseLoc") or ""


def _child_text(element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _objects(element, kind: str):
    """TextObject / ImageObject elements of a page, inside layers, page blocks and composites."""
    return element.iterfind(f".//{{*}}{kind}")


def _transform(ctm: list[float], x: float, y: float) -> tuple[float, float]:
    if len(ctm) != 6:
        return x, y
    a, b, c, d, e, f = ctm
    return a * x + c * y + e, b * x + d * y + f


def text_boxes(content) -> list[Box]:
    """One box per TextCode run, in page millimetres (y grows downwards, as in OFD)."""
    boxes = []
    for obj in _objects(content, "TextObject"):
        bx, by = (_floats(obj.get("Boundary")) + [0.0, 0.0])[:2]
        size = (_floats(obj.get("Size")) or [3.5])[0]
        ctm = _floats(obj.get("CTM"))
        scale = abs(ctm[3]) if len(ctm) == 6 and ctm[3] else 1.0
        x = y = 0.0
        for code in obj.iterfind("{*}TextCode"):
            text = code.text or ""
            x = (_floats(code.get("X")) or [x])[0]
            y = (_floats(code.get("Y")) or [y])[0]
            advances = delta_x(code.get("DeltaX"))
            starts = [x]  # each character's x: DeltaX, else one font size
            for i in range(1, len(text)):
                starts.append(starts[-1] + (advances[i - 1] if i - 1 < len(advances) else size))
            ink = [i for i, ch in enumerate(text) if not ch.isspace()]
            if ink:
                x0, y1 = _transform(ctm, starts[ink[0]], y)
                x1, _ = _transform(ctm, starts[ink[-1]] + size, y)
                h = size * scale
                boxes.append(
                    Box(
                        bx + x0, by + y1 - h, bx + x1, by + y1 + 0.2 * h, text[ink[0] : ink[-1] + 1]
                    )
                )
            x = starts[-1] + size if text else x
    return boxes


class _Document:
    """One Document.xml: its pages, templates, page size and image resources."""

    def __init__(self, pkg: _Package, path: str) -> None:
        self.pkg, self.path = pkg, path
        root = pkg.xml(path)
        self.pages = [_resolve(path, _base_loc(p)) for p in root.iterfind("{*}Pages/{*}Page")]
        common = root.find("{*}CommonData")
        self.templates, self.media, self.size = {}, {}, [210.0, 297.0]
        if common is None:
            return
        box = _floats(_child_text(common, "{*}PageArea/{*}PhysicalBox"))
        if len(box) == 4:
            self.size = box[2:]
        for t in common.iterfind("{*}TemplatePage"):
            self.templates[t.get("ID")] = _resolve(path, _base_loc(t))
        for res in [*common.iterfind("{*}PublicRes"), *common.iterfind("{*}DocumentRes")]:
            if res.text:
                self._read_res(_resolve(path, res.text))

    def _read_res(self, res_path: str) -> None:
        try:
            res = self.pkg.xml(res_path)
        except LoadError:
            return  # a missing resource file loses images, not the text
        base = _resolve(res_path, res.get("BaseLoc", "") or ".")
        for media in res.iterfind(".//{*}MultiMedia"):
            file = _child_text(media, "{*}MediaFile")
            if file:
                self.media[media.get("ID")] = _resolve(base + "/x", file)

    def content(self, number: int):
        """The Content.xml root of page ``number`` (1-based) and those of its templates."""
        page = self.pkg.xml(self.pages[number - 1])
        parts = [page]
        for t in page.iterfind("{*}Template"):
            if t.get("TemplateID") in self.templates:
                try:
                    parts.append(self.pkg.xml(self.templates[t.get("TemplateID")]))
                except LoadError:
                    pass
        return parts

    def page_size(self, content) -> list[float]:
        box = _floats(_child_text(content, "{*}Area/{*}PhysicalBox"))
        return box[2:] if len(box) == 4 else self.size

    def draw_images(self, parts: list):
        """The page's images pasted at their Boundary on a white page, for OCR; None if it
        has no readable image."""
        from PIL import Image, UnidentifiedImageError

        w, h = self.page_size(parts[0])
        px = OCR_DPI / 25.4
        canvas, drawn = Image.new("L", (max(1, round(w * px)), max(1, round(h * px))), 255), 0
        for part in parts:
            for obj in _objects(part, "ImageObject"):
                path = self.media.get(obj.get("ResourceID"))
                box = _floats(obj.get("Boundary"))
                if path is None or len(box) != 4 or box[2] <= 0 or box[3] <= 0:
                    continue
                try:
                    image = Image.open(io.BytesIO(self.pkg.read(path))).convert("L")
                except (LoadError, UnidentifiedImageError, OSError):
                    continue
                size = (max(1, round(box[2] * px)), max(1, round(box[3] * px)))
                canvas.paste(image.resize(size), (round(box[0] * px), round(box[1] * px)))
                drawn += 1
        return canvas if drawn else None


def _document_path(pkg: _Package) -> str:
    root = pkg.xml("OFD.xml")
    if root.tag != f"{{{NS}}}OFD" and not root.tag.endswith("OFD"):
        raise LoadError("OFD.xml is not an OFD entry file / 不是有效的 OFD 文件")
    doc_root = _child_text(root, "{*}DocBody/{*}DocRoot")
    if not doc_root:
        raise LoadError("OFD.xml names no document (DocRoot) / OFD 文件缺少文档")
    return _resolve("OFD.xml", doc_root)


def load_ofd(data: bytes) -> tuple[str, list, str | None, list]:
    """Text of the first document of an OFD package, with page spans; image-only pages OCR'd."""
    pkg = _Package(data)
    doc = _Document(pkg, _document_path(pkg))
    if not doc.pages:
        raise LoadError("OFD document has no pages / OFD 文件没有页面")
    texts: dict[int, str] = {}
    scans = []
    for number in range(1, len(doc.pages) + 1):
        parts = doc.content(number)
        boxes = [b for part in parts for b in text_boxes(part)]
        if boxes:
            texts[number] = page_text(boxes)
        elif any(True for part in parts for _ in _objects(part, "ImageObject")):
            scans.append((number, (lambda p=parts: doc.draw_images(p))))
    if scans:
        drawn = [(n, draw) for n, draw in scans]
        texts.update(ocr_pages([(n, _blank_if_none(draw)) for n, draw in drawn]))
    out, spans, pos = [], [], 0
    for number in sorted(texts):
        page = texts[number].strip("\n")
        if page.strip():
            spans.append((pos, pos + len(page), number))
            out.append(page)
            pos += len(page) + 1
    if not out:
        raise LoadError("OFD has no text and no readable page image / OFD 文件中未找到文字")
    return "\n".join(out), [], None, spans


def _blank_if_none(draw):
    def render():
        from PIL import Image

        image = draw()
        return image if image is not None else Image.new("L", (8, 8), 255)

    return render

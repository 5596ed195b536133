"""Make "scanned" regulation pages: Markdown -> .docx -> PDF (LibreOffice) -> page images
(pdftoppm) -> optional noise and skew -> an image-only PDF.

    python tests/data/make_scans.py REGULATION.md OUT.pdf [--dpi 150] [--pages 3] [--noise 8]
        [--angle 0.6] [--quality 70]

Used by the OCR tests, by ``bench/ocr.py`` and to make the scanned sample in corpus/. The text
the pages were rendered from is known, so OCR output can be scored against it.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

_COMMENT = re.compile(r"<!--.*?-->", re.S)


def regulation_paragraphs(md_text: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) of each paragraph of a regulation in Markdown."""
    out = []
    for block in _COMMENT.sub("", md_text).split("\n"):
        line = block.strip()
        if not line:
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        out.append((len(m.group(1)), m.group(2).strip()) if m else (0, line))
    return out


def regulation_docx(md_text: str, out: Path) -> Path:
    """A plain Word file of the regulation: title and chapters as headings, articles as body."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    for style in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        font = document.styles[style].font
        font.name = "Noto Serif CJK SC"
        font.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    document.styles["Normal"].font.size = Pt(12)
    for level, text in regulation_paragraphs(md_text):
        if level:
            paragraph = document.add_heading(text, level=min(level, 3))
            if level <= 2:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            paragraph = document.add_paragraph(text)
            paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters, as in print
            paragraph.paragraph_format.space_after = Pt(0)
    document.save(out)
    return out


def to_pdf(source: Path, out_dir: Path, timeout: float = 180) -> Path:
    """Convert with LibreOffice headless (private profile, so parallel runs do not collide)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    return out_dir / (source.stem + ".pdf")


def regulation_pdf(md_path: Path, out_dir: Path) -> Path:
    """The regulation as a text-layer PDF, as Word + "save as PDF" would make it."""
    docx_path = regulation_docx(md_path.read_text(encoding="utf-8"), out_dir / "regulation.docx")
    return to_pdf(docx_path, out_dir)


def page_images(pdf: Path, dpi: int = 150, pages: int | None = None) -> list:
    """Grey page images of ``pdf`` rendered by pdftoppm (poppler)."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="scan-") as tmp:
        cmd = ["pdftoppm", "-r", str(dpi), "-gray", "-png"]
        if pages:
            cmd += ["-l", str(pages)]
        subprocess.run([*cmd, str(pdf), f"{tmp}/p"], check=True, capture_output=True)
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(f).copy() for f in files]


def degrade(image, noise: float = 0.0, angle: float = 0.0, seed: int = 0):
    """A scanner's faults: Gaussian grain (std in grey levels) and a slight skew (degrees)."""
    import numpy as np
    from PIL import Image

    image = image.convert("L")
    if angle:
        image = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    if noise:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, noise, image.size[::-1])
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image


def images_to_pdf(images: list, out: Path, dpi: int, quality: int = 70) -> Path:
    """An image-only PDF (no text layer), each page one JPEG at ``dpi``: what a scanner makes.
    Uses img2pdf when it is installed (lossless embedding of the JPEG), else Pillow."""
    try:
        import img2pdf
    except ImportError:
        img2pdf = None
    jpegs = []
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
        jpegs.append(buffer.getvalue())
    if img2pdf is not None:
        out.write_bytes(img2pdf.convert(jpegs))
    else:
        from PIL import Image

        pages = [Image.open(io.BytesIO(j)) for j in jpegs]
        pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out


def scanned_regulation(
    md_path: Path,
    out: Path,
    *,
    dpi: int = 150,
    pages: int | None = None,
    noise: float = 0.0,
    angle: float = 0.0,
    quality: int = 70,
) -> Path:
    """``md_path`` rendered, "printed" and "scanned" into the image-only PDF ``out``."""
    with tempfile.TemporaryDirectory(prefix="scanreg-") as tmp:
        pdf = regulation_pdf(md_path, Path(tmp))
        images = [
            degrade(im, noise, angle * (-1) ** i, seed=i)
            for i, im in enumerate(page_images(pdf, dpi, pages))
        ]
    return images_to_pdf(images, out, dpi, quality)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("markdown", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--pages", type=int)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--angle", type=float, default=0.0)
    parser.add_argument("--quality", type=int, default=70)
    a = parser.parse_args()
    scanned_regulation(
        a.markdown, a.out, dpi=a.dpi, pages=a.pages, noise=a.noise, angle=a.angle, quality=a.quality
    )
    print(f"{a.out}: {a.out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()

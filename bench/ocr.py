"""OCR engines on real regulation pages "scanned" here: character accuracy and speed.

    python bench/ocr.py [--regulations 4] [--pages 2] [--engines rapidocr,tesseract]
        [--variants 150,200,200n] [--threads 2]

Each regulation of ../shared/data/office-regulations is rendered to PDF by LibreOffice (via a
Word file, tests/data/make_scans.py), its first pages rasterised by pdftoppm at 150 or 200 dpi,
optionally degraded ("n": grain std 8 and a 0.7 degree skew; "s": grain std 16, 1.5 degrees, JPEG
quality 40) and JPEG-compressed like a scanner's output. The text layer of the same PDF page is the reference.

Per engine and variant it prints: character accuracy (1 - edit distance / reference length,
whitespace removed, NFKC), the share of the page's 第X条 labels that start a line of the OCR
output, wall seconds per page and CPU seconds per page (all threads and child processes).

Engines: ``rapidocr`` as ingest runs it (ingest/ocr.py: packaged PP-OCRv4 models, ``--threads``
single-threaded engines on pages in parallel, lines recognised one by one at height 32, boxes
rebuilt into paragraphs), ``rapidocr-h48`` (the same at the model's native height 48),
``rapidocr-default`` (the package's defaults: height 48, batches of 6, ONNX threads = cores, one
page at a time), ``tesseract`` (tesseract-ocr chi_sim, --psm 3, one OpenMP thread per process,
``--threads`` pages in parallel; its own line layout).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

import numpy as np  # noqa: E402
from make_scans import degrade, page_images, regulation_pdf  # noqa: E402

from ingest import ocr  # noqa: E402
from ingest.layout import Box, page_text  # noqa: E402
from ingest.ocr import OcrRun, RapidOcrEngine  # noqa: E402
from ingest.statutes import article_start  # noqa: E402

REGULATIONS = ROOT.parent / "shared" / "data" / "office-regulations"
# not in corpus/, of varied layout: long titles, chapters, enumerations
DEFAULT_LAWS = [
    "审计法实施条例",
    "密码法",
    "统计法实施条例",
    "规章制定程序条例",
    "会计法",
    "网络安全法",
]


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def accuracy(ocr: str, ref: str) -> float:
    r, o = normalise(ref), normalise(ocr)
    return max(0.0, 1 - edit_distance(o, r) / max(1, len(r)))


def labels(text: str) -> list[str]:
    """Article labels opening a line, as the chunker sees them (with or without a space)."""
    return [found[0] for found in map(article_start, text.split("\n")) if found]


def labels_found(ocr: str, ref_labels: list[str]) -> int:
    found = labels(ocr)
    return sum(label in found for label in ref_labels)


# variant suffix -> (grain std, skew in degrees, JPEG quality)
DEGRADE = {"": (0, 0.0, 70), "n": (8, 0.7, 70), "s": (16, 1.5, 40)}


def make_pages(laws: list[str], pages: int, variants: list[str]):
    """{variant: [(image, reference text)]}"""
    import pypdfium2 as pdfium
    from PIL import Image

    out: dict[str, list] = {v: [] for v in variants}
    for law in laws:
        (md,) = [p for p in REGULATIONS.glob(f"{law}(*.md")]
        with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
            pdf = regulation_pdf(md, Path(tmp))
            doc = pdfium.PdfDocument(pdf)
            refs = [doc[i].get_textpage().get_text_range() for i in range(min(pages, len(doc)))]
            doc.close()
            for v in variants:
                dpi, kind = int(v.rstrip("ns")), v.lstrip("0123456789")
                noise, angle, quality = DEGRADE[kind]
                for i, im in enumerate(page_images(pdf, dpi, pages)):
                    im = degrade(im, noise, angle * (-1) ** i, seed=i)
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=quality)
                    out[v].append((Image.open(io.BytesIO(buf.getvalue())).copy(), refs[i]))
    return out


def cpu_seconds() -> float:
    self_, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def _boxes(result) -> list[Box]:
    return [
        Box(
            min(p[0] for p in q),
            min(p[1] for p in q),
            max(p[0] for p in q),
            max(p[1] for p in q),
            t,
        )
        for q, t, _ in result or ()
    ]


def run_rapidocr_default(images, threads: int) -> list[str]:
    """The package's defaults: recognition at height 48 in batches of 6, ONNX threads = cores."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    return [page_text(_boxes(engine(np.asarray(im.convert("RGB")))[0])) for im in images]


def run_rapidocr(images, threads: int, rec_height: int = 32) -> list[str]:
    """As ingest runs it (ingest/ocr.py OcrRun): ``threads`` single-threaded engines in
    parallel, lines one by one at height ``rec_height``."""
    run = OcrRun(workers=threads, quiet=True)
    if rec_height != 32:
        for _ in range(threads):
            run._engines.put(RapidOcrEngine(rec_height=rec_height))
        run._made = threads
    texts = run.recognise([(i, (lambda im=im: im)) for i, im in enumerate(images)])
    return [texts[i] for i in range(len(images))]


def _tesseract(image) -> str:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "chi_sim", "--psm", "3"],
        input=buf.getvalue(),
        capture_output=True,
        env=env,
        check=True,
    )
    return done.stdout.decode("utf-8")


def run_tesseract(images, threads: int) -> list[str]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(_tesseract, images))


ENGINES = {
    "rapidocr-default": run_rapidocr_default,
    "rapidocr-h48": lambda images, threads: run_rapidocr(images, threads, 48),
    "rapidocr": run_rapidocr,
    "tesseract": run_tesseract,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--laws", default=",".join(DEFAULT_LAWS[:4]))
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--variants", default="150,200,200n,200s")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--max-side",
        type=int,
        default=ocr.MAX_SIDE,
        help="longer side of the image given to RapidOCR (ingest's default)",
    )
    a = parser.parse_args()
    ocr.MAX_SIDE = a.max_side
    variants = a.variants.split(",")
    pages = make_pages(a.laws.split(","), a.pages, variants)
    print(
        f"load average before: {os.getloadavg()[0]:.1f}; threads {a.threads}; "
        f"RapidOCR image side {a.max_side}"
    )
    print("engine           variant pages  char-acc  labels   s/page(wall)  s/page(cpu)")
    for engine in a.engines.split(","):
        for v in variants:
            images, refs = zip(*pages[v], strict=True)
            wall, cpu = time.perf_counter(), cpu_seconds()
            texts = ENGINES[engine](list(images), a.threads)
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            acc = sum(accuracy(t, r) for t, r in zip(texts, refs, strict=True)) / len(refs)
            ref_labels = [labels(r) for r in refs]
            found = sum(labels_found(t, lab) for t, lab in zip(texts, ref_labels, strict=True))
            total = sum(map(len, ref_labels))
            n = len(refs)
            print(
                f"{engine:16} {v:7} {n:5}  {acc:8.4f}  {found:3}/{total:<3}  {wall / n:12.2f}"
                f"  {cpu / n:11.2f}",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""OCR of pages without a text layer: scanned PDF pages, image-only OFD pages, image files.

The engine is RapidOCR (PP-OCRv4 Chinese detection + recognition, ONNX models shipped inside
the ``rapidocr-onnxruntime`` wheel; nothing is downloaded), chosen over tesseract chi_sim by
``bench/ocr.py`` (BENCHMARKS.md). Its boxes are rebuilt into lines and paragraphs by layout.py,
so that 第X条 starts a line as in the printed page.

One ``OcrRun`` per ingest run loads the model sessions once, bounds the work (pages per
document, seconds per document), reports progress per page and records which documents were
recognised. Loaders reach the active run through ``current_run()``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field

from .errors import LoadError
from .layout import Box, deskewed, page_text
from .records import OcrDocument

Progress = Callable[[str, int, int], None]  # (stage, done, total), as in ingest.pipeline

DEFAULT_MAX_PAGES = 100  # pages recognised per document; the rest is left out (reported)
DEFAULT_MAX_SECONDS = 90.0  # OCR time per document, below the loader's 120 s per-file limit
IMAGES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")  # image files of document pages
MAX_IMAGE_PIXELS = 40_000_000  # larger images are refused (decompression bombs)
# Longer side of a page image given to the engine: about 110 dpi for A4. Detection and the line
# crops shrink with it; on 12 pt body text it reads as well as 150-200 dpi at half the time
# (bench/ocr.py, BENCHMARKS.md).
MAX_SIDE = 1280


# --- engine ---------------------------------------------------------------------------------


class RapidOcrEngine:
    """RapidOCR with its packaged PP-OCRv4 models; sessions created once, reused per page.

    Single-threaded by default (the run recognises pages in parallel instead, which scales
    better on few cores than ONNX intra-op threads). Lines are recognised one by one
    (``batch=1``: padding lines to the widest of a batch wastes a third of the time) at height
    ``rec_height`` (32 instead of the model's 48 cuts the time by half at the same accuracy on
    printed pages; bench/ocr.py)."""

    name = "rapidocr"

    def __init__(self, threads: int = 1, rec_height: int = 32, batch: int = 1) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise LoadError(
                f"OCR engine unavailable ({exc}; pip install rapidocr-onnxruntime, "
                "apt-get install libgl1) / 文字识别引擎不可用"
            ) from exc
        self._ocr = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
            use_cls=False,
            rec_img_shape=[3, rec_height, 320],
            rec_batch_num=batch,
        )

    def boxes(self, image) -> list[Box]:
        """Text boxes of one page image (a PIL image or an RGB/grey numpy array)."""
        import numpy as np

        pixels = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
        result, _ = self._ocr(pixels, use_cls=False)
        return deskewed((quad, text) for quad, text, _score in result or ())


# --- images ---------------------------------------------------------------------------------


def fit(image):
    """``image`` in grey, its longer side at most MAX_SIDE (the engine's cost grows with
    pixels). Refuses images past MAX_IMAGE_PIXELS."""
    w, h = image.size
    if w * h > MAX_IMAGE_PIXELS:
        raise LoadError(f"image too large ({w}x{h} pixels) / 图片尺寸过大")
    image = image.convert("L")
    scale = MAX_SIDE / max(w, h)
    if scale < 1:
        image = image.resize((round(w * scale), round(h * scale)), resample=3)  # bicubic
    return image


def open_image_pages(data: bytes) -> list:
    """The pages of an image file (PNG, JPEG, multi-page TIFF...) as PIL images."""
    import io

    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
            raise LoadError(
                f"image too large ({image.size[0]}x{image.size[1]} pixels) / 图片尺寸过大"
            )
        pages = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except LoadError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LoadError(f"not a readable image ({type(exc).__name__}) / 无法读取图片") from exc
    return pages


# --- one run --------------------------------------------------------------------------------


@dataclass
class OcrRun:
    """OCR for one ingest run: engines loaded on first use (one per worker, kept for the run),
    limits per document, progress per page, and the record of what was recognised."""

    max_pages: int = DEFAULT_MAX_PAGES
    max_seconds: float = DEFAULT_MAX_SECONDS
    workers: int = 0  # pages recognised in parallel; 0 = number of cores
    quiet: bool = True
    progress: Progress | None = None
    documents: list[OcrDocument] = field(default_factory=list)
    source: str = ""  # the document being loaded (set by load_file)
    _engines: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _relayed: tuple | None = None  # (source, page bar) of pages recognised in the worker

    def _workers(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    def _text(self, image) -> str:
        """One page, on a worker thread, with an engine no other thread is using."""
        with self._lock:
            if self._engines.empty() and self._made < self._workers():
                self._engines.put(RapidOcrEngine())
                self._made += 1
        engine = self._engines.get()
        try:
            return page_text(engine.boxes(image))
        finally:
            self._engines.put(engine)

    def recognise(self, pages: list[tuple[int, Callable[[], object]]]) -> dict[int, str]:
        """Text of each page, by page number. ``pages`` pairs a page number with a function
        returning its image (rendered on this thread when its turn comes). Pages past
        ``max_pages`` or after ``max_seconds`` are left out and noted."""
        if not pages:
            return {}
        started, done, note = time.perf_counter(), {}, ""
        todo = pages[: self.max_pages]
        if len(pages) > self.max_pages:
            note = (
                f"OCR limited to the first {self.max_pages} of {len(pages)} image pages "
                f"/ 仅识别前 {self.max_pages} 页"
            )
        pending: deque = deque()

        def collect(upto: int) -> None:
            """Take finished pages, in page order, until at most ``upto`` are pending."""
            while len(pending) > upto:
                number, future = pending.popleft()
                try:
                    done[number] = future.result()
                except Exception as exc:  # an engine failure loses the document, not the run
                    raise LoadError(
                        f"OCR failed on page {number} ({type(exc).__name__}) / 文字识别失败"
                    ) from exc
                bar.update(1)
                if self.progress:
                    self.progress("ocr", len(done), len(todo))

        if self.progress:  # the stage starts: the bar shows 0 of N while page 1 is read
            self.progress("ocr", 0, len(todo))
        with self._bar(len(todo)) as bar, ThreadPoolExecutor(self._workers()) as pool:
            for number, render in todo:
                if (done or pending) and time.perf_counter() - started > self.max_seconds:
                    note = (
                        f"OCR stopped after {self.max_seconds:.0f} s, before page {number} "
                        f"/ 识别超时，已截断"
                    )
                    break
                pending.append((number, pool.submit(self._text, fit(render()))))
                collect(self._workers())
            collect(0)
        seconds = round(time.perf_counter() - started, 2)
        self.documents.append(OcrDocument(self.source, tuple(sorted(done)), seconds, note))
        return done

    def relay(self, source: str, done: int, total: int) -> None:
        """A page of ``source`` recognised in the loader's worker process (ingest/budget.py):
        moves this run's page bar and calls its progress callback, as a page read here would."""
        if self._relayed is None or self._relayed[0] != source:
            self.end_relay()
            self._relayed = (source, self._open_bar(total, source))
        bar = self._relayed[1]
        bar.update(done - bar.n)
        if self.progress:
            self.progress("ocr", done, total)

    def end_relay(self) -> None:
        """Close the page bar of the last document recognised in the worker, if any."""
        if self._relayed is not None:
            self._relayed[1].close()
            self._relayed = None

    def release(self) -> None:
        """Drop the engines (their memory) once every document is loaded; records stay."""
        with self._lock:
            self._engines, self._made = queue.SimpleQueue(), 0

    @contextlib.contextmanager
    def _bar(self, total: int) -> Iterator:
        with self._open_bar(total, self.source) as bar:
            yield bar

    def _open_bar(self, total: int, source: str):
        from tqdm import tqdm

        name = source.rsplit("/", 1)[-1][:24]
        return tqdm(total=total, unit="page", desc=f"OCR {name}", disable=self.quiet)


_RUN: ContextVar[OcrRun | None] = ContextVar("policyqa_ocr_run", default=None)
_DEFAULT: list[OcrRun] = []


def current_run() -> OcrRun:
    """The run set by ``ocr_run`` (an ingest), else one default run for this process (a loader
    called on its own, e.g. by a test or the document viewer)."""
    run = _RUN.get()
    if run is not None:
        return run
    if not _DEFAULT:
        _DEFAULT.append(OcrRun())
    return _DEFAULT[0]


@contextlib.contextmanager
def ocr_run(run: OcrRun) -> Iterator[OcrRun]:
    """Make ``run`` the active OCR run for the loaders called inside the block."""
    token = _RUN.set(run)
    try:
        yield run
    finally:
        _RUN.reset(token)


def begin_document(source: str) -> None:
    run = current_run()
    run.source = source
    if _DEFAULT and run is _DEFAULT[0]:
        run.documents.clear()  # outside an ingest run nobody collects the records


def ocr_pages(pages: list[tuple[int, Callable[[], object]]]) -> dict[int, str]:
    """OCR ``pages`` (page number, image factory) with the active run; text by page number."""
    return current_run().recognise(pages)


def fill_blank_pages(data: bytes, texts: list[str]) -> list[str]:
    """``texts`` (one per PDF page) with the pages that have no text layer recognised by OCR."""
    blank = [n for n, text in enumerate(texts, start=1) if not text.strip()]
    if not blank:
        return texts
    found = ocr_pdf_pages(data, blank)
    return [found.get(n, text) for n, text in enumerate(texts, start=1)]


def ocr_pdf_pages(data: bytes, numbers: list[int]) -> dict[int, str]:
    """Render those of the PDF pages ``numbers`` (1-based) that carry an image with pdfium and
    OCR them (a blank page is left as it is)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoadError(f"cannot render PDF for OCR ({exc}) / PDF 无法渲染") from exc

    def has_image(number: int) -> bool:
        return any(True for _ in pdf[number - 1].get_objects([pdfium_c.FPDF_PAGEOBJ_IMAGE]))

    def render(number: int):
        def draw():
            page = pdf[number - 1]
            scale = min(200 / 72, 1.5 * MAX_SIDE / max(page.get_size()))  # then fit() shrinks
            return page.render(scale=scale, grayscale=True).to_pil()

        return draw

    try:
        return ocr_pages([(n, render(n)) for n in numbers if has_image(n)])
    finally:
        pdf.close()


def load_image(data: bytes) -> tuple[str, list, str | None, list]:
    """An image file of one or more document pages, recognised page by page."""
    images = open_image_pages(data)
    texts = ocr_pages([(n, (lambda im=im: im)) for n, im in enumerate(images, start=1)])
    text, spans, pos = [], [], 0
    for number, page in sorted(texts.items()):
        if page.strip():
            spans.append((pos, pos + len(page), number))
            text.append(page)
            pos += len(page) + 1
    if not text:
        raise LoadError("no recognisable text in the image / 图片中未识别到文字")
    return "\n".join(text), [], None, spans

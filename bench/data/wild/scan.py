"""Fake scans: render LibreOffice PDFs with pdftoppm, skew + noise + grey paper with PIL, save as image-only PDF."""

import glob
import os
import random
import subprocess

import numpy as np
from common import OUT, TMP, record
from PIL import Image, ImageFilter

random.seed(7)
np.random.seed(7)


def scan(src_pdf, out_name, dpi, angle, key, note, jpeg_q=70):
    pre = f"{TMP}/scan_{key}"
    for f in glob.glob(pre + "*"):
        os.remove(f)
    subprocess.run(
        ["nice", "-n", "10", "pdftoppm", "-r", str(dpi), "-gray", "-png", src_pdf, pre], check=True
    )
    pages = []
    for png in sorted(glob.glob(pre + "*.png")):
        im = Image.open(png).convert("L")
        a = angle + random.uniform(-0.3, 0.3)
        im = im.rotate(a, resample=Image.BICUBIC, expand=False, fillcolor=255)
        arr = np.asarray(im).astype(np.float32)
        arr = arr * 0.93 + 8  # greyish paper, not pure white
        arr += np.random.normal(0, 9, arr.shape)  # sensor noise
        # a few specks
        h, w = arr.shape
        for _ in range(60):
            y, x = random.randrange(h), random.randrange(w)
            arr[y : y + 2, x : x + 2] = random.randint(40, 120)
        # darker band at left edge like a scanner lid shadow
        arr[:, : int(w * 0.015)] *= 0.6
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(0.4)
        )
        pages.append(im.convert("RGB"))
    jpgs = []
    for k, p in enumerate(pages):
        j = f"{pre}_{k}.jpg"
        p.save(j, quality=jpeg_q)
        jpgs.append(Image.open(j))
    jpgs[0].save(f"{OUT}/{out_name}", save_all=True, append_images=jpgs[1:], resolution=dpi)
    record(out_name, key, note)


scan(
    f"{TMP}/lo/A_for_scan.pdf",
    "scan_0001.pdf",
    200,
    0.8,
    "A",
    "scanned: LibreOffice PDF of a clerk docx rendered at 200 dpi grey, rotated ~0.8°, noise/specks/edge shadow, JPEG pages in an image-only PDF (no text layer)",
)
scan(
    f"{OUT}/职工带薪年休假条例.pdf",
    "scan_0002.pdf",
    150,
    -0.6,
    "C",
    "scanned: 职工带薪年休假条例.pdf rendered at 150 dpi grey, rotated ~-0.6°, noise, JPEG q70, image-only PDF (no text layer)",
)
scan(
    f"{TMP}/lo/国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定.pdf",
    "扫描全能王 2024-03-05 10.21.pdf",
    200,
    1.2,
    "B",
    "scanned (phone-scanner app name): two-line-title LibreOffice PDF at 200 dpi, rotated ~1.2°, noise, image-only PDF (no text layer)",
)
print("ok")

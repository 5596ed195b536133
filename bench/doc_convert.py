"""Cost of reading Word 97 .doc files through LibreOffice headless (ingest/office.py).

    PYTHONPATH=. .venv/bin/python bench/doc_convert.py [--n 43] [--work /tmp/docbench]

The office regulations (../shared/data/office-regulations) are written as .docx and saved as
.doc by LibreOffice (reused when ``--work`` already holds them). Then, timed: one file converted
on its own (LibreOffice start + private profile + conversion), and all ``--n`` files converted
in one batch (one process), the way an ingest run does it: seconds per file amortised
(target ≤ 1 s). Also times loading the converted .docx texts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "data")]

from make_office_formats import make_formats  # noqa: E402

from ingest import office  # noqa: E402
from ingest.loaders import load_docx  # noqa: E402

REGULATIONS = REPO.parent / "shared" / "data" / "office-regulations"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=43)
    ap.add_argument("--work", type=Path, default=Path("/tmp/docbench"))
    args = ap.parse_args()
    md = sorted(REGULATIONS.glob("*.md"))[: args.n]
    docs = [args.work / "doc" / f"{p.stem}.doc" for p in md]
    if not all(p.exists() for p in docs):
        docs = make_formats(md, args.work, formats=("doc",))["doc"]
    items = [p.read_bytes() for p in docs]
    print(f"{len(items)} .doc files, {sum(map(len, items)) / 1024:.0f} KiB")

    started = time.perf_counter()
    (one,) = office.convert_batch(items[:1])
    single = time.perf_counter() - started
    assert isinstance(one, bytes), one

    started = time.perf_counter()
    results = office.convert_batch(items)
    batch = time.perf_counter() - started
    failed = [p.name for p, r in zip(docs, results, strict=True) if not isinstance(r, bytes)]

    started = time.perf_counter()
    chars = sum(len(load_docx(r)[0]) for r in results if isinstance(r, bytes))
    loading = time.perf_counter() - started
    print(f"one file alone: {single:.2f} s")
    print(
        f"batch of {len(items)} in one process: {batch:.1f} s = {batch / len(items):.2f} s/file "
        f"amortised; failed: {failed or 'none'}"
    )
    print(f"loading the converted .docx: {loading / len(items):.3f} s/file ({chars} characters)")


if __name__ == "__main__":
    main()

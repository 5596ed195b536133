"""The PDF loader on PDFs nobody made for it: is each paragraph one line, is the title right?

    PYTHONPATH=. .venv/bin/python bench/pdf_paragraphs.py [--work /tmp/policyqa-pdfs] [--rebuild]
        [--json]

14 PDFs of 12 office regulations (../shared/data/office-regulations), made by a helper who
never saw policyqa's code (bench/data/pdfs/build.py, about 60 s; needs python-docx, LibreOffice
and Chromium): Word printed by LibreOffice (红头 notices with a two-line 22 pt title over the
主送机关 line, 公文 style at 28 characters a line, justified or ragged, running headers) and
site pages printed by Chromium (banner, navigation, breadcrumb, justified or narrow ragged
columns, URLs and Latin words inside articles, the browser's header and footer), with articles
broken by page breaks. The ground truth (bench/data/pdfs/expected.jsonl) holds every body
paragraph exactly as it was written into the source document, and the title.

Each PDF is read as an ingest reads it (load_file, chunk_document). A paragraph counts when it is
one line of the loaded text (whitespace ignored): not glued to its neighbour, not broken at a
wrap or a page end. Also counted: the title, and the 第X条 labels of the chunks against those
the paragraphs open. The set is built into WORK when WORK/files is missing or with --rebuild,
and the rebuilt ground truth must equal the committed one. Prints one line per file, then the
totals; with --json the per-file lines go to stderr and stdout gets the totals as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.chunking import chunk_document  # noqa: E402
from ingest.loaders import load_file  # noqa: E402

DATA = ROOT / "bench" / "data" / "pdfs"
_WS = re.compile(r"\s+")
_LABEL = re.compile(r"^第[一二三四五六七八九十百零〇]+条")


def build(work: Path) -> None:
    subprocess.run([sys.executable, str(DATA / "build.py"), str(work)], check=True)
    if (work / "expected.jsonl").read_bytes() != (DATA / "expected.jsonl").read_bytes():
        sys.exit(f"{work}/expected.jsonl differs from the committed ground truth: not the same set")


def score(path: Path, expected: dict) -> dict:
    doc = load_file(path, path.parent)
    lines = {_WS.sub("", line) for line in doc.text.split("\n")}
    paragraphs = [_WS.sub("", p) for p in expected["paragraphs"] if p.strip()]
    want = Counter(m.group() for p in paragraphs if (m := _LABEL.match(p)))
    got = Counter(a for c in chunk_document(doc) for a in c.articles if a.endswith("条"))
    return {
        "file": path.name,
        "paragraphs": len(paragraphs),
        "one_line": sum(p in lines for p in paragraphs),
        "labels": sum(want.values()),
        "labels_found": sum((want & got).values()),
        "title": _WS.sub("", doc.title) == _WS.sub("", expected["title"]),
        "got_title": doc.title,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/policyqa-pdfs"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.rebuild or not (args.work / "files").is_dir():
        build(args.work)
    out = sys.stderr if args.json else sys.stdout
    totals = Counter()
    for line in (DATA / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        expected = json.loads(line)
        row = score(args.work / "files" / expected["file"], expected)
        ok = "title OK" if row["title"] else f"title {row['got_title']!r}"
        print(
            f"{row['one_line']:4d}/{row['paragraphs']:4d} paragraphs  "
            f"{row['labels_found']:3d}/{row['labels']:3d} labels  {ok}  {row['file']}",
            file=out,
        )
        totals.update({k: int(v) for k, v in row.items() if k not in ("file", "got_title")})
        totals["files"] += 1
    summary = {
        "files": totals["files"],
        "paragraphs_one_line": f"{totals['one_line']}/{totals['paragraphs']}",
        "labels": f"{totals['labels_found']}/{totals['labels']}",
        "titles": f"{totals['title']}/{totals['files']}",
    }
    print(json.dumps(summary, ensure_ascii=False) if args.json else summary)


if __name__ == "__main__":
    main()

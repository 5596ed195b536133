"""The loaders on the "wild" set: 42 office files as offices really hold them, article labels
and titles against the ground truth.

    PYTHONPATH=. .venv/bin/python bench/loaders_wild.py [--work /tmp/policyqa-wild] [--rebuild]
        [--json]

The set is made by bench/data/wild/make_all.sh (about 75 s; needs LibreOffice, Chromium,
pdftoppm and pdftotext) from 17 regulations of ../shared/data/office-regulations: Word
(.docx/.doc/.wps, red-header notice, auto-numbered labels, 目录, info table), ODT, PDFs printed
by LibreOffice and by Chromium (with and without the browser's header and footer), saved HTML
pages (UTF-8 and GBK), TXT (GBK/GB18030/UTF-8, hard-wrapped) and 3 image-only scans; see
bench/data/wild/README.md. It is built into WORK/files when that folder is missing or with
--rebuild, and the rebuilt ground truth (WORK/expected.jsonl) must equal the committed
bench/data/wild/expected.jsonl in file names, titles and article labels, or the run stops.

Each file is read as an ingest reads it (office.convert_ahead for Word files, load_file,
chunk_document). A file's labels are its chunks' article labels in order, consecutive repeats
merged; the file is exact when they equal the expected labels, and its title counts when it
equals the expected one ignoring spaces. Prints one line per file, then
``labels F/T  files exact E/N  titles K/N`` (F: expected labels found, as a multiset). With
--json the per-file lines go to stderr and stdout gets the summary as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest import office  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.loaders import load_file  # noqa: E402

WILD = REPO / "bench" / "data" / "wild"
GROUND_TRUTH = WILD / "expected.jsonl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def build(work: Path) -> None:
    """Run make_all.sh into ``work``; its output goes to stderr."""
    env = {**os.environ, "WILD_OUT": str(work), "PYTHON": sys.executable}
    started = time.perf_counter()
    print(f"building the wild set into {work} ...", file=sys.stderr, flush=True)
    subprocess.run(
        ["bash", str(WILD / "make_all.sh")], env=env, check=True, stdout=sys.stderr, cwd=WILD
    )
    print(f"built in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)


def check_set(work: Path, want: list[dict]) -> None:
    """Stop unless WORK holds exactly the committed files and, where the build wrote its own
    ground truth, that it agrees with the committed one."""
    names = {r["file"] for r in want}
    problems = []
    have = {p.name for p in (work / "files").iterdir()}
    if have != names:
        problems.append(
            f"files missing: {sorted(names - have)}, unexpected: {sorted(have - names)}"
        )
    built = work / "expected.jsonl"
    if built.exists():
        got = {r["file"]: r for r in _rows(built)}
        if set(got) != names:
            problems.append(
                f"{built} lists other files: missing {sorted(names - set(got))}, "
                f"extra {sorted(set(got) - names)}"
            )
        for r in want:
            g = got.get(r["file"])
            if g and (g["articles"], g["title"]) != (r["articles"], r["title"]):
                problems.append(
                    f"{r['file']}: rebuilt title/articles differ from the committed ones"
                )
    if problems:
        raise SystemExit(
            f"the wild set in {work} does not match {GROUND_TRUTH.relative_to(REPO)}:\n  "
            + "\n  ".join(problems)
            + "\n(rebuild it with --rebuild, or update the committed ground truth on purpose)"
        )


def read_file(path: Path, root: Path) -> tuple[list[str], str]:
    """Article labels (in order, consecutive repeats merged) and title of one file."""
    try:
        if path.suffix.lower() in office.WORD_SUFFIXES:
            office.convert_ahead(
                [path], set(), None, timeout_s=120, max_bytes=50 << 20, memory_mb=2048
            )
        doc = load_file(path, root)
        labels: list[str] = []
        for chunk in chunk_document(doc):
            labels.extend(a for a in chunk.articles if not labels or labels[-1] != a)
        return labels, doc.title
    except Exception as e:  # a file that fails counts as no labels, wrong title
        return [], f"ERROR {type(e).__name__}: {str(e)[:80]}"


def score(work: Path, rows: list[dict], out) -> dict:
    root = work / "files"
    total = found = exact = titles = 0
    bad_labels, bad_titles = [], []
    for r in rows:
        started = time.perf_counter()
        labels, title = read_file(root / r["file"], root)
        want = r["articles"]
        f = sum((Counter(want) & Counter(labels)).values())
        ok = labels == want
        title_ok = title.replace(" ", "") == r["title"].replace(" ", "")
        total += len(want)
        found += f
        exact += ok
        titles += title_ok
        if not ok:
            bad_labels.append(r["file"])
        if not title_ok:
            bad_titles.append(r["file"])
        print(
            f"{'OK ' if ok else 'BAD'} {'T' if title_ok else 't'} {f:3}/{len(want):3} "
            f"+{len(labels) - f:2} {r['file'][:40]:42} title={title[:40]!r} "
            f"want={r['title'][:30]!r} {time.perf_counter() - started:.1f}s",
            file=out,
            flush=True,
        )
    return {
        "labels_found": found,
        "labels_total": total,
        "files_exact": exact,
        "titles": titles,
        "files": len(rows),
        "inexact_files": bad_labels,
        "wrong_titles": bad_titles,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/policyqa-wild"))
    ap.add_argument(
        "--rebuild", action="store_true", help="build the set even if WORK/files exists"
    )
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = ap.parse_args()
    work = args.work.resolve()
    if args.rebuild or not (work / "files").is_dir():
        build(work)
    rows = _rows(GROUND_TRUTH)
    check_set(work, rows)
    started = time.perf_counter()
    summary = score(work, rows, sys.stderr if args.json else sys.stdout)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        n = summary["files"]
        print(
            f"labels {summary['labels_found']}/{summary['labels_total']}  "
            f"files exact {summary['files_exact']}/{n}  titles {summary['titles']}/{n}"
        )


if __name__ == "__main__":
    main()

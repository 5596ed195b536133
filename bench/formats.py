"""The 43 office regulations as the files an office holds vs as Markdown: same answers?

    PYTHONPATH=. .venv/bin/python bench/formats.py [--work /tmp/formats-bench]
        [--index /tmp/formats-bench/index] [--markdown-index /work/idx/office]
        [--queries ../shared/data/office-dev/test.jsonl] [--steps build,ingest,labels,eval]

Each regulation of ../shared/data/office-regulations gets one format: the 3 shortest become
scans (Markdown → Word → PDF by LibreOffice → ``pdftoppm -gray`` 150 dpi, grain and skew → JPEG →
image-only PDF by img2pdf, tests/data/make_scans.py); the other 40 (fixed shuffle, seed 13):
10 PDF (printed by LibreOffice from Word), 8 DOCX, 5 Word 97 .doc, 3 WPS (.wps, Word 97 binary),
4 OFD (the project's writer, tests/data/make_ofd.py), 5 HTML and 5 GB18030 TXT
(tests/data/make_office_formats.py). The folder is ingested with the builtin embedder
(``policyqa ingest``); then, per format, how many of the Markdown index's article labels each
converted file's chunks carry, and ``policyqa eval --answers`` on both indexes: prints "answers
citing a gold article" for each and the gap (target: within 0.03). The failures of the eval go to
/dev/null (the test questions are only reported, never read for tuning).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "data")]

from make_ofd import regulation_ofd  # noqa: E402
from make_office_formats import make_formats  # noqa: E402
from make_scans import scanned_regulation  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SCANS = 3  # the shortest regulations, so OCR time stays bounded
MIX = {"pdf": 10, "docx": 8, "doc": 5, "wps": 3, "ofd": 4, "html": 5, "txt": 5}
OFFICE = ("docx", "pdf", "html", "txt", "doc", "wps")


def assign(regulations: list[Path]) -> dict[str, list[Path]]:
    """{format: regulations}: the shortest ``SCANS`` as scans, the rest shuffled into ``MIX``."""
    by_size = sorted(regulations, key=lambda p: (p.stat().st_size, p.name))
    out = {"scan": sorted(by_size[:SCANS])}
    rest = sorted(by_size[SCANS:])
    assert len(rest) == sum(MIX.values()), len(rest)
    random.Random(13).shuffle(rest)
    at = 0
    for fmt, n in MIX.items():
        out[fmt] = rest[at : at + n]
        at += n
    return out


def build(work: Path) -> Path:
    """``work/src``: every regulation in its assigned format."""
    src = work / "src"
    regulations = sorted((DATA / "office-regulations").glob("*.md"))
    if src.is_dir() and len(list(src.iterdir())) == len(regulations):
        return src
    plan = assign(regulations)
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    office = [p for fmt in OFFICE for p in plan[fmt]]
    made = make_formats(office, work / "all", formats=OFFICE)
    by_stem = {fmt: {p.stem: p for p in paths} for fmt, paths in made.items()}
    for fmt in OFFICE:
        for reg in plan[fmt]:
            shutil.copyfile(by_stem[fmt][reg.stem], src / f"{reg.stem}.{fmt}")
    for reg in plan["ofd"]:
        regulation_ofd(reg, src / f"{reg.stem}.ofd")
    for i, reg in enumerate(plan["scan"]):
        scanned_regulation(reg, src / f"{reg.stem}.pdf", dpi=150, noise=8, angle=0.7 - 0.5 * i)
    (work / "plan.json").write_text(
        json.dumps({f: [p.stem for p in ps] for f, ps in plan.items()}, ensure_ascii=False),
        encoding="utf-8",
    )
    return src


def policyqa(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    exe = [sys.executable, "-c", "from assistant.cli import main; main()"]
    return subprocess.run([*exe, *args], env=env, check=True, capture_output=True, text=True)


def evaluate(index: Path, queries: Path) -> dict:
    failures = "/dev/null"  # reported only: nobody reads which test questions failed
    out = policyqa(
        "eval",
        "--index",
        str(index),
        "--queries",
        str(queries),
        "--answers",
        "--json",
        "--failures",
        failures,
    )
    return json.loads(out.stdout)


def labels_by_stem(index: Path) -> dict[str, Counter]:
    """Article labels (第X条) carried by each document's chunks, by file stem."""
    from ingest.index import open_current

    gen = open_current(index)
    stems = {d.id: Path(d.source).stem for d in gen.documents.values()}
    out: dict[str, Counter] = defaultdict(Counter)
    for chunk in gen.chunks:
        out[stems[chunk.doc_id]].update(a for a in chunk.articles if a.endswith("条"))
    return out


def label_table(mixed: Path, markdown: Path, plan: dict[str, list[str]]) -> list[str]:
    """Per format: files, Markdown labels, labels the converted files carry (as a multiset
    intersection), files giving exactly the Markdown's labels."""
    got, want = labels_by_stem(mixed), labels_by_stem(markdown)
    rows = [
        "| format | files | Markdown labels | found | extra | files exact |",
        "|---|---|---|---|---|---|",
    ]
    for fmt, stems in plan.items():
        total = sum(sum(want[s].values()) for s in stems)
        found = sum(sum((got[s] & want[s]).values()) for s in stems)
        extra = sum(sum((got[s] - want[s]).values()) for s in stems)
        exact = sum(got[s] == want[s] for s in stems)
        rows.append(f"| {fmt} | {len(stems)} | {total} | {found} | {extra} | {exact} |")
        for s in stems:
            if got[s] != want[s]:
                lost = sorted((want[s] - got[s]).elements())[:8]
                rows.append(f"|  {s} | | {sum(want[s].values())} | lost {lost} | |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/formats-bench"))
    ap.add_argument("--index", type=Path, help="mixed-format index (default WORK/index)")
    ap.add_argument("--markdown-index", type=Path, default=Path("/work/idx/office"))
    ap.add_argument("--queries", type=Path, default=DATA / "office-dev" / "test.jsonl")
    ap.add_argument("--steps", default="build,ingest,labels,eval")
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    index = args.index or args.work / "index"
    started = time.perf_counter()
    src = build(args.work)
    print(f"mixed corpus {src} ready in {time.perf_counter() - started:.0f} s", flush=True)
    if "ingest" in steps:
        started = time.perf_counter()
        policyqa("ingest", str(src), "--index", str(index), "--quiet")
        report = json.loads((index / "report.json").read_text(encoding="utf-8"))
        print(
            f"ingest: {len(report['ingested'])} files, {report['chunks_total']} chunks, "
            f"{time.perf_counter() - started:.0f} s; skipped: {report['skipped']}; "
            f"OCR: {report.get('ocr')}",
            flush=True,
        )
    if "labels" in steps:
        plan = json.loads((args.work / "plan.json").read_text(encoding="utf-8"))
        print("\n".join(label_table(index, args.markdown_index, plan)), flush=True)
    if "eval" in steps:
        mixed = evaluate(index, args.queries)
        markdown = evaluate(args.markdown_index, args.queries)
        key = "cited_gold_rate"
        print(json.dumps({"mixed": mixed, "markdown": markdown}, ensure_ascii=False, indent=1))
        print(
            f"answers citing a gold article: Markdown {markdown[key]:.3f}, mixed formats "
            f"{mixed[key]:.3f}, gap {markdown[key] - mixed[key]:+.3f} (target within 0.03)"
        )


if __name__ == "__main__":
    main()

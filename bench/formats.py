"""The 43 office regulations as the files an office holds vs as Markdown: same answers?

    PYTHONPATH=. .venv/bin/python bench/formats.py [--work /tmp/formats-bench]
        [--markdown-index /work/idx/office] [--queries ../shared/data/office-dev/test.jsonl]

Each regulation of ../shared/data/office-regulations gets one format (fixed shuffle, seed 13):
16 PDF (printed by LibreOffice from Word), 10 DOCX, 3 Word 97 .doc, 1 WPS (.wps, Word 97 binary),
7 HTML and 6 GB18030 TXT. The folder is ingested with the builtin embedder
(``policyqa ingest``), then ``policyqa eval --answers`` runs on it and on the Markdown index;
prints both "answers citing a gold article" figures and the gap (target: within 0.03), plus
ingest time and what the report skipped.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "data")]

from make_office_formats import make_formats  # noqa: E402

DATA = REPO.parent / "shared" / "data"
MIX = {"pdf": 16, "docx": 10, "doc": 3, "wps": 1, "html": 7, "txt": 6}


def build(work: Path) -> Path:
    """``work/src``: every regulation in its assigned format."""
    src = work / "src"
    if src.is_dir() and len(list(src.iterdir())) == sum(MIX.values()):
        return src
    regulations = sorted((DATA / "office-regulations").glob("*.md"))
    assert len(regulations) == sum(MIX.values()), len(regulations)
    random.Random(13).shuffle(regulations)
    made = make_formats(regulations, work / "all")
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    at = 0
    for fmt, n in MIX.items():
        for path in made[fmt][at : at + n]:
            shutil.copyfile(path, src / path.name)
        at += n
    return src


def policyqa(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    exe = [sys.executable, "-c", "from assistant.cli import main; main()"]
    return subprocess.run([*exe, *args], env=env, check=True, capture_output=True, text=True)


def evaluate(index: Path, queries: Path, work: Path) -> dict:
    out = policyqa(
        "eval",
        "--index",
        str(index),
        "--queries",
        str(queries),
        "--answers",
        "--json",
        "--failures",
        str(work / f"failures-{index.name}.json"),
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/formats-bench"))
    ap.add_argument("--markdown-index", type=Path, default=Path("/work/idx/office"))
    ap.add_argument("--queries", type=Path, default=DATA / "office-dev" / "test.jsonl")
    args = ap.parse_args()
    started = time.perf_counter()
    src = build(args.work)
    print(f"mixed corpus {src} built in {time.perf_counter() - started:.0f} s")
    index = args.work / "index"
    started = time.perf_counter()
    policyqa("ingest", str(src), "--index", str(index), "--quiet")
    report = json.loads((index / "report.json").read_text(encoding="utf-8"))
    print(
        f"ingest: {len(report['ingested'])} files, {report['chunks_total']} chunks, "
        f"{time.perf_counter() - started:.0f} s; skipped: {report['skipped']}"
    )
    mixed = evaluate(index, args.queries, args.work)
    markdown = evaluate(args.markdown_index, args.queries, args.work)
    key = "cited_gold_rate"
    print(json.dumps({"mixed": mixed, "markdown": markdown}, ensure_ascii=False, indent=1))
    print(
        f"answers citing a gold article: Markdown {markdown[key]:.3f}, mixed formats "
        f"{mixed[key]:.3f}, gap {markdown[key] - mixed[key]:+.3f} (target within 0.03)"
    )


if __name__ == "__main__":
    main()

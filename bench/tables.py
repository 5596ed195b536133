"""Table questions: is the row that holds the asked-for cell retrieved and cited?

    python bench/tables.py [--queries bench/data/table_questions.jsonl] [--with-corpus]
                           [--models-dir .policyqa/models] [--work /tmp/policyqa-tables]

Builds the standards tables of tests/data/make_tables.py (xlsx, docx, html, GBK csv, and a PDF
made with LibreOffice), alone or beside the sample corpus/ (--with-corpus: 20 more documents,
among them the travel manual stating the same travel figures in prose), ingests them with the
built-in embedder and asks every question. A question counts as answered with the right row when
the extractive answer is not a refusal and one of its citations is the gold row
(``gold_row``: [source, row key]). Also prints the rank of the gold row among the hits.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

import make_tables  # noqa: E402

from assistant.adapter import adapter_for  # noqa: E402
from assistant.answer import extractive  # noqa: E402
from assistant.retrieval import RetrievalConfig, Retriever  # noqa: E402
from ingest.embedding import load_embedder  # noqa: E402
from ingest.index import open_current  # noqa: E402
from ingest.pipeline import IngestOptions, run_ingest  # noqa: E402


def is_row(source: str, heading: str, gold: list[str]) -> bool:
    return source == gold[0] and f"· {gold[1]}（第" in heading


def build(work: Path, with_corpus: bool, embedder) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    source = make_tables.build(work / "src")
    if with_corpus:
        for path in (ROOT / "corpus").iterdir():
            if not (source / path.name).exists():
                shutil.copyfile(path, source / path.name)
    index = work / "index"
    report = run_ingest(source, index, IngestOptions(quiet=True), embedder=embedder)
    print(report.summary().splitlines()[0])
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, default=ROOT / "bench/data/table_questions.jsonl")
    parser.add_argument("--with-corpus", action="store_true")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--work", type=Path, default=Path("/tmp/policyqa-tables"))
    args = parser.parse_args()
    embedder = load_embedder("builtin", args.models_dir)
    index = build(args.work, args.with_corpus, embedder)
    gen = open_current(index)
    retriever = Retriever(
        gen, embedder, RetrievalConfig(), adapter_for("auto", embedder.name, embedder.dim)
    )
    queries = [json.loads(line) for line in args.queries.read_text("utf-8").splitlines() if line]
    answered = top1 = top5 = refused = 0
    started = time.perf_counter()
    for q in queries:
        result = retriever.search(q["question"], k=10)
        ranks = [
            i
            for i, h in enumerate(result.hits, 1)
            if is_row(h.chunk.source, h.chunk.heading, q["gold_row"])
        ]
        answer = extractive(q["question"], result)
        cited = any(is_row(c.source, c.heading, q["gold_row"]) for c in answer.citations)
        ok = cited and not answer.refused
        answered += ok
        top1 += bool(ranks) and ranks[0] == 1
        top5 += bool(ranks) and ranks[0] <= 5
        refused += answer.refused
        first = result.hits[0].chunk if result.hits else None
        where = f"{first.source} {first.heading}" if first else "-"
        print(
            f"{q['id']} {'OK ' if ok else 'no '} rank={ranks[0] if ranks else '-':<2} "
            f"{'refused' if answer.refused else ''} top: {where}"
        )
    n = len(queries)
    seconds = time.perf_counter() - started
    print(
        f"\n{n} questions: answered with the gold row cited {answered / n:.3f} ({answered}/{n}), "
        f"gold row at rank 1 {top1 / n:.3f}, in top 5 {top5 / n:.3f}, refused {refused}; "
        f"{seconds / n * 1000:.0f} ms per question"
    )


if __name__ == "__main__":
    main()

"""Ingest speed vs. the embedder's raw encode speed, no-op re-run time, peak RSS.

    python bench/ingest.py SOURCE_DIR --index DIR [--model builtin] [--raw-sample 1000]
    python bench/ingest.py ../shared/data/stard/corpus --gold-subset   # the 140 gold laws only

Steps: (1) raw encode speed of the embedder on a sample of the corpus's own chunk texts (same
model, same batch size, no pipeline around it); (2) a full ingest into DIR (skipped with
--no-build when DIR already holds an index built from SOURCE_DIR); (3) a no-op re-run; peak RSS of
each step is read from the child process (ru_maxrss), so steps do not hide each other's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARD = ROOT.parent / "shared" / "data" / "stard"


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter (so each step's peak RSS is its own); it prints one
    JSON line, to which the child's own peak RSS (MB) is added."""
    tail = "\nimport resource as _r; print(json.dumps({**_result, 'peak_rss_mb': round(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024, 1)}))"
    out = subprocess.run(
        [sys.executable, "-c", code + tail, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


RAW = """
import json, sys, time, random
from pathlib import Path
from ingest.chunking import chunk_document
from ingest.embedding import load_embedder
from ingest.loaders import load_file
from ingest.plan import scan
source, model, n, models = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
files, _ = scan(source)
texts = []
for f in files:  # a uniform sample of the corpus's chunks, so raw and ingest see the same mix
    try:
        texts += [c.embedding_text() for c in chunk_document(load_file(f, source))]
    except Exception:
        continue
texts = random.Random(0).sample(texts, min(n, len(texts)))
emb = load_embedder(model, models)
emb.embed_documents(texts[:16])
t = time.perf_counter()
emb.embed_documents(texts)
dt = time.perf_counter() - t
_result = {"texts": len(texts), "seconds": round(dt, 2), "per_s": round(len(texts) / dt, 2)}
"""

INGEST = """
import json, sys, time
from pathlib import Path
from ingest.pipeline import IngestOptions, run_ingest
source, index, model, models = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
t = time.perf_counter()
r = run_ingest(source, index, IngestOptions(model=model, models_dir=models, quiet=True))
dt = time.perf_counter() - t
_result = ({"seconds": round(dt, 2), "chunks_embedded": r.chunks_embedded,
                  "chunks_total": r.chunks_total, "documents": r.documents_total,
                  "embed_seconds": round(r.embed_seconds, 2),
                  "per_s": round(r.chunks_embedded / r.embed_seconds, 2) if r.embed_seconds else None,
                  "per_s_overall": round(r.chunks_embedded / dt, 2) if r.chunks_embedded else None})
"""


def gold_subset(dest: Path) -> Path:
    """Copy the 140 gold laws (symlinks outside the source folder are ignored by design)."""
    for rel in (STARD / "gold-laws.txt").read_text(encoding="utf-8").split("\n"):
        if rel.strip():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(STARD / "corpus" / rel, target)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path, nargs="?", default=STARD / "corpus")
    parser.add_argument("--index", type=Path, help="index folder (default: a temp folder)")
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa" / "models")
    parser.add_argument("--raw-sample", type=int, default=3000)
    parser.add_argument("--gold-subset", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="only the no-op re-run")
    parser.add_argument("--raw-only", action="store_true", help="only the raw encode speed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    source = args.source
    if args.gold_subset:
        source = gold_subset(Path(tempfile.mkdtemp(prefix="stard-gold-")))
    index = args.index or Path(tempfile.mkdtemp(prefix="policyqa-bench-")) / "index"
    figures: dict = {
        "source": str(args.source),
        "gold_subset": args.gold_subset,
        "model": args.model,
        "cpus": os.cpu_count(),
    }
    models = str(args.models_dir)
    if not args.no_build:
        figures["raw_encode"] = child(RAW, str(source), args.model, str(args.raw_sample), models)
        print("raw encode", figures["raw_encode"], flush=True)
        if args.raw_only:
            return
        figures["ingest"] = child(INGEST, str(source), str(index), args.model, models)
        print("ingest", figures["ingest"], flush=True)
        raw, ing = figures["raw_encode"]["per_s"], figures["ingest"]["per_s_overall"]
        if raw and ing:
            figures["ingest_vs_raw"] = round(ing / raw, 3)
    t = time.perf_counter()
    figures["noop"] = child(INGEST, str(source), str(index), args.model, models)
    figures["noop"]["wall_seconds"] = round(time.perf_counter() - t, 2)
    print("no-op re-run", figures["noop"], flush=True)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()

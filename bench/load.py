"""Load: N concurrent sessions x M questions through gradio_client against a real server.

    python bench/load.py --index DIR [--sessions 20] [--questions 10] [--models-dir DIR]

Starts `policyqa serve` on 127.0.0.1 (a free port, a temporary data folder with one user), waits
for it, then runs the sessions in threads, each with its own logged-in ``gradio_client.Client``
calling ``/ask``. Prints errors (must be 0), latency p50/p95/max and the server's peak RSS
(sampled every 0.2 s). Only loopback traffic; the run is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "我工作满十年，年假有几天？", "依申请公开政府信息，多久内答复？", "出差住宿费标准是多少？",
    "用印申请需要谁审批？", "公务员被记过处分期是多久？", "涉密文件能不能用快递寄？",
    "春节放几天假？", "事业单位辞职要提前多久？", "政府采购质疑几天内答复？",
    "档案多少年后移交档案馆？", "食堂几点开饭？", "单位不安排年假有补偿吗？",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, models: Path, data: Path, port: int) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT))
    from assistant.users import UserStore

    UserStore(data / "users.json").add("loadtest", "load-test-pw", role="staff")
    env = {**os.environ, "POLICYQA_DATA_DIR": str(data), "POLICYQA_MODELS_DIR": str(models),
           "GRADIO_ANALYTICS_ENABLED": "False"}  # fmt: skip
    cmd = [sys.executable, "-c", "from assistant.cli import main; main()", "serve",
           "--index", str(index), "--port", str(port)]  # fmt: skip
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_ready(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not start in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa" / "models")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from gradio_client import Client

    port, data = free_port(), Path(tempfile.mkdtemp(prefix="policyqa-load-"))
    proc = start_server(args.index, args.models_dir, data, port)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak[0] = max(peak[0], p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        wait_ready(port, proc, 600)
        url = f"http://127.0.0.1:{port}/"

        def session(n: int) -> None:
            try:
                client = Client(url, auth=("loadtest", "load-test-pw"), verbose=False)
            except Exception as exc:  # noqa: BLE001 - counted as an error
                with lock:
                    errors.append(f"login: {exc!r}")
                return
            for i in range(args.questions):
                question = QUESTIONS[(n + i) % len(QUESTIONS)]
                started = time.perf_counter()
                try:
                    result = client.predict(question, api_name="/ask")
                    ok = isinstance(result, dict) and "answer" in result
                except Exception as exc:  # noqa: BLE001
                    ok, result = False, exc
                with lock:
                    if ok:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors.append(repr(result)[:200])

        started = time.perf_counter()
        threads = [threading.Thread(target=session, args=(n,)) for n in range(args.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.timeout)
        wall = time.perf_counter() - started
    finally:
        done.set()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    figures = {
        "sessions": args.sessions, "questions_each": args.questions,
        "answered": len(latencies), "errors": len(errors), "wall_s": round(wall, 1),
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p95_s": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
        "max_s": round(max(latencies), 2) if latencies else None,
        "server_peak_rss_mb": round(peak[0] / 1048576, 1),
        "first_errors": errors[:3],
    }  # fmt: skip
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()

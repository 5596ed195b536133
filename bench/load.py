"""Load: N concurrent sessions x M questions through gradio_client against a real server,
optionally while one client floods it.

    python bench/load.py --index DIR [--sessions 20] [--questions 10] [--models-dir DIR]
                         [--flood none|logins|questions|all]

Starts `policyqa serve` on 127.0.0.1 (a free port, a temporary data folder with one user per
session and a ``flood`` user), waits for it, logs every session in, then runs the sessions in
threads, each with its own logged-in ``gradio_client.Client`` calling ``/ask``. With
``--flood``, the run happens twice on the same server: unloaded, then while one client floods
it -- ``logins``: 30 threads posting wrong passwords to /login without pause; ``questions``: the
``flood`` user posting 80 /ask jobs to the queue every 1.5 s (the queue-filling attack);
``all``: both. One warm-up question (model load) comes before the first phase.
Prints, per phase, errors (must be 0), the honest users' latency p50/p95/max, the server's peak
RSS (sampled every 0.2 s), what the flood got (refused / answered), and the p95 ratio
flooded / unloaded (the target is <= 2). Only loopback traffic; bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "我工作满十年，年假有几天？",
    "依申请公开政府信息，多久内答复？",
    "出差住宿费标准是多少？",
    "用印申请需要谁审批？",
    "公务员被记过处分期是多久？",
    "涉密文件能不能用快递寄？",
    "春节放几天假？",
    "事业单位辞职要提前多久？",
    "政府采购质疑几天内答复？",
    "档案多少年后移交档案馆？",
    "食堂几点开饭？",
    "单位不安排年假有补偿吗？",
]
PASSWORD = "load-test-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_user(n: int) -> str:
    return f"load{n:02d}"


def start_server(
    index: Path, models: Path, data: Path, port: int, sessions: int
) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT))
    from argon2 import PasswordHasher

    from assistant.users import UserStore

    users = UserStore(data / "users.json", PasswordHasher(time_cost=1, memory_cost=8192))
    for name in [session_user(n) for n in range(sessions)] + ["flood"]:
        users.add(name, PASSWORD, role="staff")  # cheap hashes to set up; logins upgrade them
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_MODELS_DIR": str(models),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    cmd = [
        sys.executable,
        "-c",
        "from policyqa import main; main()",
        "serve",
        "--index",
        str(index),
        "--port",
        str(port),
    ]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


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


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(sorted(values)[int(q * (len(values) - 1))], 2)


def flood_logins(url: str, stop: threading.Event, tally: Counter) -> None:
    import httpx

    def hammer(n: int) -> None:
        with httpx.Client(timeout=60) as http:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = http.post(
                        f"{url}login",
                        data={"username": f"guess{n}-{i}", "password": "wrong-password"},
                    )
                    tally[f"login_{r.status_code}"] += 1
                except Exception:  # noqa: BLE001 - counted
                    tally["login_error"] += 1

    threads = [threading.Thread(target=hammer, args=(n,), daemon=True) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def flood_questions(url: str, stop: threading.Event, tally: Counter) -> None:
    """80 /ask jobs every 1.5 s from one account (what filled the shared queue before the
    limits), posted straight to the queue (``/gradio_api/call/ask``) without waiting for them."""
    import httpx

    with httpx.Client(timeout=60) as http:
        http.post(f"{url}login", data={"username": "flood", "password": PASSWORD})
        while not stop.is_set():
            deadline = time.time() + 1.5
            for i in range(80):
                try:
                    r = http.post(
                        f"{url}gradio_api/call/ask", json={"data": [QUESTIONS[i % len(QUESTIONS)]]}
                    )
                    tally[
                        "question_queued" if r.status_code == 200 else f"question_{r.status_code}"
                    ] += 1
                except Exception:  # noqa: BLE001 - counted
                    tally["question_error"] += 1
            time.sleep(max(0.0, deadline - time.time()))


def run_phase(clients: list, questions: int, flood: str, url: str, timeout: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop, tally = threading.Event(), Counter()
    flooders = []
    if flood in ("logins", "all"):
        flooders.append(threading.Thread(target=flood_logins, args=(url, stop, tally)))
    if flood in ("questions", "all"):
        flooders.append(threading.Thread(target=flood_questions, args=(url, stop, tally)))
    for t in flooders:
        t.daemon = True
        t.start()
    if flooders:
        time.sleep(2.0)  # let the flood build up first

    def session(n: int) -> None:
        for i in range(questions):
            question = QUESTIONS[(n + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                result = clients[n].predict(question, api_name="/ask")
                ok = isinstance(result, dict) and "answer" in result
            except Exception as exc:  # noqa: BLE001
                ok, result = False, exc
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors.append(repr(result)[:200])

    started = time.perf_counter()
    threads = [threading.Thread(target=session, args=(n,)) for n in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    wall = time.perf_counter() - started
    stop.set()
    for t in flooders:
        t.join(90)
    return {
        "flood": flood,
        "answered": len(latencies),
        "errors": len(errors),
        "wall_s": round(wall, 1),
        "p50_s": percentile(latencies, 0.5),
        "p95_s": percentile(latencies, 0.95),
        "max_s": percentile(latencies, 1.0),
        "flood_tally": dict(tally),
        "first_errors": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa" / "models")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--flood", choices=["none", "logins", "questions", "all"], default="none")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from gradio_client import Client

    port, data = free_port(), Path(tempfile.mkdtemp(prefix="policyqa-load-"))
    proc = start_server(args.index, args.models_dir, data, port, args.sessions)
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
    phases = []
    try:
        wait_ready(port, proc, 600)
        url = f"http://127.0.0.1:{port}/"
        clients = [
            Client(url, auth=(session_user(n), PASSWORD), verbose=False)
            for n in range(args.sessions)
        ]
        clients[0].predict(QUESTIONS[0], api_name="/ask")  # warm-up: loads the embedder
        phases.append(run_phase(clients, args.questions, "none", url, args.timeout))
        if args.flood != "none":
            phases.append(run_phase(clients, args.questions, args.flood, url, args.timeout))
    finally:
        done.set()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    figures = {
        "sessions": args.sessions,
        "questions_each": args.questions,
        "phases": phases,
        "server_peak_rss_mb": round(peak[0] / 1048576, 1),
    }
    if len(phases) == 2 and phases[0]["p95_s"] and phases[1]["p95_s"]:
        figures["p95_ratio"] = round(phases[1]["p95_s"] / phases[0]["p95_s"], 2)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()

"""webui/guard.py and the question gate in ui.py, over HTTP against a running app: login
back-off and the event loop under a login flood, login CSRF, session revocation and lifetime,
per-user question limits under a queue flood, admin endpoints absent from the login page.

The app runs with a fake assistant (answers after a fixed delay, like a busy CPU) and a real
user store, audit log, Gradio server and gradio_client: what is tested here is the web layer.
"""

from __future__ import annotations

import concurrent.futures as cf
import socket
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from fake_assistant import FakeAssistant

import ui
from assistant.records import Answer

pytestmark = pytest.mark.slow


class SlowAssistant(FakeAssistant):
    """Answers every question after ``delay`` seconds (the CPU time a real answer takes)."""

    def __init__(self, delay: float = 0.4, hold: threading.Event | None = None) -> None:
        self.delay, self.hold = delay, hold

    def ask_stream(self, question, viewer, history, context_docs):
        if self.hold is not None:
            self.hold.wait(60)
        time.sleep(self.delay)
        yield Answer(f"答：{question}", (), False, True, "extractive")

    def chunk(self, chunk_id, viewer=None):
        return None

    def documents(self, viewer=None):
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp_path, assistant=None, **overrides):
    from assistant.audit import AuditLog
    from assistant.settings import load_settings
    from assistant.users import UserStore

    settings = load_settings(
        env={}, source_dir=tmp_path / "src", data_dir=tmp_path / "data", **overrides
    )
    users = UserStore(tmp_path / "data" / "users.json")
    users.add("admin1", "adminpass1", "admin")
    for name in ("staff1", "staff2", "flood"):
        users.add(name, f"{name}-pw", "staff")
    audit = AuditLog(tmp_path / "audit.sqlite")
    demo = ui.create_app(assistant or SlowAssistant(), settings, users, audit)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=_free_port(),
        quiet=True,
        **ui.launch_options(settings, users),
    )
    return SimpleNamespace(url=url.rstrip("/"), demo=demo, users=users, settings=settings)


@pytest.fixture
def app(tmp_path):
    served = launch(tmp_path, questions_per_minute=6, questions_in_flight=2, login_free_failures=3)
    try:
        yield served
    finally:
        served.demo.close()


def login(app, name, password, **headers) -> httpx.Response:
    return httpx.post(
        f"{app.url}/login",
        data={"username": name, "password": password},
        headers=headers,
        timeout=60,
    )


def client(app, name):
    from gradio_client import Client

    return Client(app.url, auth=(name, f"{name}-pw"), verbose=False)


def test_login_backs_off_after_failures_with_a_message(app):
    for _ in range(3):  # login_free_failures=3
        assert login(app, "staff1", "wrong-password").status_code == 400
    refused = login(app, "staff1", "staff1-pw")  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "登录失败次数过多" in refused.json()["detail"]
    assert login(app, "staff2", "staff2-pw").status_code == 200  # other names unaffected


def test_login_flood_does_not_freeze_the_server(app):
    """40 concurrent wrong logins for invented names: a page request made meanwhile waits no
    longer than a few password checks (they run one at a time off the event loop; on the loop it
    would be 12 or more), and the address is soon refused outright
    (after 4 x 3 failures), without a password check."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    digest = hasher.hash("x")
    started = time.perf_counter()
    assert hasher.verify(digest, "x")
    hash_s = time.perf_counter() - started  # one password check on this machine, now
    url = f"{app.url}/gradio_api/login_check"
    httpx.get(url, timeout=30)
    with cf.ThreadPoolExecutor(40) as pool:
        flood = [pool.submit(login, app, f"guess{i}", "wrong-password") for i in range(40)]
        time.sleep(0.3)
        slowest = 0.0
        while not all(f.done() for f in flood):
            started = time.perf_counter()
            httpx.get(url, timeout=30)
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.05)
    codes = [f.result().status_code for f in flood]
    # Checking on the event loop would stall the page for the sum of the checks (>= 12 here)
    assert slowest < max(2.0, 6 * hash_s), (slowest, hash_s)  # well under 12 checks in a row
    assert set(codes) <= {400, 429} and codes.count(429) >= 25, codes


def test_cross_site_login_is_refused(app):
    evil = login(app, "staff1", "staff1-pw", Origin="http://evil.example")
    assert evil.status_code == 403
    host = app.url.split("://", 1)[1]
    same = login(app, "staff1", "staff1-pw", Origin=f"http://{host}")
    assert same.status_code == 200


def test_sessions_have_a_lifetime_and_end_on_password_change(app):
    ok = login(app, "staff1", "staff1-pw")
    cookies = ok.headers.get_list("set-cookie")
    assert cookies and all("Max-Age=43200" in c for c in cookies)
    staff = client(app, "staff2")
    assert staff.predict("年假几天？", api_name="/ask")["answer"] == "答：年假几天？"
    app.users.set_password("staff2", "a-new-password")
    with pytest.raises(Exception):  # noqa: B017 - the session is gone: refused
        staff.predict("年假几天？", api_name="/ask")
    flood = client(app, "flood")
    app.users.remove("flood")
    with pytest.raises(Exception):  # noqa: B017
        flood.predict("年假几天？", api_name="/ask")


def test_one_user_flooding_the_queue_is_limited_politely(app):
    from gradio_client.exceptions import AppError

    flood, honest = client(app, "flood"), client(app, "staff1")
    jobs = [flood.submit(f"问题{i}", api_name="/ask") for i in range(30)]
    answered, refused = 0, []
    for job in jobs:
        try:
            job.result(timeout=120)
            answered += 1
        except (AppError, httpx.HTTPStatusError, ValueError) as exc:
            refused.append(str(exc))
    assert answered <= 6 and len(refused) >= 24  # per_minute=6, in_flight=2
    started = time.perf_counter()
    assert honest.predict("年假几天？", api_name="/ask")["answer"]
    assert time.perf_counter() - started < 10


def test_questions_in_flight_are_limited_per_user(tmp_path):
    """No per-minute limit; answers held back: of 30 questions posted to the queue by one user,
    only 2 (questions_in_flight) are accepted, the rest refused at once; others still ask."""
    held = threading.Event()
    served = launch(
        tmp_path, SlowAssistant(hold=held), questions_per_minute=0, questions_in_flight=2
    )
    try:
        http = httpx.Client(timeout=60)
        http.post(f"{served.url}/login", data={"username": "flood", "password": "flood-pw"})
        codes = [
            http.post(f"{served.url}/gradio_api/call/ask", json={"data": [f"问题{i}"]}).status_code
            for i in range(30)
        ]
        assert codes.count(200) == 2 and codes.count(400) == 28, codes
        other = httpx.Client(timeout=60)
        other.post(f"{served.url}/login", data={"username": "staff1", "password": "staff1-pw"})
        assert (
            other.post(f"{served.url}/gradio_api/call/ask", json={"data": ["年假？"]}).status_code
            == 200
        )
    finally:
        held.set()
        served.demo.close()


def test_login_page_does_not_list_admin_endpoints(app):
    for path in ("/", "/?all_endpoints=true", "/gradio_api/info?all_endpoints=true"):
        page = httpx.get(app.url + path, timeout=30)
        assert "admin_" not in page.text, path
    staff = httpx.Client(timeout=30)
    assert (
        staff.post(
            f"{app.url}/login", data={"username": "staff1", "password": "staff1-pw"}
        ).status_code
        == 200
    )
    info = staff.get(f"{app.url}/gradio_api/info?all_endpoints=true").json()
    assert not any("admin_" in name for name in info["named_endpoints"])
    assert "/ask" in info["named_endpoints"]


def test_staff_cannot_upload_files(app, tmp_path):
    sample = tmp_path / "x.md"
    sample.write_text("第一条 测试。", encoding="utf-8")
    for name, password in (("staff1", "staff1-pw"), ("admin1", "adminpass1")):
        session = httpx.Client(timeout=30)
        session.post(f"{app.url}/login", data={"username": name, "password": password})
        with sample.open("rb") as fh:
            response = session.post(f"{app.url}/gradio_api/upload", files={"files": fh})
        assert response.status_code == (403 if name == "staff1" else 200), name


def test_refusals_log_one_line_not_a_traceback(app, capfd, caplog):
    import logging

    from gradio_client.exceptions import AppError

    staff = client(app, "staff1")
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="policyqa.web"):
        for _ in range(3):
            with pytest.raises(AppError, match="无权限"):
                staff.predict(api_name="/admin_status")
    err = "".join(capfd.readouterr())
    assert "Traceback" not in err
    lines = [r.getMessage() for r in caplog.records if "无权限" in r.getMessage()]
    assert len(lines) == 3 and all("staff1" in line for line in lines)


@pytest.mark.browser
def test_chat_shows_the_limit_under_the_question_and_keeps_the_conversation(tmp_path):
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    served = launch(tmp_path, questions_per_minute=1, questions_in_flight=2)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium), args=["--no-sandbox", "--headless"]
            )
            page = browser.new_page()
            page.goto(served.url)
            page.fill("input[type=text]", "staff1")
            page.fill("input[type=password]", "staff1-pw")
            page.keyboard.press("Enter")
            page.wait_for_selector("#pq-question textarea", timeout=30_000)
            page.fill("#pq-question textarea", "第一个问题")
            page.click("#pq-send")
            page.get_by_text("答：第一个问题").wait_for(timeout=30_000)
            page.fill("#pq-question textarea", "第二个问题")
            page.click("#pq-send")
            page.get_by_text("每分钟最多 1 个").wait_for(timeout=30_000)
            assert page.get_by_text("答：第一个问题").is_visible()
            assert page.input_value("#pq-question textarea") == "第二个问题"
            browser.close()
    finally:
        served.demo.close()

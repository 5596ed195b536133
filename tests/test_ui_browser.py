"""The web app in a real Chromium (Playwright): log in, ask, see the cited article, open the
source viewer at the passage, rate an answer, check that question and document text cannot run
script, check the admin console is there for admins only. No request may leave 127.0.0.1.

Screenshots go to artifacts/ (gitignored); the README's two screenshots are refreshed in docs/
when ``POLICYQA_DOCS_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
DOCS = ROOT / "docs"
LEAVE_Q = "我工作满十年，年假有几天？"
XSS_Q = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">年假有几天？'

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from test_ui_api import T, build_app, cache_dir, client, start  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory, request):
    app = build_app(tmp_path_factory.mktemp("ui-browser"), cache_dir(request))
    app.url = start(app)
    try:
        yield app
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Session:
    """One logged-in browser page; remembers every request that did not go to the app."""

    def __init__(self, browser, url: str, user: str, password: str, locale: str = "zh-CN"):
        self.url = url
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on("request", self._request)
        self.page.goto(url)
        self.page.wait_for_selector("input[type=password]", timeout=30_000)
        self.page.fill("input[type=text]", user)
        self.page.fill("input[type=password]", password)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector("#pq-question textarea", timeout=30_000)
        self.page.wait_for_function(
            "() => (document.querySelector('#pq-who') || {}).innerText?.includes('" + user + "')",
            timeout=30_000,
        )

    def _request(self, req) -> None:
        if not (req.url.startswith(self.url) or req.url.startswith(("data:", "blob:"))):
            self.outside.append(req.url)

    def ask(self, question: str, cards: bool = True) -> None:
        page = self.page
        before = page.locator("#pq-chat .message").count()
        page.fill("#pq-question textarea", question)
        page.click("#pq-send")
        page.wait_for_function(
            f"() => document.querySelectorAll('#pq-chat .message').length >= {before + 2}",
            timeout=60_000,
        )
        if cards:
            page.wait_for_selector("#pq-sources .pq-cite, #pq-sources .pq-refusal", timeout=120_000)
        else:
            page.wait_for_timeout(300)
        page.wait_for_function(
            "() => !document.querySelector('#pq-sources')?.innerText.includes('"
            + T["searching"]
            + "')",
            timeout=120_000,
        )

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()


def _in_view(locator) -> bool:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); const v = e.closest('.pq-doc-text')"
        "?.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= "
        "window.innerHeight && (!v || (r.top >= v.top - 1 && r.top <= v.bottom)); }"
    )


def _publish(path: Path, name: str) -> None:
    if os.environ.get("POLICYQA_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / name)


def test_admin_asks_sees_citation_and_opens_the_source(served, browser):
    expected = client(served, "admin1", "adminpass1").predict(LEAVE_Q, api_name="/ask")
    assert expected["citations"], expected
    first = expected["citations"][0]
    s = Session(browser, served.url, "admin1", "adminpass1")
    try:
        page = s.page
        # the examples are offered on an empty chat
        assert page.get_by_text("出差住宿费标准是多少？").count() >= 1
        s.ask(LEAVE_Q)
        card = page.locator("#pq-sources .pq-cite").first
        head = card.locator(".pq-cite-head").inner_text()
        assert f"《{first['title']}》" in head
        for article in first["articles"]:
            assert article in head
        assert card.get_attribute("data-label") == _label(first)
        bot = page.locator("#pq-chat .message.bot").last.inner_text()
        assert "[1]" in bot
        s.shot("ui-chat.png")
        for _ in range(10):  # show the question too: scroll the conversation back to its top
            page.wait_for_timeout(300)  # (after the chat's own smooth scroll has finished)
            top = page.evaluate(
                "() => Math.max(0, ...Array.from(document.querySelectorAll('#pq-chat .bubble-wrap'),"
                " e => { e.scrollTop = 0; return e.scrollTop; }))"
            )
            page.wait_for_timeout(300)
            if top == 0 and page.evaluate(
                "() => document.querySelector('#pq-chat .bubble-wrap')?.scrollTop === 0"
            ):
                break
        chat_shot = s.shot("ui-chat-answer.png")
        # the source viewer opens at the passage
        card.locator(".pq-open").click()
        hit = page.locator("#pq-viewer #pq-hit")
        hit.wait_for(timeout=30_000)
        passage = served.assistant.chunk(
            next(c.chunk_id for c in served.assistant.ask(LEAVE_Q).citations)
        )
        assert passage is not None
        assert passage.text[:12] in hit.inner_text()
        deadline = time.time() + 10
        while not _in_view(hit) and time.time() < deadline:
            page.wait_for_timeout(200)
        assert _in_view(hit)
        title = page.locator("#pq-viewer .pq-doc-title").inner_text()
        assert first["title"] in title
        s.shot("ui-viewer.png")
        # 👎 with a comment lands in the audit log
        page.locator(
            "#pq-chat button[aria-label='踩'], #pq-chat button[aria-label='Dislike']"
        ).last.click()
        page.wait_for_selector("#pq-comment textarea", timeout=10_000)
        page.fill("#pq-comment textarea", "浏览器测试：引用不完整")
        page.get_by_role("button", name=T["fb_submit"]).click()
        deadline = time.time() + 10
        while time.time() < deadline:
            rows = served.audit.recent(5, only_negative=True, user="admin1")
            if rows and rows[0].comment == "浏览器测试：引用不完整":
                break
            time.sleep(0.2)
        assert rows and rows[0].comment == "浏览器测试：引用不完整" and rows[0].rating == -1
        _publish(chat_shot, "screenshot-chat.png")
        # new conversation clears chat and sources
        page.click("#pq-new")
        page.wait_for_function(
            "() => document.querySelectorAll('#pq-chat .message').length === 0", timeout=10_000
        )
        assert T["sources_empty"] in page.locator("#pq-sources").inner_text()
        assert s.outside == [], s.outside
    finally:
        s.close()


def _label(citation: dict) -> str:
    from assistant.records import Citation

    fields = {k: citation[k] for k in ("n", "source", "title", "heading", "quote")}
    return Citation(
        **fields, articles=tuple(citation["articles"]), pages=tuple(citation["pages"])
    ).label()


def test_question_and_document_html_is_shown_as_text(served, browser):
    s = Session(browser, served.url, "staff1", "staffpass1")
    try:
        page = s.page
        s.ask(XSS_Q)
        user_msg = page.locator("#pq-chat .message.user").last.inner_text()
        assert "<script>window.__xss=1</script>" in user_msg
        assert page.evaluate("window.__xss") is None
        # a document that contains markup, quoted in the sources panel and opened in the viewer
        s.ask("《网页转义测试规定》第一条是什么？")
        panel = page.locator("#pq-sources").inner_text()
        assert "<script>window.__xss=3</script>" in panel
        page.locator("#pq-sources .pq-cite").first.locator(".pq-open").click()
        page.locator("#pq-viewer #pq-hit").wait_for(timeout=30_000)
        assert "<img src=x" in page.locator("#pq-viewer").inner_text()
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xss") is None
        assert page.locator("#pq-sources script, #pq-viewer script, #pq-chat script").count() == 0
        assert page.locator("#pq-sources img, #pq-viewer img").count() == 0
        s.shot("ui-xss.png", full_page=True)
    finally:
        s.close()


def test_staff_has_no_admin_tab(served, browser):
    s = Session(browser, served.url, "staff1", "staffpass1")
    try:
        page = s.page
        assert T["role_staff"] in page.locator("#pq-who").inner_text()
        page.wait_for_timeout(500)
        assert page.get_by_role("tab", name=T["tab_admin"]).count() == 0
        assert not page.locator("#pq-status").is_visible()
        s.shot("ui-staff.png")
    finally:
        s.close()


def test_admin_console(served, browser):
    staff = client(served, "staff1", "staffpass1")
    for q in ("依申请公开政府信息，多久内答复？", "出差住宿费标准是多少？", "用印申请需要谁审批？"):
        staff.predict(q, api_name="/ask")
    s = Session(browser, served.url, "admin1", "adminpass1")
    try:
        page = s.page
        page.get_by_role("tab", name=T["tab_admin"]).click()
        status = page.locator("#pq-status")
        status.wait_for(timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('#pq-status')?.innerText.includes('"
            + T["status_docs"]
            + "')",
            timeout=30_000,
        )
        text = status.inner_text()
        assert T["status_chunks"] in text and T["status_embedder"] in text
        page.get_by_role("tab", name=T["admin_log"]).click()
        page.locator("#pq-log").get_by_text("出差住宿费标准是多少？").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name=T["admin_usage"]).click()
        page.locator("#pq-plot-questions .vega-embed").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        path = s.shot("ui-admin.png", full_page=True)
        _publish(path, "screenshot-admin.png")
        assert s.outside == [], s.outside
    finally:
        s.close()


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("zh-TW", "zh"), ("fr-FR", "zh")])
def test_component_texts_follow_the_browser_language(served, browser, locale, lang):
    """Labels and buttons are translated in the browser (gr.I18n): English browsers get English,
    Chinese ones Chinese, any other the server's language (POLICYQA_LANG, zh here); what the
    server renders (the sources panel) stays in the server's language."""
    from webui.i18n import strings

    want = strings(lang)
    s = Session(browser, served.url, "staff1", "staffpass1", locale=locale)
    try:
        page = s.page
        assert page.locator("#pq-send").inner_text().strip() == want["send"]
        assert page.locator("#pq-new").inner_text().strip() == want["new_chat"]
        placeholder = page.locator("#pq-question textarea").get_attribute("placeholder")
        assert placeholder == want["question_placeholder"]
        assert want["tab_chat"] in page.locator("[role=tab]").first.inner_text()
        assert "__i18n__" not in page.inner_text("body")
    finally:
        s.close()

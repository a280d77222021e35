"""Helpers for the browser tests: a live HTTP server around the app, Debian's Chromium, and
the page helpers every browser test module shares (tabs that check themselves, asking,
waiting for a reply, screenshots)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from qa.errors import Overloaded

# Debian's package (apt-get install chromium); Playwright's own browser download cannot work here.
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_missing() -> str | None:
    """Say why Chromium cannot run, or None when it can."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"{CHROMIUM} not found: apt-get install chromium (or set QA_CHROMIUM)"
    return None


class FaultInjector:
    """Make the next ``/ask`` requests slow, or fail through the app's own error handler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remaining = 0
        self._delay = 0.0
        self.asks = 0
        self.failed = 0

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._remaining = count

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def install(self, app: Flask) -> None:
        from flask import request

        @app.before_request
        def _maybe_overload() -> None:
            if request.path != "/ask":
                return
            with self._lock:
                self.asks += 1
                delay, self._delay = self._delay, 0.0
                failing = self._remaining > 0
                if failing:
                    self._remaining -= 1
                    self.failed += 1
            if delay:
                time.sleep(delay)
            if not failing:
                return
            # The real exception and handler: status 503, JSON error body, Retry-After.
            raise Overloaded("The service is busy answering other questions.", retry_after=1)


class LiveServer:
    """Serve a Flask app over real HTTP on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


# -- the browser and its tabs ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# QA_SCREENSHOTS sends the pictures elsewhere (e.g. /tmp/ui-shots to look at them).
SHOTS = Path(os.environ.get("QA_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
WAIT_MS = 30_000  # generous: other engineers share these two cores
expect.set_options(timeout=WAIT_MS)  # for every assertion, not only for actions


@contextmanager
def chromium():
    """Launch Debian's Chromium headless; fail (not skip) when it is missing."""
    import pytest

    problem = chromium_missing()
    if problem:
        pytest.fail(problem)
    with sync_playwright() as p:
        # Playwright gives every launch a fresh temporary --user-data-dir of its own.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page plus everything it did that a test may want to assert on."""

    page: object
    origin: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if _origin(u) != self.origin and not _local_scheme(u)]


class Tabs:
    """Open the chat page in fresh contexts; ``check`` asserts no tab ever broke."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list = []
        self.tabs: list[Tab] = []

    def open(self, viewport: dict | None = None, path: str = "/", **options) -> Tab:
        options.setdefault("locale", "en-US")  # dates read "Mar 5, 2024" whatever the host
        context = self.browser.new_context(viewport=viewport or DESKTOP,
                                           base_url=self.base_url, **options)
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        page = context.new_page()
        tab = Tab(page, self.base_url)
        context.on("request", lambda r: tab.requests.append(r.url))
        page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        page.on("console", lambda m: _note_console(tab, m))
        page.goto(path)
        self.tabs.append(tab)
        return tab

    def check(self) -> None:
        for context in self.contexts:
            context.close()
        for tab in self.tabs:
            assert tab.errors == [], f"uncaught errors in the page: {tab.errors}"
            assert tab.foreign_requests() == [], "requests left the server's origin"
            assert tab.csp_violations == [], f"the page tripped its CSP: {tab.csp_violations}"


def _note_console(tab: Tab, message) -> None:
    if "Content Security Policy" in message.text:
        tab.csp_violations.append(message.text)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _local_scheme(url: str) -> bool:
    # data: URLs (the empty favicon) and about:blank never touch the network.
    return url.startswith(("data:", "about:"))


# -- talking to the page ----------------------------------------------------------------------


def ask(page, question: str):
    """Type a question, press Enter, wait for the reply; return the reply's locator."""
    replies = page.locator(".message.assistant")
    before = replies.count()
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    return wait_reply(page, before)


def wait_reply(page, before: int, timeout: float | None = None):
    reply = page.locator(".message.assistant").nth(before)
    expect(reply).to_be_visible(timeout=timeout)
    expect(page.locator("#log")).to_have_attribute("aria-busy", "false", timeout=timeout)
    expect(reply.locator(".thinking")).to_have_count(0)
    return reply


def ask_request(page, question: str):
    """Send a question and return the request the page made for it."""
    with page.expect_request(lambda r: r.url.endswith("/ask") and r.method == "POST") as info:
        page.locator("#question").fill(question)
        page.locator("#question").press("Enter")
    return info.value


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Finite animations (the answer's fade-in) are shown finished, not half-way.
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled")


def eventually(page, script: str, arg=None, timeout: float = 5.0):
    """Poll a JS function until it returns something truthy (the page's CSP forbids
    ``wait_for_function``, whose predicate is eval'd in the page)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


# Records what the latest answer showed, in order: "thinking", "draft" (with the longest
# draft text seen) and "final" (with its text), from a MutationObserver, so a test sees a
# draft that lived for a moment as surely as one that lived for seconds.
WATCH_ANSWERS = """() => {
    window.qaSeen = [];
    const log = document.querySelector('#log');
    const look = () => {
        const msgs = log.querySelectorAll('.message.assistant');
        const msg = msgs[msgs.length - 1];
        if (!msg) return;
        const draft = msg.querySelector('.draft-text');
        const answer = msg.querySelector('.answer-text');
        const kind = answer ? 'final' : draft && draft.textContent.trim() ? 'draft' : 'thinking';
        const text = (answer || draft || msg).textContent;
        const last = window.qaSeen[window.qaSeen.length - 1];
        if (last && last.msg === msg.id && last.kind === kind) {
            if (text.length > last.text.length) last.text = text;
        } else {
            window.qaSeen.push({ msg: msg.id, kind, text });
        }
    };
    const all = { subtree: true, childList: true, characterData: true };
    new MutationObserver(look).observe(log, all);
}"""


def watch_answers(page) -> None:
    page.evaluate(WATCH_ANSWERS)


def seen(page) -> list[dict]:
    return page.evaluate("() => window.qaSeen")

"""Helpers for the browser tests: a live HTTP server around the app and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from flask import Flask
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

"""``/healthz`` (liveness) and ``/readyz`` (readiness: each dependency probed in its own
thread, within a time limit)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import current_app

from qa.contract import status
from qa.web.operations import Routes, service

routes = Routes("health", __name__)


@routes.get("/healthz", summary="Liveness: the process answers; touches no dependency",
            responses={200: status.Health}, plain=True)
def healthz():
    return status.Health()


@routes.get("/readyz", summary="Readiness: each dependency probed, within a bounded time",
            responses={200: status.Readiness, 503: status.Readiness})
def readyz():
    svc = service()
    readiness = current_app.extensions.setdefault(
        "readiness", Readiness(svc.settings.ready_timeout_s)
    )
    ok, checks = readiness.check({
        "store": lambda: svc.store.heartbeat(),
        "documents": lambda: svc.docs.count_articles(),
        "embedder": lambda: svc.embedder.embed_query("ready"),
    })
    # A remote model is not probed here: /ask degrades to extractive when it is down. A
    # local one still warming would make the first question wait for it: not ready yet.
    warming = svc.warming
    checks["model"] = {"ok": not warming, "name": svc.settings.answer_model,
                       **({"error": "warming up"} if warming else {})}
    state = "unavailable" if not ok else "warming" if warming else "ready"
    body = status.Readiness(status=state, checks=checks)
    return body, (200 if state == "ready" else 503)


class Readiness:
    """Probe dependencies without ever blocking longer than ``timeout`` seconds.

    A probe that hangs (a Chroma server that accepts but never answers, a model still
    loading) keeps running in the background; later checks report it as still pending
    instead of starting another, so a stuck dependency cannot pile up threads.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()

    def check(self, probes: dict[str, Callable[[], object]]) -> tuple[bool, dict[str, dict]]:
        """Run every probe at once; return whether all passed and a result per probe."""
        with self._lock:
            futures = {}
            for name, probe in probes.items():
                running = self._running.get(name)
                if running is None or running.done():
                    running = self._running[name] = self._pool.submit(_timed, probe)
                futures[name] = running
        deadline = time.monotonic() + self.timeout
        checks: dict[str, dict] = {}
        for name, future in futures.items():
            try:
                ms = future.result(timeout=max(0.0, deadline - time.monotonic()))
                checks[name] = {"ok": True, "ms": ms}
            except FutureTimeout:
                checks[name] = {"ok": False, "error": f"no answer within {self.timeout:g} s"}
            except Exception as exc:  # a readiness probe reports, it never raises
                # The class name only: messages can hold paths, hosts or keys.
                checks[name] = {"ok": False, "error": exc.__class__.__name__}
        return all(c["ok"] for c in checks.values()), checks


def _timed(probe: Callable[[], object]) -> float:
    started = time.perf_counter()
    probe()
    return round((time.perf_counter() - started) * 1000, 1)

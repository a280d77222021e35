"""Readiness probes: each dependency checked in its own thread, within a time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout


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

"""Admission control for every route that retrieves or answers (``/ask`` and its stream,
``/search``, ``/v1/chat/completions``): one concurrency gate and one per-client rate limit
per app, applied by ``qa.web.operations`` to each operation declared ``answers=True``.

Both refuse at once with ``Retry-After`` instead of queueing: a request the server
cannot start now is cheaper to retry than to hold a thread and a socket for.

Kept rather than flask-limiter: the gate (which flask-limiter does not have) and the
limiter share one decorator that holds a stream's slot until the stream ends; a token
bucket gives an exact ``Retry-After``; memory is bounded; and there is no dependency. Like
flask-limiter's in-memory storage it counts per process: behind several processes, let the
front proxy enforce the per-client rate (docs/production.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, request

from qa.errors import Overloaded, RateLimited

# Forget idle clients once this many are tracked, so a scan of many addresses cannot
# grow the table without bound.
MAX_TRACKED_CLIENTS = 10_000


class ConcurrencyGate:
    """Admit at most ``limit`` requests at once; refuse the rest immediately (503)."""

    def __init__(self, limit: int, retry_after: int = 1):
        self.limit = limit
        self.retry_after = retry_after
        self._slots = threading.BoundedSemaphore(limit) if limit > 0 else None

    def enter(self) -> Callable[[], None]:
        """Take a slot and return the function that gives it back (safe to call twice)."""
        if self._slots is None:
            return lambda: None
        if not self._slots.acquire(blocking=False):
            raise Overloaded(
                "the server is answering as many questions as it can; retry shortly",
                retry_after=self.retry_after,
            )
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._slots.release()

        return release


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests, refilled evenly (429)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket or raise ``RateLimited``."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimited(
                    f"at most {self.per_minute} request{'s' * (self.per_minute != 1)} a "
                    f"minute per client; retry in {wait} s",
                    retry_after=max(1, wait),
                )
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_TRACKED_CLIENTS:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        # A bucket that would have refilled completely carries no state worth keeping.
        full_after = self.per_minute / self.rate
        for key in [k for k, (_, then) in self._buckets.items() if now - then >= full_after]:
            del self._buckets[key]


class Limits:
    """The gate and the rate limiter of one app, built from its settings."""

    def __init__(self, max_concurrency: int, rate_limit_per_minute: int):
        self.gate = ConcurrencyGate(max_concurrency)
        self.rate = RateLimiter(rate_limit_per_minute)


def app_limits() -> Limits:
    """Return the current app's limits, built on first use from its settings."""
    limits = current_app.extensions.get("limits")
    if limits is None:
        settings = current_app.extensions["qa"].settings
        # setdefault is atomic, so racing first requests still share one gate.
        limits = current_app.extensions.setdefault(
            "limits", Limits(settings.max_concurrency, settings.rate_limit_per_minute)
        )
    return limits


def client_key() -> str:
    """Identify the client by its address (behind a proxy, configure waitress's trusted_proxy)."""
    return request.remote_addr or "unknown"


def limited(view):
    """Apply the rate limit, then the concurrency gate, to a view."""

    @wraps(view)
    def guarded(*args, **kwargs):
        limits = app_limits()
        limits.rate.take(client_key())
        release = limits.gate.enter()
        try:
            response: Response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            release()
            raise
        if response.is_streamed:
            # A stream still works after the view returns: hold the slot until it ends.
            response.call_on_close(release)
        else:
            release()
        return response

    return guarded

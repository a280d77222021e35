"""What every request meets before a view: its id, the trusted-host check, the security
headers; and what a corpus-changing request meets: the same-origin check and the API key.

The host check stops DNS rebinding (a page on another site whose name now resolves to this
machine); the origin check stops a page on another site from writing through the user's
browser. Neither needs ``QA_API_KEY``.
"""

from __future__ import annotations

import hmac
import uuid
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

from qa.errors import Forbidden, Unauthorized, UntrustedHost

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# A browser says how a request relates to the page that sent it; these are not cross-site.
_SAME_SITE_FETCH = ("same-origin", "none")


def install(app: Flask) -> None:
    """Register the per-request hooks on ``app`` (the request id first)."""
    app.before_request(_assign_request_id)
    app.before_request(_trusted_host)
    app.after_request(_secure_headers)


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex[:16]


def _trusted_host() -> None:
    trusted = current_app.extensions["qa"].settings.trusted_hosts
    if "*" not in trusted and not any(_matches(host_name(request.host), t) for t in trusted):
        raise UntrustedHost("this server does not serve the host named in the Host header "
                            "(see QA_ALLOWED_HOSTS)")


def host_name(host: str) -> str:
    """``Example.com:8000`` -> ``example.com``; ``[::1]:8000`` -> ``[::1]``."""
    host = host.strip().lower()
    name = host[: host.index("]") + 1] if host.startswith("[") and "]" in host else (
        host.partition(":")[0])
    return name.rstrip(".")


def _matches(name: str, trusted: str) -> bool:
    trusted = trusted.lower()
    if trusted.startswith("."):  # ".example.com": the domain and every subdomain
        return name == trusted[1:] or name.endswith(trusted)
    return name == trusted


def _secure_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def corpus_write() -> None:
    """Refuse a corpus change sent from another site, or without the configured key."""
    _same_origin()
    _require_key()


def _same_origin() -> None:
    origin = request.headers.get("Origin")
    if origin is not None:
        cross = urlsplit(origin).netloc.lower() != request.host.lower()
    else:
        cross = request.headers.get("Sec-Fetch-Site", "none") not in _SAME_SITE_FETCH
    if cross:
        raise Forbidden("a page on another site may not change the corpus",
                        code="cross_origin")


def _require_key() -> None:
    expected = current_app.extensions["qa"].settings.api_key
    if not expected:
        return
    given = request.headers.get("X-API-Key", "")
    # compare_digest keeps the time independent of where the keys differ.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("a valid X-API-Key header is required", code="invalid_api_key")

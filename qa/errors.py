"""One error hierarchy; the HTTP layer turns these into the contract's JSON shape."""

from __future__ import annotations


class QAError(Exception):
    """A failure with a message that is safe to show to an API client."""

    status = 500
    code = "internal_error"
    # When set, clients see this instead of ``message``, which may name paths or hosts
    # and goes to the log and the CLI only.
    public_message: str | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.public_message or self.message}}


class ConfigError(QAError):
    """Invalid settings: raised at start-up, never per request."""

    code = "config_error"


class InvalidRequest(QAError):
    status = 400
    code = "invalid_request"


class UnsupportedMediaType(QAError):
    status = 415
    code = "unsupported_media_type"


class UntrustedHost(QAError):
    """The Host header names a host this service does not serve (DNS rebinding)."""

    status = 400
    code = "untrusted_host"


class Forbidden(QAError):
    status = 403
    code = "forbidden"


class NotFound(QAError):
    status = 404
    code = "not_found"


class Unauthorized(QAError):
    status = 401
    code = "unauthorized"


class Overloaded(QAError):
    """Too many requests at once or from one client; carries ``Retry-After``."""

    status = 503
    code = "overloaded"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    """One client sent more requests than its per-minute allowance."""

    status = 429
    code = "rate_limited"


class StoreError(QAError):
    """The vector or keyword store failed or is unreachable."""

    status = 503
    code = "store_unavailable"
    public_message = "the article store is unavailable; try again shortly"


class StoreLocked(StoreError):
    """Another process holds the embedded store; ``holder`` is its pid, when known."""

    code = "store_locked"

    def __init__(self, message: str, *, holder: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.holder = holder


class ModelError(QAError):
    """A generative model failed, timed out or returned garbage."""

    status = 502
    code = "model_error"
    public_message = "the answer model failed; try again shortly"


class IngestError(QAError):
    status = 400
    code = "invalid_article"

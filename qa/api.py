"""HTTP routes: the chat page, ``POST /ask``, articles and search, health; one error handler."""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from qa.errors import InvalidRequest, NotFound, QAError, Unauthorized
from qa.health import Readiness
from qa.limits import limited
from qa.openapi import build_spec
from qa.service import QAService
from qa.stream import stream_answer
from qa.validate import clean, parse_ask, parse_json_body
from vectorstore.load import article_from_text, validate_article_id
from vectorstore.screen import injection

log = logging.getLogger(__name__)
bp = Blueprint("qa", __name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def service() -> QAService:
    return current_app.extensions["qa"]


# -- pages ----------------------------------------------------------------------------------


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    svc = service()
    svc.ensure_seeded()
    found = svc.docs.article(article_id) if validate_article_id(article_id) else None
    if found is None:
        raise NotFound(f"no article with id {article_id!r}", code="article_not_found")
    if _wants_html():
        start, end = _span(len(found.text))
        return render_template(
            "article.html",
            article_id=found.article_id,
            title=found.title,
            before=found.text[:start],
            quote=found.text[start:end],
            after=found.text[end:],
        )
    return jsonify(article_id=found.article_id, title=found.title, text=found.text)


@bp.get("/articles")
def articles():
    svc = service()
    svc.ensure_seeded()
    return jsonify(
        articles=[{"article_id": aid, "title": title} for aid, title in svc.docs.articles()]
    )


@bp.get("/search")
def search():
    raw_q = request.args.get("q", "")
    q = clean(raw_q, "q", "invalid_query").strip()
    if not q or len(raw_q) > service().settings.max_question_chars:
        raise InvalidRequest("q must be 1 to 2000 characters", code="invalid_query")
    raw_k = request.args.get("k", "10")
    # int() would also take " 5", "5_0" and non-ASCII digits; the spec says integer.
    if not re.fullmatch(r"-?[0-9]+", raw_k):
        raise InvalidRequest("k must be a whole number", code="invalid_query")
    digits = raw_k.lstrip("-").lstrip("0")
    # Clamp by length first: int() refuses strings of more than 4300 digits.
    k = 1 if raw_k.startswith("-") or not digits else 50 if len(digits) > 2 else int(digits)
    k = max(1, min(50, k))
    results = [
        {**p.to_json(), "text": p.chunk.text, "start": p.chunk.start, "end": p.chunk.end}
        for p in service().search(q, k)
    ]
    return jsonify(results=results)


# -- the API ----------------------------------------------------------------------------------


@bp.post("/ask")
@limited
def ask():
    svc = service()
    payload = parse_json_body(request.content_type, request.get_data(cache=False))
    ask_request, stream = parse_ask(
        payload, svc.settings.max_question_chars, svc.settings.max_history_turns
    )
    if stream or "text/event-stream" in request.headers.get("Accept", ""):
        return stream_answer(svc.events(ask_request, stream=True))
    return jsonify(svc.ask(ask_request))


@bp.post("/articles")
def add_article():
    """Add or replace one article: ``{"article_id", "text"}``."""
    _require_key()
    svc = service()
    payload = parse_json_body(request.content_type, request.get_data(cache=False))
    if not isinstance(payload, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalid_article")
    article_id, text = payload.get("article_id"), payload.get("text")
    if not isinstance(article_id, str) or not validate_article_id(article_id):
        raise InvalidRequest(
            "article_id must be 1-200 letters, digits, '.', '_', '-' or '/'",
            code="invalid_article",
        )
    if not isinstance(text, str):
        raise InvalidRequest("text must be a non-empty string", code="invalid_article")
    new = article_from_text(article_id, clean(text, "text", "invalid_article"), origin="api")
    # Judge the cleaned text: control and zero-width characters alone are no article.
    if not new.text.strip():
        raise InvalidRequest("text must contain visible characters", code="invalid_article")
    quarantine = injection(new.text)
    if quarantine:
        raise InvalidRequest(f"the article was not stored: {quarantine}", code="quarantined")
    existed = svc.docs.article(article_id) is not None
    report = svc.ingestor.ingest([new])
    return jsonify(article_id=article_id, report=report.to_json()), (200 if existed else 201)


@bp.delete("/articles/<path:article_id>")
def delete_article(article_id: str):
    _require_key()
    if not validate_article_id(article_id) or not service().ingestor.remove_article(article_id):
        raise NotFound(f"no article with id {article_id!r}", code="article_not_found")
    return jsonify(article_id=article_id, deleted=True)


@bp.get("/openapi.json")
def openapi():
    settings = service().settings
    static = sorted(p.name for p in Path(current_app.static_folder).iterdir() if p.is_file())
    return jsonify(build_spec(settings.max_question_chars, settings.max_body_bytes, static))


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
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
    # A remote model is not probed here: /ask degrades to extractive when it is down.
    checks["model"] = {"ok": True, "name": svc.settings.answer_model}
    return jsonify(status="ready" if ok else "unavailable", checks=checks), (200 if ok else 503)


# -- cross-cutting --------------------------------------------------------------------------


@bp.before_app_request
def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex[:16]


@bp.after_app_request
def _secure_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


@bp.app_errorhandler(QAError)
def _domain_error(exc: QAError):
    if exc.public_message:  # the client sees a generic message; keep the detail
        log.warning("request %s: %s: %s", g.get("request_id"), exc.code, exc.message)
    response = jsonify(exc.to_json())
    response.status_code = exc.status
    if getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    messages = {
        404: "no such endpoint",
        405: f"method {request.method} is not allowed here",
        413: "the request body is too large",
    }
    response = jsonify(
        {"error": {"code": code, "message": messages.get(exc.code, exc.description or code)}}
    )
    response.status_code = exc.code or 500
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("request %s failed", g.get("request_id"))
    response = jsonify(
        {"error": {"code": "internal_error",
                   "message": "something went wrong; the error was logged",
                   "request_id": g.get("request_id")}}
    )
    response.status_code = 500
    return response


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _span(length: int) -> tuple[int, int]:
    try:
        start = int(request.args.get("start", 0))
        end = int(request.args.get("end", 0))
    except ValueError:
        return 0, 0
    if 0 <= start < end <= length:
        return start, end
    return 0, 0


def _require_key() -> None:
    expected = service().settings.api_key
    if not expected:
        return
    given = request.headers.get("X-API-Key", "")
    # compare_digest keeps the time independent of where the keys differ.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("a valid X-API-Key header is required", code="invalid_api_key")

"""``/articles``: list the corpus a page at a time, read, add or replace, and delete;
``/ingest``: ingest local files for ``flask ingest`` while this process holds the store."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import queue
import threading
from collections.abc import Iterator

from flask import Response, request

from qa.contract.corpus import (
    Article,
    ArticleList,
    ArticlesQuery,
    ArticleSummary,
    Deleted,
    IngestEvent,
    IngestPaths,
    IngestResult,
    IngestSummary,
    NewArticle,
)
from qa.contract.fields import is_article_id
from qa.contract.status import ErrorDetail
from qa.errors import Forbidden, InvalidRequest, NotFound, QAError
from qa.handoff import TOKEN_HEADER
from qa.web.operations import Routes, service
from qa.web.pages import HTML, article_page, wants_html
from vectorstore import article as records
from vectorstore.formats.record import build_article
from vectorstore.ingest import Ingestor

log = logging.getLogger(__name__)
routes = Routes("corpus", __name__)
ARTICLE_ID = {"name": "article_id", "in": "path", "required": True,
              "description": "the article's id (an id that breaks the article-id rule is "
                             "simply not found)",
              "schema": {"type": "string"}}
HIGHLIGHT = [
    {"name": name, "in": "query", "required": False,
     "description": f"HTML only: the {name} offset of a quote to highlight (an integer; "
                    "anything else is ignored)",
     "schema": {"type": "string"}}
    for name in ("start", "end")
]


@routes.get("/articles", summary="One page of the stored articles, in id order",
            query=ArticlesQuery, responses={200: ArticleList})
def list_articles(query: ArticlesQuery):
    svc = service()
    svc.ensure_seeded()
    # One page from SQL, never every row: the corpus may hold a hundred thousand articles.
    total = svc.docs.count_articles()
    # An offset past the end is an empty page (and may be past what SQLite can take).
    rows = svc.docs.listing(query.limit, query.offset) if query.offset < total else []
    return ArticleList(articles=[ArticleSummary(**row) for row in rows], total=total,
                       limit=query.limit, offset=query.offset)


@routes.get("/articles/<path:article_id>", summary="One article: JSON, or an HTML page for "
            "Accept: text/html", parameters=[ARTICLE_ID, *HIGHLIGHT],
            responses={200: {"description": "the article", "content": {
                "application/json": {"schema": Article}, **HTML["content"]}},
                404: "no such article"})
def get_article(article_id: str):
    found = _stored(article_id)
    if wants_html():
        return article_page(found)
    return Article(article_id=found.article_id, title=found.title, text=found.text,
                   published=found.published, source=found.source, url=found.url)


@routes.post("/articles", summary="Add or replace one article", body=NewArticle,
             responses={200: IngestResult, 201: IngestResult}, writes=True)
def add_article(body: NewArticle):
    """201 for a new article, 200 for one that replaced another."""
    # Screened as every ingested article is; the text keeps its markup-like prose (pages
    # show it escaped), less hidden characters.
    new = build_article(body.article_id, body.text, origin="api", path="api",
                        title=body.title, published=body.published, source=body.source,
                        url=body.url, screen_markup=False)
    if isinstance(new, records.Rejected):
        code = "quarantined" if new.reason.startswith("quarantined") else "invalid_article"
        raise InvalidRequest(f"the article was not stored: {new.reason}", code=code)
    svc = service()
    existed = svc.docs.article(new.article_id) is not None
    report = svc.ingestor.ingest([new])
    result = IngestResult(article_id=new.article_id,
                          report=IngestSummary.model_validate(report.to_json()))
    return result, (200 if existed else 201)


@routes.delete("/articles/<path:article_id>", summary="Delete one article",
               parameters=[ARTICLE_ID], responses={200: Deleted, 404: "no such article"},
               writes=True)
def delete_article(article_id: str):
    if not is_article_id(article_id) or not service().ingestor.remove_article(article_id):
        raise NotFound(f"no article with id {article_id!r}", code="article_not_found")
    return Deleted(article_id=article_id)


def _stored(article_id: str) -> records.Article:
    svc = service()
    svc.ensure_seeded()
    found = svc.docs.article(article_id) if is_article_id(article_id) else None
    if found is None:
        raise NotFound(f"no article with id {article_id!r}", code="article_not_found")
    return found


@routes.post("/ingest", summary="Ingest files on this machine: what `flask ingest` hands "
             "the server that holds the embedded store", body=IngestPaths,
             parameters=[{"name": TOKEN_HEADER, "in": "header", "required": True,
                          "description": "the token in QA_DATA_DIR/server.json",
                          "schema": {"type": "string"}}],
             responses={200: {"description": "progress lines, then the report or an error, "
                                             "as newline-delimited JSON",
                              "content": {"application/x-ndjson": {"schema": IngestEvent}}}},
             writes=True)
def ingest_files(body: IngestPaths):
    _from_this_machine()
    return Response(_ingesting(service().ingestor, body.paths),
                    mimetype="application/x-ndjson")


@routes.blueprint.before_app_request
def _advertise() -> None:
    # `flask run` says where it listens only in each request; waitress's main() says it
    # before serving.
    environ = request.environ
    service().advertise(environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", ""))


def _from_this_machine() -> None:
    """Only a caller on this machine that can read the data directory names local files."""
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    token = request.headers.get(TOKEN_HEADER, "")
    if not local or not hmac.compare_digest(token.encode(), service().ingest_token.encode()):
        raise Forbidden(f"ingesting local files needs a request from this machine with the "
                        f"{TOKEN_HEADER} of the data directory's server.json",
                        code="ingest_token")


def _ingesting(ingestor: Ingestor, paths: list[str]) -> Iterator[str]:
    """Ingest in a thread and pass on its progress; a client that goes away does not stop
    it (a half-done ingest would only be finished by the next run)."""
    events: queue.Queue[IngestEvent] = queue.Queue()

    def run() -> None:
        try:
            report = ingestor.ingest_paths(
                paths, progress=lambda done, total: events.put(IngestEvent(progress=(done, total))))
            events.put(IngestEvent(report=IngestSummary.model_validate(report.to_json())))
        except QAError as exc:
            events.put(IngestEvent(error=ErrorDetail(**exc.to_json()["error"])))
        except Exception:
            log.exception("ingest of %s failed", paths)
            events.put(IngestEvent(error=ErrorDetail(
                code="internal_error", message="the ingest failed; the error was logged")))

    threading.Thread(target=run, name="ingest", daemon=True).start()
    while True:
        event = events.get()
        yield event.model_dump_json() + "\n"
        if event.progress is None:
            return

"""``POST /ask`` (JSON or server-sent events) and ``GET /search``: the answering routes."""

from __future__ import annotations

from flask import request

from qa.contract.ask import EVENTS, AskBody, AskResponse
from qa.contract.corpus import SearchHit, SearchQuery, SearchResults
from qa.web.operations import Routes, service
from qa.web.stream import stream_answer

routes = Routes("ask", __name__)


@routes.post("/ask", summary="Answer a question from the articles, with citations",
             body=AskBody, responses={200: AskResponse}, events=EVENTS, answers=True)
def ask(body: AskBody):
    """The answer as JSON, or as server-sent events for ``stream`` or ``Accept``."""
    question = body.to_request()
    if body.stream or "text/event-stream" in request.headers.get("Accept", ""):
        return stream_answer(service().events(question, stream=True))
    return AskResponse.model_validate(service().ask(question))


@routes.get("/search", summary="Passages that match a query (the sources panel)",
            query=SearchQuery, responses={200: SearchResults}, answers=True)
def search(query: SearchQuery):
    found = service().search(query.q, query.k)
    return SearchResults(results=[
        SearchHit(**p.to_json(), text=p.chunk.text, start=p.chunk.start, end=p.chunk.end)
        for p in found
    ])

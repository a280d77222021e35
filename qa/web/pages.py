"""The pages a browser gets: the chat box, and an article with a cited quote highlighted."""

from __future__ import annotations

from flask import render_template, request

from qa.web.operations import Routes
from vectorstore.article import Article

routes = Routes("pages", __name__)
HTML = {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


@routes.get("/", summary="The chat page", responses={200: HTML})
def index():
    return render_template("index.html")


def wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def article_page(article: Article) -> str:
    """The article as a page, with ``text[start:end]`` of ``?start=&end=`` highlighted."""
    start, end = _span(len(article.text))
    return render_template(
        "article.html", article_id=article.article_id, title=article.title,
        before=article.text[:start], quote=article.text[start:end], after=article.text[end:],
    )


def _span(length: int) -> tuple[int, int]:
    """The highlighted span; anything but two offsets inside the text highlights nothing."""
    try:
        start = int(request.args.get("start", 0))
        end = int(request.args.get("end", 0))
    except ValueError:
        return 0, 0
    return (start, end) if 0 <= start < end <= length else (0, 0)

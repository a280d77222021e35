"""The corpus: ``/articles`` (list, read, add, delete) and ``/search``."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from qa.contract.ask import Passage, SourceName
from qa.contract.base import Reply, Request
from qa.contract.fields import (
    VISIBLE,
    ArticleId,
    Limit,
    Published,
    QueryInt,
    QuestionText,
    unicode_text,
    visible,
)
from qa.contract.status import ErrorDetail

MAX_LIST = 1000
MAX_TITLE_CHARS = 300
MAX_URL_CHARS = 2000
MAX_INGEST_PATHS = 1000

ArticleText = Annotated[
    str, Field(json_schema_extra={"pattern": VISIBLE}), AfterValidator(unicode_text),
    AfterValidator(visible),
]


class ArticlesQuery(Request):
    """``GET /articles``: one page of the corpus, in article-id order."""

    error_code: ClassVar[str] = "invalid_query"

    limit: QueryInt = Field(100, ge=1, le=MAX_LIST, description="articles on this page")
    offset: QueryInt = Field(0, ge=0, description="articles skipped before this page")


class ArticleSummary(Reply):
    article_id: str
    title: str
    published: str | None = None
    source: str | None = None
    url: str | None = None


class ArticleList(Reply):
    articles: list[ArticleSummary]
    total: int = Field(ge=0, description="articles in the corpus")
    limit: int
    offset: int


class Article(ArticleSummary):
    text: str


class NewArticle(Request):
    """``POST /articles``: add or replace one article."""

    error_code: ClassVar[str] = "invalid_article"
    field_messages: ClassVar[dict[str, str]] = {
        "article_id": "article_id must be 1-200 letters, digits, '.', '_', '-' or '/', "
                      "without '..'",
        "url": "url must be an http:// or https:// address",
    }

    article_id: ArticleId
    text: ArticleText = Field(description=(
        "plain text with a visible character, stored as sent less zero-width and control "
        "characters (markup is shown escaped, never run); text that addresses a language "
        "model is refused with code quarantined"))
    title: Annotated[ArticleText, Field(max_length=MAX_TITLE_CHARS)] | None = Field(
        None, description="default: the first non-empty line of the text")
    published: Published | None = None
    source: SourceName | None = Field(None, description="the outlet")
    url: str | None = Field(None, max_length=MAX_URL_CHARS, pattern=r"^https?://\S+$",
                            description="the original's address")


class IngestPaths(Request):
    """``POST /ingest``: files and folders on the server's machine to ingest."""

    error_code: ClassVar[str] = "invalid_request"
    field_messages: ClassVar[dict[str, str]] = {
        "paths": f"paths must be a list of 1-{MAX_INGEST_PATHS} absolute paths",
    }

    paths: list[Annotated[str, Field(min_length=2, max_length=4096, pattern=r"^/")]] = Field(
        min_length=1, max_length=MAX_INGEST_PATHS,
        description="absolute paths of files or folders, read as `flask ingest` reads them")


class Rejection(Reply):
    path: str
    reason: str
    where: str = Field("", description="the record inside the file: 'row 5', 'entry 3'")


class Cleaning(Reply):
    article_id: str
    note: str


class IngestSummary(Reply):
    articles: int
    added: int = Field(description="passages embedded and stored")
    unchanged: int
    removed: int
    articles_removed: int = 0
    superseded: int = Field(0, description="articles a newer write replaced meanwhile")
    rejected: list[Rejection] = []
    cleaned: list[Cleaning] = []
    seconds: float = 0.0


class IngestEvent(Reply):
    """One line of ``POST /ingest``'s newline-delimited JSON: progress, then the report
    (or an error)."""

    omit_none: ClassVar[frozenset[str]] = frozenset({"progress", "report", "error"})

    progress: tuple[int, int] | None = Field(None, description="passages embedded, of all")
    report: IngestSummary | None = None
    error: ErrorDetail | None = None


class IngestResult(Reply):
    article_id: str
    report: IngestSummary


class Deleted(Reply):
    article_id: str
    deleted: Literal[True] = True


class SearchQuery(Request):
    """``GET /search``: passages for a query, without answering."""

    error_code: ClassVar[str] = "invalid_query"
    field_messages: ClassVar[dict[str, str]] = {
        "q": "q must be 1 to {max_question_chars} characters",
        "k": "k must be a whole number from 1 to {max_search_k}",
    }

    q: QuestionText = Field(description="at most {max_question_chars} characters with a "
                                        "visible one")
    k: Annotated[QueryInt, Limit("maximum", "max_search_k")] = Field(
        10, ge=1, description="how many passages, at most {max_search_k}")


class SearchHit(Passage):
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class SearchResults(Reply):
    results: list[SearchHit]
